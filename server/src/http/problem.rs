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
use sportello_core::identity::IdentityError;
use sportello_core::tenant::TenantError;

use super::lang::Lang;

/// Media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything that can go wrong in a request, as the client should hear it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("municipality {0} not found")]
    MunicipalityNotFound(String),
    #[error("library {0} not found")]
    LibraryNotFound(String),
    #[error("catalogue record {0} not found")]
    RecordNotFound(String),
    #[error("malformed ISTAT code {0}")]
    MalformedIstatCode(String),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
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
    #[error("dev login disabled")]
    DevLoginDisabled,
    #[error("unknown identity provider {0}")]
    UnknownProvider(String),
    #[error("redirect URI not allowed")]
    RedirectUriNotAllowed,
    #[error("invalid grant")]
    InvalidGrant,
    #[error("login failed: {0}")]
    LoginFailed(String),
    #[error("identity provider unavailable")]
    ProviderUnavailable,
    #[error("service unavailable")]
    Unavailable,
    #[error("permit not found")]
    PermitNotFound,
    /// A request the domain rules refuse, with a stable code and the reason in both languages.
    #[error("{code}: {en}")]
    Refused {
        status: u16,
        code: &'static str,
        it: String,
        en: String,
    },
    #[error("payment not found")]
    PaymentNotFound,
    /// A notice or position whose state forbids the request (paid, expired, cancelled…).
    #[error("payment state: {code}")]
    PaymentState { code: &'static str, message: Message },
    /// Unexpected failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal,
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

    fn status(&self) -> StatusCode {
        match self {
            ApiError::RouteNotFound
            | ApiError::MunicipalityNotFound(_)
            | ApiError::UnknownProvider(_)
            | ApiError::LibraryNotFound(_)
            | ApiError::RecordNotFound(_)
            | ApiError::PermitNotFound
            | ApiError::DevLoginDisabled
            | ApiError::PaymentNotFound => StatusCode::NOT_FOUND,
            ApiError::Refused { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
            }
            ApiError::PaymentState { .. } => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::MalformedIstatCode(_)
            | ApiError::MalformedJson(_)
            | ApiError::RedirectUriNotAllowed
            | ApiError::InvalidGrant
            | ApiError::LoginFailed(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::ProviderUnavailable => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code, title and detail in the given language.
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per problem type: a table of messages"
    )]
    fn describe(&self, lang: Lang) -> (&'static str, String, String) {
        let pick = |it: &str, en: &str| match lang {
            Lang::It => it.to_owned(),
            Lang::En => en.to_owned(),
        };
        let (code, title, detail) = match self {
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
            ApiError::MunicipalityNotFound(code) => (
                "municipality-not-found",
                pick("Comune non trovato", "Municipality not found"),
                match lang {
                    Lang::It => format!("Nessun comune servito ha codice ISTAT {code}."),
                    Lang::En => format!("No municipality served here has ISTAT code {code}."),
                },
            ),
            ApiError::LibraryNotFound(id) => (
                "library-not-found",
                pick("Biblioteca non trovata", "Library not found"),
                match lang {
                    Lang::It => format!("Nessuna biblioteca `{id}` qui."),
                    Lang::En => format!("There is no library `{id}` here."),
                },
            ),
            ApiError::RecordNotFound(id) => (
                "record-not-found",
                pick("Scheda non trovata", "Record not found"),
                match lang {
                    Lang::It => format!("Nessuna scheda o copia `{id}` nel catalogo."),
                    Lang::En => format!("There is no record or copy `{id}` in the catalogue."),
                },
            ),
            ApiError::MalformedIstatCode(code) => (
                "malformed-istat-code",
                pick("Codice ISTAT non valido", "Malformed ISTAT code"),
                match lang {
                    Lang::It => {
                        format!("`{code}` non è un codice ISTAT: servono sei cifre, ad esempio 010025.")
                    }
                    Lang::En => {
                        format!("`{code}` is not an ISTAT code: six digits are expected, e.g. 010025.")
                    }
                },
            ),
            ApiError::MalformedJson(reason) => (
                "malformed-json",
                pick("JSON non valido", "Malformed JSON"),
                match lang {
                    Lang::It => format!("Il corpo della richiesta non è un JSON valido: {reason}"),
                    Lang::En => format!("The request body is not valid JSON for this operation: {reason}"),
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
            ApiError::DevLoginDisabled => (
                "dev-login-disabled",
                pick("Accesso di sviluppo disattivato", "Dev login disabled"),
                pick(
                    "L'accesso di sviluppo è attivo solo con --dev-auth.",
                    "Dev login is only available when the server runs with --dev-auth.",
                ),
            ),
            ApiError::UnknownProvider(id) => (
                "unknown-provider",
                pick("Provider di identità sconosciuto", "Unknown identity provider"),
                match lang {
                    Lang::It => format!("Nessun provider di identità `{id}` è configurato."),
                    Lang::En => format!("No identity provider `{id}` is configured."),
                },
            ),
            ApiError::RedirectUriNotAllowed => (
                "redirect-uri-not-allowed",
                pick("Indirizzo di ritorno non ammesso", "Redirect URI not allowed"),
                pick(
                    "L'indirizzo di ritorno non è tra quelli configurati.",
                    "The redirect URI is not one of the configured ones.",
                ),
            ),
            ApiError::InvalidGrant => (
                "invalid-grant",
                pick("Credenziali non valide", "Invalid grant"),
                pick(
                    "Il codice o il token è scaduto, già usato o non valido: accedi di nuovo.",
                    "The code or token is expired, already used or invalid: log in again.",
                ),
            ),
            ApiError::LoginFailed(reason) => (
                "login-failed",
                pick("Accesso non riuscito", "Login failed"),
                match lang {
                    Lang::It => format!("L'accesso non è riuscito: {reason}"),
                    Lang::En => format!("The login did not succeed: {reason}"),
                },
            ),
            ApiError::ProviderUnavailable => (
                "provider-unavailable",
                pick(
                    "Provider di identità non raggiungibile",
                    "Identity provider unavailable",
                ),
                pick(
                    "Il provider di identità non risponde; riprova più tardi.",
                    "The identity provider does not answer; try again later.",
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
            ApiError::PermitNotFound => (
                "permit-not-found",
                pick("Pratica non trovata", "Application not found"),
                pick(
                    "Nessuna pratica con questo identificativo tra quelle che puoi vedere.",
                    "There is no application with this id among those you may see.",
                ),
            ),
            ApiError::Refused { code, it, en, .. } => (
                *code,
                pick("Operazione non consentita", "Not allowed"),
                pick(it, en),
            ),
            ApiError::PaymentNotFound => (
                "payment-not-found",
                pick("Avviso non trovato", "Payment not found"),
                pick(
                    "Nessun avviso di pagamento corrisponde: controlla numero e ente.",
                    "No payment notice matches: check the number and the creditor.",
                ),
            ),
            ApiError::PaymentState { code, message } => (
                *code,
                pick("Avviso non pagabile", "Notice not payable"),
                message.in_lang(lang).to_owned(),
            ),
            ApiError::Internal => (
                "internal",
                pick("Errore interno", "Internal error"),
                pick(
                    "Si è verificato un errore imprevisto; indica il request_id all'assistenza.",
                    "Something went wrong on our side; quote the request_id to support.",
                ),
            ),
        };
        (code, title, detail)
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
        response.extensions_mut().insert(self);
        response
    }
}

impl From<TenantError> for ApiError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::MalformedIstatCode(code) => ApiError::MalformedIstatCode(code),
            TenantError::UnknownMunicipality(code) => ApiError::MunicipalityNotFound(code.to_string()),
            TenantError::MalformedEntityFiscalCode(_) => ApiError::field(
                "fiscal_code",
                Message::new(
                    "Codice fiscale dell'ente non valido.",
                    "Invalid entity fiscal code.",
                ),
            ),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::MalformedFiscalCode(_) | IdentityError::MissingFiscalCode => ApiError::field(
                "fiscal_code",
                Message::new(
                    "Codice fiscale non valido (16 caratteri con carattere di controllo).",
                    "Invalid fiscal code (16 characters with a check character).",
                ),
            ),
            IdentityError::MalformedRole(role) | IdentityError::UnknownOffice(role) => ApiError::field(
                "roles",
                Message::new(
                    format!("`{role}` non è un ruolo (citizen, admin, operator:<istat>:<ufficio>)."),
                    format!("`{role}` is not a role (citizen, admin, operator:<istat>:<office>)."),
                ),
            ),
            IdentityError::Tenant(tenant) => tenant.into(),
        }
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

impl From<crate::identity::AuthError> for ApiError {
    fn from(error: crate::identity::AuthError) -> Self {
        use crate::identity::AuthError;
        match error {
            AuthError::DevLoginDisabled => ApiError::DevLoginDisabled,
            AuthError::UnknownProvider(id) => ApiError::UnknownProvider(id),
            AuthError::RedirectUriNotAllowed => ApiError::RedirectUriNotAllowed,
            AuthError::InvalidChallenge => ApiError::field(
                "code_challenge",
                Message::new(
                    "Serve una sfida PKCE S256 (43 caratteri base64url).",
                    "A PKCE S256 challenge (43 base64url characters) is required.",
                ),
            ),
            AuthError::InvalidGrant => ApiError::InvalidGrant,
            AuthError::LoginFailed(reason) => {
                tracing::info!(%reason, "login failed");
                ApiError::LoginFailed(reason)
            }
            AuthError::ProviderUnavailable(reason) => {
                tracing::warn!(%reason, "identity provider unavailable");
                ApiError::ProviderUnavailable
            }
            AuthError::Identity(error) => error.into(),
            AuthError::Database(error) => error.into(),
        }
    }
}

impl From<crate::catalog::CatalogError> for ApiError {
    fn from(error: crate::catalog::CatalogError) -> Self {
        use crate::catalog::CatalogError;
        match error {
            CatalogError::LibraryNotFound(id) => ApiError::LibraryNotFound(id),
            CatalogError::RecordNotFound(id) => ApiError::RecordNotFound(id),
            CatalogError::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            CatalogError::TooLarge => ApiError::PayloadTooLarge,
            CatalogError::Database(error) => error.into(),
            CatalogError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// The problem for an error response produced by the framework or a layer, not a handler.
fn framework_error(response: &Response) -> Option<ApiError> {
    let status = response.status();
    // Problems already rendered, and SOAP answers (the pagoPA Node's faults), pass unchanged.
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let is_problem = content_type.is_some_and(|ct| ct == PROBLEM_JSON);
    let is_soap = content_type.is_some_and(|ct| ct.as_bytes().starts_with(b"text/xml"));
    if is_problem || is_soap {
        return None;
    }
    match status {
        StatusCode::NOT_FOUND => Some(ApiError::RouteNotFound),
        StatusCode::METHOD_NOT_ALLOWED => Some(ApiError::MethodNotAllowed),
        StatusCode::REQUEST_TIMEOUT => Some(ApiError::Timeout),
        StatusCode::PAYLOAD_TOO_LARGE => Some(ApiError::PayloadTooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(ApiError::UnsupportedMediaType),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            Some(ApiError::MalformedJson(String::new()))
        }
        _ if status.is_server_error() => Some(ApiError::Internal),
        _ => None,
    }
}

impl From<crate::notify::NotifyError> for ApiError {
    fn from(error: crate::notify::NotifyError) -> Self {
        use crate::notify::NotifyError;
        match error {
            NotifyError::Invalid { field, it, en } => ApiError::field(field, Message::new(it, en)),
            NotifyError::TooManyDevices => ApiError::field(
                "device",
                Message::new(
                    "Troppi dispositivi registrati: rimuovine uno.",
                    "Too many registered devices: remove one first.",
                ),
            ),
            NotifyError::NotFound => ApiError::RouteNotFound,
            NotifyError::Forbidden => ApiError::Forbidden,
            NotifyError::Database(error) => error.into(),
        }
    }
}

impl ApiError {
    /// A refusal with a stable code and its reason in Italian and English.
    pub fn refused(
        status: StatusCode,
        code: &'static str,
        it: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ApiError::Refused {
            status: status.as_u16(),
            code,
            it: it.into(),
            en: en.into(),
        }
    }
}

/// Why core refuses an action, in Italian (core's `Display` is the English).
fn denied_it(reason: sportello_core::permits::TransitionDenied) -> String {
    use sportello_core::permits::TransitionDenied as D;
    match reason {
        D::Closed => "la pratica è chiusa".to_owned(),
        D::NotAllowedFor(actor) => format!(
            "il ruolo «{}» non può compiere questa azione",
            match actor {
                sportello_core::permits::Actor::Applicant => "richiedente",
                sportello_core::permits::Actor::Professional => "professionista",
                sportello_core::permits::Actor::Operator => "funzionario",
                sportello_core::permits::Actor::System => "sistema",
            }
        ),
        D::NotInStatus => "non è possibile in questo stato".to_owned(),
        D::ClockNotStarted => "la pratica non è ancora stata presentata".to_owned(),
        D::AlreadyFiled => "la pratica è già stata presentata".to_owned(),
        D::NoClockEffect => {
            "le richieste di integrazione non sospendono i termini di questa procedura".to_owned()
        }
        D::ClockStopped => "i termini sono sospesi da una richiesta di integrazione in corso".to_owned(),
        D::ClockNotStopped => "non c'è alcuna richiesta di integrazione in corso".to_owned(),
        D::ClockElapsed => "il termine di legge è già scaduto".to_owned(),
        D::IntegrationWindowClosed { last_day } => {
            format!("le richieste di integrazione erano possibili fino al {last_day}")
        }
        D::IntegrationLimitReached { max } => {
            format!("la legge consente al massimo {max} richiesta/e di integrazione per questa procedura")
        }
        D::NoFurtherPhase => "la fase corrente è l'ultima: accogliere o respingere".to_owned(),
        D::NoClock => "la procedura non ha termini di legge".to_owned(),
        D::NothingToDouble => {
            "nessun termine di questa procedura raddoppia per i progetti complessi".to_owned()
        }
        D::AlreadyDeclared => "il progetto è già stato dichiarato complesso".to_owned(),
        D::MissingProtocolNumber => "la protocollazione richiede un numero di protocollo".to_owned(),
        D::EffectMatured { deadline } => format!(
            "il silenzio-assenso si è formato alla scadenza del {deadline}; resta solo l'annullamento in autotutela (L. 241/1990 art. 21-nonies)"
        ),
        D::DeadlineNotReached { deadline } => format!("il termine di legge scade il {deadline}"),
        D::NoSilentApproval => "la legge non prevede il silenzio-assenso per questa procedura".to_owned(),
        D::ConstraintsApply => {
            "i vincoli paesaggistici, culturali, idrogeologici o ambientali escludono il silenzio-assenso"
                .to_owned()
        }
    }
}

impl From<sportello_core::permits::PermitsError> for ApiError {
    fn from(error: sportello_core::permits::PermitsError) -> Self {
        use sportello_core::permits::{PermitsError as E, TransitionDenied as D};
        match error {
            E::Transition {
                status,
                action,
                reason,
            } => {
                let http = if matches!(reason, D::NotAllowedFor(_)) {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::CONFLICT
                };
                ApiError::refused(
                    http,
                    reason.code(),
                    format!(
                        "Impossibile «{action}» su una pratica in stato «{status}»: {}.",
                        denied_it(reason)
                    ),
                    format!("Cannot {action} an application that is {status}: {reason}."),
                )
            }
            E::Clock { reason, .. } => ApiError::refused(
                StatusCode::CONFLICT,
                reason.code(),
                format!(
                    "Operazione non consentita dai termini di legge: {}.",
                    denied_it(reason)
                ),
                format!("The legal clock does not allow it: {reason}."),
            ),
            E::NotADraft(status) => ApiError::refused(
                StatusCode::CONFLICT,
                "not-a-draft",
                format!("La pratica è in stato «{status}», non è più una bozza."),
                format!("The application is {status}, no longer a draft."),
            ),
            E::TimelineOutOfOrder => ApiError::refused(
                StatusCode::CONFLICT,
                "timeline-out-of-order",
                "Un passo non può precedere l'ultimo della cronologia.",
                "A step cannot be earlier than the last entry of the timeline.",
            ),
            E::NoteTooLong(max) => ApiError::field(
                "note",
                Message::new(
                    format!("Al massimo {max} caratteri."),
                    format!("At most {max} characters."),
                ),
            ),
            E::UnknownConstraint(_) | E::UnknownStatus(_) | E::UnknownAction(_) | E::UnknownProcedure(_) => {
                let field = match &error {
                    E::UnknownConstraint(_) => "constraints",
                    E::UnknownStatus(_) => "status",
                    E::UnknownAction(_) => "action",
                    _ => "procedure",
                };
                ApiError::field(field, Message::new(error.to_string(), error.to_string()))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::permits::PermitError> for ApiError {
    fn from(error: crate::permits::PermitError) -> Self {
        use crate::permits::PermitError as E;
        match error {
            E::NotFound => ApiError::PermitNotFound,
            E::DocumentNotFound => ApiError::refused(
                StatusCode::NOT_FOUND,
                "document-not-found",
                "Nessun documento con questo identificativo nella pratica.",
                "There is no such document on the application.",
            ),
            E::Forbidden => ApiError::Forbidden,
            E::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            E::Incomplete(missing) => ApiError::Validation(
                missing
                    .into_iter()
                    .map(|(field, it, en)| (field, Message::new(it, en)))
                    .collect(),
            ),
            E::Rule(rule) => rule.into(),
            E::DocumentsClosed(status) => ApiError::refused(
                StatusCode::CONFLICT,
                "documents-closed",
                format!("In stato «{status}» non si possono aggiungere documenti."),
                format!("Documents cannot be added while the application is {status}."),
            ),
            E::DocumentTooLarge(max) => ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "document-too-large",
                format!("Il documento supera il limite di {max} byte."),
                format!("The document exceeds the limit of {max} bytes."),
            ),
            E::PermitTooLarge(max) => ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "documents-too-large",
                format!("I documenti della pratica supererebbero in tutto {max} byte."),
                format!("The application's documents would exceed {max} bytes in total."),
            ),
            E::UnsupportedDocument => ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-document-type",
                "Sono ammessi solo PDF, file firmati P7M, JPEG e PNG, con l'estensione corrispondente al contenuto.",
                "Only PDF, signed P7M, JPEG and PNG files are accepted, with the extension matching the content.",
            ),
            E::Integrity(cause) => {
                tracing::error!(%cause, "permits integrity check failed");
                ApiError::Internal
            }
            E::Database(error) => error.into(),
            E::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<crate::payments::PayError> for ApiError {
    fn from(error: crate::payments::PayError) -> Self {
        use crate::payments::PayError;
        use sportello_core::payments::{PaymentsError, PositionStatus};
        match error {
            PayError::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            PayError::NotFound => ApiError::PaymentNotFound,
            PayError::Forbidden => ApiError::Forbidden,
            PayError::Database(error) => error.into(),
            PayError::Internal(cause) => ApiError::internal(cause),
            PayError::Domain(error) => {
                let state = |code, it: &str, en: &str| ApiError::PaymentState {
                    code,
                    message: Message::new(it, en),
                };
                match error {
                    PaymentsError::UnknownNotice(_) => ApiError::PaymentNotFound,
                    PaymentsError::OptionAlreadyPaid(_)
                    | PaymentsError::DuplicatePayment(_)
                    | PaymentsError::NotPayable {
                        status:
                            PositionStatus::Paid | PositionStatus::Reported | PositionStatus::PartiallyPaid,
                    } => state(
                        "notice-paid",
                        "Questo avviso è già stato pagato.",
                        "This notice has already been paid.",
                    ),
                    PaymentsError::NotPayable {
                        status: PositionStatus::Expired,
                    } => state(
                        "notice-expired",
                        "Questo avviso è scaduto.",
                        "This notice has expired.",
                    ),
                    PaymentsError::NotPayable {
                        status: PositionStatus::Invalid,
                    } => state(
                        "notice-cancelled",
                        "Questo avviso è stato annullato dall'ente.",
                        "The creditor has cancelled this notice.",
                    ),
                    PaymentsError::NotPayable { .. } => state(
                        "notice-not-payable",
                        "Questo avviso non è ancora pagabile.",
                        "This notice cannot be paid yet.",
                    ),
                    PaymentsError::InstalmentConflict(_) => state(
                        "notice-superseded",
                        "Il debito si sta già pagando in un altro modo (rata o soluzione unica).",
                        "This debt is already being paid another way (instalments or a single payment).",
                    ),
                    PaymentsError::IllegalPositionTransition { from, event } => ApiError::PaymentState {
                        code: "position-status",
                        message: Message::new(
                            format!("Non si può eseguire «{event}» su una posizione {from}."),
                            format!("Cannot {event} a position that is {from}."),
                        ),
                    },
                    other => {
                        let text = other.to_string();
                        ApiError::field("position", Message::new(text.clone(), text))
                    }
                }
            }
        }
    }
}
