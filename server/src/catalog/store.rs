//! SQL for libraries, catalogue records, source records, copies and the change sequence.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::db::{Backend, Chunked, Db, MAX_BINDS, Markers, execute_pipelined};

/// A library row.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryRow {
    pub id: String,
    pub municipality: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub services: Vec<String>,
    pub codes: Vec<String>,
    pub opening_hours: String,
    pub closures: Vec<String>,
    pub demo: bool,
}

const LIBRARY_COLUMNS: &str = "id, municipality, name, address, postal_code, lat, lon, phone, email, website, \
                               services, codes, opening_hours, closures, demo";

/// Inserts or replaces a library.
pub async fn upsert_library(db: &Db, library: &LibraryRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO libraries ({LIBRARY_COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (id) DO UPDATE SET municipality = excluded.municipality, name = excluded.name,
           address = excluded.address, postal_code = excluded.postal_code, lat = excluded.lat,
           lon = excluded.lon, phone = excluded.phone, email = excluded.email,
           website = excluded.website, services = excluded.services, codes = excluded.codes,
           opening_hours = excluded.opening_hours, closures = excluded.closures,
           demo = excluded.demo, updated_at = excluded.updated_at"
    ))
    .bind(&library.id)
    .bind(&library.municipality)
    .bind(&library.name)
    .bind(&library.address)
    .bind(&library.postal_code)
    .bind(library.lat)
    .bind(library.lon)
    .bind(library.phone.as_deref())
    .bind(library.email.as_deref())
    .bind(library.website.as_deref())
    .bind(library.services.join(" "))
    .bind(library.codes.join(" "))
    .bind(&library.opening_hours)
    .bind(library.closures.join("\n"))
    .bind(i64::from(library.demo))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Libraries, optionally of one municipality, by municipality and name; at most `limit`.
pub async fn list_libraries(
    db: &Db,
    municipality: Option<&str>,
    limit: i64,
) -> Result<Vec<LibraryRow>, sqlx::Error> {
    // Two statements rather than `$1 IS NULL OR …`: PostgreSQL cannot type an untyped NULL.
    let rows =
        match municipality {
            Some(municipality) => sqlx::query(&format!(
                "SELECT {LIBRARY_COLUMNS} FROM libraries WHERE municipality = $1 ORDER BY name, id LIMIT $2"
            ))
            .bind(municipality)
            .bind(limit)
            .fetch_all(db.pool())
            .await?,
            None => {
                sqlx::query(&format!(
                    "SELECT {LIBRARY_COLUMNS} FROM libraries ORDER BY municipality, name, id LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(db.pool())
                .await?
            }
        };
    rows.iter().map(library_from_row).collect()
}

/// One library.
pub async fn get_library(db: &Db, id: &str) -> Result<Option<LibraryRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(library_from_row).transpose()
}

fn library_from_row(row: &AnyRow) -> Result<LibraryRow, sqlx::Error> {
    let split = |text: String, by: char| -> Vec<String> {
        text.split(by)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let demo: i64 = row.try_get("demo")?;
    Ok(LibraryRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        postal_code: row.try_get("postal_code")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        website: row.try_get("website")?,
        services: split(row.try_get("services")?, ' '),
        codes: split(row.try_get("codes")?, ' '),
        opening_hours: row.try_get("opening_hours")?,
        closures: split(row.try_get("closures")?, '\n'),
        demo: demo != 0,
    })
}

/// What is stored about one source record.
#[derive(Debug, Clone)]
pub struct SourceState {
    pub record_id: String,
    pub fingerprint: String,
}

/// The stored state of (library, source id), if imported before.
pub async fn source_state(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    source_id: &str,
) -> Result<Option<SourceState>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT record_id, fingerprint FROM catalog_sources WHERE library_id = $1 AND source_id = $2",
    )
    .bind(library_id)
    .bind(source_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        Ok(SourceState {
            record_id: row.try_get("record_id")?,
            fingerprint: row.try_get("fingerprint")?,
        })
    })
    .transpose()
}

/// The id of the record with `merge_key`, creating it (with `data`) if there is none; the flag
/// says whether it was created now.
pub async fn ensure_record(
    tx: &mut Transaction<'_, Any>,
    merge_key: &str,
    data: &str,
) -> Result<(String, bool), sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = sqlx::query(
        "INSERT INTO catalog_records (id, merge_key, data, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (merge_key) DO NOTHING",
    )
    .bind(&id)
    .bind(merge_key)
    .bind(data)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    if inserted {
        return Ok((id, true));
    }
    let row = sqlx::query("SELECT id FROM catalog_records WHERE merge_key = $1")
        .bind(merge_key)
        .fetch_one(&mut **tx)
        .await?;
    Ok((row.try_get("id")?, false))
}

/// A connection of its own for one import, whose transactions are the import's batches.
///
/// On SQLite it checks no foreign keys, and is closed rather than returned to the pool when
/// dropped (so no other work ever runs with them off). An import writes only references it has
/// just made good in the same transaction: its own library (locked, see [`lock_library`]), the
/// libraries and municipalities its options were resolved to (neither is ever deleted), and
/// records it created or found. The lookups those checks made were over a quarter of SQLite's
/// time per copy written (1.6 s against 1.15 s for 300,000 copies). PostgreSQL keeps checking.
pub async fn import_connection(db: &Db) -> Result<PoolConnection<Any>, sqlx::Error> {
    let mut connection = db.pool().acquire().await?;
    if db.backend() == Backend::Sqlite {
        connection.close_on_drop();
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *connection)
            .await?;
        // 256 MiB of page cache, so that a batch's changed pages stay in memory until its
        // commit (past the pool's 64 MiB, SQLite spills them to the WAL mid-transaction, and a
        // page changed again after a spill is written again).
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *connection)
            .await?;
    }
    Ok(connection)
}

/// Takes the library's row for the rest of the transaction: the write lock on SQLite, taken
/// before any read so the transaction never has to upgrade a read snapshot (SQLite refuses that
/// with "database is locked" when another connection wrote meanwhile, instead of waiting), and
/// a row lock on PostgreSQL, so two imports into one library take turns batch by batch.
pub async fn lock_library(tx: &mut Transaction<'_, Any>, library_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE libraries SET updated_at = updated_at WHERE id = $1")
        .bind(library_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The stored state of many source records of one library, by source id.
pub async fn source_states(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    source_ids: &[&str],
) -> Result<HashMap<String, SourceState>, sqlx::Error> {
    let mut states = HashMap::with_capacity(source_ids.len());
    for chunk in source_ids.chunks(MAX_BINDS - 1) {
        let mut markers = Markers::new(Backend::of(tx));
        let sql = format!(
            "SELECT source_id, record_id, fingerprint FROM catalog_sources
             WHERE library_id = {} AND source_id IN ({})",
            markers.one(),
            markers.list(chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(library_id);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            states.insert(
                row.try_get("source_id")?,
                SourceState {
                    record_id: row.try_get("record_id")?,
                    fingerprint: row.try_get("fingerprint")?,
                },
            );
        }
    }
    Ok(states)
}

/// [`ensure_record`] for many records at once: for each (merge key, data), the id of the
/// record with that key and whether this call created it. Two entries with the same key get
/// the same record, created by one of them.
pub async fn ensure_records(
    tx: &mut Transaction<'_, Any>,
    records: &[(&str, &str)],
) -> Result<Vec<(String, bool)>, sqlx::Error> {
    const COLUMNS: usize = 4;
    let now = now_ms();
    let fresh: Vec<String> = records.iter().map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let mut ids: HashMap<String, String> = HashMap::with_capacity(records.len());
    let rows_per_chunk = MAX_BINDS / COLUMNS;
    for (chunk, chunk_ids) in records.chunks(rows_per_chunk).zip(fresh.chunks(rows_per_chunk)) {
        let sql = format!(
            "INSERT INTO catalog_records (id, merge_key, data, updated_at) VALUES {}
             ON CONFLICT (merge_key) DO NOTHING RETURNING id, merge_key",
            Markers::new(Backend::of(tx)).rows(chunk.len(), COLUMNS)
        );
        let mut insert = sqlx::query(&sql);
        for ((merge_key, data), id) in chunk.iter().zip(chunk_ids) {
            insert = insert.bind(id).bind(*merge_key).bind(*data).bind(now);
        }
        for row in insert.fetch_all(&mut **tx).await? {
            ids.insert(row.try_get("merge_key")?, row.try_get("id")?);
        }
        // Keys that were there already (the insert returns only the rows it made): a second
        // lookup for those alone, none at all in a first import of distinct editions.
        let existing: Vec<&str> = chunk
            .iter()
            .map(|(merge_key, _)| *merge_key)
            .filter(|merge_key| !ids.contains_key(*merge_key))
            .collect();
        if existing.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id, merge_key FROM catalog_records WHERE merge_key IN ({})",
            Markers::new(Backend::of(tx)).list(existing.len())
        );
        let mut select = sqlx::query(&sql);
        for merge_key in existing {
            select = select.bind(merge_key);
        }
        for row in select.fetch_all(&mut **tx).await? {
            ids.insert(row.try_get("merge_key")?, row.try_get("id")?);
        }
    }
    records
        .iter()
        .zip(fresh)
        .map(|((merge_key, _), candidate)| {
            let id = ids
                .get(*merge_key)
                .cloned()
                .ok_or_else(|| sqlx::Error::RowNotFound)?;
            let created = id == candidate;
            Ok((id, created))
        })
        .collect()
}

/// A source record to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewSource<'a> {
    pub source_id: &'a str,
    pub record_id: &'a str,
    /// None while the source is its record's only one: the record's data is then its data.
    pub data: Option<&'a str>,
    pub fingerprint: &'a str,
}

/// [`upsert_source`] for many source records of one library, distinct source ids.
pub async fn upsert_sources(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    municipality: &str,
    sources: &[NewSource<'_>],
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let sql = Chunked::new(Backend::of(tx), sources.len(), 7, |values| {
        format!(
            "INSERT INTO catalog_sources (library_id, source_id, municipality, record_id, data, fingerprint, updated_at)
             VALUES {values}
             ON CONFLICT (library_id, source_id) DO UPDATE SET record_id = excluded.record_id,
               data = excluded.data, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at"
        )
    });
    let statements = sources.chunks(sql.rows_per_chunk()).map(|chunk| {
        let mut insert = sqlx::query(sql.sql(chunk.len()));
        for source in chunk {
            insert = insert
                .bind(library_id)
                .bind(source.source_id)
                .bind(municipality)
                .bind(source.record_id)
                .bind(source.data)
                .bind(source.fingerprint)
                .bind(now);
        }
        insert
    });
    execute_pipelined(tx, statements).await
}

/// A copy with the source record that lists it.
#[derive(Debug, Clone, Copy)]
pub struct SourcedCopy<'a> {
    pub copy: &'a CopyRow,
    pub source_id: &'a str,
    pub record_id: &'a str,
}

/// [`upsert_copy`] for many copies listed by one source library. A (library, item) key listed
/// twice keeps its last listing, as one-by-one upserts would.
pub async fn upsert_copies(
    tx: &mut Transaction<'_, Any>,
    source_library: &str,
    copies: &[SourcedCopy<'_>],
) -> Result<(), sqlx::Error> {
    // PostgreSQL refuses to update one row twice in a statement: keep each key's last listing.
    let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(copies.len());
    for (i, sourced) in copies.iter().enumerate() {
        last.insert(
            (sourced.copy.library_id.as_str(), sourced.copy.item_id.as_str()),
            i,
        );
    }
    let unique: Vec<&SourcedCopy<'_>> = copies
        .iter()
        .enumerate()
        .filter(|(i, s)| last.get(&(s.copy.library_id.as_str(), s.copy.item_id.as_str())) == Some(i))
        .map(|(_, s)| s)
        .collect();
    let now = now_ms();
    let sql = Chunked::new(Backend::of(tx), unique.len(), 10, |values| {
        format!(
            "INSERT INTO catalog_copies (library_id, item_id, municipality, source_id, source_library, record_id,
               shelf_mark, status, due_date, updated_at)
             VALUES {values}
             ON CONFLICT (library_id, item_id) DO UPDATE SET municipality = excluded.municipality,
               source_id = excluded.source_id, source_library = excluded.source_library,
               record_id = excluded.record_id, shelf_mark = excluded.shelf_mark, status = excluded.status,
               due_date = excluded.due_date, updated_at = excluded.updated_at"
        )
    });
    let statements = unique.chunks(sql.rows_per_chunk()).map(|chunk| {
        let mut insert = sqlx::query(sql.sql(chunk.len()));
        for sourced in chunk {
            let copy = sourced.copy;
            insert = insert
                .bind(&copy.library_id)
                .bind(&copy.item_id)
                .bind(&copy.municipality)
                .bind(sourced.source_id)
                .bind(source_library)
                .bind(sourced.record_id)
                .bind(copy.shelf_mark.as_deref())
                .bind(&copy.status)
                .bind(copy.due_date.as_deref())
                .bind(now);
        }
        insert
    });
    execute_pipelined(tx, statements).await
}

/// Removes the withdrawn copies left on a record that lost its last source.
pub async fn delete_withdrawn_copies(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM catalog_copies WHERE record_id = $1 AND status = 'withdrawn'")
        .bind(record_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts or replaces one source record; `data` None while it is its record's only source.
pub async fn upsert_source(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    source_id: &str,
    municipality: &str,
    record_id: &str,
    data: Option<&str>,
    fingerprint: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_sources (library_id, source_id, municipality, record_id, data, fingerprint, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (library_id, source_id) DO UPDATE SET record_id = excluded.record_id,
           data = excluded.data, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
    )
    .bind(library_id)
    .bind(source_id)
    .bind(municipality)
    .bind(record_id)
    .bind(data)
    .bind(fingerprint)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes a source record (the source deleted it).
pub async fn delete_source(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    source_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM catalog_sources WHERE library_id = $1 AND source_id = $2")
        .bind(library_id)
        .bind(source_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A source record's own data.
#[derive(Debug, Clone)]
pub struct SourceData {
    pub library_id: String,
    pub source_id: String,
    /// None: the source is its record's only one, and the record's data is its data.
    pub data: Option<String>,
}

/// The source records of a record, oldest library first (so the first library's data leads).
pub async fn source_data(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
) -> Result<Vec<SourceData>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT library_id, source_id, data FROM catalog_sources WHERE record_id = $1
         ORDER BY updated_at, library_id, source_id LIMIT 1000",
    )
    .bind(record_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SourceData {
                library_id: row.try_get("library_id")?,
                source_id: row.try_get("source_id")?,
                data: row.try_get("data")?,
            })
        })
        .collect()
}

/// Stores a source record's own data (see [`SourceData::data`]).
pub async fn set_source_data(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    source_id: &str,
    data: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE catalog_sources SET data = $1 WHERE library_id = $2 AND source_id = $3")
        .bind(data)
        .bind(library_id)
        .bind(source_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A record's merged data, within a transaction.
pub async fn record_data(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT data FROM catalog_records WHERE id = $1")
        .bind(record_id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| row.try_get("data")).transpose()
}

/// Replaces a record's merged data.
pub async fn set_record_data(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
    data: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE catalog_records SET data = $1, updated_at = $2 WHERE id = $3")
        .bind(data)
        .bind(now_ms())
        .bind(record_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Deletes a record that no source and no copy refers to any more; returns whether it did.
pub async fn delete_orphan_record(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM catalog_records WHERE id = $1
           AND NOT EXISTS (SELECT 1 FROM catalog_sources WHERE record_id = $1)
           AND NOT EXISTS (SELECT 1 FROM catalog_copies WHERE record_id = $1)",
    )
    .bind(record_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// A copy to write.
#[derive(Debug, Clone)]
pub struct CopyRow {
    pub library_id: String,
    pub item_id: String,
    pub municipality: String,
    pub shelf_mark: Option<String>,
    pub status: String,
    pub due_date: Option<String>,
}

/// Inserts or updates a copy listed by (source library, source id).
pub async fn upsert_copy(
    tx: &mut Transaction<'_, Any>,
    copy: &CopyRow,
    source_library: &str,
    source_id: &str,
    record_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_copies (library_id, item_id, municipality, source_id, source_library, record_id,
           shelf_mark, status, due_date, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (library_id, item_id) DO UPDATE SET municipality = excluded.municipality,
           source_id = excluded.source_id, source_library = excluded.source_library,
           record_id = excluded.record_id, shelf_mark = excluded.shelf_mark, status = excluded.status,
           due_date = excluded.due_date, updated_at = excluded.updated_at",
    )
    .bind(&copy.library_id)
    .bind(&copy.item_id)
    .bind(&copy.municipality)
    .bind(source_id)
    .bind(source_library)
    .bind(record_id)
    .bind(copy.shelf_mark.as_deref())
    .bind(&copy.status)
    .bind(copy.due_date.as_deref())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The (library, item) keys of the copies a source record listed. Every copy of a source
/// carries the source's record (see [`move_copies_of_source`]): the copies are found through
/// it, the table's clustering key, without an index of their own.
pub async fn copies_of_source(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
    source_library: &str,
    source_id: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT library_id, item_id, status FROM catalog_copies
         WHERE record_id = $1 AND source_library = $2 AND source_id = $3
         LIMIT 100000",
    )
    .bind(record_id)
    .bind(source_library)
    .bind(source_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("library_id")?,
                row.try_get("item_id")?,
                row.try_get("status")?,
            ))
        })
        .collect()
}

/// Marks a copy withdrawn (kept for history; never counted as available).
pub async fn withdraw_copy(
    tx: &mut Transaction<'_, Any>,
    library_id: &str,
    item_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE catalog_copies SET status = 'withdrawn', due_date = NULL, updated_at = $1
         WHERE library_id = $2 AND item_id = $3",
    )
    .bind(now_ms())
    .bind(library_id)
    .bind(item_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes the copies a source record listed (the record was deleted at the source).
pub async fn delete_copies_of_source(
    tx: &mut Transaction<'_, Any>,
    record_id: &str,
    source_library: &str,
    source_id: &str,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM catalog_copies WHERE record_id = $1 AND source_library = $2 AND source_id = $3",
    )
    .bind(record_id)
    .bind(source_library)
    .bind(source_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}

/// Moves every copy of a source record, withdrawn ones included, to the record the source now
/// belongs to (a re-import changed its edition), so its copies stay findable through it.
pub async fn move_copies_of_source(
    tx: &mut Transaction<'_, Any>,
    from_record: &str,
    to_record: &str,
    source_library: &str,
    source_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE catalog_copies SET record_id = $1
         WHERE record_id = $2 AND source_library = $3 AND source_id = $4",
    )
    .bind(to_record)
    .bind(from_record)
    .bind(source_library)
    .bind(source_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends changes to the sequence the search indexes follow: each record id with whether this
/// transaction created the record.
pub async fn record_changes<'a>(
    tx: &mut Transaction<'_, Any>,
    changes: impl IntoIterator<Item = (&'a String, &'a bool)>,
) -> Result<(), sqlx::Error> {
    let changes: Vec<(&String, &bool)> = changes.into_iter().collect();
    let now = now_ms();
    let sql = Chunked::new(Backend::of(tx), changes.len(), 3, |values| {
        format!("INSERT INTO catalog_changes (record_id, changed_at, created) VALUES {values}")
    });
    let statements = changes.chunks(sql.rows_per_chunk()).map(|chunk| {
        let mut insert = sqlx::query(sql.sql(chunk.len()));
        for (id, created) in chunk {
            insert = insert.bind(id.as_str()).bind(now).bind(i64::from(**created));
        }
        insert
    });
    execute_pipelined(tx, statements).await
}

/// A change in the sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub record_id: String,
    pub changed_at: i64,
    /// The change created the record: no earlier version of it was ever indexed.
    pub created: bool,
}

/// Changes after `seq`, in order; at most `limit`.
pub async fn changes_after(db: &Db, seq: i64, limit: i64) -> Result<Vec<Change>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, record_id, changed_at, created FROM catalog_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Change {
                seq: row.try_get("seq")?,
                record_id: row.try_get("record_id")?,
                changed_at: row.try_get("changed_at")?,
                created: row.try_get::<i64, _>("created")? != 0,
            })
        })
        .collect()
}

/// The newest change, 0 if none.
pub async fn latest_change(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM catalog_changes")
        .fetch_one(db.pool())
        .await?;
    row.try_get("seq")
}

/// A record as the index and the API need it.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: String,
    pub data: String,
}

/// One record.
pub async fn get_record(db: &Db, id: &str) -> Result<Option<RecordRow>, sqlx::Error> {
    let row = sqlx::query("SELECT id, data FROM catalog_records WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(RecordRow {
            id: row.try_get("id")?,
            data: row.try_get("data")?,
        })
    })
    .transpose()
}

/// A record as the search index reads it: its data and where it is held.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub id: String,
    pub data: String,
    /// (library, municipality) of every library with a copy that is neither withdrawn nor
    /// missing; each pair once, sorted.
    pub holdings: Vec<(String, String)>,
}

/// The columns of [`IndexRow`]: the holdings come as one string per record ("library
/// municipality" pairs, space-separated: library ids are slugs and municipalities ISTAT codes),
/// read with the record. As rows of their own they were three times as many rows as records,
/// and reading them 40% of the index follower's work on a bulk import.
const INDEX_ROW_COLUMNS: &str = "r.id, r.data,
    (SELECT string_agg(c.library_id || ' ' || c.municipality, ' ') FROM catalog_copies c
     WHERE c.record_id = r.id AND c.status NOT IN ('withdrawn', 'missing')) AS holdings";

fn index_row(row: &AnyRow) -> Result<IndexRow, sqlx::Error> {
    let holdings: Option<String> = row.try_get("holdings")?;
    let words: Vec<&str> = holdings.as_deref().unwrap_or_default().split(' ').collect();
    let mut pairs: Vec<(String, String)> = words
        .chunks_exact(2)
        .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    Ok(IndexRow {
        id: row.try_get("id")?,
        data: row.try_get("data")?,
        holdings: pairs,
    })
}

/// Records by id with their holdings, in no particular order.
pub async fn index_rows(db: &Db, ids: &[String]) -> Result<Vec<IndexRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let markers = Markers::new(db.backend()).list(ids.len());
    let sql = format!("SELECT {INDEX_ROW_COLUMNS} FROM catalog_records r WHERE r.id IN ({markers})");
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    query.fetch_all(db.pool()).await?.iter().map(index_row).collect()
}

/// Records after `after` (by id) with their holdings, for a full reindex; at most `limit`.
pub async fn index_rows_page(db: &Db, after: &str, limit: i64) -> Result<Vec<IndexRow>, sqlx::Error> {
    let sql =
        format!("SELECT {INDEX_ROW_COLUMNS} FROM catalog_records r WHERE r.id > $1 ORDER BY r.id LIMIT $2");
    sqlx::query(&sql)
        .bind(after)
        .bind(limit)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(index_row)
        .collect()
}

/// A copy as availability needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyView {
    pub record_id: String,
    pub library_id: String,
    pub item_id: String,
    pub shelf_mark: Option<String>,
    pub status: String,
    pub due_date: Option<String>,
}

/// The copies (withdrawn and missing excluded) of the given records; at most `limit`.
pub async fn copies_of_records(
    db: &Db,
    record_ids: &[String],
    limit: i64,
) -> Result<Vec<CopyView>, sqlx::Error> {
    if record_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut markers = Markers::new(db.backend());
    let sql = format!(
        "SELECT record_id, library_id, item_id, shelf_mark, status, due_date FROM catalog_copies
         WHERE record_id IN ({}) AND status NOT IN ('withdrawn', 'missing')
         ORDER BY record_id, library_id, item_id LIMIT {}",
        markers.list(record_ids.len()),
        markers.one()
    );
    let mut query = sqlx::query(&sql);
    for id in record_ids {
        query = query.bind(id);
    }
    let rows = query.bind(limit).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok(CopyView {
                record_id: row.try_get("record_id")?,
                library_id: row.try_get("library_id")?,
                item_id: row.try_get("item_id")?,
                shelf_mark: row.try_get("shelf_mark")?,
                status: row.try_get("status")?,
                due_date: row.try_get("due_date")?,
            })
        })
        .collect()
}

/// A copy as a search hit's availability summary needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyStateRow {
    pub library_id: String,
    pub status: String,
    pub due_date: Option<String>,
}

/// The copies (withdrawn and missing excluded) of the given records, by record, with only what
/// an availability summary needs. One row per record, its copies packed into one string: a page
/// of search hits is a few dozen copies, and as rows each value was copied twice on its way out
/// of the driver, which cost more than finding them.
pub async fn copy_states_of_records(
    db: &Db,
    record_ids: &[String],
) -> Result<HashMap<String, Vec<CopyStateRow>>, sqlx::Error> {
    // Unit and record separators cannot occur in library ids, statuses or ISO dates.
    const FIELD: char = '\u{1f}';
    const COPY: char = '\u{1e}';
    if record_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.backend();
    let mut markers = Markers::new(backend);
    let (concat, field, copy) = match backend {
        Backend::Sqlite => ("group_concat", "char(31)", "char(30)"),
        Backend::Postgres => ("string_agg", "chr(31)", "chr(30)"),
    };
    let sql = format!(
        "SELECT record_id, {concat}(library_id || {field} || status || {field} || coalesce(due_date, ''), {copy}) AS copies
         FROM catalog_copies WHERE record_id IN ({}) AND status NOT IN ('withdrawn', 'missing')
         GROUP BY record_id",
        markers.list(record_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in record_ids {
        query = query.bind(id);
    }
    let mut by_record = HashMap::with_capacity(record_ids.len());
    for row in query.fetch_all(db.pool()).await? {
        let packed: String = row.try_get("copies")?;
        let copies = packed
            .split(COPY)
            .filter_map(|copy| {
                let mut parts = copy.split(FIELD);
                let (library_id, status, due_date) = (parts.next()?, parts.next()?, parts.next()?);
                Some(CopyStateRow {
                    library_id: library_id.to_owned(),
                    status: status.to_owned(),
                    due_date: (!due_date.is_empty()).then(|| due_date.to_owned()),
                })
            })
            .collect();
        by_record.insert(row.try_get("record_id")?, copies);
    }
    Ok(by_record)
}

/// Sets a copy's live status; returns its record id, or `None` if the copy does not exist in
/// that library of that municipality.
pub async fn set_copy_status(
    db: &Db,
    municipality: &str,
    library_id: &str,
    item_id: &str,
    status: &str,
    due_date: Option<&str>,
) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "UPDATE catalog_copies SET status = $1, due_date = $2, updated_at = $3
         WHERE library_id = $4 AND item_id = $5 AND municipality = $6 RETURNING record_id",
    )
    .bind(status)
    .bind(due_date)
    .bind(now_ms())
    .bind(library_id)
    .bind(item_id)
    .bind(municipality)
    .fetch_optional(&mut *tx)
    .await?;
    let record_id: Option<String> = row.map(|row| row.try_get("record_id")).transpose()?;
    if let Some(record_id) = &record_id {
        record_changes(&mut tx, std::iter::once((record_id, &false))).await?;
    }
    tx.commit().await?;
    Ok(record_id)
}
