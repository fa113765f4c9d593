//! Imports of the iCalendar files municipalities already publish: each entry becomes an event
//! of the municipality, upserted by its UID (importing the same file twice changes nothing
//! new); recurrences are kept as rules; entries that cannot be read or checked are listed with
//! their line and skipped, and the others are imported.

use std::collections::BTreeMap;

use sportello_core::api;
use sportello_core::events::ical::{self, ImportedEvent};
use sportello_core::events::{Category, schedule};
use sportello_core::identity::Role;

use super::{Events, EventsError};

/// Largest calendar accepted, bytes.
pub const MAX_CALENDAR_BYTES: usize = 8 * 1024 * 1024;

/// What an import applies to entries that do not say it themselves.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportDefaults {
    /// Venue (or library) of entries without GEO.
    pub venue: Option<String>,
    /// Category of entries without a CATEGORIES value of ours (default `other`).
    pub category: Option<String>,
}

impl Events {
    /// Imports a calendar into the municipality's events (its events officers).
    pub async fn import(
        &self,
        roles: &[Role],
        user_id: &str,
        istat: &str,
        text: &str,
        defaults: &ImportDefaults,
    ) -> Result<api::EventImportSummary, EventsError> {
        let municipality = self.officer_of(roles, istat)?.istat_code.to_string();
        if let Some(category) = &defaults.category
            && category.parse::<Category>().is_err()
        {
            return Err(EventsError::invalid(
                "category",
                "Categoria non prevista.",
                "Unknown category.",
            ));
        }
        let calendar = ical::read(text);
        let mut summary = api::EventImportSummary {
            created: 0,
            updated: 0,
            skipped: calendar
                .bad
                .iter()
                .map(|b| api::EventImportIssue {
                    line: b.line as u64,
                    uid: None,
                    reason: b.reason.clone(),
                })
                .collect(),
        };
        for entry in calendar.events {
            let skip = |reason: String| api::EventImportIssue {
                line: entry.line as u64,
                uid: Some(entry.uid.chars().take(200).collect()),
                reason,
            };
            let input = match to_input(&entry, defaults) {
                Ok(input) => input,
                Err(reason) => {
                    summary.skipped.push(skip(reason));
                    continue;
                }
            };
            if entry.uid.len() > 255 {
                summary
                    .skipped
                    .push(skip("UID longer than 255 characters".to_owned()));
                continue;
            }
            match self
                .upsert_by_uid(&municipality, &entry.uid, input, user_id, false)
                .await
            {
                Ok((_, true)) => summary.created += 1,
                Ok((_, false)) => summary.updated += 1,
                Err(EventsError::Invalid(field)) => summary
                    .skipped
                    .push(skip(format!("{}: {}", field.field, field.en))),
                Err(EventsError::VenueNotFound(venue)) => summary
                    .skipped
                    .push(skip(format!("no venue or library `{venue}`"))),
                Err(other) => return Err(other),
            }
        }
        summary.skipped.sort_by_key(|s| s.line);
        Ok(summary)
    }
}

/// An entry as the event an officer would have written.
fn to_input(entry: &ImportedEvent, defaults: &ImportDefaults) -> Result<api::EventInput, String> {
    let category = entry
        .category
        .as_deref()
        .and_then(|c| {
            Category::ALL
                .iter()
                .find(|k| k.as_str() == c || k.label_it().eq_ignore_ascii_case(c))
                .copied()
        })
        .map(Category::as_str)
        .or(defaults.category.as_deref())
        .unwrap_or("other")
        .to_owned();
    let (venue, place) = match (entry.geo, &defaults.venue) {
        (Some((lat, lon)), _) => {
            let location = entry
                .location
                .clone()
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| "GEO without LOCATION: the place has no name".to_owned())?;
            let name = location.split(',').next().unwrap_or(&location).trim().to_owned();
            (
                None,
                Some(api::EventPlaceInput {
                    name,
                    address: location,
                    lat,
                    lon,
                }),
            )
        }
        (None, Some(venue)) => (Some(venue.clone()), None),
        (None, None) => return Err("no GEO, and no default venue given (`venue=`)".to_owned()),
    };
    let mut texts = BTreeMap::new();
    texts.insert(
        "it".to_owned(),
        api::EventText {
            title: entry.summary.clone(),
            description: entry.description.clone(),
        },
    );
    let status = match entry.status.as_deref() {
        Some("CANCELLED") => "cancelled",
        _ => "scheduled",
    };
    Ok(api::EventInput {
        texts,
        category,
        venue,
        place,
        dates: entry.starts.iter().map(|d| schedule::format_local(*d)).collect(),
        duration_minutes: entry.duration_minutes,
        rrule: entry.rule.clone(),
        exdates: entry
            .exceptions
            .iter()
            .map(|d| schedule::format_local(*d))
            .collect(),
        price_cents: None,
        ticket_url: entry
            .url
            .clone()
            .filter(|u| u.starts_with("http://") || u.starts_with("https://")),
        accessibility: Vec::new(),
        image_url: None,
        status: Some(status.to_owned()),
    })
}
