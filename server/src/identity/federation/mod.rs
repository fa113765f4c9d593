//! Sportello as an OpenID Connect Federation relying party (SPID, CIE): its keys and its signed
//! Entity Configuration at `/.well-known/openid-federation` (OpenID Federation 1.0 §9; the
//! SPID/CIE profile in the `spid-cie-oidc` guides).

pub mod entity;
pub mod jwe;
pub mod keys;
pub mod policy;
pub mod request;
pub mod store;
pub mod trust;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use self::keys::{KeySet, Purpose};
use crate::clock::now_ms;
use crate::config::{FederationConfig, RelyingPartyConfig};
use crate::db::Db;

/// How often the keys are read again, so a rotation by another instance is seen.
const RELOAD_INTERVAL: Duration = Duration::from_mins(1);

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// No federation configured and not a demo: there is no Entity Configuration.
    #[error("no federation is configured")]
    Disabled,
    /// Keys could not be loaded, made or used.
    #[error("federation keys: {0}")]
    Keys(String),
}

/// The relying party of the SPID and CIE federations.
pub struct Federation {
    db: Db,
    entity_id: String,
    relying_party: RelyingPartyConfig,
    federations: BTreeMap<String, FederationConfig>,
    enabled: bool,
    keys: tokio::sync::RwLock<Option<(std::sync::Arc<KeySet>, Instant)>>,
}

impl Federation {
    /// The relying party of `entity_id` (the public URL). It publishes an Entity Configuration
    /// when a federation is configured, or with `demo` (keys made on first use either way).
    pub fn new(
        db: Db,
        entity_id: &str,
        relying_party: RelyingPartyConfig,
        federations: BTreeMap<String, FederationConfig>,
        demo: bool,
    ) -> Self {
        let enabled = demo || !federations.is_empty();
        Self {
            db,
            entity_id: entity_id.trim_end_matches('/').to_owned(),
            relying_party,
            federations,
            enabled,
            keys: tokio::sync::RwLock::new(None),
        }
    }

    /// The entity id: Sportello's public URL, also its `client_id` at every provider.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The keys in use, loaded (or made, the first time) and re-read now and then.
    pub async fn keys(&self) -> Result<std::sync::Arc<KeySet>, FederationError> {
        if let Some((keys, loaded_at)) = &*self.keys.read().await
            && loaded_at.elapsed() < RELOAD_INTERVAL
        {
            return Ok(keys.clone());
        }
        let mut slot = self.keys.write().await;
        if let Some((keys, loaded_at)) = &*slot
            && loaded_at.elapsed() < RELOAD_INTERVAL
        {
            return Ok(keys.clone());
        }
        let keys = std::sync::Arc::new(
            KeySet::load(&self.db, now_ms(), self.retirement_ms())
                .await
                .map_err(|error| FederationError::Keys(error.to_string()))?,
        );
        *slot = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    /// Replaces the key of a purpose; the old one stays published for
    /// `auth.relying_party.key_retirement_secs`. Every instance uses the new one within a minute.
    pub async fn rotate(&self, purpose: Purpose) -> Result<String, FederationError> {
        let kid = keys::rotate(&self.db, purpose, now_ms(), self.retirement_ms())
            .await
            .map_err(|error| FederationError::Keys(error.to_string()))?;
        *self.keys.write().await = None;
        Ok(kid)
    }

    /// The signed Entity Configuration (`application/entity-statement+jwt`).
    pub async fn entity_configuration(&self) -> Result<String, FederationError> {
        if !self.enabled {
            return Err(FederationError::Disabled);
        }
        let keys = self.keys().await?;
        let now = now_ms() / 1000;
        let claims = entity::entity_configuration(
            &self.entity_id,
            &self.relying_party,
            &self.federations,
            &keys,
            now,
        );
        keys.current(Purpose::Federation)
            .sign(entity::ENTITY_STATEMENT_TYP, &claims)
            .map_err(|error| FederationError::Keys(error.to_string()))
    }

    fn retirement_ms(&self) -> i64 {
        i64::try_from(self.relying_party.key_retirement_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
pub(crate) mod tests;
