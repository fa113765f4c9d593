//! SQL of the events context: venues, events, their materialised occurrences, followers.
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{self, Chunked, Db, Markers};

mod search;
pub use search::*;

/// A venue that is not a library, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueRow {
    pub id: String,
    pub municipality: String,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// Space-separated features.
    pub accessibility: String,
    pub opening_hours: Option<String>,
    pub demo: bool,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub municipality: String,
    pub uid: String,
    /// `api::EventInput` JSON.
    pub data: String,
    /// `api::EventVenue` JSON.
    pub venue: String,
    pub search_text: String,
    pub status: String,
    pub previous_start: Option<i64>,
    pub horizon: i64,
    pub demo: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One occurrence with the fields search filters on.
#[derive(Debug, Clone, PartialEq)]
pub struct OccurrenceRow {
    pub starts_at: i64,
    pub ends_at: i64,
    pub cell: i64,
    pub lat: f64,
    pub lon: f64,
    /// The place as a unit vector (`Coordinates::unit_vector`), which search near a point
    /// ranks by.
    pub vector: Option<[f64; 3]>,
    pub municipality: String,
    pub category: String,
    pub free: bool,
    pub accessible: bool,
}

const VENUE_COLUMNS: &str = "id, municipality, name, address, lat, lon, accessibility, opening_hours, demo";
const EVENT_COLUMNS: &str = "id, municipality, uid, data, venue, search_text, status, previous_start, horizon, \
                             demo, created_by, created_at, updated_at";

/// Inserts or replaces a venue.
pub async fn upsert_venue(db: &Db, venue: &VenueRow, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO event_venues ({VENUE_COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address,
           lat = excluded.lat, lon = excluded.lon, accessibility = excluded.accessibility,
           opening_hours = excluded.opening_hours, demo = excluded.demo, updated_at = excluded.updated_at"
    ))
    .bind(&venue.id)
    .bind(&venue.municipality)
    .bind(&venue.name)
    .bind(&venue.address)
    .bind(venue.lat)
    .bind(venue.lon)
    .bind(&venue.accessibility)
    .bind(venue.opening_hours.as_deref())
    .bind(i64::from(venue.demo))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// One venue.
pub async fn venue(db: &Db, id: &str) -> Result<Option<VenueRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {VENUE_COLUMNS} FROM event_venues WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(venue_from_row).transpose()
}

/// Venues, of one municipality or all, by municipality and name; at most `limit`.
pub async fn venues(db: &Db, municipality: Option<&str>, limit: i64) -> Result<Vec<VenueRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {VENUE_COLUMNS} FROM event_venues WHERE ($1 IS NULL OR municipality = $1)
         ORDER BY municipality, name, id LIMIT $2"
    ))
    .bind(municipality)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(venue_from_row).collect()
}

fn venue_from_row(row: &AnyRow) -> Result<VenueRow, sqlx::Error> {
    Ok(VenueRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        accessibility: row.try_get("accessibility")?,
        opening_hours: row.try_get("opening_hours")?,
        demo: row.try_get::<i64, _>("demo")? != 0,
    })
}

/// Inserts an event, or replaces the one with the same id.
pub async fn put_event(conn: &mut AnyConnection, event: &EventRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET uid = excluded.uid, data = excluded.data, venue = excluded.venue,
           search_text = excluded.search_text, status = excluded.status,
           previous_start = excluded.previous_start, horizon = excluded.horizon,
           updated_at = excluded.updated_at"
    ))
    .bind(&event.id)
    .bind(&event.municipality)
    .bind(&event.uid)
    .bind(&event.data)
    .bind(&event.venue)
    .bind(&event.search_text)
    .bind(&event.status)
    .bind(event.previous_start)
    .bind(event.horizon)
    .bind(i64::from(event.demo))
    .bind(&event.created_by)
    .bind(event.created_at)
    .bind(event.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One event.
pub async fn event(db: &Db, id: &str) -> Result<Option<EventRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(event_from_row).transpose()
}

/// The event of a municipality with this iCalendar UID.
pub async fn event_by_uid(
    conn: &mut AnyConnection,
    municipality: &str,
    uid: &str,
) -> Result<Option<EventRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE municipality = $1 AND uid = $2"
    ))
    .bind(municipality)
    .bind(uid)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(event_from_row).transpose()
}

/// Events by id (any order); at most [`db::MAX_BINDS`] ids.
pub async fn events_by_ids(db: &Db, ids: &[String]) -> Result<Vec<EventRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut markers = Markers::new(db.backend());
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({})",
        markers.list(ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(event_from_row).collect()
}

/// Events whose occurrences are materialised only up to before `before`; at most `limit`.
pub async fn events_to_extend(db: &Db, before: i64, limit: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE horizon < $1 ORDER BY horizon, id LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Deletes an event of a municipality (its occurrences and follows go with it); whether it
/// existed.
pub async fn delete_event(db: &Db, municipality: &str, id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    // Explicitly, rather than trusting every connection to have foreign keys on; and only
    // when the event is the municipality's.
    for table in ["event_occurrences", "event_follows"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE event_id IN (SELECT id FROM events WHERE id = $1 AND municipality = $2)"
        ))
        .bind(id)
        .bind(municipality)
        .execute(&mut *tx)
        .await?;
    }
    let done = sqlx::query("DELETE FROM events WHERE id = $1 AND municipality = $2")
        .bind(id)
        .bind(municipality)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

fn event_from_row(row: &AnyRow) -> Result<EventRow, sqlx::Error> {
    Ok(EventRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        uid: row.try_get("uid")?,
        data: row.try_get("data")?,
        venue: row.try_get("venue")?,
        search_text: row.try_get("search_text")?,
        status: row.try_get("status")?,
        previous_start: row.try_get("previous_start")?,
        horizon: row.try_get("horizon")?,
        demo: row.try_get::<i64, _>("demo")? != 0,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Replaces the occurrences of an event from `from` on (earlier ones stay as they were).
pub async fn replace_occurrences(
    conn: &mut AnyConnection,
    event_id: &str,
    from: i64,
    occurrences: &[OccurrenceRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM event_occurrences WHERE event_id = $1 AND starts_at >= $2")
        .bind(event_id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    insert_occurrences(conn, &[(event_id, occurrences)]).await
}

/// Inserts occurrences of several events (none may exist yet), in multi-row statements.
pub async fn insert_occurrences(
    conn: &mut AnyConnection,
    events: &[(&str, &[OccurrenceRow])],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(&str, &OccurrenceRow)> = events
        .iter()
        .flat_map(|(id, occurrences)| occurrences.iter().map(move |o| (*id, o)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let chunked = Chunked::new(db::Backend::of(conn), rows.len(), 13, |values| {
        format!(
            "INSERT INTO event_occurrences (event_id, starts_at, ends_at, cell, lat, lon, x, y, z,
               municipality, category, free, accessible) VALUES {values}"
        )
    });
    for chunk in rows.chunks(chunked.rows_per_chunk()) {
        let mut query = sqlx::query(chunked.sql(chunk.len()));
        for (id, o) in chunk {
            query = query
                .bind(*id)
                .bind(o.starts_at)
                .bind(o.ends_at)
                .bind(o.cell)
                .bind(o.lat)
                .bind(o.lon)
                .bind(o.vector.map(|v| v[0]))
                .bind(o.vector.map(|v| v[1]))
                .bind(o.vector.map(|v| v[2]))
                .bind(o.municipality.as_str())
                .bind(o.category.as_str())
                .bind(i64::from(o.free))
                .bind(i64::from(o.accessible));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The start and end of an event's first occurrence at or after a bound marker, as two
/// columns: each one seek of the primary key (`MIN` over `GROUP BY` read every later occurrence
/// of a daily event, hundreds of rows).
fn next_occurrence_columns(events: &str, now: &str, now_again: &str) -> String {
    format!(
        "(SELECT o.starts_at FROM event_occurrences o WHERE o.event_id = {events}.id AND o.starts_at >= {now}
           ORDER BY o.starts_at LIMIT 1) AS next_start,
         (SELECT o.ends_at FROM event_occurrences o WHERE o.event_id = {events}.id AND o.starts_at >= {now_again}
           ORDER BY o.starts_at LIMIT 1) AS next_end"
    )
}

/// The first occurrence at or after `now` of an event (start, end), if it has one.
pub async fn next_occurrence(db: &Db, id: &str, now: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let mut markers = Markers::new(db.backend());
    let (now_marker, now_again, id_marker) = (markers.one(), markers.one(), markers.one());
    let sql = format!(
        "SELECT {} FROM events e WHERE e.id = {id_marker}",
        next_occurrence_columns("e", &now_marker, &now_again)
    );
    let row = sqlx::query(&sql)
        .bind(now)
        .bind(now)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map_or(Ok(None), next_from_row)
}

/// Occurrences of one event starting in `[from, to)`, at most `limit`.
pub async fn occurrences(
    db: &Db,
    id: &str,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT starts_at, ends_at FROM event_occurrences WHERE event_id = $1 AND starts_at >= $2
         AND starts_at < $3 ORDER BY starts_at LIMIT $4",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// The columns of [`next_occurrence_columns`].
fn next_from_row(row: &AnyRow) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let start: Option<i64> = row.try_get("next_start")?;
    let end: Option<i64> = row.try_get("next_end")?;
    Ok(start.zip(end))
}

/// Places of occurrences written without their unit vector (before migration 0015, or by an
/// instance of an older version during a rolling upgrade); at most `limit`.
pub async fn points_without_vector(db: &Db, limit: i64) -> Result<Vec<(f64, f64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT lat, lon FROM event_occurrences WHERE x IS NULL ORDER BY lat, lon LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// Gives the occurrences at a place without a unit vector the place's one.
pub async fn fill_vector(db: &Db, (lat, lon): (f64, f64), vector: [f64; 3]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE event_occurrences SET x = $1, y = $2, z = $3 WHERE x IS NULL AND lat = $4 AND lon = $5",
    )
    .bind(vector[0])
    .bind(vector[1])
    .bind(vector[2])
    .bind(lat)
    .bind(lon)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Follows an event (again: nothing changes).
pub async fn follow(db: &Db, user_id: &str, event_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_follows (user_id, event_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, event_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(event_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stops following; whether the person followed it.
pub async fn unfollow(db: &Db, user_id: &str, event_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM event_follows WHERE user_id = $1 AND event_id = $2")
        .bind(user_id)
        .bind(event_id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The events a person follows, most recently followed first, at most `limit`.
pub async fn followed(db: &Db, user_id: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT event_id FROM event_follows WHERE user_id = $1 ORDER BY created_at DESC, event_id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// The people following an event.
pub async fn followers(conn: &mut AnyConnection, event_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT user_id FROM event_follows WHERE event_id = $1 ORDER BY user_id")
        .bind(event_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|row| row.try_get(0)).collect()
}

/// A follower and an occurrence they were not reminded of yet, with their quiet hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCandidate {
    pub user_id: String,
    pub event_id: String,
    pub starts_at: i64,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
}

/// Occurrences starting in `(after, until]` of events still on (scheduled or moved), with each
/// follower not yet reminded of them, soonest first, at most `limit`.
pub async fn reminder_candidates(
    db: &Db,
    after: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<ReminderCandidate>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT f.user_id, f.event_id, o.starts_at, p.quiet_start, p.quiet_end
         FROM event_occurrences o
         JOIN events e ON e.id = o.event_id
         JOIN event_follows f ON f.event_id = o.event_id
         LEFT JOIN notification_preferences p ON p.user_id = f.user_id
         WHERE o.starts_at > $1 AND o.starts_at <= $2
           AND e.status IN ('scheduled', 'rescheduled')
           AND (f.reminded_for IS NULL OR f.reminded_for < o.starts_at)
         ORDER BY o.starts_at, f.user_id, f.event_id
         LIMIT $3",
    )
    .bind(after)
    .bind(until)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ReminderCandidate {
                user_id: row.try_get(0)?,
                event_id: row.try_get(1)?,
                starts_at: row.try_get(2)?,
                quiet_start: row.try_get(3)?,
                quiet_end: row.try_get(4)?,
            })
        })
        .collect()
}

/// Records that a follower was reminded of the occurrence starting at `starts_at`; false when
/// they already were (or stopped following): the compare-and-set that makes a reminder once only,
/// whichever instance's sweep gets there first.
pub async fn mark_reminded(
    conn: &mut AnyConnection,
    user_id: &str,
    event_id: &str,
    starts_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE event_follows SET reminded_for = $3
         WHERE user_id = $1 AND event_id = $2 AND (reminded_for IS NULL OR reminded_for < $3)",
    )
    .bind(user_id)
    .bind(event_id)
    .bind(starts_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
