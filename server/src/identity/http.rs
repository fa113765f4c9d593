//! HTTP handlers for login, tokens and the caller's identity, and the bearer-token extractor.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sportello_core::api;
use utoipa::IntoParams;

use super::{AppLogin, Principal};
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Message};

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .ok_or(ApiError::Unauthorized)?;
        state
            .identity
            .authenticate(bearer)
            .await?
            .ok_or(ApiError::Unauthorized)
    }
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1), so `bearer` is as good as `Bearer`.
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Identity providers available for login: the configured ones and the SPID/CIE providers of the
/// federations whose trust chains hold.
#[utoipa::path(get, path = "/v1/auth/providers", tag = "auth",
    responses((status = 200, body = api::AuthProviderList)))]
#[tracing::instrument(skip_all)]
pub async fn providers(State(state): State<AppState>) -> Json<api::AuthProviderList> {
    Json(state.identity.providers().await)
}

/// Development login: a token pair for any fiscal code and roles. Only with `--dev-auth`.
#[utoipa::path(post, path = "/v1/auth/dev-login", tag = "auth", request_body = api::DevLoginRequest,
    responses((status = 200, body = api::TokenPair),
        (status = 404, description = "`dev-login-disabled`: the server runs without --dev-auth"),
        (status = 422, description = "`validation`: fiscal code or roles")))]
#[tracing::instrument(skip_all)]
pub async fn dev_login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::DevLoginRequest>,
) -> Result<Json<api::TokenPair>, ApiError> {
    Ok(Json(state.identity.dev_login(request).await?))
}

/// Query of the login start.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    /// Where to send the browser back: one of the configured app redirect URIs.
    redirect_uri: String,
    /// PKCE S256 challenge of the app's verifier.
    code_challenge: String,
    /// Must be `S256`.
    code_challenge_method: String,
    /// Opaque app state, returned unchanged.
    state: Option<String>,
}

/// Starts a SPID/CIE login: redirects the browser to the identity provider.
#[utoipa::path(get, path = "/v1/auth/oidc/{provider}/login", tag = "auth",
    params(("provider" = String, Path, description = "Provider id, e.g. `cie`"), LoginQuery),
    responses((status = 303, description = "Redirect to the identity provider"),
        (status = 400, description = "`redirect-uri-not-allowed`"),
        (status = 404, description = "`unknown-provider`"),
        (status = 422, description = "`validation`: PKCE challenge, method or state"),
        (status = 502, description = "`provider-unavailable`")))]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn oidc_login(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Result<Redirect, ApiError> {
    check_login_query(&query.code_challenge_method, query.state.as_deref())?;
    let login = AppLogin {
        redirect_uri: query.redirect_uri,
        code_challenge: query.code_challenge,
        state: query.state,
    };
    let url = state.identity.begin_login(&provider, login).await?;
    Ok(Redirect::to(url.as_str()))
}

/// Query of the provider's callback.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    code: Option<String>,
    state: String,
    error: Option<String>,
}

/// The identity provider's redirect back; sends the browser on to the app.
#[utoipa::path(get, path = "/v1/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path), CallbackQuery),
    responses((status = 303, description = "Redirect to the app with `code` or `error`"),
        (status = 400, description = "`login-failed`: unknown or expired login state")))]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn oidc_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let outcome = callback_outcome(query.code, query.error);
    let target = state
        .identity
        .finish_login(&provider, &query.state, outcome)
        .await?;
    Ok(to_app(&target))
}

/// The method and app state of a login start.
fn check_login_query(code_challenge_method: &str, state: Option<&str>) -> Result<(), ApiError> {
    if code_challenge_method != "S256" {
        return Err(ApiError::field(
            "code_challenge_method",
            Message::new("Solo S256 è supportato.", "Only S256 is supported."),
        ));
    }
    if state.is_some_and(|s| s.len() > 512) {
        return Err(ApiError::field(
            "state",
            Message::new("Massimo 512 caratteri.", "At most 512 characters."),
        ));
    }
    Ok(())
}

/// The code, or the (sanitised) error, a provider's callback carries.
fn callback_outcome(code: Option<String>, error: Option<String>) -> Result<String, String> {
    match (code, error) {
        (Some(code), None) => Ok(code),
        (_, Some(error)) => Err(sanitize_error(&error)),
        (None, None) => Err("invalid_request".to_owned()),
    }
}

/// A redirect to the app. `Redirect` would reject nothing, but be explicit: custom schemes are
/// legitimate here.
fn to_app(target: &url::Url) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, target.as_str().to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// OAuth error codes are a small alphabet; anything else is not passed on.
fn sanitize_error(error: &str) -> String {
    if !error.is_empty() && error.len() <= 64 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        error.to_owned()
    } else {
        "login_failed".to_owned()
    }
}

/// Redeems a login code (with the PKCE verifier) or a refresh token for a new token pair.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", request_body = api::TokenRequest,
    responses((status = 200, body = api::TokenPair),
        (status = 400, description = "`invalid-grant`")))]
#[tracing::instrument(skip_all)]
pub async fn token(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::TokenRequest>,
) -> Result<Response, ApiError> {
    let pair = state.identity.exchange(request).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(pair)).into_response())
}

/// Ends the session of a refresh token, and at the provider that of a SPID/CIE login.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = api::LogoutRequest,
    responses((status = 204, description = "Logged out (after a SPID/CIE login, the provider's token is also revoked there)")))]
#[tracing::instrument(skip_all)]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    state.identity.logout(&request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's identity and roles.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = api::Me)))]
#[tracing::instrument(skip_all)]
pub async fn me(State(state): State<AppState>, principal: Principal) -> Result<Json<api::Me>, ApiError> {
    Ok(Json(state.identity.me(&principal).await?))
}

/// Public keys that sign access tokens (JWKS, RFC 7517; Ed25519 per RFC 8037).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set")))]
#[tracing::instrument(skip_all)]
pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.identity.keys().jwks())
}

/// Query of a SPID/CIE login start.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FederatedLoginQuery {
    /// Entity id of the identity provider (from the federation's list).
    provider: String,
    /// The API route the login is for, to ask the level configured for it (e.g. `/v1/payments`).
    route: Option<String>,
    /// Where to send the browser back: one of the configured app redirect URIs.
    redirect_uri: String,
    /// PKCE S256 challenge of the app's verifier.
    code_challenge: String,
    /// Must be `S256`.
    code_challenge_method: String,
    /// Opaque app state, returned unchanged.
    state: Option<String>,
}

/// Starts a SPID/CIE login through the federation: the provider's trust chain is resolved and
/// the browser sent to it with a signed request object.
#[utoipa::path(get, path = "/v1/auth/federation/{federation}/login", tag = "auth",
    params(("federation" = String, Path, description = "`spid` or `cie`"), FederatedLoginQuery),
    responses((status = 303, description = "Redirect to the identity provider"),
        (status = 400, description = "`redirect-uri-not-allowed`, `login-failed`"),
        (status = 403, description = "`provider-not-trusted`: the provider is not in the federation"),
        (status = 404, description = "`federation-disabled`, `unknown-provider`"),
        (status = 422, description = "`validation`: PKCE challenge, method or state")))]
#[tracing::instrument(skip_all, fields(federation = %federation))]
pub async fn federated_login(
    State(state): State<AppState>,
    Path(federation): Path<String>,
    ApiQuery(query): ApiQuery<FederatedLoginQuery>,
) -> Result<Redirect, ApiError> {
    check_login_query(&query.code_challenge_method, query.state.as_deref())?;
    let login = AppLogin {
        redirect_uri: query.redirect_uri,
        code_challenge: query.code_challenge,
        state: query.state,
    };
    let url = state
        .identity
        .begin_federated_login(&federation, &query.provider, query.route.as_deref(), login)
        .await?;
    Ok(Redirect::to(url.as_str()))
}

/// A SPID/CIE provider's redirect back; sends the browser on to the app.
#[utoipa::path(get, path = "/v1/auth/federation/callback", tag = "auth",
    params(CallbackQuery),
    responses((status = 303, description = "Redirect to the app with `code` or `error`"),
        (status = 400, description = "`login-failed`: unknown or expired login state")))]
#[tracing::instrument(skip_all)]
pub async fn federated_callback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let outcome = callback_outcome(query.code, query.error);
    let target = state
        .identity
        .finish_federated_login(&query.state, outcome)
        .await?;
    Ok(to_app(&target))
}

/// Sportello's Entity Configuration as an OpenID Connect Federation relying party (SPID, CIE):
/// a JWT signed with the federation key.
#[utoipa::path(get, path = "/.well-known/openid-federation", tag = "auth",
    responses((status = 200, description = "Entity Configuration (a signed JWT)", content_type = "application/entity-statement+jwt", body = String),
        (status = 404, description = "`federation-disabled`: no federation configured")))]
#[tracing::instrument(skip_all)]
pub async fn entity_configuration(State(state): State<AppState>) -> Result<Response, ApiError> {
    let jwt = state.identity.federation().entity_configuration().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            super::federation::entity::ENTITY_STATEMENT_MEDIA_TYPE,
        )],
        jwt,
    )
        .into_response())
}

/// Operators of a municipality's back office: visible to its own operators and to admins.
#[utoipa::path(get, path = "/v1/municipalities/{istat_code}/operators", tag = "municipalities",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025")),
    responses((status = 200, body = api::OperatorGrantList),
        (status = 403, description = "`forbidden`: not an operator of this municipality nor an admin"),
        (status = 404, description = "`municipality-not-found`"),
        (status = 422, description = "`validation`: not an ISTAT code")))]
#[tracing::instrument(skip_all, fields(istat_code = %istat_code))]
pub async fn municipality_operators(
    State(state): State<AppState>,
    principal: Principal,
    Path(istat_code): Path<String>,
) -> Result<Json<api::OperatorGrantList>, ApiError> {
    let code = state.municipalities.require(&istat_code)?.istat_code.clone();
    let items = state.identity.municipality_operators(&principal, &code).await?;
    Ok(Json(api::OperatorGrantList { items }))
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc.def"), Some("abc.def"));
        assert_eq!(bearer_token("bearer abc.def"), Some("abc.def"));
        assert_eq!(bearer_token("BEARER  abc.def "), Some("abc.def"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }
}
