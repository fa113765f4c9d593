"""Deterministic synthetic metropolitan catalogue for `scripts/bench catalog`.

Writes, for a given number of records and libraries:
- catalogue.mrc: UNIMARC ISO 2709 (UTF-8), one record per edition, each with SBN-style 950
  holdings (library code in the first two characters of $e) spread over the libraries;
- libraries.json: the libraries (id, municipality, coordinates near the municipality's point);
- records.tsv: the same records as text (id, title, author, subject, publisher, ISBN), for the
  PostgreSQL full-text comparison;
- queries.txt: the fixed query mix (one query string per line, URL-encoded values): 200
  searches that repeat, as popular searches do;
- queries_unique.txt: 20,000 different searches, none repeated, so no answer cache helps.

Same arguments, same bytes: the random generator is seeded.

Usage: synth_catalog.py OUT_DIR RECORDS COPIES_PER_RECORD LIBRARIES COMUNI_JSON
"""

import json
import random
import sys
import urllib.parse
from pathlib import Path

FT, RT, SD = b"\x1e", b"\x1d", b"\x1f"

WORDS = (
    "città mare vento storia notte giorno amore guerra pace viaggio libro lettera casa porto "
    "montagna fiume giardino segreto ombra luce tempo memoria famiglia isola strada ponte "
    "silenzio voce sogno cuore fuoco acqua terra cielo stella luna sole inverno estate "
    "autunno primavera Genova Liguria Italia Europa mondo uomo donna bambino ragazza padre "
    "madre fratello sorella amico nemico re regina principe castello torre chiesa piazza "
    "mercato nave marinaio capitano pirata tesoro mappa bussola orizzonte tempesta onda "
    "scoglio faro collina bosco lupo volpe gatto cane cavallo uccello pesce fiore albero "
    "foglia radice pietra ferro oro argento carta inchiostro penna parola poesia romanzo "
    "racconto cronaca diario viaggiatore esilio ritorno partenza arrivo confine frontiera"
).split()
SURNAMES = (
    "Rossi Bianchi Ferrari Russo Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca "
    "Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi "
    "Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola "
    "De_Santis Damico Marchetti Parodi Repetto Canepa Ferrando Bagnasco Queirolo Traverso"
).replace("_", " ").split()
NAMES = "Giovanni Maria Luca Anna Marco Giulia Paolo Chiara Andrea Francesca Matteo Elena Pietro Laura".split()
PUBLISHERS = ["Mondadori", "Einaudi", "Feltrinelli", "Laterza", "Il Mulino", "Sellerio", "Adelphi", "De Ferrari", "Marietti"]
SUBJECTS = ["Storia", "Letteratura italiana", "Narrativa", "Liguria", "Genova", "Arte", "Scienze", "Filosofia", "Viaggi", "Cucina"]
LANGS = ["ita"] * 8 + ["eng", "fra"]
CODES = [a + b for a in "ABCDEFGHJKLMNPQRSTUVWXYZ" for b in "0123456789"]


def isbn13(n):
    core = "97888" + f"{n:07d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
    return core + str((10 - total % 10) % 10)


def field(tag, ind, subfields):
    body = ind.encode()
    for code, value in subfields:
        body += SD + code.encode() + value.encode("utf-8")
    return tag, body + FT


def record(fields):
    directory, data = b"", b""
    for tag, body in fields:
        directory += f"{tag}{len(body):04d}{len(data):05d}".encode()
        data += body
    directory += FT
    base = 24 + len(directory)
    length = base + len(data) + 1
    leader = f"{length:05d}nam0 22{base:05d}   450 ".encode()
    return leader + directory + data + RT


def make_libraries(rng, libraries, comuni_path):
    """The benchmark's libraries (id, SBN-style two-character code, municipality, coordinates):
    one per municipality of COMUNI_JSON first, the rest in Genova (its share of the population)."""
    comuni = json.load(open(comuni_path))
    libs = []
    for i in range(libraries):
        # Genova gets a share like its population; every municipality has at least one.
        comune = comuni[i % len(comuni)] if i < len(comuni) else next(c for c in comuni if c["istat_code"] == "010025")
        lat = comune["lat"] + rng.uniform(-0.01, 0.01)
        lon = comune["lon"] + rng.uniform(-0.01, 0.01)
        libs.append({"id": f"bench-{i:03d}", "code": CODES[i], "municipality": comune["istat_code"], "lat": lat, "lon": lon})
    return libs


def main():
    out, n, copies, libraries, comuni_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261126)
    libs = make_libraries(rng, libraries, comuni_path)
    (out / "libraries.json").write_text(json.dumps(libs))
    with open(out / "catalogue.mrc", "wb") as f, open(out / "records.tsv", "w", encoding="utf-8") as tsv:
        for r in range(n):
            words = rng.sample(WORDS, rng.randint(2, 5))
            title = " ".join(words).capitalize()
            surname, name = rng.choice(SURNAMES), rng.choice(NAMES)
            year = rng.randint(1950, 2025)
            fields = [
                ("001", f"SYN{r:08d}".encode() + FT),
                field("010", "  ", [("a", isbn13(r))]),
                field("100", "  ", [("a", f"20260101d{year}    ||||0itac50      ba")]),
                field("101", "| ", [("a", rng.choice(LANGS))]),
                field("200", "1 ", [("a", title), ("f", f"{name} {surname}")]),
                field("210", "  ", [("a", "Genova"), ("c", rng.choice(PUBLISHERS)), ("d", str(year))]),
                field("606", "  ", [("a", rng.choice(SUBJECTS))]),
                field("700", " 1", [("a", surname), ("b", f", {name}"), ("4", "070")]),
            ]
            subject = next(v for t, b in fields if t == "606" for v in [b.decode().split("\x1fa")[1].rstrip("\x1e")])
            publisher = next(v for t, b in fields if t == "210" for v in [b.decode().split("\x1fc")[1].split("\x1f")[0]])
            tsv.write(f"SYN{r:08d}\t{title}\t{surname}, {name}\t{subject}\t{publisher}\t{isbn13(r)}\n")
            for c in range(copies):
                lib = libs[rng.randrange(libraries)]
                fields.append(field("950", " 0", [("a", "Bench"), ("d", f"{lib['code']}GEN       {r % 900 + 100:<24}"), ("e", f"{lib['code']}   {r * copies + c:09d}")]))
            f.write(record(fields))
    queries = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            q = rng.choice(WORDS)
        elif kind == 1:
            q = " ".join(rng.sample(WORDS, 2))
        elif kind == 2:
            q = rng.choice(SURNAMES)
        else:
            q = isbn13(rng.randrange(n))
        near = f"{44.40 + rng.uniform(-0.05, 0.05):.4f},{8.93 + rng.uniform(-0.1, 0.3):.4f}"
        queries.append(f"q={urllib.parse.quote(q)}&near={near}&limit=20")
    (out / "queries.txt").write_text("\n".join(queries) + "\n")
    unique, seen = [], set()
    while len(unique) < 20000:
        kind = len(unique) % 4
        if kind == 0:
            q = " ".join(rng.sample(WORDS, 2))
        elif kind == 1:
            q = f"{rng.choice(SURNAMES)} {rng.choice(WORDS)}"
        elif kind == 2:
            q = isbn13(rng.randrange(n))
        else:
            q = " ".join(rng.sample(WORDS, 3))
        if q in seen:
            continue
        seen.add(q)
        near = f"{44.40 + rng.uniform(-0.05, 0.05):.4f},{8.93 + rng.uniform(-0.1, 0.3):.4f}"
        unique.append(f"q={urllib.parse.quote(q)}&near={near}&limit=20")
    (out / "queries_unique.txt").write_text("\n".join(unique) + "\n")


if __name__ == "__main__":
    main()
