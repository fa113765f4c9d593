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
