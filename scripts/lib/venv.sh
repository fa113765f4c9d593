# shellcheck shell=bash
# The Python venv of the test oracles (pywebpush, zeep, pymarc, schemathesis, pyld, icalendar, pyshacl…): `build/venv`, or
# $SPORTELLO_TEST_VENV. Created once; the pinned requirements of every oracle installed in it
# (pip skips what is already there), so the tests, the cross-checks and the benchmarks share it.
#
# Usage: source scripts/lib/venv.sh; venv="$(oracle_venv)"
oracle_venv() {
    local root venv
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    venv="${SPORTELLO_TEST_VENV:-$root/build/venv}"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r "$root/tests/push-sim/requirements.txt" \
        -r "$root/tests/pagopa/requirements.txt" \
        -r "$root/tests/marc-crosscheck/requirements.txt" \
        -r "$root/tests/schemathesis/requirements.txt" \
        -r "$root/tests/events-formats/requirements.txt" \
        -r "$root/tests/opendata/requirements.txt" >&2
    printf '%s\n' "$venv"
}
