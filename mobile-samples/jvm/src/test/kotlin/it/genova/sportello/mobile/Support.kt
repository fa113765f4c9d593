package it.genova.sportello.mobile

import it.genova.sportello.core.*
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Collections
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail

const val CITIZEN = "RSSMRA85T10A562S"
const val APP_REDIRECT = "it.genova.sportello://auth"
val GENOVA = Coordinates(lat = 44.4072, lon = 8.9338)
val CHIAVARI = Coordinates(lat = 44.3172, lon = 9.3224)

/** The server started by scripts/lib/mobile-tests.sh. */
fun baseUrl(): String =
    System.getenv("SPORTELLO_TEST_BASE_URL")?.takeIf { it.isNotBlank() }
        ?: fail("SPORTELLO_TEST_BASE_URL is not set: run scripts/lib/mobile-tests.sh")

/** Id of the test OpenID provider, when the runner configured one. */
fun oidcProvider(): String? = System.getenv("SPORTELLO_TEST_OIDC_PROVIDER")?.takeIf { it.isNotBlank() }

/** Values of the characters in odd positions (1st, 3rd, …) for the fiscal code's check character. */
private val ODD_VALUES = intArrayOf(1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23)

/**
 * A valid fiscal code nobody else in the run uses (random letters, born in Genova D969), so that
 * tests sharing the server each get their own person, inbox and devices.
 */
fun randomFiscalCode(): String {
    val letters = (1..6).map { ('A'..'Z').random() }.joinToString("")
    val body = letters + "%02d".format((0..99).random()) + "ABCDEHLMPRST".random() +
        "%02d".format((1..28).random()) + "D969"
    val sum = body.withIndex().sumOf { (index, char) ->
        val value = if (char.isDigit()) char - '0' else char - 'A'
        if (index % 2 == 0) ODD_VALUES[value] else value
    }
    return body + ('A' + sum % 26)
}

private val plainHttp: HttpClient = HttpClient.newHttpClient()

/**
 * A plain HTTP POST to the test server (what the app has no call for: an operator's or the
 * pagoPA Node's requests); [headers] are name, value pairs. Fails unless the answer is 2xx.
 */
fun postToServer(path: String, body: String, vararg headers: String): String {
    val request = HttpRequest.newBuilder(URI.create(baseUrl() + path))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .apply { headers.toList().chunked(2).forEach { (name, value) -> header(name, value) } }
        .build()
    val response = plainHttp.send(request, HttpResponse.BodyHandlers.ofString())
    assertTrue(response.statusCode() in 200..299, "$path: ${response.statusCode()} ${response.body()}")
    return response.body()
}

/** The first string value named [name] in a JSON text (enough for ids and tokens). */
fun jsonField(json: String, name: String): String =
    Regex("\"$name\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1) ?: error("no $name in $json")

/** A loopback port nobody listens on (bound, then released). */
fun freePort(): Int = ServerSocket(0).use { it.localPort }

/** Runs [block] and returns the exception of type [T] it throws; fails otherwise. */
suspend inline fun <reified T : Throwable> assertFailsWith(block: suspend () -> Unit): T {
    try {
        block()
    } catch (error: Throwable) {
        if (error is T) return error
        throw AssertionError("expected ${T::class.qualifiedName}, got $error", error)
    }
    fail<Unit>("expected ${T::class.qualifiedName}, nothing was thrown")
    throw IllegalStateException("unreachable")
}

/** Keeps every snapshot the client reports (null for logged out). */
class Recorder : SessionListener {
    val snapshots: MutableList<SessionSnapshot?> = Collections.synchronizedList(mutableListOf())

    override fun onSessionChanged(snapshot: SessionSnapshot?) {
        snapshots.add(snapshot)
    }
}
