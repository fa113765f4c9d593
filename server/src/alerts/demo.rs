//! The demo's alert (`--demo`): a yellow alert for thunderstorms in Genova's zone (B), in
//! Genova, for the next two days, marked demo. Loaded again only when no demo alert is active.

use std::collections::BTreeMap;

use sportello_core::api;

use super::store::{self, ActiveFilter};
use super::{Alerts, AlertsError};
use crate::clock::{now_ms, rfc3339_from_ms};

/// Publishes the demo alert unless one is active; returns whether it did.
pub async fn load(alerts: &Alerts) -> Result<bool, AlertsError> {
    let genova = ActiveFilter {
        municipality: Some("010025"),
        ..ActiveFilter::default()
    };
    let active = store::active(&alerts.db, &genova, now_ms(), 100).await?;
    if active.iter().any(|row| row.demo) {
        return Ok(false);
    }
    let text = |headline: &str, description: &str, instruction: &str| api::AlertText {
        headline: headline.to_owned(),
        description: description.to_owned(),
        instruction: instruction.to_owned(),
    };
    let input = api::AlertInput {
        msg_type: None,
        references: None,
        level: Some("gialla".to_owned()),
        hazard: Some("temporali".to_owned()),
        zones: vec!["B".to_owned()],
        municipalities: vec!["010025".to_owned()],
        polygons: Vec::new(),
        onset: None,
        expires: Some(rfc3339_from_ms(now_ms() + 2 * 86_400_000)),
        texts: BTreeMap::from([
            (
                "it".to_owned(),
                text(
                    "DEMO – Allerta gialla per temporali, zona B",
                    "Dimostrazione: non è un'allerta reale. Temporali forti possibili.",
                    "Evita i sottopassi e le zone vicine ai torrenti; segui i canali ufficiali del Comune.",
                ),
            ),
            (
                "en".to_owned(),
                text(
                    "DEMO – Yellow alert for thunderstorms, zone B",
                    "Demonstration: not a real alert. Strong thunderstorms possible.",
                    "Avoid underpasses and areas near streams; follow the Comune's official channels.",
                ),
            ),
        ]),
    };
    alerts.publish_demo(&input).await?;
    Ok(true)
}
