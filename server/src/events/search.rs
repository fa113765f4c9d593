//! Public search: the events with an occurrence in a window, nearest first around a point or
//! else soonest first, filtered by category, municipality, price, accessibility and words.
//!
//! It reads the materialised occurrences only (`event_occurrences`): with `near`, the grid
//! cells around the point in widening rings through the (cell, start) index (see `grid`),
//! ranked in the database by the squared chord between unit vectors, which orders as the
//! great-circle distance does, so that only a page of rows leaves it; without, the window
//! through the start index. The page's events are then read by id.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use sportello_core::api;
use sportello_core::catalog::record::fold;
use sportello_core::events::{Category, Lang};
use sportello_core::geo::{Coordinates, chord_squared_from_km, km_from_chord_squared};

use super::grid;
use super::store::{self, NearOrder, NearRow, OccurrenceQuery};
use super::{DAY_MS, Events, EventsError, wire};
use crate::clock::now_ms;
use crate::pagination::{Cursor, PageRequest};

/// Hits per page unless asked.
pub const PAGE_DEFAULT: usize = 20;
/// Most hits per page.
pub const PAGE_LIMIT: usize = 50;
/// Radius unless asked, km.
pub const RADIUS_DEFAULT_KM: f64 = 10.0;
/// Largest radius, km (the metropolitan city is about 100 km across).
pub const RADIUS_MAX_KM: f64 = 50.0;
/// Longest window, days.
pub const WINDOW_MAX_DAYS: i64 = 366;
/// Window unless `to` is given, days.
const WINDOW_DEFAULT_DAYS: i64 = 30;
/// The first ring's reach, km; each next ring doubles it.
const FIRST_RING_KM: f64 = 0.5;
/// Longest `q`, characters.
const MAX_WORDS: usize = 100;

/// A search, checked.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub near: Option<(Coordinates, f64)>,
    pub from: i64,
    pub to: i64,
    pub category: Option<Category>,
    pub municipality: Option<String>,
    pub free: bool,
    pub accessible: bool,
    pub words: Option<String>,
    pub lang: Lang,
    pub page: PageRequest,
}

impl Events {
    /// Checks a search's parameters (core's `EventQuery`, which the mobile client also sends).
    pub fn search_request(&self, query: &api::EventQuery, lang: Lang) -> Result<SearchRequest, EventsError> {
        let near = match query.near {
            None => None,
            Some(point) => {
                let at = Coordinates::try_from(point).map_err(|e| {
                    EventsError::invalid(
                        "near",
                        format!("Posizione non valida: {e}"),
                        format!("Invalid position: {e}"),
                    )
                })?;
                let radius = query.radius_km.unwrap_or(RADIUS_DEFAULT_KM);
                if !(radius > 0.0 && radius <= RADIUS_MAX_KM) {
                    return Err(EventsError::invalid(
                        "radius_km",
                        "Da 0 a 50 km.",
                        "From 0 to 50 km.",
                    ));
                }
                Some((at, radius))
            }
        };
        if query.near.is_none() && query.radius_km.is_some() {
            return Err(EventsError::invalid(
                "radius_km",
                "Il raggio vale solo con `near`.",
                "A radius needs `near`.",
            ));
        }
        let now = now_ms();
        let from = match &query.from {
            None => now,
            Some(text) => instant("from", text, false)?,
        };
        let to = match &query.to {
            None => from + WINDOW_DEFAULT_DAYS * DAY_MS,
            Some(text) => instant("to", text, true)?,
        };
        if to <= from || to - from > WINDOW_MAX_DAYS * DAY_MS {
            return Err(EventsError::invalid(
                "to",
                "`to` deve seguire `from`, al più di 366 giorni.",
                "`to` must follow `from`, by at most 366 days.",
            ));
        }
        let category = query
            .category
            .as_deref()
            .map(|c| {
                c.parse::<Category>().map_err(|()| {
                    EventsError::invalid("category", "Categoria non prevista.", "Unknown category.")
                })
            })
            .transpose()?;
        let municipality = query
            .municipality
            .as_deref()
            .map(|m| self.municipalities.require(m).map(|m| m.istat_code.to_string()))
            .transpose()?;
        let words = match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) if q.chars().count() > MAX_WORDS => {
                return Err(EventsError::invalid(
                    "q",
                    "Al massimo 100 caratteri.",
                    "At most 100 characters.",
                ));
            }
            Some(q) => Some(fold(q)).filter(|w| !w.is_empty()),
            None => None,
        };
        let page = PageRequest::new(
            query.cursor.as_deref(),
            query.limit.map(i64::from),
            PAGE_DEFAULT,
            PAGE_LIMIT,
        )?;
        Ok(SearchRequest {
            near,
            from,
            to,
            category,
            municipality,
            free: query.free.unwrap_or(false),
            accessible: query.accessible.unwrap_or(false),
            words,
            lang,
            page,
        })
    }

    /// One page of a search.
    pub async fn search(&self, request: &SearchRequest) -> Result<api::EventPage, EventsError> {
        let mut query = OccurrenceQuery {
            from: request.from,
            to: request.to,
            cells: Vec::new(),
            municipality: request.municipality.clone(),
            category: request.category.map(|c| c.as_str().to_owned()),
            free: request.free,
            accessible: request.accessible,
            text: request.words.as_ref().map(|w| format!("%{w}%")),
            after: None,
            limit: request.page.fetch_limit(),
        };
        let (hits, next_cursor) = match request.near {
            None => self.soonest(request, &mut query).await?,
            Some((at, radius)) => self.near(request, &mut query, at, radius).await?,
        };
        let mut items = Vec::with_capacity(hits.len());
        for Hit {
            event: row,
            first_start,
            count,
            next,
            metres: distance,
        } in hits
        {
            let summary = wire::summary(&row)?;
            let (lang, title) = summary.title(request.lang);
            let length = i64::from(summary.input.duration_minutes) * 60_000;
            items.push(api::EventHit {
                id: row.id,
                municipality: row.municipality,
                lang: lang.as_str().to_owned(),
                title,
                category: summary.input.category.clone(),
                status: row.status,
                accessible: !summary.input.accessibility.is_empty()
                    || !summary.venue.accessibility.is_empty(),
                distance_km: distance.map(|d| {
                    crate::catalog::round_km(f64::from(u32::try_from(d).unwrap_or(u32::MAX)) / 1000.0)
                }),
                starts_at: crate::clock::rfc3339_from_ms(first_start),
                ends_at: crate::clock::rfc3339_from_ms(first_start + length),
                occurrences_in_window: u32::try_from(count).unwrap_or(u32::MAX),
                next_occurrence: next.map(wire::occurrence),
                free: summary.price_cents().is_none(),
                price_cents: summary.price_cents(),
                image_url: summary.input.image_url.clone().filter(|u| !u.trim().is_empty()),
                venue: summary.venue,
            });
        }
        Ok(api::EventPage { items, next_cursor })
    }
}

/// A hit before it is written for the wire.
struct Hit {
    event: store::EventRow,
    first_start: i64,
    count: i64,
    next: Option<(i64, i64)>,
    metres: Option<u64>,
}

impl Events {
    /// A page soonest first, and the cursor of the next.
    async fn soonest(
        &self,
        request: &SearchRequest,
        query: &mut OccurrenceQuery,
    ) -> Result<(Vec<Hit>, Option<String>), EventsError> {
        query.after = request
            .page
            .after
            .as_ref()
            .map(|c| Ok::<_, EventsError>((c.key_number()?, c.id.clone())))
            .transpose()?;
        let rows = store::matches_with_events(&self.db, query, now_ms()).await?;
        let (rows, next) = request.page.page(rows, |r| {
            Cursor::new(r.matched.first_start, r.matched.event_id.clone())
        });
        let hits = rows
            .into_iter()
            .map(|r| Hit {
                event: r.event,
                first_start: r.matched.first_start,
                count: r.matched.count,
                next: r.next,
                metres: None,
            })
            .collect();
        Ok((hits, next))
    }

    /// A page nearest first around `at`, and the cursor of the next.
    async fn near(
        &self,
        request: &SearchRequest,
        query: &mut OccurrenceQuery,
        at: Coordinates,
        radius: f64,
    ) -> Result<(Vec<Hit>, Option<String>), EventsError> {
        let after = request
            .page
            .after
            .as_ref()
            .map(|c| {
                let (chord, start) = near_key(&c.key)?;
                Ok::<_, EventsError>((chord, start, c.id.clone()))
            })
            .transpose()?;
        let near = NearOrder {
            point: at.unit_vector(),
            within: chord_squared_from_km(radius),
            after,
        };
        let wanted = request.page.limit + 1;
        let found = self.nearest(query, &near, at, radius, wanted).await?;
        let (rows, next) = request.page.page(found, |r| {
            // The squared chord as Rust prints an f64: it parses back to the same bits.
            Cursor::new(
                format!("{:?}:{}", r.chord_squared, r.starts_at),
                r.event_id.clone(),
            )
        });
        let ids: Vec<String> = rows.iter().map(|r| r.event_id.clone()).collect();
        let mut events: HashMap<String, store::PageEvent> =
            store::page_events(&self.db, &ids, (request.from, request.to), now_ms())
                .await?
                .into_iter()
                .map(|e| (e.event.id.clone(), e))
                .collect();
        let hits = rows
            .into_iter()
            // An event deleted between the two reads is left out.
            .filter_map(|r| {
                let page = events.remove(&r.event_id)?;
                Some(Hit {
                    event: page.event,
                    first_start: r.starts_at,
                    count: page.count,
                    next: page.next,
                    metres: Some(metres(km_from_chord_squared(r.chord_squared))),
                })
            })
            .collect();
        Ok((hits, next))
    }

    /// The `wanted` events nearest to `at` within `radius` km that pass the query's filters and
    /// come after `near.after`, nearest first, each as its first occurrence in the window.
    ///
    /// Reads the grid in rings: the cells within [`FIRST_RING_KM`], then twice, four times…
    /// that reach. For each ring's new cells
    /// the database orders the occurrences, and the best `wanted` events among them are read
    /// ([`Events::best_in`]); the best of all the rings read are the best of those. They are
    /// final when the last lies within the rings' reach, as every unread cell lies farther, or
    /// when the radius is read.
    async fn nearest(
        &self,
        query: &mut OccurrenceQuery,
        near: &NearOrder,
        at: Coordinates,
        radius: f64,
        wanted: usize,
    ) -> Result<Vec<NearRow>, EventsError> {
        let Some(cells) = grid::cells_within(at, radius) else {
            // Near a pole: the window everywhere.
            query.cells.clear();
            return self.best_in(query, near, wanted).await;
        };
        // The cursor's distance is already ranked: start from there.
        let after_km = near
            .after
            .as_ref()
            .map_or(0.0, |(chord, _, _)| km_from_chord_squared(*chord));
        let mut reach = FIRST_RING_KM + after_km;
        let mut read = 0;
        let mut found: Vec<NearRow> = Vec::new();
        loop {
            let upto = cells.partition_point(|c| c.nearest_km <= reach);
            if upto > read {
                query.cells = cells[read..upto].iter().map(|c| c.cell).collect();
                found.extend(self.best_in(query, near, wanted).await?);
                read = upto;
                found.sort_by(near_order);
                found.truncate(wanted);
            }
            let complete = found
                .get(wanted.saturating_sub(1))
                .is_some_and(|r| r.chord_squared <= chord_squared_from_km(reach));
            if complete || read == cells.len() {
                return Ok(found);
            }
            reach *= 2.0;
        }
    }

    /// The `wanted` nearest events of the query's cells, each as its first occurrence: the
    /// occurrences nearest first in batches that double, until `wanted` events are seen or
    /// none are left (a daily exhibition has an occurrence each day of a long window).
    async fn best_in(
        &self,
        query: &OccurrenceQuery,
        near: &NearOrder,
        wanted: usize,
    ) -> Result<Vec<NearRow>, EventsError> {
        let mut seen = HashSet::new();
        let mut best = Vec::new();
        let mut batch = i64::try_from(wanted.max(8) * 2).unwrap_or(i64::MAX);
        let mut last: Option<NearRow> = None;
        loop {
            let rows = store::nearest_occurrences(&self.db, query, near, last.as_ref(), batch).await?;
            let exhausted = rows.len() < usize::try_from(batch).unwrap_or(usize::MAX);
            last = rows.last().cloned();
            for row in rows {
                if seen.insert(row.event_id.clone()) {
                    best.push(row);
                }
            }
            if best.len() >= wanted || exhausted {
                best.truncate(wanted);
                return Ok(best);
            }
            batch = (batch * 2).min(MAX_BATCH);
        }
    }
}

/// Most occurrences read at once by [`Events::best_in`].
const MAX_BATCH: i64 = 4_096;

/// The order of search near a point, as the database ranks: squared chord, start, event id.
fn near_order(a: &NearRow, b: &NearRow) -> Ordering {
    a.chord_squared
        .total_cmp(&b.chord_squared)
        .then(a.starts_at.cmp(&b.starts_at))
        .then_with(|| a.event_id.cmp(&b.event_id))
}

/// A window bound: an RFC 3339 instant, or a date in Europe/Rome (its start, or with `end` the
/// start of the next day).
fn instant(field: &str, text: &str, end: bool) -> Result<i64, EventsError> {
    let bad = || {
        EventsError::invalid(
            field,
            "Serve una data (AAAA-MM-GG) o un istante RFC 3339.",
            "A date (YYYY-MM-DD) or an RFC 3339 instant is expected.",
        )
    };
    if text.len() > 40 {
        return Err(bad());
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at.as_millisecond());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| bad())?;
    let at = if end {
        sportello_core::calendar::end_of_day(date)
    } else {
        sportello_core::calendar::start_of_day(date)
    };
    at.map(Timestamp::as_millisecond).ok_or_else(bad)
}

/// Metres, for ranking and cursors (an integer compares exactly).
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a distance on Earth, non-negative and below 20,040 km"
)]
fn metres(km: f64) -> u64 {
    (km * 1000.0).round() as u64
}

fn near_key(key: &str) -> Result<(f64, i64), EventsError> {
    let bad = || EventsError::Page(crate::pagination::PageError::Cursor);
    let (chord, start) = key.split_once(':').ok_or_else(bad)?;
    let chord: f64 = chord.parse().map_err(|_| bad())?;
    if !chord.is_finite() || chord < 0.0 {
        return Err(bad());
    }
    Ok((chord, start.parse().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bounds_take_dates_in_rome_and_instants() {
        // 2026-12-12 starts at 23:00 UTC the day before (winter time).
        assert_eq!(instant("from", "2026-12-12", false).unwrap(), 1_797_030_000_000);
        assert_eq!(
            instant("to", "2026-12-12", true).unwrap(),
            1_797_030_000_000 + DAY_MS
        );
        assert_eq!(
            instant("from", "2026-12-12T10:00:00Z", false).unwrap(),
            1_797_069_600_000
        );
        assert!(instant("from", "sabato", false).is_err());
    }
}
