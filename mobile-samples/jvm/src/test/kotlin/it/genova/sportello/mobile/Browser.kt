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

/**
 * The system browser, as far as a login needs one (what a Custom Tab does for the Android app):
 * cookies, redirects followed one at a time, the provider's pages answered by the test, and a
 * stop at the app's redirect URI, whose URL the OS would hand to the app.
 */
class Browser {
    private val http = HttpClient.newBuilder()
        .cookieHandler(CookieManager(null, CookiePolicy.ACCEPT_ALL))
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build()

    fun get(uri: URI): HttpResponse<String> =
        http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString())

    fun post(uri: URI, form: Map<String, String>): HttpResponse<String> {
        val body = form.entries.joinToString("&") { (k, v) ->
            "${URLEncoder.encode(k, Charsets.UTF_8)}=${URLEncoder.encode(v, Charsets.UTF_8)}"
        }
        val request = HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        return http.send(request, HttpResponse.BodyHandlers.ofString())
    }

    /**
     * Follows the login from [start] to the app's redirect and returns that URL. A page (200) on
     * the way is handed to [answer], which acts on it as the citizen would (a form submitted, a
     * link followed) and returns the provider's response, a redirect.
     */
    fun login(start: String, answer: (URI, HttpResponse<String>) -> HttpResponse<String>): String {
        var uri = URI(start)
        repeat(20) {
            if (uri.toString().startsWith(APP_REDIRECT)) return uri.toString()
            var response = get(uri)
            if (response.statusCode() == 200) response = answer(uri, response)
            val location = response.headers().firstValue("location").orElse(null)
            check(response.statusCode() in setOf(302, 303) && location != null) {
                "$uri: unexpected ${response.statusCode()}: ${response.body().take(300)}"
            }
            uri = uri.resolve(location)
        }
        error("too many redirects")
    }
}

/** A form of an HTML page: where it posts and the values of its named inputs. */
data class HtmlForm(val action: URI, val fields: Map<String, String>)

private val FORM = Regex("""<form\b([^>]*)>(.*?)</form>""", setOf(RegexOption.IGNORE_CASE, RegexOption.DOT_MATCHES_ALL))
private val INPUT = Regex("""<input\b([^>]*)>""", RegexOption.IGNORE_CASE)
private val LINK = Regex("""<a\b([^>]*)>""", RegexOption.IGNORE_CASE)
private val ATTRIBUTE = Regex("""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")

private fun attributes(tag: String): Map<String, String> =
    ATTRIBUTE.findAll(tag).associate { it.groupValues[1].lowercase() to unescape(it.groupValues[2].ifEmpty { it.groupValues[3] }) }

private fun unescape(text: String): String =
    text.replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

/** The forms of [page] (fetched from [uri]), in order. */
fun forms(uri: URI, page: String): List<HtmlForm> =
    FORM.findAll(page).map { form ->
        val fields = INPUT.findAll(form.groupValues[2]).map { attributes(it.groupValues[1]) }
            .filter { !it["name"].isNullOrEmpty() }
            .associate { it.getValue("name") to (it["value"] ?: "") }
        val action = attributes(form.groupValues[1])["action"]
        HtmlForm(if (action.isNullOrEmpty()) uri else uri.resolve(action), fields)
    }.toList()

/** Where the link with the HTML id [id] on [page] (fetched from [uri]) leads. */
fun link(uri: URI, page: String, id: String): URI? =
    LINK.findAll(page).map { attributes(it.groupValues[1]) }.firstOrNull { it["id"] == id }
        ?.get("href")?.let { uri.resolve(it) }

/** The decoded query parameters of [url]. */
fun query(url: String): Map<String, String> =
    URI(url).rawQuery.split('&').associate {
        val (name, value) = it.split('=', limit = 2)
        name to URLDecoder.decode(value, Charsets.UTF_8)
    }
