//! Debt positions on the model of pagoPA's GPD (Gestione Posizioni Debitorie): a position owes
//! money through one or more payment options (a single payment and/or an instalment plan),
//! each with its own notice number, paid into up to five transfers.
//!
//! The status machine follows GPD's V1 semantics: positions are created in DRAFT, publishing
//! makes them PUBLISHED (or VALID at once when the validity date has come), the validity date
//! makes them VALID, payments make them PARTIALLY_PAID or PAID, reporting makes a PAID position
//! REPORTED; only VALID positions expire (and only when `switch_to_expired` is set), and only
//! PUBLISHED or VALID ones can be invalidated.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;

use super::transfer::MAX_TEXT_CHARS;
use super::{Amount, NoticeNumber, PaymentsError, Transfer, truncate};
use crate::calendar;
use crate::tenant::EntityFiscalCode;

/// Most transfers in one payment option (pagoPA `idTransfer` is 1..=5).
pub const MAX_TRANSFERS: usize = 5;
/// Longest IUPD we accept (GPD suggests `<creditor fiscal code>-<UUID>`: 48 characters).
const MAX_IUPD_CHARS: usize = 70;
/// Longest debtor identifier (`stText35`).
const MAX_DEBTOR_ID_CHARS: usize = 35;
/// Longest debtor name (`stText70`).
const MAX_DEBTOR_NAME_CHARS: usize = 70;
/// Longest receipt id (`stText35`).
const MAX_RECEIPT_ID_CHARS: usize = 35;

/// The status of a debt position (GPD names in [`PositionStatus::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionStatus {
    /// Being prepared; invisible to pagoPA.
    Draft,
    /// Published, but its validity date has not come yet: not payable.
    Published,
    /// Payable.
    Valid,
    /// Some instalments paid, others still payable.
    PartiallyPaid,
    /// Fully paid (one single option, or every instalment).
    Paid,
    /// Past its due date with `switch_to_expired` set: no longer payable.
    Expired,
    /// Withdrawn by the creditor.
    Invalid,
    /// Paid and reconciled with the PSPs' reporting flows.
    Reported,
}

impl PositionStatus {
    /// Every status, in GPD order.
    pub const ALL: [PositionStatus; 8] = [
        PositionStatus::Draft,
        PositionStatus::Published,
        PositionStatus::Valid,
        PositionStatus::PartiallyPaid,
        PositionStatus::Paid,
        PositionStatus::Expired,
        PositionStatus::Invalid,
        PositionStatus::Reported,
    ];

    /// The GPD name (`PARTIALLY_PAID`).
    pub fn as_str(self) -> &'static str {
        match self {
            PositionStatus::Draft => "DRAFT",
            PositionStatus::Published => "PUBLISHED",
            PositionStatus::Valid => "VALID",
            PositionStatus::PartiallyPaid => "PARTIALLY_PAID",
            PositionStatus::Paid => "PAID",
            PositionStatus::Expired => "EXPIRED",
            PositionStatus::Invalid => "INVALID",
            PositionStatus::Reported => "REPORTED",
        }
    }

    /// Parses a GPD name.
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| PaymentsError::UnknownPositionStatus(truncate(text)))
    }

    /// Whether pagoPA may take a payment for the position.
    pub fn is_payable(self) -> bool {
        matches!(self, PositionStatus::Valid | PositionStatus::PartiallyPaid)
    }

    /// Whether no event can change the status any more.
    pub fn is_final(self) -> bool {
        matches!(self, PositionStatus::Invalid | PositionStatus::Reported)
    }

    /// The status after `event`, or why the event is not allowed now. This is the whole status
    /// machine; [`DebtPosition`] decides which event applies (e.g. whether a payment settles it).
    pub fn apply(self, event: PositionEvent) -> Result<PositionStatus, PaymentsError> {
        use PositionStatus as S;
        let next = match (self, event) {
            (S::Draft, PositionEvent::Publish { valid_now: true })
            | (S::Published, PositionEvent::StartValidity) => S::Valid,
            (S::Draft, PositionEvent::Publish { valid_now: false }) => S::Published,
            (S::Valid | S::PartiallyPaid, PositionEvent::PayOption { settles: true }) => S::Paid,
            (S::Valid | S::PartiallyPaid, PositionEvent::PayOption { settles: false }) => S::PartiallyPaid,
            (S::Valid, PositionEvent::Expire) => S::Expired,
            (S::Published | S::Valid, PositionEvent::Invalidate) => S::Invalid,
            (S::Paid, PositionEvent::Report) => S::Reported,
            (_, PositionEvent::PayOption { .. }) => {
                return Err(PaymentsError::NotPayable { status: self });
            }
            _ => {
                return Err(PaymentsError::IllegalPositionTransition {
                    from: self,
                    event: event.name(),
                });
            }
        };
        Ok(next)
    }
}

impl fmt::Display for PositionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to a debt position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionEvent {
    /// The creditor publishes it; `valid_now` when its validity date is absent or past.
    Publish {
        /// Whether the position becomes payable at once.
        valid_now: bool,
    },
    /// Its validity date arrives.
    StartValidity,
    /// A receipt pays one option; `settles` when nothing else remains to pay.
    PayOption {
        /// Whether this payment completes the position.
        settles: bool,
    },
    /// Its last due date passes (positions with `switch_to_expired` only).
    Expire,
    /// The creditor withdraws it.
    Invalidate,
    /// The payment is reconciled with the PSP's reporting flow.
    Report,
}

impl PositionEvent {
    /// The event's name in messages and logs.
    pub fn name(self) -> &'static str {
        match self {
            PositionEvent::Publish { .. } => "publish",
            PositionEvent::StartValidity => "start validity",
            PositionEvent::PayOption { .. } => "pay",
            PositionEvent::Expire => "expire",
            PositionEvent::Invalidate => "invalidate",
            PositionEvent::Report => "report",
        }
    }
}

/// Whether an option is the whole debt at once or one instalment of the plan
/// (GPD's `isPartialPayment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionKind {
    /// Pays the whole position.
    Single,
    /// One instalment; the position is paid when every instalment is.
    Instalment,
}

/// A payment recorded from a pagoPA receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The receipt id of the pagoPA Node (`receiptId`): the idempotency key.
    pub receipt_id: String,
    /// Amount paid.
    pub amount: Amount,
    /// When it was paid.
    pub paid_at: Timestamp,
}

/// One way of paying a position, identified by its notice number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOption {
    kind: OptionKind,
    notice: NoticeNumber,
    amount: Amount,
    due_date: Date,
    description: String,
    transfers: Vec<Transfer>,
    payment: Option<Payment>,
}

impl PaymentOption {
    /// An unpaid option. The amount must be at least one cent and equal the sum of 1..=5
    /// transfers of at least one cent each; texts are 1..=140 characters.
    pub fn new(
        kind: OptionKind,
        notice: NoticeNumber,
        amount: Amount,
        due_date: Date,
        description: &str,
        transfers: Vec<Transfer>,
    ) -> Result<Self, PaymentsError> {
        if amount.is_zero() {
            return Err(PaymentsError::ZeroAmount);
        }
        check_text("description", description, MAX_TEXT_CHARS)?;
        if transfers.is_empty() || transfers.len() > MAX_TRANSFERS {
            return Err(PaymentsError::TransferCount(transfers.len()));
        }
        let mut total = Amount::ZERO;
        for transfer in &transfers {
            if transfer.amount.is_zero() {
                return Err(PaymentsError::ZeroAmount);
            }
            check_text("remittance information", &transfer.remittance, MAX_TEXT_CHARS)?;
            total = total
                .checked_add(transfer.amount)
                .ok_or(PaymentsError::AmountOutOfRange(String::from("sum of transfers")))?;
        }
        if total != amount {
            return Err(PaymentsError::TransfersDoNotAddUp {
                notice: notice.to_string(),
                amount,
                transfers: total,
            });
        }
        Ok(Self {
            kind,
            notice,
            amount,
            due_date,
            description: description.to_owned(),
            transfers,
            payment: None,
        })
    }

    /// Single payment or instalment.
    pub fn kind(&self) -> OptionKind {
        self.kind
    }

    /// The notice number.
    pub fn notice(&self) -> &NoticeNumber {
        &self.notice
    }

    /// The IUV (`creditorReferenceId`).
    pub fn iuv(&self) -> &str {
        self.notice.iuv()
    }

    /// The amount due.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// Last day to pay (a Europe/Rome calendar day).
    pub fn due_date(&self) -> Date {
        self.due_date
    }

    /// What is being paid, as shown to the payer.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The transfers, in `idTransfer` order.
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The recorded payment, once paid.
    pub fn payment(&self) -> Option<&Payment> {
        self.payment.as_ref()
    }

    /// Whether a payment has been recorded.
    pub fn is_paid(&self) -> bool {
        self.payment.is_some()
    }

    /// The option as stored, with the payment recorded earlier (if any). Storage keeps the
    /// receipt beside the option; this puts them back together without replaying the receipt.
    #[must_use]
    pub fn with_payment(mut self, payment: Option<Payment>) -> Self {
        self.payment = payment;
        self
    }
}

/// Natural or legal person (GPD `type` F / G).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebtorKind {
    /// A natural person (persona fisica).
    Natural,
    /// A legal person (persona giuridica).
    Legal,
}

/// Who owes the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    /// Natural or legal person.
    pub kind: DebtorKind,
    /// Fiscal code or VAT number (`ANONIMO` where pagoPA allows an unknown debtor).
    pub id: String,
    /// Name and surname, or company name.
    pub full_name: String,
}

/// What recording a receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The payment was recorded now; the position moved to `status`.
    Recorded {
        /// Status after the payment.
        status: PositionStatus,
    },
    /// The same receipt had already been recorded: nothing changed (pagoPA retries receipts).
    AlreadyRecorded {
        /// The unchanged status.
        status: PositionStatus,
    },
}

/// A debt position: who owes what to which creditor, and through which options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtPosition {
    iupd: String,
    creditor: EntityFiscalCode,
    debtor: Debtor,
    options: Vec<PaymentOption>,
    validity: Option<Timestamp>,
    switch_to_expired: bool,
    status: PositionStatus,
}

impl DebtPosition {
    /// A new position in DRAFT. Checks the invariants GPD checks at creation: at least one
    /// option; at most one single option; an instalment plan has at least two instalments;
    /// notice numbers unique; every option's first transfer pays the position's creditor; no
    /// due date before the validity date.
    pub fn new(
        iupd: &str,
        creditor: EntityFiscalCode,
        debtor: Debtor,
        options: Vec<PaymentOption>,
        validity: Option<Timestamp>,
        switch_to_expired: bool,
    ) -> Result<Self, PaymentsError> {
        let iupd_ok = !iupd.is_empty()
            && iupd.chars().count() <= MAX_IUPD_CHARS
            && iupd
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*'));
        if !iupd_ok {
            return Err(PaymentsError::MalformedIupd(truncate(iupd)));
        }
        check_text("debtor id", &debtor.id, MAX_DEBTOR_ID_CHARS)?;
        check_text("debtor name", &debtor.full_name, MAX_DEBTOR_NAME_CHARS)?;
        if options.is_empty() {
            return Err(PaymentsError::NoPaymentOptions);
        }
        let count = |kind| options.iter().filter(|o| o.kind == kind).count();
        if count(OptionKind::Single) > 1 {
            return Err(PaymentsError::SeveralSingleOptions);
        }
        if count(OptionKind::Instalment) == 1 {
            return Err(PaymentsError::LoneInstalment);
        }
        for (i, option) in options.iter().enumerate() {
            if options[..i].iter().any(|o| o.notice == option.notice) {
                return Err(PaymentsError::DuplicateNotice(option.notice.to_string()));
            }
            // pagoPA credits the first transfer to the creditor that owns the position; the
            // others may go to other creditors (multi-beneficiary payments).
            if option.transfers[0].creditor != creditor {
                return Err(PaymentsError::PrimaryTransferCreditor(option.notice.to_string()));
            }
            if let Some(validity) = validity
                && option.due_date < calendar::rome_date(validity)
            {
                return Err(PaymentsError::DueBeforeValidity(option.notice.to_string()));
            }
        }
        Ok(Self {
            iupd: iupd.to_owned(),
            creditor,
            debtor,
            options,
            validity,
            switch_to_expired,
            status: PositionStatus::Draft,
        })
    }

    /// A stored position: the same checks as [`DebtPosition::new`], then the stored status.
    /// Options carry their payments ([`PaymentOption::with_payment`]). A stored status that
    /// contradicts the payments (PAID with nothing paid, or an unpaid status with every option
    /// settled) is refused, so a corrupted row cannot be paid twice or lost.
    pub fn restore(
        iupd: &str,
        creditor: EntityFiscalCode,
        debtor: Debtor,
        options: Vec<PaymentOption>,
        validity: Option<Timestamp>,
        switch_to_expired: bool,
        status: PositionStatus,
    ) -> Result<Self, PaymentsError> {
        // "No due date before the validity date" is a creation rule: publishing sets the
        // validity to the publication instant, which may legitimately fall after a due date.
        let mut position = Self::new(iupd, creditor, debtor, options, None, switch_to_expired)?;
        position.validity = validity;
        let any_paid = position.options.iter().any(PaymentOption::is_paid);
        let paid_status = matches!(
            status,
            PositionStatus::Paid | PositionStatus::PartiallyPaid | PositionStatus::Reported
        );
        if any_paid != paid_status {
            return Err(PaymentsError::IllegalPositionTransition {
                from: status,
                event: "restore",
            });
        }
        position.status = status;
        Ok(position)
    }

    /// The unique position id (IUPD) chosen by the creditor.
    pub fn iupd(&self) -> &str {
        &self.iupd
    }

    /// The creditor institution.
    pub fn creditor(&self) -> &EntityFiscalCode {
        &self.creditor
    }

    /// The debtor.
    pub fn debtor(&self) -> &Debtor {
        &self.debtor
    }

    /// The payment options.
    pub fn options(&self) -> &[PaymentOption] {
        &self.options
    }

    /// When the position becomes payable (set to the publication instant when absent).
    pub fn validity(&self) -> Option<Timestamp> {
        self.validity
    }

    /// Whether the position expires after its last due date.
    pub fn switch_to_expired(&self) -> bool {
        self.switch_to_expired
    }

    /// The current status (as of the last [`DebtPosition::refresh`]).
    pub fn status(&self) -> PositionStatus {
        self.status
    }

    /// The option with this notice number.
    pub fn option(&self, notice: &NoticeNumber) -> Option<&PaymentOption> {
        self.options.iter().find(|o| &o.notice == notice)
    }

    /// The last due date of all options.
    pub fn last_due_date(&self) -> Date {
        self.options.iter().map(|o| o.due_date).max().unwrap_or(Date::MIN)
    }

    /// Publishes the position: VALID at once when its validity date is absent (it becomes
    /// `now`) or past, PUBLISHED otherwise.
    pub fn publish(&mut self, now: Timestamp) -> Result<PositionStatus, PaymentsError> {
        let valid_now = self.validity.is_none_or(|validity| validity <= now);
        self.status = self.status.apply(PositionEvent::Publish { valid_now })?;
        if self.validity.is_none() {
            self.validity = Some(now);
        }
        Ok(self.status)
    }

    /// Applies the transitions that time alone causes, as of `now`: PUBLISHED becomes VALID at
    /// the validity date; VALID becomes EXPIRED once the last due date (a whole Europe/Rome
    /// day) has passed, for positions with `switch_to_expired`. Returns the status.
    pub fn refresh(&mut self, now: Timestamp) -> PositionStatus {
        if self.status == PositionStatus::Published && self.validity.is_some_and(|v| v <= now) {
            self.status = PositionStatus::Valid;
        }
        if self.status == PositionStatus::Valid
            && self.switch_to_expired
            && calendar::rome_date(now) > self.last_due_date()
        {
            self.status = PositionStatus::Expired;
        }
        self.status
    }

    /// The option a payer may pay with this notice now (what pagoPA's verify asks), or why
    /// not: unknown notice, position not payable, option already paid, or an option that
    /// conflicts with one already paid (a single payment after an instalment, or vice versa).
    pub fn payable_option(&self, notice: &NoticeNumber) -> Result<&PaymentOption, PaymentsError> {
        let option = self
            .option(notice)
            .ok_or_else(|| PaymentsError::UnknownNotice(notice.to_string()))?;
        if option.is_paid() {
            return Err(PaymentsError::OptionAlreadyPaid(notice.to_string()));
        }
        if !self.status.is_payable() {
            return Err(PaymentsError::NotPayable { status: self.status });
        }
        let conflicting = self
            .options
            .iter()
            .any(|other| other.is_paid() && other.kind != option.kind);
        if conflicting {
            return Err(PaymentsError::InstalmentConflict(notice.to_string()));
        }
        Ok(option)
    }

    /// Records a pagoPA receipt for `notice`, after applying the time-based transitions as of
    /// `now`. A receipt already recorded (same receipt id and amount) is a no-op reported as
    /// [`PaymentOutcome::AlreadyRecorded`], because the Node retries `paSendRT`; a different
    /// receipt for a paid option is a duplicate payment and an error, so that it is refunded
    /// rather than silently swallowed.
    pub fn pay(
        &mut self,
        notice: &NoticeNumber,
        payment: Payment,
        now: Timestamp,
    ) -> Result<PaymentOutcome, PaymentsError> {
        if payment.receipt_id.is_empty() || payment.receipt_id.chars().count() > MAX_RECEIPT_ID_CHARS {
            return Err(PaymentsError::MalformedReceiptId(truncate(&payment.receipt_id)));
        }
        self.refresh(now);
        let index = self
            .options
            .iter()
            .position(|o| &o.notice == notice)
            .ok_or_else(|| PaymentsError::UnknownNotice(notice.to_string()))?;
        if let Some(recorded) = &self.options[index].payment {
            return if recorded.receipt_id == payment.receipt_id && recorded.amount == payment.amount {
                Ok(PaymentOutcome::AlreadyRecorded { status: self.status })
            } else {
                Err(PaymentsError::DuplicatePayment(notice.to_string()))
            };
        }
        let option = self.payable_option(notice)?;
        if payment.amount != option.amount {
            return Err(PaymentsError::AmountMismatch {
                expected: option.amount,
                found: payment.amount,
            });
        }
        let settles = option.kind == OptionKind::Single
            || self
                .options
                .iter()
                .enumerate()
                .all(|(i, o)| i == index || o.kind != OptionKind::Instalment || o.is_paid());
        self.status = self.status.apply(PositionEvent::PayOption { settles })?;
        self.options[index].payment = Some(payment);
        Ok(PaymentOutcome::Recorded { status: self.status })
    }

    /// Withdraws the position (only while PUBLISHED or VALID).
    pub fn invalidate(&mut self) -> Result<PositionStatus, PaymentsError> {
        self.status = self.status.apply(PositionEvent::Invalidate)?;
        Ok(self.status)
    }

    /// Marks a PAID position as reconciled with the PSPs' reporting.
    pub fn report(&mut self) -> Result<PositionStatus, PaymentsError> {
        self.status = self.status.apply(PositionEvent::Report)?;
        Ok(self.status)
    }
}

/// Rejects empty texts and texts longer than `max` characters.
fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), PaymentsError> {
    if text.trim().is_empty() || text.chars().count() > max {
        Err(PaymentsError::TextLength { field, max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::super::{Iban, SegregationCode, TaxonomyCategory, TransferTarget};
    use super::*;

    const GENOVA: &str = "00856930102";
    const ARENZANO: &str = "00449500107";

    fn cf(text: &str) -> EntityFiscalCode {
        EntityFiscalCode::parse(text).unwrap()
    }

    fn cents(value: i64) -> Amount {
        Amount::from_cents(value).unwrap()
    }

    fn notice(base: u64) -> NoticeNumber {
        NoticeNumber::generate(SegregationCode::new(2).unwrap(), base).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn transfer(creditor: &str, amount: i64) -> Transfer {
        Transfer {
            amount: cents(amount),
            creditor: cf(creditor),
            remittance: "Diritti di segreteria".into(),
            category: TaxonomyCategory::parse("9/0101108TS/").unwrap(),
            target: TransferTarget::Iban {
                iban: Iban::parse("IT60X0542811101000000123456").unwrap(),
                postal_iban: None,
            },
        }
    }

    fn option(kind: OptionKind, base: u64, amount: i64, due: Date) -> PaymentOption {
        PaymentOption::new(
            kind,
            notice(base),
            cents(amount),
            due,
            "Permesso di costruire",
            vec![transfer(GENOVA, amount)],
        )
        .unwrap()
    }

    fn debtor() -> Debtor {
        Debtor {
            kind: DebtorKind::Natural,
            id: "RSSMRA85T10A562S".into(),
            full_name: "Mario Rossi".into(),
        }
    }

    fn position(options: Vec<PaymentOption>, switch_to_expired: bool) -> DebtPosition {
        DebtPosition::new(
            "00856930102-0001",
            cf(GENOVA),
            debtor(),
            options,
            None,
            switch_to_expired,
        )
        .unwrap()
    }

    fn receipt(id: &str, amount: i64) -> Payment {
        Payment {
            receipt_id: id.into(),
            amount: cents(amount),
            paid_at: at("2026-05-02T10:00:00Z"),
        }
    }

    #[test]
    fn transfers_must_add_up_to_the_option() {
        let split = PaymentOption::new(
            OptionKind::Single,
            notice(1),
            cents(3000),
            date(2026, 12, 31),
            "Diritti",
            vec![transfer(GENOVA, 2000), transfer(ARENZANO, 1000)],
        )
        .unwrap();
        assert_eq!(split.transfers().len(), 2);
        assert_eq!(split.iuv(), notice(1).iuv());
        let wrong = PaymentOption::new(
            OptionKind::Single,
            notice(1),
            cents(3000),
            date(2026, 12, 31),
            "Diritti",
            vec![transfer(GENOVA, 2000), transfer(ARENZANO, 999)],
        );
        assert_eq!(
            wrong,
            Err(PaymentsError::TransfersDoNotAddUp {
                notice: notice(1).to_string(),
                amount: cents(3000),
                transfers: cents(2999)
            })
        );
    }

    #[test]
    fn options_have_one_to_five_transfers_of_at_least_a_cent() {
        let make = |transfers: Vec<Transfer>, amount| {
            PaymentOption::new(
                OptionKind::Single,
                notice(1),
                cents(amount),
                date(2026, 12, 31),
                "x",
                transfers,
            )
        };
        assert_eq!(make(vec![], 0), Err(PaymentsError::ZeroAmount));
        assert_eq!(make(vec![], 100), Err(PaymentsError::TransferCount(0)));
        assert_eq!(
            make(vec![transfer(GENOVA, 1); 6], 6),
            Err(PaymentsError::TransferCount(6))
        );
        assert!(make(vec![transfer(GENOVA, 1); 5], 5).is_ok());
        assert_eq!(
            make(vec![transfer(GENOVA, 0), transfer(GENOVA, 1)], 1),
            Err(PaymentsError::ZeroAmount)
        );
        let mut long = transfer(GENOVA, 1);
        long.remittance = "x".repeat(141);
        assert!(matches!(
            make(vec![long], 1),
            Err(PaymentsError::TextLength { .. })
        ));
        assert!(matches!(
            PaymentOption::new(
                OptionKind::Single,
                notice(1),
                cents(1),
                date(2026, 1, 1),
                " ",
                vec![transfer(GENOVA, 1)]
            ),
            Err(PaymentsError::TextLength {
                field: "description",
                ..
            })
        ));
    }

    #[test]
    fn positions_check_their_structure() {
        let due = date(2026, 12, 31);
        let new =
            |options, validity| DebtPosition::new("iupd-1", cf(GENOVA), debtor(), options, validity, false);
        assert_eq!(new(vec![], None), Err(PaymentsError::NoPaymentOptions));
        assert_eq!(
            new(
                vec![
                    option(OptionKind::Single, 1, 100, due),
                    option(OptionKind::Single, 2, 100, due)
                ],
                None
            ),
            Err(PaymentsError::SeveralSingleOptions)
        );
        assert_eq!(
            new(
                vec![
                    option(OptionKind::Single, 1, 100, due),
                    option(OptionKind::Instalment, 2, 100, due)
                ],
                None
            ),
            Err(PaymentsError::LoneInstalment)
        );
        assert_eq!(
            new(
                vec![
                    option(OptionKind::Instalment, 1, 100, due),
                    option(OptionKind::Instalment, 1, 100, due)
                ],
                None
            ),
            Err(PaymentsError::DuplicateNotice(notice(1).to_string()))
        );
        let foreign = PaymentOption::new(
            OptionKind::Single,
            notice(1),
            cents(100),
            due,
            "x",
            vec![transfer(ARENZANO, 100)],
        )
        .unwrap();
        assert_eq!(
            new(vec![foreign], None),
            Err(PaymentsError::PrimaryTransferCreditor(notice(1).to_string()))
        );
        assert_eq!(
            new(
                vec![option(OptionKind::Single, 1, 100, due)],
                Some(at("2027-01-01T10:00:00Z"))
            ),
            Err(PaymentsError::DueBeforeValidity(notice(1).to_string()))
        );
        // Due on the (Rome) day of validity is fine: 22:59 UTC is still 31 December in Rome.
        assert!(
            new(
                vec![option(OptionKind::Single, 1, 100, due)],
                Some(at("2026-12-31T22:59:00Z"))
            )
            .is_ok()
        );
        assert_eq!(
            new(
                vec![option(OptionKind::Single, 1, 100, due)],
                Some(at("2026-12-31T23:00:00Z"))
            ),
            Err(PaymentsError::DueBeforeValidity(notice(1).to_string()))
        );
        for bad in ["", "has space", "ü", &"x".repeat(71)] {
            assert!(
                matches!(
                    DebtPosition::new(
                        bad,
                        cf(GENOVA),
                        debtor(),
                        vec![option(OptionKind::Single, 1, 100, due)],
                        None,
                        false
                    ),
                    Err(PaymentsError::MalformedIupd(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn publishing_depends_on_the_validity_date() {
        let due = date(2026, 12, 31);
        let now = at("2026-05-01T08:00:00Z");
        let mut immediate = position(vec![option(OptionKind::Single, 1, 3000, due)], false);
        assert_eq!(immediate.publish(now), Ok(PositionStatus::Valid));
        assert_eq!(immediate.validity(), Some(now));
        assert!(matches!(
            immediate.publish(now),
            Err(PaymentsError::IllegalPositionTransition {
                from: PositionStatus::Valid,
                event: "publish"
            })
        ));

        let later = at("2026-06-01T00:00:00Z");
        let mut scheduled = DebtPosition::new(
            "iupd-2",
            cf(GENOVA),
            debtor(),
            vec![option(OptionKind::Single, 1, 3000, due)],
            Some(later),
            false,
        )
        .unwrap();
        assert_eq!(scheduled.publish(now), Ok(PositionStatus::Published));
        assert!(matches!(
            scheduled.payable_option(&notice(1)),
            Err(PaymentsError::NotPayable {
                status: PositionStatus::Published
            })
        ));
        assert_eq!(
            scheduled.refresh(at("2026-05-31T23:59:59Z")),
            PositionStatus::Published
        );
        assert_eq!(scheduled.refresh(later), PositionStatus::Valid);
    }

    #[test]
    fn a_single_payment_pays_the_position_once() {
        let mut position = position(
            vec![option(OptionKind::Single, 1, 3000, date(2026, 12, 31))],
            false,
        );
        let now = at("2026-05-02T10:00:00Z");
        position.publish(at("2026-05-01T08:00:00Z")).unwrap();
        assert_eq!(position.payable_option(&notice(1)).unwrap().amount(), cents(3000));
        assert_eq!(
            position.pay(&notice(1), receipt("r1", 3000), now),
            Ok(PaymentOutcome::Recorded {
                status: PositionStatus::Paid
            })
        );
        assert_eq!(
            position.option(&notice(1)).unwrap().payment().unwrap().receipt_id,
            "r1"
        );
        // The Node retries paSendRT: the same receipt is a distinguishable no-op.
        assert_eq!(
            position.pay(&notice(1), receipt("r1", 3000), now),
            Ok(PaymentOutcome::AlreadyRecorded {
                status: PositionStatus::Paid
            })
        );
        // A second, different receipt is real money paid twice.
        assert_eq!(
            position.pay(&notice(1), receipt("r2", 3000), now),
            Err(PaymentsError::DuplicatePayment(notice(1).to_string()))
        );
        assert_eq!(
            position.payable_option(&notice(1)),
            Err(PaymentsError::OptionAlreadyPaid(notice(1).to_string()))
        );
        assert_eq!(position.report(), Ok(PositionStatus::Reported));
        assert!(position.status().is_final());
    }

    #[test]
    fn receipts_are_checked_against_the_option() {
        let mut position = position(
            vec![option(OptionKind::Single, 1, 3000, date(2026, 12, 31))],
            false,
        );
        let now = at("2026-05-02T10:00:00Z");
        assert!(matches!(
            position.pay(&notice(1), receipt("r1", 3000), now),
            Err(PaymentsError::NotPayable {
                status: PositionStatus::Draft
            })
        ));
        position.publish(at("2026-05-01T08:00:00Z")).unwrap();
        assert_eq!(
            position.pay(&notice(9), receipt("r1", 3000), now),
            Err(PaymentsError::UnknownNotice(notice(9).to_string()))
        );
        assert_eq!(
            position.pay(&notice(1), receipt("r1", 2999), now),
            Err(PaymentsError::AmountMismatch {
                expected: cents(3000),
                found: cents(2999)
            })
        );
        assert!(matches!(
            position.pay(&notice(1), receipt("", 3000), now),
            Err(PaymentsError::MalformedReceiptId(_))
        ));
        assert_eq!(position.status(), PositionStatus::Valid);
        assert!(!position.option(&notice(1)).unwrap().is_paid());
    }

    #[test]
    fn instalments_pay_the_position_partially_then_fully() {
        let due = date(2026, 12, 31);
        let mut position = position(
            vec![
                option(OptionKind::Single, 1, 3000, due),
                option(OptionKind::Instalment, 2, 1500, date(2026, 6, 30)),
                option(OptionKind::Instalment, 3, 1500, due),
            ],
            false,
        );
        let now = at("2026-05-02T10:00:00Z");
        position.publish(at("2026-05-01T08:00:00Z")).unwrap();
        assert_eq!(
            position.pay(&notice(3), receipt("r3", 1500), now),
            Ok(PaymentOutcome::Recorded {
                status: PositionStatus::PartiallyPaid
            })
        );
        // Once the plan has started, the single payment would pay twice.
        assert_eq!(
            position.pay(&notice(1), receipt("r1", 3000), now),
            Err(PaymentsError::InstalmentConflict(notice(1).to_string()))
        );
        assert_eq!(
            position.pay(&notice(2), receipt("r2", 1500), now),
            Ok(PaymentOutcome::Recorded {
                status: PositionStatus::Paid
            })
        );
        assert!(matches!(
            position.invalidate(),
            Err(PaymentsError::IllegalPositionTransition { .. })
        ));
    }

    #[test]
    fn a_single_payment_closes_an_unstarted_plan() {
        let due = date(2026, 12, 31);
        let mut position = position(
            vec![
                option(OptionKind::Single, 1, 2900, due),
                option(OptionKind::Instalment, 2, 1500, due),
                option(OptionKind::Instalment, 3, 1500, due),
            ],
            false,
        );
        let now = at("2026-05-02T10:00:00Z");
        position.publish(now).unwrap();
        assert_eq!(
            position.pay(&notice(1), receipt("r1", 2900), now),
            Ok(PaymentOutcome::Recorded {
                status: PositionStatus::Paid
            })
        );
        assert_eq!(
            position.payable_option(&notice(2)),
            Err(PaymentsError::NotPayable {
                status: PositionStatus::Paid
            })
        );
    }

    #[test]
    fn positions_expire_after_the_last_rome_day_only_when_asked() {
        let due = date(2026, 10, 25); // the 25-hour day of the DST change
        let mut expiring = position(vec![option(OptionKind::Single, 1, 3000, due)], true);
        expiring.publish(at("2026-05-01T08:00:00Z")).unwrap();
        // 25 October ends at 23:00 UTC in Rome.
        assert_eq!(
            expiring.refresh(at("2026-10-25T22:59:59Z")),
            PositionStatus::Valid
        );
        assert_eq!(
            expiring.pay(&notice(1), receipt("r1", 3000), at("2026-10-25T23:00:00Z")),
            Err(PaymentsError::NotPayable {
                status: PositionStatus::Expired
            })
        );
        assert!(matches!(
            expiring.invalidate(),
            Err(PaymentsError::IllegalPositionTransition { .. })
        ));

        let mut lasting = position(vec![option(OptionKind::Single, 1, 3000, due)], false);
        lasting.publish(at("2026-05-01T08:00:00Z")).unwrap();
        assert_eq!(lasting.refresh(at("2027-01-01T00:00:00Z")), PositionStatus::Valid);
        assert_eq!(lasting.invalidate(), Ok(PositionStatus::Invalid));
        assert!(matches!(
            lasting.pay(&notice(1), receipt("r1", 3000), at("2027-01-01T00:00:00Z")),
            Err(PaymentsError::NotPayable {
                status: PositionStatus::Invalid
            })
        ));
    }

    #[test]
    fn partially_paid_positions_do_not_expire() {
        let mut position = position(
            vec![
                option(OptionKind::Instalment, 2, 1500, date(2026, 6, 30)),
                option(OptionKind::Instalment, 3, 1500, date(2026, 7, 31)),
            ],
            true,
        );
        position.publish(at("2026-05-01T08:00:00Z")).unwrap();
        position
            .pay(&notice(2), receipt("r2", 1500), at("2026-06-01T08:00:00Z"))
            .unwrap();
        assert_eq!(
            position.refresh(at("2026-12-01T08:00:00Z")),
            PositionStatus::PartiallyPaid
        );
    }

    /// The GPD status machine written as a table, independently of `apply`'s match.
    fn expected(from: PositionStatus, event: PositionEvent) -> Option<PositionStatus> {
        use PositionEvent as E;
        use PositionStatus as S;
        let allowed: &[(S, E, S)] = &[
            (S::Draft, E::Publish { valid_now: true }, S::Valid),
            (S::Draft, E::Publish { valid_now: false }, S::Published),
            (S::Published, E::StartValidity, S::Valid),
            (S::Published, E::Invalidate, S::Invalid),
            (S::Valid, E::Invalidate, S::Invalid),
            (S::Valid, E::Expire, S::Expired),
            (S::Valid, E::PayOption { settles: true }, S::Paid),
            (S::Valid, E::PayOption { settles: false }, S::PartiallyPaid),
            (S::PartiallyPaid, E::PayOption { settles: true }, S::Paid),
            (
                S::PartiallyPaid,
                E::PayOption { settles: false },
                S::PartiallyPaid,
            ),
            (S::Paid, E::Report, S::Reported),
        ];
        allowed
            .iter()
            .find(|(f, e, _)| *f == from && *e == event)
            .map(|(_, _, to)| *to)
    }

    fn any_status() -> impl Strategy<Value = PositionStatus> {
        proptest::sample::select(PositionStatus::ALL.to_vec())
    }

    fn any_event() -> impl Strategy<Value = PositionEvent> {
        prop_oneof![
            any::<bool>().prop_map(|valid_now| PositionEvent::Publish { valid_now }),
            Just(PositionEvent::StartValidity),
            any::<bool>().prop_map(|settles| PositionEvent::PayOption { settles }),
            Just(PositionEvent::Expire),
            Just(PositionEvent::Invalidate),
            Just(PositionEvent::Report),
        ]
    }

    #[test]
    fn status_names_round_trip() {
        for status in PositionStatus::ALL {
            assert_eq!(PositionStatus::parse(status.as_str()), Ok(status));
        }
        assert!(PositionStatus::parse("valid").is_err());
    }

    proptest! {
        #[test]
        fn no_illegal_position_transition_is_accepted(from in any_status(), event in any_event()) {
            prop_assert_eq!(from.apply(event).ok(), expected(from, event));
            if from.is_final() {
                prop_assert!(from.apply(event).is_err());
            }
        }

        /// Any sequence of publish, time passing, payments and invalidation keeps the position
        /// consistent: PAID iff every instalment or the single option is paid, never both kinds.
        #[test]
        fn payment_sequences_keep_the_position_consistent(
            steps in proptest::collection::vec((0_u8..4, 1_u64..=4, any::<bool>()), 0..12),
        ) {
            let due = date(2026, 12, 31);
            let mut position = position(
                vec![
                    option(OptionKind::Single, 1, 2900, due),
                    option(OptionKind::Instalment, 2, 1000, due),
                    option(OptionKind::Instalment, 3, 1000, due),
                    option(OptionKind::Instalment, 4, 1000, due),
                ],
                false,
            );
            let now = at("2026-05-02T10:00:00Z");
            for (action, which, same_receipt) in steps {
                let before = position.clone();
                let amount = if which == 1 { 2900 } else { 1000 };
                let receipt_id = if same_receipt { format!("r{which}") } else { format!("x{which}") };
                let result = match action {
                    0 => position.publish(now).map(|_| ()),
                    1 => position.invalidate().map(|_| ()),
                    _ => position.pay(&notice(which), receipt(&receipt_id, amount), now).map(|_| ()),
                };
                if result.is_err() {
                    prop_assert_eq!(&position, &before, "a failed step changed the position");
                }
                let paid_single = position.options()[0].is_paid();
                let paid_instalments = position.options()[1..].iter().filter(|o| o.is_paid()).count();
                prop_assert!(!(paid_single && paid_instalments > 0));
                let settled = paid_single || paid_instalments == 3;
                prop_assert_eq!(position.status() == PositionStatus::Paid, settled);
                prop_assert_eq!(position.status() == PositionStatus::PartiallyPaid, !settled && paid_instalments > 0);
            }
        }
    }

    #[test]
    fn restored_positions_keep_status_and_payments() {
        let due = date(2026, 12, 31);
        let paid = option(OptionKind::Single, 1, 3000, due).with_payment(Some(receipt("r1", 3000)));
        let mut restored = DebtPosition::restore(
            "iupd-9",
            cf(GENOVA),
            debtor(),
            vec![paid.clone()],
            None,
            false,
            PositionStatus::Paid,
        )
        .unwrap();
        assert_eq!(restored.status(), PositionStatus::Paid);
        // The Node retrying the same receipt after a restart is still a no-op.
        assert_eq!(
            restored.pay(&notice(1), receipt("r1", 3000), at("2026-05-03T10:00:00Z")),
            Ok(PaymentOutcome::AlreadyRecorded {
                status: PositionStatus::Paid
            })
        );
        assert!(matches!(
            DebtPosition::restore(
                "iupd-9",
                cf(GENOVA),
                debtor(),
                vec![paid],
                None,
                false,
                PositionStatus::Valid
            ),
            Err(PaymentsError::IllegalPositionTransition { event: "restore", .. })
        ));
        assert!(matches!(
            DebtPosition::restore(
                "iupd-9",
                cf(GENOVA),
                debtor(),
                vec![option(OptionKind::Single, 1, 3000, due)],
                None,
                false,
                PositionStatus::Paid
            ),
            Err(PaymentsError::IllegalPositionTransition { event: "restore", .. })
        ));
    }
}
