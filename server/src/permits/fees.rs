//! The hand-off to Payments. A procedure with fees records them as due (`permit_fees`) when
//! the application reaches `awaiting_payment` (filing fees) or `awaiting_issue_payment` (issue
//! fees), and in the same transaction asks Payments, through [`FeeNotices`], to open one pagoPA
//! notice (a debt position with `origin = permit:<id>`) for that group of fees; the notice
//! number is kept with the fees so the application shows what to pay. When the receipt
//! arrives, Payments calls [`record_fee_paid`] inside its own transaction: the fees are marked
//! paid, a `confirm-payment` timeline entry is appended by the system, the application moves on
//! (`submitted`, which starts the legal clock, or `accepted`), and the applicant's inbox message
//! is queued — all committed with the receipt, or not at all. An application that leaves a
//! payment state another way (paid at the counter, cancelled, withdrawn) has its unpaid notices
//! withdrawn ([`FeeNotices::withdraw`]) in the step's transaction.
//!
//! The functions take a connection, not the service, so Payments can call them from its own
//! transaction. After committing, call `Notifier::wake` (or let the delivery worker find the
//! push at its next poll).

use base64::Engine as _;
use futures_core::future::BoxFuture;
use jiff::civil::Date;
use sha2::{Digest as _, Sha256};
use sportello_core::calendar;
use sportello_core::permits::{Action, Actor, FeeDue, Step};
use sqlx::AnyConnection;

use super::error::{bad_instant, invalid};
use super::steps::paid_in;
use super::{DEFAULT_PUSH_TTL_MS, Loaded, PermitError, apply_step, load, store};
use crate::clock::timestamp_from_ms;

/// Days a fee notice gives to pay: its due date is this many days after the fees fell due
/// (the general term of L. 241/1990 art. 2). The notice does not expire on that date: the
/// application waits for the payment, so a late payment is still taken.
pub const NOTICE_DAYS: i64 = 30;

/// Longest pagoPA description and remittance text.
const MAX_TEXT_CHARS: usize = 140;
/// Longest debtor name (GPD `fullName`).
const MAX_NAME_CHARS: usize = 70;

/// One group of fees that fell due together (filing or issue), to be paid with one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeNoticeRequest {
    /// The application (the position's origin is `permit:<permit_id>`).
    pub permit_id: String,
    /// ISTAT code of the municipality owed (the creditor).
    pub municipality: String,
    /// The applicant: the debtor.
    pub debtor_fiscal_code: String,
    /// The applicant's name on their account, or their fiscal code when it is not known.
    pub debtor_name: String,
    /// What the notice is for (at most 140 characters).
    pub description: String,
    /// Due date of the notice (Europe/Rome).
    pub due_date: Date,
    /// The fees, in catalogue order.
    pub fees: Vec<FeeLine>,
}

/// One fee of a [`FeeNoticeRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    /// Fee code of the procedure.
    pub code: String,
    /// What it is for (Italian).
    pub reason: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// For a fee paid as a digital revenue stamp: the base64 SHA-256 that identifies the
    /// stamped act (see [`stamp_document_hash`]); `None` for money to the municipality.
    pub stamp_document_hash: Option<String>,
}

/// The notice opened for a group of fees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeNotice {
    /// Payments' debt position.
    pub position_id: String,
    /// The 18-digit notice number.
    pub notice_number: String,
    /// The creditor's fiscal code (idPA), which the notice is paid to.
    pub creditor_fiscal_code: String,
}

/// How fees reach pagoPA. Payments implements it; the service given to
/// [`super::Permits::with_fee_notices`] is called inside the step's transaction, on its
/// connection. A database error fails the step (it is rolled back whole); anything else —
/// no pagoPA creditor for the municipality, a position pagoPA would refuse — is the
/// implementation's to log, and answers `None`: the fees stay due without a notice.
pub trait FeeNotices: Send + Sync {
    /// Opens the notice for a group of fees.
    fn open<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        request: &'a FeeNoticeRequest,
    ) -> BoxFuture<'a, Result<Option<FeeNotice>, sqlx::Error>>;

    /// Withdraws the application's notices that are still unpaid; returns how many.
    fn withdraw<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        permit_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
}

/// What identifies the act a digital stamp is affixed to: base64 of the SHA-256 of
/// `sportello:permit:<id>:<fee code>` (the application for a filing stamp, the title for an
/// issue stamp). pagoPA wants the hash of the stamped document; the platform keeps no single
/// file for either, and this value is unique per act and reproducible.
pub fn stamp_document_hash(permit_id: &str, fee_code: &str) -> String {
    let digest = Sha256::digest(format!("sportello:permit:{permit_id}:{fee_code}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

/// Asks `notices` for the notice of the fees of `due` that fell due at `at_ms`, and links the
/// fees to it. `None` when no notice was opened (the fees stay due; logged).
pub(crate) async fn open_notice(
    conn: &mut AnyConnection,
    notices: &dyn FeeNotices,
    loaded: &Loaded,
    due: FeeDue,
    at_ms: i64,
) -> Result<Option<FeeNotice>, PermitError> {
    let row = &loaded.row;
    let fees: Vec<FeeLine> = loaded
        .procedure
        .fees_due(due)
        .map(|fee| FeeLine {
            code: fee.code.clone(),
            reason: clip(&fee.name.it, MAX_TEXT_CHARS),
            amount_cents: fee.amount.cents(),
            stamp_document_hash: fee.stamp.then(|| stamp_document_hash(&row.id, &fee.code)),
        })
        .collect();
    if fees.is_empty() {
        return Ok(None);
    }
    let reasons = fees
        .iter()
        .map(|f| f.reason.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let debtor_name = store::person_name(conn, &row.applicant_fiscal_code)
        .await?
        .unwrap_or_else(|| row.applicant_fiscal_code.clone());
    let today = calendar::rome_date(timestamp_from_ms(at_ms).ok_or_else(|| bad_instant(at_ms))?);
    let request = FeeNoticeRequest {
        permit_id: row.id.clone(),
        municipality: row.municipality.clone(),
        debtor_fiscal_code: row.applicant_fiscal_code.clone(),
        debtor_name: clip(&debtor_name, MAX_NAME_CHARS),
        description: clip(
            &format!("{} – {reasons}", loaded.procedure.name.it),
            MAX_TEXT_CHARS,
        ),
        due_date: calendar::add_days(today, NOTICE_DAYS)
            .ok_or_else(|| PermitError::Internal(format!("due date of {today} + {NOTICE_DAYS} days")))?,
        fees,
    };
    let notice = notices.open(conn, &request).await?;
    match &notice {
        Some(notice) => {
            store::set_fee_notice(
                conn,
                &row.id,
                due.as_str(),
                &notice.position_id,
                &notice.notice_number,
            )
            .await?;
            tracing::info!(permit = %row.id, notice = %notice.notice_number, due = due.as_str(), "permit fee notice opened");
        }
        None => {
            tracing::info!(permit = %row.id, due = due.as_str(), "permit fees due without a pagoPA notice");
        }
    }
    Ok(notice)
}

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
    /// The pagoPA notice opened for it, if any.
    pub notice_number: Option<String>,
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
            notice_number: fee.notice_number,
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
        return Err(invalid(
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
    let due = paid_in(loaded.permit.status());
    // A receipt may carry an instant before the last entry (it was paid, then recorded): the
    // timeline stays in order and the clock starts no earlier than the payment was recorded.
    let last = loaded.timeline.last().map_or(0, |t| t.at);
    let at_ms = paid_at_ms.max(last);
    let step = Step::new(
        Action::ConfirmPayment,
        Actor::System,
        timestamp_from_ms(at_ms).ok_or_else(|| bad_instant(at_ms))?,
    )
    .with_note(&format!("ricevuta {receipt_ref}"));
    // Core refuses before anything is written, so a refused receipt changes nothing.
    // No fee notices here: the notice being paid is the one this receipt pays, and a payment
    // never leads to another payment state.
    let entry = apply_step(conn, &mut loaded, step, None, DEFAULT_PUSH_TTL_MS, None).await?;
    let marked = store::mark_fees_paid(conn, permit_id, due.as_str(), receipt_ref, paid_at_ms).await?;
    tracing::info!(permit = %permit_id, receipt = %receipt_ref, to = %entry.to, "permit fee paid");
    Ok(FeePaid {
        fees_marked: marked,
        already_recorded: false,
        advanced_to: Some(entry.to.as_str().to_owned()),
    })
}
