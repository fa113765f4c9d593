package it.genova.sportello.mobile

import it.genova.sportello.core.*
import java.time.Instant
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

const val GENOVA_ISTAT = "010025"

/**
 * Devices, preferences, the inbox and area broadcasts through the generated Kotlin, against the
 * live server the runner started. Each test logs in as people of its own (random fiscal codes).
 * The server tries to push to the registered FCM tokens; it has no FCM configured, so those
 * pushes are dropped: the inbox is what is checked.
 */
class NotificationsTest {
    private val clients = mutableListOf<SportelloClient>()

    @AfterEach
    fun closeClients() {
        clients.forEach { it.close() }
    }

    /** A client logged in as a new person with [roles]. */
    private suspend fun loggedIn(vararg roles: String): SportelloClient =
        SportelloClient(baseUrl()).also {
            clients += it
            it.devLogin(randomFiscalCode(), roles.toList())
        }

    /** A citizen with an FCM token registered for alerts in Genova. */
    private suspend fun subscribedCitizen(): SportelloClient =
        loggedIn().also { it.registerFcmToken(fcmToken(), listOf(GENOVA_ISTAT)) }

    private fun fcmToken() = "fcm-${UUID.randomUUID()}:APA91b-test"

    private fun unique(text: String) = "$text ${UUID.randomUUID().toString().take(8)}"

    @Test
    fun `a citizen registers an FCM token, lists it and removes it`() = runBlocking<Unit> {
        val citizen = loggedIn()
        val token = fcmToken()
        val device = citizen.registerFcmToken(token, listOf(GENOVA_ISTAT))
        assertEquals("fcm", device.kind)
        assertTrue(device.label.endsWith(token.takeLast(6)), device.label)
        assertTrue(device.createdAt.isAfter(Instant.now().minusSeconds(300)), "${device.createdAt}")
        assertEquals(listOf(device), citizen.devices())
        // Registering the same token again (Firebase's onNewToken, a reinstall) keeps one device.
        citizen.registerFcmToken(token)
        assertEquals(listOf(device.id), citizen.devices().map { it.id })
        assertEquals(listOf(GENOVA_ISTAT), citizen.notificationPreferences().municipalities)
        citizen.removeDevice(device.id)
        assertEquals(emptyList<Device>(), citizen.devices())
        assertFailsWith<SportelloException.NotFound> { citizen.removeDevice(device.id) }
    }

    @Test
    fun `an admin's alert reaches the citizen's inbox, unread until read`() = runBlocking<Unit> {
        val citizen = subscribedCitizen()
        val admin = loggedIn("admin")
        val subject = unique("Allerta arancione")
        val accepted = admin.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, subject, "Chiudere le finestre.")
        assertTrue(accepted.recipients >= 1uL && accepted.pushes >= 1uL, "$accepted")

        val page = citizen.inbox()
        assertEquals(1uL, page.unread)
        assertNull(page.nextCursor)
        val message = page.items.single()
        assertEquals(subject, message.subject)
        assertEquals("Chiudere le finestre.", message.body)
        assertEquals(Topic.ALERTS, parseTopic(message.topic))
        assertFalse(message.read)
        assertEquals(message, citizen.inboxMessage(message.id))

        // A push for it routes to the same message.
        val push = parsePushData(
            mapOf(
                "id" to "delivery-1",
                "message_id" to message.id,
                "topic" to "alerts",
                "url" to "it.genova.sportello://inbox/${message.id}",
            ),
        )
        assertEquals(message.id, push.messageId)
        // Broadcast message ids contain a slash: the link keeps the id in one segment.
        val encoded = java.net.URLEncoder.encode(message.id, Charsets.UTF_8)
        assertEquals("it.genova.sportello://inbox/$encoded", push.url)

        citizen.markRead(push.messageId)
        val after = citizen.inbox()
        assertEquals(0uL, after.unread)
        assertTrue(after.items.single().read)
        assertTrue(citizen.inboxMessage(message.id).read)
    }

    @Test
    fun `the inbox pages newest first and deletes`() = runBlocking<Unit> {
        val citizen = subscribedCitizen()
        val admin = loggedIn("admin")
        val subjects = (1..5).map { unique("Avviso $it") }
        for (subject in subjects) {
            admin.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, subject, "Testo di $subject")
        }
        val seen = mutableListOf<InboxMessage>()
        var cursor: String? = null
        var pages = 0
        do {
            val page = citizen.inbox(cursor, 2u)
            assertTrue(page.items.size <= 2)
            assertEquals(5uL, page.unread)
            seen += page.items
            cursor = page.nextCursor
            pages++
        } while (cursor != null)
        assertEquals(3, pages)
        assertEquals(subjects.reversed(), seen.map { it.subject })
        assertEquals(seen.map { it.createdAt }.sortedDescending(), seen.map { it.createdAt })

        val gone = seen[1]
        citizen.deleteMessage(gone.id)
        val remaining = citizen.inbox(limit = 10u)
        assertEquals(seen.map { it.id } - gone.id, remaining.items.map { it.id })
        assertEquals(4uL, remaining.unread)
        assertFailsWith<SportelloException.NotFound> { citizen.inboxMessage(gone.id) }
        assertFailsWith<SportelloException.NotFound> { citizen.deleteMessage(gone.id) }
    }

    @Test
    fun `preferences round trip`() = runBlocking<Unit> {
        val citizen = loggedIn()
        val defaults = citizen.notificationPreferences()
        assertEquals(Topic.entries.toSet(), defaults.topics.toSet())
        assertEquals("it", defaults.language)
        assertNull(defaults.quietHours)

        val wanted = NotificationPreferences(
            topics = listOf(Topic.ALERTS, Topic.PAYMENTS),
            language = "en",
            quietHours = QuietHours(start = "22:00", end = "07:00"),
            municipalities = listOf(GENOVA_ISTAT, "010001"),
        )
        val stored = citizen.setNotificationPreferences(wanted)
        val expected = wanted.copy(municipalities = listOf("010001", GENOVA_ISTAT))
        assertEquals(expected, stored)
        assertEquals(expected, citizen.notificationPreferences())
        assertEquals("alerts", Topic.ALERTS.toString())

        val language = assertFailsWith<SportelloException.Validation> {
            citizen.setNotificationPreferences(wanted.copy(language = "fr"))
        }
        assertEquals(listOf("language"), language.errors.map { it.field })
        val quiet = assertFailsWith<SportelloException.Validation> {
            citizen.setNotificationPreferences(wanted.copy(quietHours = QuietHours("25:00", "07:00")))
        }
        assertEquals(listOf("quiet_hours"), quiet.errors.map { it.field })
        assertEquals(expected, citizen.notificationPreferences())
    }

    @Test
    fun `bad tokens are Validation errors naming the field`() = runBlocking<Unit> {
        val citizen = loggedIn()
        for (token in listOf("", "has spaces in it")) {
            val error = assertFailsWith<SportelloException.Validation> { citizen.registerFcmToken(token) }
            assertEquals(listOf("token"), error.errors.map { it.field }, "token '$token'")
            assertTrue(error.errors.single().message.isNotBlank())
        }
        val unknownPlace = assertFailsWith<SportelloException.Validation> {
            citizen.registerFcmToken(fcmToken(), listOf("099999"))
        }
        assertEquals(listOf("municipalities"), unknownPlace.errors.map { it.field })
        val malformed = assertFailsWith<SportelloException.InvalidInput> {
            citizen.registerFcmToken(fcmToken(), listOf("01002x"))
        }
        assertEquals("istat_code", malformed.field)
        assertEquals(emptyList<Device>(), citizen.devices())
        val limit = assertFailsWith<SportelloException.Validation> { citizen.inbox(limit = 0u) }
        assertEquals(listOf("limit"), limit.errors.map { it.field })
    }

    @Test
    fun `another person's message is NotFound`() = runBlocking<Unit> {
        val owner = subscribedCitizen()
        val admin = loggedIn("admin")
        admin.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, unique("Solo per chi abita a Genova"), "…")
        val message = owner.inbox().items.first()
        val stranger = loggedIn()
        assertFailsWith<SportelloException.NotFound> { stranger.inboxMessage(message.id) }
        assertFailsWith<SportelloException.NotFound> { stranger.markRead(message.id) }
        assertFailsWith<SportelloException.NotFound> { stranger.deleteMessage(message.id) }
        val device = owner.devices().single()
        assertFailsWith<SportelloException.NotFound> { stranger.removeDevice(device.id) }
        assertFalse(owner.inboxMessage(message.id).read)
        assertEquals(listOf(device), owner.devices())
    }

    @Test
    fun `only admins and the municipality's operators broadcast`() = runBlocking<Unit> {
        val citizen = loggedIn()
        val forbidden = assertFailsWith<SportelloException.Forbidden> {
            citizen.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, "Allerta", "…")
        }
        assertTrue(forbidden.detail.isNotBlank())
        val elsewhere = loggedIn("operator:010001:permits")
        assertFailsWith<SportelloException.Forbidden> {
            elsewhere.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, "Allerta", "…")
        }
        val operator = loggedIn("operator:$GENOVA_ISTAT:permits")
        val accepted = operator.broadcast(listOf(GENOVA_ISTAT), Topic.PERMITS, unique("Sportello chiuso"), "…")
        assertTrue(accepted.id.isNotBlank())
        val empty = assertFailsWith<SportelloException.Validation> {
            operator.broadcast(listOf(GENOVA_ISTAT), Topic.ALERTS, "", "…")
        }
        assertEquals(listOf("subject"), empty.errors.map { it.field })
    }

    @Test
    fun `logged out calls are Unauthorized and ids are checked on the device`() = runBlocking<Unit> {
        SportelloClient(baseUrl()).use { client ->
            val error = assertFailsWith<SportelloException.Unauthorized> { client.inbox() }
            assertEquals("not-logged-in", error.code)
        }
        val citizen = loggedIn()
        val bad = assertFailsWith<SportelloException.InvalidInput> { citizen.inboxMessage("") }
        assertEquals("id", bad.field)
        // Sent percent-encoded as one path segment: it cannot reach another route.
        assertFailsWith<SportelloException.NotFound> { citizen.inboxMessage("../devices") }
    }

    @Test
    fun `the VAPID public key is an uncompressed P-256 point`() = runBlocking<Unit> {
        val key = SportelloClient(baseUrl()).use { it.vapidPublicKey() }
        val bytes = java.util.Base64.getUrlDecoder().decode(key)
        assertEquals(65, bytes.size)
        assertEquals(4, bytes[0].toInt())
    }

    @Test
    fun `push data that is not Sportello's is refused`() {
        val error = assertThrows<SportelloException.InvalidInput> {
            parsePushData(mapOf("google.message_id" to "0:123"))
        }
        assertEquals("id", error.field)
        val linked = parsePushData(mapOf("id" to "d", "url" to "/inbox/abc-1", "subject" to "Allerta"))
        assertEquals("abc-1", linked.messageId)
        assertEquals("Allerta", linked.subject)
    }
}
