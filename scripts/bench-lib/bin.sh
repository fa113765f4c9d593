# shellcheck shell=bash
# The `sportello` binary a benchmark runs: $SPORTELLO_BIN if set, else one built now with the
# profile given (`release` for figures, `debug` only to try a script quickly).
#
# Usage: source scripts/bench-lib/bin.sh; bin="$(sportello_bin release)"
sportello_bin() {
    local profile="$1" root
    if [[ -n "${SPORTELLO_BIN:-}" ]]; then
        printf '%s\n' "$SPORTELLO_BIN"
        return
    fi
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    printf '\n==> build (%s)\n' "$profile" >&2
    if [[ "$profile" == release ]]; then
        cargo build --quiet --release --locked -p sportello-server >&2
    else
        cargo build --quiet --locked -p sportello-server >&2
    fi
    printf '%s\n' "$root/target/$profile/sportello"
}

# An admin's access token from a server started with --dev-auth at BASE.
#
# Usage: token="$(dev_admin_token "$base")"
dev_admin_token() {
    curl -fs -X POST "$1/v1/auth/dev-login" -H 'content-type: application/json' \
        -d '{"fiscal_code":"GLLMRC68H22D969U","roles":["admin"]}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# The synthetic catalogue's libraries (LIBRARIES_JSON) registered at BASE with TOKEN; the array
# `maps` gets the importer's `--map` arguments for them.
#
# Usage: library_maps "$work/synth/libraries.json" "$base" "$token"; … import "${maps[@]}"
library_maps() {
    maps=()
    local pair
    while read -r pair; do maps+=(--map "$pair"); done < <(
        python3 scripts/bench-lib/register_libraries.py "$1" "$2" "$3")
}
