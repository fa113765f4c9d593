package it.genova.sportello.mobile

import java.net.CookieManager
import java.net.CookiePolicy
import java.net.URI
import java.net.URLDecoder
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
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
            val redirect = Browser().login(request.url, fiscalCode = "bncgli90a41d969j")
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
            val redirect = Browser().login(request.url, fiscalCode = null)
            val cancelled = assertFailsWith<SportelloException.LoginFailed> { client.completeLogin(redirect) }
            assertEquals("access_denied", cancelled.reason)
            assertFalse(client.isLoggedIn())
        }
    }

    private fun query(url: String): Map<String, String> =
        URI(url).rawQuery.split('&').associate {
            val (name, value) = it.split('=', limit = 2)
            name to URLDecoder.decode(value, Charsets.UTF_8)
        }
}

/** The system browser, as far as the login needs one: cookies, redirects one at a time. */
private class Browser {
    private val http = HttpClient.newBuilder()
        .cookieHandler(CookieManager(null, CookiePolicy.ACCEPT_ALL))
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build()

    private fun get(uri: URI) = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString())

    private fun post(uri: URI, form: Map<String, String>): HttpResponse<String> {
        val body = form.entries.joinToString("&") { (k, v) -> "$k=${URLEncoder.encode(v, Charsets.UTF_8)}" }
        val request = HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        return http.send(request, HttpResponse.BodyHandlers.ofString())
    }

    /** Follows the login to the app's redirect; at the provider's form logs in as [fiscalCode],
     * or cancels when it is null. Returns the app redirect URL the OS would hand to the app. */
    fun login(start: String, fiscalCode: String?): String {
        var uri = URI(start)
        repeat(20) {
            if (uri.toString().startsWith(APP_REDIRECT)) return uri.toString()
            var response = get(uri)
            if (response.statusCode() == 200 && uri.path.startsWith("/interaction/")) {
                response = if (fiscalCode == null) {
                    post(URI("$uri/abort"), emptyMap())
                } else {
                    post(URI("$uri/login"), mapOf("fiscal_code" to fiscalCode, "given_name" to "Giulia", "family_name" to "Bianchi"))
                }
            }
            val location = response.headers().firstValue("location").orElse(null)
            check(response.statusCode() in setOf(302, 303) && location != null) {
                "$uri: unexpected ${response.statusCode()}: ${response.body().take(300)}"
            }
            uri = uri.resolve(location)
        }
        error("too many redirects")
    }
}
