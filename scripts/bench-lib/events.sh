#!/usr/bin/env bash
# Event search under load: N synthetic events (default 100,000, with recurrences) bulk-loaded
# into SQLite as the server materialises them (scripts/bench-lib/synth_events.py), then
# `GET /v1/events?near=…&radius_km=…&from=…&to=…` (20,000 different searches, some with
# filters) offered at BENCH_TARGET_RPS (default 1,000) with oha for BENCH_DURATION seconds,
# printing p50/p99 against the target of issue 21 (p99 <= 30 ms at 1,000 req/s).
#
# BENCH_PROFILE=release (default) or debug; SPORTELLO_BIN=path skips the build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

events="${BENCH_EVENTS:-100000}"
clients="${BENCH_CLIENTS:-32}"
duration="${BENCH_DURATION:-30}"
profile="${BENCH_PROFILE:-release}"
target_rps="${BENCH_TARGET_RPS:-1000}"

step() { printf '\n==> %s\n' "$*" >&2; }

source scripts/bench-lib/oha.sh
# shellcheck source=bin.sh
source scripts/bench-lib/bin.sh
oha_bin >/dev/null

work="$(mktemp -d /tmp/sportello-bench-events.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT

bin="$(sportello_bin "$profile")"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

step "database: $events events with their occurrences (SQLite)"
mkdir -p "$work/srv"
"$bin" --data-dir "$work/srv" migrate >&2
start_ns=$(date +%s%N)
loaded="$(python3 scripts/bench-lib/synth_events.py "$work/srv/sportello.db" "$events" "$work/urls.txt" "$base")"
load_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
db_size="$(du -sh "$work/srv/sportello.db" | cut -f1)"

step "server (loopback)"
# Rate limits off: the load comes from one address, which a public server would answer with 429.
SPORTELLO__RATE_LIMITS__ENABLED=false SPORTELLO_LOG=warn SPORTELLO__NOTIFY__WORKER=false "$bin" --data-dir "$work/srv" serve --listen "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
sample="$(head -n 1 "$work/urls.txt")"
curl -fs "$sample" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert "items" in d, d' \
    || { echo "sample search failed: $sample" >&2; cat "$work/server.log" >&2; exit 1; }
hits="$(head -n 200 "$work/urls.txt" | while read -r url; do curl -fs "$url" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'; done | awk '{s += $1} END {printf "%.1f", s / NR}')"

step "warm-up (5 s at $target_rps req/s)"
oha_rate "$target_rps" 5 "$clients" --urls-from-file "$work/urls.txt" >/dev/null
step "latency at $target_rps req/s offered ($clients connections, ${duration}s, oha)"
oha_rate "$target_rps" "$duration" "$clients" --urls-from-file "$work/urls.txt" >"$work/rate.result"
rss_kb="$(awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a ":" f}' "/proc/$server_pid/status")"

python3 - "$loaded" "$load_ms" "$db_size" "$rss_kb" "$work/rate.result" "$target_rps" "$clients" "$profile" "$hits" <<'PY'
import json, re, sys
loaded, load_ms, db_size, rss, rate_file, target_rps, clients, profile, hits = sys.argv[1:]
loaded = json.loads(loaded)
q = dict(re.findall(r"(\w+)=(\S+)", open(rate_file).read()))
print()
print("=== scripts/bench events ===")
print(f"database: {loaded['events']:,} events, {loaded['occurrences']:,} occurrences (SQLite, {db_size}), bulk-loaded in {int(load_ms) / 1000:.1f} s")
print(f"search (near + radius + 1-3 day window, 20,000 different queries, {hits} hits per page on average), {profile} build")
print(f"at {target_rps} req/s offered ({clients} connections, oha): served {q['rps']} req/s, p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms, errors {q['errors']}")
anon, mapped = rss.split(":")
print(f"server memory (RssAnon) {int(anon) // 1024} MiB, mapped database pages (RssFile) {int(mapped) // 1024} MiB")
met = float(q["p99_ms"]) <= 30 and int(q["errors"]) == 0 and float(q["rps"]) >= 0.95 * int(target_rps) and int(target_rps) >= 1000
print(f"target (p99 <= 30 ms at 1,000 req/s offered): {'met' if met else 'NOT met'}")
PY
