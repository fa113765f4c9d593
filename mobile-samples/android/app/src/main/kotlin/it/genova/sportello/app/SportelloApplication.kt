package it.genova.sportello.app

import android.app.Application
import android.util.Log
import it.genova.sportello.mobile.PushNotification
import it.genova.sportello.mobile.SessionListener
import it.genova.sportello.mobile.SessionSnapshot
import it.genova.sportello.mobile.SportelloClient
import it.genova.sportello.mobile.SportelloException
import it.genova.sportello.mobile.parsePushData
import java.util.Locale

/** Holds the one Sportello client of the app and keeps its session in the Keystore. */
class SportelloApplication : Application() {
    lateinit var client: SportelloClient
        private set

    override fun onCreate() {
        super.onCreate()
        val store = SessionStore(this)
        client = SportelloClient(BuildConfig.SPORTELLO_BASE_URL, serverLanguage())
        // The refresh token rotates at every renewal: store each new one, or the next start would
        // present a spent token and the server would end the session.
        client.setSessionListener(object : SessionListener {
            override fun onSessionChanged(snapshot: SessionSnapshot?) {
                if (snapshot == null) store.clear() else store.save(snapshot.refreshToken)
            }
        })
        store.load()?.let { token ->
            try {
                client.restoreSession(token)
            } catch (error: SportelloException) {
                Log.w("Sportello", "stored session refused: $error")
                store.clear()
            }
        }
    }

    /** Ids of the pushes already shown, oldest first (pushes are delivered at least once). */
    private val shownPushes = LinkedHashSet<String>()

    /**
     * A received push's data (FCM `RemoteMessage.data`) if it is Sportello's and not shown yet;
     * null for another SDK's message or a repeat of one already shown (same `id`). The caller
     * shows a notification whose tap opens `push.url` (it.genova.sportello://inbox/{id}).
     */
    fun newPush(data: Map<String, String>): PushNotification? {
        val push = try {
            parsePushData(data)
        } catch (error: SportelloException) {
            return null
        }
        synchronized(shownPushes) {
            if (!shownPushes.add(push.id)) return null
            if (shownPushes.size > MAX_SHOWN_PUSHES) shownPushes.remove(shownPushes.first())
        }
        return push
    }

    /** The server speaks Italian and English; Italian is the default. */
    private fun serverLanguage(): String = if (Locale.getDefault().language == "en") "en" else "it"

    private companion object {
        const val MAX_SHOWN_PUSHES = 500
    }
}
