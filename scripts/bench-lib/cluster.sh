#!/usr/bin/env bash
# Does a second instance add throughput? Release `sportello serve` processes on one throwaway
# PostgreSQL, behind nginx on loopback as docs/deployment.md lays them out:
#
# - catalogue search: BENCH_RECORDS synthetic records (default 200,000; bench-lib/synth_catalog.py,
#   whose titles come from a 140-word vocabulary: it flatters search's absolute figures, see
#   issue 20; the ratio of two instances to one, on the same data, is what this run is for)
#   imported through one instance; then the same search mix through
#   nginx with one upstream and with two, each a closed loop of BENCH_CLIENTS connections for
#   BENCH_DURATION seconds (oha), and straight to one instance (what nginx costs);
# - push broadcast: `cargo bench --bench push` on the same PostgreSQL with
#   SPORTELLO_BENCH_INSTANCES=2, one area broadcast to BENCH_DEVICES devices delivered by one
#   instance's workers, then another delivered by two instances' workers together.
#
# Every process shares the machine's cores: the ratio says what a second instance adds on one
# machine, not on a second one (see docs/benchmarks.md).
#
# Usage: scripts/bench cluster
# Knobs: BENCH_RECORDS (200000), BENCH_DEVICES (30000), BENCH_CLIENTS (64), BENCH_DURATION (20),
# BENCH_PROFILE (release), SPORTELLO_BIN (skip the build), SPORTELLO_TEST_NGINX (nginx binary).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

records="${BENCH_RECORDS:-200000}"
devices="${BENCH_DEVICES:-30000}"
clients="${BENCH_CLIENTS:-64}"
duration="${BENCH_DURATION:-20}"
profile="${BENCH_PROFILE:-release}"
nginx="${SPORTELLO_TEST_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
[[ -x "$nginx" ]] || { echo "nginx not found: apt-get install nginx-light (scripts/test does)" >&2; exit 1; }

step() { printf '\n==> %s\n' "$*" >&2; }

# shellcheck source=../lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=../lib/venv.sh
source scripts/lib/venv.sh
# shellcheck source=oha.sh
source scripts/bench-lib/oha.sh
# shellcheck source=bin.sh
source scripts/bench-lib/bin.sh
oha_bin >/dev/null

work="$(mktemp -d /tmp/sportello-bench-cluster.XXXXXX)"
pids=()
nginx_pid=""
cleanup() {
    if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid" 2>/dev/null || true; fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    pg_stop_throwaway
    rm -rf -- "$work"
}
trap cleanup EXIT

bin="$(sportello_bin "$profile")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

step "PostgreSQL (throwaway, loopback)"
pg_start_throwaway
database="$SPORTELLO_TEST_PG_URL"

# start_instance NAME: a `sportello serve` on PostgreSQL; its address in $started.
started=""
start_instance() {
    local name="$1" port
    port="$(free_port)"
    mkdir -p "$work/$name"
    SPORTELLO__RATE_LIMITS__ENABLED=false SPORTELLO_LOG=warn "$bin" --database-url "$database" \
        --data-dir "$work/$name" serve --listen "127.0.0.1:$port" --dev-auth >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    started="127.0.0.1:$port"
}

# wait_searchable ADDRESS: until that instance's index holds every record.
wait_searchable() {
    local total
    for _ in $(seq 1 6000); do
        total="$(curl -fs "http://$1/v1/catalog/search?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
        [[ "$total" -ge "$records" ]] && return
        sleep 0.5
    done
    echo "$1 never indexed $records records (it has $total)" >&2
    exit 1
}

# balance ADDRESS…: (re)starts nginx in front of those instances; its base URL in $balanced.
balanced=""
balance() {
    if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; fi
    local port servers="" address
    port="$(free_port)"
    for address in "$@"; do servers+="        server $address;"$'\n'; done
    mkdir -p "$work/nginx"
    cat >"$work/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream sportello {
$servers        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://sportello;
            proxy_http_version 1.1;
            proxy_set_header Connection '';
            proxy_set_header Host \$http_host;
        }
    }
}
EOF
    "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" >/dev/null 2>>"$work/nginx/error.log" &
    nginx_pid=$!
    for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    balanced="http://127.0.0.1:$port"
}

step "synthetic catalogue: $records records"
python3 scripts/bench-lib/synth_catalog.py "$work/synth" "$records" 3 120 \
    server/data/comuni/genova_metro_comuni.json
start_instance first
first="$started"
token="$(dev_admin_token "http://$first")"
library_maps "$work/synth/libraries.json" "http://$first" "$token"
step "import (CLI into PostgreSQL)"
"$bin" --database-url "$database" --data-dir "$work/first" catalog import --library bench-000 \
    --format unimarc "${maps[@]}" "$work/synth/catalogue.mrc" >&2
wait_searchable "$first"
start_instance second
second="$started"
wait_searchable "$second"
sed 's|^|/v1/catalog/search?|' "$work/synth/queries.txt" >"$work/search.paths"

# search_run BASE NAME: warm-up, then the closed loop; the result in $work/NAME.result.
search_run() {
    sed "s|^|$1|" "$work/search.paths" >"$work/$2.urls"
    oha_max 3 "$clients" --urls-from-file "$work/$2.urls" >/dev/null
    oha_max "$duration" "$clients" --urls-from-file "$work/$2.urls" >"$work/$2.result"
}
step "catalogue search: one instance, straight"
search_run "http://$first" direct
step "catalogue search: nginx, one upstream"
balance "$first"
search_run "$balanced" one
step "catalogue search: nginx, two upstreams"
balance "$first" "$second"
search_run "$balanced" two
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
# Their push workers would take part in the broadcast below.
for pid in "${pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
pids=()

step "push broadcast: one instance's workers, then two ($devices devices)"
oracle_venv >/dev/null
SPORTELLO_BENCH_PG_URL="$database" SPORTELLO_BENCH_DEVICES="$devices" SPORTELLO_BENCH_INSTANCES=2 \
    cargo bench --quiet --locked -p sportello-server --bench push | tee "$work/push.txt" >&2

python3 - "$work" "$records" "$clients" <<'EOF'
import re, sys
work, records, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def result(name):
    return dict(re.findall(r"(\w+)=(\S+)", open(f"{work}/{name}.result").read()))
d, one, two = result("direct"), result("one"), result("two")
print()
print(f"=== scripts/bench cluster ({records:,} catalogue records on PostgreSQL, {clients} connections) ===")
for label, r in (("one instance, straight", d), ("nginx, one upstream", one), ("nginx, two upstreams", two)):
    print(f"search {label:24} {int(r['rps']):>7,} req/s  p50 {r['p50_ms']:>7} ms  p99 {r['p99_ms']:>7} ms  errors {r['errors']}")
print(f"  two upstreams / one: {int(two['rps']) / int(one['rps']):.2f}x; nginx's cost: {int(one['rps']) / int(d['rps']):.2f}x of straight")
push = open(f"{work}/push.txt").read()
for line in push.splitlines():
    if "instance" in line:
        print(line.strip())
EOF
