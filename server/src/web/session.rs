//! The web app's session: a cookie holding the refresh token of the citizen's login (never used
//! for a refresh, so it does not rotate; [`crate::identity::Identity::web_session`] opens the
//! session it belongs to, and logout ends that session). HttpOnly, `SameSite=Lax`, `Secure`
//! when Sportello is served over https.
//!
//! Every form that changes something carries a CSRF token: an HMAC of the session's secret
//! (before login, of the `sportello_csrf` cookie the login page sets), so another site can
//! neither read nor forge it; a POST without the right one is refused with 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::http::problem::{ApiError, Message};
use crate::identity::Principal;

/// The session cookie: the login's refresh token.
pub const SESSION_COOKIE: &str = "sportello_session";
/// The login in progress through an identity provider: its state, PKCE verifier and the page
/// to go back to.
pub const LOGIN_COOKIE: &str = "sportello_login";
/// The secret of the login page's form, before there is a session.
pub const CSRF_COOKIE: &str = "sportello_csrf";
/// The name of the CSRF field of every form (and of the header the page's script sends).
pub const CSRF_FIELD: &str = "csrf";
/// The header a script's request carries the token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name && !value.is_empty()).then(|| value.to_owned())
        })
}

/// A `Set-Cookie` value: this site only, not readable by scripts, sent on top-level
/// navigations from other sites (the identity provider's redirect back) but not on their
/// requests or forms.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", 0, secure)
}

/// Whether cookies must be `Secure`: Sportello is served over https.
pub fn secure(state: &AppState) -> bool {
    state.config.public_url().starts_with("https://")
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"sportello web form");
    mac
}

/// The CSRF token of the forms of a session (or of the login page's `secret`).
pub fn csrf_token(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret).finalize().into_bytes())
}

/// Whether `submitted` is the CSRF token of `secret` (compared in constant time).
pub fn csrf_matches(secret: &str, submitted: Option<&str>) -> bool {
    let Some(bytes) = submitted.and_then(|token| URL_SAFE_NO_PAD.decode(token).ok()) else {
        return false;
    };
    mac(secret).verify_slice(&bytes).is_ok()
}

/// The answer to a form without the right CSRF token.
pub fn csrf_refused() -> ApiError {
    ApiError::problem(
        StatusCode::FORBIDDEN,
        "csrf",
        Message::new("Modulo non valido", "Invalid form"),
        Message::new(
            "Il modulo è scaduto o non viene da questo sito: ricarica la pagina e riprova.",
            "The form has expired or does not come from this site: reload the page and try again.",
        ),
    )
}

/// A signed-in citizen: the session's caller and the secret its forms' tokens derive from.
pub struct Citizen {
    pub principal: Principal,
    secret: String,
}

impl Citizen {
    /// The CSRF token of this session's forms.
    pub fn csrf(&self) -> String {
        csrf_token(&self.secret)
    }

    /// Refuses a form without this session's token.
    pub fn check_csrf(&self, submitted: Option<&str>) -> Result<(), ApiError> {
        if csrf_matches(&self.secret, submitted) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }

    /// The session's secret (for logout).
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

async fn citizen_of(parts: &Parts, state: &AppState) -> Option<Citizen> {
    let secret = cookie(&parts.headers, SESSION_COOKIE)?;
    match state.identity.web_session(&secret).await {
        Ok(Some(principal)) => Some(Citizen { principal, secret }),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%error, "web session lookup failed");
            None
        }
    }
}

/// Where the login sends the person back: a page of this site, nothing else.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|next| {
        next.starts_with('/')
            && !next.starts_with("//")
            && next.len() <= 512
            && next
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-_.?=&%".contains(&b))
    })
    .unwrap_or("/me")
    .to_owned()
}

impl FromRequestParts<AppState> for Citizen {
    type Rejection = Response;

    /// Without a session: to the login page, which comes back here (to this page for a GET,
    /// to the personal area after a form).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(citizen) = citizen_of(parts, state).await {
            return Ok(citizen);
        }
        let here = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/me", axum::http::uri::PathAndQuery::as_str)
        } else {
            "/me"
        };
        let next = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &safe_next(Some(here)))
            .finish();
        Err(Redirect::to(&format!("/login?{next}")).into_response())
    }
}

/// The citizen, when someone is signed in (pages that anyone sees, with more for citizens).
pub struct MaybeCitizen(pub Option<Citizen>);

impl FromRequestParts<AppState> for MaybeCitizen {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(citizen_of(parts, state).await))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_secret() {
        let token = csrf_token("secret-a");
        assert!(csrf_matches("secret-a", Some(&token)));
        assert!(!csrf_matches("secret-b", Some(&token)));
        assert!(!csrf_matches("secret-a", None));
        assert!(!csrf_matches("secret-a", Some("")));
        assert!(!csrf_matches("secret-a", Some("not base64!")));
    }

    #[test]
    fn cookies_are_read_and_written_with_their_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=en; sportello_session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, LOGIN_COOKIE), None);
        let set = set_cookie(SESSION_COOKIE, "abc", 60, true);
        assert_eq!(
            set,
            "sportello_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(
            !clear_cookie(SESSION_COOKIE, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }

    #[test]
    fn only_pages_of_this_site_are_a_way_back() {
        assert_eq!(safe_next(Some("/me/permits?x=1")), "/me/permits?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/me");
        assert_eq!(safe_next(Some("https://evil.example/")), "/me");
        assert_eq!(safe_next(Some("/me\r\nSet-Cookie: x")), "/me");
        assert_eq!(safe_next(None), "/me");
    }
}
