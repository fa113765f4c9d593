//! Extractors whose rejections are [`ApiError`]s, so bad input always gets problem+json.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// `axum::Json` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(rejection))
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Err(rejection) => Err(ApiError::MalformedJson(rejection.body_text())),
        }
    }
}

/// Whether a request declares a JSON body (`application/json`, or an `application/…+json` type),
/// as [`ApiJson`] requires; for handlers that read an optional JSON body themselves.
pub fn declares_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// `axum::extract::Query` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Self)
    }
}

/// Reads a query string into `T`; a value that does not fit, or a parameter the route does not
/// take, is a validation problem naming that parameter (`query` when none can be named).
fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path.is_empty() || path == "." {
            "query"
        } else {
            path.as_str()
        };
        let reason = error.inner().to_string();
        ApiError::field(
            field,
            super::problem::Message::new(
                format!("Parametro non valido: {reason}"),
                format!("Invalid parameter: {reason}"),
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "read through Debug only")]
    struct Search {
        q: Option<String>,
        limit: Option<u32>,
    }

    fn field_of(error: &ApiError) -> String {
        match error {
            ApiError::Validation(fields) => fields[0].0.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_is_application_json_or_a_json_suffix() {
        let with = |value: &str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::CONTENT_TYPE, value.parse().unwrap());
            declares_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("text/json+x"));
        assert!(!declares_json(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        let ok: Search = parse_query("q=dante&limit=5").unwrap();
        assert_eq!((ok.q.as_deref(), ok.limit), (Some("dante"), Some(5)));
        let error = parse_query::<Search>("q=dante&limit=many").unwrap_err();
        assert_eq!(field_of(&error), "limit");
        // An unknown parameter is named too.
        let error = parse_query::<Search>("q=dante&colour=red").unwrap_err();
        assert_eq!(field_of(&error), "colour");
    }
}
