//! SQL for the federation keys and for the providers' tokens kept until logout.

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

/// The provider's access token of a federated login, kept to revoke it at logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSession {
    pub federation: String,
    /// The provider's entity id.
    pub provider: String,
    pub access_token: String,
    /// When the access token expires at the provider, ms since the epoch.
    pub expires_at: i64,
}

/// Stores a provider session under `id`, sweeping the expired ones (their codes were never
/// redeemed, or their sessions never ended: nothing is left to revoke).
pub async fn insert_provider_session(
    db: &Db,
    id: &str,
    session: &ProviderSession,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM provider_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO provider_sessions (id, federation, provider, access_token, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&session.federation)
    .bind(&session.provider)
    .bind(&session.access_token)
    .bind(session.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Removes and returns a provider session.
pub async fn take_provider_session(db: &Db, id: &str) -> Result<Option<ProviderSession>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM provider_sessions WHERE id = $1 \
         RETURNING federation, provider, access_token, expires_at",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(ProviderSession {
            federation: row.try_get("federation")?,
            provider: row.try_get("provider")?,
            access_token: row.try_get("access_token")?,
            expires_at: row.try_get("expires_at")?,
        })
    })
    .transpose()
}
