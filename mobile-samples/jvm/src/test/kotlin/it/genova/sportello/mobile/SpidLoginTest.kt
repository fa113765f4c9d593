package it.genova.sportello.mobile

import it.genova.sportello.core.FederatedProvider
import java.net.URI
import java.net.http.HttpResponse
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/**
 * The SPID and CIE login of the app, through the system browser and the app's redirect URI,
 * against the local federation of tests/spid-cie-oidc/run: the reference implementation
 * `spid-cie-oidc` (its trust anchor, a SPID-profile and a CIE-profile provider) with Sportello
 * onboarded under the anchor. The run passes the providers and the test citizen:
 *
 *   SPORTELLO_TEST_BASE_URL          Sportello
 *   SPORTELLO_TEST_SPID_PROVIDER     entity id of the SPID-profile provider
 *   SPORTELLO_TEST_CIE_PROVIDER      entity id of the CIE-profile provider
 *   SPORTELLO_TEST_SPID_USERNAME, SPORTELLO_TEST_SPID_PASSWORD, SPORTELLO_TEST_SPID_FISCAL_CODE
 *                                    the citizen registered at both providers
 *
 * Without them (scripts/lib/mobile-tests.sh has no federation) every test is skipped.
 */
class SpidLoginTest {
    private class LocalFederation(
        val spid: String,
        val cie: String,
        val username: String,
        val password: String,
        val fiscalCode: String,
    )

    private val federation: LocalFederation? = run {
        val names = listOf("SPID_PROVIDER", "CIE_PROVIDER", "SPID_USERNAME", "SPID_PASSWORD", "SPID_FISCAL_CODE")
            .map { "SPORTELLO_TEST_$it" }
        val values = names.map { System.getenv(it)?.takeIf(String::isNotBlank) }
        when {
            values.all { it == null } -> null
            values.any { it == null } ->
                fail("the local federation is half configured: set all of ${names.joinToString()}")
            else -> values.requireNoNulls().let { (spid, cie, username, password, fiscalCode) ->
                LocalFederation(spid, cie, username, password, fiscalCode)
            }
        }
    }

    @BeforeEach
    fun needsFederation() {
        assumeTrue(federation != null, "no local SPID/CIE federation (SPORTELLO_TEST_SPID_*): run tests/spid-cie-oidc/run")
    }

    @Test
    fun `SPID login through the system browser and the app redirect, then logout`() = runBlocking<Unit> {
        loginAndLogout("spid", federation!!.spid)
    }

    @Test
    fun `CIE login through the system browser and the app redirect, then logout`() = runBlocking<Unit> {
        loginAndLogout("cie", federation!!.cie)
    }

    @Test
    fun `a refused consent ends the login with the provider's error and no session`() = runBlocking<Unit> {
        SportelloClient(baseUrl()).use { client ->
            val provider = listed(client, "spid", federation!!.spid)
            val request = client.beginFederatedLogin(provider.federation, provider.entityId)
            val redirect = Browser().atProvider(request.url, consent = false)
            assertEquals(request.state, query(redirect)["state"])
            val refused = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            // The reference provider's "do not agree" answers `invalid_request` (its own choice;
            // the oidc-provider fixture says `access_denied`): the app sees the code as it came.
            assertEquals("invalid_request", refused.reason)
            assertFalse(client.isLoggedIn())
            val spent = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            assertEquals("no_login_in_progress", spent.reason)
        }
    }

    /** The entry of `providers().federated` for [entityId] in [name], as the app draws it. */
    private suspend fun listed(client: SportelloClient, name: String, entityId: String): FederatedProvider {
        val federated = client.providers().federated
        val entry = federated.singleOrNull { it.federation == name && it.entityId == entityId }
            ?: fail("$entityId is not among the $name providers: $federated")
        assertTrue(entry.name.isNotBlank(), "$entry")
        assertTrue(entry.logoUri?.startsWith("http") == true, "$entry")
        return entry
    }

    private suspend fun loginAndLogout(name: String, entityId: String) {
        val federation = federation!!
        SportelloClient(baseUrl()).use { client ->
            val recorder = Recorder()
            client.setSessionListener(recorder)
            val provider = listed(client, name, entityId)
            val request = client.beginFederatedLogin(provider.federation, provider.entityId)
            assertTrue(request.url.startsWith("${baseUrl().trimEnd('/')}/v1/auth/federation/$name/login?"), request.url)
            assertTrue(request.url.contains("code_challenge_method=S256"), request.url)

            // A redirect with a state this login never issued changes nothing.
            val forged = assertFailsWith<SportelloException.LoginFailed> {
                client.completeLogin("$APP_REDIRECT?code=stolen&state=guessed")
            }
            assertEquals("state_mismatch", forged.reason)

            val redirect = Browser().atProvider(request.url, consent = true)
            assertEquals(request.state, query(redirect)["state"])
            assertTrue(client.completeLogin(redirect).loggedIn)
            val me = client.me()
            assertEquals(federation.fiscalCode, me.fiscalCode)
            assertEquals(listOf(Role.Citizen), me.roles)
            val again = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            assertEquals("no_login_in_progress", again.reason)

            // Logout: the session is forgotten on the device and ended on the server.
            val stored = client.sessionSnapshot()!!.refreshToken
            client.logout()
            assertFalse(client.isLoggedIn())
            assertEquals(null, recorder.snapshots.last())
            client.restoreSession(stored)
            val ended = assertFailsWith<SportelloException.Unauthorized> { client.me() }
            assertEquals("invalid-grant", ended.code)
        }
    }

    /**
     * At the reference provider: its login form with the citizen's username and password, then
     * its consent page, agreed to (the form) or refused (the "do not agree" link).
     */
    private fun Browser.atProvider(start: String, consent: Boolean): String {
        val federation = federation!!
        return login(start) { uri, page ->
            val form = forms(uri, page.body()).firstOrNull() ?: fail("$uri: a page without a form: ${page.body().take(300)}")
            when {
                "password" in form.fields ->
                    post(form.action, form.fields + mapOf("username" to federation.username, "password" to federation.password))
                "agree" in form.fields && consent -> post(form.action, form.fields)
                "agree" in form.fields -> get(link(uri, page.body(), "do_not_agree") ?: fail("$uri: no 'do not agree' link"))
                else -> fail<HttpResponse<String>>("$uri: neither the login nor the consent page: ${form.fields.keys}")
            }
        }
    }
}
