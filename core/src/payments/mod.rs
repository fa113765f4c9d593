//! Payments on pagoPA, the creditor institution's side (the municipality is the "EC"): notice
//! numbers and IUVs, the notice QR code, money, IBANs and digital stamps, and debt positions
//! with their payment options, transfers and statuses on the model of pagoPA's GPD.
//! `soap` reads and writes the `paForNode` SOAP messages the pagoPA Node exchanges with us.
//!
//! Sources: AgID SACI (notice number and IUV structure), the pagoPA `paForNode` XSD (amounts,
//! texts, stamps), the GPD OpenAPI (debt positions). See docs/domain-rules.md.

mod amount;
mod iban;
mod notice;
mod position;
mod qr;
pub mod soap;
mod transfer;

pub use amount::Amount;
pub use iban::Iban;
pub use notice::{AuxDigit, NoticeNumber, SegregationCode};
pub use position::{
    DebtPosition, Debtor, DebtorKind, MAX_TRANSFERS, OptionKind, Payment, PaymentOption, PaymentOutcome,
    PositionEvent, PositionStatus,
};
pub use qr::QrPayload;
pub use transfer::{DigitalStamp, MAX_TEXT_CHARS, TaxonomyCategory, Transfer, TransferTarget};

use crate::tenant::TenantError;

/// Why a payment datum or operation is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentsError {
    /// Not a decimal amount in euro.
    #[error("`{0}` is not an amount in euro (e.g. 12.34)")]
    MalformedAmount(String),
    /// More than two decimals.
    #[error("`{0}` has more than two decimals")]
    TooManyDecimals(String),
    /// A negative amount.
    #[error("`{0}` is negative; amounts are never negative")]
    NegativeAmount(String),
    /// Beyond 999,999,999.99 euro.
    #[error("{0} is beyond the largest amount pagoPA accepts (999999999.99)")]
    AmountOutOfRange(String),
    /// Zero where a payable amount is needed.
    #[error("the amount must be at least one cent")]
    ZeroAmount,
    /// A notice number that is not 18 digits long.
    #[error("a notice number has 18 digits, not {0}")]
    NoticeLength(usize),
    /// A notice number with characters other than digits (and spaces).
    #[error("`{0}` is not a notice number: only digits are allowed")]
    NoticeNotNumeric(String),
    /// A notice number starting with a digit other than 0–3.
    #[error("a notice number starts with 0, 1, 2 or 3, not {0}")]
    UnknownAuxDigit(u8),
    /// Check digits that do not match: most likely a mistyped digit.
    #[error(
        "notice number {notice} is not valid: its check digits should be {expected}; check for a mistyped digit"
    )]
    NoticeCheckDigits {
        /// The notice number as given.
        notice: String,
        /// The check digits its first 16 digits call for.
        expected: String,
    },
    /// Not a two-digit segregation code.
    #[error("`{0}` is not a two-digit segregation code")]
    MalformedSegregationCode(String),
    /// An IUV base that does not fit in 13 digits.
    #[error("IUV base {0} does not fit in 13 digits")]
    MalformedIuvBase(String),
    /// A QR payload with the wrong number of `|`-separated fields.
    #[error("a pagoPA QR code has 5 fields, not {0}")]
    QrFieldCount(usize),
    /// A QR payload that does not start with `PAGOPA`.
    #[error("`{0}` is not the pagoPA QR code prefix")]
    QrPrefix(String),
    /// A QR payload version other than `002`.
    #[error("pagoPA QR code version `{0}` is not supported (only 002)")]
    QrVersion(String),
    /// A QR payload amount that is not 1..=11 digits of cents.
    #[error("`{0}` is not an amount in cents")]
    QrAmount(String),
    /// The creditor's fiscal code is invalid.
    #[error("creditor: {0}")]
    Creditor(#[from] TenantError),
    /// Not an IBAN.
    #[error("`{0}` is not an IBAN")]
    MalformedIban(String),
    /// An IBAN of the wrong length for its country.
    #[error("an IBAN of {country} has {expected} characters, not {found}")]
    IbanLength {
        /// ISO country code.
        country: String,
        /// Length for the country.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// IBAN check digits that do not verify.
    #[error("IBAN `{0}` is not valid: its check digits do not match")]
    IbanChecksum(String),
    /// A malformed digital stamp.
    #[error("digital stamp: {0}")]
    MalformedStamp(&'static str),
    /// Not a `9/NNNNNNNXX/` taxonomy category.
    #[error("`{0}` is not a pagoPA taxonomy category (e.g. 9/0101100IM/)")]
    MalformedTaxonomy(String),
    /// A text that is empty or too long.
    #[error("the {field} must have 1 to {max} characters")]
    TextLength {
        /// Which text.
        field: &'static str,
        /// Its maximum length.
        max: usize,
    },
    /// An option with no transfers or more than five.
    #[error("a payment option has 1 to 5 transfers, not {0}")]
    TransferCount(usize),
    /// Transfers whose amounts do not sum to the option's.
    #[error("the transfers of {notice} add up to {transfers}, not {amount}")]
    TransfersDoNotAddUp {
        /// The option's notice number.
        notice: String,
        /// The option's amount.
        amount: Amount,
        /// The transfers' total.
        transfers: Amount,
    },
    /// Not an IUPD.
    #[error("`{0}` is not a debt position id (letters, digits, - _ *; up to 70)")]
    MalformedIupd(String),
    /// A position without options.
    #[error("a debt position needs at least one payment option")]
    NoPaymentOptions,
    /// Two single-payment options.
    #[error("a debt position has at most one single-payment option")]
    SeveralSingleOptions,
    /// An instalment plan of one instalment.
    #[error("an instalment plan needs at least two instalments")]
    LoneInstalment,
    /// The same notice number twice in a position.
    #[error("notice number {0} appears twice in the debt position")]
    DuplicateNotice(String),
    /// An option whose first transfer does not pay the position's creditor.
    #[error("the first transfer of {0} must pay the creditor that owns the position")]
    PrimaryTransferCreditor(String),
    /// An option due before the position becomes valid.
    #[error("option {0} is due before the position becomes valid")]
    DueBeforeValidity(String),
    /// Not a GPD status name.
    #[error("`{0}` is not a debt position status")]
    UnknownPositionStatus(String),
    /// An event the position's status does not allow.
    #[error("cannot {event} a debt position that is {from}")]
    IllegalPositionTransition {
        /// The status the position was in.
        from: PositionStatus,
        /// The refused event.
        event: &'static str,
    },
    /// A payment for a position that cannot be paid now.
    #[error("the debt position is {status} and cannot be paid")]
    NotPayable {
        /// The position's status.
        status: PositionStatus,
    },
    /// No option with this notice number.
    #[error("no payment option with notice number {0}")]
    UnknownNotice(String),
    /// The option has already been paid.
    #[error("notice {0} has already been paid")]
    OptionAlreadyPaid(String),
    /// A second, different receipt for a paid option.
    #[error("notice {0} has already been paid with another receipt")]
    DuplicatePayment(String),
    /// Paying an instalment after the single option, or the single option after an instalment.
    #[error("notice {0} cannot be paid: another way of paying this debt has already been used")]
    InstalmentConflict(String),
    /// A receipt for a different amount than the option's.
    #[error("the receipt is for {found}, but the notice is for {expected}")]
    AmountMismatch {
        /// The option's amount.
        expected: Amount,
        /// The receipt's amount.
        found: Amount,
    },
    /// An empty or too long receipt id.
    #[error("`{0}` is not a pagoPA receipt id")]
    MalformedReceiptId(String),
}

/// Keeps error messages short when the input is huge.
fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}
