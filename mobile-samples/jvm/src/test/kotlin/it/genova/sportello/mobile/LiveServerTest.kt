package it.genova.sportello.mobile

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The API client of the generated Kotlin against the live server the runner started. */
class LiveServerTest {
    private val clients = mutableListOf<SportelloClient>()

    /** A client for the test server; closed after the test (it owns native memory). */
    private fun client(language: String? = null): SportelloClient =
        SportelloClient(baseUrl(), language).also { clients += it }

    @AfterEach
    fun closeClients() {
        clients.forEach { it.close() }
    }

    @Test
    fun `providers say dev login is on`() = runBlocking<Unit> {
        val providers = client().providers()
        assertTrue(providers.devLogin)
        oidcProvider()?.let { id -> assertTrue(providers.items.any { it.id == id }, "$providers") }
    }

    @Test
    fun `lists the 67 municipalities with Genova`() = runBlocking<Unit> {
        val municipalities = client().municipalities()
        assertEquals(67, municipalities.size)
        val genova = municipalities.single { it.istatCode == "010025" }
        assertEquals("Genova", genova.name)
        assertEquals("D969", genova.belfioreCode)
        assertEquals("00856930102", genova.fiscalCode)
        assertEquals("c_d969", genova.ipaCode)
        assertEquals("GE", genova.province)
        assertTrue(genova.population > 500_000u, "population ${genova.population}")
        assertEquals(44.4, genova.location.lat, 0.2)
        assertEquals(genova, client().municipality("010025"))
    }

    @Test
    fun `ranks municipalities by distance on the device`() = runBlocking<Unit> {
        val municipalities = client().municipalities()
        val nearest = rankMunicipalitiesByDistance(municipalities, CHIAVARI, 3u)
        assertEquals(3, nearest.size)
        assertEquals("Chiavari", nearest.first().municipality.name)
        assertTrue(nearest.first().distanceKm < 3.0)
        val all = rankMunicipalitiesByDistance(municipalities, GENOVA)
        assertEquals(67, all.size)
        assertEquals(all.map { it.distanceKm }.sorted(), all.map { it.distanceKm })
    }

    @Test
    fun `an unknown municipality is NotFound in the client's language`() = runBlocking<Unit> {
        val italian = assertFailsWith<SportelloException.NotFound> { client().municipality("099999") }
        assertEquals("municipality-not-found", italian.code)
        assertTrue(italian.detail.contains("Nessun comune"), italian.detail)
        val english = assertFailsWith<SportelloException.NotFound> { client("en").municipality("099999") }
        assertTrue(english.detail.contains("No municipality"), english.detail)
    }

    @Test
    fun `a malformed ISTAT code is refused on the device`() = runBlocking<Unit> {
        val error = assertFailsWith<SportelloException.InvalidInput> { client().municipality("01002x") }
        assertEquals("istat_code", error.field)
    }

    @Test
    fun `a bad fiscal code is a Validation error naming the field`() = runBlocking<Unit> {
        val error = assertFailsWith<SportelloException.Validation> { client().devLogin("RSSMRA85T10A562X") }
        assertEquals("validation", error.code)
        assertEquals(listOf("fiscal_code"), error.errors.map { it.field })
    }

    @Test
    fun `dev login then me`() = runBlocking<Unit> {
        val client = client()
        assertFalse(client.isLoggedIn())
        val state = client.devLogin(CITIZEN, listOf("operator:010025:permits"))
        assertTrue(state.loggedIn && client.isLoggedIn())
        assertNotNull(state.accessTokenExpiresAt)
        val me = client.me()
        assertEquals(CITIZEN, me.fiscalCode)
        assertEquals(listOf(Role.Citizen, Role.Operator("010025", Office.PERMITS)), me.roles)
    }

    @Test
    fun `refresh rotates the token and a replay ends the session`() = runBlocking<Unit> {
        val client = client()
        val recorder = Recorder()
        client.setSessionListener(recorder)
        client.devLogin(CITIZEN)
        val first = client.sessionSnapshot()!!.refreshToken
        client.refresh()
        val second = client.sessionSnapshot()!!.refreshToken
        assertNotEquals(first, second)
        assertEquals(listOf(first, second), recorder.snapshots.map { it?.refreshToken })
        assertEquals(CITIZEN, client.me().fiscalCode)
        // A stale copy of the first token is refused and the server ends the whole session.
        val stale = client()
        stale.restoreSession(first)
        val replay = assertFailsWith<SportelloException.Unauthorized> { stale.me() }
        assertEquals("invalid-grant", replay.code)
        assertFailsWith<SportelloException.Unauthorized> { client.me() }
        assertFalse(client.isLoggedIn())
        assertNull(recorder.snapshots.last())
    }

    @Test
    fun `a restored session renews once for concurrent calls`() = runBlocking<Unit> {
        val seed = client()
        seed.devLogin(CITIZEN)
        val stored = seed.sessionSnapshot()!!.refreshToken
        val client = client()
        val recorder = Recorder()
        client.setSessionListener(recorder)
        client.restoreSession(stored)
        val results = coroutineScope { (1..5).map { async { client.me() } }.awaitAll() }
        assertEquals(setOf(CITIZEN), results.map { it.fiscalCode }.toSet())
        // One renewal only: a second would have replayed `stored` and ended the session.
        assertEquals(2, recorder.snapshots.size, "${recorder.snapshots}")
        assertNotEquals(stored, recorder.snapshots.last()!!.refreshToken)
    }

    @Test
    fun `logout ends the session`() = runBlocking<Unit> {
        val client = client()
        val recorder = Recorder()
        client.setSessionListener(recorder)
        client.devLogin(CITIZEN)
        val token = client.sessionSnapshot()!!.refreshToken
        client.logout()
        assertFalse(client.isLoggedIn())
        assertNull(recorder.snapshots.last())
        val error = assertFailsWith<SportelloException.Unauthorized> { client.me() }
        assertEquals("not-logged-in", error.code)
        client.restoreSession(token)
        assertFailsWith<SportelloException.Unauthorized> { client.me() }
    }

    @Test
    fun `a server that is down is a Network error`() = runBlocking<Unit> {
        SportelloClient("http://127.0.0.1:${freePort()}").use { client ->
            assertFailsWith<SportelloException.Network> { client.municipalities() }
            client.restoreSession("some-refresh-token")
            assertFailsWith<SportelloException.Network> { client.me() }
            assertTrue(client.isLoggedIn(), "a network failure does not end the session")
        }
    }
}
