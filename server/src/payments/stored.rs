//! Stored rows and core's debt positions: the rows of a new position, and the position of
//! stored rows (every invariant re-checked).

use jiff::Timestamp;
use jiff::civil::Date;
use sportello_core::payments::{
    Amount, DebtPosition, Debtor, DebtorKind, DigitalStamp, Iban, NoticeNumber, OptionKind, Payment,
    PaymentOption, PaymentsError, PositionStatus, TaxonomyCategory, Transfer, TransferTarget,
};
use sportello_core::tenant::EntityFiscalCode;

use super::Origin;
use super::store::{OptionRow, PositionRow, StoredPosition, TransferRow};

/// The rows of a new position.
pub(super) fn from_domain(
    id: &str,
    municipality: &str,
    position: &DebtPosition,
    created_by: &str,
    origin: Option<&Origin>,
    now: i64,
) -> StoredPosition {
    let creditor = position.creditor().as_str().to_owned();
    let mut options = Vec::new();
    let mut transfers = Vec::new();
    for option in position.options() {
        options.push(OptionRow {
            creditor: creditor.clone(),
            notice_number: option.notice().as_str().to_owned(),
            id: uuid::Uuid::now_v7().to_string(),
            position_id: id.to_owned(),
            iuv: option.iuv().to_owned(),
            instalment: option.kind() == OptionKind::Instalment,
            amount_cents: option.amount().cents(),
            due_date: option.due_date().to_string(),
            description: option.description().to_owned(),
            receipt_id: None,
            paid_cents: None,
            paid_at: None,
        });
        for (i, transfer) in option.transfers().iter().enumerate() {
            let (iban, postal_iban, stamp) = match &transfer.target {
                TransferTarget::Iban { iban, postal_iban } => (
                    Some(iban.as_str().to_owned()),
                    postal_iban.as_ref().map(|p| p.as_str().to_owned()),
                    None,
                ),
                TransferTarget::Stamp(stamp) => (None, None, Some(stamp)),
            };
            transfers.push(TransferRow {
                creditor: creditor.clone(),
                notice_number: option.notice().as_str().to_owned(),
                id_transfer: i64::try_from(i + 1).unwrap_or(1),
                amount_cents: transfer.amount.cents(),
                fiscal_code: transfer.creditor.as_str().to_owned(),
                remittance: transfer.remittance.clone(),
                category: transfer.category.as_str().to_owned(),
                iban,
                postal_iban,
                stamp_hash: stamp.map(|s| s.document_hash().to_owned()),
                stamp_type: stamp.map(|s| s.stamp_type().to_owned()),
                stamp_province: stamp.map(|s| s.province().to_owned()),
            });
        }
    }
    StoredPosition {
        position: PositionRow {
            id: id.to_owned(),
            municipality: municipality.to_owned(),
            creditor,
            iupd: position.iupd().to_owned(),
            status: position.status().as_str().to_owned(),
            debtor_kind: match position.debtor().kind {
                DebtorKind::Natural => "F".to_owned(),
                DebtorKind::Legal => "G".to_owned(),
            },
            debtor_id: position.debtor().id.clone(),
            debtor_name: position.debtor().full_name.clone(),
            description: position
                .options()
                .first()
                .map(|o| o.description().to_owned())
                .unwrap_or_default(),
            valid_from: position.validity().map(Timestamp::as_millisecond),
            switch_to_expired: position.switch_to_expired(),
            origin_kind: origin.map(|o| o.kind.clone()),
            origin_id: origin.map(|o| o.id.clone()),
            created_by: created_by.to_owned(),
            created_at: now,
        },
        options,
        transfers,
    }
}

/// The core position of stored rows (every invariant re-checked).
pub fn to_domain(stored: &StoredPosition) -> Result<DebtPosition, PaymentsError> {
    let p = &stored.position;
    let creditor = EntityFiscalCode::parse(&p.creditor)?;
    let mut options = Vec::with_capacity(stored.options.len());
    for row in &stored.options {
        let notice = NoticeNumber::parse(&row.notice_number)?;
        let transfers = stored
            .transfers
            .iter()
            .filter(|t| t.notice_number == row.notice_number)
            .map(transfer_to_domain)
            .collect::<Result<Vec<_>, _>>()?;
        let due = row
            .due_date
            .parse::<Date>()
            .map_err(|_| PaymentsError::MalformedAmount(format!("due date {}", row.due_date)))?;
        let kind = if row.instalment {
            OptionKind::Instalment
        } else {
            OptionKind::Single
        };
        let payment = match (&row.receipt_id, row.paid_cents, row.paid_at) {
            (Some(receipt_id), Some(cents), Some(at)) => Some(Payment {
                receipt_id: receipt_id.clone(),
                amount: Amount::from_cents(cents)?,
                paid_at: Timestamp::from_millisecond(at).unwrap_or(Timestamp::UNIX_EPOCH),
            }),
            _ => None,
        };
        options.push(
            PaymentOption::new(
                kind,
                notice,
                Amount::from_cents(row.amount_cents)?,
                due,
                &row.description,
                transfers,
            )?
            .with_payment(payment),
        );
    }
    let debtor = Debtor {
        kind: if p.debtor_kind == "G" {
            DebtorKind::Legal
        } else {
            DebtorKind::Natural
        },
        id: p.debtor_id.clone(),
        full_name: p.debtor_name.clone(),
    };
    DebtPosition::restore(
        &p.iupd,
        creditor,
        debtor,
        options,
        p.valid_from.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        p.switch_to_expired,
        PositionStatus::parse(&p.status)?,
    )
}

fn transfer_to_domain(row: &TransferRow) -> Result<Transfer, PaymentsError> {
    let target = match (&row.iban, &row.stamp_hash) {
        (Some(iban), _) => TransferTarget::Iban {
            iban: Iban::parse(iban)?,
            postal_iban: row.postal_iban.as_deref().map(Iban::parse).transpose()?,
        },
        (None, Some(hash)) => TransferTarget::Stamp(DigitalStamp::new(
            hash,
            row.stamp_type.as_deref().unwrap_or_default(),
            row.stamp_province.as_deref().unwrap_or_default(),
        )?),
        (None, None) => return Err(PaymentsError::MalformedIban(String::new())),
    };
    Ok(Transfer {
        amount: Amount::from_cents(row.amount_cents)?,
        creditor: EntityFiscalCode::parse(&row.fiscal_code)?,
        remittance: row.remittance.clone(),
        category: TaxonomyCategory::parse(&row.category)?,
        target,
    })
}
