//! The tenant context's problems: a malformed or unknown ISTAT code.
//!
//! One answer everywhere a municipality is named, in a path, a query or a body: a code that is
//! not six digits is 422 `validation` naming the parameter or field (`istat_code` in a path), as
//! every other value of the API that does not fit is, so a client sees what to correct; six
//! digits that name no municipality served here are 404 `municipality-not-found`.

use axum::http::StatusCode;
use sportello_core::tenant::TenantError;

use crate::http::problem::{ApiError, Message};

impl From<TenantError> for ApiError {
    fn from(error: TenantError) -> Self {
        match error {
            // Every route that names the municipality in its path calls the parameter so.
            TenantError::MalformedIstatCode(code) => malformed_istat_code("istat_code", &code),
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

/// The answer to a malformed ISTAT code in `field` (a path or query parameter, a body field):
/// 422 `validation` on that field.
pub fn malformed_istat_code(field: &str, code: &str) -> ApiError {
    ApiError::field(
        field,
        Message::new(
            format!("`{code}` non è un codice ISTAT: servono sei cifre, ad esempio 010025."),
            format!("`{code}` is not an ISTAT code: six digits are expected, e.g. 010025."),
        ),
    )
}
