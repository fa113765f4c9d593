//! The payments context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::payments::PaymentsError;

use crate::http::problem::{ApiError, Message};
use crate::pagination::PageError;

/// Why a payments request is refused.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("{field}: {en}")]
    Invalid { field: String, it: String, en: String },
    #[error(transparent)]
    Domain(#[from] PaymentsError),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

impl PayError {
    pub(crate) fn invalid(field: &str, it: impl Into<String>, en: impl Into<String>) -> Self {
        PayError::Invalid {
            field: field.to_owned(),
            it: it.into(),
            en: en.into(),
        }
    }
}

impl From<PayError> for ApiError {
    fn from(error: PayError) -> Self {
        use sportello_core::payments::{PaymentsError, PositionStatus};
        match error {
            PayError::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            PayError::NotFound => not_found(),
            PayError::Forbidden => ApiError::Forbidden,
            PayError::Page(error) => error.into(),
            PayError::Database(error) => error.into(),
            PayError::Internal(cause) => ApiError::internal(cause),
            PayError::Domain(error) => {
                let state = |code, it: &str, en: &str| not_payable(code, Message::new(it, en));
                match error {
                    PaymentsError::UnknownNotice(_) => not_found(),
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
                    PaymentsError::IllegalPositionTransition { from, event } => not_payable(
                        "position-status",
                        Message::new(
                            format!("Non si può eseguire «{event}» su una posizione {from}."),
                            format!("Cannot {event} a position that is {from}."),
                        ),
                    ),
                    other => {
                        let text = other.to_string();
                        ApiError::field("position", Message::new(text.clone(), text))
                    }
                }
            }
        }
    }
}

/// 404 `payment-not-found`: no notice or position matches (or none the caller may see).
fn not_found() -> ApiError {
    ApiError::problem(
        StatusCode::NOT_FOUND,
        "payment-not-found",
        Message::new("Avviso non trovato", "Payment not found"),
        Message::new(
            "Nessun avviso di pagamento corrisponde: controlla numero e ente.",
            "No payment notice matches: check the number and the creditor.",
        ),
    )
}

/// 409: a notice or position whose state forbids the request (paid, expired, cancelled…).
fn not_payable(code: &'static str, detail: Message) -> ApiError {
    ApiError::problem(
        StatusCode::CONFLICT,
        code,
        Message::new("Avviso non pagabile", "Notice not payable"),
        detail,
    )
}
