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
        if (savedInstanceState == null) handleLoginRedirect(intent)
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handleLoginRedirect(intent)
    }

    /** The browser came back to it.genova.sportello://auth?code=…&state=… (see the manifest). */
    private fun handleLoginRedirect(intent: Intent?) {
        val uri = intent?.data ?: return
        if (intent.action == Intent.ACTION_VIEW && uri.scheme == REDIRECT_SCHEME && uri.host == REDIRECT_HOST) {
            viewModel.completeLogin(uri.toString())
            setIntent(Intent(this, MainActivity::class.java))
        }
    }

    /** SPID/CIE login happens in the system browser (a Custom Tab), never in a WebView. */
    private fun openInBrowser(url: String) {
        CustomTabsIntent.Builder().setShowTitle(true).build().launchUrl(this, Uri.parse(url))
    }

    companion object {
        const val REDIRECT_SCHEME = "it.genova.sportello"
        const val REDIRECT_HOST = "auth"
        const val REDIRECT_URI = "$REDIRECT_SCHEME://$REDIRECT_HOST"
    }
}
