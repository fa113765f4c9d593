"""Deterministic catalogue shaped like a real one, and a query mix shaped like real searches, for
`scripts/bench catalog-real` (bench-lib/catalog-real.sh).

The catalogue (streamed: memory does not grow with the number of records):
- titles of 1 to 7 words drawn from a real Italian dictionary (/usr/share/dict/italian, Debian's
  `witalian`, about 100,000 words without the elided forms) with a Zipf-Mandelbrot law
  (p(rank) ~ 1 / (rank + 2.7)^1.0, Mandelbrot's fit of word frequencies): a few common words
  and very many rare ones. The dictionary has no frequencies, so ranks are a seeded shuffle of it,
  with shorter words favoured for the common ranks as in real frequency lists; a leading article
  and joining words (di, e, del, ...) as real titles have;
- authors: Italian given names and surnames (lists below, most frequent first, each drawn with
  a Zipf law), some foreign authors for the foreign-language records;
- subjects, publishers (Zipf), years (most of a public library's collection is recent), languages
  (mostly ita, some eng/fra/deu/spa), ISBN-13;
- 1 to 5 copies per record (mostly 1 or 2) over the libraries of synth_catalog.py (larger
  libraries hold more), each copy on loan with probability LOAN_SHARE: written in the local 949
  item layout ($m library code, $a shelf mark, $i barcode, $k status word), because SBN 950
  localisations carry no loan status; import with `--holdings marc949`.

Files written in OUT_DIR, as synth_catalog.py writes them: catalogue.mrc (UNIMARC ISO 2709),
libraries.json, records.tsv (id, title, author, subject, publisher, ISBN: the PostgreSQL
comparison's columns), plus records_facets.tsv (id, year, language, municipalities, libraries,
libraries with a copy on the shelf; the Lucene harness's filters and facets), and the queries:
queries/KIND.paths (one /v1/catalog/search?… path a line, QUERIES_PER_KIND each) and
queries/mix.paths (MIX_QUERIES paths drawn from the kinds with the weights of MIX below).

Same arguments, same bytes: every random choice comes from one seeded generator.

Usage: synth_catalog_real.py OUT_DIR RECORDS LIBRARIES COMUNI_JSON [DICTIONARY]
"""

import bisect
import itertools
import json
import random
import sys
import urllib.parse
from pathlib import Path

from synth_catalog import field, isbn13, make_libraries, record

DICTIONARY = "/usr/share/dict/italian"
ZIPF_S, ZIPF_Q = 1.0, 2.7
LOAN_SHARE = 0.3
QUERIES_PER_KIND = 2000
MIX_QUERIES = 20000

# The query mix. Proportions are an assumption guided by OPAC query-log studies, which find
# that most catalogue queries are short and simple (Lau and Goh, "In search of query patterns: a
# case study of a university OPAC", Information Processing and Management, 2006: 641,991 queries;
# a majority simple with short query lengths, few Boolean operators): one or two words are most
# of them, longer known-item queries a minority, a few typos, few ISBN searches; filters and
# sorting are a minority of searches; the headline "nearest copy on the shelf" is this project's
# reason to exist and gets its own share. They are not taken from a log of this catalogue.
MIX = {
    "one_word": 30,
    "two_words": 25,   # a quarter of them with a typo
    "three_words": 12,
    "prefix": 8,
    "isbn": 5,
    "filter": 15,      # one word with one live filter or sort, the six below in equal parts
    "headline": 5,     # a common word, available=true&sort=distance&near=…
}
FILTERS = ["available", "distance_radius", "municipality", "years", "language", "sort_year"]

ARTICLES = ["Il", "La", "I", "Le", "Lo", "Gli", "L'", "Un", "Una"]
JOINERS = ["di", "e", "del", "della", "nel", "per", "tra", "con", "dei", "delle"]
# Most frequent Italian surnames first (the order of common published rankings, roughly).
SURNAMES = (
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti "
    "De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani "
    "Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra "
    "Coppola De_Santis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini "
    "Grasso Valentini Messina Sala De_Angelis Gatti Pellegrini Palumbo Sanna Farina Rizzi "
    "Monti Cattaneo Morelli Amato Silvestri Mazza Testa Grassi Pellegrino Carbone Giuliani "
    "Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri Bernardi Martino Fiore De_Rosa "
    "Ferretti Bellini Basile Riva Donati Piras Vitali Battaglia Sartori Neri Costantini Milani "
    "Pagano Ruggiero Sorrentino D'Amico Orlando Damico Negri Parodi Repetto Canepa Ferrando "
    "Bagnasco Queirolo Traverso Pastorino Olivieri Cavallo Gallo Podestà Risso Oliveri Merlo "
    "Calvino Montale Sbarbaro Caproni Pavese Eco Ginzburg Morante Levi Sciascia Tabucchi Baricco "
    "Camilleri Ammaniti Ferrante Maraini Buzzati Svevo Pirandello Verga Manzoni Leopardi Carducci"
).replace("_", " ").split()
NAMES = (
    "Giuseppe Maria Giovanni Anna Antonio Giuseppina Mario Rosa Luigi Angela Francesco "
    "Giovanna Angelo Teresa Vincenzo Lucia Pietro Carmela Salvatore Caterina Carlo Francesca "
    "Franco Paola Domenico Antonietta Bruno Carla Paolo Elena Michele Concetta Giorgio Rita "
    "Aldo Margherita Sergio Franca Luciano Luisa Marco Laura Alessandro Giulia Andrea Chiara "
    "Luca Sara Matteo Martina Stefano Federica Roberto Valentina Massimo Silvia Fabrizio Elisa "
    "Italo Eugenio Natalia Elsa Primo Leonardo Umberto Dacia Alberto Cesare Grazia Dino Italo"
).split()
FOREIGN = {
    "eng": ("Smith Jones Williams Brown Taylor Davies Wilson Evans Johnson Miller Austen Orwell "
            "Woolf Dickens", "John Mary James Elizabeth William Sarah George Emma"),
    "fra": ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Camus Proust Hugo",
            "Jean Marie Pierre Anne Michel Claire Louis Sophie"),
    "deu": ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Mann Hesse Kafka",
            "Hans Anna Peter Ursula Klaus Monika Thomas Hermann"),
    "spa": ("García Fernández González Rodríguez López Martínez Sánchez Pérez Borges Cervantes",
            "José Carmen Antonio Lucía Manuel Isabel Gabriel Julio"),
}
LANGUAGES = [("ita", 85), ("eng", 7), ("fra", 3), ("deu", 2.5), ("spa", 2.5)]
PUBLISHERS = (
    "Mondadori;Einaudi;Feltrinelli;Rizzoli;Garzanti;Bompiani;Laterza;Il Mulino;Sellerio;Adelphi;"
    "Giunti;Newton Compton;Longanesi;Marsilio;Neri Pozza;Guanda;Piemme;Salani;Fazi;Minimum fax;"
    "E/O;Nottetempo;Iperborea;Carocci;Zanichelli;Hoepli;Utet;Bollati Boringhieri;Donzelli;"
    "Raffaello Cortina;Franco Angeli;Il Saggiatore;Baldini+Castoldi;De Ferrari;Marietti;Erga;"
    "Il Canneto;Sagep;Frilli;Il Melangolo"
).split(";")
SUBJECTS = (
    "Narrativa italiana;Letteratura per ragazzi;Storia;Genova - Storia;Liguria;Gialli;"
    "Fantascienza;Poesia italiana;Arte;Fotografia;Cucina;Viaggi;Filosofia;Psicologia;Economia;"
    "Diritto;Medicina;Scienze naturali;Matematica;Informatica;Musica;Cinema;Teatro;Religione;"
    "Sport;Architettura;Educazione;Sociologia;Politica;Geografia;Mare - Navigazione;Biografie;"
    "Fumetti;Narrativa straniera;Linguistica;Ecologia;Agricoltura;Giardinaggio;Antropologia;"
    "Archeologia"
).split(";")


def cumulative(n, s=1.0, q=0.0):
    """Cumulative Zipf(-Mandelbrot) weights of ranks 1..n."""
    return list(itertools.accumulate(1.0 / (rank + q) ** s for rank in range(1, n + 1)))


class Zipf:
    """Draws items, the first most often (items in rank order)."""

    def __init__(self, items, s=1.0, q=0.0):
        self.items, self.cum = list(items), cumulative(len(items), s, q)

    def draw(self, rng):
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]

    def rank_of_draw(self, rng):
        return bisect.bisect(self.cum, rng.random() * self.cum[-1])


def vocabulary(path, rng):
    """The dictionary's words, in a seeded frequency order: shorter words tend to come first."""
    words = sorted({w.strip() for w in open(path, encoding="utf-8")
                    if w.strip() and "'" not in w and w.strip().isalpha() and w.strip().islower()})
    # A word's rank key: a random number scaled by its length, so common ranks go mostly to
    # short words (as in real frequency lists) yet every length reaches every rank.
    keyed = sorted(words, key=lambda w: rng.random() * (len(w) ** 2))
    return keyed


def typo(word, rng):
    """The word with one typing mistake: a letter dropped, doubled, swapped or replaced."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeiourstnlcm") + word[i + 1:]


def hyphenated(isbn):
    return f"{isbn[:3]}-{isbn[3:5]}-{isbn[5:9]}-{isbn[9:12]}-{isbn[12]}"


def main():
    out, n, libraries, comuni_path = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    dictionary = sys.argv[5] if len(sys.argv) > 5 else DICTIONARY
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261206)
    libs = make_libraries(rng, libraries, comuni_path)
    (out / "libraries.json").write_text(json.dumps(libs))
    words = Zipf(vocabulary(dictionary, rng), ZIPF_S, ZIPF_Q)
    surnames, names = Zipf(SURNAMES), Zipf(NAMES)
    foreign = {lang: (Zipf(s.split()), Zipf(g.split())) for lang, (s, g) in FOREIGN.items()}
    publishers, subjects = Zipf(PUBLISHERS), Zipf(SUBJECTS)
    # Larger libraries (the first ones, in Genova's order) hold more copies.
    holders = Zipf(list(range(libraries)), 0.8, 5.0)
    lang_cum = list(itertools.accumulate(w for _, w in LANGUAGES))
    # Records that known-item queries (two or more words, ISBN) look for: a uniform sample.
    known, known_size = [], 20000
    with open(out / "catalogue.mrc", "wb") as f, open(out / "records.tsv", "w", encoding="utf-8") as tsv, \
            open(out / "records_facets.tsv", "w", encoding="utf-8") as facets:
        for r in range(n):
            content = [words.draw(rng) for _ in range(rng.choices(range(1, 8), (10, 22, 24, 18, 12, 8, 6))[0])]
            parts = []
            for i, w in enumerate(content):
                if i > 0 and rng.random() < 0.3:
                    parts.append(rng.choice(JOINERS))
                parts.append(w)
            title = " ".join(parts)
            if rng.random() < 0.3:
                article = rng.choice(ARTICLES)
                title = article + title if article.endswith("'") else f"{article} {title}"
            title = title[0].upper() + title[1:]
            lang = LANGUAGES[bisect.bisect(lang_cum, rng.random() * lang_cum[-1])][0]
            sn, gn = foreign[lang] if lang in foreign and rng.random() < 0.8 else (surnames, names)
            surname, name = sn.draw(rng), gn.draw(rng)
            year = max(1900, 2025 - int(rng.expovariate(1 / 15)))
            publisher, subject = publishers.draw(rng), subjects.draw(rng)
            isbn = isbn13(r)
            fields = [
                ("001", f"REAL{r:08d}".encode() + b"\x1e"),
                field("010", "  ", [("a", isbn)]),
                field("100", "  ", [("a", f"20260101d{year}    ||||0itac50      ba")]),
                field("101", "| ", [("a", lang)]),
                field("200", "1 ", [("a", title), ("f", f"{name} {surname}")]),
                field("210", "  ", [("a", "Genova"), ("c", publisher), ("d", str(year))]),
                field("606", "  ", [("a", subject)]),
                field("700", " 1", [("a", surname), ("b", f", {name}"), ("4", "070")]),
            ]
            held, on_shelf = [], []
            for c in range(rng.choices(range(1, 6), (40, 25, 15, 12, 8))[0]):
                lib = libs[holders.draw(rng)]
                lent = rng.random() < LOAN_SHARE
                fields.append(field("949", "  ", [
                    ("m", lib["code"]), ("a", f"{subject[:3].upper()} {r % 900 + 100}"),
                    ("i", f"{r * 5 + c:09d}"), ("k", "In prestito" if lent else "Disponibile")]))
                held.append(lib)
                if not lent:
                    on_shelf.append(lib)
            f.write(record(fields))
            rid = f"REAL{r:08d}"
            tsv.write(f"{rid}\t{title}\t{surname}, {name}\t{subject}\t{publisher}\t{isbn}\n")
            ids = lambda ls: ",".join(sorted({lib["id"] for lib in ls}))
            munis = ",".join(sorted({lib["municipality"] for lib in held}))
            facets.write(f"{rid}\t{year}\t{lang}\t{munis}\t{ids(held)}\t{ids(on_shelf)}\n")
            entry = (content, surname, isbn)
            if len(known) < known_size:
                known.append(entry)
            elif (j := rng.randrange(r + 1)) < known_size:
                known[j] = entry
    write_queries(out / "queries", rng, words, known, libs)


def write_queries(qdir, rng, words, known, libs):
    qdir.mkdir(exist_ok=True)
    munis = sorted({lib["municipality"] for lib in libs})

    def near():
        lib = rng.choice(libs)
        return f"{lib['lat'] + rng.uniform(-0.03, 0.03):.4f},{lib['lon'] + rng.uniform(-0.03, 0.03):.4f}"

    def path(q, **extra):
        # The app sends the person's position with every search when it may (it names the
        # nearest library with a copy on the shelf); the mix does too.
        params = {"q": q, "near": extra.pop("near", None) or near(), **extra, "limit": "20"}
        return "/v1/catalog/search?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe=",")

    def common_word():
        return words.items[words.rank_of_draw(rng) % 50]

    def one_word():
        return words.draw(rng)

    def two_words():
        content, surname, _ = rng.choice(known)
        roll = rng.random()
        if roll < 0.5 and len(content) >= 2:
            pair = rng.sample(content, 2)
        elif roll < 0.8:
            pair = [surname.split()[-1], rng.choice(content)]
        else:
            pair = [words.draw(rng), words.draw(rng)]
        if rng.random() < 0.25:
            long = [i for i, w in enumerate(pair) if len(w) >= 5]
            if long:
                i = rng.choice(long)
                pair[i] = typo(pair[i], rng)
        return " ".join(pair)

    def three_words():
        content, surname, _ = rng.choice(known)
        picked = list(content[:rng.randint(3, 5)])
        if len(picked) < 3 or rng.random() < 0.2:
            picked.append(surname.split()[-1])
        return " ".join(picked)

    def prefix():
        while True:
            w = words.draw(rng)
            if len(w) >= 6:
                return w[:4]

    def isbn():
        number = rng.choice(known)[2]
        return hyphenated(number) if rng.random() < 0.25 else number

    def filtered(kind):
        w = one_word()
        if kind == "available":
            return path(w, available="true")
        if kind == "distance_radius":
            return path(w, sort="distance", radius_km=str(rng.choice([2, 5, 10, 20])))
        if kind == "municipality":
            return path(w, municipality=rng.choice(munis))
        if kind == "years":
            start = rng.randint(1960, 2020)
            return path(w, year_from=str(start), year_to=str(min(2025, start + rng.choice([0, 5, 10, 20]))))
        if kind == "language":
            return path(w, language=rng.choice(["eng", "fra", "deu", "spa", "ita"]))
        return path(w, sort="year")

    makers = {
        "one_word": lambda: path(one_word()),
        "two_words": lambda: path(two_words()),
        "three_words": lambda: path(three_words()),
        "prefix": lambda: path(prefix()),
        "isbn": lambda: path(isbn()),
        "headline": lambda: path(common_word(), available="true", sort="distance"),
    }
    for f in FILTERS:
        makers[f"filter_{f}"] = lambda f=f: filtered(f)
    lists = {kind: [make() for _ in range(QUERIES_PER_KIND)] for kind, make in makers.items()}
    # The filter kind as the table has it: the six in equal parts.
    lists["filter"] = [lists[f"filter_{FILTERS[i % len(FILTERS)]}"][i // len(FILTERS)] for i in range(QUERIES_PER_KIND)]
    kinds, weights = list(MIX), list(MIX.values())
    cursor = dict.fromkeys(kinds, 0)
    mix = []
    for kind in rng.choices(kinds, weights, k=MIX_QUERIES):
        mix.append(lists[kind][cursor[kind] % QUERIES_PER_KIND])
        cursor[kind] += 1
    lists["mix"] = mix
    for kind, paths in lists.items():
        (qdir / f"{kind}.paths").write_text("\n".join(paths) + "\n")


if __name__ == "__main__":
    main()
