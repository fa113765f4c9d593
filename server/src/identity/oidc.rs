//! OpenID Connect relying party for SPID/CIE: authorization code flow with PKCE (S256), state
//! and nonce, ID token verified (signature against the provider's JWKS, issuer, audience,
//! expiry, nonce) by the `openidconnect` crate.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreClient, CoreGenderClaim, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use sportello_core::identity::FiscalCode;
use tokio::sync::OnceCell;

use crate::config::ProviderConfig;

/// A client configured from the provider's discovery document.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a login at a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("unknown provider {0}")]
    UnknownProvider(String),
    #[error("provider unreachable or misconfigured: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Rejected(String),
}

/// The SPID/CIE fiscal-number claims, wherever the provider puts them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FiscalNumberClaims {
    #[serde(rename = "https://attributes.eid.gov.it/fiscal_number", default)]
    eid: Option<String>,
    #[serde(rename = "https://attributes.spid.gov.it/fiscal_number", default)]
    spid: Option<String>,
}
impl AdditionalClaims for FiscalNumberClaims {}

/// Who the provider says logged in.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub fiscal_code: FiscalCode,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// What to remember between the redirect to the provider and its callback.
pub struct LoginRedirect {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

struct Provider {
    config: ProviderConfig,
    redirect_uri: String,
    client: OnceCell<DiscoveredClient>,
}

/// The configured identity providers.
pub struct Providers {
    http: reqwest::Client,
    providers: BTreeMap<String, Provider>,
}

impl Providers {
    /// Prepares the providers; discovery happens at first use, so a provider that is down does
    /// not stop the server from starting.
    pub fn new(configs: &BTreeMap<String, ProviderConfig>, public_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Following redirects from a provider's endpoints would open the door to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let providers = configs
            .iter()
            .map(|(id, config)| {
                let provider = Provider {
                    config: config.clone(),
                    redirect_uri: format!("{public_url}/v1/auth/oidc/{id}/callback"),
                    client: OnceCell::new(),
                };
                (id.clone(), provider)
            })
            .collect();
        Ok(Self { http, providers })
    }

    /// (id, display name) of each provider.
    pub fn list(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|(id, provider)| (id.clone(), provider.config.display_name.clone()))
            .collect()
    }

    /// Whether a provider id is configured.
    pub fn contains(&self, id: &str) -> bool {
        self.providers.contains_key(id)
    }

    async fn client(&self, id: &str) -> Result<&DiscoveredClient, OidcError> {
        let provider = self
            .providers
            .get(id)
            .ok_or_else(|| OidcError::UnknownProvider(id.to_owned()))?;
        provider
            .client
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(provider.config.issuer_url.clone())
                    .map_err(|e| OidcError::Unavailable(e.to_string()))?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| OidcError::Unavailable(format!("discovery: {e}")))?;
                let redirect = RedirectUrl::new(provider.redirect_uri.clone())
                    .map_err(|e| OidcError::Unavailable(e.to_string()))?;
                Ok(CoreClient::from_provider_metadata(
                    metadata,
                    ClientId::new(provider.config.client_id.clone()),
                    Some(ClientSecret::new(
                        provider.config.client_secret.expose().to_owned(),
                    )),
                )
                .set_redirect_uri(redirect))
            })
            .await
    }

    /// The provider's authorization URL for a new login, with fresh state, nonce and PKCE.
    pub async fn begin(&self, id: &str) -> Result<LoginRedirect, OidcError> {
        let client = self.client(id).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.providers[id].config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(LoginRedirect {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Redeems the provider's code and verifies the ID token; returns who logged in.
    pub async fn complete(
        &self,
        id: &str,
        code: String,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<VerifiedIdentity, OidcError> {
        let client = self.client(id).await?;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Rejected(format!("code exchange: {e}")))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Rejected("no ID token in the token response".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|e| OidcError::Rejected(format!("ID token: {e}")))?;
        let name = |n: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserGivenName>>| {
            n.and_then(|n| n.get(None)).map(|v| v.as_str().to_owned())
        };
        let given_name = name(claims.given_name());
        let family_name = claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|v| v.as_str().to_owned());
        // The ID token was verified above, so its payload can be read for the extra claims.
        let mut fiscal = fiscal_claims_of(&id_token.to_string());
        if fiscal.eid.is_none() && fiscal.spid.is_none() {
            // Some providers release attributes only from the userinfo endpoint.
            let userinfo: UserInfoClaims<FiscalNumberClaims, CoreGenderClaim> = client
                .user_info(response.access_token().clone(), Some(claims.subject().clone()))
                .map_err(|e| OidcError::Rejected(format!("no fiscal code and no userinfo: {e}")))?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Rejected(format!("userinfo: {e}")))?;
            fiscal = userinfo.additional_claims().clone();
        }
        let fiscal_code = FiscalCode::from_claims(fiscal.eid.as_deref(), fiscal.spid.as_deref())
            .map_err(|e| OidcError::Rejected(e.to_string()))?;
        Ok(VerifiedIdentity {
            fiscal_code,
            given_name,
            family_name,
        })
    }
}

fn fiscal_claims_of(jwt: &str) -> FiscalNumberClaims {
    jwt.split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sportello_core::identity::{EID_FISCAL_NUMBER_CLAIM, SPID_FISCAL_NUMBER_CLAIM};

    #[test]
    fn claim_names_are_those_of_the_profile() {
        let json = serde_json::json!({EID_FISCAL_NUMBER_CLAIM: "TINIT-X", SPID_FISCAL_NUMBER_CLAIM: "Y"});
        let claims: FiscalNumberClaims = serde_json::from_value(json).unwrap();
        assert_eq!(
            (claims.eid.as_deref(), claims.spid.as_deref()),
            (Some("TINIT-X"), Some("Y"))
        );
    }
}
