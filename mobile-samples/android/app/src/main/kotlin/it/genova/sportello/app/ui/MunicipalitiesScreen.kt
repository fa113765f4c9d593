package it.genova.sportello.app.ui

import android.Manifest
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import it.genova.sportello.app.AppViewModel
import it.genova.sportello.app.R
import it.genova.sportello.app.UiState
import it.genova.sportello.app.currentCoordinates

/** The 67 municipalities, nearest first once the user shares an approximate location. */
@Composable
fun MunicipalitiesScreen(state: UiState, viewModel: AppViewModel, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val askLocation = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) currentCoordinates(context) { point -> point?.let(viewModel::sortByDistance) }
    }

    Column(modifier.fillMaxSize()) {
        if (state.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        Row(
            Modifier.fillMaxWidth().padding(horizontal = 16.dp, vertical = 8.dp),
            verticalAlignment = Alignment.CenterVertically,
        ) {
            Text(
                stringResource(if (state.sortedByDistance) R.string.nearest_first else R.string.alphabetical),
                style = MaterialTheme.typography.titleMedium,
                modifier = Modifier.weight(1f),
            )
            Button(onClick = { askLocation.launch(Manifest.permission.ACCESS_COARSE_LOCATION) }) {
                Text(stringResource(R.string.use_location))
            }
        }
        if (state.municipalities.isEmpty() && !state.busy) {
            TextButton(onClick = viewModel::loadMunicipalities, modifier = Modifier.padding(16.dp)) {
                Text(stringResource(R.string.retry))
            }
        }
        LazyColumn(Modifier.fillMaxSize()) {
            items(state.municipalities, key = { it.municipality.istatCode }) { row ->
                ListItem(
                    headlineContent = { Text(row.municipality.name) },
                    supportingContent = {
                        Text(stringResource(R.string.population, row.municipality.population.toInt()))
                    },
                    trailingContent = {
                        row.distanceKm?.let { Text(stringResource(R.string.distance_km, it)) }
                    },
                )
                HorizontalDivider()
            }
        }
    }
}
