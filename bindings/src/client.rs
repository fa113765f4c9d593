//! The typed client of Sportello's HTTP API, built on core's wire types.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use sportello_core::api;
use url::Url;

use crate::error::SportelloError;
use crate::identity::Me;
use crate::login::{LoginRequest, LoginTarget, PendingLogin, Redirect};
use crate::session::{SessionListener, SessionSnapshot, SessionState, Tokens, logged_out};
use crate::tenant::{Municipality, parse_istat_code};

/// Time to set up a connection (DNS, TCP, TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a whole request, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections are dropped early: phones change networks often.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of an error body read (problem documents are small).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The Sportello API client: one per server, shared by the whole app.
///
/// It keeps the session (access and refresh token) in memory, renews the access token before it
/// expires and once more if the server refuses it, and serialises renewals so that concurrent
/// calls never replay a rotated refresh token. To stay logged in across restarts, the app stores
/// the refresh token it gets through [`SessionListener`] (or `session_snapshot()`) in the
/// Keystore or Keychain and gives it back with `restore_session()`.
#[derive(uniffi::Object)]
pub struct SportelloClient {
    base: Url,
    http: reqwest::Client,
    language: RwLock<Option<String>>,
    tokens: Mutex<Option<Tokens>>,
    pending_login: Mutex<Option<PendingLogin>>,
    /// Held while a refresh is in flight: refresh tokens are single-use.
    refresh_lock: tokio::sync::Mutex<()>,
    listener: RwLock<Option<Arc<dyn SessionListener>>>,
}

/// A poisoned lock only means another thread panicked mid-update of plain data; carry on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks and normalises the server's base URL: http(s), a host, no query, a trailing slash.
fn parse_base_url(text: &str) -> Result<Url, SportelloError> {
    let invalid = |reason: &str| SportelloError::invalid("base_url", reason);
    let mut url = Url::parse(text.trim()).map_err(|error| invalid(&format!("not a URL: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be https (or http for a local server)"));
    }
    if url.host().is_none() || url.cannot_be_a_base() {
        return Err(invalid("a host is required"));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid("no query, fragment or credentials"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Accepts a BCP 47 language tag (`it`, `en`, `en-GB`) for `Accept-Language`.
fn check_language(language: Option<String>) -> Result<Option<String>, SportelloError> {
    let Some(language) = language.map(|l| l.trim().to_owned()) else {
        return Ok(None);
    };
    let ok = !language.is_empty()
        && language.len() <= 35
        && language.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(Some(language))
    } else {
        Err(SportelloError::invalid(
            "language",
            "expected a language tag such as `it` or `en`",
        ))
    }
}

/// An RFC 3339 time from the server.
pub(crate) fn timestamp(field: &str, text: &str) -> Result<SystemTime, SportelloError> {
    text.parse::<jiff::Timestamp>()
        .and_then(SystemTime::try_from)
        .map_err(|error| SportelloError::unexpected(200, &format!("{field}: {error}")))
}

/// An optional RFC 3339 time from the server.
pub(crate) fn optional_time(field: &str, text: Option<&str>) -> Result<Option<SystemTime>, SportelloError> {
    text.map(|text| timestamp(field, text)).transpose()
}

/// An id from the server as one percent-encoded URL path segment: the ids of broadcast messages
/// contain `/`. Empty ids and dot segments (which URL resolution would climb) are refused.
pub(crate) fn path_segment(field: &str, id: &str) -> Result<String, SportelloError> {
    if id.is_empty() || id.len() > 512 || id.bytes().all(|b| b == b'.') {
        return Err(SportelloError::invalid(field, "not an id given by the server"));
    }
    let mut segment = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            segment.push(char::from(byte));
        } else {
            let _ = write!(segment, "%{byte:02X}");
        }
    }
    Ok(segment)
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// A client of the server at `base_url` (e.g. `https://sportello.comune.genova.it`).
    /// `language` (`it`, `en`) selects the language of the server's messages; default Italian.
    #[uniffi::constructor(default(language = None))]
    pub fn new(base_url: &str, language: Option<String>) -> Result<Arc<Self>, SportelloError> {
        let base = parse_base_url(base_url)?;
        let language = check_language(language)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("sportello-mobile/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            // The API never redirects; not following keeps bearer tokens where they were sent.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| SportelloError::Network {
                detail: format!("cannot set up HTTP: {error}"),
            })?;
        Ok(Arc::new(Self {
            base,
            http,
            language: RwLock::new(language),
            tokens: Mutex::new(None),
            pending_login: Mutex::new(None),
            refresh_lock: tokio::sync::Mutex::new(()),
            listener: RwLock::new(None),
        }))
    }

    /// The server's base URL, normalised (with a trailing slash).
    pub fn base_url(&self) -> String {
        self.base.to_string()
    }

    /// Changes the language of the server's messages (e.g. when the device's language changes).
    pub fn set_language(&self, language: Option<String>) -> Result<(), SportelloError> {
        let language = check_language(language)?;
        *self.language.write().unwrap_or_else(PoisonError::into_inner) = language;
        Ok(())
    }

    /// The identity providers to offer as login buttons.
    pub async fn providers(&self) -> Result<api::AuthProviderList, SportelloError> {
        self.send(self.request(Method::GET, "v1/auth/providers")?).await
    }

    /// Every municipality served, ordered by name.
    pub async fn municipalities(&self) -> Result<Vec<Municipality>, SportelloError> {
        let list: api::MunicipalityList = self.send(self.request(Method::GET, "v1/municipalities")?).await?;
        Ok(list.items.into_iter().map(Municipality::from).collect())
    }

    /// One municipality by ISTAT code; the code is checked on the device first.
    pub async fn municipality(&self, istat_code: String) -> Result<Municipality, SportelloError> {
        let code = parse_istat_code(&istat_code)?;
        let municipality: api::Municipality = self
            .send(self.request(Method::GET, &format!("v1/municipalities/{code}"))?)
            .await?;
        Ok(municipality.into())
    }

    /// Logs in as anyone: only on a local demo server started with `--dev-auth`
    /// (`providers().dev_login`); elsewhere the server answers `NotFound`.
    #[uniffi::method(default(roles = []))]
    pub async fn dev_login(
        &self,
        fiscal_code: String,
        roles: Vec<String>,
    ) -> Result<SessionState, SportelloError> {
        let body = api::DevLoginRequest { fiscal_code, roles };
        let pair: api::TokenPair = self
            .send(self.request(Method::POST, "v1/auth/dev-login")?.json(&body))
            .await?;
        Ok(self.start_session(pair))
    }

    /// Starts a login with an identity provider (an id from `providers()`): open the returned
    /// URL in the system browser. When the browser comes back to `redirect_uri` (default
    /// `it.genova.sportello://auth`), pass the full URL to `complete_login`. Starting a login
    /// forgets any earlier unfinished one.
    // The default is `login::DEFAULT_REDIRECT_URI`; UniFFI needs the literal.
    #[uniffi::method(default(redirect_uri = "it.genova.sportello://auth"))]
    pub fn begin_login(&self, provider: &str, redirect_uri: &str) -> Result<LoginRequest, SportelloError> {
        self.begin(LoginTarget::Oidc(provider), redirect_uri)
    }

    /// Starts a SPID or CIE login with an identity provider of `providers().federated`: pass its
    /// `federation` (`spid`, `cie`) and `entity_id`, and optionally the API route the login is
    /// for (e.g. `/v1/payments`) so that the server asks the SPID level configured for it. Then
    /// as `begin_login`: open the URL in the system browser and pass the redirect to
    /// `complete_login`.
    // UniFFI hands a foreign optional string over by value.
    #[allow(clippy::needless_pass_by_value)]
    #[uniffi::method(default(redirect_uri = "it.genova.sportello://auth", route = None))]
    pub fn begin_federated_login(
        &self,
        federation: &str,
        entity_id: &str,
        redirect_uri: &str,
        route: Option<String>,
    ) -> Result<LoginRequest, SportelloError> {
        let target = LoginTarget::Federated {
            federation,
            entity_id,
            route: route.as_deref(),
        };
        self.begin(target, redirect_uri)
    }

    /// Finishes a login with the URL the browser was sent back to (the app's redirect URI with
    /// `code` and `state`): checks that it belongs to the login in progress and redeems the code.
    /// A redirect that does not belong to it fails with `InvalidInput` or
    /// `LoginFailed(state_mismatch)` and leaves the login pending.
    pub async fn complete_login(&self, redirect_url: String) -> Result<SessionState, SportelloError> {
        let (pending, redirect) = {
            let mut slot = lock(&self.pending_login);
            let pending = slot.take().ok_or_else(|| SportelloError::LoginFailed {
                reason: "no_login_in_progress".to_owned(),
                detail: "no login was started with begin_login, or it was already completed".to_owned(),
            })?;
            match pending.check_redirect(&redirect_url) {
                // From here the login is used up, whatever happens: a code is single-use.
                Ok(redirect) => (pending, redirect),
                // Not this login's redirect: the genuine one may still come.
                Err(error) => {
                    *slot = Some(pending);
                    return Err(error);
                }
            }
        };
        let code = match redirect {
            Redirect::Code(code) => code,
            Redirect::Denied(reason) => {
                let detail = if reason == "access_denied" {
                    "the login was cancelled".to_owned()
                } else {
                    format!("the identity provider or the server ended the login with `{reason}`")
                };
                return Err(SportelloError::LoginFailed { reason, detail });
            }
        };
        let request = api::TokenRequest::AuthorizationCode {
            code,
            code_verifier: pending.verifier,
        };
        match self.post_token(&request).await {
            Ok(pair) => Ok(self.start_session(pair)),
            Err(error) if error.is_invalid_grant() => Err(SportelloError::LoginFailed {
                reason: "invalid_grant".to_owned(),
                detail: match error {
                    SportelloError::Unauthorized { detail, .. } => detail,
                    other => other.to_string(),
                },
            }),
            Err(error) => Err(error),
        }
    }

    /// Forgets the login in progress (e.g. the user closed the browser).
    pub fn cancel_login(&self) {
        lock(&self.pending_login).take();
    }

    /// Renews the token pair now. Not normally needed: calls renew it when due.
    pub async fn refresh(&self) -> Result<SessionState, SportelloError> {
        self.refresh_tokens(None).await?;
        Ok(self.session_state())
    }

    /// Ends the session: forgotten on the device at once, revoked on the server. If the server
    /// cannot be reached the error is returned, but the device is logged out all the same.
    pub async fn logout(&self) -> Result<(), SportelloError> {
        let Some(tokens) = self.replace_tokens(None) else {
            return Ok(());
        };
        let body = api::LogoutRequest {
            refresh_token: tokens.refresh_token,
        };
        let response = self
            .request(Method::POST, "v1/auth/logout")?
            .json(&body)
            .send()
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(error_from(response).await)
        }
    }

    /// The logged-in person.
    pub async fn me(&self) -> Result<Me, SportelloError> {
        let me: api::Me = self.authorized(|| self.request(Method::GET, "v1/me")).await?;
        Ok(me.into())
    }

    /// Whether there is a session.
    pub fn is_logged_in(&self) -> bool {
        lock(&self.tokens).is_some()
    }

    /// The session's state (no tokens).
    pub fn session_state(&self) -> SessionState {
        lock(&self.tokens).as_ref().map_or_else(logged_out, Tokens::state)
    }

    /// What to store to stay logged in across restarts; `None` when logged out. Store it only in
    /// the Keystore (Android) or Keychain (iOS). The refresh token rotates at every refresh:
    /// prefer a [`SessionListener`], which hears about every change.
    pub fn session_snapshot(&self) -> Option<SessionSnapshot> {
        lock(&self.tokens).as_ref().map(Tokens::snapshot)
    }

    /// Resumes a session from a stored refresh token (read from the Keystore or Keychain). No
    /// request is made: the first authenticated call renews the tokens, and fails with
    /// `Unauthorized` if the session has ended meanwhile.
    pub fn restore_session(&self, refresh_token: &str) -> Result<(), SportelloError> {
        let refresh_token = refresh_token.trim().to_owned();
        if refresh_token.is_empty() || refresh_token.len() > 4096 {
            return Err(SportelloError::invalid("refresh_token", "empty or too long"));
        }
        self.replace_tokens(Some(Tokens::restored(refresh_token)));
        Ok(())
    }

    /// Sets (or, with `None`, removes) the listener told about every session change.
    pub fn set_session_listener(&self, listener: Option<Arc<dyn SessionListener>>) {
        *self.listener.write().unwrap_or_else(PoisonError::into_inner) = listener;
    }
}

impl SportelloClient {
    /// A request to a path under the base URL, with the client's headers.
    pub(crate) fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, SportelloError> {
        let url = self
            .base
            .join(path)
            .map_err(|error| SportelloError::invalid("path", &error))?;
        let mut request = self.http.request(method, url).header(ACCEPT, "application/json");
        let language = self
            .language
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(language) = language {
            request = request.header(ACCEPT_LANGUAGE, language);
        }
        Ok(request)
    }

    /// Sends a request and decodes a JSON answer, or maps the error.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, SportelloError> {
        let (status, body) = self.send_raw(request).await?;
        decode(status, &body)
    }

    /// Sends a request and returns a successful answer's status and body, or maps the error.
    async fn send_raw(&self, request: RequestBuilder) -> Result<(u16, Vec<u8>), SportelloError> {
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(error_from(response).await);
        }
        Ok((status.as_u16(), response.bytes().await?.to_vec()))
    }

    /// An authenticated call answered with JSON (see [`Self::authorized_raw`]).
    pub(crate) async fn authorized<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> Result<RequestBuilder, SportelloError>,
    ) -> Result<T, SportelloError> {
        let (status, body) = self.authorized_raw(build).await?;
        decode(status, &body)
    }

    /// An authenticated call whose answer has no body worth reading (`204 No Content`).
    pub(crate) async fn authorized_empty(
        &self,
        build: impl Fn() -> Result<RequestBuilder, SportelloError>,
    ) -> Result<(), SportelloError> {
        self.authorized_raw(build).await.map(drop)
    }

    /// An authenticated call: with a fresh access token, renewed once more and retried once if
    /// the server refuses it (it may have been revoked, or the device clock may be off).
    pub(crate) async fn authorized_raw(
        &self,
        build: impl Fn() -> Result<RequestBuilder, SportelloError>,
    ) -> Result<(u16, Vec<u8>), SportelloError> {
        let token = self.access_token().await?;
        match self.send_raw(build()?.bearer_auth(&token)).await {
            Err(SportelloError::Unauthorized { .. }) => {
                let token = self.refresh_tokens(Some(&token)).await?;
                self.send_raw(build()?.bearer_auth(token)).await
            }
            other => other,
        }
    }

    /// A usable access token: the current one, or a renewed one if it is missing or expiring.
    async fn access_token(&self) -> Result<String, SportelloError> {
        let current = {
            let tokens = lock(&self.tokens);
            let tokens = tokens.as_ref().ok_or_else(SportelloError::not_logged_in)?;
            if let Some(token) = tokens.usable_access_token(SystemTime::now()) {
                return Ok(token.to_owned());
            }
            tokens.access_token.clone()
        };
        self.refresh_tokens(Some(current.as_deref().unwrap_or_default()))
            .await
    }

    /// Renews the token pair and returns the new access token. With `stale`, the caller only
    /// needs a token other than `stale`: if a concurrent call already renewed it while this one
    /// waited, that token is used and the (single-use) refresh token is not spent twice.
    async fn refresh_tokens(&self, stale: Option<&str>) -> Result<String, SportelloError> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        let refresh_token = {
            let tokens = lock(&self.tokens);
            let tokens = tokens.as_ref().ok_or_else(SportelloError::not_logged_in)?;
            if let (Some(stale), Some(token)) = (stale, tokens.usable_access_token(SystemTime::now()))
                && token != stale
            {
                return Ok(token.to_owned());
            }
            tokens.refresh_token.clone()
        };
        let request = api::TokenRequest::RefreshToken {
            refresh_token: refresh_token.clone(),
        };
        match self.post_token(&request).await {
            Ok(pair) => {
                let tokens = Tokens::from_pair(pair, SystemTime::now());
                let access = tokens.access_token.clone().unwrap_or_default();
                if self.replace_tokens_if_current(&refresh_token, Some(tokens)) {
                    Ok(access)
                } else {
                    // Logged out (or in as someone else) while the refresh was in flight.
                    Err(SportelloError::not_logged_in())
                }
            }
            Err(error) if error.is_invalid_grant() => {
                // Expired, revoked, or replayed elsewhere: the session is over.
                self.replace_tokens_if_current(&refresh_token, None);
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// `POST /v1/auth/token`.
    async fn post_token(&self, request: &api::TokenRequest) -> Result<api::TokenPair, SportelloError> {
        self.send(self.request(Method::POST, "v1/auth/token")?.json(request))
            .await
    }

    /// Installs the tokens of a new session.
    /// Starts a login at `target`: the pending login replaces any earlier one.
    fn begin(&self, target: LoginTarget<'_>, redirect_uri: &str) -> Result<LoginRequest, SportelloError> {
        let (pending, request) = PendingLogin::start(&self.base, target, redirect_uri)?;
        *lock(&self.pending_login) = Some(pending);
        Ok(request)
    }

    fn start_session(&self, pair: api::TokenPair) -> SessionState {
        let tokens = Tokens::from_pair(pair, SystemTime::now());
        let state = tokens.state();
        self.replace_tokens(Some(tokens));
        state
    }

    /// Replaces the session, tells the listener, and returns the previous one.
    fn replace_tokens(&self, tokens: Option<Tokens>) -> Option<Tokens> {
        let snapshot = tokens.as_ref().map(Tokens::snapshot);
        let previous = std::mem::replace(&mut *lock(&self.tokens), tokens);
        if previous.is_some() || snapshot.is_some() {
            self.notify(snapshot);
        }
        previous
    }

    /// Replaces the session only if it is still the one with `refresh_token`.
    fn replace_tokens_if_current(&self, refresh_token: &str, tokens: Option<Tokens>) -> bool {
        let snapshot = tokens.as_ref().map(Tokens::snapshot);
        {
            let mut slot = lock(&self.tokens);
            if slot
                .as_ref()
                .is_none_or(|current| current.refresh_token != refresh_token)
            {
                return false;
            }
            *slot = tokens;
        }
        self.notify(snapshot);
        true
    }

    /// Tells the listener, outside every lock (it may call back into the client).
    fn notify(&self, snapshot: Option<SessionSnapshot>) {
        let listener = self
            .listener
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(listener) = listener {
            listener.on_session_changed(snapshot);
        }
    }
}

/// Decodes a successful JSON answer; a body this client does not understand is a `Server` error.
fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, SportelloError> {
    serde_json::from_slice(body).map_err(|error| SportelloError::unexpected(status, &error))
}

/// The error an unsuccessful response stands for.
async fn error_from(mut response: Response) -> SportelloError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > ERROR_BODY_LIMIT {
            break;
        }
    }
    SportelloError::from_response(status, retry_after.as_deref(), &body, SystemTime::now())
}

#[cfg(test)]
mod tests;
