//! SQL for people, roles, signing keys, logins in progress and sessions.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::db::Db;

/// A stored signing key.
pub struct StoredKey {
    pub kid: String,
    pub private_key_pem: String,
}

/// A person known to Sportello.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub fiscal_code: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// A role granted by fiscal code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub fiscal_code: String,
    pub role: String,
    pub granted_by: String,
    pub granted_at: i64,
}

/// An OpenID Connect login in progress.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub state: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub app_redirect_uri: String,
    pub app_state: Option<String>,
    pub app_code_challenge: String,
    pub expires_at: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was current: a new one is stored for the same session.
    Rotated {
        user_id: String,
        family_id: String,
        dev_roles: Option<String>,
    },
    /// The token had already been used: the whole session is now revoked.
    Replayed,
    /// Unknown, expired or from a revoked session.
    Invalid,
}

pub async fn signing_keys(db: &Db) -> Result<Vec<StoredKey>, sqlx::Error> {
    let rows = sqlx::query("SELECT kid, private_key_pem FROM signing_keys ORDER BY created_at, kid")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredKey {
                kid: row.try_get("kid")?,
                private_key_pem: row.try_get("private_key_pem")?,
            })
        })
        .collect()
}

pub async fn insert_signing_key(db: &Db, kid: &str, pem: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(pem)
        .bind(now_ms())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Creates the person on first login, or refreshes their names; returns the stored person.
pub async fn upsert_user(
    db: &Db,
    fiscal_code: &str,
    given_name: Option<&str>,
    family_name: Option<&str>,
) -> Result<User, sqlx::Error> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO users (id, fiscal_code, given_name, family_name, created_at, last_login_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (fiscal_code) DO UPDATE SET
           given_name = COALESCE(excluded.given_name, users.given_name),
           family_name = COALESCE(excluded.family_name, users.family_name),
           last_login_at = excluded.last_login_at
         RETURNING id, fiscal_code, given_name, family_name",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(fiscal_code)
    .bind(given_name)
    .bind(family_name)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    user_from_row(&row)
}

pub async fn get_user(db: &Db, id: &str) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query("SELECT id, fiscal_code, given_name, family_name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        fiscal_code: row.try_get("fiscal_code")?,
        given_name: row.try_get("given_name")?,
        family_name: row.try_get("family_name")?,
    })
}

/// Roles granted to a fiscal code (beyond `citizen`).
pub async fn granted_roles(db: &Db, fiscal_code: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT role FROM role_grants WHERE fiscal_code = $1 ORDER BY role")
        .bind(fiscal_code)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|row| row.try_get("role")).collect()
}

/// Grants a role; granting an existing role again changes nothing. Returns whether it was new.
pub async fn grant_role(
    db: &Db,
    fiscal_code: &str,
    role: &str,
    municipality: Option<&str>,
    granted_by: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO role_grants (fiscal_code, role, municipality, granted_by, granted_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fiscal_code, role) DO NOTHING",
    )
    .bind(fiscal_code)
    .bind(role)
    .bind(municipality)
    .bind(granted_by)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes a role; returns whether it existed.
pub async fn revoke_role(db: &Db, fiscal_code: &str, role: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM role_grants WHERE fiscal_code = $1 AND role = $2")
        .bind(fiscal_code)
        .bind(role)
        .execute(db.pool())
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Grants, optionally only those of one municipality, at most `limit`.
pub async fn list_grants(db: &Db, municipality: Option<&str>, limit: i64) -> Result<Vec<Grant>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT fiscal_code, role, granted_by, granted_at FROM role_grants
         WHERE ($1 IS NULL OR municipality = $1) ORDER BY role, fiscal_code LIMIT $2",
    )
    .bind(municipality)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Grant {
                fiscal_code: row.try_get("fiscal_code")?,
                role: row.try_get("role")?,
                granted_by: row.try_get("granted_by")?,
                granted_at: row.try_get("granted_at")?,
            })
        })
        .collect()
}

pub async fn insert_login_attempt(db: &Db, attempt: &LoginAttempt) -> Result<(), sqlx::Error> {
    insert_attempt(db, attempt, None, None).await
}

/// Stores a login attempt, federated (`federation`, `acr`) or not.
pub async fn insert_attempt(
    db: &Db,
    attempt: &LoginAttempt,
    federation: Option<&str>,
    acr: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    // Abandoned logins are swept here rather than by a background job.
    sqlx::query("DELETE FROM login_attempts WHERE expires_at < $1")
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO login_attempts (state, provider, nonce, pkce_verifier, app_redirect_uri,
           app_state, app_code_challenge, expires_at, federation, acr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&attempt.state)
    .bind(&attempt.provider)
    .bind(&attempt.nonce)
    .bind(&attempt.pkce_verifier)
    .bind(&attempt.app_redirect_uri)
    .bind(attempt.app_state.as_deref())
    .bind(&attempt.app_code_challenge)
    .bind(attempt.expires_at)
    .bind(federation)
    .bind(acr)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Removes and returns a login attempt of a generic provider: each `state` can complete at most
/// one login.
pub async fn take_login_attempt(db: &Db, state: &str) -> Result<Option<LoginAttempt>, sqlx::Error> {
    Ok(take_attempt(db, state, false)
        .await?
        .map(|(attempt, _, _)| attempt))
}

/// Removes and returns a login attempt, federated or not, with its federation and `acr`.
pub async fn take_attempt(
    db: &Db,
    state: &str,
    federated: bool,
) -> Result<Option<(LoginAttempt, Option<String>, Option<String>)>, sqlx::Error> {
    let filter = if federated {
        "federation IS NOT NULL"
    } else {
        "federation IS NULL"
    };
    let row = sqlx::query(&format!(
        "DELETE FROM login_attempts WHERE state = $1 AND {filter}
         RETURNING state, provider, nonce, pkce_verifier, app_redirect_uri, app_state,
                   app_code_challenge, expires_at, federation, acr"
    ))
    .bind(state)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let attempt = LoginAttempt {
            state: row.try_get("state")?,
            provider: row.try_get("provider")?,
            nonce: row.try_get("nonce")?,
            pkce_verifier: row.try_get("pkce_verifier")?,
            app_redirect_uri: row.try_get("app_redirect_uri")?,
            app_state: row.try_get("app_state")?,
            app_code_challenge: row.try_get("app_code_challenge")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok((attempt, row.try_get("federation")?, row.try_get("acr")?))
    })
    .transpose()
}

/// Stores a one-time code; `provider_session` names the provider's tokens of a federated login.
pub async fn insert_authorization_code(
    db: &Db,
    code_hash: &str,
    user_id: &str,
    code_challenge: &str,
    expires_at: i64,
    provider_session: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO authorization_codes (code_hash, user_id, code_challenge, expires_at, provider_session)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(code_hash)
    .bind(user_id)
    .bind(code_challenge)
    .bind(expires_at)
    .bind(provider_session)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A one-time code taken.
#[derive(Debug, PartialEq, Eq)]
pub struct TakenCode {
    pub user_id: String,
    pub code_challenge: String,
    /// The provider's tokens of a federated login, if it was one.
    pub provider_session: Option<String>,
}

/// Removes and returns an unexpired one-time code.
pub async fn take_authorization_code(db: &Db, code_hash: &str) -> Result<Option<TakenCode>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM authorization_codes WHERE code_hash = $1
         RETURNING user_id, code_challenge, expires_at, provider_session",
    )
    .bind(code_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at < now_ms() {
        return Ok(None);
    }
    Ok(Some(TakenCode {
        user_id: row.try_get("user_id")?,
        code_challenge: row.try_get("code_challenge")?,
        provider_session: row.try_get("provider_session")?,
    }))
}

/// A new session: who, and what it carries from its login.
pub struct NewSession<'a> {
    pub user_id: &'a str,
    /// Roles fixed by a dev login.
    pub dev_roles: Option<&'a str>,
    /// The provider's tokens of a federated login, revoked at the provider when it ends.
    pub provider_session: Option<&'a str>,
}

/// Starts a session with its first refresh token; returns the session id.
pub async fn create_session(
    db: &Db,
    session: &NewSession<'_>,
    token_hash: &str,
    expires_at: i64,
) -> Result<String, sqlx::Error> {
    let family_id = uuid::Uuid::now_v7().to_string();
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO token_families (id, user_id, dev_roles, created_at, provider_session)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&family_id)
    .bind(session.user_id)
    .bind(session.dev_roles)
    .bind(now)
    .bind(session.provider_session)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(&family_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(family_id)
}

/// Uses a refresh token once: stores its successor, or revokes the session on replay.
pub async fn rotate_refresh_token(
    db: &Db,
    token_hash: &str,
    successor_hash: &str,
    successor_expires_at: i64,
) -> Result<Rotation, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "SELECT t.family_id, t.expires_at, f.user_id, f.dev_roles, f.revoked_at
         FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
         WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Rotation::Invalid);
    };
    let family_id: String = row.try_get("family_id")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    if revoked_at.is_some() || expires_at < now {
        return Ok(Rotation::Invalid);
    }
    // The conditional update is the race guard: of two concurrent uses, exactly one wins.
    let claimed =
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
    if claimed.rows_affected() == 0 {
        sqlx::query("UPDATE token_families SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&family_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Rotation::Replayed);
    }
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(successor_hash)
    .bind(&family_id)
    .bind(now)
    .bind(successor_expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated {
        user_id: row.try_get("user_id")?,
        family_id,
        dev_roles: row.try_get("dev_roles")?,
    })
}

/// A session ended by [`revoke_session_of`].
#[derive(Debug, PartialEq, Eq)]
pub struct EndedSession {
    /// The provider's tokens of its federated login, to revoke there.
    pub provider_session: Option<String>,
}

/// Ends the session a refresh token belongs to; `None` if there was no active one.
pub async fn revoke_session_of(db: &Db, token_hash: &str) -> Result<Option<EndedSession>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE token_families SET revoked_at = $1
         WHERE revoked_at IS NULL AND id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $2)
         RETURNING provider_session",
    )
    .bind(now_ms())
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(EndedSession {
            provider_session: row.try_get("provider_session")?,
        })
    })
    .transpose()
}

/// Whether a session is still active (not revoked by logout or replay).
pub async fn session_active(db: &Db, family_id: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT revoked_at FROM token_families WHERE id = $1")
        .bind(family_id)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(row) => Ok(row.try_get::<Option<i64>, _>("revoked_at")?.is_none()),
        None => Ok(false),
    }
}

/// The session a refresh token still opens, without using the token (the web app keeps it in
/// its session cookie, docs/web.md): `(user id, session id, dev roles)`, or `None` when the
/// token is unknown, used, expired, or its session revoked.
pub async fn session_of_refresh_token(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(String, String, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT f.user_id, t.family_id, f.dev_roles
         FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at >= $2 AND f.revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("user_id")?,
            row.try_get("family_id")?,
            row.try_get("dev_roles")?,
        ))
    })
    .transpose()
}
