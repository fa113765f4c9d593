#!/usr/bin/env bash
# Benchmarks that print their figures. Tests never assert on time; these measure it.
#
# Usage: scripts/bench catalog (runs this file)
#
# catalog: generates a deterministic synthetic metropolitan catalogue (UNIMARC ISO 2709 with SBN
# 950 holdings), starts a release `sportello serve` on loopback (embedded SQLite), imports the
# catalogue with the CLI, waits for the search index, and measures with wrk (64 connections,
# closed loop: throughput) search with availability and the availability endpoint, and with oha
# the latency of search at the target rate (BENCH_TARGET_RPS offered by 64 connections, open
# loop, see bench-lib/oha.sh; after 3 s of unreported warm-up at that rate); then the same query mix on
# PostgreSQL full text (`italian`, GIN, ts_rank) with pgbench; then MARC parsing against pymarc.
#
# Knobs (environment): BENCH_RECORDS (default 1000000), BENCH_COPIES_PER_RECORD (3),
# BENCH_LIBRARIES (120), BENCH_CLIENTS (64), BENCH_DURATION (seconds per load run, 20),
# BENCH_PYMARC_RECORDS (records both parsers read, 50000), BENCH_TARGET_RPS (offered rate of the
# latency runs, 1000: the issue's target), BENCH_PROFILE (release; `debug` only to try the
# script quickly).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

records="${BENCH_RECORDS:-1000000}"
copies="${BENCH_COPIES_PER_RECORD:-3}"
libraries="${BENCH_LIBRARIES:-120}"
clients="${BENCH_CLIENTS:-64}"
duration="${BENCH_DURATION:-20}"
pymarc_records="${BENCH_PYMARC_RECORDS:-50000}"
profile="${BENCH_PROFILE:-release}"
target_rps="${BENCH_TARGET_RPS:-1000}"

step() { printf '\n==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# shellcheck source=lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=bench-lib/oha.sh
source scripts/bench-lib/oha.sh
# shellcheck source=bin.sh
source scripts/bench-lib/bin.sh
oha_bin >/dev/null

work="$(mktemp -d /tmp/sportello-bench.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    pg_stop_throwaway
    rm -rf -- "$work"
}
trap cleanup EXIT

step "build ($profile)"
if [[ "$profile" == release ]]; then
    cargo build --quiet --release --locked -p sportello-server
    cargo build --quiet --release --locked -p sportello-core --example marc_dump
else
    cargo build --quiet --locked -p sportello-server
    cargo build --quiet --locked -p sportello-core --example marc_dump
fi
bin="$root/target/$profile/sportello"
# shellcheck source=../lib/venv.sh
source scripts/lib/venv.sh
venv="$(oracle_venv)"

step "synthetic catalogue: $records records, $copies copies each, $libraries libraries"
python3 scripts/bench-lib/synth_catalog.py "$work/synth" "$records" "$copies" "$libraries" \
    server/data/comuni/genova_metro_comuni.json
ls -l "$work/synth/catalogue.mrc" >&2

step "server (SQLite in the data dir, loopback)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# One client at full speed is the point of a load test: no per-client rate limits.
SPORTELLO__RATE_LIMITS__ENABLED=false SPORTELLO_LOG=warn "$bin" --data-dir "$work/srv" serve --listen "127.0.0.1:$port" --dev-auth \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token="$(dev_admin_token "$base")"
library_maps "$work/synth/libraries.json" "$base" "$token"

step "import (CLI, end to end into the database)"
start_ns=$(date +%s%N)
"$bin" --data-dir "$work/srv" catalog import --library bench-000 --format unimarc "${maps[@]}" \
    "$work/synth/catalogue.mrc" | tee "$work/import.txt" >&2
import_ns=$(( $(date +%s%N) - start_ns ))
for _ in $(seq 1 3000); do
    total="$(curl -fs "$base/v1/catalog/search?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
    [[ "$total" -ge "$records" ]] && break
    sleep 0.5
done
indexed_ns=$(( $(date +%s%N) - start_ns ))
index_size="$(du -sh "$work/srv/catalog-index" | cut -f1)"
db_size="$(du -sh "$work/srv/sportello.db" | cut -f1)"
rss_kb="$(awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a ":" f}' "/proc/$server_pid/status")"

step "load: search with availability and the availability endpoint ($clients connections, ${duration}s each)"
python3 - "$work" "$base" <<'EOF'
import json, sys, urllib.request
work, base = sys.argv[1], sys.argv[2]
queries = [l.strip() for l in open(f"{work}/synth/queries.txt") if l.strip()]
ids = []
for q in queries[:100]:
    hits = json.load(urllib.request.urlopen(f"{base}/v1/catalog/search?{q}"))["items"]
    ids += [h["record"]["id"] for h in hits[:2]]
near = "44.4100,8.9300"
with open(f"{work}/search.paths", "w") as f:
    f.write("\n".join(f"/v1/catalog/search?{q}" for q in queries) + "\n")
unique = [l.strip() for l in open(f"{work}/synth/queries_unique.txt") if l.strip()]
with open(f"{work}/unique.paths", "w") as f:
    f.write("\n".join(f"/v1/catalog/search?{q}" for q in unique) + "\n")
with open(f"{work}/availability.paths", "w") as f:
    f.write("\n".join(f"/v1/catalog/records/{i}/availability?near={near}" for i in ids) + "\n")
EOF
cat >"$work/mix.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF
run_wrk() {
    PATHS_FILE="$1" wrk -t2 -c"$clients" -d"${duration}s" --timeout 10s -s "$work/mix.lua" "$base" | grep RESULT
}
run_wrk "$work/search.paths" >"$work/search.result"
run_wrk "$work/unique.paths" >"$work/unique.result"
run_wrk "$work/availability.paths" >"$work/availability.result"
step "latency at $target_rps req/s offered ($clients connections, ${duration}s each, oha)"
for mix in search unique; do
    sed "s|^|$base|" "$work/$mix.paths" >"$work/$mix.urls"
    # Warm-up at the same rate, not reported: the first seconds after a switch of query mix
    # (cold answer cache, page cache, allocator) are not the steady state the target is about.
    oha_rate "$target_rps" 3 "$clients" --urls-from-file "$work/$mix.urls" >/dev/null
    oha_rate "$target_rps" "$duration" "$clients" --urls-from-file "$work/$mix.urls" >"$work/${mix}_rate.result"
done
rss_after_kb="$(awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a ":" f}' "/proc/$server_pid/status")"

step "PostgreSQL full text on the same records (italian, GIN, ts_rank; pgbench, $clients clients)"
pg_start_throwaway >/dev/null
psql_run() { "$PG_BIN/psql" -qX -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U sportello -d sportello_test "$@"; }
psql_run -c "CREATE TABLE bench_records (id TEXT PRIMARY KEY, title TEXT, author TEXT, subject TEXT, publisher TEXT, isbn TEXT)"
psql_run -c "\\copy bench_records FROM '$work/synth/records.tsv'"
psql_run -c "ALTER TABLE bench_records ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('italian', coalesce(title,'')), 'A') || setweight(to_tsvector('italian', coalesce(author,'')), 'B') ||
    to_tsvector('italian', coalesce(subject,'') || ' ' || coalesce(publisher,''))) STORED"
psql_run -c "CREATE INDEX bench_records_tsv ON bench_records USING GIN (tsv)" -c "CREATE INDEX bench_records_isbn ON bench_records (isbn)" -c "ANALYZE bench_records"
python3 - "$work" <<'EOF'
import sys, urllib.parse
work = sys.argv[1]
queries = [l.strip() for l in open(f"{work}/synth/queries.txt") if l.strip()]
with open(f"{work}/queries.sql", "w") as f:
    f.write("CREATE TABLE bench_queries (n INT PRIMARY KEY, q TEXT);\n")
    for n, line in enumerate(queries, 1):
        q = urllib.parse.parse_qs(line)["q"][0].replace("'", "''")
        f.write(f"INSERT INTO bench_queries VALUES ({n}, '{q}');\n")
with open(f"{work}/pgbench.sql", "w") as f:
    f.write(f"\\set i random(1, {len(queries)})\n")
    f.write("SELECT r.id, ts_rank(r.tsv, x.query) AS rank FROM bench_records r, "
            "(SELECT plainto_tsquery('italian', q) AS query, q FROM bench_queries WHERE n = :i) x "
            "WHERE r.tsv @@ x.query OR r.isbn = x.q ORDER BY rank DESC LIMIT 20;\n")
EOF
psql_run -f "$work/queries.sql"
(cd "$work" && "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U sportello -c "$clients" -j 2 -T "$duration" \
    -f "$work/pgbench.sql" -l --log-prefix=pglog sportello_test >"$work/pgbench.txt" 2>&1) || cat "$work/pgbench.txt" >&2
python3 - "$work" >"$work/pg.result" <<'EOF'
import glob, sys
lat = []
for path in glob.glob(f"{sys.argv[1]}/pglog*"):
    for line in open(path):
        parts = line.split()
        if len(parts) > 2:
            lat.append(int(parts[2]) / 1000)
lat.sort()
import re
text = open(f"{sys.argv[1]}/pgbench.txt").read()
tps = re.search(r"tps = ([0-9.]+)", text)
pick = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")
print(f"RESULT requests={len(lat)} p50_ms={pick(0.5):.2f} p99_ms={pick(0.99):.2f} tps={tps.group(1) if tps else 'nan'}")
EOF

step "MARC parsing: ours vs pymarc on the same $pymarc_records records"
python3 - "$work/synth/catalogue.mrc" "$work/subset.mrc" "$pymarc_records" <<'EOF'
import sys
data, n = open(sys.argv[1], "rb").read(), int(sys.argv[3])
end, count = 0, 0
while count < n:
    nxt = data.find(b"\x1d", end)
    if nxt < 0: break
    end, count = nxt + 1, count + 1
open(sys.argv[2], "wb").write(data[:end])
EOF
ours_s="$("$root/target/$profile/examples/marc_dump" --count "$work/subset.mrc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')"
pymarc_s="$("$venv/bin/python" - "$work/subset.mrc" <<'EOF'
import sys, time, pymarc
start = time.perf_counter()
n = fields = 0
with open(sys.argv[1], "rb") as fh:
    for record in pymarc.MARCReader(fh, to_unicode=True, force_utf8=True):
        n += 1
        fields += len(record.fields)
print(time.perf_counter() - start)
EOF
)"

python3 - "$work" "$records" "$import_ns" "$indexed_ns" "$index_size" "$db_size" "$rss_kb" "$rss_after_kb" \
    "$ours_s" "$pymarc_s" "$pymarc_records" "$clients" "$target_rps" <<'EOF'
import re, sys
work, records, import_ns, indexed_ns, index_size, db_size, rss, rss_after, ours, theirs, sub, clients, target_rps = sys.argv[1:]
def result(name):
    text = open(f"{work}/{name}.result").read()
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", text)}
s, u, a, p = result("search"), result("unique"), result("availability"), result("pg")
sr, ur = result("search_rate"), result("unique_rate")
rps = lambda r: int(r["requests"]) / float(r["seconds"])
summary = open(f"{work}/import.txt").read().strip()
pg_tps = float(p["tps"])
print()
print("=== scripts/bench catalog ===")
print(f"catalogue: {int(records):,} records (synthetic, deterministic) in {open(work + '/synth/libraries.json').read().count('bench-')} libraries")
print(f"import: {summary}")
print(f"import end to end (CLI into SQLite): {int(records) / (int(import_ns) / 1e9):,.0f} records/s; searchable after {int(indexed_ns) / 1e9:.1f} s")
# RssFile counts mapped pages of the database and the index once per mapping (each SQLite
# connection maps the file); they are the OS page cache, shared, and dropped at will.
mib = lambda kb: int(kb) // 1024
(anon, mapped), (anon_after, mapped_after) = rss.split(":"), rss_after.split(":")
print(f"index size {index_size}, database {db_size}; server memory (RssAnon) {mib(anon)} MiB after import, {mib(anon_after)} MiB after load; mapped files (RssFile) {mib(mapped)} / {mib(mapped_after)} MiB")
print(f"search with availability, 200 repeating queries ({clients} connections): {rps(s):,.0f} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, errors {s['errors']}")
print(f"search, {int(u['requests']):,} unique queries (answer cache cannot help; it repeats after 20,000): {rps(u):,.0f} req/s, p50 {u['p50_ms']} ms, p99 {u['p99_ms']} ms, errors {u['errors']}")
print(f"availability endpoint ({clients} connections):    {rps(a):,.0f} req/s, p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms, errors {a['errors']}")
for name, r in (("repeating mix", sr), ("unique queries", ur)):
    print(f"search at {target_rps} req/s offered, {name}: served {r['rps']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}")
met = min(rps(s), rps(u)) >= 1000 and max(float(sr["p99_ms"]), float(ur["p99_ms"])) <= 30 and int(sr["errors"]) + int(ur["errors"]) == 0
print(f"target (>= 1,000 req/s; p99 <= 30 ms at 1,000 req/s): {'met' if met and int(target_rps) >= 1000 else 'NOT met'}")
print(f"PostgreSQL full text, same query mix (pgbench, SQL only, no HTTP): {pg_tps:,.0f} q/s, p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms")
if pg_tps == pg_tps:
    print(f"  ratios: throughput {rps(s) / pg_tps:.1f}x, p50 {float(p['p50_ms']) / float(s['p50_ms']):.1f}x, p99 {float(p['p99_ms']) / float(s['p99_ms']):.1f}x (Sportello over PostgreSQL)")
print(f"MARC parsing, {int(sub):,} records: ours {float(ours):.3f} s, pymarc {float(theirs):.3f} s: {float(theirs) / float(ours):.1f}x")
EOF
