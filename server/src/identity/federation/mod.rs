//! Sportello as an OpenID Connect Federation relying party (SPID, CIE): its keys and its signed
//! Entity Configuration at `/.well-known/openid-federation` (OpenID Federation 1.0 §9; the
//! SPID/CIE profile in the `spid-cie-oidc` guides).

pub mod entity;
pub mod jwe;
pub mod keys;
pub mod listing;
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
    /// Not `spid` or `cie`, or not configured.
    #[error("unknown federation {0}")]
    UnknownFederation(String),
    /// The provider's trust chain does not hold.
    #[error(transparent)]
    Trust(#[from] trust::TrustError),
    /// The provider answered something Sportello refuses (a token, a userinfo, a level).
    #[error("login refused: {0}")]
    Rejected(String),
}

/// Who logged in, as the provider vouched.
#[derive(Debug)]
pub struct FederatedIdentity {
    pub fiscal_code: sportello_core::identity::FiscalCode,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The provider's access token, to revoke at logout, and when it expires (ms).
    pub access_token: String,
    pub access_token_expires_at: i64,
}

/// Longest a provider's access token is kept for its revocation, seconds, whatever it says.
const MAX_PROVIDER_TOKEN_SECS: i64 = 24 * 3600;
/// Assumed lifetime of a provider's access token that does not say (`expires_in`), seconds.
const DEFAULT_PROVIDER_TOKEN_SECS: i64 = 3600;

/// The relying party of the SPID and CIE federations.
pub struct Federation {
    db: Db,
    entity_id: String,
    relying_party: RelyingPartyConfig,
    federations: BTreeMap<String, FederationConfig>,
    enabled: bool,
    keys: tokio::sync::RwLock<Option<(std::sync::Arc<KeySet>, Instant)>>,
    chains: trust::ChainCache,
    listing: listing::Listing,
    http: trust::HttpFetch,
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
            chains: trust::ChainCache::default(),
            listing: listing::Listing::default(),
            http: trust::HttpFetch(
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
            ),
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

    /// The redirect URI registered in the Entity Configuration.
    pub fn redirect_uri(&self) -> String {
        format!("{}{}", self.entity_id, entity::CALLBACK_PATH)
    }

    /// The `acr` to ask for: the route's, else the federation's default, else SpidL2.
    pub fn acr_for(&self, federation: &str, route: Option<&str>) -> String {
        let config = self.federations.get(federation);
        route
            .and_then(|route| config.and_then(|c| c.acr_by_route.get(route)))
            .or_else(|| config.and_then(|c| c.default_acr.as_ref()))
            .cloned()
            .unwrap_or_else(|| request::ACR_LEVELS[1].to_owned())
    }

    /// The provider's endpoints and keys, through its trust chain in `federation`.
    async fn provider(
        &self,
        federation: &str,
        provider: &str,
    ) -> Result<request::ProviderEndpoints, FederationError> {
        let config = self
            .federations
            .get(federation)
            .ok_or_else(|| FederationError::UnknownFederation(federation.to_owned()))?;
        let chain = self
            .chains
            .resolve(
                &self.http,
                federation,
                provider,
                "openid_provider",
                &config.trust_anchors,
                now_ms() / 1000,
            )
            .await?;
        request::ProviderEndpoints::from_metadata(&chain.metadata).map_err(FederationError::Rejected)
    }

    /// Starts a login at `provider` (an entity id) of `federation`: its trust chain resolved, a
    /// signed request object made.
    pub async fn begin(
        &self,
        federation: &str,
        provider: &str,
        acr: &str,
    ) -> Result<request::AuthorizationRequest, FederationError> {
        let endpoints = self.provider(federation, provider).await?;
        let keys = self.keys().await?;
        request::authorization_request(
            keys.current(Purpose::Core),
            &self.entity_id,
            &self.redirect_uri(),
            &endpoints,
            acr,
            now_ms() / 1000,
        )
        .map_err(FederationError::Rejected)
    }

    /// Completes a login: the code exchanged with a client assertion, the ID token and the
    /// encrypted userinfo verified, the fiscal code read.
    pub async fn complete(
        &self,
        federation: &str,
        provider: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
        acr: &str,
    ) -> Result<FederatedIdentity, FederationError> {
        let endpoints = self.provider(federation, provider).await?;
        let keys = self.keys().await?;
        let unavailable = |e: reqwest::Error| FederationError::Rejected(format!("provider unreachable: {e}"));
        let assertion = request::client_assertion(
            keys.current(Purpose::Core),
            &self.entity_id,
            &endpoints.token_endpoint,
            now_ms() / 1000,
        )
        .map_err(FederationError::Rejected)?;
        let form = request::token_form(code, verifier, &self.redirect_uri(), &self.entity_id, &assertion);
        let response = self
            .http
            .0
            .post(&endpoints.token_endpoint)
            .form(&form)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(FederationError::Rejected(format!(
                "token endpoint answered {}",
                response.status()
            )));
        }
        let tokens: serde_json::Value = response.json().await.map_err(unavailable)?;
        let (Some(id_token), Some(access_token)) =
            (tokens["id_token"].as_str(), tokens["access_token"].as_str())
        else {
            return Err(FederationError::Rejected(
                "token response without tokens".to_owned(),
            ));
        };
        let id_claims = request::verify_id_token(id_token, &endpoints, &self.entity_id, nonce, acr)
            .map_err(FederationError::Rejected)?;
        let subject = id_claims["sub"].as_str().unwrap_or_default();
        let body = self
            .http
            .0
            .get(&endpoints.userinfo_endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(unavailable)?
            .text()
            .await
            .map_err(unavailable)?;
        let userinfo = request::verify_userinfo(&body, &keys, &endpoints, &self.entity_id, subject)
            .map_err(FederationError::Rejected)?;
        let name = |claim: &str| {
            userinfo[claim]
                .as_str()
                .or(id_claims[claim].as_str())
                .map(str::to_owned)
        };
        let lifetime = tokens["expires_in"]
            .as_i64()
            .unwrap_or(DEFAULT_PROVIDER_TOKEN_SECS)
            .clamp(0, MAX_PROVIDER_TOKEN_SECS);
        Ok(FederatedIdentity {
            fiscal_code: request::fiscal_code(&userinfo).map_err(FederationError::Rejected)?,
            given_name: name("given_name"),
            family_name: name("family_name"),
            access_token: access_token.to_owned(),
            access_token_expires_at: now_ms().saturating_add(lifetime.saturating_mul(1000)),
        })
    }

    /// Keeps the provider's access token of a completed login until its session ends; returns
    /// the id the one-time code and then the session carry.
    pub async fn keep_provider_session(
        &self,
        federation: &str,
        provider: &str,
        identity: &FederatedIdentity,
    ) -> Result<String, sqlx::Error> {
        let id = uuid::Uuid::now_v7().to_string();
        let session = store::ProviderSession {
            federation: federation.to_owned(),
            provider: provider.to_owned(),
            access_token: identity.access_token.clone(),
            expires_at: identity.access_token_expires_at,
        };
        store::insert_provider_session(&self.db, &id, &session, now_ms()).await?;
        Ok(id)
    }

    /// Ends a federated session at the provider: its access token revoked at the provider's
    /// revocation endpoint with a `private_key_jwt` assertion, and forgotten. Failures are logged,
    /// not returned: the citizen's Sportello session is over either way, and the provider's token
    /// expires on its own.
    pub async fn end_provider_session(&self, id: &str) {
        let session = match store::take_provider_session(&self.db, id).await {
            Ok(Some(session)) if session.expires_at > now_ms() => session,
            Ok(_) => return,
            Err(error) => {
                tracing::error!(%error, "provider session unreadable: not revoked at the provider");
                return;
            }
        };
        match self.revoke_at_provider(&session).await {
            Ok(true) => tracing::info!(provider = %session.provider, "token revoked at the provider"),
            Ok(false) => tracing::info!(provider = %session.provider, "provider has no revocation endpoint"),
            Err(error) => {
                tracing::warn!(%error, provider = %session.provider, "revocation at the provider failed");
            }
        }
    }

    /// Revokes the session's access token; `false` if the provider has no revocation endpoint.
    async fn revoke_at_provider(&self, session: &store::ProviderSession) -> Result<bool, FederationError> {
        let endpoints = self.provider(&session.federation, &session.provider).await?;
        let Some(endpoint) = endpoints.revocation_endpoint else {
            return Ok(false);
        };
        let keys = self.keys().await?;
        let assertion = request::client_assertion(
            keys.current(Purpose::Core),
            &self.entity_id,
            &endpoint,
            now_ms() / 1000,
        )
        .map_err(FederationError::Rejected)?;
        let response = self
            .http
            .0
            .post(&endpoint)
            .form(&request::revocation_form(
                &session.access_token,
                &self.entity_id,
                &assertion,
            ))
            .send()
            .await
            .map_err(|e| FederationError::Rejected(format!("provider unreachable: {e}")))?;
        if !response.status().is_success() {
            return Err(FederationError::Rejected(format!(
                "revocation endpoint answered {}",
                response.status()
            )));
        }
        Ok(true)
    }

    fn retirement_ms(&self) -> i64 {
        i64::try_from(self.relying_party.key_retirement_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod flow_tests;
