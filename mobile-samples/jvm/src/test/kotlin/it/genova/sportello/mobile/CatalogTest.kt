package it.genova.sportello.mobile

import it.genova.sportello.core.*
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Piazza De Ferrari, Genova: the person's position in these tests. */
val DE_FERRARI = Coordinates(lat = 44.4072, lon = 8.9340)

/**
 * The library catalogue through the generated Kotlin, against the live demo server the runner
 * started (`--demo`): its catalogue holds five real BNCF editions with copies in the Biblioteca
 * Universitaria (Via Balbi, ~1.4 km from De Ferrari) and the Biblioteca Lercari (~1.8 km). No
 * login: the catalogue is public.
 */
class CatalogTest {
    private val client = SportelloClient(baseUrl())

    @AfterEach
    fun close() = client.close()

    private suspend fun stateInnovator(): SearchHit =
        client.searchCatalog(CatalogQuery(q = "stato innovatore")).items.first()

    @Test
    fun `a title of the demo catalogue is found with its availability summary and facets`() = runBlocking<Unit> {
        val page = client.searchCatalog(CatalogQuery(q = "stato innovatore"))
        val hit = page.items.first()
        assertEquals("Lo Stato innovatore", hit.record.title)
        assertTrue(hit.record.authors.any { it.name.contains("Mazzucato") }, "${hit.record.authors}")
        assertEquals(MaterialFormat.BOOK, hit.record.format)
        assertTrue("9788858111703" in hit.record.isbns, "${hit.record.isbns}")
        assertEquals(2u, hit.availability.libraries, "one edition merged across two libraries")
        assertTrue(hit.availability.copiesOnShelf >= 2u, "${hit.availability}")
        assertNull(hit.availability.nearest, "no position was sent")
        val libraries = page.facets.library.map { it.value }.toSet()
        assertTrue(libraries.containsAll(listOf("ge-universitaria", "ge-lercari")), "$libraries")
        assertEquals(hit, client.searchCatalog(CatalogQuery(q = "9788858111703")).items.first())
        assertEquals(hit.record, client.catalogRecord(hit.record.id))
    }

    @Test
    fun `accents and case do not matter`() = runBlocking<Unit> {
        // The author is Vladimiro Giacché.
        val plain = client.searchCatalog(CatalogQuery(q = "giacche"))
        assertEquals("L'annessione", plain.items.first().record.title)
        val accented = client.searchCatalog(CatalogQuery(q = "GIACCHÉ"))
        assertEquals(plain.items.map { it.record.id }, accented.items.map { it.record.id })
        assertEquals(0uL, client.searchCatalog(CatalogQuery(q = "zzyzx qwerty")).total)
    }

    @Test
    fun `filters, facets and cursor pagination`() = runBlocking<Unit> {
        val all = client.searchCatalog(CatalogQuery(limit = 2u))
        assertEquals(5uL, all.total)
        val second = client.searchCatalog(CatalogQuery(limit = 2u, cursor = requireNotNull(all.nextCursor) { "a first page of 2 out of 5 has a next page" }))
        assertEquals(2, second.items.size)
        assertTrue(second.items.none { it in all.items }, "pages overlap")
        val inLercari = client.searchCatalog(
            CatalogQuery(library = "ge-lercari", language = "ita", format = MaterialFormat.BOOK),
        )
        assertEquals(5uL, inLercari.total)
        assertEquals(0uL, client.searchCatalog(CatalogQuery(municipality = "010015")).total, "nothing in Chiavari")
        val fromYear = client.searchCatalog(CatalogQuery(yearFrom = 2014, yearTo = 2014, available = true))
        assertTrue(fromYear.items.isNotEmpty() && fromYear.items.all { it.record.year == 2014 })
    }

    @Test
    fun `availability per library, and the nearest library ranked on the device`() = runBlocking<Unit> {
        val hit = stateInnovator()
        // Fetched without a position: the server cannot know where the person is.
        val availability = client.recordAvailability(hit.record.id)
        assertEquals(hit.record, availability.record)
        assertEquals(setOf("ge-lercari", "ge-universitaria"), availability.libraries.map { it.libraryId }.toSet())
        for (library in availability.libraries) {
            assertNull(library.distanceKm)
            assertTrue(library.onShelf + library.referenceOnly > 0u, "$library")
            assertTrue(library.copies.isNotEmpty() && library.copies.all { it.itemId.isNotBlank() })
            assertEquals(
                library.onShelf.toInt(),
                library.copies.count { it.status == CopyStatus.ON_SHELF },
                "${library.copies}",
            )
        }

        val ranked = rankAvailableLibraries(availability, DE_FERRARI)
        assertEquals(listOf("ge-universitaria", "ge-lercari"), ranked.map { it.libraryId })
        val km = ranked.map { requireNotNull(it.distanceKm) { "a distance for $it" } }
        assertTrue(km[0] in 1.2..1.6 && km[1] in 1.6..2.1, "$km")
        assertEquals(listOf("ge-universitaria"), rankAvailableLibraries(availability, DE_FERRARI, 1u).map { it.libraryId })

        // The server, told the position, agrees (it rounds distances).
        val byServer = client.recordAvailability(hit.record.id, DE_FERRARI)
        assertEquals(ranked.map { it.libraryId }, byServer.libraries.map { it.libraryId })
        for ((mine, theirs) in ranked.zip(byServer.libraries)) {
            assertEquals(mine.distanceKm!!, theirs.distanceKm!!, 0.01)
        }

        // Ranking the search's hits on the device: the position never leaves the phone.
        val page = client.searchNearestOnDevice(CatalogQuery(q = "stato innovatore"), DE_FERRARI)
        val nearest = requireNotNull(page.items.first().availability.nearest) { "a nearest copy" }
        assertEquals("ge-universitaria", nearest.libraryId)
        assertEquals(km[0], nearest.distanceKm, 1e-9)
        val serverNearest = client.searchCatalog(CatalogQuery(q = "stato innovatore", near = DE_FERRARI))
            .items.first().availability.nearest!!
        assertEquals(nearest.libraryId, serverNearest.libraryId)
    }

    @Test
    fun `libraries by municipality, ranked on the device`() = runBlocking<Unit> {
        val genova = client.libraries(municipality = "010025")
        assertTrue(genova.size >= 5 && genova.all { it.municipality == "010025" && it.demo }, "$genova")
        val ranked = rankLibrariesByDistance(genova, DE_FERRARI)
        assertEquals("ge-berio", ranked.first().id)
        assertTrue(ranked.first().distanceKm!! < 0.5, "${ranked.first().distanceKm}")
        val byServer = client.libraries(near = DE_FERRARI, limit = 3u)
        assertEquals(ranked.take(3).map { it.id }, byServer.map { it.id })
        val berio = client.library("ge-berio")
        assertEquals("Biblioteca Civica Berio", berio.name)
        assertTrue(berio.openNow || berio.nextOpening != null, "closed, so it says when it opens")
        assertFailsWith<SportelloException.NotFound> { client.library("nowhere") }
    }

    @Test
    fun `bad coordinates and radius are Validation errors naming the parameter`() = runBlocking<Unit> {
        for (bad in listOf(Coordinates(lat = 95.0, lon = 8.9), Coordinates(lat = Double.NaN, lon = 8.9))) {
            val search = assertFailsWith<SportelloException.Validation> {
                client.searchCatalog(CatalogQuery(q = "stato", near = bad))
            }
            assertEquals(listOf("near"), search.errors.map { it.field }, "$bad")
            assertTrue(search.errors.single().message.isNotBlank())
            val libraries = assertFailsWith<SportelloException.Validation> { client.libraries(near = bad) }
            assertEquals(listOf("near"), libraries.errors.map { it.field })
            val id = stateInnovator().record.id
            val availability = assertFailsWith<SportelloException.Validation> { client.recordAvailability(id, bad) }
            assertEquals(listOf("near"), availability.errors.map { it.field })
        }
        for (radius in listOf(0.0, 500.0)) {
            val error = assertFailsWith<SportelloException.Validation> {
                client.searchCatalog(CatalogQuery(q = "stato", near = DE_FERRARI, radiusKm = radius))
            }
            assertEquals(listOf("radius_km"), error.errors.map { it.field }, "radius $radius")
        }
        // With no server to ask, the pure ranking refuses a bad position on the device.
        val availability = client.recordAvailability(stateInnovator().record.id)
        val local = assertFailsWith<SportelloException.InvalidInput> {
            rankAvailableLibraries(availability, Coordinates(lat = 44.4, lon = 181.0))
        }
        assertEquals("coordinates", local.field)
        val unranked = assertFailsWith<SportelloException.InvalidInput> {
            client.searchNearestOnDevice(CatalogQuery(q = "stato", near = DE_FERRARI), DE_FERRARI)
        }
        assertEquals("near", unranked.field)
        assertNotEquals(0, availability.libraries.size)
    }
}
