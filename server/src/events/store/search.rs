//! SQL of event search: the occurrences in a window that pass a search's filters, soonest
//! first or nearest to a point first, and the events of a page.

use std::fmt::Write as _;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{EVENT_COLUMNS, EventRow, event_from_row, next_from_row, next_occurrence_columns};
use crate::db::{Db, Markers};

/// What a search asks of the occurrences table; every filter optional.
#[derive(Debug, Clone, Default)]
pub struct OccurrenceQuery {
    pub from: i64,
    pub to: i64,
    /// Grid cells to look in (a radius' bounding box); empty for everywhere.
    pub cells: Vec<i64>,
    pub municipality: Option<String>,
    pub category: Option<String>,
    pub free: bool,
    pub accessible: bool,
    /// A `LIKE` pattern on the events' folded titles.
    pub text: Option<String>,
    /// Keyset of the soonest-first order: events whose first start in the window comes after.
    pub after: Option<(i64, String)>,
    /// Most events returned.
    pub limit: i64,
}

/// The nearest-first order of a search: by squared chord to the point's unit vector (which
/// grows with the great-circle distance), then first start, then id.
#[derive(Debug, Clone)]
pub struct NearOrder {
    /// `Coordinates::unit_vector` of the point.
    pub point: [f64; 3],
    /// Largest squared chord (the radius).
    pub within: f64,
    /// Keyset: events after this one (squared chord, first start in the window, id).
    pub after: Option<(f64, i64, String)>,
}

/// An occurrence near a point: its event, start and squared chord to the point.
#[derive(Debug, Clone, PartialEq)]
pub struct NearRow {
    pub event_id: String,
    pub starts_at: i64,
    pub chord_squared: f64,
}

/// One event matched by a search: where it is, its first occurrence in the window and how
/// many it has there.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRow {
    pub event_id: String,
    pub first_start: i64,
    pub count: i64,
}

/// The events with an occurrence in the window that pass the filters, each with its first
/// occurrence there, soonest first (then by id).
pub async fn matches(db: &Db, q: &OccurrenceQuery) -> Result<Vec<MatchRow>, sqlx::Error> {
    let mut markers = Markers::new(db.backend());
    let sql = matches_sql(q, &mut markers);
    let rows = bind_matches(sqlx::query(&sql), q).fetch_all(db.pool()).await?;
    rows.iter().map(match_from_row).collect()
}

/// A page of a search soonest first: [`matches`] with each event and its first occurrence at or
/// after `now`, in one statement (each statement is a round trip to the database's thread).
pub async fn matches_with_events(
    db: &Db,
    q: &OccurrenceQuery,
    now: i64,
) -> Result<Vec<PageRow>, sqlx::Error> {
    let mut markers = Markers::new(db.backend());
    // In the order of the text: SQLite's markers are positional.
    let (now_marker, now_again) = (markers.one(), markers.one());
    let ranked = matches_sql(q, &mut markers);
    let sql = format!(
        "SELECT m.*, {}, {} FROM ({ranked}) m JOIN events e ON e.id = m.event_id ORDER BY m.first, m.event_id",
        prefixed_event_columns(),
        next_occurrence_columns("e", &now_marker, &now_again),
    );
    let rows = bind_matches(sqlx::query(&sql).bind(now).bind(now), q)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PageRow {
                matched: match_from_row(row)?,
                event: event_from_row(row)?,
                next: next_from_row(row)?,
            })
        })
        .collect()
}

/// The events of a page of a search near a point, by id, each with its first occurrence at or
/// after `now` (start, end) and its number of occurrences in `[from, to)`.
pub async fn page_events(
    db: &Db,
    ids: &[String],
    (from, to): (i64, i64),
    now: i64,
) -> Result<Vec<PageEvent>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut markers = Markers::new(db.backend());
    let (now_marker, now_again, from_marker, to_marker) =
        (markers.one(), markers.one(), markers.one(), markers.one());
    let sql = format!(
        "SELECT {}, {},
           (SELECT COUNT(*) FROM event_occurrences c
             WHERE c.event_id = e.id AND c.starts_at >= {from_marker} AND c.starts_at < {to_marker}) AS n
         FROM events e WHERE e.id IN ({})",
        prefixed_event_columns(),
        next_occurrence_columns("e", &now_marker, &now_again),
        markers.list(ids.len())
    );
    let mut query = sqlx::query(&sql).bind(now).bind(now).bind(from).bind(to);
    for id in ids {
        query = query.bind(id.as_str());
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok(PageEvent {
                event: event_from_row(row)?,
                next: next_from_row(row)?,
                count: row.try_get("n")?,
            })
        })
        .collect()
}

/// An event of a page near a point: its first occurrence from now (start, end), its number of
/// occurrences in the window.
#[derive(Debug, Clone)]
pub struct PageEvent {
    pub event: EventRow,
    pub next: Option<(i64, i64)>,
    pub count: i64,
}

/// One hit of a page soonest first: what matched, the event, its next occurrence (start, end).
#[derive(Debug, Clone)]
pub struct PageRow {
    pub matched: MatchRow,
    pub event: EventRow,
    pub next: Option<(i64, i64)>,
}

/// The occurrences in the window that pass the filters within `near`'s radius, nearest first
/// (then soonest, then by event), at most `limit`: those of events after `near.after`, and of
/// those after the occurrence `batch_after` (squared chord, start, event id), so that a caller
/// reads on where an earlier call stopped.
///
/// Occurrences, not events: grouping every occurrence around the point by event, to rank the
/// events, took most of a search's time (about 1 ms of SQLite for the 770 occurrences of a
/// two-day window in the dozen cells around Palazzo Ducale, at 100,000 events); ordering them
/// with a limit takes a fifth of that. All the occurrences of an event share its place, so its
/// first in this order is its first in the window; the caller keeps that one.
pub async fn nearest_occurrences(
    db: &Db,
    q: &OccurrenceQuery,
    near: &NearOrder,
    batch_after: Option<&NearRow>,
    limit: i64,
) -> Result<Vec<NearRow>, sqlx::Error> {
    let mut markers = Markers::new(db.backend());
    let m: Vec<String> = (0..6).map(|_| markers.one()).collect();
    let mut sql = format!(
        "SELECT event_id, starts_at, d2 FROM (SELECT o.event_id, o.starts_at,
           (o.x - {}) * (o.x - {}) + (o.y - {}) * (o.y - {}) + (o.z - {}) * (o.z - {}) AS d2",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
    filters_sql(q, &mut markers, &mut sql);
    let _ = write!(sql, " AND o.x IS NOT NULL) r WHERE d2 <= {}", markers.one());
    if near.after.is_some() {
        let m: Vec<String> = (0..9).map(|_| markers.one()).collect();
        // At the cursor's own place, an event whose first occurrence in the window came before
        // the cursor was on an earlier page, even though its later occurrences come after it.
        let _ = write!(
            sql,
            " AND (d2 > {} OR (d2 = {} AND (starts_at > {} OR (starts_at = {} AND event_id > {}))
                 AND NOT EXISTS (SELECT 1 FROM event_occurrences p WHERE p.event_id = r.event_id
                   AND p.starts_at >= {} AND (p.starts_at < {} OR (p.starts_at = {} AND r.event_id <= {})))))",
            m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
        );
    }
    if batch_after.is_some() {
        let m: Vec<String> = (0..5).map(|_| markers.one()).collect();
        let _ = write!(
            sql,
            " AND (d2 > {} OR (d2 = {} AND (starts_at > {} OR (starts_at = {} AND event_id > {}))))",
            m[0], m[1], m[2], m[3], m[4]
        );
    }
    let _ = write!(sql, " ORDER BY d2, starts_at, event_id LIMIT {}", markers.one());
    let mut query = sqlx::query(&sql);
    for v in near.point {
        query = query.bind(v).bind(v);
    }
    query = bind_filters(query, q).bind(near.within);
    if let Some((d2, start, id)) = &near.after {
        query = query
            .bind(*d2)
            .bind(*d2)
            .bind(*start)
            .bind(*start)
            .bind(id.as_str())
            .bind(q.from)
            .bind(*start)
            .bind(*start)
            .bind(id.as_str());
    }
    if let Some(row) = batch_after {
        query = query
            .bind(row.chord_squared)
            .bind(row.chord_squared)
            .bind(row.starts_at)
            .bind(row.starts_at)
            .bind(row.event_id.as_str());
    }
    let rows = query.bind(limit).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok(NearRow {
                event_id: row.try_get(0)?,
                starts_at: row.try_get(1)?,
                chord_squared: row.try_get(2)?,
            })
        })
        .collect()
}

/// `FROM … WHERE …` of a search: the window, the cells and the filters.
fn filters_sql(q: &OccurrenceQuery, markers: &mut Markers, sql: &mut String) {
    sql.push_str(" FROM event_occurrences o");
    if q.text.is_some() {
        sql.push_str(" JOIN events e ON e.id = o.event_id");
    }
    let _ = write!(
        sql,
        " WHERE o.starts_at >= {} AND o.starts_at < {}",
        markers.one(),
        markers.one()
    );
    if !q.cells.is_empty() {
        let _ = write!(sql, " AND o.cell IN ({})", markers.list(q.cells.len()));
    }
    if q.municipality.is_some() {
        let _ = write!(sql, " AND o.municipality = {}", markers.one());
    }
    if q.category.is_some() {
        let _ = write!(sql, " AND o.category = {}", markers.one());
    }
    if q.free {
        sql.push_str(" AND o.free = 1");
    }
    if q.accessible {
        sql.push_str(" AND o.accessible = 1");
    }
    if q.text.is_some() {
        let _ = write!(sql, " AND e.search_text LIKE {}", markers.one());
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the parameters of [`filters_sql`], in its order.
fn bind_filters<'q>(mut query: AnyQuery<'q>, q: &'q OccurrenceQuery) -> AnyQuery<'q> {
    query = query.bind(q.from).bind(q.to);
    for cell in &q.cells {
        query = query.bind(*cell);
    }
    if let Some(m) = &q.municipality {
        query = query.bind(m.as_str());
    }
    if let Some(c) = &q.category {
        query = query.bind(c.as_str());
    }
    if let Some(t) = &q.text {
        query = query.bind(t.as_str());
    }
    query
}

/// The ranked statement of [`matches`]: columns `event_id`, `first` and `n`.
fn matches_sql(q: &OccurrenceQuery, markers: &mut Markers) -> String {
    let mut sql = String::from("SELECT o.event_id, MIN(o.starts_at) AS first, COUNT(*) AS n");
    filters_sql(q, markers, &mut sql);
    sql.push_str(" GROUP BY o.event_id");
    if q.after.is_some() {
        let (a, b, c) = (markers.one(), markers.one(), markers.one());
        let _ = write!(
            sql,
            " HAVING MIN(o.starts_at) > {a} OR (MIN(o.starts_at) = {b} AND o.event_id > {c})"
        );
    }
    let _ = write!(sql, " ORDER BY first, o.event_id LIMIT {}", markers.one());
    sql
}

/// Binds the parameters of [`matches_sql`], in its order.
fn bind_matches<'q>(query: AnyQuery<'q>, q: &'q OccurrenceQuery) -> AnyQuery<'q> {
    let mut query = bind_filters(query, q);
    if let Some((start, id)) = &q.after {
        query = query.bind(*start).bind(*start).bind(id.as_str());
    }
    query.bind(q.limit)
}

fn match_from_row(row: &AnyRow) -> Result<MatchRow, sqlx::Error> {
    Ok(MatchRow {
        event_id: row.try_get("event_id")?,
        first_start: row.try_get("first")?,
        count: row.try_get("n")?,
    })
}

/// The event columns as `e.…`, for statements that read the events table as `e`.
fn prefixed_event_columns() -> String {
    EVENT_COLUMNS
        .split(", ")
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
