package it.genova.sportello.app

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import android.os.CancellationSignal
import androidx.core.content.ContextCompat
import androidx.core.location.LocationManagerCompat
import it.genova.sportello.core.Coordinates

/**
 * The device's approximate position, from the platform's location service (no Play Services).
 * Calls [onResult] on the main thread, with null when there is no permission or no fix.
 */
fun currentCoordinates(context: Context, onResult: (Coordinates?) -> Unit) {
    val granted = ContextCompat.checkSelfPermission(context, Manifest.permission.ACCESS_COARSE_LOCATION) ==
        PackageManager.PERMISSION_GRANTED
    val manager = context.getSystemService(LocationManager::class.java)
    if (!granted || manager == null) {
        onResult(null)
        return
    }
    val provider = listOf(LocationManager.NETWORK_PROVIDER, LocationManager.GPS_PROVIDER)
        .firstOrNull { manager.isProviderEnabled(it) }
    if (provider == null) {
        onResult(null)
        return
    }
    try {
        // A recent fix is good enough to rank municipalities; otherwise ask for a fresh one.
        manager.getLastKnownLocation(provider)?.let {
            onResult(Coordinates(lat = it.latitude, lon = it.longitude))
            return
        }
        LocationManagerCompat.getCurrentLocation(
            manager,
            provider,
            null as CancellationSignal?,
            ContextCompat.getMainExecutor(context),
        ) { location -> onResult(location?.let { Coordinates(lat = it.latitude, lon = it.longitude) }) }
    } catch (error: SecurityException) {
        onResult(null)
    }
}
