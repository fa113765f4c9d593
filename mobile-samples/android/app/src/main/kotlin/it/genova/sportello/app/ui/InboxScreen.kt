package it.genova.sportello.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import it.genova.sportello.app.AppViewModel
import it.genova.sportello.app.R
import it.genova.sportello.app.UiState
import it.genova.sportello.mobile.InboxMessage

/** The inbox (as the IO app's messages): newest first, unread in bold, a page at a time. */
@Composable
fun InboxScreen(state: UiState, viewModel: AppViewModel, modifier: Modifier = Modifier) {
    val opened = state.openMessage
    when {
        !state.loggedIn -> Text(stringResource(R.string.inbox_login), modifier.padding(16.dp))
        opened != null -> MessageDetail(opened, viewModel, modifier)
        else -> LazyColumn(modifier.fillMaxSize()) {
            item {
                if (state.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
                Text(
                    stringResource(R.string.inbox_unread, state.unread.toInt()),
                    Modifier.padding(16.dp),
                    style = MaterialTheme.typography.titleSmall,
                )
                if (state.inbox.isEmpty() && !state.busy) {
                    Text(stringResource(R.string.inbox_empty), Modifier.padding(16.dp))
                }
            }
            items(state.inbox, key = { it.id }) { message ->
                Column(
                    Modifier.fillMaxWidth().clickable { viewModel.openMessage(message.id) }.padding(16.dp),
                ) {
                    Text(
                        message.subject,
                        fontWeight = if (message.read) FontWeight.Normal else FontWeight.Bold,
                    )
                    message.dueDate?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
                }
                HorizontalDivider()
            }
            if (state.inboxCursor != null) {
                item {
                    TextButton(onClick = viewModel::loadMoreInbox, Modifier.padding(8.dp)) {
                        Text(stringResource(R.string.inbox_more))
                    }
                }
            }
        }
    }
}

@Composable
private fun MessageDetail(message: InboxMessage, viewModel: AppViewModel, modifier: Modifier) {
    Column(
        modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Text(message.subject, style = MaterialTheme.typography.headlineSmall)
        // Markdown, shown as plain text in this sample.
        Text(message.body)
        message.payment?.let { payment ->
            Text("${payment.noticeNumber} · € %.2f".format(payment.amountCents / 100.0))
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = viewModel::closeMessage) { Text(stringResource(R.string.back)) }
            OutlinedButton(onClick = { viewModel.deleteMessage(message.id) }) { Text(stringResource(R.string.delete)) }
        }
    }
}
