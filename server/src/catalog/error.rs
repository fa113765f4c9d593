//! The catalogue context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::tenant::TenantError;

use crate::http::problem::{ApiError, Message};
use crate::upload::UploadError;

/// Why a catalogue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no library {0}")]
    LibraryNotFound(String),
    #[error("no catalogue record {0}")]
    RecordNotFound(String),
    #[error("invalid {field}: {en}")]
    Invalid { field: String, it: String, en: String },
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl CatalogError {
    /// A validation error in both languages.
    pub fn invalid(field: &str, it: impl Into<String>, en: impl Into<String>) -> Self {
        CatalogError::Invalid {
            field: field.to_owned(),
            it: it.into(),
            en: en.into(),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::LibraryNotFound(id) => ApiError::problem(
                StatusCode::NOT_FOUND,
                "library-not-found",
                Message::new("Biblioteca non trovata", "Library not found"),
                Message::new(
                    format!("Nessuna biblioteca `{id}` qui."),
                    format!("There is no library `{id}` here."),
                ),
            ),
            CatalogError::RecordNotFound(id) => ApiError::problem(
                StatusCode::NOT_FOUND,
                "record-not-found",
                Message::new("Scheda non trovata", "Record not found"),
                Message::new(
                    format!("Nessuna scheda o copia `{id}` nel catalogo."),
                    format!("There is no record or copy `{id}` in the catalogue."),
                ),
            ),
            CatalogError::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            CatalogError::Tenant(error) => error.into(),
            CatalogError::Upload(UploadError::TooLarge(_)) => ApiError::PayloadTooLarge,
            CatalogError::Upload(UploadError::Interrupted(reason)) => ApiError::field(
                "body",
                Message::new(
                    format!("Caricamento interrotto: {reason}"),
                    format!("Upload interrupted: {reason}"),
                ),
            ),
            CatalogError::Upload(UploadError::Empty) => ApiError::field(
                "body",
                Message::new("Il file caricato è vuoto.", "The uploaded file is empty."),
            ),
            CatalogError::Upload(error @ (UploadError::Refused | UploadError::Io(_))) => {
                ApiError::internal(error)
            }
            CatalogError::Database(error) => error.into(),
            CatalogError::Internal(cause) => ApiError::internal(cause),
        }
    }
}
