//! What citizens see: their notices and receipts, and what a scanned notice would pay.

use jiff::Timestamp;
use sportello_core::api;
use sportello_core::payments::{NoticeNumber, PositionStatus, QrPayload};

use super::store;
use super::stored::to_domain;
use super::{MY_PAYMENTS_LIMIT, PayError, Payments};

impl Payments {
    /// A citizen's notices: due (soonest first), then paid (newest first), then expired and
    /// cancelled. Drafts are never shown; options made moot by another way of paying are left out.
    pub async fn my_payments(&self, fiscal_code: &str) -> Result<api::MyPaymentList, PayError> {
        let mut conn = self.db.pool().acquire().await?;
        let positions = store::positions_of_debtor(&mut conn, fiscal_code, MY_PAYMENTS_LIMIT).await?;
        let now = Timestamp::now();
        let mut items = Vec::new();
        for stored in &positions {
            let Ok(mut position) = to_domain(stored) else {
                tracing::error!(position = %stored.position.id, "stored debt position is inconsistent");
                continue;
            };
            let status = position.refresh(now);
            for row in &stored.options {
                let Ok(notice) = NoticeNumber::parse(&row.notice_number) else {
                    continue;
                };
                let state = if row.receipt_id.is_some() {
                    "paid"
                } else {
                    match status {
                        PositionStatus::Expired => "expired",
                        PositionStatus::Invalid => "cancelled",
                        PositionStatus::Published => "due",
                        _ if position.payable_option(&notice).is_ok() => "due",
                        _ => continue,
                    }
                };
                items.push(api::MyPayment {
                    notice: Self::notice_api(row),
                    state: state.to_owned(),
                    position_id: stored.position.id.clone(),
                    creditor_fiscal_code: stored.position.creditor.clone(),
                    creditor_name: self.company_name(&stored.position.creditor),
                    municipality: stored.position.municipality.clone(),
                });
            }
        }
        let rank = |state: &str| match state {
            "due" => 0,
            "paid" => 1,
            _ => 2,
        };
        items.sort_by(|a, b| {
            rank(&a.state)
                .cmp(&rank(&b.state))
                .then_with(|| match a.state.as_str() {
                    "due" => a.notice.due_date.cmp(&b.notice.due_date),
                    _ => b.notice.paid_at.cmp(&a.notice.paid_at),
                })
        });
        Ok(api::MyPaymentList { items })
    }

    /// The receipt XML of one of the citizen's paid notices.
    pub async fn receipt(&self, fiscal_code: &str, option_id: &str) -> Result<String, PayError> {
        let mut conn = self.db.pool().acquire().await?;
        match store::receipt_of_option(&mut conn, option_id).await? {
            Some((debtor, xml)) if debtor == fiscal_code => Ok(xml),
            // Someone else's receipt is indistinguishable from none.
            _ => Err(PayError::NotFound),
        }
    }

    /// What a scanned notice number or QR payload would pay now (REST counterpart of the Node's
    /// verify). Unknown, unpayable or paid notices are errors with their reason.
    pub async fn verify(
        &self,
        request: &api::VerifyPaymentRequest,
    ) -> Result<api::VerifiedPayment, PayError> {
        let code = request.code.trim();
        let (notice, creditor) = if code.to_ascii_uppercase().starts_with("PAGOPA|") {
            let qr = QrPayload::parse(code)
                .map_err(|e| PayError::invalid("code", e.to_string(), e.to_string()))?;
            (qr.notice().clone(), Some(qr.creditor().as_str().to_owned()))
        } else {
            let notice = NoticeNumber::parse(code)
                .map_err(|e| PayError::invalid("code", e.to_string(), e.to_string()))?;
            (notice, request.creditor_fiscal_code.clone())
        };
        let mut conn = self.db.pool().acquire().await?;
        let creditor = if let Some(creditor) = creditor {
            creditor
        } else {
            let mut found = store::creditors_of_notice(&mut conn, notice.as_str()).await?;
            match found.len() {
                0 => return Err(PayError::NotFound),
                1 => found.remove(0),
                _ => {
                    return Err(PayError::invalid(
                        "creditor_fiscal_code",
                        "Più enti hanno emesso questo avviso: indica il codice fiscale dell'ente.",
                        "Several creditors issued this notice: give the creditor's fiscal code.",
                    ));
                }
            }
        };
        let stored = store::load_by_notice(&mut conn, &creditor, notice.as_str())
            .await?
            .ok_or(PayError::NotFound)?;
        let mut position = to_domain(&stored)?;
        if position.status() == PositionStatus::Draft {
            return Err(PayError::NotFound);
        }
        position.refresh(Timestamp::now());
        let option = position.payable_option(&notice)?;
        Ok(api::VerifiedPayment {
            notice_number: notice.as_str().to_owned(),
            notice_printed: notice.printed(),
            creditor_fiscal_code: creditor.clone(),
            creditor_name: self.company_name(&creditor),
            amount_cents: option.amount().cents(),
            due_date: option.due_date().to_string(),
            description: option.description().to_owned(),
        })
    }
}
