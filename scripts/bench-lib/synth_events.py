"""Bulk-loads N synthetic events, shaped like the municipalities' calendars, into a migrated
Sportello SQLite database, with their occurrences materialised as the server does (rows of
`event_occurrences` from now to a year ahead, grid cell and unit vector of the place), and writes a file of
search URLs (near a venue, a one- to three-day window, some with filters) for the load.

Places: the 67 municipalities' reference points and the demo venues and libraries, each spread
into several venues within a few hundred metres; events per municipality follow population
(Genova about half). Schedules: most events one date, some several dates, some weekly for
weeks or months, some exhibitions daily for weeks (RRULE with COUNT). Titles are drawn from
several hundred words in templates per category, so they do not repeat a tiny vocabulary.

Usage: synth_events.py DB_FILE N URLS_OUT BASE_URL [URLS]
"""
import json
import math
import random
import re
import sqlite3
import sys
import time
import unicodedata
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
DAY_MS = 86_400_000

COMPOSERS = "Vivaldi Paganini Verdi Puccini Rossini Bach Mozart Beethoven Chopin Schubert Brahms Debussy Ravel Satie Monteverdi Scarlatti Corelli Boccherini Mascagni Respighi Morricone Gershwin Piazzolla Liszt Haendel".split()
ENSEMBLES = ["Quartetto d'archi", "Orchestra giovanile", "Coro polifonico", "Trio jazz", "Banda municipale", "Ensemble barocco", "Duo di chitarre", "Big band", "Coro di voci bianche", "Quintetto di fiati"]
AUTHORS = "Montale Calvino Sbarbaro Caproni Pavese Levi Morante Ginzburg Buzzati Sciascia Eco Merini Pasolini Deledda Svevo Pirandello Gadda Fenoglio Tabucchi Camilleri Ferrante Baricco Maraini Rodari".split()
THEMES = ["il mare", "la Lanterna", "i caruggi", "la Riviera", "le ville genovesi", "il porto antico", "la via del sale", "i forti di Genova", "l'entroterra", "il Beigua", "le cinque terre", "la Superba", "il Seicento", "i Rolli", "la pesca", "le navi", "gli emigranti", "la Resistenza", "il Risorgimento", "la cucina ligure", "l'ulivo", "il pesto", "la focaccia", "i presepi", "il carnevale", "la montagna", "gli uccelli migratori", "le stelle", "la luna", "i fiori"]
ARTISTS = ["Strozzi", "Cambiaso", "Van Dyck", "Rubens", "Magnasco", "Piola", "De Ferrari", "Castello", "Fiasella", "Assereto", "Grechetto", "Carlone", "Nomellini", "Rambaldi", "Sacchi"]
FORMS = {
    "concert": ["Concerto: {c}", "{e} suona {c}", "Serata {c}", "Note di {t}", "{e} in concerto", "Musiche di {c} e {c2}", "Concerto d'organo: {c}"],
    "theatre": ["{a}: lettura scenica", "Commedia dialettale: {t}", "Teatro ragazzi: {t}", "Monologo su {a}", "Prima nazionale: {t}", "Il teatro di {a}"],
    "exhibition": ["Mostra: {r} e {t}", "{r}: opere scelte", "Fotografie: {t}", "Mappe e vedute: {t}", "Collezione {r}", "Mostra documentaria: {t}"],
    "book-presentation": ["Presentazione: \"{t}\" di {a}", "{a} racconta {t}", "Nuovo libro su {t}", "Incontro con l'autore: {a}"],
    "reading": ["Letture ad alta voce: {a}", "Ora del racconto: {t}", "Poesie di {a}", "Gruppo di lettura: {a}"],
    "guided-tour": ["Visita guidata: {t}", "Passeggiata tra {t}", "Alla scoperta di {t}", "Itinerario: {t}", "Visita alla collezione {r}"],
    "workshop": ["Laboratorio: {t}", "Corso di fotografia: {t}", "Laboratorio di pittura alla maniera di {r}", "Laboratorio di scrittura con {a}"],
    "kids": ["Per bambini: {t}", "Caccia al tesoro: {t}", "Burattini: {t}", "Laboratorio per famiglie: {t}"],
    "film": ["Cineforum: {t}", "Rassegna: {t}", "Documentario su {t}", "Film muto con musica dal vivo di {c}"],
    "conference": ["Conferenza: {t}", "Dialoghi su {t}", "Tavola rotonda: {t}", "Lezione su {r}"],
    "festival": ["Festa di {t}", "Sagra: {t}", "Festival di {t}", "Notte bianca: {t}"],
    "fair": ["Mercatino: {t}", "Fiera del libro: {t}", "Mercato dell'antiquariato"],
    "dance": ["Balli tradizionali: {t}", "Danza contemporanea: {t}", "Tango in piazza"],
    "sport": ["Corsa non competitiva: {t}", "Regata: {t}", "Camminata: {t}"],
}
CATEGORY_WEIGHTS = {"concert": 16, "theatre": 10, "exhibition": 9, "book-presentation": 10, "reading": 8, "guided-tour": 10, "workshop": 8, "kids": 9, "film": 6, "conference": 7, "festival": 3, "fair": 2, "dance": 1, "sport": 1}
FEATURES = ["wheelchair", "accessible-toilet", "hearing-loop", "sign-language", "audio-description", "tactile", "easy-read", "relaxed"]
PLACES = ["Sala", "Auditorium", "Biblioteca", "Chiostro", "Oratorio", "Teatro", "Villa", "Piazza", "Museo", "Palazzo"]


def fold(text):
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def cell(lat, lon):
    return math.floor((lat + 90.0) * 100.0) * 100_000 + math.floor((lon + 180.0) * 100.0)


def unit_vector(lat, lon):
    """As `Coordinates::unit_vector`: the place as a unit vector from the Earth's centre."""
    la, lo = math.radians(lat), math.radians(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def title(rng, category):
    form = rng.choice(FORMS[category])
    c, c2 = rng.sample(COMPOSERS, 2)
    return form.format(c=c, c2=c2, e=rng.choice(ENSEMBLES), a=rng.choice(AUTHORS), t=rng.choice(THEMES), r=rng.choice(ARTISTS))


def venues(rng, municipalities, extra):
    out = []
    for m in municipalities:
        count = max(3, round(math.sqrt(m["population_2011"]) / 12))
        # Larger towns spread wider (Genova about 10 km either way along the coast).
        spread = 0.004 + 0.00005 * math.sqrt(m["population_2011"])
        for i in range(count):
            lat = m["lat"] + rng.uniform(-spread, spread) * 0.6
            lon = m["lon"] + rng.uniform(-spread, spread) * 1.4
            out.append((m["istat_code"], f"{rng.choice(PLACES)} {m['name']} {i + 1}", lat, lon, m["population_2011"] / count))
    for istat, name, lat, lon in extra:
        for i in range(6):
            out.append((istat, f"{name}" if i == 0 else f"{name} - sala {i}", lat + rng.uniform(-0.0008, 0.0008), lon + rng.uniform(-0.0008, 0.0008), 20_000))
    return out


def main():
    db_file, n, urls_out, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    url_count = int(sys.argv[5]) if len(sys.argv) > 5 else 20_000
    rng = random.Random(21)
    municipalities = json.load(open("server/data/comuni/genova_metro_comuni.json"))
    extra = [
        ("010025", "Palazzo Ducale", 44.407330, 8.934000), ("010025", "Teatro Carlo Felice", 44.407680, 8.932520),
        ("010025", "Galata Museo del Mare", 44.414280, 8.923650), ("010025", "Musei di Strada Nuova", 44.410720, 8.933750),
        ("010025", "Biblioteca Civica Berio", 44.404986, 8.937150), ("010007", "Castello della Dragonara", 44.348600, 9.156500),
        ("010015", "Palazzo Rocca", 44.316900, 9.322000), ("010046", "Castello di Rapallo", 44.348500, 9.232000),
        ("010054", "Villa Durazzo", 44.334300, 9.210500), ("010001", "Villa Negrotto Cambiaso", 44.403600, 8.683300),
    ]
    places = venues(rng, municipalities, extra)
    weights = [p[4] for p in places]
    categories = list(CATEGORY_WEIGHTS)
    cweights = [CATEGORY_WEIGHTS[c] for c in categories]
    now_ms = int(time.time() * 1000)
    today = datetime.now(ROME).replace(hour=0, minute=0, second=0, microsecond=0)
    db = sqlite3.connect(db_file)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    occurrences_total = 0
    batch_events, batch_occ = [], []

    def flush():
        db.executemany("INSERT INTO events (id, municipality, uid, data, venue, search_text, status, previous_start, horizon, demo, created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch_events)
        db.executemany("INSERT INTO event_occurrences (event_id, starts_at, ends_at, cell, lat, lon, x, y, z, municipality, category, free, accessible) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch_occ)
        db.commit()
        batch_events.clear()
        batch_occ.clear()

    for i in range(n):
        istat, place, lat, lon, _ = rng.choices(places, weights)[0]
        category = rng.choices(categories, cweights)[0]
        start_day = today + timedelta(days=rng.randrange(0, 330))
        hour = rng.choice([10, 11, 15, 16, 17, 18, 18, 20, 21, 21])
        minute = rng.choice([0, 0, 0, 30])
        first = start_day.replace(hour=hour, minute=minute)
        duration = rng.choice([60, 75, 90, 90, 120, 150])
        kind = rng.random()
        rule = None
        if category == "exhibition" and kind < 0.5:
            count = rng.randrange(20, 90)
            rule = f"FREQ=DAILY;COUNT={count}"
            starts = [first + timedelta(days=d) for d in range(count)]
            duration = 480
            dates = [first]
        elif kind < 0.15:
            count = rng.randrange(4, 27)
            rule = f"FREQ=WEEKLY;COUNT={count}"
            starts = [first + timedelta(weeks=w) for w in range(count)]
            dates = [first]
        elif kind < 0.30:
            dates = sorted({first + timedelta(days=rng.randrange(0, 20)) for _ in range(rng.randrange(2, 6))} | {first})
            starts = dates
        else:
            dates = [first]
            starts = dates
        free = rng.random() < 0.55
        price = None if free else rng.choice([300, 500, 800, 1000, 1200, 1500, 2000, 2500, 3500])
        features = rng.sample(FEATURES, rng.choice([0, 0, 1, 1, 2, 3]))
        event_title = title(rng, category)
        event_id = str(uuid.UUID(int=(21 << 96) + i))
        data = {
            "texts": {"it": {"title": event_title, "description": f"{event_title}. Evento di prova del benchmark."}},
            "category": category, "venue": None,
            "place": {"name": place, "address": f"{place}, {istat}", "lat": lat, "lon": lon},
            "dates": [d.strftime("%Y-%m-%dT%H:%M") for d in dates], "duration_minutes": duration,
            "rrule": rule, "exdates": [], "price_cents": price, "ticket_url": None,
            "accessibility": features, "image_url": None, "status": "scheduled",
        }
        venue = {"id": None, "kind": "address", "municipality": istat, "name": place, "address": f"{place}, {istat}",
                 "lat": lat, "lon": lon, "accessibility": [], "opening_hours": None, "demo": False}
        batch_events.append((event_id, istat, f"{event_id}@bench", json.dumps(data), json.dumps(venue),
                             f" {fold(event_title + ' ' + place)} ", "scheduled", None, now_ms + 400 * DAY_MS, 0, "bench", now_ms, now_ms))
        for s in starts:
            ms = int(s.timestamp() * 1000)
            batch_occ.append((event_id, ms, ms + duration * 60_000, cell(lat, lon), lat, lon, *unit_vector(lat, lon), istat, category, int(free), int(bool(features))))
        occurrences_total += len(starts)
        if len(batch_events) >= 10_000:
            flush()
    flush()
    db.execute("ANALYZE")
    db.commit()

    # Searches as a tourist makes them: near a venue (mostly Genova), a one- to three-day window
    # in the coming weeks, sometimes free or a category.
    with open(urls_out, "w") as out:
        for _ in range(url_count):
            _, _, lat, lon, _ = rng.choices(places, weights)[0]
            day = today + timedelta(days=rng.randrange(0, 60))
            end = day + timedelta(days=rng.choice([1, 1, 2, 3]))
            url = f"{base}/v1/events?near={lat + rng.uniform(-0.01, 0.01):.5f},{lon + rng.uniform(-0.01, 0.01):.5f}&radius_km={rng.choice([2, 5, 5, 10, 10, 20])}&from={day:%Y-%m-%d}&to={end:%Y-%m-%d}"
            extra_filter = rng.random()
            if extra_filter < 0.2:
                url += "&free=true"
            elif extra_filter < 0.3:
                url += f"&category={rng.choice(categories)}"
            elif extra_filter < 0.35:
                url += "&lang=en"
            out.write(url + "\n")
    print(json.dumps({"events": n, "occurrences": occurrences_total}))


if __name__ == "__main__":
    main()
