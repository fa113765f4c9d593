//! Errors as RFC 9457 `application/problem+json`, in the request's language.
//!
//! Handlers return [`ApiError`]; its `IntoResponse` stores the error in the response
//! extensions, and the [`render_problems`] middleware, which knows the request's
//! `Accept-Language` and request id, writes the body. The same middleware turns bare error
//! responses of the framework (unknown route, wrong method, timeout, body too large) into
//! problems, so every error a client sees has the same shape.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sportello_core::api::{FieldError, Problem};

use super::lang::Lang;

/// Media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything that can go wrong in a request, as the client should hear it.
///
/// The variants are the problems every route shares (framework, authentication, validation,
/// infrastructure). A bounded context describes its own problems with [`ApiError::problem`],
/// in its `error.rs`, beside the error it maps: this module knows no context.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A request the framework could not read (a path that is not UTF-8, a bad header…).
    #[error("bad request")]
    BadRequest,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("body too large")]
    PayloadTooLarge,
    #[error("request timed out")]
    Timeout,
    #[error("validation failed")]
    Validation(Vec<(String, Message)>),
    #[error("authentication required or token invalid")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("service unavailable")]
    Unavailable,
    /// Too many calls of a rate-limited operation; the client may retry after this many seconds.
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A problem a bounded context defines: its status, stable code, title and detail.
    #[error("{}: {}", .0.code, .0.detail.en)]
    Context(Box<ContextProblem>),
    /// Unexpected failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal,
}

/// A problem defined by a bounded context (see [`ApiError::problem`]).
#[derive(Debug, Clone)]
pub struct ContextProblem {
    status: StatusCode,
    code: &'static str,
    title: Message,
    detail: Message,
}

/// A validation message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub it: String,
    pub en: String,
}

impl Message {
    /// A message given in Italian and English.
    pub fn new(it: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            it: it.into(),
            en: en.into(),
        }
    }

    fn in_lang(&self, lang: Lang) -> &str {
        match lang {
            Lang::It => &self.it,
            Lang::En => &self.en,
        }
    }
}

impl ApiError {
    /// Logs an unexpected error with its cause and returns the opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal
    }

    /// One invalid field.
    pub fn field(field: &str, message: Message) -> Self {
        ApiError::Validation(vec![(field.to_owned(), message)])
    }

    /// A context's problem: `code` is stable (clients branch on it), `title` names the kind of
    /// problem and `detail` this occurrence, each in Italian and English.
    pub fn problem(status: StatusCode, code: &'static str, title: Message, detail: Message) -> Self {
        ApiError::Context(Box::new(ContextProblem {
            status,
            code,
            title,
            detail,
        }))
    }

    /// The HTTP status of this problem.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::Context(problem) => problem.status,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::MalformedJson(_) | ApiError::BadRequest => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of this problem.
    pub fn code(&self) -> &'static str {
        self.describe(Lang::En).0
    }

    /// Stable code, title and detail in the given language.
    #[allow(clippy::too_many_lines, reason = "a table: one arm per problem")]
    fn describe(&self, lang: Lang) -> (&'static str, String, String) {
        let pick = |it: &str, en: &str| match lang {
            Lang::It => it.to_owned(),
            Lang::En => en.to_owned(),
        };
        match self {
            ApiError::RouteNotFound => (
                "not-found",
                pick("Risorsa non trovata", "Not found"),
                pick(
                    "Questo indirizzo non esiste.",
                    "There is nothing at this address.",
                ),
            ),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                pick("Metodo non consentito", "Method not allowed"),
                pick(
                    "Questo indirizzo non accetta il metodo usato.",
                    "This address does not accept that method.",
                ),
            ),
            ApiError::MalformedJson(reason) => (
                "malformed-json",
                pick("JSON non valido", "Malformed JSON"),
                match lang {
                    Lang::It => format!("Il corpo della richiesta non è un JSON valido: {reason}"),
                    Lang::En => format!("The request body is not valid JSON for this operation: {reason}"),
                },
            ),
            ApiError::BadRequest => (
                "bad-request",
                pick("Richiesta non valida", "Bad request"),
                pick(
                    "La richiesta non si può leggere: controlla l'indirizzo e le intestazioni.",
                    "The request cannot be read: check its address and headers.",
                ),
            ),
            ApiError::RateLimited { retry_after_secs } => (
                "rate-limited",
                pick("Troppe richieste", "Too many requests"),
                match lang {
                    Lang::It => {
                        format!("Hai fatto troppe richieste: riprova tra {retry_after_secs} secondi.")
                    }
                    Lang::En => format!("Too many requests: try again in {retry_after_secs} seconds."),
                },
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                pick("Tipo di contenuto non supportato", "Unsupported media type"),
                pick(
                    "Invia il corpo come application/json.",
                    "Send the body as application/json.",
                ),
            ),
            ApiError::PayloadTooLarge => (
                "payload-too-large",
                pick("Richiesta troppo grande", "Payload too large"),
                pick(
                    "Il corpo della richiesta supera il limite consentito.",
                    "The request body exceeds the allowed size.",
                ),
            ),
            ApiError::Timeout => (
                "timeout",
                pick("Tempo scaduto", "Request timeout"),
                pick(
                    "La richiesta ha richiesto troppo tempo.",
                    "The request took too long.",
                ),
            ),
            ApiError::Validation(_) => (
                "validation",
                pick("Dati non validi", "Validation failed"),
                pick("Alcuni campi non sono validi.", "Some fields are not valid."),
            ),
            ApiError::Unauthorized => (
                "unauthorized",
                pick("Accesso richiesto", "Unauthorized"),
                pick(
                    "Serve un token di accesso valido: accedi di nuovo.",
                    "A valid access token is required: log in again.",
                ),
            ),
            ApiError::Forbidden => (
                "forbidden",
                pick("Accesso negato", "Forbidden"),
                pick(
                    "Non hai i permessi per questa operazione.",
                    "You are not allowed to do this.",
                ),
            ),
            ApiError::Unavailable => (
                "unavailable",
                pick("Servizio non disponibile", "Service unavailable"),
                pick(
                    "Il servizio è momentaneamente non disponibile.",
                    "The service is temporarily unavailable.",
                ),
            ),
            ApiError::Context(problem) => (
                problem.code,
                problem.title.in_lang(lang).to_owned(),
                problem.detail.in_lang(lang).to_owned(),
            ),
            ApiError::Internal => (
                "internal",
                pick("Errore interno", "Internal error"),
                pick(
                    "Si è verificato un errore imprevisto; indica il request_id all'assistenza.",
                    "Something went wrong on our side; quote the request_id to support.",
                ),
            ),
        }
    }

    /// The problem document in a language.
    pub fn to_problem(&self, lang: Lang, request_id: Option<String>) -> Problem {
        let (code, title, detail) = self.describe(lang);
        let errors = match self {
            ApiError::Validation(fields) => fields
                .iter()
                .map(|(field, message)| FieldError {
                    field: field.clone(),
                    message: message.in_lang(lang).to_owned(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("/problems/{code}"),
            title,
            status: self.status().as_u16(),
            detail,
            code: code.to_owned(),
            request_id,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The body is written by `render_problems`, which knows the language.
        let mut response = self.status().into_response();
        if let ApiError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(%error, "database unavailable");
                ApiError::Unavailable
            }
            other => ApiError::internal(other),
        }
    }
}

/// Middleware: writes problem bodies in the request's language and converts the framework's
/// bare error responses into problems.
pub async fn render_problems(request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let stored = response.extensions_mut().remove::<ApiError>();
    let Some(error) = stored.or_else(|| framework_error(&response)) else {
        return response;
    };
    let problem = error.to_problem(lang, request_id);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut rendered = (status, body).into_response();
    let headers = rendered.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    // Keep headers the inner layers set (e.g. the request id, Allow on 405).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            headers.entry(name).or_insert_with(|| value.clone());
        }
    }
    rendered
}

/// The problem for an error response produced by the framework or a layer, not a handler.
fn framework_error(response: &Response) -> Option<ApiError> {
    let status = response.status();
    // Problems already rendered, and SOAP answers (the pagoPA Node's faults), pass unchanged.
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let is_problem = content_type.is_some_and(|ct| ct == PROBLEM_JSON);
    let is_soap = content_type.is_some_and(|ct| ct.as_bytes().starts_with(b"text/xml"));
    // The web pages render their own errors for people (web::PageRequest::error).
    let is_page = content_type.is_some_and(|ct| ct.as_bytes().starts_with(b"text/html"));
    // A handler's own JSON with an error status is its answer (`/readyz`'s 503 with the
    // readiness body, which a load balancer reads); the framework's refusals are plain text.
    let is_json = content_type.is_some_and(|ct| ct == "application/json");
    if is_problem || is_soap || is_page || is_json {
        return None;
    }
    match status {
        StatusCode::NOT_FOUND => Some(ApiError::RouteNotFound),
        StatusCode::METHOD_NOT_ALLOWED => Some(ApiError::MethodNotAllowed),
        StatusCode::REQUEST_TIMEOUT => Some(ApiError::Timeout),
        StatusCode::PAYLOAD_TOO_LARGE => Some(ApiError::PayloadTooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ApiError::UnsupportedMediaType),
        // Bodies are read by `ApiJson`, which names its problems; a bare 400 or 422 is the
        // framework refusing the request line or headers (a path that is not UTF-8, …).
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => Some(ApiError::BadRequest),
        _ if status.is_server_error() => Some(ApiError::Internal),
        _ => None,
    }
}
