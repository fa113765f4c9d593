//! The permits hand-off: a pagoPA notice for every group of permit fees that falls due, opened
//! in the permit step's transaction ([`FeeNotices`], which Permits is given at start-up), and
//! withdrawn when the application stops waiting for it. The receipt's side is
//! [`super::on_option_paid`].

use futures_core::future::BoxFuture;
use sportello_core::api;
use sportello_core::payments::{Amount, DebtPosition, DigitalStamp, PaymentsError, Transfer, TransferTarget};
use sqlx::{AnyConnection, Connection as _};

use super::positions::{
    NewOption, NewPosition, apply_event, iban_transfer, insert_new_position, parse_debtor,
};
use super::store::{self, StoredPosition};
use super::{Origin, PayError, Payments};
use crate::permits::fees::{FeeNotice, FeeNoticeRequest, FeeNotices};

/// The only digital stamp type pagoPA defines (`stTipoBolloDigitale`): a document's stamp.
const STAMP_TYPE: &str = "01";
/// Longest remittance information.
const MAX_REMITTANCE_CHARS: usize = 140;
/// The origin kind of permit fees' positions.
const PERMIT: &str = "permit";

impl Payments {
    /// Opens a payable (VALID) position for a group of permit fees inside the caller's
    /// transaction, with `origin = permit:<id>` so that its receipt advances the application
    /// ([`super::on_option_paid`]). One single-payment option, due on the request's date and
    /// never expiring (the application waits for it); its transfers: the fees paid in money
    /// together to the creditor's account (with the creditor's taxonomy), then one digital
    /// stamp per stamp fee. The municipality must be a creditor here (else `NotFound`).
    pub async fn open_position_for_fee(
        &self,
        conn: &mut AnyConnection,
        request: &FeeNoticeRequest,
    ) -> Result<StoredPosition, PayError> {
        let creditor = self
            .creditor_of(&request.municipality)
            .ok_or(PayError::NotFound)?;
        let debtor = parse_debtor(&api::PaymentDebtor {
            kind: "F".into(),
            fiscal_code: request.debtor_fiscal_code.clone(),
            full_name: request.debtor_name.clone(),
        })?;
        let (stamps, money): (Vec<_>, Vec<_>) = request
            .fees
            .iter()
            .partition(|fee| fee.stamp_document_hash.is_some());
        let mut transfers = Vec::with_capacity(1 + stamps.len());
        if !money.is_empty() {
            let amount = sum(money.iter().map(|fee| fee.amount_cents))?;
            let reasons = money
                .iter()
                .map(|fee| fee.reason.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let remittance: String = reasons.chars().take(MAX_REMITTANCE_CHARS).collect();
            transfers.push(iban_transfer(creditor, amount, &remittance, &creditor.taxonomy));
        }
        for fee in stamps {
            let hash = fee.stamp_document_hash.as_deref().unwrap_or_default();
            transfers.push(Transfer {
                amount: Amount::from_cents(fee.amount_cents)?,
                creditor: creditor.fiscal_code.clone(),
                remittance: fee.reason.clone(),
                category: creditor.taxonomy.clone(),
                target: TransferTarget::Stamp(DigitalStamp::new(hash, STAMP_TYPE, &creditor.province)?),
            });
        }
        let spec = NewPosition {
            iupd: None,
            debtor,
            description: request.description.clone(),
            options: vec![NewOption {
                amount: sum(transfers.iter().map(|t| t.amount.cents()))?,
                due: request.due_date,
                description: request.description.clone(),
                transfers,
            }],
            instalments: false,
            valid_from: None,
            expires: false,
        };
        let origin = Origin {
            kind: PERMIT.to_owned(),
            id: request.permit_id.clone(),
        };
        let mut stored = insert_new_position(conn, creditor, &spec, "system", Some(&origin)).await?;
        apply_event(conn, &mut stored, DebtPosition::publish).await?;
        Ok(stored)
    }

    /// Withdraws (INVALID) the positions opened for a permit that are still payable, inside
    /// the caller's transaction; returns how many. One that core will not withdraw is logged
    /// and left as it is.
    pub async fn withdraw_permit_positions(
        &self,
        conn: &mut AnyConnection,
        permit_id: &str,
    ) -> Result<u64, PayError> {
        let mut withdrawn = 0;
        for id in store::payable_position_ids_of_origin(conn, PERMIT, permit_id).await? {
            if !store::lock_position(conn, &id).await? {
                continue;
            }
            let Some(mut stored) = store::load_position(conn, &id).await? else {
                continue;
            };
            match apply_event(conn, &mut stored, |position, _| position.invalidate()).await {
                Ok(()) => withdrawn += 1,
                Err(PayError::Domain(error)) => {
                    tracing::warn!(position = %id, permit = permit_id, %error, "permit fee position not withdrawn");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(withdrawn)
    }
}

fn sum(mut cents: impl Iterator<Item = i64>) -> Result<Amount, PayError> {
    let total = cents
        .try_fold(0_i64, i64::checked_add)
        .ok_or_else(|| PaymentsError::AmountOutOfRange("sum of the fees".into()))?;
    Ok(Amount::from_cents(total)?)
}

impl FeeNotices for Payments {
    fn open<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        request: &'a FeeNoticeRequest,
    ) -> BoxFuture<'a, Result<Option<FeeNotice>, sqlx::Error>> {
        Box::pin(async move {
            // In a savepoint: a position that cannot be made leaves nothing behind (not even
            // its IUV reservation) and the permit's step goes on without a notice.
            let mut savepoint = conn.begin().await?;
            match self.open_position_for_fee(&mut savepoint, request).await {
                Ok(stored) => {
                    savepoint.commit().await?;
                    let option = stored.options.first();
                    Ok(option.map(|option| FeeNotice {
                        position_id: stored.position.id.clone(),
                        notice_number: option.notice_number.clone(),
                        creditor_fiscal_code: option.creditor.clone(),
                    }))
                }
                Err(PayError::Database(error)) => Err(error),
                Err(PayError::NotFound) => {
                    savepoint.rollback().await?;
                    tracing::info!(
                        permit = %request.permit_id,
                        municipality = %request.municipality,
                        "no pagoPA creditor for the municipality: permit fees stay due without a notice"
                    );
                    Ok(None)
                }
                Err(error) => {
                    savepoint.rollback().await?;
                    tracing::warn!(
                        permit = %request.permit_id,
                        %error,
                        "permit fees cannot become a pagoPA notice: they stay due without one"
                    );
                    Ok(None)
                }
            }
        })
    }

    fn withdraw<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        permit_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            match self.withdraw_permit_positions(conn, permit_id).await {
                Ok(withdrawn) => Ok(withdrawn),
                Err(PayError::Database(error)) => Err(error),
                Err(error) => {
                    tracing::warn!(permit = permit_id, %error, "permit fee positions not withdrawn");
                    Ok(0)
                }
            }
        })
    }
}
