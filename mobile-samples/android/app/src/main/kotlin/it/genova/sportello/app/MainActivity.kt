package it.genova.sportello.app

import android.content.Intent
import android.net.Uri
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.browser.customtabs.CustomTabsIntent
import it.genova.sportello.app.ui.SportelloScreen
import it.genova.sportello.app.ui.SportelloTheme

class MainActivity : ComponentActivity() {
    private val viewModel: AppViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            SportelloTheme {
                SportelloScreen(viewModel = viewModel, openInBrowser = ::openInBrowser)
            }
        }
        // On a re-creation (rotation) the redirect was already handled.
        if (savedInstanceState == null) handleLink(intent)
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handleLink(intent)
    }

    /**
     * The browser came back to it.genova.sportello://auth?code=…&state=…, or a notification was
     * tapped: it.genova.sportello://inbox/{id} (see the manifest).
     */
    private fun handleLink(intent: Intent?) {
        val uri = intent?.data ?: return
        if (intent.action != Intent.ACTION_VIEW || uri.scheme != REDIRECT_SCHEME) return
        when (uri.host) {
            REDIRECT_HOST -> viewModel.completeLogin(uri.toString())
            INBOX_HOST -> uri.lastPathSegment?.let(viewModel::openMessage)
            else -> return
        }
        setIntent(Intent(this, MainActivity::class.java))
    }

    /** SPID/CIE login happens in the system browser (a Custom Tab), never in a WebView. */
    private fun openInBrowser(url: String) {
        CustomTabsIntent.Builder().setShowTitle(true).build().launchUrl(this, Uri.parse(url))
    }

    companion object {
        const val REDIRECT_SCHEME = "it.genova.sportello"
        const val REDIRECT_HOST = "auth"
        const val REDIRECT_URI = "$REDIRECT_SCHEME://$REDIRECT_HOST"
        const val INBOX_HOST = "inbox"
    }
}
