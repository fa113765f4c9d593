# shellcheck shell=bash
# Throwaway S3-compatible server for Sportello's tests: moto's standalone server on loopback.
#
# Meant to be sourced (e.g. by scripts/test), not executed:
#
#   source scripts/lib/s3.sh
#   trap s3_stop_throwaway EXIT
#   s3_start_throwaway            # installs moto in build/venv-s3 if needed
#   cargo test -p sportello-server --test storage   # reads SPORTELLO_TEST_S3_URL
#
# Exports:
#   S3_PID                  the server's process id
#   SPORTELLO_TEST_S3_URL   http://127.0.0.1:<port>
#
# The server keeps everything in memory and accepts any credentials; each test makes its own
# bucket. It listens on 127.0.0.1 only.

# shellcheck source=venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"

# Set only by s3_start_throwaway: the process it started and may stop.
_S3_OWNED_PID="${_S3_OWNED_PID:-}"
_S3_LOG="${_S3_LOG:-}"

_s3_log() { printf 's3.sh: %s\n' "$*" >&2; }

s3_start_throwaway() {
    local venv port tries
    venv="$(s3_venv)"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _S3_LOG="$(mktemp "${TMPDIR:-/tmp}/sportello-s3.XXXXXX.log")"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$_S3_LOG" 2>&1 &
    _S3_OWNED_PID=$!
    S3_PID=$_S3_OWNED_PID
    export S3_PID
    for ((tries = 0; tries < 100; tries++)); do
        if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null; then
            export SPORTELLO_TEST_S3_URL="http://127.0.0.1:$port"
            _s3_log "moto S3 server on $SPORTELLO_TEST_S3_URL (pid $S3_PID)"
            return 0
        fi
        if ! kill -0 "$_S3_OWNED_PID" 2>/dev/null; then
            _s3_log "moto_server exited:"; cat "$_S3_LOG" >&2
            return 1
        fi
        sleep 0.1
    done
    _s3_log "moto_server did not answer on port $port within 10 s:"; cat "$_S3_LOG" >&2
    return 1
}

# Stops the server this shell started, if any (safe to call twice, and from an EXIT trap).
s3_stop_throwaway() {
    if [[ -n "$_S3_OWNED_PID" ]]; then
        kill "$_S3_OWNED_PID" 2>/dev/null || true
        wait "$_S3_OWNED_PID" 2>/dev/null || true
        _S3_OWNED_PID=""
    fi
    if [[ -n "$_S3_LOG" ]]; then
        rm -f "$_S3_LOG"
        _S3_LOG=""
    fi
}
