//! Payments on pagoPA, the creditor's side: debt positions (GPD model) created by operators or
//! by other contexts (permit fees), the `paForNode` interface the pagoPA Node calls (verify,
//! get payment, receipt), and the citizen's view of their notices and receipts.
//!
//! Core decides (`sportello_core::payments`: notice numbers, status machine, whether a receipt
//! pays); this module loads, locks, stores and notifies. A receipt is recorded in one
//! transaction together with its inbox message and push (the notification outbox) and the
//! effect on whatever the position pays for ([`on_option_paid`]).
//!
//! [`Payments`] owns its database and the creditors' settings: `positions.rs` the operators'
//! positions (and the validation every new position goes through), `citizens.rs` the citizen's
//! notices, receipts and verification, `node.rs` the Node's operations, `fees.rs` the permit
//! fees' hand-off, `stored.rs` stored rows to core's positions and back, `wire.rs` the API's
//! view; `store.rs` holds the SQL and `http.rs` the handlers; `channel/` guards the Node's
//! endpoint (mutual TLS on its own listener, source networks, a shared key).

pub mod channel;
mod citizens;
mod error;
pub mod fees;
pub mod http;
pub mod node;
mod positions;
pub mod simulator;
pub mod store;
mod stored;
mod wire;

/// The SOAP reader and writers of `paForNode`: pure, so they live in core, where the fuzz
/// targets (fuzz/) reach them without building the server.
pub use sportello_core::payments::soap;

pub use self::error::PayError;
use std::collections::HashMap;

use sportello_core::identity::{Office, Role, may_operate};
use sportello_core::payments::{Iban, NoticeNumber, PaymentsError, SegregationCode, TaxonomyCategory};
use sportello_core::tenant::{EntityFiscalCode, IstatCode};
use sqlx::AnyConnection;

use self::store::{OptionRow, PositionRow};
pub use self::stored::to_domain;
use crate::config::PagopaConfig;
use crate::db::Db;
use crate::notify::Notifier;
use crate::tenant::Municipalities;

/// Positions in one page of the operators' list, unless the request says otherwise.
const PAGE_DEFAULT: usize = 50;
/// Most positions in one page of the operators' list.
pub const PAGE_LIMIT: usize = 100;
/// Most positions in a citizen's list.
const MY_PAYMENTS_LIMIT: i64 = 500;

/// One municipality as a pagoPA creditor institution, with its resolved settings.
#[derive(Debug, Clone)]
pub struct Creditor {
    /// Tenant id.
    pub istat: IstatCode,
    /// Name shown to payers (`companyName`).
    pub company_name: String,
    /// idPA.
    pub fiscal_code: EntityFiscalCode,
    /// idBrokerPA.
    pub broker_id: String,
    /// idStation.
    pub station_id: String,
    /// Segregation code of its notices.
    pub segregation: SegregationCode,
    /// Account credited.
    pub iban: Iban,
    /// Default taxonomy category.
    pub taxonomy: TaxonomyCategory,
    /// Province abbreviation (`GE`): of the payer's residence on digital stamps, which the
    /// platform does not know, so the municipality's.
    pub province: String,
}

/// What created a position, and so what its payment advances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `permit` (the only kind today).
    pub kind: String,
    /// Id in that context.
    pub id: String,
}

/// The payments service: owns its database and the creditors served, with their settings.
#[derive(Debug)]
pub struct Payments {
    db: Db,
    creditors: Vec<Creditor>,
    by_fiscal_code: HashMap<String, usize>,
    by_istat: HashMap<String, usize>,
}

impl Payments {
    /// Resolves every municipality's creditor settings (metropolitan-wide values, then the
    /// municipality's overrides); fails on settings for a municipality not served here, and on
    /// an invalid IBAN, taxonomy or segregation code. A municipality with `enabled = false` is
    /// not a creditor here.
    pub fn new(db: Db, config: &PagopaConfig, municipalities: &Municipalities) -> anyhow::Result<Self> {
        for istat in config.municipalities.keys() {
            municipalities
                .require(istat)
                .map_err(|e| anyhow::anyhow!("pagopa.municipalities.{istat}: {e}"))?;
        }
        let mut creditors = Vec::new();
        for municipality in municipalities.all() {
            let local = config
                .municipalities
                .get(municipality.istat_code.as_str())
                .cloned()
                .unwrap_or_default();
            if local.enabled == Some(false) {
                tracing::info!(municipality = %municipality.name, "not a pagoPA creditor here (disabled)");
                continue;
            }
            let context = |e: PaymentsError| anyhow::anyhow!("pagopa settings of {}: {e}", municipality.name);
            let creditor = Creditor {
                company_name: format!("Comune di {}", municipality.name),
                istat: municipality.istat_code.clone(),
                fiscal_code: municipality.fiscal_code.clone(),
                broker_id: local.broker_id.unwrap_or_else(|| config.broker_id.clone()),
                station_id: local.station_id.unwrap_or_else(|| config.station_id.clone()),
                segregation: SegregationCode::new(local.segregation_code.unwrap_or(config.segregation_code))
                    .map_err(context)?,
                iban: Iban::parse(local.iban.as_deref().unwrap_or(&config.iban)).map_err(context)?,
                taxonomy: TaxonomyCategory::parse(local.taxonomy.as_deref().unwrap_or(&config.taxonomy))
                    .map_err(context)?,
                province: municipality.province.clone(),
            };
            anyhow::ensure!(
                (1..=35).contains(&creditor.broker_id.len()) && (1..=35).contains(&creditor.station_id.len()),
                "pagopa settings of {}: broker_id and station_id have 1 to 35 characters",
                municipality.name
            );
            creditors.push(creditor);
        }
        let by_fiscal_code = creditors
            .iter()
            .enumerate()
            .map(|(i, c)| (c.fiscal_code.as_str().to_owned(), i))
            .collect();
        let by_istat = creditors
            .iter()
            .enumerate()
            .map(|(i, c)| (c.istat.as_str().to_owned(), i))
            .collect();
        Ok(Self {
            db,
            creditors,
            by_fiscal_code,
            by_istat,
        })
    }

    /// The creditor with this fiscal code (idPA).
    pub fn creditor_by_fiscal_code(&self, fiscal_code: &str) -> Option<&Creditor> {
        self.by_fiscal_code.get(fiscal_code).map(|&i| &self.creditors[i])
    }

    /// The creditor of a municipality.
    pub fn creditor_of(&self, istat: &str) -> Option<&Creditor> {
        self.by_istat.get(istat).map(|&i| &self.creditors[i])
    }

    fn operator_creditor(&self, roles: &[Role], istat: &str) -> Result<&Creditor, PayError> {
        let code = IstatCode::parse(istat)
            .map_err(|e| PayError::invalid("istat_code", e.to_string(), e.to_string()))?;
        if !may_operate(roles, &code, Office::Payments) {
            return Err(PayError::Forbidden);
        }
        self.creditor_of(istat).ok_or(PayError::NotFound)
    }

    fn company_name(&self, creditor: &str) -> String {
        self.creditor_by_fiscal_code(creditor)
            .map_or_else(|| creditor.to_owned(), |c| c.company_name.clone())
    }
}

/// What a recorded payment was.
#[derive(Debug, Clone)]
pub struct PaidOption<'a> {
    /// The option's row (before the payment).
    pub option: &'a OptionRow,
    /// The pagoPA receipt id.
    pub receipt_id: &'a str,
    /// Amount paid, cents.
    pub amount_cents: i64,
    /// When it was paid, ms.
    pub paid_at_ms: i64,
}

/// The side effects of a payment, inside the receipt's transaction, so that none is recorded
/// without the others: the citizen's inbox message and push (outbox, deduplicated by IUV), and
/// the advance of whatever the position pays for (its origin). The caller wakes the notifier
/// after the commit.
pub async fn on_option_paid(
    conn: &mut AnyConnection,
    position: &PositionRow,
    paid: &PaidOption<'_>,
    company_name: &str,
    ttl_ms: i64,
) -> Result<(), sqlx::Error> {
    if let Some(user_id) = store::user_id_by_fiscal_code(conn, &position.debtor_id).await? {
        let euros = format!("{},{:02}", paid.amount_cents / 100, paid.amount_cents % 100);
        let printed = NoticeNumber::parse(&paid.option.notice_number)
            .map_or_else(|_| paid.option.notice_number.clone(), |n| n.printed());
        let message = crate::notify::store::NewMessage {
            user_id,
            municipality: Some(position.municipality.clone()),
            topic: "payments".to_owned(),
            subject: "Pagamento ricevuto".to_owned(),
            body: format!(
                "{company_name} ha ricevuto il tuo pagamento di € {euros} per «{}» (avviso {printed}). \
                 La ricevuta è nella sezione Pagamenti.",
                paid.option.description
            ),
            due_date: None,
            payment_notice: Some(paid.option.notice_number.clone()),
            payment_amount_cents: Some(paid.amount_cents),
            payment_creditor: Some(paid.option.creditor.clone()),
            dedup_key: Some(format!("payment:{}:{}", paid.option.creditor, paid.option.iuv)),
            ttl_ms,
        };
        crate::notify::store::enqueue(conn, &message).await?;
    }
    match (position.origin_kind.as_deref(), position.origin_id.as_deref()) {
        (Some("permit"), Some(permit_id)) => {
            // The permits context records the fee as paid and advances the permit
            // (awaiting_payment → submitted, awaiting_issue_payment → accepted) in this same
            // transaction. A permit that cannot take it (withdrawn meanwhile, unknown) must not
            // make the Node's receipt fail, which it would retry for ever: the payment stays
            // recorded and the mismatch is logged for the office.
            match crate::permits::fees::record_fee_paid(conn, permit_id, paid.receipt_id, paid.paid_at_ms)
                .await
            {
                Ok(_) => tracing::info!(permit = permit_id, receipt = paid.receipt_id, "permit fee paid"),
                Err(crate::permits::PermitError::Database(error)) => return Err(error),
                Err(error) => tracing::warn!(
                    permit = permit_id,
                    receipt = paid.receipt_id,
                    %error,
                    "payment received for a permit that cannot record it"
                ),
            }
        }
        (Some(kind), _) => tracing::warn!(kind, "payment for a position of an unknown origin"),
        (None, _) => {}
    }
    Ok(())
}

/// Wakes the push worker after a receipt was committed.
pub fn after_commit(notifier: &Notifier) {
    notifier.wake();
}
