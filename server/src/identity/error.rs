//! The identity context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::identity::IdentityError;

use super::federation::FederationError;
use super::oidc::OidcError;
use crate::http::problem::{ApiError, Message};

/// Why an identity operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No valid token, or its user no longer exists.
    #[error("not authenticated")]
    Unauthenticated,
    /// Authenticated, but not allowed to see this.
    #[error("forbidden")]
    Forbidden,
    #[error("dev login is disabled")]
    DevLoginDisabled,
    #[error("unknown provider {0}")]
    UnknownProvider(String),
    #[error("redirect URI not allowed")]
    RedirectUriNotAllowed,
    #[error("invalid PKCE challenge")]
    InvalidChallenge,
    #[error("invalid grant")]
    InvalidGrant,
    #[error("login failed: {0}")]
    LoginFailed(String),
    #[error("identity provider unavailable: {0}")]
    ProviderUnavailable(String),
    #[error(transparent)]
    Federation(#[from] FederationError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<OidcError> for AuthError {
    fn from(error: OidcError) -> Self {
        match error {
            OidcError::UnknownProvider(id) => AuthError::UnknownProvider(id),
            OidcError::Unavailable(reason) => AuthError::ProviderUnavailable(reason),
            OidcError::Rejected(reason) => AuthError::LoginFailed(reason),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unauthenticated => ApiError::Unauthorized,
            AuthError::Forbidden => ApiError::Forbidden,
            AuthError::DevLoginDisabled => ApiError::problem(
                StatusCode::NOT_FOUND,
                "dev-login-disabled",
                Message::new("Accesso di sviluppo disattivato", "Dev login disabled"),
                Message::new(
                    "L'accesso di sviluppo è attivo solo con --dev-auth.",
                    "Dev login is only available when the server runs with --dev-auth.",
                ),
            ),
            AuthError::UnknownProvider(id) => ApiError::problem(
                StatusCode::NOT_FOUND,
                "unknown-provider",
                Message::new("Provider di identità sconosciuto", "Unknown identity provider"),
                Message::new(
                    format!("Nessun provider di identità `{id}` è configurato."),
                    format!("No identity provider `{id}` is configured."),
                ),
            ),
            AuthError::RedirectUriNotAllowed => ApiError::problem(
                StatusCode::BAD_REQUEST,
                "redirect-uri-not-allowed",
                Message::new("Indirizzo di ritorno non ammesso", "Redirect URI not allowed"),
                Message::new(
                    "L'indirizzo di ritorno non è tra quelli configurati.",
                    "The redirect URI is not one of the configured ones.",
                ),
            ),
            AuthError::InvalidChallenge => ApiError::field(
                "code_challenge",
                Message::new(
                    "Serve una sfida PKCE S256 (43 caratteri base64url).",
                    "A PKCE S256 challenge (43 base64url characters) is required.",
                ),
            ),
            AuthError::InvalidGrant => ApiError::problem(
                StatusCode::BAD_REQUEST,
                "invalid-grant",
                Message::new("Credenziali non valide", "Invalid grant"),
                Message::new(
                    "Il codice o il token è scaduto, già usato o non valido: accedi di nuovo.",
                    "The code or token is expired, already used or invalid: log in again.",
                ),
            ),
            AuthError::LoginFailed(reason) => {
                tracing::info!(%reason, "login failed");
                ApiError::problem(
                    StatusCode::BAD_REQUEST,
                    "login-failed",
                    Message::new("Accesso non riuscito", "Login failed"),
                    Message::new(
                        format!("L'accesso non è riuscito: {reason}"),
                        format!("The login did not succeed: {reason}"),
                    ),
                )
            }
            AuthError::ProviderUnavailable(reason) => {
                tracing::warn!(%reason, "identity provider unavailable");
                ApiError::problem(
                    StatusCode::BAD_GATEWAY,
                    "provider-unavailable",
                    Message::new(
                        "Provider di identità non raggiungibile",
                        "Identity provider unavailable",
                    ),
                    Message::new(
                        "Il provider di identità non risponde; riprova più tardi.",
                        "The identity provider does not answer; try again later.",
                    ),
                )
            }
            AuthError::Federation(error) => error.into(),
            AuthError::Identity(error) => error.into(),
            AuthError::Database(error) => error.into(),
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

impl From<FederationError> for ApiError {
    fn from(error: FederationError) -> Self {
        match error {
            FederationError::Disabled => ApiError::problem(
                StatusCode::NOT_FOUND,
                "federation-disabled",
                Message::new("Nessuna federazione configurata", "No federation configured"),
                Message::new(
                    "Questo server non è configurato per le federazioni SPID e CIE.",
                    "This server is not configured for the SPID and CIE federations.",
                ),
            ),
            FederationError::Keys(reason) => {
                tracing::error!(%reason, "federation keys");
                ApiError::Internal
            }
            FederationError::UnknownFederation(id) => AuthError::UnknownProvider(id).into(),
            FederationError::Trust(error) => {
                tracing::warn!(%error, "provider not trusted");
                ApiError::problem(
                    StatusCode::FORBIDDEN,
                    "provider-not-trusted",
                    Message::new("Provider di identità non fidato", "Identity provider not trusted"),
                    Message::new(
                        format!("Il provider non appartiene alla federazione: {error}"),
                        format!("The provider is not in the federation: {error}"),
                    ),
                )
            }
            FederationError::Rejected(reason) => AuthError::LoginFailed(reason).into(),
        }
    }
}
