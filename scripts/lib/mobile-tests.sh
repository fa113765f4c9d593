#!/usr/bin/env bash
# Tests of the mobile bindings against a live server: the generated Kotlin on a JVM (Maven,
# mobile-samples/jvm) and the generated Python (tests/python), both calling one throwaway
# `sportello serve --dev-auth --demo` on a loopback port (the demo catalogue is what the
# catalogue tests search).
#
# Usage: scripts/lib/mobile-tests.sh          (scripts/test runs it)
#
# Steps: build the server; generate the bindings (scripts/bindings); start the test OpenID
# provider (tests/oidc-provider, when Node is available) and the server with it configured as
# provider `test`; run the Kotlin tests (scripts/lib/jvm-tests.sh: compiled unless
# tests/spid-cie-oidc/run compiled the same sources already; SpidLoginTest skips here) and
# `python3 -m unittest`; stop everything (trap EXIT).
#
# Environment:
#   MOBILE_TESTS_SKIP_JVM=1     skip the Maven tests
#   MOBILE_TESTS_SKIP_PYTHON=1  skip the Python tests
#   MOBILE_TESTS_NO_OIDC=1      do not start the OpenID provider (browser-login tests skip)
#   SPORTELLO_BIN               a `sportello` binary to use instead of building the server
#   MVN                         Maven command (default: mvn); MAVEN_ARGS are passed on, e.g.
#                               MAVEN_ARGS=-o to run offline once the dependencies are cached
#
# Needs: cargo, python3 (3.9+), a JDK 17+ and Maven 3.8+ for the JVM tests (installed with apt-get
# when missing and running as root on Debian), Node 20.19+ for the OpenID provider.
# Exit status: non-zero if any suite fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
log() { printf 'mobile-tests: %s\n' "$*" >&2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/sportello-mobile-tests.XXXXXX")"
server_pid=""
provider_pid=""
push_pid=""
cleanup() {
    local status=$?
    for pid in "$server_pid" "$provider_pid" "$push_pid"; do
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if ((status != 0)) && [[ -f $work/server.log ]]; then
        log "server log (last 40 lines):"
        tail -n 40 "$work/server.log" >&2 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until a command succeeds, at most $1 seconds; fails early if process $2 died.
wait_for() {
    local seconds=$1 pid=$2
    shift 2
    for ((i = 0; i < seconds * 10; i++)); do
        if "$@" 2>/dev/null; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}

# shellcheck source=jvm-tests.sh
source scripts/lib/jvm-tests.sh
if [[ ${MOBILE_TESTS_SKIP_JVM:-} != 1 ]] && ! jvm_tests_ensure_maven; then
    log "or set MOBILE_TESTS_SKIP_JVM=1"
    exit 1
fi

if [[ -n ${SPORTELLO_BIN:-} ]]; then
    sportello="$SPORTELLO_BIN"
else
    log "building the server"
    cargo build --quiet -p sportello-server
    target_dir="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    sportello="$target_dir/debug/sportello"
fi
scripts/bindings
bindings_dir="$root/build/bindings"

port="$(free_port)"
base_url="http://127.0.0.1:$port"
config="$work/sportello.toml"
: >"$config"

oidc_provider=""
if [[ ${MOBILE_TESTS_NO_OIDC:-} != 1 ]] && command -v node >/dev/null; then
    if [[ ! -d tests/oidc-provider/node_modules ]]; then
        log "installing the test OpenID provider (npm ci)"
        (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # token_urlsafe may start with "-": passed as --client-secret=…, or the option parser takes it for an option.
    secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    node tests/oidc-provider/provider.mjs --port 0 --client-id sportello-mobile-tests \
        --client-secret="$secret" --redirect-uri "$base_url/v1/auth/oidc/test/callback" \
        >"$work/provider.out" 2>"$work/provider.log" &
    provider_pid=$!
    if ! wait_for 30 "$provider_pid" grep -q '^READY ' "$work/provider.out"; then
        cat "$work/provider.log" >&2
        log "the OpenID provider did not start"
        exit 1
    fi
    issuer="$(sed -n 's/^READY //p' "$work/provider.out")"
    cat >"$config" <<EOF
[auth.providers.test]
display_name = "Test ID (SPID/CIE-style)"
issuer_url = "$issuer"
client_id = "sportello-mobile-tests"
client_secret = "$secret"
EOF
    oidc_provider="test"
    log "OpenID provider at $issuer"
else
    log "no OpenID provider (Node missing or MOBILE_TESTS_NO_OIDC=1): browser-login tests will skip"
fi

# FCM, simulated to its published HTTP v1 API (tests/push-sim): the server refuses FCM tokens when
# it has no FCM sender, and the apps register theirs.
# shellcheck source=venv.sh
source scripts/lib/venv.sh
venv="$(oracle_venv)"
mkfifo "$work/push.in"
"$venv/bin/python" tests/push-sim/push_sim.py --no-decrypt --service-account "$work/fcm.json" \
    <"$work/push.in" >"$work/push.out" 2>"$work/push.log" &
push_pid=$!
exec 4>"$work/push.in" # the simulator exits when this closes
if ! wait_for 30 "$push_pid" grep -q '^READY ' "$work/push.out"; then
    cat "$work/push.log" >&2
    log "the push simulator did not start"
    exit 1
fi
cat >>"$config" <<EOF

[notify.fcm]
service_account_file = "$work/fcm.json"
api_url = "$(sed -n 's/^READY //p' "$work/push.out")"

# The suites log in and search as one client at full speed: per-client limits would trip them
# (server/tests/limits.rs tests the limits).
[rate_limits]
enabled = false
EOF

"$sportello" --config "$config" serve --dev-auth --demo --listen "127.0.0.1:$port" \
    --data-dir "$work/data" 2>"$work/server.log" &
server_pid=$!
healthy() {
    python3 -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=2).read() != b"ok")' \
        "$base_url/healthz"
}
if ! wait_for 60 "$server_pid" healthy; then
    log "the server did not become healthy"
    exit 1
fi
log "server at $base_url"

export SPORTELLO_TEST_BASE_URL="$base_url"
export SPORTELLO_TEST_OIDC_PROVIDER="$oidc_provider"
export SPORTELLO_BINDINGS_DIR="$bindings_dir"

failed=()
if [[ ${MOBILE_TESTS_SKIP_JVM:-} != 1 ]]; then
    log "Kotlin on the JVM: mvn surefire:test (mobile-samples/jvm)"
    if ! { jvm_tests_compile && jvm_tests surefire:test; }; then
        failed+=(jvm)
    fi
fi
if [[ ${MOBILE_TESTS_SKIP_PYTHON:-} != 1 ]]; then
    log "Python: unittest (tests/python)"
    if ! PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests/python -t tests/python -v; then
        failed+=(python)
    fi
fi

if ((${#failed[@]})); then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all mobile binding tests passed"
