"""Reads an event's JSON-LD with PyLD and its iCalendar forms with the `icalendar` parser, and
prints what they found as JSON, for server/tests/events.rs to compare with the JSON API.

Input (stdin, JSON): {"jsonld": {...}, "ics": "...", "feed": "...", "after": "RFC 3339",
"count": N}. Recurrences are expanded here with dateutil's rrule from the parsed DTSTART, RRULE,
RDATE and EXDATE: an expansion independent of the server's.
"""

import json
import sys
from datetime import datetime, timedelta, timezone

import icalendar
from dateutil.rrule import rrulestr
from pyld import jsonld

SCHEMA = "https://schema.org/"


def loader(url, options=None):
    # No network in tests: schema.org's context is its vocabulary (the real context adds
    # type coercions that do not change the properties read here).
    if url.rstrip("/") in ("https://schema.org", "http://schema.org"):
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": {"@context": {"@vocab": SCHEMA}},
        }
    raise ValueError(f"unexpected remote document {url}")


def values(node, prop):
    return node.get(SCHEMA + prop, [])


def value(node, prop):
    found = values(node, prop)
    if not found:
        return None
    item = found[0]
    return item.get("@value", item.get("@id", item))


def read_jsonld(doc):
    expanded = jsonld.expand(doc, {"documentLoader": loader})
    assert len(expanded) == 1, expanded
    node = expanded[0]
    location = values(node, "location")[0]
    geo = values(location, "geo")[0]
    address = values(location, "address")[0]
    offer = values(node, "offers")[0]
    return {
        "id": node.get("@id"),
        "types": node.get("@type"),
        "name": value(node, "name"),
        "startDate": value(node, "startDate"),
        "endDate": value(node, "endDate"),
        "eventStatus": value(node, "eventStatus"),
        "previousStartDate": value(node, "previousStartDate"),
        "inLanguage": value(node, "inLanguage"),
        "isAccessibleForFree": value(node, "isAccessibleForFree"),
        "location_types": location.get("@type"),
        "location_name": value(location, "name"),
        "street": value(address, "streetAddress"),
        "geo": [value(geo, "latitude"), value(geo, "longitude")],
        "offer_types": offer.get("@type"),
        "price": value(offer, "price"),
        "currency": value(offer, "priceCurrency"),
    }


def dts(prop):
    if prop is None:
        return []
    props = prop if isinstance(prop, list) else [prop]
    return [d.dt for p in props for d in p.dts]


def utc(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_vevent(event, after, count):
    start = event.decoded("DTSTART")
    starts = set(dts(event.get("RDATE"))) | {start}
    if event.get("RRULE") is not None:
        rule = event.get("RRULE").to_ical().decode()
        # The server materialises 400 days ahead; unbounded rules stop there too.
        horizon = after + timedelta(days=400)
        for i, occurrence in enumerate(rrulestr(rule, dtstart=start)):
            if occurrence > horizon or i > 5000:
                break
            starts.add(occurrence)
    starts -= set(dts(event.get("EXDATE")))
    upcoming = sorted(s for s in starts if s >= after)[:count]
    geo = event.get("GEO")
    return {
        "uid": str(event.get("UID")),
        "summary": str(event.get("SUMMARY")),
        "language": event.get("SUMMARY").params.get("LANGUAGE"),
        "tzid": event.get("DTSTART").params.get("TZID"),
        "duration_minutes": int(event.decoded("DURATION").total_seconds() // 60),
        "status": str(event.get("STATUS")),
        "geo": [geo.latitude, geo.longitude],
        "upcoming": [utc(s) for s in upcoming],
    }


def main():
    data = json.load(sys.stdin)
    after = datetime.fromisoformat(data["after"].replace("Z", "+00:00"))
    single = icalendar.Calendar.from_ical(data["ics"])
    feed = icalendar.Calendar.from_ical(data["feed"])
    out = {
        "jsonld": read_jsonld(data["jsonld"]),
        "vevents": [read_vevent(e, after, data["count"]) for e in single.walk("VEVENT")],
        "timezones": [str(tz.get("TZID")) for tz in single.walk("VTIMEZONE")],
        "feed_uids": sorted(str(e.get("UID")) for e in feed.walk("VEVENT")),
        "feed_name": str(feed.get("X-WR-CALNAME")),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
