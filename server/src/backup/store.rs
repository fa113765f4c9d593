//! The SQL of backup and restore: SQLite's online copy, the documents a copy must carry and
//! the row counts the summary shows.

use sqlx::Row;

use crate::db::Db;

/// A permit document as the database records it: where it lives under the documents directory
/// (`<permit>/<id>`), its size and the SHA-256 taken when it was uploaded.
pub struct StoredDocument {
    pub permit_id: String,
    pub id: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// Writes a consistent copy of the live SQLite database to `path` (which must not exist).
/// `VACUUM INTO` reads in one transaction, so the writers of a running server go on meanwhile
/// and the copy is the database as of one instant, compacted.
pub async fn vacuum_into(db: &Db, path: &str) -> sqlx::Result<()> {
    sqlx::query("VACUUM INTO ?").bind(path).execute(db.pool()).await?;
    Ok(())
}

/// Every permit document the database knows, in a stable order.
pub async fn documents(db: &Db) -> sqlx::Result<Vec<StoredDocument>> {
    let rows =
        sqlx::query("SELECT permit_id, id, size_bytes, sha256 FROM permit_documents ORDER BY permit_id, id")
            .fetch_all(db.pool())
            .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredDocument {
                permit_id: row.try_get("permit_id")?,
                id: row.try_get("id")?,
                size_bytes: row.try_get("size_bytes")?,
                sha256: row.try_get("sha256")?,
            })
        })
        .collect()
}

/// The number of rows of `table`, one of `super::COUNTED` (never input).
pub async fn count(db: &Db, table: &str) -> sqlx::Result<i64> {
    debug_assert!(super::COUNTED.contains(&table));
    let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(db.pool())
        .await?;
    row.try_get("n")
}
