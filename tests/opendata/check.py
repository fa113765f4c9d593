"""Validates the open data catalogue with pySHACL against the DCAT-AP 3.0.0 shapes.

Reads {"jsonld": "...", "turtle": "..."} on stdin; writes, for each form, whether it conforms,
its violations (focus node, path, message) and its triple count, and whether the two forms are
the same graph.
"""

import json
import pathlib
import sys

import pyshacl
from rdflib import Graph, Namespace
from rdflib.compare import isomorphic

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES = pathlib.Path(__file__).with_name("dcat-ap-3.0.0-SHACL.ttl")


def check(graph, shapes):
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    violations = []
    for result in report.subjects(SH.resultSeverity, SH.Violation):
        violations.append({
            "focus": str(report.value(result, SH.focusNode)),
            "path": str(report.value(result, SH.resultPath)),
            "message": str(report.value(result, SH.resultMessage)),
        })
    return {"conforms": bool(conforms), "violations": violations, "triples": len(graph)}


def main():
    given = json.load(sys.stdin)
    shapes = Graph().parse(SHAPES, format="turtle")
    ld = Graph().parse(data=given["jsonld"], format="json-ld")
    answer = {"jsonld": check(ld, shapes)}
    if given.get("turtle"):
        ttl = Graph().parse(data=given["turtle"], format="turtle")
        answer["turtle"] = check(ttl, shapes)
        answer["isomorphic"] = isomorphic(ld, ttl)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
