//! SQL for copies: their upserts and withdrawals by imports, live status, and availability.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::changes::record_changes;
use crate::clock::now_ms;
use crate::db::{Backend, Chunked, Db, Markers, execute_pipelined};

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
