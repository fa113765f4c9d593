//! The events context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::events::InvalidField;
use sportello_core::tenant::TenantError;

use crate::http::problem::{ApiError, Message};
use crate::pagination::PageError;

/// Why an events request is refused.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// A field of the request, named, with why.
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    /// No such event (or not of this municipality).
    #[error("event not found")]
    NotFound,
    /// The venue named is neither a venue nor a library.
    #[error("venue {0} not found")]
    VenueNotFound(String),
    /// Not an events officer of this municipality.
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
    #[error("internal: {0}")]
    Internal(String),
}

impl EventsError {
    pub(crate) fn invalid(field: &str, it: impl Into<String>, en: impl Into<String>) -> Self {
        EventsError::Invalid(InvalidField::new(field, it, en))
    }
}

impl From<EventsError> for ApiError {
    fn from(error: EventsError) -> Self {
        match error {
            EventsError::Invalid(InvalidField { field, it, en }) => {
                ApiError::field(&field, Message::new(it, en))
            }
            EventsError::NotFound => ApiError::problem(
                StatusCode::NOT_FOUND,
                "event-not-found",
                Message::new("Evento non trovato", "Event not found"),
                Message::new(
                    "Nessun evento con questo identificativo.",
                    "There is no such event.",
                ),
            ),
            EventsError::VenueNotFound(id) => ApiError::field(
                "venue",
                Message::new(
                    format!("Nessuna sede o biblioteca `{id}`."),
                    format!("There is no venue or library `{id}`."),
                ),
            ),
            EventsError::Forbidden => ApiError::Forbidden,
            EventsError::Tenant(error) => error.into(),
            EventsError::Page(error) => error.into(),
            EventsError::Database(error) => error.into(),
            EventsError::Internal(cause) => ApiError::internal(cause),
        }
    }
}
