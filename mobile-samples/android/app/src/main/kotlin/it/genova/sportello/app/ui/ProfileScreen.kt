package it.genova.sportello.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.unit.dp
import it.genova.sportello.app.AppViewModel
import it.genova.sportello.app.R
import it.genova.sportello.app.UiState
import it.genova.sportello.mobile.Me
import it.genova.sportello.mobile.isValidFiscalCode

/** Logged out: a button per identity provider. Logged in: who the user is, and logout. */
@Composable
fun ProfileScreen(
    state: UiState,
    viewModel: AppViewModel,
    openInBrowser: (String) -> Unit,
    modifier: Modifier = Modifier,
) {
    Column(
        modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        if (state.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        val me = state.me
        if (state.loggedIn && me != null) {
            Profile(me)
            OutlinedButton(onClick = viewModel::logout) { Text(stringResource(R.string.logout)) }
        } else {
            Login(state, viewModel, openInBrowser)
        }
    }
}

@Composable
private fun Profile(me: Me) {
    val name = listOfNotNull(me.givenName, me.familyName).joinToString(" ")
    if (name.isNotEmpty()) Text(name, style = MaterialTheme.typography.headlineSmall)
    Text(me.fiscalCode, style = MaterialTheme.typography.titleMedium)
    HorizontalDivider()
    Text(stringResource(R.string.roles), style = MaterialTheme.typography.titleSmall)
    // Role.toString() is the role string, e.g. operator:010025:permits.
    me.roles.forEach { role -> Text(role.toString()) }
}

@Composable
private fun Login(state: UiState, viewModel: AppViewModel, openInBrowser: (String) -> Unit) {
    val providers = state.providers
    providers?.items?.forEach { provider ->
        Button(
            onClick = { viewModel.beginLogin(provider.id)?.let(openInBrowser) },
            modifier = Modifier.fillMaxWidth(),
        ) { Text(stringResource(R.string.login_with, provider.displayName)) }
    }
    if (providers != null && providers.items.isEmpty() && !providers.devLogin) {
        Text(stringResource(R.string.no_providers))
    }
    if (providers?.devLogin == true) {
        HorizontalDivider()
        Text(stringResource(R.string.dev_login), style = MaterialTheme.typography.titleSmall)
        var fiscalCode by rememberSaveable { mutableStateOf("") }
        // Checked on the device with core's validator before anything is sent.
        val valid = isValidFiscalCode(fiscalCode)
        OutlinedTextField(
            value = fiscalCode,
            onValueChange = { fiscalCode = it.take(16) },
            label = { Text(stringResource(R.string.fiscal_code)) },
            isError = fiscalCode.length == 16 && !valid,
            singleLine = true,
            keyboardOptions = KeyboardOptions(capitalization = KeyboardCapitalization.Characters),
            modifier = Modifier.fillMaxWidth(),
        )
        OutlinedButton(onClick = { viewModel.devLogin(fiscalCode) }, enabled = valid) {
            Text(stringResource(R.string.dev_login))
        }
    }
}
