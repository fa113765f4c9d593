#!/usr/bin/env python3
"""Slowloris against a running Sportello: opens half-open connections (a request head started and
never finished) from many loopback addresses while probing /healthz from 127.0.0.1, and prints
how many the server held, how many it closed at once, how /healthz answered meanwhile, and when
the held ones were closed.

Usage: half_open.py BASE_URL --clients 40 --per-client 250 [--watch 20]
Every 127.x.y.z address reaches a server on 127.0.0.1, each a different client for its limits.
"""
import argparse
import asyncio
import resource
import socket
import statistics
import threading
import time
import urllib.parse

HEAD = b"GET /healthz HTTP/1.1\r\nHost: sportello\r\nX-Waiting: "


async def half_open(host, port, source):
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write(HEAD)
    await writer.drain()
    # Watched from the start, so a connection a cap closes is seen closed at once.
    return writer, time.monotonic(), asyncio.create_task(closed_at(reader))


async def closed_at(reader):
    """When the server closed the connection."""
    try:
        while await reader.read(1024):
            pass
    except (ConnectionError, OSError):
        pass
    return time.monotonic()


def healthz(host, port):
    """One /healthz over a fresh connection, blocking (run in its own thread, so the attack's
    event loop does not delay it)."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: sportello\r\nConnection: close\r\n\r\n")
            ok = conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return ok, (time.monotonic() - started) * 1000


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--per-client", type=int, default=250)
    parser.add_argument("--watch", type=float, default=20, help="seconds to keep watching")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    url = urllib.parse.urlparse(args.base)
    host, port = url.hostname, url.port

    probes = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            probes.append(healthz(host, port))
            time.sleep(0.2)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    started = time.monotonic()
    connections, failed_connects = [], 0
    for client in range(args.clients):
        source = f"127.0.{2 + client // 250}.{1 + client % 250}"
        opened = await asyncio.gather(
            *(half_open(host, port, source) for _ in range(args.per_client)),
            return_exceptions=True,
        )
        for result in opened:
            if isinstance(result, Exception):
                failed_connects += 1
            else:
                connections.append(result)
    opened_in = time.monotonic() - started
    watchers = [watcher for _, _, watcher in connections]
    done, pending = await asyncio.wait(watchers, timeout=args.watch)
    stop.set()
    prober.join()
    for writer, _, _ in connections:
        writer.close()
    # A connection closed within half a second of opening was refused by a cap; the others were
    # held until the server closed them (the header timeout).
    spans = [(opened, w.result() if w in done else None) for _, opened, w in connections]
    refused = sum(1 for opened, closed in spans if closed is not None and closed - opened < 0.5)
    lifetimes = sorted(closed - opened for opened, closed in spans if closed is not None and closed - opened >= 0.5)
    held = len(lifetimes) + len(pending)
    # The most held at once: sweep the open/close instants of the held ones.
    events = sorted([(opened, 1) for opened, closed in spans if closed is None or closed - opened >= 0.5]
                    + [(closed, -1) for opened, closed in spans if closed is not None and closed - opened >= 0.5])
    at_once = most = 0
    for _, change in events:
        at_once += change
        most = max(most, at_once)
    closed_early = refused

    attempted = args.clients * args.per_client
    ok = [ms for good, ms in probes if good]
    print(f"half-open connections attempted: {attempted} from {args.clients} addresses "
          f"(opened in {opened_in:.1f} s; connect errors {failed_connects})")
    print(f"closed by the server at once (caps): {closed_early}")
    print(f"held by the server: {held} (at most {most} at once)")
    if lifetimes:
        print(f"held ones closed by the server after: min {lifetimes[0]:.1f} s, "
              f"median {statistics.median(lifetimes):.1f} s, max {lifetimes[-1]:.1f} s "
              f"({len(lifetimes)} of {held}); still open after {args.watch:.0f} s: {len(pending)}")
    else:
        print(f"still open after {args.watch:.0f} s: {len(pending)}")
    if ok:
        ok.sort()
        p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
        print(f"/healthz meanwhile: {len(ok)} of {len(probes)} answered 200; "
              f"p50 {statistics.median(ok):.1f} ms, p99 {p99:.1f} ms, max {ok[-1]:.1f} ms")
    else:
        print(f"/healthz meanwhile: 0 of {len(probes)} answered")


if __name__ == "__main__":
    asyncio.run(main())
