//! Wire types of the payments context (pagoPA debt positions, notices, receipts).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Who owes the money of a debt position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentDebtor {
    /// `F` natural person (default) or `G` legal person.
    #[serde(default = "natural_person")]
    pub kind: String,
    /// Fiscal code (16 characters) or VAT number (11 digits).
    #[cfg_attr(feature = "openapi", schema(example = "RSSMRA85T10A562S"))]
    pub fiscal_code: String,
    /// Name and surname, or company name (1–70 characters).
    #[cfg_attr(feature = "openapi", schema(example = "Mario Rossi"))]
    pub full_name: String,
}

fn natural_person() -> String {
    "F".to_owned()
}

/// One payment option of a new debt position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentOptionInput {
    /// Amount in euro cents (at least 1).
    #[cfg_attr(feature = "openapi", schema(example = 3000))]
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD` (Europe/Rome).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-31"))]
    pub due_date: String,
    /// What is paid, as shown to the payer (default: the position's description).
    pub description: Option<String>,
}

/// Body of `POST /v1/municipalities/{istat}/payment-positions`: a new debt position in DRAFT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentPositionInput {
    /// Unique position id (IUPD); default: `<creditor fiscal code>-<uuid>`.
    pub iupd: Option<String>,
    /// Who pays.
    pub debtor: PaymentDebtor,
    /// What the debt is for (1–140 characters).
    #[cfg_attr(feature = "openapi", schema(example = "Diritti di segreteria"))]
    pub description: String,
    /// A single payment (one option) or an instalment plan (`instalments` = true, 2+ options).
    pub options: Vec<PaymentOptionInput>,
    /// Whether the options are instalments of a plan rather than one single payment.
    #[serde(default)]
    pub instalments: bool,
    /// pagoPA taxonomy category of the transfer (default: the creditor's configured one).
    #[cfg_attr(feature = "openapi", schema(example = "9/0101108TS/"))]
    pub taxonomy: Option<String>,
    /// When the position becomes payable, RFC 3339 (default: at publication).
    pub valid_from: Option<String>,
    /// Whether the position expires (stops being payable) after its last due date.
    #[serde(default)]
    pub expires: bool,
}

/// A payment option of a debt position, with its notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentNotice {
    /// Opaque id of the option (used by the receipt download).
    pub id: String,
    /// Notice number (numero avviso), 18 digits.
    #[cfg_attr(feature = "openapi", schema(example = "301000000000000105"))]
    pub notice_number: String,
    /// Notice number in groups of four, as printed.
    #[cfg_attr(feature = "openapi", schema(example = "3010 0000 0000 0001 05"))]
    pub notice_printed: String,
    /// IUV (creditorReferenceId).
    pub iuv: String,
    /// The QR code payload `PAGOPA|002|…`.
    pub qr_payload: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD`.
    pub due_date: String,
    /// What is paid.
    pub description: String,
    /// Whether this is one instalment of a plan.
    pub instalment: bool,
    /// RFC 3339 UTC, once paid.
    pub paid_at: Option<String>,
    /// The pagoPA receipt id, once paid.
    pub receipt_id: Option<String>,
}

/// A debt position as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentPosition {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the creditor municipality.
    pub municipality: String,
    /// Creditor fiscal code (idPA).
    pub creditor_fiscal_code: String,
    /// Unique position id (IUPD).
    pub iupd: String,
    /// GPD status: DRAFT, PUBLISHED, VALID, PARTIALLY_PAID, PAID, EXPIRED, INVALID, REPORTED.
    pub status: String,
    /// Who pays.
    pub debtor: PaymentDebtor,
    /// What the debt is for.
    pub description: String,
    /// Payment options.
    pub options: Vec<PaymentNotice>,
    /// What created it, e.g. `permit:<id>`; absent when an operator did.
    pub origin: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// A page of debt positions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentPositionPage {
    /// Positions.
    pub items: Vec<PaymentPosition>,
    /// Cursor for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// One of a citizen's payments (one notice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyPayment {
    /// The notice, with number, QR payload, amount and due date.
    #[serde(flatten)]
    pub notice: PaymentNotice,
    /// `due`, `paid`, `expired` or `cancelled`.
    pub state: String,
    /// The debt position's id.
    pub position_id: String,
    /// Creditor fiscal code.
    pub creditor_fiscal_code: String,
    /// Creditor name (the municipality).
    pub creditor_name: String,
    /// ISTAT code of the creditor municipality.
    pub municipality: String,
}

/// A citizen's payments: due first (soonest due date first), then paid and expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyPaymentList {
    /// Payments (at most 500).
    pub items: Vec<MyPayment>,
}

/// Body of `POST /v1/payments/verify`: a scanned or typed notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyPaymentRequest {
    /// A notice number (spaces allowed) or a QR payload `PAGOPA|002|…`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "PAGOPA|002|301000000000000105|00856930102|3000")
    )]
    pub code: String,
    /// Creditor fiscal code; required with a bare notice number unless only one creditor
    /// could have issued it.
    pub creditor_fiscal_code: Option<String>,
}

/// What a notice would pay, as pagoPA's verify would say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct VerifiedPayment {
    /// Notice number, 18 digits.
    pub notice_number: String,
    /// Printed form.
    pub notice_printed: String,
    /// Creditor fiscal code.
    pub creditor_fiscal_code: String,
    /// Creditor name.
    pub creditor_name: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD`.
    pub due_date: String,
    /// What is paid.
    pub description: String,
}
