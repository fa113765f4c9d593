package it.genova.sportello.mobile

import java.net.URI
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/**
 * The citizen login through the system browser with a real OpenID provider
 * (tests/oidc-provider): what the Android app does with a Custom Tab and its intent filter.
 */
class BrowserLoginTest {
    @BeforeEach
    fun needsProvider() {
        assumeTrue(oidcProvider() != null, "no OpenID provider configured")
    }

    @Test
    fun `login through the browser and the app redirect`() = runBlocking<Unit> {
        SportelloClient(baseUrl()).use { client ->
            val request = client.beginLogin(oidcProvider()!!, APP_REDIRECT)
            assertTrue(request.url.contains("code_challenge_method=S256"), request.url)
            val redirect = Browser().loginAs(request.url, fiscalCode = "bncgli90a41d969j")
            assertEquals(request.state, query(redirect)["state"])
            assertTrue(client.completeLogin(redirect).loggedIn)
            val me = client.me()
            assertEquals("BNCGLI90A41D969J", me.fiscalCode)
            assertEquals("Giulia" to "Bianchi", me.givenName to me.familyName)
            assertEquals(listOf(Role.Citizen), me.roles)
            val again = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            assertEquals("no_login_in_progress", again.reason)
        }
    }

    @Test
    fun `a forged redirect is refused and a cancelled login is reported`() = runBlocking<Unit> {
        SportelloClient(baseUrl()).use { client ->
            val request = client.beginLogin(oidcProvider()!!)
            val forged = assertFailsWith<SportelloException.LoginFailed> {
                client.completeLogin("$APP_REDIRECT?code=stolen&state=guessed")
            }
            assertEquals("state_mismatch", forged.reason)
            val redirect = Browser().loginAs(request.url, fiscalCode = null)
            val cancelled = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            assertEquals("access_denied", cancelled.reason)
            assertFalse(client.isLoggedIn())
        }
    }
}

/** At the test provider's interaction page, logs in as [fiscalCode], or cancels when it is null. */
private fun Browser.loginAs(start: String, fiscalCode: String?): String = login(start) { uri, _ ->
    check(uri.path.startsWith("/interaction/")) { "$uri: not the provider's interaction page" }
    if (fiscalCode == null) {
        post(URI("$uri/abort"), emptyMap())
    } else {
        post(URI("$uri/login"), mapOf("fiscal_code" to fiscalCode, "given_name" to "Giulia", "family_name" to "Bianchi"))
    }
}
