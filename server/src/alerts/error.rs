//! The alerts context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::events::InvalidField;
use sportello_core::tenant::TenantError;

use crate::http::problem::{ApiError, Message};
use crate::pagination::PageError;

/// Why an alerts request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    /// A field of the request, named, with why.
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    /// A CAP document the schema refuses, or that is no alert Sportello can publish: why.
    #[error("invalid CAP: {0}")]
    Cap(String),
    /// No such alert.
    #[error("alert not found")]
    NotFound,
    /// The alert an update or cancellation names was already replaced, cancelled or expired.
    #[error("alert no longer active")]
    NotActive,
    /// Not a civil-protection officer of every municipality of the alert (nor an admin).
    #[error("forbidden")]
    Forbidden,
    /// A malformed or unknown municipality.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// A bad cursor or limit.
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl AlertsError {
    pub(crate) fn invalid(field: &str, it: impl Into<String>, en: impl Into<String>) -> Self {
        AlertsError::Invalid(InvalidField::new(field, it, en))
    }
}

impl From<AlertsError> for ApiError {
    fn from(error: AlertsError) -> Self {
        match error {
            AlertsError::Invalid(InvalidField { field, it, en }) => {
                ApiError::field(&field, Message::new(it, en))
            }
            AlertsError::Cap(reason) => ApiError::problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cap-invalid",
                Message::new("Documento CAP non valido", "Invalid CAP document"),
                Message::new(
                    format!("Il documento non è un'allerta CAP 1.2 valida: {reason}"),
                    format!("The document is not a valid CAP 1.2 alert: {reason}"),
                ),
            ),
            AlertsError::NotFound => ApiError::problem(
                StatusCode::NOT_FOUND,
                "alert-not-found",
                Message::new("Allerta non trovata", "Alert not found"),
                Message::new(
                    "Nessuna allerta con questo identificativo.",
                    "There is no such alert.",
                ),
            ),
            AlertsError::NotActive => ApiError::problem(
                StatusCode::CONFLICT,
                "alert-not-active",
                Message::new("Allerta non più attiva", "Alert no longer active"),
                Message::new(
                    "L'allerta è già stata aggiornata, revocata o è scaduta: aggiorna o revoca l'ultima versione.",
                    "The alert was already updated, cancelled or has expired: update or cancel its latest version.",
                ),
            ),
            AlertsError::Forbidden => ApiError::Forbidden,
            AlertsError::Tenant(error) => error.into(),
            AlertsError::Page(error) => error.into(),
            AlertsError::Database(error) => error.into(),
        }
    }
}
