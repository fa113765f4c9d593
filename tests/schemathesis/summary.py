"""Per-role totals of the schemathesis runs of tests/schemathesis/run, from their JSON reports.

Usage: summary.py WORK_DIR ROLE...   (reads WORK_DIR/ROLE.json, prints WORK_DIR/ROLE.log on failure)
Exit status: 1 if any role had a failure or an error, or did not complete.
"""

import json
import sys
from collections import Counter
from pathlib import Path

# The checks the run asks for, in the order they are reported.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


def main() -> int:
    work = Path(sys.argv[1])
    roles = sys.argv[2:]
    bad = False
    header = f"{'role':<10} {'operations':>10} {'cases':>7} " + " ".join(f"{c:>28}" for c in CHECKS) + f" {'errors':>7}"
    rows = []
    for role in roles:
        path = work / f"{role}.json"
        if not path.exists():
            print(f"{role}: no report", file=sys.stderr)
            print((work / f"{role}.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            bad = True
            continue
        report = json.loads(path.read_text())
        failures = Counter()
        for group in report["failures"]:
            failures[check_of(group)] += group["count"]
        unknown = set(failures) - set(CHECKS)
        errors = sum(e["count"] for e in report["errors"])
        operations = report["operations"] or {}
        rows.append(
            f"{role:<10} {operations.get('tested', 0):>4}/{operations.get('total', 0):<5} "
            f"{report['test_cases']['generated']:>7} "
            + " ".join(f"{failures[c]:>28}" for c in CHECKS)
            + f" {errors:>7}"
        )
        role_bad = bool(failures) or errors or not report["complete"] or unknown
        if role_bad:
            bad = True
            print(f"--- {role}: schemathesis output ---", file=sys.stderr)
            print((work / f"{role}.log").read_text(errors="replace")[-20000:], file=sys.stderr)
    print("schemathesis: failures by check (0 everywhere is a pass)")
    print(header)
    print("\n".join(rows))
    return 1 if bad else 0


def check_of(group: dict) -> str:
    """The check a failure group belongs to."""
    for key in ("type", "code"):
        value = group.get(key)
        if value in CHECKS:
            return value
    return f"{group.get('type')}/{group.get('code')}: {group.get('title')}"


if __name__ == "__main__":
    sys.exit(main())
