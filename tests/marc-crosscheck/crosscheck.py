"""Cross-checks Sportello's MARC readers against pymarc, an independent decoder.

For every sample file, both read the records; for each record they must agree on whether it is
readable, on the sequence of (tag, number of subfields) and on the title subfield (245$a or 200$a,
NFC). Usage: crosscheck.py DUMP_BINARY FIXTURES_DIR. Prints one line per file and a closing
"N passed, N failed" line; exits non-zero on any disagreement.

Where pymarc cannot read a real file as it is, the file is adapted *for pymarc only* and the
reason is printed, so the comparison stays honest:
- a newline after each record terminator (SBN and BNCF exports): pymarc trusts the leader length
  and stops; the newlines are removed for it;
- UNIMARC: pymarc picks MARC-8 from leader/09, which UNIMARC does not use that way; the data is
  UTF-8 (100$a/26-27 = "50"), so pymarc is told force_utf8.
pymarc's XML reader only knows MARCXML, so UNIMARC slim files are compared with the ISO 2709 copy
of the same records instead (the BNCF file ships both).
"""

import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pymarc

ISO_FILES = {
    # file: (pymarc needs newline stripping, force_utf8)
    "pymarc/marc.dat": (False, False),
    "pymarc/test.dat": (False, False),
    "pymarc/one.dat": (False, False),
    "pymarc/diacritic.dat": (False, False),
    "pymarc/regression45.dat": (False, False),
    "pymarc/testunimarc.dat": (True, True),
    "bncf-unimarcxml/data.mrc": (True, True),
    "marc4j/sample1.mrc": (False, False),
    "marc4j/u17_utf8.mrc": (False, False),
}
XML_FILES = [
    "pymarc/batch.xml",
    "pymarc/utf8.xml",
    "marc4j/chabon.xml",
    "marc4j/sample1a.xml",
    "marc4j/summerland-record.xml",
    "marc4j/1474920681_KOHA_LFL_5.xml",
]
# Same records, two containers: ours must read both alike.
SAME_RECORDS = [("bncf-unimarcxml/unimarctest.xml", "bncf-unimarcxml/data.mrc")]


def nfc(text):
    return unicodedata.normalize("NFC", text) if text is not None else None


def ours(dump, path):
    out = subprocess.run([dump, str(path)], check=True, capture_output=True, text=True).stdout
    records = []
    for line in out.splitlines():
        item = json.loads(line)
        if "error" in item:
            records.append(None)
        else:
            records.append(([tuple(f) for f in item["fields"]], nfc(item["title_a"])))
    return records


def pymarc_view(record):
    if record is None:
        return None
    layout = []
    for field in record.fields:
        layout.append((field.tag, -1 if field.is_control_field() else len(field.subfields)))
    tag = "245" if record.get("245") is not None else "200"
    title = record[tag].get("a") if record.get(tag) is not None else None
    return (layout, nfc(title))


def theirs_iso(path, strip_newlines, force_utf8):
    data = path.read_bytes()
    if strip_newlines:
        data = data.replace(b"\x1d\n", b"\x1d")
    reader = pymarc.MARCReader(io.BytesIO(data), to_unicode=True, force_utf8=force_utf8, permissive=True)
    return [pymarc_view(r) for r in reader]


def theirs_xml(path):
    return [pymarc_view(r) for r in pymarc.parse_xml_to_array(str(path))]


def compare(name, a, b):
    problems = []
    if len(a) != len(b):
        problems.append(f"{len(a)} records vs {len(b)}")
    for i, (x, y) in enumerate(zip(a, b), start=1):
        if (x is None) != (y is None):
            problems.append(f"record {i}: readable {x is not None} vs {y is not None}")
        elif x is not None and x != y:
            if x[0] != y[0]:
                diff = [(p, q) for p, q in zip(x[0], y[0]) if p != q][:3]
                problems.append(f"record {i}: fields differ {diff or (len(x[0]), len(y[0]))}")
            if x[1] != y[1]:
                problems.append(f"record {i}: title {x[1]!r} vs {y[1]!r}")
    status = "ok" if not problems else "MISMATCH"
    readable = sum(1 for r in a if r is not None)
    print(f"{status:8} {name}: {len(a)} records ({readable} readable)")
    for p in problems:
        print(f"         {p}")
    return not problems


def main():
    dump, fixtures = sys.argv[1], Path(sys.argv[2])
    passed = failed = 0
    for name, (strip, force) in ISO_FILES.items():
        ok = compare(f"{name} vs pymarc", ours(dump, fixtures / name), theirs_iso(fixtures / name, strip, force))
        passed, failed = passed + ok, failed + (not ok)
    for name in XML_FILES:
        ok = compare(f"{name} vs pymarc", ours(dump, fixtures / name), theirs_xml(fixtures / name))
        passed, failed = passed + ok, failed + (not ok)
    for xml, iso in SAME_RECORDS:
        ok = compare(f"{xml} vs {iso}", ours(dump, fixtures / xml), ours(dump, fixtures / iso))
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
