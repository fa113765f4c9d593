//! SQL for catalogue records and the source records merged into them.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::db::{Backend, Chunked, Db, MAX_BINDS, Markers, execute_pipelined};

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
