//! The one error type the apps see, and the one place HTTP problems and transport failures are
//! converted into it.

use std::time::{Duration, SystemTime};

pub use sportello_core::api::FieldError;
use sportello_core::api::Problem;

/// Everything that can go wrong in a call to Sportello, as the app should handle it.
///
/// `detail` fields coming from the server are in the client's language (`it` by default) and may
/// be shown to the user; the other texts are in English and meant for logs: apps show their own
/// messages for those variants.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum SportelloError {
    /// The server could not be reached or did not answer in time; retrying later may help.
    #[error("network error: {detail}")]
    Network { detail: String },
    /// Not logged in, or the session ended (expired, logged out elsewhere, revoked): log in again.
    #[error("unauthorized ({code}): {detail}")]
    Unauthorized { code: String, detail: String },
    /// Logged in, but not allowed to do this.
    #[error("forbidden ({code}): {detail}")]
    Forbidden { code: String, detail: String },
    /// No such resource (`code` says which: `municipality-not-found`, `dev-login-disabled`, …).
    #[error("not found ({code}): {detail}")]
    NotFound { code: String, detail: String },
    /// The server refused the request's data; `errors` names the fields when it can.
    #[error("validation failed ({code}): {detail}")]
    Validation {
        code: String,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Too many requests: wait `retry_after_secs` (when the server said) before retrying.
    #[error("rate limited: {detail}")]
    RateLimited {
        retry_after_secs: Option<u64>,
        detail: String,
    },
    /// The server understood the request and refused it for a reason the app can show:
    /// `detail` (in the client's language) says why, `code` is stable for the app to act on.
    /// E.g. 409 `notice-paid` (already paid) or another conflict with the resource's state, 413
    /// (the file is too large), 415 (not a type of file the server accepts); any 4xx other than
    /// 401, 403, 404/410, 400/422, 408 and 429, which have variants of their own.
    #[error("refused ({status} {code}): {detail}")]
    Refused {
        status: u16,
        code: String,
        detail: String,
    },
    /// The server failed or answered something this client does not understand (or did not
    /// answer in time: 408). Quote `request_id` to support.
    #[error("server error {status} ({code}): {detail}")]
    Server {
        status: u16,
        code: String,
        detail: String,
        request_id: Option<String>,
    },
    /// An argument was refused on the device, before any request was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// The browser login did not complete. `reason` is an OAuth-style code: `access_denied` (the
    /// user cancelled), `login_failed`, `invalid_grant` (the login code expired or was used),
    /// `state_mismatch` (the redirect does not belong to the login this client started),
    /// `no_login_in_progress`.
    #[error("login failed ({reason}): {detail}")]
    LoginFailed { reason: String, detail: String },
}

impl SportelloError {
    /// A local refusal of an argument.
    pub(crate) fn invalid(field: &str, reason: &(impl std::fmt::Display + ?Sized)) -> Self {
        SportelloError::InvalidInput {
            field: field.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// No session to authenticate a call with.
    pub(crate) fn not_logged_in() -> Self {
        SportelloError::Unauthorized {
            code: "not-logged-in".to_owned(),
            detail: "no session: log in first".to_owned(),
        }
    }

    /// Whether this says the refresh token or login code is no longer valid.
    pub(crate) fn is_invalid_grant(&self) -> bool {
        matches!(self, SportelloError::Unauthorized { code, .. } if code == "invalid-grant")
    }

    /// A body the client could not decode, from a server that otherwise answered.
    pub(crate) fn unexpected(status: u16, reason: &(impl std::fmt::Display + ?Sized)) -> Self {
        SportelloError::Server {
            status,
            code: "unexpected-response".to_owned(),
            detail: reason.to_string(),
            request_id: None,
        }
    }

    /// Maps an error response: the problem document when there is one (RFC 9457), else the
    /// status alone. `retry_after` is the raw `Retry-After` header.
    pub(crate) fn from_response(
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
        now: SystemTime,
    ) -> Self {
        let problem = serde_json::from_slice::<Problem>(body).ok();
        let (code, detail, request_id, errors) = match problem {
            Some(problem) => (problem.code, problem.detail, problem.request_id, problem.errors),
            None => (
                generic_code(status),
                format!("HTTP {status} without a problem document"),
                None,
                Vec::new(),
            ),
        };
        match status {
            401 => SportelloError::Unauthorized { code, detail },
            // An expired, replayed or revoked refresh token (or login code): the session is over.
            400 if code == "invalid-grant" => SportelloError::Unauthorized { code, detail },
            403 => SportelloError::Forbidden { code, detail },
            404 | 410 => SportelloError::NotFound { code, detail },
            400 | 422 => SportelloError::Validation { code, detail, errors },
            429 => SportelloError::RateLimited {
                retry_after_secs: retry_after.and_then(|value| parse_retry_after(value, now)),
                detail,
            },
            // The server's own time-out (tower's 408) is a failure, not a refusal.
            400..=499 if status != 408 => SportelloError::Refused { status, code, detail },
            _ => SportelloError::Server {
                status,
                code,
                detail,
                request_id,
            },
        }
    }
}

/// A code for responses without a problem document (a proxy's error page, say).
fn generic_code(status: u16) -> String {
    match status {
        400 | 422 => "validation".to_owned(),
        401 => "unauthorized".to_owned(),
        403 => "forbidden".to_owned(),
        404 | 410 => "not-found".to_owned(),
        429 => "rate-limited".to_owned(),
        _ => format!("http-{status}"),
    }
}

/// `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO).as_secs())
}

impl From<reqwest::Error> for SportelloError {
    fn from(error: reqwest::Error) -> Self {
        let status = error.status().map_or(0, |status| status.as_u16());
        if error.is_decode() {
            return SportelloError::unexpected(status, &error);
        }
        // Connection refused, DNS, TLS, timeouts, a connection cut mid-body: all transient from
        // the app's point of view. `{:#}`-style chains keep the root cause for the logs.
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        SportelloError::Network { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000)
    }

    fn problem(status: u16, code: &str, errors: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"/problems/{code}","title":"t","status":{status},"detail":"dettaglio {code}",
            "code":"{code}","request_id":"req-1"{errors}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn problems_map_by_status_and_code_keeping_the_detail() {
        let map =
            |status, code| SportelloError::from_response(status, None, &problem(status, code, ""), now());
        assert_eq!(
            map(404, "municipality-not-found"),
            SportelloError::NotFound {
                code: "municipality-not-found".into(),
                detail: "dettaglio municipality-not-found".into()
            }
        );
        assert!(matches!(
            map(401, "unauthorized"),
            SportelloError::Unauthorized { .. }
        ));
        assert!(matches!(map(403, "forbidden"), SportelloError::Forbidden { .. }));
        let malformed = map(400, "malformed-json");
        assert!(
            matches!(&malformed, SportelloError::Validation { code, errors, .. }
                if code == "malformed-json" && errors.is_empty()),
            "{malformed:?}"
        );
        let grant = map(400, "invalid-grant");
        assert!(grant.is_invalid_grant(), "{grant:?}");
        assert_eq!(
            map(500, "internal"),
            SportelloError::Server {
                status: 500,
                code: "internal".into(),
                detail: "dettaglio internal".into(),
                request_id: Some("req-1".into())
            }
        );
        assert!(matches!(
            map(502, "provider-unavailable"),
            SportelloError::Server { status: 502, .. }
        ));
    }

    #[test]
    fn refusals_the_app_can_show_keep_their_code_and_detail() {
        let map =
            |status, code| SportelloError::from_response(status, None, &problem(status, code, ""), now());
        assert_eq!(
            map(409, "notice-paid"),
            SportelloError::Refused {
                status: 409,
                code: "notice-paid".into(),
                detail: "dettaglio notice-paid".into()
            }
        );
        for (status, code) in [
            (413, "payload-too-large"),
            (415, "unsupported-media-type"),
            (405, "x"),
        ] {
            assert!(
                matches!(map(status, code), SportelloError::Refused { status: s, .. } if s == status),
                "{status}"
            );
        }
        assert!(matches!(
            SportelloError::from_response(409, None, b"", now()),
            SportelloError::Refused { status: 409, code, .. } if code == "http-409"
        ));
        assert!(matches!(
            map(408, "timeout"),
            SportelloError::Server { status: 408, .. }
        ));
    }

    #[test]
    fn validation_problems_carry_their_field_errors() {
        let body = problem(
            422,
            "validation",
            r#","errors":[{"field":"fiscal_code","message":"Codice fiscale non valido"}]"#,
        );
        let SportelloError::Validation { errors, detail, .. } =
            SportelloError::from_response(422, None, &body, now())
        else {
            panic!("not a validation error");
        };
        assert_eq!(detail, "dettaglio validation");
        assert_eq!(
            errors,
            vec![FieldError {
                field: "fiscal_code".into(),
                message: "Codice fiscale non valido".into()
            }]
        );
    }

    #[test]
    fn rate_limits_read_retry_after_as_seconds_or_date() {
        let retry = |header| match SportelloError::from_response(429, header, b"", now()) {
            SportelloError::RateLimited { retry_after_secs, .. } => retry_after_secs,
            other => panic!("{other:?}"),
        };
        assert_eq!(retry(Some("120")), Some(120));
        let in_90_secs = httpdate::fmt_http_date(now() + Duration::from_secs(90));
        assert_eq!(retry(Some(&in_90_secs)), Some(90));
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(90));
        assert_eq!(retry(Some(&past)), Some(0));
        assert_eq!(retry(Some("soon")), None);
        assert_eq!(retry(None), None);
    }

    #[test]
    fn responses_without_a_problem_document_map_by_status() {
        let error = SportelloError::from_response(502, None, b"<html>Bad gateway</html>", now());
        assert!(
            matches!(&error, SportelloError::Server { status: 502, code, request_id: None, .. } if code == "http-502"),
            "{error:?}"
        );
        assert!(matches!(
            SportelloError::from_response(404, None, b"", now()),
            SportelloError::NotFound { code, .. } if code == "not-found"
        ));
    }
}
