package it.genova.sportello.app

import android.app.Application
import androidx.annotation.StringRes
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import it.genova.sportello.core.AuthProviderList
import it.genova.sportello.core.Coordinates
import it.genova.sportello.mobile.InboxMessage
import it.genova.sportello.mobile.Me
import it.genova.sportello.mobile.Municipality
import it.genova.sportello.mobile.SportelloException
import it.genova.sportello.mobile.parseFiscalCode
import it.genova.sportello.mobile.rankMunicipalitiesByDistance
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** A row of the municipalities list; the distance is known once the user shared a location. */
data class MunicipalityRow(val municipality: Municipality, val distanceKm: Double?)

/** What went wrong, as the UI shows it: one of our messages, or the server's own detail. */
sealed interface UiError {
    data class Message(@StringRes val text: Int) : UiError
    data class Detail(val text: String) : UiError
}

data class UiState(
    val municipalities: List<MunicipalityRow> = emptyList(),
    val sortedByDistance: Boolean = false,
    val providers: AuthProviderList? = null,
    val loggedIn: Boolean = false,
    val me: Me? = null,
    /** The inbox as loaded so far (newest first), its next page and the unread count. */
    val inbox: List<InboxMessage> = emptyList(),
    val inboxCursor: String? = null,
    val unread: ULong = 0uL,
    /** The message opened from the list or from a push. */
    val openMessage: InboxMessage? = null,
    val busy: Boolean = false,
    val error: UiError? = null,
)

class AppViewModel(application: Application) : AndroidViewModel(application) {
    private val client = (application as SportelloApplication).client
    private val _state = MutableStateFlow(UiState(loggedIn = client.isLoggedIn()))
    val state: StateFlow<UiState> = _state.asStateFlow()

    /** As the server sent them (alphabetical): ranking happens on the device. */
    private var municipalities: List<Municipality> = emptyList()

    /** This device's registration, removed at logout. */
    private var pushDeviceId: String? = null

    init {
        loadMunicipalities()
        loadProviders()
        if (client.isLoggedIn()) loadProfile()
    }

    fun loadMunicipalities() = call {
        municipalities = client.municipalities()
        _state.update { state ->
            state.copy(municipalities = municipalities.map { MunicipalityRow(it, null) }, sortedByDistance = false)
        }
    }

    /** Nearest first, computed here with core's haversine: the location is never sent. */
    fun sortByDistance(location: Coordinates) {
        try {
            val ranked = rankMunicipalitiesByDistance(municipalities, location)
            _state.update { state ->
                state.copy(
                    municipalities = ranked.map { MunicipalityRow(it.municipality, it.distanceKm) },
                    sortedByDistance = true,
                )
            }
        } catch (error: SportelloException) {
            _state.update { it.copy(error = error.toUiError()) }
        }
    }

    fun loadProviders() = call {
        val providers = client.providers()
        _state.update { it.copy(providers = providers) }
    }

    /** Starts a SPID/CIE login; returns the URL to open in the browser. */
    fun beginLogin(providerId: String): String? =
        try {
            client.beginLogin(providerId, MainActivity.REDIRECT_URI).url
        } catch (error: SportelloException) {
            _state.update { it.copy(error = error.toUiError()) }
            null
        }

    /** The browser came back with the app redirect URL. */
    fun completeLogin(redirectUrl: String) = call {
        client.completeLogin(redirectUrl)
        _state.update { it.copy(loggedIn = true) }
        fetchProfile()
    }

    /** Demo servers only (`sportello serve --dev-auth`). */
    fun devLogin(fiscalCode: String) = call {
        client.devLogin(parseFiscalCode(fiscalCode), emptyList())
        _state.update { it.copy(loggedIn = true) }
        fetchProfile()
    }

    fun loadProfile() = call { fetchProfile() }

    fun logout() = call {
        try {
            // This device stops receiving pushes for the person logging out.
            pushDeviceId?.let { id -> runCatching { client.removeDevice(id) } }
            pushDeviceId = null
            client.logout()
        } finally {
            // The device is logged out even if the server could not be told.
            _state.update { it.copy(loggedIn = false, me = null, inbox = emptyList(), unread = 0uL, openMessage = null) }
        }
    }

    /**
     * Registers this device's FCM token, with Genova for area alerts. Call it after login and from
     * `FirebaseMessagingService.onNewToken` (see the README): registering again is harmless.
     */
    fun registerPushToken(token: String) = call {
        if (client.isLoggedIn()) pushDeviceId = client.registerFcmToken(token, listOf(GENOVA_ISTAT)).id
    }

    /** The first page of the inbox (pull to refresh, or after a push arrived). */
    fun loadInbox() = call {
        val page = client.inbox(null, INBOX_PAGE)
        _state.update { it.copy(inbox = page.items, inboxCursor = page.nextCursor, unread = page.unread) }
    }

    /** The next page, appended. */
    fun loadMoreInbox() = call {
        val cursor = _state.value.inboxCursor ?: return@call
        val page = client.inbox(cursor, INBOX_PAGE)
        _state.update {
            it.copy(inbox = it.inbox + page.items, inboxCursor = page.nextCursor, unread = page.unread)
        }
    }

    /** Opens a message (from the list, or `it.genova.sportello://inbox/{id}`) and marks it read. */
    fun openMessage(id: String) = call {
        val message = client.inboxMessage(id)
        if (!message.read) client.markRead(id)
        val opened = message.copy(read = true)
        _state.update { state ->
            state.copy(
                openMessage = opened,
                inbox = state.inbox.map { if (it.id == id) opened else it },
                unread = if (message.read) state.unread else state.unread - minOf(state.unread, 1uL),
            )
        }
    }

    fun closeMessage() = _state.update { it.copy(openMessage = null) }

    fun deleteMessage(id: String) = call {
        client.deleteMessage(id)
        _state.update { state -> state.copy(inbox = state.inbox.filterNot { it.id == id }, openMessage = null) }
        loadInbox()
    }

    fun dismissError() = _state.update { it.copy(error = null) }

    private suspend fun fetchProfile() {
        val me = client.me()
        _state.update { it.copy(me = me, loggedIn = true) }
    }

    /** Runs a call with the busy flag set, turning its error into a message. */
    private fun call(block: suspend () -> Unit) {
        viewModelScope.launch {
            _state.update { it.copy(busy = true, error = null) }
            try {
                block()
            } catch (error: SportelloException) {
                _state.update { it.copy(error = error.toUiError(), loggedIn = client.isLoggedIn()) }
            } finally {
                _state.update { it.copy(busy = false) }
            }
        }
    }
}

const val GENOVA_ISTAT = "010025"
private const val INBOX_PAGE = 20u

/** Every error the library can raise, mapped once for the whole app. */
fun SportelloException.toUiError(): UiError = when (this) {
    is SportelloException.Network -> UiError.Message(R.string.error_network)
    is SportelloException.Unauthorized -> UiError.Message(R.string.error_session)
    is SportelloException.Forbidden -> UiError.Message(R.string.error_forbidden)
    is SportelloException.RateLimited -> UiError.Message(R.string.error_rate_limited)
    is SportelloException.NotFound -> UiError.Detail(detail)
    is SportelloException.Validation -> UiError.Detail(errors.firstOrNull()?.message ?: detail)
    is SportelloException.LoginFailed ->
        UiError.Message(if (reason == "access_denied") R.string.error_login_cancelled else R.string.error_login_failed)
    is SportelloException.InvalidInput ->
        UiError.Message(if (field == "fiscal_code") R.string.invalid_fiscal_code else R.string.error_generic)
    is SportelloException.Server -> UiError.Message(R.string.error_generic)
}
