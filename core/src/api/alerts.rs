//! Wire types of the alerts context.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An alert's text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertText {
    /// Short text, 1–160 characters (the push's title).
    pub headline: String,
    /// What is expected, up to 4,000 characters.
    #[serde(default)]
    pub description: String,
    /// What people should do, up to 4,000 characters.
    #[serde(default)]
    pub instruction: String,
}

/// What a civil-protection officer sends: a new alert, an update of an earlier one (it replaces
/// it, on the phones too) or a cancellation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertInput {
    /// `alert` (default), `update` or `cancel`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "alert"))]
    pub msg_type: Option<String>,
    /// The id of the alert this one updates or cancels.
    #[serde(default)]
    pub references: Option<String>,
    /// `notice`, `gialla`, `arancione` or `rossa` (a cancellation keeps the earlier one's).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "arancione"))]
    pub level: Option<String>,
    /// `idrogeologico`, `idraulico`, `temporali`, `neve`, `vento`, `mareggiate`, `incendi`,
    /// `other` (a cancellation keeps the earlier one's).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "idrogeologico"))]
    pub hazard: Option<String>,
    /// Liguria's alert zones (`A`–`E`) the alert is for; with `municipalities`, those must lie
    /// in them; alone, every municipality of the zones.
    #[serde(default)]
    pub zones: Vec<String>,
    /// ISTAT codes of the municipalities alerted (the sender must be a civil-protection
    /// officer of each, or an admin).
    #[serde(default)]
    pub municipalities: Vec<String>,
    /// Areas drawn by the officer (a river's flood area, a street): each a list of
    /// `[lat, lon]` vertices, at most 20 polygons of 1,000 vertices.
    #[serde(default)]
    pub polygons: Vec<Vec<[f64; 2]>>,
    /// When the hazard begins (RFC 3339); now if absent.
    #[serde(default)]
    pub onset: Option<String>,
    /// When the alert ends (RFC 3339), after the onset and within 14 days; required but for a
    /// cancellation.
    #[serde(default)]
    pub expires: Option<String>,
    /// Texts by language: `it` and `en` required (a cancellation may omit them).
    #[serde(default)]
    pub texts: BTreeMap<String, AlertText>,
}

/// An alert as the public sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Alert {
    /// Sportello's id.
    pub id: String,
    /// The CAP identifier (the sender's own for an imported alert).
    pub identifier: String,
    /// The CAP sender.
    pub sender: String,
    /// `alert`, `update` or `cancel`.
    pub msg_type: String,
    /// The alert this one updates or cancels.
    pub references: Option<String>,
    /// `active`; `replaced` by an update; `cancelled`; `expired`; or, for an update or
    /// cancellation itself once superseded, `replaced`.
    pub status: String,
    /// `notice`, `gialla`, `arancione`, `rossa`.
    pub level: String,
    /// The hazard.
    pub hazard: String,
    /// Alert zones.
    pub zones: Vec<String>,
    /// ISTAT codes of the municipalities alerted.
    pub municipalities: Vec<String>,
    /// Drawn areas, `[lat, lon]` vertices, each ring closed.
    pub polygons: Vec<Vec<[f64; 2]>>,
    /// RFC 3339.
    pub onset: String,
    /// RFC 3339.
    pub expires: String,
    /// RFC 3339.
    pub sent: String,
    /// Texts by language.
    pub texts: BTreeMap<String, AlertText>,
    /// `api` (written in Sportello) or `cap` (imported).
    pub source: String,
    /// Demo data, not a real alert.
    pub demo: bool,
    /// With `near`: kilometres from the point to the nearest drawn area, 0 inside; absent for
    /// alerts found by municipality only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// A page of active alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AlertPage {
    /// Most recent first.
    pub items: Vec<Alert>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// What a push about an alert carries (Web Push payload `alert`, FCM data `alert` as JSON text),
/// so the app can show it, replace the earlier one and decide on the device whether it is
/// where the phone is (`sportello_core::alerts::area_contains`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AlertPush {
    /// The alert's id.
    pub id: String,
    /// The first alert of its chain: the updates and the cancellation of an alert share it,
    /// and so does the push's collapse key (Web Push `Topic`, FCM `collapse_key`,
    /// `apns-collapse-id`).
    pub chain: String,
    /// `alert`, `update` or `cancel`: on `cancel`, remove the notification.
    pub msg_type: String,
    /// The level.
    pub level: String,
    /// The hazard.
    pub hazard: String,
    /// RFC 3339.
    pub expires: String,
    /// Headlines by language (`it`, `en`).
    pub headline: BTreeMap<String, String>,
    /// ISTAT codes of the municipalities alerted.
    pub municipalities: Vec<String>,
    /// The drawn areas, simplified to fit in a push (`[lat, lon]` rounded to 5 decimals, about
    /// a metre).
    pub area: Vec<Vec<[f64; 2]>>,
}
