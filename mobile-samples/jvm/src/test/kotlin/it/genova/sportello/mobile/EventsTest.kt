package it.genova.sportello.mobile

import it.genova.sportello.core.*
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test

private val ROME: ZoneId = ZoneId.of("Europe/Rome")

/**
 * Cultural events through the generated Kotlin, against the live demo server the runner started
 * (`--demo`: real Genoa-area venues, invented events dated on the coming days). Searching and
 * reading events needs no account; following does (a dev-login citizen of its own).
 *
 * The demo's dated events fall on the *coming* weekend, which on a Sunday is not "this weekend"
 * (core's window is then the rest of Sunday): so the tourist test has an events officer of
 * Genova publish a free event inside this weekend's window first (plain HTTP: the app has no
 * officer calls), and checks every hit the demo adds besides.
 */
class EventsTest {
    private val clients = mutableListOf<SportelloClient>()

    @AfterEach
    fun closeClients() {
        clients.forEach { it.close() }
    }

    private fun client(language: String? = null): SportelloClient =
        SportelloClient(baseUrl(), language).also { clients += it }

    /** The instants a window's `from` and `to` stand for (dates are whole days in Rome). */
    private fun bounds(window: EventWindow): Pair<Instant, Instant> {
        val from = if (window.from.length == 10) {
            LocalDate.parse(window.from).atStartOfDay(ROME).toInstant()
        } else {
            Instant.parse(window.from)
        }
        return from to LocalDate.parse(window.to).plusDays(1).atStartOfDay(ROME).toInstant()
    }

    /**
     * A free event at Palazzo Ducale starting inside [window] (Saturday 18:00, or in ten minutes
     * once the weekend has begun), published by an events officer of Genova; returns its id and
     * English title. Skips the test in the last minutes of a Sunday, when no start fits.
     */
    private fun freeEventIn(window: EventWindow): Pair<String, String> {
        val (from, to) = bounds(window)
        val start = if (window.from.length == 10) {
            LocalDate.parse(window.from).atTime(18, 0).atZone(ROME)
        } else {
            ZonedDateTime.now(ROME).plusMinutes(10).withSecond(0).withNano(0)
        }
        assumeTrue(start.toInstant().isBefore(to) && !start.toInstant().isBefore(from), "no start fits in $window")
        val tag = UUID.randomUUID().toString().take(8)
        val login = postToServer(
            "/v1/auth/dev-login",
            """{"fiscal_code":"${randomFiscalCode()}","roles":["operator:010025:events"]}""",
            "content-type", "application/json",
        )
        val token = jsonField(login, "access_token")
        val wallClock = start.format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm"))
        val title = "Free organ concert $tag"
        val created = postToServer(
            "/v1/municipalities/$GENOVA_ISTAT/events",
            """{"texts":{"it":{"title":"Concerto d'organo gratuito $tag","description":"Evento di prova."},
               "en":{"title":"$title","description":"A test event."}},
               "category":"concert","venue":"ge-palazzo-ducale","dates":["$wallClock"],"duration_minutes":60,
               "accessibility":["wheelchair"]}""",
            "content-type", "application/json", "authorization", "Bearer $token",
        )
        return jsonField(created, "id") to title
    }

    /** The demo's exhibition at Palazzo Ducale, on every day but Monday from the server's start. */
    private suspend fun ducaleExhibition(client: SportelloClient): EventHit =
        client.searchEvents(EventQuery(q = "Seicento")).items.single()

    @Test
    fun `a tourist finds this weekend's free events near a point in Genova, in English, nearest first`() = runBlocking<Unit> {
        val window = eventWindow(EventPeriod.THIS_WEEKEND, Instant.now())
        val (from, to) = bounds(window)
        val (id, title) = freeEventIn(window)
        // An English-speaking tourist, no account: the client's language is the answers'.
        val tourist = client("en")
        val query = EventQuery(from = window.from, to = window.to, free = true, limit = 50u)
        val page = tourist.searchEvents(query.copy(near = DE_FERRARI, radiusKm = 25.0))
        val mine = page.items.single { it.id == id }
        assertEquals(title, mine.title)
        assertEquals("en", mine.lang)
        assertEquals("Palazzo Ducale", mine.venue.name)
        assertEquals(EventStatus.SCHEDULED, mine.status)
        assertTrue(mine.accessible && mine.distanceKm!! < 0.1, "$mine")
        for (hit in page.items) {
            assertTrue(hit.free && hit.priceCents == null, "not free: $hit")
            assertEquals("en", hit.lang, "every demo event has an English title: $hit")
            assertTrue(!hit.startsAt.isBefore(from) && hit.startsAt.isBefore(to), "outside $window: $hit")
            assertTrue(hit.distanceKm!! <= 25.0, "$hit")
        }
        val km = page.items.map { it.distanceKm!! }
        assertEquals(km.sorted(), km, "nearest first")
        assertNull(page.nextCursor)

        // The same search without the position, ranked on the phone, gives the same order.
        val unranked = tourist.searchEvents(query)
        assertTrue(unranked.items.all { it.distanceKm == null })
        val ranked = rankEventsByDistance(unranked.items, DE_FERRARI).filter { it.distanceKm!! <= 25.0 }
        assertEquals(page.items.map { it.id }, ranked.map { it.id })
        for ((device, server) in ranked.zip(page.items)) {
            assertEquals(server.distanceKm!!, device.distanceKm!!, 0.01)
        }
        val onDevice = tourist.searchEventsNearestOnDevice(query, DE_FERRARI)
        assertEquals(ranked.map { it.id }, onDevice.items.filter { it.distanceKm!! <= 25.0 }.map { it.id })
        // The nearest of a ranking cut at one is the first of the whole ranking (not always this
        // test's event: the window may hold a nearer one, as next weekend's does on a Monday).
        val nearest = rankEventsByDistance(unranked.items, DE_FERRARI, 1u).single()
        assertEquals(ranked.first().id, nearest.id, "the nearest")
    }

    @Test
    fun `one event in the client's language, or in another asked for, and NotFound for an unknown id`() = runBlocking<Unit> {
        val tourist = client("en")
        val hit = ducaleExhibition(tourist)
        val event = tourist.event(hit.id)
        assertEquals("Genoa and the sea in the 17th century", event.title)
        assertEquals("en", event.lang)
        assertEquals(setOf("it", "en", "fr"), event.texts.keys)
        assertEquals("Genova e il mare nel Seicento", event.texts["it"]!!.title)
        assertEquals("Palazzo Ducale", event.venue.name)
        assertEquals("ge-palazzo-ducale", event.venue.id)
        assertEquals(44.40733, event.venue.location.lat, 1e-6)
        assertFalse(event.free)
        assertEquals(1200L, event.priceCents)
        assertEquals(EventStatus.SCHEDULED, event.status)
        assertTrue(event.rrule!!.startsWith("FREQ=WEEKLY"), "${event.rrule}")
        assertTrue(event.demo)
        val next = requireNotNull(event.nextOccurrence) { "a next occurrence: $event" }
        assertTrue(next.endsAt.isAfter(next.startsAt) && event.upcoming.first() == next, "$event")
        assertTrue(event.updatedAt.isBefore(Instant.now().plusSeconds(60)))

        assertEquals("Gênes et la mer au XVIIe siècle", tourist.event(hit.id, "fr").title)
        val german = tourist.event(hit.id, "de")
        assertEquals("it" to "Genova e il mare nel Seicento", german.lang to german.title, "no German text: Italian")
        assertEquals("it", client().event(hit.id).lang, "no language at all: Italian")

        // Cancelled for a sea storm, on the coming Friday (perhaps earlier today: the window
        // starts yesterday): the status is an enum the app can show.
        val yesterday = LocalDate.now(ROME).minusDays(1).toString()
        val cancelled = tourist.searchEvents(EventQuery(municipality = "010046", q = "castle", from = yesterday))
            .items.single()
        assertEquals(EventStatus.CANCELLED, cancelled.status)

        val missing = assertFailsWith<SportelloException.NotFound> { tourist.event("no-such-event") }
        assertEquals("event-not-found", missing.code)
    }

    @Test
    fun `a citizen follows an event, sees it in my events, and unfollows it`() = runBlocking<Unit> {
        val citizen = client()
        citizen.devLogin(randomFiscalCode(), emptyList())
        val id = ducaleExhibition(citizen).id
        assertEquals(emptyList<Event>(), citizen.myEvents())
        citizen.followEvent(id)
        citizen.followEvent(id) // again: nothing changes
        val mine = citizen.myEvents("en")
        assertEquals(listOf(id), mine.map { it.id })
        assertEquals("Genoa and the sea in the 17th century", mine.single().title)
        assertEquals("Genova e il mare nel Seicento", citizen.myEvents().single().title)
        citizen.unfollowEvent(id)
        assertEquals(emptyList<Event>(), citizen.myEvents())
        assertEquals("event-not-found", assertFailsWith<SportelloException.NotFound> { citizen.unfollowEvent(id) }.code)
        assertFailsWith<SportelloException.NotFound> { citizen.followEvent("no-such-event") }
        // A tourist without an account finds events but cannot follow them.
        assertFailsWith<SportelloException.Unauthorized> { client().followEvent(id) }
    }

    @Test
    fun `bad parameters are Validation errors naming the parameter`() = runBlocking<Unit> {
        val tourist = client()
        suspend fun fieldOf(query: EventQuery): List<String> =
            assertFailsWith<SportelloException.Validation> { tourist.searchEvents(query) }.errors.map { it.field }

        assertEquals(listOf("near"), fieldOf(EventQuery(near = Coordinates(lat = 95.0, lon = 8.9))))
        assertEquals(listOf("near"), fieldOf(EventQuery(near = Coordinates(lat = Double.NaN, lon = 8.9))))
        for (radius in listOf(0.0, 500.0)) {
            assertEquals(listOf("radius_km"), fieldOf(EventQuery(near = DE_FERRARI, radiusKm = radius)), "$radius")
        }
        assertEquals(listOf("radius_km"), fieldOf(EventQuery(radiusKm = 5.0)), "a radius needs near")
        assertEquals(listOf("from"), fieldOf(EventQuery(from = "next saturday")))
        assertEquals(listOf("to"), fieldOf(EventQuery(from = "2026-12-13", to = "2026-12-12")))
        assertEquals(listOf("category"), fieldOf(EventQuery(category = "opera")))
        assertEquals(listOf("q"), fieldOf(EventQuery(q = "x".repeat(101))))
        for (limit in listOf(0u, 51u)) {
            assertEquals(listOf("limit"), fieldOf(EventQuery(limit = limit)), "$limit")
        }
        assertEquals(listOf("cursor"), fieldOf(EventQuery(cursor = "not-a-cursor")))

        // Refused on the device, before any request.
        val municipality = assertFailsWith<SportelloException.InvalidInput> {
            tourist.searchEvents(EventQuery(municipality = "Genova"))
        }
        assertEquals("istat_code", municipality.field)
        val sent = assertFailsWith<SportelloException.InvalidInput> {
            tourist.searchEventsNearestOnDevice(EventQuery(near = DE_FERRARI), DE_FERRARI)
        }
        assertEquals("near", sent.field)
        val origin = assertFailsWith<SportelloException.InvalidInput> {
            rankEventsByDistance(emptyList(), Coordinates(lat = 44.4, lon = 181.0))
        }
        assertEquals("coordinates", origin.field)
    }

    @Test
    fun `named windows are seen from Rome`() {
        // Wednesday 9 December 2026, 10:00 UTC: this weekend is the 12th and 13th.
        val wednesday = Instant.parse("2026-12-09T10:00:00Z")
        assertEquals(EventWindow(from = "2026-12-12", to = "2026-12-13"), eventWindow(EventPeriod.THIS_WEEKEND, wednesday))
        // Sunday 13 December, 22:30 in Rome: the rest of the day, not the next weekend.
        val sunday = Instant.parse("2026-12-13T21:30:00Z")
        assertEquals(EventWindow(from = "2026-12-13T21:30:00Z", to = "2026-12-13"), eventWindow(EventPeriod.THIS_WEEKEND, sunday))
        // 23:30 UTC on Friday is already Saturday in Rome.
        assertEquals("2026-12-12", eventWindow(EventPeriod.TODAY, Instant.parse("2026-12-11T23:30:00Z")).to)
    }
}
