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
        for other in sorted(unknown):
            print(f"{role}: {failures[other]} failures of another kind: {other}", file=sys.stderr)
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


# Schemathesis groups failures by code (`st explain CODE`); the check each code comes from.
CHECK_OF_CODE = {
    "ST101": "not_a_server_error",  # 5xx
    "ST102": "not_a_server_error",  # 5xx for an undeclared Content-Type
    "ST103": "status_code_conformance",  # status not documented
    "ST104": "content_type_conformance",  # no Content-Type where one is documented
    "ST105": "content_type_conformance",  # Content-Type not documented
    "ST106": "content_type_conformance",  # malformed media type
    "ST107": "response_headers_conformance",  # required header missing
    "ST108": "response_schema_conformance",  # body or header against its schema
    "ST109": "response_schema_conformance",  # not JSON under a JSON type
    "ST110": "response_schema_conformance",  # unreadable body
}


def check_of(group: dict) -> str:
    """The check a failure group belongs to; anything else is counted under its own name."""
    return CHECK_OF_CODE.get(group.get("code"), f"{group.get('code')} {group.get('title')}")


if __name__ == "__main__":
    sys.exit(main())
