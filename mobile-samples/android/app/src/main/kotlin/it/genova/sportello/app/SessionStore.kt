package it.genova.sportello.app

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import java.security.GeneralSecurityException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The refresh token at rest: encrypted with an AES key that lives in the Android Keystore (never
 * exportable), the ciphertext in private preferences. Anything unreadable is dropped: the user
 * just logs in again.
 */
class SessionStore(context: Context) {
    private val prefs = context.getSharedPreferences("sportello_session", Context.MODE_PRIVATE)

    fun save(refreshToken: String) {
        try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key())
            val ciphertext = cipher.doFinal(refreshToken.toByteArray(Charsets.UTF_8))
            prefs.edit()
                .putString(IV, Base64.encodeToString(cipher.iv, Base64.NO_WRAP))
                .putString(TOKEN, Base64.encodeToString(ciphertext, Base64.NO_WRAP))
                .apply()
        } catch (error: GeneralSecurityException) {
            clear()
        }
    }

    fun load(): String? {
        val iv = prefs.getString(IV, null) ?: return null
        val token = prefs.getString(TOKEN, null) ?: return null
        return try {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(128, Base64.decode(iv, Base64.NO_WRAP)))
            String(cipher.doFinal(Base64.decode(token, Base64.NO_WRAP)), Charsets.UTF_8)
        } catch (error: GeneralSecurityException) {
            clear()
            null
        } catch (error: IllegalArgumentException) {
            clear()
            null
        }
    }

    fun clear() {
        prefs.edit().clear().apply()
    }

    private fun key(): SecretKey {
        val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (keyStore.getEntry(ALIAS, null) as? KeyStore.SecretKeyEntry)?.let { return it.secretKey }
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(
            KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .build(),
        )
        return generator.generateKey()
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "sportello-session"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV = "iv"
        const val TOKEN = "refresh_token"
    }
}
