#!/usr/bin/env bash
# Slowloris against a running server: half-open connections (a request head started, never
# finished) while /healthz is probed, first from one client address, then from many (each
# 127.x.y.z address is its own client on loopback), then from more than the server's cap with a
# header timeout long enough for the cap to fill (the longest-silent connection makes room). Prints what the server held, what it closed
# at once (its caps), how long the held ones lived (the header timeout) and how /healthz answered
# meanwhile (scripts/bench-lib/half_open.py).
#
# Usage: scripts/bench connections (runs this file)
# Knobs (environment): BENCH_PROFILE (release; `debug` to try the script quickly), SPORTELLO_BIN
# (a `sportello` binary to use instead of building one), BENCH_CLIENTS (addresses of the
# distributed run, 38: 9,500 connections, below the default cap of 10,000).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

profile="${BENCH_PROFILE:-release}"
clients="${BENCH_CLIENTS:-38}"
step() { printf '\n==> %s\n' "$*" >&2; }

work="$(mktemp -d /tmp/sportello-bench-connections.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT

# shellcheck source=bench-lib/bin.sh
source scripts/bench-lib/bin.sh
bin="$(sportello_bin "$profile")"

start_server() {
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    base="http://127.0.0.1:$port"
    env "$@" SPORTELLO_LOG=warn SPORTELLO__NOTIFY__WORKER=false "$bin" --data-dir "$work/srv" serve \
        --listen "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 150); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

# The server and this script each need a descriptor per connection.
ulimit -n "$(ulimit -Hn)"
echo "open-files limit: $(ulimit -n)"

step "server with the defaults: 10,000 connections, 256 per client, 10 s header timeout"
start_server
step "one client, 5,000 half-open connections"
python3 scripts/bench-lib/half_open.py "$base" --clients 1 --per-client 5000 --watch 20
step "$clients clients, 250 half-open connections each"
python3 scripts/bench-lib/half_open.py "$base" --clients "$clients" --per-client 250 --watch 25
stop_server

step "the same with a 60 s header timeout, and more connections than the cap (60 clients x 250)"
start_server SPORTELLO__HTTP__HEADER_READ_TIMEOUT_SECS=60
python3 scripts/bench-lib/half_open.py "$base" --clients 60 --per-client 250 --watch 75
stop_server

grep -i "accept failed\|too many open files" "$work/server.log" && echo "(accept errors above)" || echo "no accept errors in the server log"
