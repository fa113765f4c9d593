//! The notifications context's errors and the problems they become.

use axum::http::StatusCode;

use crate::http::problem::{ApiError, Message};
use crate::pagination::PageError;

/// Why a notification request is refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{field}: {en}")]
    Invalid {
        field: &'static str,
        it: String,
        en: String,
    },
    #[error("too many devices")]
    TooManyDevices,
    /// A device kind this server has no sender for: accepting it would drop its pushes later.
    #[error("no push sender for {kind} devices")]
    NoSender { kind: String },
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<NotifyError> for ApiError {
    fn from(error: NotifyError) -> Self {
        match error {
            NotifyError::Invalid { field, it, en } => ApiError::field(field, Message::new(it, en)),
            NotifyError::TooManyDevices => ApiError::field(
                "device",
                Message::new(
                    "Troppi dispositivi registrati: rimuovine uno.",
                    "Too many registered devices: remove one first.",
                ),
            ),
            NotifyError::NoSender { kind } => ApiError::problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "push-kind-unavailable",
                Message::new(
                    "Notifiche non disponibili per questo dispositivo",
                    "Push not available for this device",
                ),
                Message::new(
                    format!("Questo servizio non invia notifiche ai dispositivi {kind}."),
                    format!("This service does not send push notifications to {kind} devices."),
                ),
            ),
            NotifyError::NotFound => ApiError::RouteNotFound,
            NotifyError::Forbidden => ApiError::Forbidden,
            NotifyError::Page(error) => error.into(),
            NotifyError::Database(error) => error.into(),
        }
    }
}
