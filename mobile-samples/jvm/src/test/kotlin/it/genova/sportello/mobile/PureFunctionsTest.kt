package it.genova.sportello.mobile

import it.genova.sportello.core.*
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Core's pure functions through the bindings: no server involved. */
class PureFunctionsTest {
    @Test
    fun `fiscal codes are validated and normalised`() {
        assertEquals(CITIZEN, parseFiscalCode(" rssmra85t10a562s "))
        assertTrue(isValidFiscalCode(CITIZEN))
        assertFalse(isValidFiscalCode("RSSMRA85T10A562T"))
        val error = assertThrows<SportelloException.InvalidInput> { parseFiscalCode("RSSMRA85T10A562T") }
        assertEquals("fiscal_code", error.field)
    }

    @Test
    fun `istat codes and roles parse`() {
        assertEquals("010025", parseIstatCode("010025"))
        assertFalse(isValidIstatCode("01002x"))
        val role = parseRole("operator:010025:permits")
        assertEquals(Role.Operator(municipality = "010025", office = Office.PERMITS), role)
        assertEquals("operator:010025:permits", role.toString())
        assertEquals(Role.Admin, parseRole("admin"))
        assertThrows<SportelloException.InvalidInput> { parseRole("operator:010025:zoo") }
    }

    @Test
    fun `Genova to Chiavari is about 31 km`() {
        val distance = distanceKm(GENOVA, CHIAVARI)
        assertTrue(distance in 29.5..32.5, "distance $distance")
        assertThrows<SportelloException.InvalidInput> { distanceKm(GENOVA, Coordinates(lat = 95.0, lon = 0.0)) }
    }

    @Test
    fun `a bad base URL is refused`() {
        val error = assertThrows<SportelloException.InvalidInput> { SportelloClient("ftp://example.org") }
        assertEquals("base_url", error.field)
    }
}
