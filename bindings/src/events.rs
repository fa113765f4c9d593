//! Cultural events: search (near a point, in a window such as "this weekend", by category,
//! price, accessibility and words), one event, following events, and ranking a page of events
//! nearest first on the device, so the person's location need not leave the phone.
//!
//! As in the catalogue, two ways to get "nearest first": pass `near` to the server
//! (`search_events`), which then sees the position; or search without it and rank here
//! (`rank_events_by_distance`, `search_events_nearest_on_device`). Both measure with core's
//! haversine distance from the event's place, so they agree.

use std::collections::HashMap;
use std::time::SystemTime;

use reqwest::Method;
use sportello_core::api::{self, Coordinates, EventQuery, EventText};
use sportello_core::events as domain;

use crate::client::{SportelloClient, optional_time, path_segment, timestamp};
use crate::error::SportelloError;
use crate::geo::{checked, rank_by_distance};
use crate::tenant::checked_municipality;

/// A window named as people say it. Core's `events::Period`, as an enum the apps can pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EventPeriod {
    /// From now to the end of today (Europe/Rome).
    Today,
    /// From now, or the coming Saturday's start, to the end of Sunday; on a Sunday the rest of
    /// that day.
    ThisWeekend,
}

impl From<EventPeriod> for domain::Period {
    fn from(period: EventPeriod) -> Self {
        match period {
            EventPeriod::Today => domain::Period::Today,
            EventPeriod::ThisWeekend => domain::Period::ThisWeekend,
        }
    }
}

/// The `from` and `to` of an `EventQuery` for a named window. Core's `events::Window`, as a
/// record the apps can read.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EventWindow {
    /// Window start: an RFC 3339 instant (now) or a date (its start in Rome).
    pub from: String,
    /// Window end: a date (the window runs to its end in Rome).
    pub to: String,
}

/// The window of `period` seen from `now` (the device's clock), in Europe/Rome whatever the
/// phone's time zone: put `from` and `to` into an `EventQuery`. The web pages use the same
/// windows.
#[uniffi::export]
pub fn event_window(period: EventPeriod, now: SystemTime) -> Result<EventWindow, SportelloError> {
    let now = jiff::Timestamp::try_from(now).map_err(|error| SportelloError::invalid("now", &error))?;
    let window = domain::Period::from(period).window(now);
    Ok(EventWindow {
        from: window.from,
        to: window.to,
    })
}

/// Whether an event goes ahead. Not a string: a status from a newer server is `Unknown`
/// instead of failing the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EventStatus {
    /// As planned.
    Scheduled,
    /// Will not happen.
    Cancelled,
    /// Put off to a date not yet known.
    Postponed,
    /// Moved to a new date (`previous_start` says from when).
    Rescheduled,
    /// A status this library version does not know.
    Unknown,
}

impl EventStatus {
    /// A status string from the server.
    fn from_wire(text: &str) -> Self {
        match text.parse::<domain::EventStatus>() {
            Ok(domain::EventStatus::Scheduled) => EventStatus::Scheduled,
            Ok(domain::EventStatus::Cancelled) => EventStatus::Cancelled,
            Ok(domain::EventStatus::Postponed) => EventStatus::Postponed,
            Ok(domain::EventStatus::Rescheduled) => EventStatus::Rescheduled,
            Err(()) => EventStatus::Unknown,
        }
    }
}

/// Where an event happens. Not `api::EventVenue`: the place is one `Coordinates`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventVenue {
    /// Venue id (a library's id for a library); none for an address given with the event.
    pub id: Option<String>,
    /// `library`, `venue` or `address`.
    pub kind: String,
    /// ISTAT code of its municipality.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Where it is.
    pub location: Coordinates,
    /// The venue's accessibility features (`wheelchair`, `hearing-loop`, …).
    pub accessibility: Vec<String>,
    /// Weekly hours (OpenStreetMap syntax), where the venue has them.
    pub opening_hours: Option<String>,
    /// Demo data.
    pub demo: bool,
}

impl From<api::EventVenue> for EventVenue {
    fn from(v: api::EventVenue) -> Self {
        Self {
            id: v.id,
            kind: v.kind,
            municipality: v.municipality,
            name: v.name,
            address: v.address,
            location: Coordinates {
                lat: v.lat,
                lon: v.lon,
            },
            accessibility: v.accessibility,
            opening_hours: v.opening_hours,
            demo: v.demo,
        }
    }
}

/// One occurrence of an event. Not `api::EventOccurrence`: its start and end are times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct EventOccurrence {
    /// Start.
    pub starts_at: SystemTime,
    /// End.
    pub ends_at: SystemTime,
}

impl TryFrom<api::EventOccurrence> for EventOccurrence {
    type Error = SportelloError;

    fn try_from(o: api::EventOccurrence) -> Result<Self, Self::Error> {
        Ok(Self {
            starts_at: timestamp("starts_at", &o.starts_at)?,
            ends_at: timestamp("ends_at", &o.ends_at)?,
        })
    }
}

/// Occurrences from the server.
fn occurrences(list: Vec<api::EventOccurrence>) -> Result<Vec<EventOccurrence>, SportelloError> {
    list.into_iter().map(EventOccurrence::try_from).collect()
}

/// One event found by a search: its first occurrence in the window. Not `api::EventHit`: times
/// are times, the status an `EventStatus`, the venue the apps' `EventVenue`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventHit {
    /// Event id, for `event`, `follow_event`.
    pub id: String,
    /// ISTAT code of the municipality that publishes it.
    pub municipality: String,
    /// The language of `title`: the one asked for, else Italian.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Category id (`concert`, `exhibition`, …).
    pub category: String,
    /// Whether it goes ahead.
    pub status: EventStatus,
    /// Where.
    pub venue: EventVenue,
    /// Km from the person's position: from the server with `near`, or computed on the device by
    /// `rank_events_by_distance`.
    pub distance_km: Option<f64>,
    /// Its first start in the window.
    pub starts_at: SystemTime,
    /// That occurrence's end.
    pub ends_at: SystemTime,
    /// How many times it starts in the window.
    pub occurrences_in_window: u32,
    /// The next occurrence from now.
    pub next_occurrence: Option<EventOccurrence>,
    /// Free entry.
    pub free: bool,
    /// Price of a full ticket in cents, when not free.
    pub price_cents: Option<i64>,
    /// Any accessibility feature, of the event or its venue.
    pub accessible: bool,
    /// Image URL.
    pub image_url: Option<String>,
}

impl TryFrom<api::EventHit> for EventHit {
    type Error = SportelloError;

    fn try_from(h: api::EventHit) -> Result<Self, Self::Error> {
        Ok(Self {
            starts_at: timestamp("starts_at", &h.starts_at)?,
            ends_at: timestamp("ends_at", &h.ends_at)?,
            next_occurrence: h.next_occurrence.map(EventOccurrence::try_from).transpose()?,
            status: EventStatus::from_wire(&h.status),
            venue: h.venue.into(),
            id: h.id,
            municipality: h.municipality,
            lang: h.lang,
            title: h.title,
            category: h.category,
            distance_km: h.distance_km,
            occurrences_in_window: h.occurrences_in_window,
            free: h.free,
            price_cents: h.price_cents,
            accessible: h.accessible,
            image_url: h.image_url,
        })
    }
}

/// A page of search hits. Not `api::EventPage`: it holds the apps' `EventHit`s.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EventPage {
    /// Nearest first with `near` (then soonest), else soonest first.
    pub items: Vec<EventHit>,
    /// Pass as `cursor` for the next page; none on the last one.
    pub next_cursor: Option<String>,
}

impl TryFrom<api::EventPage> for EventPage {
    type Error = SportelloError;

    fn try_from(page: api::EventPage) -> Result<Self, Self::Error> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(EventHit::try_from)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }
}

/// An event. Not `api::Event`: times are times, the status an `EventStatus`, the venue the
/// apps' `EventVenue`, the texts a map UniFFI can carry.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
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
    /// Description in `lang` (plain text).
    pub description: String,
    /// Every text, by language (`it` always).
    pub texts: HashMap<String, EventText>,
    /// Category id.
    pub category: String,
    /// Where.
    pub venue: EventVenue,
    /// Start dates as written, Europe/Rome wall-clock (`2026-12-12T21:00`).
    pub dates: Vec<String>,
    /// Length of each occurrence, minutes.
    pub duration_minutes: u32,
    /// RFC 5545 recurrence rule.
    pub rrule: Option<String>,
    /// Starts removed from the rule, Europe/Rome wall-clock.
    pub exdates: Vec<String>,
    /// The next occurrence from now, if any.
    pub next_occurrence: Option<EventOccurrence>,
    /// Upcoming occurrences (at most 20).
    pub upcoming: Vec<EventOccurrence>,
    /// Free entry.
    pub free: bool,
    /// Price of a full ticket in cents, when not free.
    pub price_cents: Option<i64>,
    /// Tickets or booking.
    pub ticket_url: Option<String>,
    /// Accessibility features of the event.
    pub accessibility: Vec<String>,
    /// Image URL.
    pub image_url: Option<String>,
    /// Whether it goes ahead.
    pub status: EventStatus,
    /// The start it had before it was postponed or moved.
    pub previous_start: Option<SystemTime>,
    /// Demo data.
    pub demo: bool,
    /// Last change.
    pub updated_at: SystemTime,
}

impl TryFrom<api::Event> for Event {
    type Error = SportelloError;

    fn try_from(e: api::Event) -> Result<Self, Self::Error> {
        Ok(Self {
            next_occurrence: e.next_occurrence.map(EventOccurrence::try_from).transpose()?,
            upcoming: occurrences(e.upcoming)?,
            previous_start: optional_time("previous_start", e.previous_start.as_deref())?,
            updated_at: timestamp("updated_at", &e.updated_at)?,
            status: EventStatus::from_wire(&e.status),
            venue: e.venue.into(),
            texts: e.texts.into_iter().collect(),
            id: e.id,
            municipality: e.municipality,
            uid: e.uid,
            lang: e.lang,
            title: e.title,
            description: e.description,
            category: e.category,
            dates: e.dates,
            duration_minutes: e.duration_minutes,
            rrule: e.rrule,
            exdates: e.exdates,
            free: e.free,
            price_cents: e.price_cents,
            ticket_url: e.ticket_url,
            accessibility: e.accessibility,
            image_url: e.image_url,
            demo: e.demo,
        })
    }
}

/// The query string of `GET /v1/events` (core's `EventQuery`, which the server reads back),
/// with the municipality checked on the device.
fn search_params(query: &EventQuery) -> Result<Vec<(&'static str, String)>, SportelloError> {
    checked_municipality(query.to_params())
}

/// `lang=` when the call names a language (else the client's `Accept-Language` decides).
fn lang_param(lang: Option<String>) -> Vec<(&'static str, String)> {
    lang.map(|lang| ("lang", lang.trim().to_owned()))
        .into_iter()
        .collect()
}

/// Ranks a page of events nearest first from `origin` on the device, with `distance_km` filled
/// in; `limit` keeps the nearest ones.
///
/// Give it a `search_events` page fetched **without** `near`: the server then never learns
/// where the person is. Events at the same distance (the same venue) keep their order in
/// `hits` (the server's: soonest first), which is the order the server gives with `near`;
/// events whose place has unusable coordinates are left out. A bad `origin` fails with
/// `InvalidInput` (there is no server to ask).
#[uniffi::export(default(limit = None))]
pub fn rank_events_by_distance(
    hits: Vec<EventHit>,
    origin: Coordinates,
    limit: Option<u32>,
) -> Result<Vec<EventHit>, SportelloError> {
    Ok(rank_by_distance(hits, origin, |h| h.venue.location, limit)?
        .into_iter()
        .map(|(hit, distance)| EventHit {
            distance_km: Some(distance),
            ..hit
        })
        .collect())
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// Searches the events with an occurrence starting in a window (default: the next 30 days):
    /// nearest first with `near` (the server sees it), else soonest first. See `EventQuery` for
    /// the filters and `event_window` for "today" and "this weekend". Titles are in `lang`,
    /// else the client's language, else Italian. A bad position, radius, window, category,
    /// limit or cursor is `Validation` naming the parameter; a malformed municipality code is
    /// `InvalidInput`, found before any request.
    pub async fn search_events(&self, query: EventQuery) -> Result<EventPage, SportelloError> {
        let params = search_params(&query)?;
        let page: api::EventPage = self
            .send(self.request(Method::GET, "v1/events")?.query(&params))
            .await?;
        page.try_into()
    }

    /// Searches, then ranks the page nearest first from `origin` **on the device**: the server
    /// never receives the position. The query must not carry `near` or `radius_km`
    /// (`InvalidInput`: they would send it); a bad `origin` is `InvalidInput` too, found before
    /// any request. The ranking is over one page: ask for a window small enough to fit in one
    /// (`limit` up to 50).
    pub async fn search_events_nearest_on_device(
        &self,
        query: EventQuery,
        origin: Coordinates,
    ) -> Result<EventPage, SportelloError> {
        checked(origin)?;
        if query.near.is_some() || query.radius_km.is_some() {
            return Err(SportelloError::invalid(
                "near",
                "ranking on the device must not send the position: leave near and radius_km out",
            ));
        }
        let mut page = self.search_events(query).await?;
        page.items = rank_events_by_distance(page.items, origin, None)?;
        Ok(page)
    }

    /// One event (public), in `lang` if given, else the client's language, else Italian.
    #[uniffi::method(default(lang = None))]
    pub async fn event(&self, id: String, lang: Option<String>) -> Result<Event, SportelloError> {
        let path = format!("v1/events/{}", path_segment("id", &id)?);
        let query = lang_param(lang);
        let event: api::Event = self.send(self.request(Method::GET, &path)?.query(&query)).await?;
        event.try_into()
    }

    /// Follows an event (logged in): a reminder before each occurrence, and a push if it is
    /// cancelled, postponed or moved. Following it again changes nothing; an unknown event is
    /// `NotFound`.
    pub async fn follow_event(&self, id: String) -> Result<(), SportelloError> {
        let path = format!("v1/me/events/{}/follow", path_segment("id", &id)?);
        self.authorized_empty(|| self.request(Method::POST, &path)).await
    }

    /// Stops following an event; `NotFound` when the person did not follow it.
    pub async fn unfollow_event(&self, id: String) -> Result<(), SportelloError> {
        let path = format!("v1/me/events/{}/follow", path_segment("id", &id)?);
        self.authorized_empty(|| self.request(Method::DELETE, &path))
            .await
    }

    /// The events the person follows, most recently followed first (at most 200), in `lang`
    /// if given, else the client's language, else Italian.
    #[uniffi::method(default(lang = None))]
    pub async fn my_events(&self, lang: Option<String>) -> Result<Vec<Event>, SportelloError> {
        let query = lang_param(lang);
        let list: api::EventList = self
            .authorized(|| Ok(self.request(Method::GET, "v1/me/events")?.query(&query)))
            .await?;
        list.items.into_iter().map(Event::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Piazza De Ferrari, Genova.
    const DE_FERRARI: Coordinates = Coordinates {
        lat: 44.4072,
        lon: 8.9340,
    };
    const DUCALE: Coordinates = Coordinates {
        lat: 44.407_33,
        lon: 8.934,
    };
    const GALATA: Coordinates = Coordinates {
        lat: 44.414_28,
        lon: 8.923_65,
    };
    const CAMOGLI: Coordinates = Coordinates {
        lat: 44.3486,
        lon: 9.1565,
    };

    fn wire_hit(id: &str, at: Coordinates, starts_at: &str) -> api::EventHit {
        api::EventHit {
            id: id.into(),
            municipality: "010025".into(),
            lang: "en".into(),
            title: format!("Event {id}"),
            category: "concert".into(),
            status: "scheduled".into(),
            venue: api::EventVenue {
                id: Some(format!("venue-{id}")),
                kind: "venue".into(),
                municipality: "010025".into(),
                name: "A venue".into(),
                address: "Via X 1".into(),
                lat: at.lat,
                lon: at.lon,
                accessibility: vec![],
                opening_hours: None,
                demo: true,
            },
            distance_km: None,
            starts_at: starts_at.into(),
            ends_at: "2026-12-12T20:00:00Z".into(),
            occurrences_in_window: 1,
            next_occurrence: None,
            free: true,
            price_cents: None,
            accessible: false,
            image_url: None,
        }
    }

    fn hit(id: &str, at: Coordinates) -> EventHit {
        wire_hit(id, at, "2026-12-12T18:00:00Z").try_into().unwrap()
    }

    fn ids(hits: &[EventHit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn events_are_ranked_nearest_first_on_the_device_ties_in_the_given_order() {
        let nowhere = Coordinates {
            lat: f64::NAN,
            lon: 8.9,
        };
        let hits = vec![
            hit("camogli", CAMOGLI),
            hit("ducale-early", DUCALE),
            hit("nowhere", nowhere),
            hit("galata", GALATA),
            hit("ducale-late", DUCALE),
        ];
        let ranked = rank_events_by_distance(hits.clone(), DE_FERRARI, None).unwrap();
        assert_eq!(
            ids(&ranked),
            ["ducale-early", "ducale-late", "galata", "camogli"],
            "an unusable place is left out, ties keep the server's soonest-first order"
        );
        let km: Vec<f64> = ranked.iter().map(|h| h.distance_km.unwrap()).collect();
        assert!(km[0] < 0.05 && (km[0] - km[1]).abs() < 1e-12, "{km:?}");
        assert!((1.0..1.5).contains(&km[2]), "{km:?}");
        assert!((18.0..23.0).contains(&km[3]), "{km:?}");
        assert_eq!(
            ids(&rank_events_by_distance(hits.clone(), DE_FERRARI, Some(1)).unwrap()),
            ["ducale-early"]
        );
        let bad = rank_events_by_distance(hits, Coordinates { lat: 91.0, lon: 0.0 }, None).unwrap_err();
        assert!(
            matches!(&bad, SportelloError::InvalidInput { field, .. } if field == "coordinates"),
            "{bad:?}"
        );
    }

    #[test]
    fn wire_events_become_the_apps_records() {
        let hit = hit("x", DUCALE);
        assert_eq!(hit.venue.location, DUCALE);
        assert_eq!(hit.status, EventStatus::Scheduled);
        let start = hit
            .starts_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(start, 1_797_098_400);
        let mut odd = wire_hit("y", DUCALE, "2026-12-12T18:00:00Z");
        odd.status = "sold-out".into();
        assert_eq!(
            EventHit::try_from(odd).unwrap().status,
            EventStatus::Unknown,
            "a status from a newer server degrades instead of failing"
        );
        let broken = wire_hit("z", DUCALE, "saturday");
        assert!(matches!(
            EventHit::try_from(broken),
            Err(SportelloError::Server { .. })
        ));
        assert_eq!(EventStatus::from_wire("rescheduled"), EventStatus::Rescheduled);
    }

    #[test]
    fn a_search_checks_its_municipality_on_the_device() {
        let query = EventQuery {
            municipality: Some(" 010025 ".into()),
            free: Some(true),
            ..EventQuery::default()
        };
        assert_eq!(
            search_params(&query).unwrap(),
            [("municipality", "010025".to_owned()), ("free", "true".to_owned())]
        );
        let bad = EventQuery {
            municipality: Some("Genova".into()),
            ..EventQuery::default()
        };
        assert!(matches!(
            search_params(&bad),
            Err(SportelloError::InvalidInput { field, .. }) if field == "istat_code"
        ));
    }

    #[test]
    fn named_windows_are_cores_periods_in_rome() {
        // Wednesday 9 December 2026, 10:00 UTC.
        let wednesday: jiff::Timestamp = "2026-12-09T10:00:00Z".parse().unwrap();
        let wednesday = SystemTime::try_from(wednesday).unwrap();
        assert_eq!(
            event_window(EventPeriod::ThisWeekend, wednesday).unwrap(),
            EventWindow {
                from: "2026-12-12".into(),
                to: "2026-12-13".into()
            }
        );
        assert_eq!(
            event_window(EventPeriod::Today, wednesday).unwrap(),
            EventWindow {
                from: "2026-12-09T10:00:00Z".into(),
                to: "2026-12-09".into()
            }
        );
    }
}
