//! Positions and notices as the API shows them.

use sportello_core::api;
use sportello_core::payments::NoticeNumber;

use super::Payments;
use super::store::{OptionRow, StoredPosition};

impl Payments {
    pub(super) fn notice_api(row: &OptionRow) -> api::PaymentNotice {
        let printed = NoticeNumber::parse(&row.notice_number)
            .map_or_else(|_| row.notice_number.clone(), |n| n.printed());
        api::PaymentNotice {
            id: row.id.clone(),
            notice_number: row.notice_number.clone(),
            notice_printed: printed,
            iuv: row.iuv.clone(),
            qr_payload: format!(
                "PAGOPA|002|{}|{}|{}",
                row.notice_number, row.creditor, row.amount_cents
            ),
            amount_cents: row.amount_cents,
            due_date: row.due_date.clone(),
            description: row.description.clone(),
            instalment: row.instalment,
            paid_at: row.paid_at.map(crate::clock::rfc3339_from_ms),
            receipt_id: row.receipt_id.clone(),
        }
    }

    /// The operators' view of a stored position.
    pub fn to_api(&self, stored: &StoredPosition) -> api::PaymentPosition {
        let p = &stored.position;
        api::PaymentPosition {
            id: p.id.clone(),
            municipality: p.municipality.clone(),
            creditor_fiscal_code: p.creditor.clone(),
            iupd: p.iupd.clone(),
            status: p.status.clone(),
            debtor: api::PaymentDebtor {
                kind: p.debtor_kind.clone(),
                fiscal_code: p.debtor_id.clone(),
                full_name: p.debtor_name.clone(),
            },
            description: p.description.clone(),
            options: stored.options.iter().map(Self::notice_api).collect(),
            origin: p
                .origin_kind
                .as_ref()
                .map(|kind| format!("{kind}:{}", p.origin_id.as_deref().unwrap_or_default())),
            created_at: crate::clock::rfc3339_from_ms(p.created_at),
        }
    }
}
