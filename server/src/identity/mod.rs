//! Identity: SPID/CIE login through OpenID Connect, the server's own token pair, roles.
//!
//! Login for apps (mobile or web), with the server as the OpenID relying party:
//! 1. the app opens `GET /v1/auth/oidc/{provider}/login?redirect_uri&code_challenge&state` in
//!    the system browser; the server redirects to the provider with its own state, nonce and PKCE;
//! 2. the provider calls back `GET /v1/auth/oidc/{provider}/callback`; the server verifies the ID
//!    token, takes the fiscal code, and redirects to the app's (allow-listed, possibly
//!    custom-scheme) redirect URI with a one-time code;
//! 3. the app redeems the code with its PKCE verifier at `POST /v1/auth/token` and gets an access
//!    JWT and a rotating refresh token.

pub mod directory;
mod error;
pub mod federation;
pub mod http;
pub mod oidc;
pub mod store;
pub mod tokens;

use std::time::Duration;

use sportello_core::api;
use sportello_core::identity::{FiscalCode, Role, works_in};
use sportello_core::tenant::IstatCode;

pub use self::error::AuthError;
use self::federation::Federation;
use self::oidc::Providers;
use self::store::{LoginAttempt, Rotation, User};
use self::tokens::{KeyRing, hash_secret, pkce_challenge, random_secret};
use crate::clock::now_ms;
use crate::clock::rfc3339_from_ms;
use crate::config::{AuthConfig, Config};
use crate::db::Db;

/// Most grants a back-office list returns.
const GRANT_LIST_LIMIT: i64 = 1000;

/// Lifetime of the one-time code handed to the app after a login.
const APP_CODE_TTL_MS: i64 = 60_000;

/// The path of the web app's login callback (`crate::web`), the redirect URI of its logins.
pub const WEB_LOGIN_DONE: &str = "/login/done";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub fiscal_code: String,
    pub roles: Vec<Role>,
    pub session_id: String,
}

/// What the app sends to start a login.
#[derive(Debug, Clone)]
pub struct AppLogin {
    pub redirect_uri: String,
    pub code_challenge: String,
    pub state: Option<String>,
}

/// The identity service: keys, providers and policy.
pub struct Identity {
    db: Db,
    keys: KeyRing,
    providers: Providers,
    federation: Federation,
    auth: AuthConfig,
    dev_auth: bool,
    /// Where the web app's own login comes back (`{public_url}/login/done`): an app redirect
    /// URI that needs no configuration.
    web_redirect_uri: String,
}

impl Identity {
    /// Loads (or creates) the signing keys and prepares the providers.
    pub async fn new(db: Db, config: &Config) -> anyhow::Result<Self> {
        let keys = KeyRing::load(
            &db,
            config.public_url(),
            Duration::from_secs(config.auth.access_token_ttl_secs),
        )
        .await?;
        let providers = Providers::new(&config.auth.providers, &config.public_url())?;
        let federation = Federation::new(
            db.clone(),
            &config.public_url(),
            config.auth.relying_party.clone(),
            config.auth.federations.clone(),
            config.demo,
        );
        Ok(Self {
            db,
            keys,
            providers,
            federation,
            auth: config.auth.clone(),
            dev_auth: config.dev_auth,
            web_redirect_uri: format!("{}{WEB_LOGIN_DONE}", config.public_url()),
        })
    }

    /// The signing keys (for the JWKS).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Sportello as a relying party of the SPID and CIE federations.
    pub fn federation(&self) -> &Federation {
        &self.federation
    }

    /// Providers for login buttons: the generic ones and those of the SPID/CIE federations.
    pub async fn providers(&self) -> api::AuthProviderList {
        api::AuthProviderList {
            federated: self.federation.providers().await,
            items: self
                .providers
                .list()
                .into_iter()
                .map(|(id, display_name)| api::AuthProvider { id, display_name })
                .collect(),
            dev_login: self.dev_auth,
        }
    }

    /// Logs in as anyone with any roles: local demos and black-box tests only.
    pub async fn dev_login(&self, request: api::DevLoginRequest) -> Result<api::TokenPair, AuthError> {
        if !self.dev_auth {
            return Err(AuthError::DevLoginDisabled);
        }
        let fiscal_code = FiscalCode::parse(&request.fiscal_code)?;
        let mut roles = vec![Role::Citizen];
        for text in &request.roles {
            let role: Role = text.parse()?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        let user = store::upsert_user(&self.db, fiscal_code.as_str(), None, None).await?;
        let role_text = roles
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        self.start_session(&user, roles, Some(&role_text), None).await
    }

    /// Step 1: remembers the app's request and returns the provider URL to redirect to.
    pub async fn begin_login(&self, provider: &str, app: AppLogin) -> Result<url::Url, AuthError> {
        if !self.providers.contains(provider) {
            return Err(AuthError::UnknownProvider(provider.to_owned()));
        }
        self.check_app(&app)?;
        let redirect = self.providers.begin(provider).await?;
        store::insert_login_attempt(
            &self.db,
            &LoginAttempt {
                state: redirect.state,
                provider: provider.to_owned(),
                nonce: redirect.nonce,
                pkce_verifier: redirect.pkce_verifier,
                app_redirect_uri: app.redirect_uri,
                app_state: app.state,
                app_code_challenge: app.code_challenge,
                expires_at: self.login_expiry(),
            },
        )
        .await?;
        Ok(redirect.url)
    }

    /// Step 1 of a SPID/CIE login: `provider` is the entity id of an identity provider of
    /// `federation`; the level asked is the one configured for `route`, if given.
    pub async fn begin_federated_login(
        &self,
        federation: &str,
        provider: &str,
        route: Option<&str>,
        app: AppLogin,
    ) -> Result<url::Url, AuthError> {
        self.check_app(&app)?;
        let acr = self.federation.acr_for(federation, route);
        let request = self.federation.begin(federation, provider, &acr).await?;
        store::insert_attempt(
            &self.db,
            &LoginAttempt {
                state: request.state,
                provider: provider.to_owned(),
                nonce: request.nonce,
                pkce_verifier: request.pkce_verifier,
                app_redirect_uri: app.redirect_uri,
                app_state: app.state,
                app_code_challenge: app.code_challenge,
                expires_at: self.login_expiry(),
            },
            Some(federation),
            Some(&request.acr),
        )
        .await?;
        Ok(request.url)
    }

    /// Step 2 of a SPID/CIE login: the provider's callback, as [`Self::finish_login`].
    pub async fn finish_federated_login(
        &self,
        state: &str,
        outcome: Result<String, String>,
    ) -> Result<url::Url, AuthError> {
        let (attempt, federation, acr) = store::take_attempt(&self.db, state, true)
            .await?
            .filter(|(attempt, _, _)| attempt.expires_at >= now_ms())
            .ok_or_else(|| AuthError::LoginFailed("unknown or expired login state".into()))?;
        let federation = federation.as_deref().unwrap_or_default();
        let completed = match outcome {
            Err(provider_error) => Err(provider_error),
            Ok(code) => self
                .federation
                .complete(
                    federation,
                    &attempt.provider,
                    &code,
                    &attempt.pkce_verifier,
                    &attempt.nonce,
                    acr.as_deref().unwrap_or_default(),
                )
                .await
                .map_err(|error| {
                    tracing::warn!(%error, provider = %attempt.provider, "federated login refused");
                    "login_failed".to_owned()
                }),
        };
        let (result, provider_session) = match completed {
            Ok(identity) => {
                let kept = self
                    .federation
                    .keep_provider_session(federation, &attempt.provider, &identity)
                    .await?;
                (
                    Ok((identity.fiscal_code, identity.given_name, identity.family_name)),
                    Some(kept),
                )
            }
            Err(error) => (Err(error), None),
        };
        self.back_to_app(&attempt, result, provider_session.as_deref())
            .await
    }

    fn check_app(&self, app: &AppLogin) -> Result<(), AuthError> {
        if app.redirect_uri != self.web_redirect_uri
            && !self.auth.app_redirect_uris.contains(&app.redirect_uri)
        {
            return Err(AuthError::RedirectUriNotAllowed);
        }
        // An S256 challenge is the base64url SHA-256: 43 characters.
        let challenge_ok = app.code_challenge.len() == 43
            && app
                .code_challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !challenge_ok {
            return Err(AuthError::InvalidChallenge);
        }
        Ok(())
    }

    fn login_expiry(&self) -> i64 {
        let ttl_ms = i64::try_from(self.auth.login_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        now_ms().saturating_add(ttl_ms)
    }

    /// Step 2: the provider's callback. Returns the app URL to redirect to: with a one-time
    /// code on success, with `error` if the provider or the verification said no.
    pub async fn finish_login(
        &self,
        provider: &str,
        state: &str,
        outcome: Result<String, String>,
    ) -> Result<url::Url, AuthError> {
        let attempt = store::take_login_attempt(&self.db, state)
            .await?
            .filter(|attempt| attempt.provider == provider && attempt.expires_at >= now_ms())
            .ok_or_else(|| AuthError::LoginFailed("unknown or expired login state".into()))?;
        let result = match outcome {
            Err(provider_error) => Err(provider_error),
            Ok(code) => self
                .providers
                .complete(provider, code, attempt.pkce_verifier.clone(), &attempt.nonce)
                .await
                .map(|identity| (identity.fiscal_code, identity.given_name, identity.family_name))
                .map_err(|error| {
                    tracing::warn!(%error, provider, "login verification failed");
                    "login_failed".to_owned()
                }),
        };
        self.back_to_app(&attempt, result, None).await
    }

    /// The app URL to send the browser to: a one-time code for the person who logged in
    /// (created or updated), or the error. `provider_session`: the provider's tokens of a
    /// federated login, handed on to the session the code starts.
    async fn back_to_app(
        &self,
        attempt: &LoginAttempt,
        result: Result<(FiscalCode, Option<String>, Option<String>), String>,
        provider_session: Option<&str>,
    ) -> Result<url::Url, AuthError> {
        let mut target =
            url::Url::parse(&attempt.app_redirect_uri).map_err(|e| AuthError::LoginFailed(e.to_string()))?;
        let provider = attempt.provider.as_str();
        let outcome = match result {
            Ok((fiscal_code, given_name, family_name)) => {
                let user = store::upsert_user(
                    &self.db,
                    fiscal_code.as_str(),
                    given_name.as_deref(),
                    family_name.as_deref(),
                )
                .await?;
                let code = random_secret();
                store::insert_authorization_code(
                    &self.db,
                    &hash_secret(&code),
                    &user.id,
                    &attempt.app_code_challenge,
                    now_ms() + APP_CODE_TTL_MS,
                    provider_session,
                )
                .await?;
                tracing::info!(user_id = %user.id, provider, "login completed");
                ("code", code)
            }
            Err(error) => ("error", error),
        };
        {
            let mut query = target.query_pairs_mut();
            query.append_pair(outcome.0, &outcome.1);
            if let Some(app_state) = &attempt.app_state {
                query.append_pair("state", app_state);
            }
        }
        Ok(target)
    }

    /// Step 3 and renewals: `POST /v1/auth/token`.
    pub async fn exchange(&self, request: api::TokenRequest) -> Result<api::TokenPair, AuthError> {
        match request {
            api::TokenRequest::AuthorizationCode { code, code_verifier } => {
                let taken = store::take_authorization_code(&self.db, &hash_secret(&code))
                    .await?
                    .ok_or(AuthError::InvalidGrant)?;
                if pkce_challenge(&code_verifier) != taken.code_challenge {
                    return Err(AuthError::InvalidGrant);
                }
                let user = store::get_user(&self.db, &taken.user_id)
                    .await?
                    .ok_or(AuthError::InvalidGrant)?;
                let roles = self.granted_roles(&user.fiscal_code).await?;
                self.start_session(&user, roles, None, taken.provider_session.as_deref())
                    .await
            }
            api::TokenRequest::RefreshToken { refresh_token } => {
                let successor = random_secret();
                let expires_at = now_ms() + self.refresh_ttl_ms();
                match store::rotate_refresh_token(
                    &self.db,
                    &hash_secret(&refresh_token),
                    &hash_secret(&successor),
                    expires_at,
                )
                .await?
                {
                    Rotation::Rotated {
                        user_id,
                        family_id,
                        dev_roles,
                    } => {
                        let user = store::get_user(&self.db, &user_id)
                            .await?
                            .ok_or(AuthError::InvalidGrant)?;
                        let roles = match dev_roles {
                            Some(text) => text.split(' ').map(str::parse).collect::<Result<_, _>>()?,
                            None => self.granted_roles(&user.fiscal_code).await?,
                        };
                        Ok(self.token_pair(&user, &roles, &family_id, successor))
                    }
                    Rotation::Replayed => {
                        tracing::warn!("refresh token replayed: session revoked");
                        Err(AuthError::InvalidGrant)
                    }
                    Rotation::Invalid => Err(AuthError::InvalidGrant),
                }
            }
        }
    }

    /// Ends the session of a refresh token. Unknown tokens are accepted silently (RFC 7009). A
    /// session of a SPID/CIE login also ends at the provider (its token revoked there).
    pub async fn logout(&self, refresh_token: &str) -> Result<(), AuthError> {
        let ended = store::revoke_session_of(&self.db, &hash_secret(refresh_token)).await?;
        if let Some(provider_session) = ended.and_then(|ended| ended.provider_session) {
            self.federation.end_provider_session(&provider_session).await;
        }
        Ok(())
    }

    /// The caller behind a bearer token: its signature, expiry and audience verified, and its
    /// session still active (one indexed lookup, so a logout or a refresh-token replay revokes
    /// at once rather than when the access token expires). `None` for any token refused.
    pub async fn authenticate(&self, bearer: &str) -> Result<Option<Principal>, AuthError> {
        let claims = match self.keys.verify(&self.db, bearer).await {
            Ok(claims) => claims,
            Err(error) => {
                tracing::debug!(%error, "bearer token refused");
                return Ok(None);
            }
        };
        let Ok(roles) = claims
            .roles
            .iter()
            .map(|r| r.parse())
            .collect::<Result<Vec<Role>, _>>()
        else {
            return Ok(None);
        };
        if !store::session_active(&self.db, &claims.sid).await? {
            return Ok(None);
        }
        Ok(Some(Principal {
            user_id: claims.sub,
            fiscal_code: claims.cf,
            roles,
            session_id: claims.sid,
        }))
    }

    /// The caller behind the web app's session cookie, which holds the refresh token of its
    /// login (never used for a refresh, so never rotated): the session it opens, while the
    /// token is unused and unexpired and the session not ended. `None` otherwise.
    pub async fn web_session(&self, refresh_token: &str) -> Result<Option<Principal>, AuthError> {
        let Some((user_id, session_id, dev_roles)) =
            store::session_of_refresh_token(&self.db, &hash_secret(refresh_token)).await?
        else {
            return Ok(None);
        };
        let Some(user) = store::get_user(&self.db, &user_id).await? else {
            return Ok(None);
        };
        let roles = match dev_roles {
            Some(text) => text.split(' ').map(str::parse).collect::<Result<_, _>>()?,
            None => self.granted_roles(&user.fiscal_code).await?,
        };
        Ok(Some(Principal {
            user_id,
            fiscal_code: user.fiscal_code,
            roles,
            session_id,
        }))
    }

    /// The account a bearer token was issued to, its signature and expiry verified but not its
    /// session: enough to count the account's calls against its rate limits, cheaply.
    pub async fn account_of(&self, bearer: &str) -> Option<String> {
        self.keys
            .verify(&self.db, bearer)
            .await
            .ok()
            .map(|claims| claims.sub)
    }

    /// The caller's identity and roles.
    pub async fn me(&self, principal: &Principal) -> Result<api::Me, AuthError> {
        let user = store::get_user(&self.db, &principal.user_id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        Ok(api::Me {
            user_id: user.id,
            fiscal_code: user.fiscal_code,
            given_name: user.given_name,
            family_name: user.family_name,
            roles: principal.roles.iter().map(ToString::to_string).collect(),
        })
    }

    /// The operators of a municipality's back office (at most `GRANT_LIST_LIMIT`): for its own
    /// operators and for admins only.
    pub async fn municipality_operators(
        &self,
        principal: &Principal,
        municipality: &IstatCode,
    ) -> Result<Vec<api::OperatorGrant>, AuthError> {
        if !works_in(&principal.roles, municipality) {
            return Err(AuthError::Forbidden);
        }
        let grants = store::list_grants(&self.db, Some(municipality.as_str()), GRANT_LIST_LIMIT).await?;
        Ok(grants
            .into_iter()
            .map(|grant| api::OperatorGrant {
                fiscal_code: grant.fiscal_code,
                role: grant.role,
                granted_by: grant.granted_by,
                granted_at: rfc3339_from_ms(grant.granted_at),
            })
            .collect())
    }

    async fn granted_roles(&self, fiscal_code: &str) -> Result<Vec<Role>, AuthError> {
        let mut roles = vec![Role::Citizen];
        for text in store::granted_roles(&self.db, fiscal_code).await? {
            match text.parse() {
                Ok(role) => roles.push(role),
                Err(error) => tracing::error!(%error, "ignoring malformed stored role"),
            }
        }
        Ok(roles)
    }

    async fn start_session(
        &self,
        user: &User,
        roles: Vec<Role>,
        dev_roles: Option<&str>,
        provider_session: Option<&str>,
    ) -> Result<api::TokenPair, AuthError> {
        let refresh = random_secret();
        let expires_at = now_ms() + self.refresh_ttl_ms();
        let session = store::NewSession {
            user_id: &user.id,
            dev_roles,
            provider_session,
        };
        let family = store::create_session(&self.db, &session, &hash_secret(&refresh), expires_at).await?;
        Ok(self.token_pair(user, &roles, &family, refresh))
    }

    fn token_pair(
        &self,
        user: &User,
        roles: &[Role],
        session: &str,
        refresh_token: String,
    ) -> api::TokenPair {
        let roles = roles.iter().map(ToString::to_string).collect();
        api::TokenPair {
            access_token: self.keys.issue(&user.id, &user.fiscal_code, roles, session),
            token_type: "Bearer".to_owned(),
            expires_in: self.keys.access_ttl().as_secs(),
            refresh_token,
            refresh_expires_in: self.auth.refresh_token_ttl_secs,
        }
    }

    fn refresh_ttl_ms(&self) -> i64 {
        i64::try_from(self.auth.refresh_token_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}
