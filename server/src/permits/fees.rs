//! The hand-off to Payments. A procedure with fees records them as due (`permit_fees`) when
//! the application reaches `awaiting_payment` (filing fees) or `awaiting_issue_payment` (issue
//! fees). Payments lists them with [`fees_due`], turns each group into a pagoPA debt position,
//! and, when the receipt arrives, calls [`record_fee_paid`] inside its own transaction: the
//! fees are marked paid, a `confirm-payment` timeline entry is appended by the system, the
//! application moves on (`submitted`, which starts the legal clock, or `accepted`), and the
//! applicant's inbox message is queued — all committed with the receipt, or not at all.
//!
//! Both functions take a connection, not the service, so Payments can call them from its own
//! transaction. After committing, call `Notifier::wake` (or let the delivery worker find the
//! push at its next poll).

use sportello_core::permits::{Action, Actor, FeeDue, Status, Step};
use sqlx::AnyConnection;

use super::{DEFAULT_PUSH_TTL_MS, PermitError, apply_step, instant, load, store};

/// A fee due on an application, for Payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeDueItem {
    /// The application.
    pub permit_id: String,
    /// ISTAT code of the municipality that is owed (the creditor).
    pub municipality: String,
    /// Fee code of the procedure (`secretariat`, `application-stamp`, …).
    pub code: String,
    /// What it is for (Italian: the debt position's description).
    pub reason: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// `filing` or `issue`: the fees of one group are paid together.
    pub due: String,
    /// Paid as a pagoPA digital revenue stamp (marca da bollo digitale).
    pub stamp: bool,
    /// When it became due, ms since the epoch.
    pub created_at_ms: i64,
}

/// What recording a receipt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePaid {
    /// Fees marked paid (0 when the receipt had been recorded before).
    pub fees_marked: u64,
    /// The receipt had already been recorded: nothing changed (the pagoPA node retries).
    pub already_recorded: bool,
    /// The status the application moved to, if it was waiting for this payment.
    pub advanced_to: Option<String>,
}

/// Unpaid fees, oldest first, of one municipality or (with `None`) of all; at most `limit`.
pub async fn fees_due(
    conn: &mut AnyConnection,
    municipality: Option<&str>,
    limit: i64,
) -> Result<Vec<FeeDueItem>, PermitError> {
    let rows = store::unpaid_fees(conn, municipality, limit).await?;
    Ok(rows
        .into_iter()
        .map(|(fee, municipality)| FeeDueItem {
            permit_id: fee.permit_id,
            municipality,
            code: fee.code,
            reason: fee.reason,
            amount_cents: fee.amount_cents,
            due: fee.due,
            stamp: fee.stamp,
            created_at_ms: fee.created_at,
        })
        .collect())
}

/// Records the payment of the fees the application is waiting for (the group due now: filing
/// fees while `awaiting_payment`, issue fees while `awaiting_issue_payment`) under the receipt
/// `receipt_ref`, paid at `paid_at_ms`, and advances the application. Idempotent per receipt.
/// Runs on the caller's connection (normally inside its transaction). A permit that is not
/// waiting for a payment is refused with core's reason (`not-in-status`), changing nothing.
pub async fn record_fee_paid(
    conn: &mut AnyConnection,
    permit_id: &str,
    receipt_ref: &str,
    paid_at_ms: i64,
) -> Result<FeePaid, PermitError> {
    if receipt_ref.trim().is_empty() || receipt_ref.len() > 200 {
        return Err(super::invalid(
            "receipt_ref",
            "Riferimento della ricevuta non valido.",
            "Invalid receipt reference.",
        ));
    }
    if !store::lock_permit(conn, permit_id).await? {
        return Err(PermitError::NotFound);
    }
    if store::receipt_recorded(conn, permit_id, receipt_ref).await? {
        return Ok(FeePaid {
            fees_marked: 0,
            already_recorded: true,
            advanced_to: None,
        });
    }
    let mut loaded = load(conn, permit_id).await?.ok_or(PermitError::NotFound)?;
    let due = match loaded.permit.status() {
        Status::AwaitingIssuePayment => FeeDue::Issue,
        _ => FeeDue::Filing,
    };
    // A receipt may carry an instant before the last entry (it was paid, then recorded): the
    // timeline stays in order and the clock starts no earlier than the payment was recorded.
    let last = loaded.timeline.last().map_or(0, |t| t.at);
    let step = Step::new(
        Action::ConfirmPayment,
        Actor::System,
        instant(paid_at_ms.max(last))?,
    )
    .with_note(&format!("ricevuta {receipt_ref}"));
    // Core refuses before anything is written, so a refused receipt changes nothing.
    let entry = apply_step(conn, &mut loaded, step, None, DEFAULT_PUSH_TTL_MS).await?;
    let marked = store::mark_fees_paid(conn, permit_id, due.as_str(), receipt_ref, paid_at_ms).await?;
    tracing::info!(permit = %permit_id, receipt = %receipt_ref, to = %entry.to, "permit fee paid");
    Ok(FeePaid {
        fees_marked: marked,
        already_recorded: false,
        advanced_to: Some(entry.to.as_str().to_owned()),
    })
}
