package it.genova.sportello.mobile

import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * pagoPA payments through the generated Kotlin: on-device notice and QR parsing, the citizen's
 * notices, verification, and a receipt sent by the "Node" (a SOAP call to the live server).
 * The operator side (creating positions) and the Node are plain HTTP: the app has neither.
 */
class PaymentsTest {
    private val clients = mutableListOf<SportelloClient>()

    @AfterEach
    fun closeClients() {
        clients.forEach { it.close() }
    }

    @Test
    fun `notices and QR codes are read on the device`() {
        val scanned = parsePaymentCode("PAGOPA|002|302032002700000251|03334231200|5")
        assertEquals("3020 3200 2700 0002 51", scanned.noticePrinted)
        assertEquals(5L, scanned.amountCents)
        assertEquals("03334231200", scanned.creditorFiscalCode)
        val typed = parsePaymentCode("3020 3200 2700 0002 51")
        assertEquals("02032002700000251", typed.iuv)
        assertNull(typed.creditorFiscalCode)
        runBlocking {
            assertFailsWith<SportelloException.InvalidInput> { parsePaymentCode("302032002700000252") }
        }
        assertEquals(
            "PAGOPA|002|302032002700000251|03334231200|3000",
            paymentQrPayload("302032002700000251", "03334231200", 3000),
        )
    }

    @Test
    fun `a citizen sees a notice, verifies it, and gets the receipt once the Node pays it`() = runBlocking<Unit> {
        val fiscalCode = randomFiscalCode()
        val citizen = SportelloClient(baseUrl()).also { clients += it }
        citizen.devLogin(fiscalCode, emptyList())

        val login = postToServer(
            "/v1/auth/dev-login",
            """{"fiscal_code":"VRDGPP80A01D969Z","roles":["operator:010025:payments"]}""",
            "content-type", "application/json",
        )
        val token = jsonField(login, "access_token")
        val created = postToServer(
            "/v1/municipalities/010025/payment-positions",
            """{"debtor":{"fiscal_code":"$fiscalCode","full_name":"Test Kotlin"},"description":"Diritti di segreteria",
               "options":[{"amount_cents":3000,"due_date":"2099-12-31"}]}""",
            "content-type", "application/json", "authorization", "Bearer $token",
        )
        val positionId = jsonField(created, "id")
        postToServer("/v1/municipalities/010025/payment-positions/$positionId/publish", "", "authorization", "Bearer $token")

        val due = citizen.myPayments().single()
        assertEquals(PaymentState.DUE, due.state)
        assertEquals(3000L, due.amountCents)
        assertEquals("Comune di Genova", due.creditorName)
        assertEquals(due.noticeNumber, parsePaymentCode(due.qrPayload).noticeNumber)

        val verified = citizen.verifyPayment(due.noticePrinted)
        assertEquals("00856930102", verified.creditorFiscalCode)
        assertEquals(3000L, verified.amountCents)

        val receiptId = "kt-" + UUID.randomUUID().toString().take(8)
        val soap = """<?xml version="1.0" encoding="UTF-8"?>
            <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body>
            <pafn:paSendRTV2Request><idPA>00856930102</idPA><idBrokerPA>00856930102</idBrokerPA><idStation>00856930102_01</idStation>
            <receipt><receiptId>$receiptId</receiptId><noticeNumber>${due.noticeNumber}</noticeNumber><fiscalCode>00856930102</fiscalCode>
            <outcome>OK</outcome><creditorReferenceId>${due.iuv}</creditorReferenceId><paymentAmount>30.00</paymentAmount>
            <description>Diritti di segreteria</description><companyName>Comune di Genova</companyName>
            <debtor><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType><entityUniqueIdentifierValue>$fiscalCode</entityUniqueIdentifierValue></uniqueIdentifier><fullName>Test Kotlin</fullName></debtor>
            <transferList><transfer><idTransfer>1</idTransfer><transferAmount>30.00</transferAmount><fiscalCodePA>00856930102</fiscalCodePA>
            <IBAN>IT60X0542811101000000123456</IBAN><remittanceInformation>Diritti</remittanceInformation><transferCategory>9/0101108TS/</transferCategory></transfer></transferList>
            <idPSP>PSP</idPSP><PSPCompanyName>PSP</PSPCompanyName><idChannel>PSP_01</idChannel><channelDescription>app</channelDescription>
            </receipt></pafn:paSendRTV2Request></soapenv:Body></soapenv:Envelope>"""
        val answer = postToServer("/pagopa/paForNode", soap, "content-type", "text/xml", "soapaction", "paSendRTV2")
        assertTrue(answer.contains("<outcome>OK</outcome>"), answer)

        val paid = citizen.myPayments().single()
        assertEquals(PaymentState.PAID, paid.state)
        assertTrue(citizen.paymentReceipt(paid.id).contains("<receiptId>$receiptId</receiptId>"))
        // Paid notices answer 409 with a stable code: a refusal the app can show.
        val error = assertFailsWith<SportelloException.Refused> { citizen.verifyPayment(due.noticeNumber) }
        assertEquals("notice-paid", error.code)
        assertEquals(409.toUShort(), error.status)
        assertTrue(error.detail.isNotBlank())
    }
}
