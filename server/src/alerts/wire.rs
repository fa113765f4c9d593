//! Stored alerts as the API shows them, and what their pushes carry.

use std::collections::BTreeMap;

use sportello_core::alerts::{self, Polygon, area};
use sportello_core::api;

use super::store::AlertRow;
use crate::clock::rfc3339_from_ms;

/// Most vertices of the area a push carries, all polygons together.
pub const PUSH_AREA_VERTICES: usize = 100;
/// Most bytes of a push's alert data: with the message's ids, subject and preview (at most
/// about 1,200 bytes) the payload stays under Web Push's 3,993 bytes of plaintext and FCM's
/// 4 KB (docs/alerts.md).
pub const MAX_PUSH_DATA: usize = 2_400;

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

/// What the pushes of an alert carry, as JSON: the area simplified until the whole fits in
/// [`MAX_PUSH_DATA`] (halving the vertex budget; without the area as a last resort, when the
/// app falls back on the municipalities).
pub fn push_json(row: &AlertRow) -> String {
    let polygons = polygons(row);
    let mut budget = PUSH_AREA_VERTICES;
    loop {
        let mut data = push(row, &polygons, budget);
        if budget == 0 {
            data.area.clear();
        }
        let json = serde_json::to_string(&data).unwrap_or_default();
        if json.len() <= MAX_PUSH_DATA || budget == 0 {
            return json;
        }
        budget = if budget <= 8 { 0 } else { budget / 2 };
    }
}

/// What the pushes of an alert carry, the area simplified to `max_vertices` at most.
fn push(row: &AlertRow, polygons: &[Polygon], max_vertices: usize) -> api::AlertPush {
    let fitted = area::simplify_to_fit(polygons, max_vertices);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_data_fits_with_a_large_area_and_every_municipality() {
        // 20 polygons of 720 vertices each, 67 municipalities, long headlines with accents.
        let circle = |lat: f64| -> Vec<[f64; 2]> {
            (0..720)
                .map(|i| {
                    let angle = f64::from(i).to_radians() / 2.0;
                    [lat + 0.01 * angle.sin(), 8.93 + 0.014 * angle.cos()]
                })
                .collect()
        };
        let wire: Vec<Vec<[f64; 2]>> = (0..20).map(|i| circle(44.0 + f64::from(i) * 0.03)).collect();
        let headline = "è".repeat(160);
        let row = AlertRow {
            id: "0190a0a0-0000-7000-8000-000000000000".into(),
            identifier: "x".into(),
            sender: "s".into(),
            chain_id: "0190a0a0-0000-7000-8000-000000000000".into(),
            msg_type: "alert".into(),
            references_id: None,
            cap_references: None,
            status: "active".into(),
            level: "rossa".into(),
            hazard: "idraulico".into(),
            zones: "B C D E".into(),
            polygons: serde_json::to_string(&wire).unwrap(),
            texts: serde_json::json!({"it": {"headline": headline, "description": "", "instruction": ""},
                "en": {"headline": headline, "description": "", "instruction": ""}})
            .to_string(),
            onset: 0,
            expires: 1,
            sent: 0,
            source: "api".into(),
            created_by: "t".into(),
            demo: false,
            created_at: 0,
            municipalities: (1..=67).map(|n| format!("0100{n:02}")).collect(),
        };
        let json = push_json(&row);
        assert!(json.len() <= MAX_PUSH_DATA, "{}", json.len());
        let data: api::AlertPush = serde_json::from_str(&json).unwrap();
        assert_eq!(data.municipalities.len(), 67);
        assert_eq!(data.chain, row.chain_id);
        assert!(data.area.len() <= 20);
        let small = AlertRow {
            polygons: serde_json::to_string(&vec![circle(44.4)]).unwrap(),
            municipalities: vec!["010025".into()],
            ..row
        };
        let data: api::AlertPush = serde_json::from_str(&push_json(&small)).unwrap();
        let vertices = data.area[0].len();
        assert!((4..=PUSH_AREA_VERTICES).contains(&vertices), "{vertices}");
    }
}
