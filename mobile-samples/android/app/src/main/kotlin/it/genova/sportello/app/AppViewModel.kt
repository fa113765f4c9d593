package it.genova.sportello.app

import android.app.Application
import androidx.annotation.StringRes
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import it.genova.sportello.mobile.AuthProviderList
import it.genova.sportello.mobile.Coordinates
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
    val busy: Boolean = false,
    val error: UiError? = null,
)

class AppViewModel(application: Application) : AndroidViewModel(application) {
    private val client = (application as SportelloApplication).client
    private val _state = MutableStateFlow(UiState(loggedIn = client.isLoggedIn()))
    val state: StateFlow<UiState> = _state.asStateFlow()

    /** As the server sent them (alphabetical): ranking happens on the device. */
    private var municipalities: List<Municipality> = emptyList()

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
            client.logout()
        } finally {
            // The device is logged out even if the server could not be told.
            _state.update { it.copy(loggedIn = false, me = null) }
        }
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
