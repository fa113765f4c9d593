# Fixed-rate load with oha (sourced by the benchmarks).
#
# wrk keeps every connection busy (closed loop): with 64 connections the latency it reports is
# mostly queueing, 64 / throughput on average, whatever the server's speed. A latency target is
# about a given load, so the benchmarks also offer the target rate with oha (open loop,
# `--latency-correction`: a late request counts from when it should have been sent, so a
# stalled server cannot hide its stalls) and report p50/p99 at that rate.

oha_bin() {
    if command -v oha >/dev/null; then
        command -v oha
        return
    fi
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    if [[ ! -x "$root/build/tools/bin/oha" ]]; then
        printf '\n==> installing oha (load generator) into build/tools\n' >&2
        cargo install --quiet --locked oha --version 1.16.0 --root "$root/build/tools" >&2
    fi
    echo "$root/build/tools/bin/oha"
}

# oha_rate RATE SECONDS CLIENTS [oha arguments…]: prints
# `RESULT requests=N rps=R errors=E p50_ms=A p99_ms=B` for that offered rate.
oha_rate() {
    local rate="$1" seconds="$2" clients="$3"
    shift 3
    "$(oha_bin)" --no-tui --output-format json --latency-correction -q "$rate" -z "${seconds}s" -c "$clients" "$@" |
        _oha_result
}

# oha_max SECONDS CLIENTS [oha arguments…]: the same line for a closed loop (every client sends
# its next request as soon as the last is answered): the throughput the server reaches.
oha_max() {
    local seconds="$1" clients="$2"
    shift 2
    "$(oha_bin)" --no-tui --output-format json -z "${seconds}s" -c "$clients" "$@" | _oha_result
}

_oha_result() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution") or {}
ok = sum(n for code, n in codes.items() if code.startswith("2"))
total = sum(codes.values()) + sum((d.get("errorDistribution") or {}).values())
# oha ends with requests cut by the deadline; those are not errors of the server.
errors = sum(n for code, n in codes.items() if not code.startswith("2")) + sum(
    n for e, n in (d.get("errorDistribution") or {}).items() if "deadline" not in e)
rps, p50, p99 = s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000
print(f"RESULT requests={ok} rps={rps:.0f} errors={errors} p50_ms={p50:.2f} p99_ms={p99:.2f}")'
}
