package it.genova.sportello.mobile

import java.time.Instant
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Permits through the generated Kotlin, against the live server the runner started: a citizen
 * files a SCIA in Genova, an officer of Genova's permits office confirms the payment at the
 * counter and registers it, and the citizen follows it (my permits, detail, timeline, days left).
 * Each test logs in as people of its own (random fiscal codes).
 */
class PermitsTest {
    private val clients = mutableListOf<SportelloClient>()

    @AfterEach
    fun closeClients() {
        clients.forEach { it.close() }
    }

    private suspend fun loggedIn(vararg roles: String): SportelloClient =
        SportelloClient(baseUrl()).also {
            clients += it
            it.devLogin(randomFiscalCode(), roles.toList())
        }

    private fun pdf(label: String) = "%PDF-1.4\n% Sportello test: $label\n%%EOF\n".toByteArray()

    @Test
    fun `a citizen files a SCIA and follows it with its timeline and days left`() = runBlocking<Unit> {
        val citizen = loggedIn()
        val officer = loggedIn("operator:$GENOVA_ISTAT:permits")
        val scia = citizen.permitProcedures(GENOVA_ISTAT).single { it.code == "scia" }
        assertEquals(30L, scia.clockDays)
        assertTrue(scia.effectiveOnFiling)

        val draft = citizen.createPermit(GENOVA_ISTAT, "scia")
        assertEquals("draft", draft.status)
        assertTrue("submit" in draft.actions, "${draft.actions}")
        val own = setOf("address", "cadastral-parcel")
        val fields = scia.fields
            .filter { it.required && it.kind !in own && it.code != "description" }
            .associate { it.code to if (it.kind == "date") "2026-05-04" else "testo" }
        citizen.updatePermit(
            draft.id,
            PermitDraftUpdate(
                address = "Via Balbi 5, Genova",
                foglio = "12",
                mappale = "345",
                description = "Manutenzione straordinaria della facciata",
                fields = fields,
            ),
        )
        for (document in scia.documents.filter { it.required }) {
            val stored = citizen.uploadPermitDocument(draft.id, document.code, "${document.code}.pdf", pdf(document.code))
            assertEquals("application/pdf", stored.contentType)
            assertEquals(64, stored.sha256.length)
        }
        // Not a PDF, whatever the name says: a refusal the app can show, not a server failure.
        val refused = assertFailsWith<SportelloException.Refused> {
            citizen.uploadPermitDocument(draft.id, "drawings", "fake.pdf", "MZ this is a program, not a document".toByteArray())
        }
        assertEquals(415.toUShort(), refused.status)
        assertTrue(refused.detail.isNotBlank(), refused.code)

        val submitted = citizen.permitAction(draft.id, "submit")
        assertEquals("payment_due", submitted.simplifiedStatus)
        assertEquals(10_000L, submitted.feeDueCents)
        // A citizen cannot decide their own application.
        val denied = assertFailsWith<SportelloException.Forbidden> { citizen.permitAction(draft.id, "accept") }
        assertEquals("not-allowed-for-actor", denied.code)

        officer.permitAction(draft.id, "confirm-payment")
        officer.permitAction(draft.id, "register")

        val permit = citizen.permit(draft.id)
        assertEquals("effective", permit.simplifiedStatus)
        assertEquals(30L, permit.daysLeft)
        val deadline = requireNotNull(permit.deadline)
        assertEquals(30L, permitDaysLeft(deadline, Instant.now()), "the device counts as the server")
        assertTrue(permit.protocolNumber!!.matches(Regex("""\d{4}/\d{7}""")), "${permit.protocolNumber}")
        assertEquals(listOf("submit", "confirm-payment", "register"), permit.timeline.map { it.action })
        assertEquals(listOf("applicant", "operator", "operator"), permit.timeline.map { it.actor })
        assertEquals(scia.documents.count { it.required }, permit.documents.size)

        val mine = citizen.myPermits()
        assertEquals(listOf(draft.id), mine.items.map { it.id })
        assertEquals(30L, mine.items.single().daysLeft)

        // Someone else sees nothing of it.
        val other = loggedIn()
        assertFailsWith<SportelloException.NotFound> { other.permit(draft.id) }
        assertTrue(other.myPermits().items.isEmpty())
        // And the citizen's inbox heard about every step.
        val subjects = citizen.inbox().items.map { it.subject }
        assertEquals(3, subjects.size, "$subjects")
    }
}
