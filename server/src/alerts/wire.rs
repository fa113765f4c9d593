//! Stored alerts as the API shows them, and what their pushes carry.

use std::collections::BTreeMap;

use sportello_core::alerts::{self, Polygon, area};
use sportello_core::api;

use super::store::AlertRow;
use crate::clock::rfc3339_from_ms;

/// Most vertices of the area a push carries, all polygons together: with the rest of the
/// payload it stays under Web Push's 4,096 bytes (docs/alerts.md).
pub const PUSH_AREA_VERTICES: usize = 100;

/// The stored polygons (written by this server, so they parse; a damaged value reads as none).
pub fn polygons(row: &AlertRow) -> Vec<Polygon> {
    let wire: Vec<Vec<[f64; 2]>> = serde_json::from_str(&row.polygons).unwrap_or_default();
    alerts::polygons_from_wire("polygons", &wire).unwrap_or_default()
}

/// The stored texts.
pub fn texts(row: &AlertRow) -> BTreeMap<String, api::AlertText> {
    serde_json::from_str(&row.texts).unwrap_or_default()
}

/// The alert's status as the public sees it: an active alert past its expiry is `expired`.
fn status(row: &AlertRow, now: i64) -> String {
    if row.status == "active" && row.expires <= now {
        "expired".to_owned()
    } else {
        row.status.clone()
    }
}

/// One alert.
pub fn alert(row: &AlertRow, now: i64, distance_km: Option<f64>) -> api::Alert {
    api::Alert {
        id: row.id.clone(),
        identifier: row.identifier.clone(),
        sender: row.sender.clone(),
        msg_type: row.msg_type.clone(),
        references: row.references_id.clone(),
        status: status(row, now),
        level: row.level.clone(),
        hazard: row.hazard.clone(),
        zones: row.zones.split_whitespace().map(str::to_owned).collect(),
        municipalities: row.municipalities.clone(),
        polygons: serde_json::from_str(&row.polygons).unwrap_or_default(),
        onset: rfc3339_from_ms(row.onset),
        expires: rfc3339_from_ms(row.expires),
        sent: rfc3339_from_ms(row.sent),
        texts: texts(row),
        source: row.source.clone(),
        demo: row.demo,
        distance_km: distance_km.map(|d| (d * 1000.0).round() / 1000.0),
    }
}

/// What the pushes of an alert carry, the area simplified to fit.
pub fn push(row: &AlertRow) -> api::AlertPush {
    let fitted = area::simplify_to_fit(&polygons(row), PUSH_AREA_VERTICES);
    api::AlertPush {
        id: row.id.clone(),
        chain: row.chain_id.clone(),
        msg_type: row.msg_type.clone(),
        level: row.level.clone(),
        hazard: row.hazard.clone(),
        expires: rfc3339_from_ms(row.expires),
        headline: texts(row)
            .into_iter()
            .map(|(lang, text)| (lang, text.headline))
            .collect(),
        municipalities: row.municipalities.clone(),
        area: alerts::polygons_to_wire(&fitted, 5),
    }
}

/// The Web Push `Topic` (at most 32 URL-safe characters) and FCM/APNs collapse key of a chain:
/// its first alert's UUID without hyphens.
pub fn collapse_key(chain_id: &str) -> String {
    let key: String = chain_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect();
    if key.is_empty() { "alerts".to_owned() } else { key }
}
