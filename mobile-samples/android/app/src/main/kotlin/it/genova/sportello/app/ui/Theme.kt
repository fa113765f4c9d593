package it.genova.sportello.app.ui

import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color

/** Genova's red and a neutral secondary; dark mode follows the system. */
private val GenovaRed = Color(0xFFB71C1C)

@Composable
fun SportelloTheme(content: @Composable () -> Unit) {
    val colors = if (isSystemInDarkTheme()) {
        darkColorScheme(primary = Color(0xFFEF9A9A))
    } else {
        lightColorScheme(primary = GenovaRed)
    }
    MaterialTheme(colorScheme = colors, content = content)
}
