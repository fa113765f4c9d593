#!/usr/bin/env bash
# Benchmark of the pagoPA creditor interface: paVerifyPaymentNotice over HTTP, the Node's most
# frequent call. Tests never assert on time; this prints it.
#
# Usage: scripts/bench pagopa (runs this file)
#
# Builds a release `sportello`, migrates an embedded SQLite database, bulk-loads BENCH_POSITIONS
# published debt positions (scripts/bench-lib/synth_positions.py: the same rows the server writes),
# starts `sportello serve` on loopback and drives paVerifyPaymentNotice with wrk (BENCH_CLIENTS
# connections, a Lua script posting SOAP bodies for random notices among the loaded ones: the
# throughput), then offers BENCH_TARGET_RPS requests/s with oha (open loop, 64 connections: the
# latency at the target load, see bench-lib/oha.sh). Prints throughput, p50 and p99 of both, and
# checks a sample answer is OK.
#
# Knobs (environment): BENCH_POSITIONS (default 1000000), BENCH_CLIENTS (64), BENCH_DURATION
# (seconds, 20), BENCH_TARGET_RPS (2000, the issue's target), BENCH_PROFILE (release; `debug` only to try the script quickly), SPORTELLO_BIN (a
# `sportello` binary to use instead of building one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

positions="${BENCH_POSITIONS:-1000000}"
clients="${BENCH_CLIENTS:-64}"
duration="${BENCH_DURATION:-20}"
profile="${BENCH_PROFILE:-release}"
target_rps="${BENCH_TARGET_RPS:-2000}"

step() { printf '\n==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# shellcheck source=bench-lib/oha.sh
source scripts/bench-lib/oha.sh
oha_bin >/dev/null

work="$(mktemp -d /tmp/sportello-bench-pagopa.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT

# shellcheck source=bench-lib/bin.sh
source scripts/bench-lib/bin.sh
bin="$(sportello_bin "$profile")"

step "database: $positions published debt positions (SQLite)"
mkdir -p "$work/srv"
"$bin" --data-dir "$work/srv" migrate >&2
start_ns=$(date +%s%N)
python3 scripts/bench-lib/synth_positions.py "$work/srv/sportello.db" "$positions" "$work/notices.txt"
load_s=$(( ($(date +%s%N) - start_ns) / 1000000 ))
db_size="$(du -sh "$work/srv/sportello.db" | cut -f1)"

step "server (loopback)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
SPORTELLO_LOG=warn SPORTELLO__NOTIFY__WORKER=false "$bin" --data-dir "$work/srv" serve --listen "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

envelope() {
    printf '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body><pafn:paVerifyPaymentNoticeReq><idPA>00856930102</idPA><idBrokerPA>00856930102</idBrokerPA><idStation>00856930102_01</idStation><qrCode><fiscalCode>00856930102</fiscalCode><noticeNumber>%s</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>' "$1"
}
sample="$(head -n 1 "$work/notices.txt")"
answer="$(curl -fs -X POST "$base/pagopa/paForNode" -H 'content-type: text/xml' -H 'soapaction: paVerifyPaymentNotice' \
    --data-binary "$(envelope "$sample")")"
grep -q '<outcome>OK</outcome>' <<<"$answer" || { echo "sample verify failed: $answer" >&2; exit 1; }

cat >"$work/verify.lua" <<'LUA'
local notices = {}
for line in io.lines(os.getenv("NOTICES_FILE")) do notices[#notices + 1] = line end
local prefix = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body><pafn:paVerifyPaymentNoticeReq><idPA>00856930102</idPA><idBrokerPA>00856930102</idBrokerPA><idStation>00856930102_01</idStation><qrCode><fiscalCode>00856930102</fiscalCode><noticeNumber>'
local suffix = '</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>'
local headers = { ["Content-Type"] = "text/xml; charset=utf-8", ["SOAPAction"] = "paVerifyPaymentNotice" }
init = function(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000) end
request = function()
  return wrk.format("POST", "/pagopa/paForNode", headers, prefix .. notices[math.random(#notices)] .. suffix)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA

step "load: paVerifyPaymentNotice, $clients connections, ${duration}s"
NOTICES_FILE="$work/notices.txt" wrk -t2 -c"$clients" -d"${duration}s" --timeout 10s -s "$work/verify.lua" "$base" \
    | tee "$work/wrk.txt" >&2
step "latency at $target_rps req/s offered ($clients connections, ${duration}s, oha)"
shuf -n 50000 --random-source=<(yes) "$work/notices.txt" | while read -r notice; do envelope "$notice"; echo; done >"$work/bodies.txt"
oha_rate "$target_rps" "$duration" "$clients" -m POST -T 'text/xml; charset=utf-8' -H 'SOAPAction: paVerifyPaymentNotice' \
    -Z "$work/bodies.txt" "$base/pagopa/paForNode" >"$work/rate.result"
rss_kb="$(awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a ":" f}' "/proc/$server_pid/status")"
ok="$(curl -s "$base/metrics" | awk '/sportello_pagopa_requests_total/ && /outcome="OK"/ {s += $NF} END {print s + 0}')"
ko="$(curl -s "$base/metrics" | awk '/sportello_pagopa_requests_total/ && !/outcome="OK"/ && !/^#/ {s += $NF} END {print s + 0}')"

python3 - "$work/wrk.txt" "$positions" "$clients" "$load_s" "$db_size" "$rss_kb" "$ok" "$ko" "$work/rate.result" "$target_rps" <<'EOF'
import re, sys
text, positions, clients, load_ms, db_size, rss, ok, ko, rate_file, target_rps = open(sys.argv[1]).read(), *sys.argv[2:]
q = dict(re.findall(r"(\w+)=(\S+)", open(rate_file).read()))
r = dict(re.findall(r"(\w+)=(\S+)", text.split("RESULT", 1)[1]))
rps = int(r["requests"]) / float(r["seconds"])
print()
print("=== scripts/bench pagopa ===")
print(f"database: {int(positions):,} published debt positions (SQLite, {db_size}), bulk-loaded in {int(load_ms) / 1000:.1f} s")
print(f"paVerifyPaymentNotice over HTTP, {clients} connections: {rps:,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
      f"transport errors {r['errors']}")
print(f"paVerifyPaymentNotice at {target_rps} req/s offered ({clients} connections, oha): served {q['rps']} req/s, "
      f"p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms, errors {q['errors']}")
anon, mapped = rss.split(":")
print(f"answers: {ok} OK, {ko} KO (server metrics); server memory (RssAnon) {int(anon) // 1024} MiB, mapped database pages (RssFile) {int(mapped) // 1024} MiB")
met = rps >= 2000 and float(q["p99_ms"]) <= 10 and int(q["errors"]) == 0 and int(target_rps) >= 2000
print(f"target (>= 2,000 req/s; p99 <= 10 ms at 2,000 req/s): {'met' if met else 'NOT met'}")
EOF
