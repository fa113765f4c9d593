"""Cultural events through the generated Python bindings against the live demo server (the
scenarios of the Kotlin EventsTest): a tourist's search of this weekend's free events near
Piazza De Ferrari in English, nearest first and ranked on the device alike; one event in the
language asked for; following as a citizen; bad parameters naming the field.

Run by scripts/lib/mobile-tests.sh, which starts the server with `--demo` (real Genoa-area
venues, invented events dated on the coming days). The demo's weekend is the *coming* one, which
on a Sunday is not "this weekend": the tourist test first has an events officer publish a free
event inside this weekend's window (plain HTTP: the app has no officer calls).
"""

import datetime
import json
import unittest
import urllib.error
import urllib.request
import uuid
import zoneinfo

from test_bindings import base_url, sc, sm
from test_notifications import random_fiscal_code

ROME = zoneinfo.ZoneInfo("Europe/Rome")
DE_FERRARI = sc.Coordinates(lat=44.4072, lon=8.9340)
GENOVA = "010025"


def http(method, path, body=None, token=None):
    """A plain HTTP call; returns (status, decoded JSON body)."""
    headers = {"accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url() + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def bounds(window):
    """The instants a window's `from` and `to` stand for (dates are whole days in Rome)."""
    if len(window._from) == 10:
        start = datetime.datetime.combine(datetime.date.fromisoformat(window._from), datetime.time(), ROME)
    else:
        start = datetime.datetime.fromisoformat(window._from.replace("Z", "+00:00"))
    end_day = datetime.date.fromisoformat(window.to) + datetime.timedelta(days=1)
    return start, datetime.datetime.combine(end_day, datetime.time(), ROME)


def free_event_in(test, window):
    """A free event at Palazzo Ducale starting inside `window`, published by an events officer of
    Genova; returns (id, English title). Skips in the last minutes of a Sunday."""
    start_bound, end_bound = bounds(window)
    if len(window._from) == 10:
        start = datetime.datetime.combine(datetime.date.fromisoformat(window._from), datetime.time(18), ROME)
    else:
        start = (datetime.datetime.now(ROME) + datetime.timedelta(minutes=10)).replace(second=0, microsecond=0)
    if not start_bound <= start < end_bound:
        test.skipTest(f"no start fits in {window}")
    status, login = http(
        "POST", "/v1/auth/dev-login", {"fiscal_code": random_fiscal_code(), "roles": [f"operator:{GENOVA}:events"]}
    )
    test.assertEqual(status, 200, login)
    tag = uuid.uuid4().hex[:8]
    title = f"Free harp recital {tag}"
    status, event = http(
        "POST",
        f"/v1/municipalities/{GENOVA}/events",
        {
            "texts": {
                "it": {"title": f"Concerto d'arpa gratuito {tag}", "description": "Evento di prova."},
                "en": {"title": title, "description": "A test event."},
            },
            "category": "concert",
            "venue": "ge-palazzo-ducale",
            "dates": [start.strftime("%Y-%m-%dT%H:%M")],
            "duration_minutes": 45,
        },
        login["access_token"],
    )
    test.assertEqual(status, 201, event)
    return event["id"], title


class Events(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.clients = []

    def client(self, language=None):
        client = sm.SportelloClient(base_url(), language)
        self.clients.append(client)
        return client

    async def ducale_exhibition(self, client):
        page = await client.search_events(sc.EventQuery(q="Seicento"))
        self.assertEqual(len(page.items), 1, page)
        return page.items[0]

    async def test_a_tourist_finds_this_weekends_free_events_near_genova_in_english(self):
        window = sm.event_window(sm.EventPeriod.THIS_WEEKEND, datetime.datetime.now(datetime.timezone.utc))
        start, end = bounds(window)
        event_id, title = free_event_in(self, window)
        tourist = self.client("en")
        query = dict(_from=window._from, to=window.to, free=True, limit=50)
        page = await tourist.search_events(sc.EventQuery(near=DE_FERRARI, radius_km=25.0, **query))
        mine = [hit for hit in page.items if hit.id == event_id]
        self.assertEqual(len(mine), 1, page)
        self.assertEqual((mine[0].lang, mine[0].title), ("en", title))
        self.assertEqual(mine[0].venue.name, "Palazzo Ducale")
        for hit in page.items:
            self.assertTrue(hit.free and hit.price_cents is None, hit)
            self.assertEqual(hit.lang, "en", hit)
            self.assertTrue(start <= hit.starts_at < end, hit)
        km = [hit.distance_km for hit in page.items]
        self.assertEqual(km, sorted(km), "nearest first")
        self.assertTrue(km[-1] <= 25.0)

        # Without the position, ranked on the device: the same order and distances.
        unranked = await tourist.search_events(sc.EventQuery(**query))
        self.assertTrue(all(hit.distance_km is None for hit in unranked.items))
        ranked = [h for h in sm.rank_events_by_distance(unranked.items, DE_FERRARI, None) if h.distance_km <= 25.0]
        self.assertEqual([h.id for h in ranked], [h.id for h in page.items])
        for device, server in zip(ranked, page.items):
            self.assertAlmostEqual(device.distance_km, server.distance_km, delta=0.01)

    async def test_one_event_in_the_language_asked_for(self):
        tourist = self.client("en")
        hit = await self.ducale_exhibition(tourist)
        event = await tourist.event(hit.id, None)
        self.assertEqual((event.lang, event.title), ("en", "Genoa and the sea in the 17th century"))
        self.assertEqual(set(event.texts), {"it", "en", "fr"})
        self.assertEqual(event.venue.id, "ge-palazzo-ducale")
        self.assertEqual(event.status, sm.EventStatus.SCHEDULED)
        self.assertEqual((event.free, event.price_cents), (False, 1200))
        self.assertIsNotNone(event.next_occurrence)
        self.assertLess(event.next_occurrence.starts_at, event.next_occurrence.ends_at)
        self.assertEqual((await tourist.event(hit.id, "fr")).title, "Gênes et la mer au XVIIe siècle")
        self.assertEqual((await self.client().event(hit.id, None)).lang, "it")
        with self.assertRaises(sm.SportelloError.NotFound) as caught:
            await tourist.event("no-such-event", None)
        self.assertEqual(caught.exception.code, "event-not-found")

    async def test_a_citizen_follows_an_event_sees_it_and_unfollows_it(self):
        citizen = self.client()
        await citizen.dev_login(random_fiscal_code(), [])
        event_id = (await self.ducale_exhibition(citizen)).id
        self.assertEqual(await citizen.my_events(None), [])
        await citizen.follow_event(event_id)
        await citizen.follow_event(event_id)
        mine = await citizen.my_events("en")
        self.assertEqual([e.id for e in mine], [event_id])
        self.assertEqual(mine[0].title, "Genoa and the sea in the 17th century")
        await citizen.unfollow_event(event_id)
        self.assertEqual(await citizen.my_events(None), [])
        with self.assertRaises(sm.SportelloError.NotFound):
            await citizen.unfollow_event(event_id)
        with self.assertRaises(sm.SportelloError.Unauthorized):
            await self.client().follow_event(event_id)

    async def test_bad_parameters_name_the_field(self):
        tourist = self.client()

        async def field_of(**params):
            with self.assertRaises(sm.SportelloError.Validation) as caught:
                await tourist.search_events(sc.EventQuery(**params))
            return [e.field for e in caught.exception.errors]

        self.assertEqual(await field_of(near=sc.Coordinates(lat=95.0, lon=8.9)), ["near"])
        self.assertEqual(await field_of(near=DE_FERRARI, radius_km=500.0), ["radius_km"])
        self.assertEqual(await field_of(_from="sabato"), ["from"])
        self.assertEqual(await field_of(category="opera"), ["category"])
        self.assertEqual(await field_of(limit=0), ["limit"])
        # A negative limit cannot come from the app (it is unsigned there); on the wire it is
        # refused as the query string is read, naming `limit` too.
        status, problem = http("GET", "/v1/events?limit=-1")
        self.assertEqual(status, 422, problem)
        self.assertEqual([e["field"] for e in problem["errors"]], ["limit"])
        with self.assertRaises(sm.SportelloError.InvalidInput) as caught:
            await tourist.search_events(sc.EventQuery(municipality="Genova"))
        self.assertEqual(caught.exception.field, "istat_code")
        with self.assertRaises(sm.SportelloError.InvalidInput):
            sm.rank_events_by_distance([], sc.Coordinates(lat=0.0, lon=181.0), None)


if __name__ == "__main__":
    unittest.main()
