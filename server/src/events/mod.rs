//! Cultural events: venues (the libraries and the places officers add), events written by the
//! `operator:<istat>:events` officers of each municipality, their occurrences materialised up to
//! a horizon so that public search reads one indexed table, and the public views of an event.
//!
//! [`Events`] owns its database: `writes.rs` the officers' writes (and the demo's), `search.rs`
//! the public search, `wire.rs` stored rows to the API's view; `store.rs` holds the SQL and
//! `http.rs` the handlers.

pub mod demo;
mod error;
mod feed;
mod follows;
pub mod formats;
mod grid;
pub mod http;
pub mod imports;
mod reminders;
mod search;
pub mod store;
mod wire;
mod writes;

use std::sync::Arc;

use sportello_core::api;
use sportello_core::events::{Lang, check_features, check_place};
use sportello_core::geo::Coordinates;
use sportello_core::identity::{Office, Role, may_operate};
use sportello_core::tenant::Municipality;

pub use self::error::EventsError;
pub use self::feed::FeedQuery;
pub use self::imports::ImportDefaults;
pub use self::reminders::ReminderReport;
pub use self::search::SearchRequest;
use self::store::VenueRow;
use crate::catalog::Catalog;
use crate::clock::now_ms;
use crate::config::EventsConfig;
use crate::db::Db;
use crate::notify::Notifier;
use crate::tenant::Municipalities;

/// Occurrences are materialised this far ahead of a write (and of every start).
pub const HORIZON_DAYS: i64 = 400;
/// Occurrences of the last days are rewritten with the event (earlier ones are history).
const PAST_DAYS: i64 = 31;
/// Most occurrences of one event in the horizon (a daily event has about 430).
pub const MAX_OCCURRENCES: usize = 1_000;
/// Most venues listed at once.
const VENUE_LIST_LIMIT: i64 = 2_000;
/// Longest venue id.
const MAX_VENUE_ID: usize = 64;
const DAY_MS: i64 = 86_400_000;

/// The events service.
pub struct Events {
    db: Db,
    municipalities: Arc<Municipalities>,
    catalog: Arc<Catalog>,
    config: EventsConfig,
    /// Woken after reminders are queued (tests run without one).
    notifier: Option<Arc<Notifier>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// The service; libraries come from the catalogue, which owns them.
    pub fn new(
        db: Db,
        municipalities: Arc<Municipalities>,
        catalog: Arc<Catalog>,
        config: EventsConfig,
    ) -> Self {
        Self {
            db,
            municipalities,
            catalog,
            config,
            notifier: None,
        }
    }

    /// Wakes `notifier` after queuing reminders, so their pushes leave at once.
    #[must_use]
    pub fn with_notifier(mut self, notifier: Arc<Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// The municipality `istat`, if the roles include its events office (or admin).
    fn officer_of(&self, roles: &[Role], istat: &str) -> Result<&Municipality, EventsError> {
        let municipality = self.municipalities.require(istat)?;
        if !may_operate(roles, &municipality.istat_code, Office::Events) {
            return Err(EventsError::Forbidden);
        }
        Ok(municipality)
    }

    /// Every venue (libraries included) of one municipality or of all, by municipality and name.
    pub async fn venues(&self, municipality: Option<&str>) -> Result<api::EventVenueList, EventsError> {
        if let Some(code) = municipality {
            self.municipalities.require(code)?;
        }
        let mut items: Vec<api::EventVenue> = store::venues(&self.db, municipality, VENUE_LIST_LIMIT)
            .await?
            .iter()
            .map(wire::venue)
            .collect();
        let libraries = self
            .catalog
            .libraries()
            .await
            .map_err(|e| EventsError::Internal(e.to_string()))?;
        items.extend(
            libraries
                .values()
                .filter(|l| municipality.is_none_or(|m| l.municipality == m))
                .map(wire::library_venue),
        );
        items.sort_by(|a, b| (&a.municipality, &a.name, &a.id).cmp(&(&b.municipality, &b.name, &b.id)));
        Ok(api::EventVenueList { items })
    }

    /// Adds or changes a venue of the municipality (an events officer's). A library's id is
    /// the catalogue's, and another municipality's venue cannot be overwritten.
    pub async fn put_venue(
        &self,
        roles: &[Role],
        istat: &str,
        id: &str,
        input: &api::EventVenueInput,
    ) -> Result<api::EventVenue, EventsError> {
        let municipality = self.officer_of(roles, istat)?;
        self.write_venue(municipality.istat_code.as_str(), id, input, false)
            .await
    }

    /// Writes a venue after its checks (demo venues too).
    async fn write_venue(
        &self,
        municipality: &str,
        id: &str,
        input: &api::EventVenueInput,
        demo: bool,
    ) -> Result<api::EventVenue, EventsError> {
        if id.is_empty()
            || id.len() > MAX_VENUE_ID
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(EventsError::invalid(
                "id",
                "Identificativo: da 1 a 64 tra lettere minuscole, cifre e trattini.",
                "Id: 1 to 64 lower-case letters, digits and hyphens.",
            ));
        }
        let libraries = self
            .catalog
            .libraries()
            .await
            .map_err(|e| EventsError::Internal(e.to_string()))?;
        if libraries.get(id).is_some() {
            return Err(EventsError::invalid(
                "id",
                "Questo identificativo è di una biblioteca: la modifica il catalogo.",
                "This id is a library's: the catalogue changes it.",
            ));
        }
        // Another municipality's venue is theirs to change.
        if let Some(existing) = store::venue(&self.db, id).await?
            && existing.municipality != municipality
        {
            return Err(EventsError::Forbidden);
        }
        let at = check_place(&input.name, &input.address, input.lat, input.lon)?;
        let accessibility = check_features("accessibility", &input.accessibility)?;
        let opening_hours = input
            .opening_hours
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        if let Some(hours) = opening_hours {
            sportello_core::catalog::hours::OpeningHours::parse(hours, &[]).map_err(|e| {
                EventsError::invalid(
                    "opening_hours",
                    format!("Orari non validi: {e}"),
                    format!("Invalid opening hours: {e}"),
                )
            })?;
        }
        let row = VenueRow {
            id: id.to_owned(),
            municipality: municipality.to_owned(),
            name: input.name.trim().to_owned(),
            address: input.address.trim().to_owned(),
            lat: at.lat(),
            lon: at.lon(),
            accessibility: accessibility
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            opening_hours: opening_hours.map(str::to_owned),
            demo,
        };
        store::upsert_venue(&self.db, &row, now_ms()).await?;
        Ok(wire::venue(&row))
    }

    /// Where an event happens: a venue or library by id, or the place given with it.
    async fn resolve_venue(
        &self,
        municipality: &str,
        input: &api::EventInput,
    ) -> Result<api::EventVenue, EventsError> {
        match (&input.venue, &input.place) {
            (Some(id), None) => {
                if let Some(row) = store::venue(&self.db, id).await? {
                    return Ok(wire::venue(&row));
                }
                let libraries = self
                    .catalog
                    .libraries()
                    .await
                    .map_err(|e| EventsError::Internal(e.to_string()))?;
                libraries
                    .get(id)
                    .map(wire::library_venue)
                    .ok_or_else(|| EventsError::VenueNotFound(id.chars().take(64).collect()))
            }
            (None, Some(place)) => {
                let at = check_place(&place.name, &place.address, place.lat, place.lon)
                    .map_err(|e| EventsError::invalid(&format!("place.{}", e.field), e.it, e.en))?;
                Ok(api::EventVenue {
                    id: None,
                    kind: "address".to_owned(),
                    municipality: municipality.to_owned(),
                    name: place.name.trim().to_owned(),
                    address: place.address.trim().to_owned(),
                    lat: at.lat(),
                    lon: at.lon(),
                    accessibility: Vec::new(),
                    opening_hours: None,
                    demo: false,
                })
            }
            _ => Err(EventsError::invalid(
                "venue",
                "Indica una sede (`venue`) oppure un luogo (`place`), non entrambi.",
                "Give a venue (`venue`) or a place (`place`), not both.",
            )),
        }
    }

    /// One event, as the public sees it, in `lang` (else Italian).
    pub async fn get(&self, id: &str, lang: Lang) -> Result<api::Event, EventsError> {
        let row = store::event(&self.db, id).await?.ok_or(EventsError::NotFound)?;
        self.to_api(&row, lang).await
    }

    /// One event of the municipality, for its events officers.
    pub async fn get_in(
        &self,
        roles: &[Role],
        istat: &str,
        id: &str,
        lang: Lang,
    ) -> Result<api::Event, EventsError> {
        let municipality = self.officer_of(roles, istat)?;
        let row = store::event(&self.db, id)
            .await?
            .filter(|e| e.municipality == municipality.istat_code.as_str())
            .ok_or(EventsError::NotFound)?;
        self.to_api(&row, lang).await
    }

    async fn to_api(&self, row: &store::EventRow, lang: Lang) -> Result<api::Event, EventsError> {
        let now = now_ms();
        let upcoming = store::occurrences(&self.db, &row.id, now, i64::MAX, 20).await?;
        wire::event(row, lang, &upcoming)
    }

    /// Gives the occurrences written without the unit vector of their place (before migration
    /// 0015, or by an older instance during a rolling upgrade) that vector, so search near a
    /// point finds them; run at every start. How many places it filled.
    pub async fn fill_vectors(&self) -> Result<usize, EventsError> {
        let mut filled = 0;
        loop {
            let points = store::points_without_vector(&self.db, 500).await?;
            let mut progress = false;
            for (lat, lon) in &points {
                // Stored coordinates were checked when their venue was written.
                if let Ok(at) = Coordinates::new(*lat, *lon) {
                    store::fill_vector(&self.db, (*lat, *lon), at.unit_vector()).await?;
                    filled += 1;
                    progress = true;
                }
            }
            if !progress {
                return Ok(filled);
            }
        }
    }

    /// Extends the occurrences of events materialised only up to less than a year ahead
    /// (recurring events outlive the horizon of their last write); run at every start.
    pub async fn extend_horizons(&self) -> Result<usize, EventsError> {
        let mut extended = 0;
        loop {
            let stale =
                store::events_to_extend(&self.db, now_ms() + (HORIZON_DAYS - 35) * DAY_MS, 500).await?;
            if stale.is_empty() {
                return Ok(extended);
            }
            for row in &stale {
                self.rewrite_occurrences(row).await?;
                extended += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_leaves_room_for_a_year_of_search() {
        const { assert!(HORIZON_DAYS - 35 >= 365) };
        const { assert!(MAX_OCCURRENCES >= 800 && HORIZON_DAYS <= 400) };
    }
}
