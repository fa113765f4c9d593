//! Login through the system browser (authorization code + PKCE, RFC 7636), as the server's flow
//! expects it: the app opens the server's login URL, the server sends the browser back to the
//! app's redirect URI with a one-time code, and the app redeems the code with its PKCE verifier.
//! The verifier and state never leave this library.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::{Position, Url};

use crate::error::SportelloError;

/// The redirect URI the server allows by default for the mobile apps.
pub const DEFAULT_REDIRECT_URI: &str = "it.genova.sportello://auth";

/// Where to send the user to log in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LoginRequest {
    /// Open this URL in the system browser (Custom Tab, ASWebAuthenticationSession).
    pub url: String,
    /// The state this login expects back; informational (the client checks it).
    pub state: String,
}

/// A login started by `begin_login` and not yet completed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PendingLogin {
    pub redirect_uri: Url,
    pub state: String,
    pub verifier: String,
}

/// Secrets are never printed.
impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish_non_exhaustive()
    }
}

/// What a redirect that belongs to the pending login says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// The one-time code to redeem.
    Code(String),
    /// The login ended without a code (`access_denied`, `login_failed`, …).
    Denied(String),
}

/// Random bytes, base64url without padding (32 bytes give 43 characters).
fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // Only fails on a system without an entropy source, which no app platform is; UniFFI turns
    // the panic into an exception rather than a crash.
    getrandom::fill(&mut buffer).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The S256 challenge of a PKCE verifier.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Which of the server's login endpoints a login starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginTarget<'a> {
    /// A generic OpenID Connect provider of `providers().items`, by id.
    Oidc(&'a str),
    /// A SPID or CIE identity provider of `providers().federated`.
    Federated {
        /// `federation` of the entry: `spid` or `cie`.
        federation: &'a str,
        /// `entity_id` of the entry.
        entity_id: &'a str,
        /// The API route the login is for, so that the server asks the SPID level configured
        /// for it (e.g. `/v1/payments`).
        route: Option<&'a str>,
    },
}

/// Provider ids and federations are path segments: letters, digits and `-` (as the server
/// requires).
fn check_segment(field: &str, value: &str) -> Result<(), SportelloError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(SportelloError::invalid(
            field,
            "letters, digits or '-' (see providers())",
        ))
    }
}

/// A federation entity id is an http(s) URL without query or fragment.
fn check_entity_id(entity_id: &str) -> Result<(), SportelloError> {
    let url = Url::parse(entity_id)
        .map_err(|error| SportelloError::invalid("provider", &format!("not an entity id: {error}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.query().is_some() || url.fragment().is_some() {
        return Err(SportelloError::invalid(
            "provider",
            "an entity id is an http(s) URL without query or fragment (see providers().federated)",
        ));
    }
    Ok(())
}

impl LoginTarget<'_> {
    /// The server's login URL for this target, before the app's parameters.
    fn url(self, base: &Url) -> Result<Url, SportelloError> {
        match self {
            LoginTarget::Oidc(provider) => {
                check_segment("provider", provider)?;
                base.join(&format!("v1/auth/oidc/{provider}/login"))
                    .map_err(|error| SportelloError::invalid("provider", &error))
            }
            LoginTarget::Federated {
                federation,
                entity_id,
                route,
            } => {
                check_segment("federation", federation)?;
                check_entity_id(entity_id)?;
                if route.is_some_and(|route| !route.starts_with('/')) {
                    return Err(SportelloError::invalid(
                        "route",
                        "an API path such as /v1/payments",
                    ));
                }
                let mut url = base
                    .join(&format!("v1/auth/federation/{federation}/login"))
                    .map_err(|error| SportelloError::invalid("federation", &error))?;
                url.query_pairs_mut().append_pair("provider", entity_id);
                if let Some(route) = route {
                    url.query_pairs_mut().append_pair("route", route);
                }
                Ok(url)
            }
        }
    }
}

impl PendingLogin {
    /// Starts a login: fresh verifier and state, and the URL of the server's login endpoint.
    pub fn start(
        base: &Url,
        target: LoginTarget<'_>,
        redirect_uri: &str,
    ) -> Result<(Self, LoginRequest), SportelloError> {
        let mut url = target.url(base)?;
        let redirect_uri = Url::parse(redirect_uri)
            .map_err(|error| SportelloError::invalid("redirect_uri", &format!("not a URL: {error}")))?;
        if redirect_uri.query().is_some() || redirect_uri.fragment().is_some() {
            return Err(SportelloError::invalid(
                "redirect_uri",
                "must have no query or fragment (the server adds code and state)",
            ));
        }
        // 64 bytes give an 86-character verifier, within RFC 7636's 43..=128.
        let verifier = random_token(64);
        let state = random_token(24);
        url.query_pairs_mut()
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state);
        let request = LoginRequest {
            url: url.into(),
            state: state.clone(),
        };
        Ok((
            Self {
                redirect_uri,
                state,
                verifier,
            },
            request,
        ))
    }

    /// Reads the redirect the browser delivered to the app. An `Err` means the URL does not
    /// belong to this login (another URL, a wrong or missing state): the login stays pending,
    /// so a forged redirect cannot cancel the genuine one.
    pub fn check_redirect(&self, redirect_url: &str) -> Result<Redirect, SportelloError> {
        let url = Url::parse(redirect_url.trim())
            .map_err(|error| SportelloError::invalid("redirect_url", &format!("not a URL: {error}")))?;
        if url[..Position::AfterPath] != self.redirect_uri[..Position::AfterPath] {
            return Err(SportelloError::invalid(
                "redirect_url",
                &format!("not the redirect URI of this login ({})", self.redirect_uri),
            ));
        }
        let (mut code, mut state, mut error) = (None, None, None);
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "code" => code = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                _ => {}
            }
        }
        if !state
            .as_deref()
            .is_some_and(|state| constant_time_eq(state, &self.state))
        {
            return Err(SportelloError::LoginFailed {
                reason: "state_mismatch".to_owned(),
                detail: "the redirect does not carry the state of the login in progress".to_owned(),
            });
        }
        Ok(match (code, error) {
            (_, Some(error)) => Redirect::Denied(error),
            (Some(code), None) if !code.is_empty() => Redirect::Code(code),
            _ => Redirect::Denied("invalid_request".to_owned()),
        })
    }
}

/// Compares secrets without an early exit on the first difference.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> (PendingLogin, LoginRequest) {
        let base = Url::parse("https://sportello.example/").unwrap();
        PendingLogin::start(&base, LoginTarget::Oidc("cie"), DEFAULT_REDIRECT_URI).unwrap()
    }

    #[test]
    fn pkce_challenge_is_the_rfc_7636_s256_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn login_url_carries_redirect_challenge_and_state() {
        let (pending, request) = start();
        let url = Url::parse(&request.url).unwrap();
        assert_eq!(url.path(), "/v1/auth/oidc/cie/login");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["redirect_uri"], DEFAULT_REDIRECT_URI);
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"], pkce_challenge(&pending.verifier));
        assert_eq!(query["code_challenge"].len(), 43);
        assert_eq!(query["state"], request.state);
        assert!((43..=128).contains(&pending.verifier.len()));
        assert!(
            !request.url.contains(&pending.verifier),
            "the verifier stays on the device"
        );
        let (again, _) = start();
        assert_ne!(again.verifier, pending.verifier);
        assert_ne!(again.state, pending.state);
    }

    #[test]
    fn login_start_refuses_bad_providers_and_redirects() {
        let base = Url::parse("https://sportello.example/").unwrap();
        for provider in ["", "../admin", "c i e", "cie?x=1"] {
            assert!(
                matches!(PendingLogin::start(&base, LoginTarget::Oidc(provider), DEFAULT_REDIRECT_URI),
                    Err(SportelloError::InvalidInput { field, .. }) if field == "provider"),
                "{provider}"
            );
        }
        for redirect in ["not a url", "it.genova.sportello://auth?x=1", "app://cb#f"] {
            assert!(
                matches!(PendingLogin::start(&base, LoginTarget::Oidc("cie"), redirect),
                    Err(SportelloError::InvalidInput { field, .. }) if field == "redirect_uri"),
                "{redirect}"
            );
        }
    }

    fn federated<'a>(federation: &'a str, entity_id: &'a str, route: Option<&'a str>) -> LoginTarget<'a> {
        LoginTarget::Federated {
            federation,
            entity_id,
            route,
        }
    }

    #[test]
    fn federated_login_url_names_the_federation_and_the_provider() {
        let base = Url::parse("https://sportello.example/").unwrap();
        let provider = "https://idp.example.it/oidc/op";
        let (pending, request) =
            PendingLogin::start(&base, federated("spid", provider, None), DEFAULT_REDIRECT_URI).unwrap();
        let url = Url::parse(&request.url).unwrap();
        assert_eq!(url.path(), "/v1/auth/federation/spid/login");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["provider"], provider);
        assert!(!query.contains_key("route"));
        assert_eq!(query["redirect_uri"], DEFAULT_REDIRECT_URI);
        assert_eq!(query["code_challenge"], pkce_challenge(&pending.verifier));
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["state"], request.state);

        let (_, request) = PendingLogin::start(
            &base,
            federated("cie", provider, Some("/v1/payments")),
            DEFAULT_REDIRECT_URI,
        )
        .unwrap();
        let url = Url::parse(&request.url).unwrap();
        assert_eq!(url.path(), "/v1/auth/federation/cie/login");
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["route"], "/v1/payments");
    }

    #[test]
    fn federated_login_start_refuses_bad_federations_providers_and_routes() {
        let base = Url::parse("https://sportello.example/").unwrap();
        let provider = "https://idp.example.it/oidc/op";
        let refused = |target, expected: &str| {
            matches!(PendingLogin::start(&base, target, DEFAULT_REDIRECT_URI),
                Err(SportelloError::InvalidInput { field, .. }) if field == expected)
        };
        for federation in ["", "../admin", "sp id"] {
            assert!(
                refused(federated(federation, provider, None), "federation"),
                "{federation}"
            );
        }
        for entity_id in [
            "",
            "idp.example.it",
            "ftp://idp.example.it",
            "https://idp.example.it/?x=1",
        ] {
            assert!(
                refused(federated("spid", entity_id, None), "provider"),
                "{entity_id}"
            );
        }
        assert!(refused(federated("spid", provider, Some("v1/payments")), "route"));
    }

    #[test]
    fn redirects_with_the_right_state_yield_the_code() {
        let (pending, request) = start();
        let redirect = format!("it.genova.sportello://auth?code=abc%2B1&state={}", request.state);
        assert_eq!(
            pending.check_redirect(&redirect).unwrap(),
            Redirect::Code("abc+1".into())
        );
        let denied = format!(
            "it.genova.sportello://auth?error=access_denied&state={}",
            request.state
        );
        assert_eq!(
            pending.check_redirect(&denied).unwrap(),
            Redirect::Denied("access_denied".into())
        );
        let empty = format!("it.genova.sportello://auth?state={}", request.state);
        assert_eq!(
            pending.check_redirect(&empty).unwrap(),
            Redirect::Denied("invalid_request".into())
        );
    }

    #[test]
    fn redirects_with_a_wrong_or_missing_state_are_refused() {
        let (pending, _) = start();
        for redirect in [
            "it.genova.sportello://auth?code=abc&state=forged",
            "it.genova.sportello://auth?code=abc",
            "it.genova.sportello://auth?error=access_denied",
        ] {
            assert!(
                matches!(pending.check_redirect(redirect),
                    Err(SportelloError::LoginFailed { reason, .. }) if reason == "state_mismatch"),
                "{redirect}"
            );
        }
    }

    #[test]
    fn redirects_to_another_uri_are_refused() {
        let (pending, request) = start();
        for redirect in [
            format!("it.genova.sportello://other?code=abc&state={}", request.state),
            format!("evil://auth?code=abc&state={}", request.state),
            format!("https://auth/?code=abc&state={}", request.state),
            "::".to_owned(),
        ] {
            assert!(
                matches!(pending.check_redirect(&redirect),
                    Err(SportelloError::InvalidInput { field, .. }) if field == "redirect_url"),
                "{redirect}"
            );
        }
    }
}
