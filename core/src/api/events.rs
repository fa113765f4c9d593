//! Wire types of the events context.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// An event's title and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
