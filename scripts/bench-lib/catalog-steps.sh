# shellcheck shell=bash
# Steps shared by the catalogue benchmarks, scripts/bench-lib/catalog.sh (synthetic catalogue)
# and scripts/bench-lib/catalog-real.sh (catalogue and queries shaped like real ones). Sourced
# after bin.sh, oha.sh and ../lib/postgres.sh, in a script that has `work` (its scratch
# directory), `clients` and `duration` set, and that stops `server_pid` and calls
# pg_stop_throwaway on exit. The steps set globals for the script (named at each).
# shellcheck disable=SC2034,SC2154 # the globals above, set or read by the sourcing script

# catalog_serve BIN: starts `BIN serve` on a free loopback port with its data in $work/srv and
# waits for it; sets server_pid, base (http://127.0.0.1:PORT) and token (an admin's).
catalog_serve() {
    local bin="$1" port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    base="http://127.0.0.1:$port"
    # One client at full speed is the point of a load test: no per-client rate limits.
    SPORTELLO__RATE_LIMITS__ENABLED=false SPORTELLO_LOG=warn "$bin" --data-dir "$work/srv" serve --listen "127.0.0.1:$port" --dev-auth \
        >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    token="$(dev_admin_token "$base")"
}

# catalog_import BIN LIBRARIES_JSON RECORDS [import options…] MRC: registers the libraries,
# imports the file with the CLI and waits until RECORDS are searchable; sets import_ns (the
# import), indexed_ns (import and indexing) and leaves the CLI's summary in $work/import.txt.
catalog_import() {
    local bin="$1" libraries_json="$2" records="$3" start_ns total
    shift 3
    library_maps "$libraries_json" "$base" "$token"
    start_ns=$(date +%s%N)
    "$bin" --data-dir "$work/srv" catalog import --library bench-000 --format unimarc "${maps[@]}" "$@" |
        tee "$work/import.txt" >&2
    import_ns=$(($(date +%s%N) - start_ns))
    for _ in $(seq 1 3000); do
        total="$(curl -fs "$base/v1/catalog/search?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
        [[ "$total" -ge "$records" ]] && break
        sleep 0.5
    done
    indexed_ns=$(($(date +%s%N) - start_ns))
}

# catalog_rss PID: `RssAnon:RssFile` of the process, in kB.
catalog_rss() {
    awk '/RssAnon/ {a = $2} /RssFile/ {f = $2} END {print a ":" f}' "/proc/$1/status"
}

# catalog_wrk PATHS_FILE: a closed loop of $clients connections for $duration seconds over the
# paths of the file, in turn; prints `RESULT requests=… errors=… seconds=… p50_ms=… p99_ms=…`.
catalog_wrk() {
    if [[ ! -f "$work/mix.lua" ]]; then
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
    fi
    PATHS_FILE="$1" wrk -t2 -c"$clients" -d"${duration}s" --timeout 10s -s "$work/mix.lua" "$base" | grep RESULT
}

# catalog_oha_rate RATE PATHS_FILE: the paths offered at RATE req/s by $clients connections for
# $duration seconds, after 3 s of unreported warm-up at that rate (the first seconds after a
# switch of query mix, with a cold answer cache, page cache and allocator, are not the steady
# state the target is about); prints oha_rate's RESULT line.
catalog_oha_rate() {
    local rate="$1" urls
    urls="$work/$(basename "$2").urls"
    sed "s|^|$base|" "$2" >"$urls"
    oha_rate "$rate" 3 "$clients" --urls-from-file "$urls" >/dev/null
    oha_rate "$rate" "$duration" "$clients" --urls-from-file "$urls"
}

psql_run() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -qX -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U sportello -d sportello_test "$@"; }

# catalog_pg_load RECORDS_TSV: a throwaway PostgreSQL with the records (id, title, author,
# subject, publisher, ISBN), a weighted `italian` tsvector (title A, author B), its GIN index
# and a B-tree on the ISBN.
catalog_pg_load() {
    pg_start_throwaway >/dev/null
    psql_run -c "CREATE TABLE bench_records (id TEXT PRIMARY KEY, title TEXT, author TEXT, subject TEXT, publisher TEXT, isbn TEXT)"
    psql_run -c "\\copy bench_records FROM '$1'"
    psql_run -c "ALTER TABLE bench_records ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('italian', coalesce(title,'')), 'A') || setweight(to_tsvector('italian', coalesce(author,'')), 'B') ||
        to_tsvector('italian', coalesce(subject,'') || ' ' || coalesce(publisher,''))) STORED"
    psql_run -c "CREATE INDEX bench_records_tsv ON bench_records USING GIN (tsv)" -c "CREATE INDEX bench_records_isbn ON bench_records (isbn)" -c "ANALYZE bench_records"
}

# catalog_pg_bench NAME QUERIES [prefix]: pgbench, $clients clients for $duration seconds, on
# the `q` of each line of QUERIES (query strings or search paths), ranked with ts_rank, the
# best 20; with `prefix`, the last word matches as a prefix. Prints
# `RESULT requests=… p50_ms=… p99_ms=… tps=…`.
#
# Each search is two statements: its text is fetched as a literal (\gset), then searched with
# that constant. The planner then folds plainto_tsquery once and ORs the GIN and ISBN B-tree
# bitmaps (EXPLAIN shows a BitmapOr, no sequential scan). The former single statement joined
# a table of queries, so the tsquery was an expression of the joined row: still a BitmapOr,
# but plainto_tsquery was evaluated again for every match in the recheck and in ts_rank (five
# times slower on a word with a few dozen matches, worse on common words).
catalog_pg_bench() {
    local queries="$2" mode="${3:-plain}" dir="$work/pg_$1"
    mkdir -p "$dir"
    python3 - "$queries" "$dir" "$mode" <<'EOF'
import sys, urllib.parse
queries, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [l.strip() for l in open(queries) if l.strip()]
tsq = "to_tsquery('italian', quote_literal(q) || ':*')" if mode == "prefix" else "plainto_tsquery('italian', q)"
with open(f"{out}/queries.sql", "w") as f:
    f.write("DROP TABLE IF EXISTS bench_queries;\nCREATE TABLE bench_queries (n INT PRIMARY KEY, q TEXT, tsq TEXT, isbn TEXT);\n")
    f.write("CREATE TEMP TABLE raw (n INT, q TEXT);\n")
    for n, line in enumerate(lines, 1):
        q = urllib.parse.parse_qs(line.split("?", 1)[-1])["q"][0].replace("'", "''")
        f.write(f"INSERT INTO raw VALUES ({n}, '{q}');\n")
    f.write(f"INSERT INTO bench_queries SELECT n, q, {tsq}::text, regexp_replace(q, '[- ]', '', 'g') FROM raw;\n")
search = ("SELECT r.id, ts_rank(r.tsv, x.query) AS rank FROM bench_records r, CAST(:tsq AS tsquery) AS x(query) "
          "WHERE r.tsv @@ x.query OR r.isbn = :isbn ORDER BY rank DESC LIMIT 20;\n")
fetch = "SELECT quote_literal(tsq) AS tsq, quote_literal(isbn) AS isbn FROM bench_queries WHERE n = {} \\gset\n"
with open(f"{out}/pgbench.sql", "w") as f:
    f.write(f"\\set i random(1, {len(lines)})\n" + fetch.format(":i") + search)
# psql interpolates :tsq and :isbn as pgbench does: the plan of the first few searches.
with open(f"{out}/explain.sql", "w") as f:
    for n in range(1, min(len(lines), 5) + 1):
        f.write(fetch.format(n) + "EXPLAIN " + search)
EOF
    psql_run -f "$dir/queries.sql"
    psql_run -f "$dir/explain.sql" >"$dir/plan.txt"
    if grep -q "Seq Scan on bench_records" "$dir/plan.txt"; then
        printf 'PostgreSQL plans a sequential scan for %s (see its plan.txt):\n' "$1" >&2
        cat "$dir/plan.txt" >&2
    fi
    (cd "$dir" && "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U sportello -c "$clients" -j 2 -T "$duration" \
        -f "$dir/pgbench.sql" -l --log-prefix=pglog sportello_test >"$dir/pgbench.txt" 2>&1) || cat "$dir/pgbench.txt" >&2
    python3 - "$dir" <<'EOF'
import glob, re, sys
lat = []
for path in glob.glob(f"{sys.argv[1]}/pglog*"):
    for line in open(path):
        parts = line.split()
        if len(parts) > 2:
            lat.append(int(parts[2]) / 1000)
lat.sort()
text = open(f"{sys.argv[1]}/pgbench.txt").read()
tps = re.search(r"tps = ([0-9.]+)", text)
pick = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))] if lat else float("nan")
print(f"RESULT requests={len(lat)} p50_ms={pick(0.5):.2f} p99_ms={pick(0.99):.2f} tps={tps.group(1) if tps else 'nan'}")
EOF
}
