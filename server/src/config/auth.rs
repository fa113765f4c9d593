//! The `[auth]` section: tokens, the generic OpenID Connect providers, and Sportello as a
//! relying party of the SPID and CIE federations (docs/identity.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Secret;

/// Login and tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of access JWTs, seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, seconds.
    pub refresh_token_ttl_secs: u64,
    /// Time a citizen has to complete a login at the identity provider, seconds.
    pub login_ttl_secs: u64,
    /// Where apps may ask to be sent back after login (exact match), e.g.
    /// `it.genova.sportello://auth` for the mobile apps.
    pub app_redirect_uris: Vec<String>,
    /// OpenID Connect providers by id (a municipality's own staff directory, …).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Sportello as an OpenID Connect Federation relying party: its Entity Configuration.
    pub relying_party: RelyingPartyConfig,
    /// The OpenID Connect Federations Sportello is a leaf of, by id: `spid`, `cie`.
    pub federations: BTreeMap<String, FederationConfig>,
}

/// What the Entity Configuration says about Sportello (see docs/identity.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelyingPartyConfig {
    /// The organisation running Sportello (`federation_entity.organization_name`, `client_name`).
    pub organization_name: String,
    /// Contact addresses published in the metadata (`contacts`).
    pub contacts: Vec<String>,
    /// The organisation's home page (`federation_entity.homepage_uri`), if any.
    pub homepage_uri: Option<String>,
    /// Lifetime of the signed Entity Configuration, seconds.
    pub entity_configuration_ttl_secs: u64,
    /// How long a replaced key stays published after a rotation, seconds: at least the longest
    /// lifetime of anything it signed (the Entity Configuration, request objects, assertions).
    pub key_retirement_secs: u64,
}

/// One federation (SPID or CIE): where its trust comes from and what it issued to Sportello.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Trust anchors by entity id, each with its federation signing keys (a JWKS, as the
    /// federation publishes them): a chain is trusted only if it ends at one of these keys.
    pub trust_anchors: BTreeMap<String, serde_json::Value>,
    /// Superiors that registered Sportello (the trust anchor or an intermediate/aggregator).
    pub authority_hints: Vec<String>,
    /// Trust marks the federation issued to Sportello, as signed JWTs with their ids.
    #[serde(default)]
    pub trust_marks: Vec<TrustMarkConfig>,
    /// Level asked by default (`https://www.spid.gov.it/SpidL2`, …).
    #[serde(default)]
    pub default_acr: Option<String>,
    /// Level asked per route (a payment or a permit may ask for SpidL2).
    #[serde(default)]
    pub acr_by_route: BTreeMap<String, String>,
}

/// A trust mark issued to Sportello.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustMarkConfig {
    /// The trust mark type, e.g. `https://registry.spid.gov.it/openid_relying_party/public/`.
    pub id: String,
    /// The signed trust mark JWT.
    pub trust_mark: Secret,
}

/// One OpenID Connect provider (SPID aggregator, CIE, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Name for login buttons.
    pub display_name: String,
    /// Issuer URL; `/.well-known/openid-configuration` is discovered from it.
    pub issuer_url: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret (client_secret_basic).
    pub client_secret: Secret,
    /// Extra scopes beside `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

pub(super) fn default_scopes() -> Vec<String> {
    vec!["profile".to_owned()]
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            login_ttl_secs: 10 * 60,
            app_redirect_uris: vec!["it.genova.sportello://auth".to_owned()],
            providers: BTreeMap::new(),
            relying_party: RelyingPartyConfig::default(),
            federations: BTreeMap::new(),
        }
    }
}

impl Default for RelyingPartyConfig {
    fn default() -> Self {
        Self {
            organization_name: "Sportello".to_owned(),
            contacts: Vec::new(),
            homepage_uri: None,
            entity_configuration_ttl_secs: 24 * 3600,
            key_retirement_secs: 2 * 24 * 3600,
        }
    }
}
