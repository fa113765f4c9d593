//! An alert as sent (JSON or CAP), filled in from the alert it updates or cancels and checked.

use std::collections::BTreeMap;

use sportello_core::alerts::{self, Hazard, Level, MsgType, Polygon, Zone};
use sportello_core::api;

use super::AlertsError;
use super::store::AlertRow;
use super::wire;

/// Longest an alert may last.
const MAX_DURATION_MS: i64 = 14 * 86_400_000;
/// How far in the past an onset may lie (an alert written late for a hazard already begun).
const MAX_ONSET_PAST_MS: i64 = 86_400_000;

/// An alert, update or cancellation as sent, before it is checked against the stored ones.
#[derive(Debug, Clone)]
pub struct Draft {
    pub(super) msg_type: MsgType,
    pub(super) references: Option<String>,
    /// (sender, identifier) of the referenced alert, for CAP documents.
    pub(super) cap_reference: Option<(String, String)>,
    pub(super) level: Option<Level>,
    pub(super) hazard: Option<Hazard>,
    pub(super) zones: Vec<Zone>,
    pub(super) municipalities: Vec<String>,
    pub(super) polygons: Vec<Polygon>,
    pub(super) onset: Option<i64>,
    pub(super) expires: Option<i64>,
    pub(super) texts: BTreeMap<String, api::AlertText>,
    pub(super) identifier: Option<String>,
    pub(super) sender: Option<String>,
    pub(super) sent: Option<i64>,
    pub(super) source: &'static str,
    pub(super) demo: bool,
}

impl Draft {
    pub(super) fn new(msg_type: MsgType, source: &'static str) -> Self {
        Self {
            msg_type,
            references: None,
            cap_reference: None,
            level: None,
            hazard: None,
            zones: Vec::new(),
            municipalities: Vec::new(),
            polygons: Vec::new(),
            onset: None,
            expires: None,
            texts: BTreeMap::new(),
            identifier: None,
            sender: None,
            sent: None,
            source,
            demo: false,
        }
    }
}

impl Draft {
    /// Fills in what a cancellation (or an update without an area) takes from the alert it
    /// references: its area, and for a cancellation its level, hazard, times and texts.
    pub(super) fn inherit(&mut self, earlier: &AlertRow, now: i64) {
        if self.msg_type == MsgType::Cancel || (self.municipalities.is_empty() && self.zones.is_empty()) {
            self.municipalities.clone_from(&earlier.municipalities);
            if self.polygons.is_empty() {
                self.polygons = wire::polygons(earlier);
            }
        }
        if self.msg_type == MsgType::Cancel {
            self.level = self.level.or(earlier.level.parse().ok());
            self.hazard = self.hazard.or(earlier.hazard.parse().ok());
            self.onset = self.onset.or(Some(earlier.onset));
            self.expires = self.expires.or(Some(earlier.expires.max(now + 60_000)));
            if self.texts.is_empty() {
                self.texts = wire::texts(earlier)
                    .into_iter()
                    .map(|(lang, text)| {
                        let prefix = if lang == "it" { "Revocata" } else { "Cancelled" };
                        let headline: String = format!("{prefix}: {}", text.headline)
                            .chars()
                            .take(alerts::MAX_HEADLINE)
                            .collect();
                        (
                            lang,
                            api::AlertText {
                                headline,
                                description: String::new(),
                                instruction: String::new(),
                            },
                        )
                    })
                    .collect();
            }
        }
    }

    /// Checks the content: level, hazard, times, texts; returns (level, hazard, onset, expires).
    pub(super) fn checked(&self, now: i64) -> Result<(Level, Hazard, i64, i64), AlertsError> {
        let level = self
            .level
            .ok_or_else(|| AlertsError::invalid("level", "Obbligatorio.", "Required."))?;
        let hazard = self
            .hazard
            .ok_or_else(|| AlertsError::invalid("hazard", "Obbligatorio.", "Required."))?;
        let onset = self.onset.unwrap_or(now);
        let expires = self
            .expires
            .ok_or_else(|| AlertsError::invalid("expires", "Obbligatoria.", "Required."))?;
        if onset < now - MAX_ONSET_PAST_MS {
            return Err(AlertsError::invalid(
                "onset",
                "Al più un giorno fa.",
                "At most a day ago.",
            ));
        }
        if expires <= onset.max(now) || expires - onset > MAX_DURATION_MS {
            return Err(AlertsError::invalid(
                "expires",
                "Dopo l'inizio e adesso, entro 14 giorni dall'inizio.",
                "After the onset and now, within 14 days of the onset.",
            ));
        }
        for lang in self.texts.keys() {
            if !["it", "en", "fr", "de", "es"].contains(&lang.as_str()) {
                return Err(AlertsError::invalid(
                    "texts",
                    "Lingue: it, en, fr, de, es.",
                    "Languages: it, en, fr, de, es.",
                ));
            }
        }
        for lang in ["it", "en"] {
            let text = self.texts.get(lang).ok_or_else(|| {
                AlertsError::invalid(&format!("texts.{lang}"), "Testo obbligatorio.", "Required.")
            })?;
            alerts::check_text(
                &format!("texts.{lang}"),
                &text.headline,
                &text.description,
                &text.instruction,
            )?;
        }
        Ok((level, hazard, onset, expires))
    }
}
