#!/usr/bin/env bash
# Validate publiccode.yml at the repository root with the official
# Developers Italia parser (publiccode-parser-go), with network checks off.
#
# Usage: scripts/lib/publiccode.sh [path/to/publiccode.yml]
#
# Installs publiccode-parser with `go install` (pinned version, into
# $(go env GOPATH)/bin) when it is not already on PATH.
#
# Environment:
#   PUBLICCODE_PARSER               path to a publiccode-parser binary to use
#                                   instead of looking it up / installing it
#   PUBLICCODE_PARSER_VERSION       version to install (default below)
#   PUBLICCODE_STRICT=1             treat warnings as failures
#   PUBLICCODE_ALLOW_MISSING_PARSER=1
#                                   if the parser can't be installed (e.g. the
#                                   Go module proxy refuses it), print SKIPPED
#                                   and exit 0 instead of failing
#
# Exit codes: 0 valid, 1 invalid, 2 parser unavailable / usage error.
set -euo pipefail

readonly PUBLICCODE_PARSER_MODULE="github.com/italia/publiccode-parser-go/v5/publiccode-parser"
readonly PUBLICCODE_PARSER_DEFAULT_VERSION="v5.4.3"

pc_log() { printf 'publiccode: %s\n' "$*" >&2; }

pc_repo_root() {
    local here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    if git -C "$here" rev-parse --show-toplevel >/dev/null 2>&1; then
        git -C "$here" rev-parse --show-toplevel
    else
        (cd "$here/../.." && pwd)
    fi
}

# Prints the path of a usable publiccode-parser binary, installing it if
# needed. Returns non-zero if none can be had.
pc_find_or_install_parser() {
    local version="${PUBLICCODE_PARSER_VERSION:-$PUBLICCODE_PARSER_DEFAULT_VERSION}"

    if [[ -n "${PUBLICCODE_PARSER:-}" ]]; then
        if [[ -x "$PUBLICCODE_PARSER" ]]; then
            printf '%s\n' "$PUBLICCODE_PARSER"
            return 0
        fi
        pc_log "PUBLICCODE_PARSER=$PUBLICCODE_PARSER is not an executable file"
        return 1
    fi

    if command -v publiccode-parser >/dev/null 2>&1; then
        command -v publiccode-parser
        return 0
    fi

    if ! command -v go >/dev/null 2>&1; then
        pc_log "publiccode-parser not found and 'go' is not installed"
        return 1
    fi

    local gopath gobin
    gopath="$(go env GOPATH)"
    gopath="${gopath%%:*}" # first entry if GOPATH is a list
    gobin="$gopath/bin"
    export PATH="$gobin:$PATH"

    if [[ -x "$gobin/publiccode-parser" ]]; then
        printf '%s\n' "$gobin/publiccode-parser"
        return 0
    fi

    pc_log "installing ${PUBLICCODE_PARSER_MODULE}@${version} into $gobin"
    mkdir -p "$gobin"
    local out
    if ! out="$(GOBIN="$gobin" go install "${PUBLICCODE_PARSER_MODULE}@${version}" 2>&1)"; then
        printf '%s\n' "$out" | tail -n 5 | sed 's/^/publiccode:   /' >&2
        pc_log "go install of ${PUBLICCODE_PARSER_MODULE}@${version} failed"
        return 1
    fi
    printf '%s\n' "$gobin/publiccode-parser"
}

pc_main() {
    local root file parser
    root="$(pc_repo_root)"
    file="${1:-$root/publiccode.yml}"

    if [[ ! -f "$file" ]]; then
        echo "publiccode.yml: FAILED ($file not found)"
        return 2
    fi

    if ! parser="$(pc_find_or_install_parser)"; then
        if [[ "${PUBLICCODE_ALLOW_MISSING_PARSER:-0}" == 1 ]]; then
            echo "publiccode.yml: SKIPPED (publiccode-parser unavailable; PUBLICCODE_ALLOW_MISSING_PARSER=1)"
            return 0
        fi
        echo "publiccode.yml: FAILED (publiccode-parser unavailable; set PUBLICCODE_PARSER=/path/to/binary)"
        return 2
    fi

    local pversion
    # -version prints "<version> <date>" on stderr.
    pversion="$("$parser" -version 2>&1 | awk 'NR==1{print $1}')" || pversion="unknown"

    local out rc=0
    # -no-network: no URL/oEmbed checks (no internet here); -path: look up
    # local files (logo, screenshots) in the repository, not at `url`.
    out="$("$parser" -no-network -path "$root" "$file" 2>&1)" || rc=$?

    local warnings=0
    if [[ -n "$out" ]]; then
        printf '%s\n' "$out"
        warnings="$(printf '%s\n' "$out" | grep -c ': warning: ' || true)"
    fi

    if [[ $rc -ne 0 ]]; then
        echo "publiccode.yml: INVALID (publiccode-parser $pversion, no network checks)"
        return 1
    fi
    if [[ "$warnings" -gt 0 ]]; then
        if [[ "${PUBLICCODE_STRICT:-0}" == 1 ]]; then
            echo "publiccode.yml: INVALID ($warnings warning(s), PUBLICCODE_STRICT=1; publiccode-parser $pversion)"
            return 1
        fi
        echo "publiccode.yml: OK with $warnings warning(s) (publiccode-parser $pversion, no network checks)"
        return 0
    fi
    echo "publiccode.yml: OK (publiccode-parser $pversion, no network checks)"
}

pc_main "$@"
