//! The open data context's errors and the problems they become.

use axum::http::StatusCode;

use crate::catalog::CatalogError;
use crate::events::EventsError;
use crate::http::problem::{ApiError, Message};
use crate::permits::PermitError;

/// Why an open data request is refused.
#[derive(Debug, thiserror::Error)]
pub enum OpenDataError {
    /// No dataset file by this name.
    #[error("no open data file {0}")]
    NotFound(String),
    #[error(transparent)]
    Events(#[from] EventsError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Permits(#[from] PermitError),
}

impl From<OpenDataError> for ApiError {
    fn from(error: OpenDataError) -> Self {
        match error {
            OpenDataError::NotFound(name) => ApiError::problem(
                StatusCode::NOT_FOUND,
                "opendata-not-found",
                Message::new("File non trovato", "File not found"),
                Message::new(
                    format!("Nessun file di dati aperti `{name}`: il catalogo è in /opendata/catalog."),
                    format!("There is no open data file `{name}`: the catalogue is at /opendata/catalog."),
                ),
            ),
            OpenDataError::Events(error) => error.into(),
            OpenDataError::Catalog(error) => error.into(),
            OpenDataError::Permits(error) => error.into(),
        }
    }
}
