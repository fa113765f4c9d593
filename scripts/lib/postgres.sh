# shellcheck shell=bash
# Throwaway PostgreSQL server for Sportello's tests.
#
# Meant to be sourced (e.g. by scripts/test), not executed:
#
#   source scripts/lib/postgres.sh
#   trap pg_stop_throwaway EXIT
#   pg_start_throwaway            # runs pg_ensure_installed if needed
#   cargo test ...                # reads SPORTELLO_TEST_PG_URL
#
# Works as root on a fresh Debian 12 machine (installs the server package,
# runs the server as an unprivileged user) and as an ordinary user with
# PostgreSQL already installed. Needs no TTY.
#
# Exports:
#   PG_BIN                 bin dir of the PostgreSQL server used
#   PG_TMPDIR              temp dir holding data, socket and log
#   PG_PORT                TCP port on 127.0.0.1
#   SPORTELLO_TEST_PG_URL  postgres://sportello@127.0.0.1:<port>/sportello_test
#   SPORTELLO_TEST_PG_CTL  a pg_ctl for this server (`$SPORTELLO_TEST_PG_CTL -m fast stop`,
#                          `$SPORTELLO_TEST_PG_CTL start`), run as its user: the cluster test
#                          restarts the database under load with it
#
# Knobs (environment):
#   PG_RUN_USER            user to run the server as when root
#                          (default: postgres if it exists, else sportello-pg)
#   PG_START_TIMEOUT       seconds to wait for the server (default 60)
#   PG_TMP_PARENT          where to create the temp dir (default /tmp)
#
# The role `sportello` is the bootstrap superuser with trust auth, so tests
# may CREATE/DROP DATABASE freely. The server listens on 127.0.0.1 only.

# Set only by pg_start_throwaway: the exact dir it created and may delete.
_PG_OWNED_TMPDIR="${_PG_OWNED_TMPDIR:-}"
_PG_RUN_AS="${_PG_RUN_AS:-}"

_pg_log() { printf 'postgres.sh: %s\n' "$*" >&2; }

# Prints the bin dir holding initdb, postgres and pg_ctl side by side, newest
# version first; returns 1 if there is none.
_pg_find_bin_dir() {
    local d
    # Debian layout: /usr/lib/postgresql/<major>/bin, newest major first.
    while IFS= read -r d; do
        [[ -n "$d" ]] || continue
        if [[ -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_ctl" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V -r)

    # Anything on PATH (following symlinks, e.g. /usr/local/bin/pg_ctl ->
    # /usr/lib/postgresql/15/bin/pg_ctl), only if the set is complete.
    local tool real
    for tool in initdb postgres pg_ctl; do
        real="$(command -v "$tool" 2>/dev/null)" || continue
        real="$(readlink -f "$real")" || continue
        d="$(dirname "$real")"
        if [[ -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_ctl" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done

    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir 2>/dev/null)" || d=""
        if [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" && -x "$d/pg_ctl" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    return 1
}

# Ensures a PostgreSQL server is installed (binaries only; the Debian system
# cluster is neither created nor started) and exports PG_BIN.
pg_ensure_installed() {
    local bin
    if bin="$(_pg_find_bin_dir)"; then
        export PG_BIN="$bin"
        return 0
    fi

    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            _pg_log "PostgreSQL server not found and not root: install the 'postgresql' package"
            return 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        _pg_log "PostgreSQL server not found and apt-get is not available"
        return 1
    fi

    _pg_log "PostgreSQL server not found; installing the 'postgresql' package"

    # Keep the package from starting its service: policy-rc.d returning 101
    # tells invoke-rc.d / deb-systemd-invoke not to start anything.
    local added_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 0755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    # ...and from creating the 'main' cluster (its initdb is wasted time).
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        "${sudo[@]}" mkdir -p /etc/postgresql-common
        printf 'create_main_cluster = false\n' |
            "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi

    local rc=0
    {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                --no-install-recommends \
                -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
                postgresql
    } </dev/null >&2 || rc=$?

    if [[ $added_policy -eq 1 ]]; then
        "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
    fi
    if [[ $rc -ne 0 ]]; then
        _pg_log "apt-get install postgresql failed (exit $rc)"
        return 1
    fi

    if ! bin="$(_pg_find_bin_dir)"; then
        _pg_log "postgresql installed but initdb/postgres/pg_ctl still not found"
        return 1
    fi
    export PG_BIN="$bin"
}

# Runs a command as the server's user, from a directory that user can read.
_pg_as_user() {
    if [[ -n "$_PG_RUN_AS" ]]; then
        (cd "$PG_TMPDIR" && runuser -u "$_PG_RUN_AS" -- "$@")
    else
        (cd "$PG_TMPDIR" && "$@")
    fi
}

_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
        return
    fi
    local port _
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

_pg_fail_start() {
    _pg_log "$*"
    if [[ -n "${PG_TMPDIR:-}" && -f "$PG_TMPDIR/postgres.log" ]]; then
        _pg_log "last lines of $PG_TMPDIR/postgres.log:"
        tail -n 30 "$PG_TMPDIR/postgres.log" | sed 's/^/    /' >&2
    fi
    pg_stop_throwaway
    return 1
}

# Starts a throwaway server and creates database sportello_test.
pg_start_throwaway() {
    if [[ -n "$_PG_OWNED_TMPDIR" ]]; then
        _pg_log "a throwaway server is already running (PG_TMPDIR=$_PG_OWNED_TMPDIR)"
        return 1
    fi
    if [[ -z "${PG_BIN:-}" || ! -x "${PG_BIN}/pg_ctl" ]]; then
        pg_ensure_installed || return 1
    fi

    local parent="${PG_TMP_PARENT:-/tmp}"
    PG_TMPDIR="$(mktemp -d "$parent/sportello-pg.XXXXXX")" || {
        _pg_log "mktemp -d in $parent failed"
        return 1
    }
    _PG_OWNED_TMPDIR="$PG_TMPDIR"
    export PG_TMPDIR
    mkdir -p "$PG_TMPDIR/data" "$PG_TMPDIR/sock"

    # PostgreSQL refuses to run as root: use an unprivileged user.
    _PG_RUN_AS=""
    if [[ $EUID -eq 0 ]]; then
        _PG_RUN_AS="${PG_RUN_USER:-}"
        if [[ -z "$_PG_RUN_AS" ]]; then
            if id -u postgres >/dev/null 2>&1; then
                _PG_RUN_AS=postgres
            else
                _PG_RUN_AS=sportello-pg
            fi
        fi
        if ! id -u "$_PG_RUN_AS" >/dev/null 2>&1; then
            useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin "$_PG_RUN_AS" ||
                _pg_fail_start "could not create user $_PG_RUN_AS" || return 1
        fi
        chown -R "$_PG_RUN_AS": "$PG_TMPDIR"
        # The user must be able to reach the dir (mktemp makes it 0700).
        chmod 0700 "$PG_TMPDIR"
    fi

    PG_PORT="$(_pg_free_port)" || _pg_fail_start "no free TCP port found" || return 1
    export PG_PORT

    if ! _pg_as_user "$PG_BIN/initdb" -D "$PG_TMPDIR/data" -U sportello \
        --auth=trust --encoding=UTF8 --locale=C --no-sync \
        >"$PG_TMPDIR/initdb.log" 2>&1; then
        _pg_log "initdb failed:"
        sed 's/^/    /' "$PG_TMPDIR/initdb.log" >&2
        _pg_fail_start "could not initialise the throwaway cluster" || return 1
    fi

    # Settings for a disposable, loopback-only, fast server.
    cat >>"$PG_TMPDIR/data/postgresql.conf" <<EOF

# --- sportello throwaway test server ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_TMPDIR/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

    if ! _pg_as_user "$PG_BIN/pg_ctl" -D "$PG_TMPDIR/data" -l "$PG_TMPDIR/postgres.log" \
        -W start >/dev/null 2>&1; then
        _pg_fail_start "pg_ctl start failed" || return 1
    fi

    local timeout="${PG_START_TIMEOUT:-60}" waited=0 isready="$PG_BIN/pg_isready"
    while :; do
        if [[ -x "$isready" ]]; then
            "$isready" -q -h 127.0.0.1 -p "$PG_PORT" -U sportello -d postgres && break
        elif "$PG_BIN/psql" -qAt -h 127.0.0.1 -p "$PG_PORT" -U sportello -d postgres \
            -c 'select 1' >/dev/null 2>&1; then
            break
        fi
        if ! _pg_as_user "$PG_BIN/pg_ctl" -D "$PG_TMPDIR/data" status >/dev/null 2>&1 &&
            [[ $waited -ge 2 ]]; then
            _pg_fail_start "the server exited during startup" || return 1
        fi
        if [[ $waited -ge $timeout ]]; then
            _pg_fail_start "the server was not ready on 127.0.0.1:$PG_PORT after ${timeout}s" || return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done

    if ! "$PG_BIN/psql" -qX -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U sportello \
        -d postgres -c 'CREATE DATABASE sportello_test' >/dev/null; then
        _pg_fail_start "CREATE DATABASE sportello_test failed" || return 1
    fi

    export SPORTELLO_TEST_PG_URL="postgres://sportello@127.0.0.1:${PG_PORT}/sportello_test"
    local runner=""
    [[ -n "$_PG_RUN_AS" ]] && runner="runuser -u $_PG_RUN_AS --"
    cat >"$PG_TMPDIR/pg_ctl" <<EOF
#!/bin/sh
cd '$PG_TMPDIR' && exec $runner '$PG_BIN/pg_ctl' -D '$PG_TMPDIR/data' -l '$PG_TMPDIR/postgres.log' "\$@"
EOF
    chmod 0755 "$PG_TMPDIR/pg_ctl"
    export SPORTELLO_TEST_PG_CTL="$PG_TMPDIR/pg_ctl"
    _pg_log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready: $SPORTELLO_TEST_PG_URL"
}

# Stops the throwaway server and removes its temp dir. Safe to call more
# than once, and after a failed or partial start.
pg_stop_throwaway() {
    local dir="$_PG_OWNED_TMPDIR"
    if [[ -z "$dir" ]]; then
        return 0
    fi

    if [[ -f "$dir/data/postmaster.pid" && -n "${PG_BIN:-}" ]]; then
        if ! PG_TMPDIR="$dir" _pg_as_user "$PG_BIN/pg_ctl" -D "$dir/data" \
            -m fast -w -t 30 stop >/dev/null 2>&1; then
            # Last resort: kill the postmaster recorded in its pid file.
            local pid
            pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)" || pid=""
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                _pg_log "pg_ctl stop failed; killing postmaster $pid"
                kill -QUIT "$pid" 2>/dev/null || true
                sleep 2
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi

    case "$dir" in
        */sportello-pg.*) rm -rf -- "$dir" ;;
        *) _pg_log "not removing unexpected dir '$dir'" ;;
    esac

    _PG_OWNED_TMPDIR=""
    _PG_RUN_AS=""
    unset PG_TMPDIR PG_PORT SPORTELLO_TEST_PG_URL
    return 0
}
