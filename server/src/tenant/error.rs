//! The tenant context's problems: a malformed or unknown ISTAT code.
//!
//! One answer everywhere a municipality is named, in a path, a query or a body: a code that is
//! not six digits is 400 `malformed-istat-code`; six digits that name no municipality served
//! here are 404 `municipality-not-found`.

use axum::http::StatusCode;
use sportello_core::tenant::TenantError;

use crate::http::problem::{ApiError, Message};

impl From<TenantError> for ApiError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::MalformedIstatCode(code) => ApiError::problem(
                StatusCode::BAD_REQUEST,
                "malformed-istat-code",
                Message::new("Codice ISTAT non valido", "Malformed ISTAT code"),
                Message::new(
                    format!("`{code}` non è un codice ISTAT: servono sei cifre, ad esempio 010025."),
                    format!("`{code}` is not an ISTAT code: six digits are expected, e.g. 010025."),
                ),
            ),
            TenantError::UnknownMunicipality(code) => ApiError::problem(
                StatusCode::NOT_FOUND,
                "municipality-not-found",
                Message::new("Comune non trovato", "Municipality not found"),
                Message::new(
                    format!("Nessun comune servito ha codice ISTAT {code}."),
                    format!("No municipality served here has ISTAT code {code}."),
                ),
            ),
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
