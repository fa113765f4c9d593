"""The library catalogue through the generated Python bindings against the live demo server (the
scenarios of the Kotlin CatalogTest): search, availability, and nearest-first ranking on the
device from Piazza De Ferrari, so the position is never sent.

Run by scripts/lib/mobile-tests.sh, which starts the server with `--demo`: five real BNCF
editions with copies in the Biblioteca Universitaria (~1.4 km away) and the Lercari (~1.8 km).
"""

import math
import unittest

from test_bindings import base_url, sc, sm

DE_FERRARI = sc.Coordinates(lat=44.4072, lon=8.9340)


class Catalog(unittest.IsolatedAsyncioTestCase):
    def setUp(self):
        self.client = sm.SportelloClient(base_url(), None)

    async def search(self, **filters):
        return await self.client.search_catalog(sc.CatalogQuery(**filters))

    async def test_finds_a_demo_title_with_accents_folded(self):
        page = await self.search(q="stato innovatore")
        hit = page.items[0]
        self.assertEqual(hit.record.title, "Lo Stato innovatore")
        self.assertEqual(hit.record.format, sc.MaterialFormat.BOOK)
        self.assertEqual(hit.availability.libraries, 2)
        self.assertIsNone(hit.availability.nearest)
        self.assertEqual((await self.search(q="giacche")).items[0].record.title, "L'annessione")

    async def test_availability_ranked_on_the_device(self):
        hit = (await self.search(q="stato innovatore")).items[0]
        availability = await self.client.record_availability(hit.record.id, None)
        self.assertTrue(all(lib.distance_km is None for lib in availability.libraries))
        ranked = sm.rank_available_libraries(availability, DE_FERRARI, None)
        self.assertEqual([lib.library_id for lib in ranked], ["ge-universitaria", "ge-lercari"])
        self.assertTrue(1.2 < ranked[0].distance_km < 1.6, ranked[0].distance_km)
        page = await self.client.search_nearest_on_device(sc.CatalogQuery(q="stato innovatore"), DE_FERRARI)
        self.assertEqual(page.items[0].availability.nearest.library_id, "ge-universitaria")

    async def test_bad_coordinates_are_validation_errors(self):
        for bad in (sc.Coordinates(lat=95.0, lon=8.9), sc.Coordinates(lat=math.nan, lon=8.9)):
            with self.assertRaises(sm.SportelloError.Validation) as caught:
                await self.search(q="stato", near=bad)
            self.assertEqual([e.field for e in caught.exception.errors], ["near"])
        with self.assertRaises(sm.SportelloError.Validation) as caught:
            await self.search(q="stato", near=DE_FERRARI, radius_km=500.0)
        self.assertEqual([e.field for e in caught.exception.errors], ["radius_km"])
        with self.assertRaises(sm.SportelloError.InvalidInput):
            sm.rank_libraries_by_distance([], sc.Coordinates(lat=0.0, lon=181.0), None)


if __name__ == "__main__":
    unittest.main()
