//! Stored events and venues as the API shows them.

use sportello_core::api;
use sportello_core::events::{EventSpec, Lang, schedule};

use super::EventsError;
use super::store::{EventRow, VenueRow};
use crate::catalog::store::LibraryRow;
use crate::clock::rfc3339_from_ms;

/// A venue an officer added.
pub fn venue(row: &VenueRow) -> api::EventVenue {
    api::EventVenue {
        id: Some(row.id.clone()),
        kind: "venue".to_owned(),
        municipality: row.municipality.clone(),
        name: row.name.clone(),
        address: row.address.clone(),
        lat: row.lat,
        lon: row.lon,
        accessibility: row.accessibility.split_whitespace().map(str::to_owned).collect(),
        opening_hours: row.opening_hours.clone(),
        demo: row.demo,
    }
}

/// A library, as a venue.
pub fn library_venue(library: &LibraryRow) -> api::EventVenue {
    api::EventVenue {
        id: Some(library.id.clone()),
        kind: "library".to_owned(),
        municipality: library.municipality.clone(),
        name: library.name.clone(),
        address: library.address.clone(),
        lat: library.lat,
        lon: library.lon,
        // The catalogue records a library's services, not its accessibility.
        accessibility: Vec::new(),
        opening_hours: Some(library.opening_hours.clone()).filter(|h| !h.is_empty()),
        demo: library.demo,
    }
}

/// An occurrence in stored milliseconds.
pub fn occurrence((start, end): (i64, i64)) -> api::EventOccurrence {
    api::EventOccurrence {
        starts_at: rfc3339_from_ms(start),
        ends_at: rfc3339_from_ms(end),
    }
}

/// What the stored row holds, read back.
pub struct Stored {
    pub spec: EventSpec,
    pub venue: api::EventVenue,
}

/// Reads the stored input and place of an event (checked when written: a failure is a
/// corrupt row).
pub fn stored(row: &EventRow) -> Result<Stored, EventsError> {
    let internal = |e: &dyn std::fmt::Display| EventsError::Internal(format!("event {}: {e}", row.id));
    let input: api::EventInput = serde_json::from_str(&row.data).map_err(|e| internal(&e))?;
    let spec = EventSpec::check(&input).map_err(|e| internal(&e))?;
    let venue = serde_json::from_str(&row.venue).map_err(|e| internal(&e))?;
    Ok(Stored { spec, venue })
}

/// An event with its upcoming occurrences.
pub fn event(row: &EventRow, lang: Lang, upcoming: &[(i64, i64)]) -> Result<api::Event, EventsError> {
    let Stored { spec, venue, .. } = stored(row)?;
    let (lang, text) = spec.text(lang);
    let mut accessibility: Vec<String> = spec.accessibility.iter().map(|a| a.as_str().to_owned()).collect();
    accessibility.sort();
    Ok(api::Event {
        id: row.id.clone(),
        municipality: row.municipality.clone(),
        uid: row.uid.clone(),
        lang: lang.as_str().to_owned(),
        title: text.title.clone(),
        description: text.description.clone(),
        texts: spec
            .texts
            .iter()
            .map(|(l, t)| {
                (
                    l.as_str().to_owned(),
                    api::EventText {
                        title: t.title.clone(),
                        description: t.description.clone(),
                    },
                )
            })
            .collect(),
        category: spec.category.as_str().to_owned(),
        venue,
        dates: spec
            .schedule
            .starts
            .iter()
            .map(|d| schedule::format_local(*d))
            .collect(),
        duration_minutes: spec.schedule.duration_minutes,
        rrule: spec.schedule.rule.clone(),
        exdates: spec
            .schedule
            .exceptions
            .iter()
            .map(|d| schedule::format_local(*d))
            .collect(),
        next_occurrence: upcoming.first().copied().map(occurrence),
        upcoming: upcoming.iter().copied().map(occurrence).collect(),
        free: spec.is_free(),
        price_cents: spec.price_cents,
        ticket_url: spec.ticket_url.clone(),
        accessibility,
        image_url: spec.image_url.clone(),
        status: row.status.clone(),
        previous_start: row.previous_start.map(rfc3339_from_ms),
        demo: row.demo,
        updated_at: rfc3339_from_ms(row.updated_at),
    })
}

/// What a search hit shows of an event, read without re-checking its schedule (the rule's
/// parser is most of the cost of reading an event back, and a hit shows no schedule).
pub struct Summary {
    pub input: api::EventInput,
    pub venue: api::EventVenue,
}

/// Reads the stored input and place of an event for a hit.
pub fn summary(row: &EventRow) -> Result<Summary, EventsError> {
    let internal = |e: &dyn std::fmt::Display| EventsError::Internal(format!("event {}: {e}", row.id));
    Ok(Summary {
        input: serde_json::from_str(&row.data).map_err(|e| internal(&e))?,
        venue: serde_json::from_str(&row.venue).map_err(|e| internal(&e))?,
    })
}

impl Summary {
    /// The title in `lang`, else in Italian: (language, title).
    pub fn title(&self, lang: Lang) -> (Lang, String) {
        self.input
            .texts
            .get(lang.as_str())
            .map(|t| (lang, t.title.trim().to_owned()))
            .or_else(|| {
                self.input
                    .texts
                    .get("it")
                    .map(|t| (Lang::It, t.title.trim().to_owned()))
            })
            .unwrap_or((Lang::It, String::new()))
    }

    /// The price in cents, `None` when free (as `EventSpec` reads it).
    pub fn price_cents(&self) -> Option<i64> {
        self.input.price_cents.filter(|c| *c > 0)
    }
}
