# shellcheck shell=bash
# The Python venvs of the test oracles, each created once and given its pinned requirements at
# every call (pip skips what is already there).

# Makes the venv $1 if missing and installs the requirement files $2…; prints the venv's path.
_venv_with() {
    local venv=$1 requirement args=()
    shift
    for requirement in "$@"; do args+=(-r "$requirement"); done
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${args[@]}" >&2
    printf '%s\n' "$venv"
}

# The venv of the test oracles (pywebpush, zeep, pymarc, schemathesis, icalendar, pyshacl, shapely…):
# `build/venv`, or $SPORTELLO_TEST_VENV, shared by the tests, the cross-checks and the benchmarks.
#
# Usage: source scripts/lib/venv.sh; venv="$(oracle_venv)"
oracle_venv() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    _venv_with "${SPORTELLO_TEST_VENV:-$root/build/venv}" \
        "$root/tests/push-sim/requirements.txt" \
        "$root/tests/pagopa/requirements.txt" \
        "$root/tests/marc-crosscheck/requirements.txt" \
        "$root/tests/schemathesis/requirements.txt" \
        "$root/tests/events-formats/requirements.txt" \
        "$root/tests/opendata/requirements.txt" \
        "$root/tests/alerts/requirements.txt"
}

# The venv of the SPID/CIE reference implementation (`spid-cie-oidc`, tests/spid-cie-oidc):
# `build/venv-spid`, or $SPORTELLO_SPID_VENV. Its own, because it pins pydantic 1, Django 4.2 and
# a cryptography of its own that the other oracles must not be tied to.
#
# Usage: source scripts/lib/venv.sh; venv="$(spid_cie_oidc_venv)"
spid_cie_oidc_venv() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    _venv_with "${SPORTELLO_SPID_VENV:-$root/build/venv-spid}" "$root/tests/spid-cie-oidc/requirements.txt"
}

# The venv of the S3-compatible test server (moto, tests/s3): `build/venv-s3`, or
# $SPORTELLO_S3_VENV. Its own, because moto pins boto3 and botocore.
#
# Usage: source scripts/lib/venv.sh; venv="$(s3_venv)"
s3_venv() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    _venv_with "${SPORTELLO_S3_VENV:-$root/build/venv-s3}" "$root/tests/s3/requirements.txt"
}
