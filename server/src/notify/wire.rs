//! The notifications context's records as the API shows them.

use sportello_core::api;

use super::store;
use crate::clock::rfc3339_from_ms;

/// A device as its owner sees it: a label (the push service's host, or the last characters of
/// the token) instead of the address itself.
pub(super) fn device(device: store::Device) -> api::Device {
    let label = if device.kind == "webpush" {
        url::Url::parse(&device.address)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        let tail: String = device
            .address
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    };
    api::Device {
        id: device.id,
        kind: device.kind,
        label,
        created_at: rfc3339_from_ms(device.created_at),
    }
}

/// An inbox message, with the payment data when it announces a notice.
pub(super) fn message(message: store::Message) -> api::InboxMessage {
    let payment = match (
        message.payment_notice,
        message.payment_amount_cents,
        message.payment_creditor,
    ) {
        (Some(notice_number), Some(amount_cents), Some(creditor_fiscal_code)) => Some(api::PaymentData {
            notice_number,
            amount_cents,
            creditor_fiscal_code,
        }),
        _ => None,
    };
    api::InboxMessage {
        id: message.id,
        topic: message.topic,
        subject: message.subject,
        body: message.body,
        municipality: message.municipality,
        due_date: message.due_date,
        payment,
        created_at: rfc3339_from_ms(message.created_at),
        read: message.read_at.is_some(),
    }
}
