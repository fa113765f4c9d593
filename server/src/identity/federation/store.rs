//! SQL for the federation keys.

use sqlx::Row;

use crate::db::Db;

/// A stored federation key.
pub struct StoredKey {
    pub kid: String,
    pub purpose: String,
    pub private_key_pem: String,
    pub created_at: i64,
}

/// The keys still published at `now`, oldest first.
pub async fn keys(db: &Db, now: i64) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kid, purpose, private_key_pem, created_at FROM federation_keys \
         WHERE retire_at IS NULL OR retire_at > $1 ORDER BY created_at, kid",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredKey {
                kid: row.try_get("kid")?,
                purpose: row.try_get("purpose")?,
                private_key_pem: row.try_get("private_key_pem")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// Stores a new key of a purpose and schedules the retirement of the purpose's older keys
/// still in use, in one transaction.
pub async fn insert_key(
    db: &Db,
    kid: &str,
    purpose: &str,
    pem: &str,
    now: i64,
    retire_at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE federation_keys SET retire_at = $1 WHERE purpose = $2 AND retire_at IS NULL")
        .bind(retire_at)
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO federation_keys (kid, purpose, private_key_pem, created_at, retire_at) \
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(kid)
    .bind(purpose)
    .bind(pem)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
