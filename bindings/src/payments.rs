//! Payments on pagoPA: the person's notices (due, paid, expired), receipts, verifying a scanned
//! notice, and reading notice numbers and QR codes on the device (core's parsers, so a mistyped
//! digit is caught before any network call).

use reqwest::Method;
use sportello_core::api;
use sportello_core::payments::{Amount, NoticeNumber, QrPayload};
use sportello_core::tenant::EntityFiscalCode;

use crate::client::SportelloClient;
use crate::error::SportelloError;

/// Where a notice stands for the person who owes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PaymentState {
    /// To pay.
    Due,
    /// Paid; the receipt can be downloaded.
    Paid,
    /// Past its due date and no longer payable.
    Expired,
    /// Withdrawn by the municipality.
    Cancelled,
}

/// One of the person's notices. Not `api::MyPayment`: flat (the notice's fields beside the
/// creditor's), with its state as a `PaymentState`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyPayment {
    /// Id (for the receipt download).
    pub id: String,
    /// Notice number, 18 digits.
    pub notice_number: String,
    /// Notice number in groups of four, as printed.
    pub notice_printed: String,
    /// IUV.
    pub iuv: String,
    /// The QR code payload to show (`PAGOPA|002|…`).
    pub qr_payload: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD`.
    pub due_date: String,
    /// What is paid.
    pub description: String,
    /// Whether this is one instalment of a plan.
    pub instalment: bool,
    /// Due, paid, expired or cancelled.
    pub state: PaymentState,
    /// RFC 3339, once paid.
    pub paid_at: Option<String>,
    /// Creditor fiscal code.
    pub creditor_fiscal_code: String,
    /// Creditor name.
    pub creditor_name: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
}

/// A notice read on the device from a typed number or a scanned QR code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScannedNotice {
    /// Notice number, 18 digits.
    pub notice_number: String,
    /// Printed form.
    pub notice_printed: String,
    /// IUV.
    pub iuv: String,
    /// Creditor fiscal code (QR codes carry it).
    pub creditor_fiscal_code: Option<String>,
    /// Amount in cents (QR codes carry it).
    pub amount_cents: Option<i64>,
}

/// Reads a typed notice number (spaces allowed) or a scanned pagoPA QR payload; check digits
/// are verified, so a mistyped digit is reported here.
#[uniffi::export]
pub fn parse_payment_code(text: &str) -> Result<ScannedNotice, SportelloError> {
    let trimmed = text.trim();
    if trimmed.to_ascii_uppercase().starts_with("PAGOPA|") {
        let qr = QrPayload::parse(trimmed).map_err(|e| SportelloError::invalid("code", &e))?;
        Ok(ScannedNotice {
            notice_number: qr.notice().as_str().to_owned(),
            notice_printed: qr.notice().printed(),
            iuv: qr.notice().iuv().to_owned(),
            creditor_fiscal_code: Some(qr.creditor().as_str().to_owned()),
            amount_cents: Some(qr.amount().cents()),
        })
    } else {
        let notice = NoticeNumber::parse(trimmed).map_err(|e| SportelloError::invalid("code", &e))?;
        Ok(ScannedNotice {
            notice_number: notice.as_str().to_owned(),
            notice_printed: notice.printed(),
            iuv: notice.iuv().to_owned(),
            creditor_fiscal_code: None,
            amount_cents: None,
        })
    }
}

/// The QR payload for a notice (to show it on screen for a PSP to scan).
#[uniffi::export]
pub fn payment_qr_payload(
    notice_number: &str,
    creditor_fiscal_code: &str,
    amount_cents: i64,
) -> Result<String, SportelloError> {
    let notice =
        NoticeNumber::parse(notice_number).map_err(|e| SportelloError::invalid("notice_number", &e))?;
    let creditor = EntityFiscalCode::parse(creditor_fiscal_code)
        .map_err(|e| SportelloError::invalid("creditor_fiscal_code", &e))?;
    let amount = Amount::from_cents(amount_cents).map_err(|e| SportelloError::invalid("amount_cents", &e))?;
    QrPayload::new(notice, creditor, amount)
        .map(|qr| qr.to_string())
        .map_err(|e| SportelloError::invalid("amount_cents", &e))
}

fn state(text: &str) -> PaymentState {
    match text {
        "paid" => PaymentState::Paid,
        "expired" => PaymentState::Expired,
        "cancelled" => PaymentState::Cancelled,
        _ => PaymentState::Due,
    }
}

impl From<api::MyPayment> for MyPayment {
    fn from(p: api::MyPayment) -> Self {
        Self {
            id: p.notice.id,
            notice_number: p.notice.notice_number,
            notice_printed: p.notice.notice_printed,
            iuv: p.notice.iuv,
            qr_payload: p.notice.qr_payload,
            amount_cents: p.notice.amount_cents,
            due_date: p.notice.due_date,
            description: p.notice.description,
            instalment: p.notice.instalment,
            state: state(&p.state),
            paid_at: p.notice.paid_at,
            creditor_fiscal_code: p.creditor_fiscal_code,
            creditor_name: p.creditor_name,
            municipality: p.municipality,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// The person's notices: due first (soonest due date first), then paid, then expired.
    pub async fn my_payments(&self) -> Result<Vec<MyPayment>, SportelloError> {
        let list: api::MyPaymentList = self
            .authorized(|| self.request(Method::GET, "v1/me/payments"))
            .await?;
        Ok(list.items.into_iter().map(MyPayment::from).collect())
    }

    /// The pagoPA receipt (XML) of one of the person's paid notices.
    pub async fn payment_receipt(&self, id: String) -> Result<String, SportelloError> {
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(SportelloError::invalid("id", "not a payment id"));
        }
        let (_, body) = self
            .authorized_raw(|| self.request(Method::GET, &format!("v1/me/payments/{id}/receipt")))
            .await?;
        String::from_utf8(body).map_err(|e| SportelloError::invalid("receipt", &e))
    }

    /// What a typed notice number or scanned QR code would pay now. The code is checked on the
    /// device first; no login is needed.
    #[uniffi::method(default(creditor_fiscal_code = None))]
    pub async fn verify_payment(
        &self,
        code: String,
        creditor_fiscal_code: Option<String>,
    ) -> Result<api::VerifiedPayment, SportelloError> {
        parse_payment_code(&code)?;
        let request = api::VerifyPaymentRequest {
            code,
            creditor_fiscal_code,
        };
        self.send(self.request(Method::POST, "v1/payments/verify")?.json(&request))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_on_the_device() {
        let scanned = parse_payment_code(" PAGOPA|002|302032002700000251|03334231200|5 ").unwrap();
        assert_eq!(scanned.notice_printed, "3020 3200 2700 0002 51");
        assert_eq!(
            (scanned.amount_cents, scanned.iuv.as_str()),
            (Some(5), "02032002700000251")
        );
        let typed = parse_payment_code("3020 3200 2700 0002 51").unwrap();
        assert_eq!(typed.creditor_fiscal_code, None);
        assert!(matches!(
            parse_payment_code("302032002700000252"),
            Err(SportelloError::InvalidInput { .. })
        ));
        assert_eq!(
            payment_qr_payload("302032002700000251", "03334231200", 3000).unwrap(),
            "PAGOPA|002|302032002700000251|03334231200|3000"
        );
        assert!(payment_qr_payload("302032002700000251", "03334231200", 0).is_err());
    }
}
