//! Wire types of the events context.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::Coordinates;

/// An event's title and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct EventText {
    /// Title, 1–200 characters.
    pub title: String,
    /// Plain-text description, up to 8,000 characters.
    #[serde(default)]
    pub description: String,
}

/// An address where an event happens when it is at no known venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventPlaceInput {
    /// Name of the place (`Piazza De Ferrari`).
    pub name: String,
    /// Street address.
    pub address: String,
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub lon: f64,
}

/// What an events officer sends to create an event (and what PATCH merges into).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Title and description by language: `it` required, any of `en`, `fr`, `de`, `es`.
    pub texts: BTreeMap<String, EventText>,
    /// One of `concert`, `theatre`, `dance`, `film`, `exhibition`, `conference`,
    /// `book-presentation`, `reading`, `workshop`, `guided-tour`, `festival`, `fair`, `sport`,
    /// `kids`, `other`.
    #[cfg_attr(feature = "openapi", schema(example = "concert"))]
    pub category: String,
    /// A venue id (a library's id, or a venue an officer added); or give `place`.
    #[serde(default)]
    pub venue: Option<String>,
    /// Where, when not at a venue.
    #[serde(default)]
    pub place: Option<EventPlaceInput>,
    /// Start dates, Europe/Rome wall-clock time (`2026-12-12T21:00`); with `rrule`, the first is
    /// where the rule starts (DTSTART) and the others are extra dates. 1–100.
    pub dates: Vec<String>,
    /// Length of each occurrence, minutes.
    #[cfg_attr(feature = "openapi", schema(example = 120))]
    pub duration_minutes: u32,
    /// RFC 5545 recurrence rule (`FREQ=WEEKLY;BYDAY=TH;UNTIL=20270601T000000Z`), at most daily.
    #[serde(default)]
    pub rrule: Option<String>,
    /// Starts removed from the rule (EXDATE), Europe/Rome wall-clock time. At most 200.
    #[serde(default)]
    pub exdates: Vec<String>,
    /// Price of a full ticket in cents; absent or 0 when free.
    #[serde(default)]
    pub price_cents: Option<i64>,
    /// Where to buy tickets or book.
    #[serde(default)]
    pub ticket_url: Option<String>,
    /// Accessibility features: `wheelchair`, `accessible-toilet`, `hearing-loop`,
    /// `sign-language`, `audio-description`, `tactile`, `easy-read`, `relaxed`.
    #[serde(default)]
    pub accessibility: Vec<String>,
    /// Image URL (shown by clients, never fetched by the server).
    #[serde(default)]
    pub image_url: Option<String>,
    /// `scheduled` (default), `cancelled`, `postponed`, `rescheduled`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A partial update: each field given replaces the event's; the rest stays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    /// Replaces every text.
    pub texts: Option<BTreeMap<String, EventText>>,
    /// Category.
    pub category: Option<String>,
    /// Venue id (clears `place`).
    pub venue: Option<String>,
    /// Place (clears `venue`).
    pub place: Option<EventPlaceInput>,
    /// Start dates.
    pub dates: Option<Vec<String>>,
    /// Minutes.
    pub duration_minutes: Option<u32>,
    /// Recurrence rule; an empty string removes it.
    pub rrule: Option<String>,
    /// Exceptions.
    pub exdates: Option<Vec<String>>,
    /// Price in cents; 0 makes the event free.
    pub price_cents: Option<i64>,
    /// Ticket link; an empty string removes it.
    pub ticket_url: Option<String>,
    /// Accessibility features.
    pub accessibility: Option<Vec<String>>,
    /// Image URL; an empty string removes it.
    pub image_url: Option<String>,
    /// Status; moving the dates of a scheduled event makes it `rescheduled`.
    pub status: Option<String>,
}

/// Where an event happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventVenue {
    /// Venue id; `None` for an address given with the event.
    pub id: Option<String>,
    /// `library`, `venue` or `address`.
    pub kind: String,
    /// ISTAT code of its municipality.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub lon: f64,
    /// The venue's accessibility features.
    pub accessibility: Vec<String>,
    /// Weekly hours (OpenStreetMap syntax), where the venue has them.
    pub opening_hours: Option<String>,
    /// Demo data.
    pub demo: bool,
}

/// Venues, libraries included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventVenueList {
    /// By municipality and name.
    pub items: Vec<EventVenue>,
}

/// What an events officer sends to add or change a venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EventVenueInput {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Accessibility features (as events have them).
    #[serde(default)]
    pub accessibility: Vec<String>,
    /// Weekly hours, OpenStreetMap syntax (`Tu-Su 10:00-19:00`).
    #[serde(default)]
    pub opening_hours: Option<String>,
}

/// One occurrence of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventOccurrence {
    /// Start, RFC 3339 UTC.
    pub starts_at: String,
    /// End, RFC 3339 UTC.
    pub ends_at: String,
}

/// An event as the public and its officers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Event {
    /// Id.
    pub id: String,
    /// ISTAT code of the municipality that publishes it.
    pub municipality: String,
    /// iCalendar UID (kept from an import).
    pub uid: String,
    /// The language of `title` and `description`: the one asked for, else Italian.
    pub lang: String,
    /// Title in `lang`.
    pub title: String,
    /// Description in `lang`.
    pub description: String,
    /// Every text, by language.
    pub texts: BTreeMap<String, EventText>,
    /// Category id.
    pub category: String,
    /// Where.
    pub venue: EventVenue,
    /// Start dates as given (Europe/Rome wall-clock).
    pub dates: Vec<String>,
    /// Minutes.
    pub duration_minutes: u32,
    /// Recurrence rule.
    pub rrule: Option<String>,
    /// Exceptions to the rule.
    pub exdates: Vec<String>,
    /// The next occurrence from now, if any.
    pub next_occurrence: Option<EventOccurrence>,
    /// Upcoming occurrences (at most 20).
    pub upcoming: Vec<EventOccurrence>,
    /// Free entry.
    pub free: bool,
    /// Price in cents when not free.
    pub price_cents: Option<i64>,
    /// Tickets or booking.
    pub ticket_url: Option<String>,
    /// Accessibility features of the event.
    pub accessibility: Vec<String>,
    /// Image URL.
    pub image_url: Option<String>,
    /// `scheduled`, `cancelled`, `postponed` or `rescheduled`.
    pub status: String,
    /// The start it had before it was postponed or moved (RFC 3339).
    pub previous_start: Option<String>,
    /// Demo data.
    pub demo: bool,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// An events search, the query string of `GET /v1/events`: what the server extracts (serde)
/// and what the mobile client sends (`to_params`). Every field is optional; the server checks
/// them, and a bad position, radius, window, category, limit or cursor is a `validation`
/// problem naming the parameter (a `limit` that is not a number from 0 up, such as `-1`, is
/// refused as it is read).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct EventQuery {
    /// The person's position, `lat,lon`: nearest first within `radius_km`, each hit with its
    /// distance. The server sees it; an app can rank on the device instead.
    #[serde(default, deserialize_with = "super::catalog::lat_lon")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, example = "44.4072,8.934"))]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub near: Option<Coordinates>,
    /// Radius around `near`, km (more than 0, at most 50; default 10). Only with `near`.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub radius_km: Option<f64>,
    /// Window start: an RFC 3339 instant, or a date (its start in Europe/Rome). Default now.
    #[cfg_attr(feature = "openapi", param(example = "2026-12-12"))]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub from: Option<String>,
    /// Window end: an RFC 3339 instant, or a date (its end in Europe/Rome, so `from=to=` a date
    /// is that day). Default 30 days after `from`; at most 366 days after it.
    #[cfg_attr(feature = "openapi", param(example = "2026-12-13"))]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub to: Option<String>,
    /// Category id (`concert`, `exhibition`, `guided-tour`, …).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub category: Option<String>,
    /// Only this municipality's events (ISTAT code).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub municipality: Option<String>,
    /// Only free events.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub free: Option<bool>,
    /// Only events with an accessibility feature (of the event or its venue).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub accessible: Option<bool>,
    /// Words in the title (any language) or the place's name.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub q: Option<String>,
    /// Language of the titles: `it`, `en`, `fr`, `de`, `es` (else `Accept-Language`, else
    /// Italian).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub lang: Option<String>,
    /// The previous page's `next_cursor`; none for the first page.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub cursor: Option<String>,
    /// Hits per page, 1 to 50 (default 20).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub limit: Option<u32>,
}

impl EventQuery {
    /// The query string pairs, in the form the server's extractor reads back.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let text = |name, value: &Option<String>| value.clone().map(|value| (name, value));
        let shown = |name, value: Option<&dyn std::fmt::Display>| value.map(|v| (name, v.to_string()));
        [
            self.near.map(|near| ("near", near.to_param())),
            shown("radius_km", self.radius_km.as_ref().map(|r| r as _)),
            text("from", &self.from),
            text("to", &self.to),
            text("category", &self.category),
            text("municipality", &self.municipality),
            shown("free", self.free.as_ref().map(|f| f as _)),
            shown("accessible", self.accessible.as_ref().map(|a| a as _)),
            text("q", &self.q),
            text("lang", &self.lang),
            text("cursor", &self.cursor),
            shown("limit", self.limit.as_ref().map(|l| l as _)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// One event found by a search: its first occurrence in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventHit {
    /// Event id.
    pub id: String,
    /// Its municipality.
    pub municipality: String,
    /// Language of `title`.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Status.
    pub status: String,
    /// Where.
    pub venue: EventVenue,
    /// Kilometres from `near`, when given.
    pub distance_km: Option<f64>,
    /// First start in the window (RFC 3339).
    pub starts_at: String,
    /// Its end.
    pub ends_at: String,
    /// Occurrences of the event in the window.
    pub occurrences_in_window: u32,
    /// The next occurrence from now.
    pub next_occurrence: Option<EventOccurrence>,
    /// Free entry.
    pub free: bool,
    /// Price in cents when not free.
    pub price_cents: Option<i64>,
    /// Any accessibility feature (of the event or its venue).
    pub accessible: bool,
    /// Image URL.
    pub image_url: Option<String>,
}

/// A page of search hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventPage {
    /// Nearest first with `near`, else soonest first.
    pub items: Vec<EventHit>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// An entry of an imported calendar that was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventImportIssue {
    /// Line of the calendar where the entry starts (1-based).
    pub line: u64,
    /// The entry's UID, when it has one.
    pub uid: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// What an iCalendar import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventImportSummary {
    /// Events new to the municipality (by UID).
    pub created: u64,
    /// Events with a UID already imported, replaced.
    pub updated: u64,
    /// Entries skipped, with their line.
    pub skipped: Vec<EventImportIssue>,
}

/// The events a person follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventList {
    /// Most recently followed first (at most 200).
    pub items: Vec<Event>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_queries_become_parameters_the_server_reads_back() {
        assert!(EventQuery::default().to_params().is_empty());
        let query = EventQuery {
            near: Some(Coordinates {
                lat: 44.4072,
                lon: 8.934,
            }),
            radius_km: Some(2.5),
            from: Some("2026-12-12".into()),
            to: Some("2026-12-13".into()),
            free: Some(true),
            lang: Some("en".into()),
            limit: Some(5),
            ..EventQuery::default()
        };
        let params = query.to_params();
        assert_eq!(
            params,
            [
                ("near", "44.4072,8.934".to_owned()),
                ("radius_km", "2.5".to_owned()),
                ("from", "2026-12-12".to_owned()),
                ("to", "2026-12-13".to_owned()),
                ("free", "true".to_owned()),
                ("lang", "en".to_owned()),
                ("limit", "5".to_owned()),
            ]
        );
        // Strings stand in for the query string here (numbers and booleans aside, which the
        // query-string reader converts).
        let text: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .filter(|(name, _)| ["near", "from", "to", "lang"].contains(name))
            .map(|(name, value)| ((*name).to_owned(), value.clone().into()))
            .collect();
        let back: EventQuery = serde_json::from_value(text.into()).unwrap();
        assert_eq!(
            (back.near, back.from, back.lang),
            (query.near, query.from, query.lang)
        );
        assert!(serde_json::from_str::<EventQuery>(r#"{"near":"north"}"#).is_err());
        assert!(serde_json::from_str::<EventQuery>(r#"{"when":"weekend"}"#).is_err());
        // A negative page size is not a page size: refused as it is read, naming `limit`.
        assert!(serde_json::from_str::<EventQuery>(r#"{"limit":-1}"#).is_err());
    }
}
