package it.genova.sportello.app.ui

import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Email
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Person
import androidx.compose.material3.Badge
import androidx.compose.material3.BadgedBox
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableIntStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import it.genova.sportello.app.AppViewModel
import it.genova.sportello.app.R
import it.genova.sportello.app.UiError

/** Three tabs: the municipalities near the user, the inbox, and the citizen's profile (login, me()). */
@Composable
fun SportelloScreen(viewModel: AppViewModel, openInBrowser: (String) -> Unit) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    var tab by rememberSaveable { mutableIntStateOf(0) }
    val snackbar = remember { SnackbarHostState() }
    val context = LocalContext.current

    // A push's deep link opened a message: show it.
    LaunchedEffect(state.openMessage) {
        if (state.openMessage != null) tab = 1
    }

    LaunchedEffect(state.error) {
        val error = state.error ?: return@LaunchedEffect
        val text = when (error) {
            is UiError.Message -> context.getString(error.text)
            is UiError.Detail -> error.text
        }
        snackbar.showSnackbar(text)
        viewModel.dismissError()
    }

    Scaffold(
        snackbarHost = { SnackbarHost(snackbar) },
        bottomBar = {
            NavigationBar {
                NavigationBarItem(
                    selected = tab == 0,
                    onClick = { tab = 0 },
                    icon = { Icon(Icons.Filled.Home, contentDescription = null) },
                    label = { Text(stringResource(R.string.tab_municipalities)) },
                )
                NavigationBarItem(
                    selected = tab == 1,
                    onClick = {
                        tab = 1
                        if (state.loggedIn) viewModel.loadInbox()
                    },
                    icon = {
                        BadgedBox(badge = { if (state.unread > 0uL) Badge { Text(state.unread.toString()) } }) {
                            Icon(Icons.Filled.Email, contentDescription = null)
                        }
                    },
                    label = { Text(stringResource(R.string.tab_inbox)) },
                )
                NavigationBarItem(
                    selected = tab == 2,
                    onClick = { tab = 2 },
                    icon = { Icon(Icons.Filled.Person, contentDescription = null) },
                    label = { Text(stringResource(R.string.tab_profile)) },
                )
            }
        },
    ) { padding ->
        val modifier = Modifier.padding(padding)
        when (tab) {
            0 -> MunicipalitiesScreen(state, viewModel, modifier)
            1 -> InboxScreen(state, viewModel, modifier)
            else -> ProfileScreen(state, viewModel, openInBrowser, modifier)
        }
    }
}
