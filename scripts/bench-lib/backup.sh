#!/usr/bin/env bash
# Backup and restore timings (release binary, embedded SQLite): the demo data, then a catalogue
# of BENCH_RECORDS synthetic records (default 1,000,000; bench-lib/synth_catalog.py) with a
# server running and answering searches while the backup is taken (`backup` is online).
# Restore includes checking every file against the manifest, the migrations and the search
# index's rebuild.
#
# Usage: scripts/bench backup
# Knobs: BENCH_RECORDS (1000000), BENCH_PROFILE (release; `debug` only to try the script).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

records="${BENCH_RECORDS:-1000000}"
profile="${BENCH_PROFILE:-release}"
# shellcheck source=bin.sh
source scripts/bench-lib/bin.sh
bin="$(sportello_bin "$profile")"

work="$(mktemp -d /tmp/sportello-bench-backup.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*" >&2; }

# Runs a command and prints its wall time in seconds (3 decimals).
timed() {
    local start end
    start=$(date +%s%N)
    "$@" >"$work/last.out" 2>&1 || { cat "$work/last.out" >&2; return 1; }
    end=$(date +%s%N)
    printf '%d.%03d\n' $(((end - start) / 1000000000)) $((((end - start) / 1000000) % 1000))
}

step "demo data"
mkdir -p "$work/demo" "$work/big"
"$bin" --data-dir "$work/demo" migrate --demo >/dev/null
demo_backup="$(timed "$bin" --data-dir "$work/demo" backup --to "$work/demo-backup")"
demo_size="$(du -sh "$work/demo-backup" | cut -f1)"
demo_restore="$(timed "$bin" --data-dir "$work/demo-restored" restore --from "$work/demo-backup")"

step "synthetic catalogue: $records records"
python3 scripts/bench-lib/synth_catalog.py "$work/synth" "$records" 3 120 \
    server/data/comuni/genova_metro_comuni.json
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
SPORTELLO__RATE_LIMITS__ENABLED=false SPORTELLO_LOG=warn "$bin" --data-dir "$work/big" serve \
    --listen "127.0.0.1:$port" --dev-auth >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token="$(dev_admin_token "$base")"
library_maps "$work/synth/libraries.json" "$base" "$token"
step "import (CLI)"
"$bin" --data-dir "$work/big" catalog import --library bench-000 --format unimarc "${maps[@]}" \
    "$work/synth/catalogue.mrc" >&2
for _ in $(seq 1 3000); do
    total="$(curl -fs "$base/v1/catalog/search?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
    [[ "$total" -ge "$records" ]] && break
    sleep 0.5
done

step "backup while the server answers searches"
searches="$work/searches.count"
(
    n=0
    while kill -0 "$server_pid" 2>/dev/null && [[ ! -e "$work/stop" ]]; do
        curl -fs -o /dev/null "$base/v1/catalog/search?q=mare" && n=$((n + 1))
    done
    echo "$n" >"$searches"
) &
load_pid=$!
big_backup="$(timed "$bin" --data-dir "$work/big" backup --to "$work/big-backup")"
touch "$work/stop"
wait "$load_pid"
big_size="$(du -sh "$work/big-backup" | cut -f1)"
db_size="$(du -sh "$work/big/sportello.db" | cut -f1)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

step "restore (files checked, migrations, search index rebuilt)"
big_restore="$(timed "$bin" --data-dir "$work/big-restored" restore --from "$work/big-backup")"
grep -i "restored" "$work/last.out" >&2

printf '\n%-34s %10s %10s %8s\n' "data" "backup s" "restore s" "size"
printf '%-34s %10s %10s %8s\n' "demo" "$demo_backup" "$demo_restore" "$demo_size"
printf '%-34s %10s %10s %8s\n' "$records catalogue records" "$big_backup" "$big_restore" "$big_size"
printf '(database %s; %s searches answered during the backup; restore includes the index rebuild)\n' \
    "$db_size" "$(cat "$searches")"
