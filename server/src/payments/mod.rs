//! Payments on pagoPA, the creditor's side: debt positions (GPD model) created by operators or
//! by other contexts (permit fees), the `paForNode` interface the pagoPA Node calls (verify,
//! get payment, receipt), and the citizen's view of their notices and receipts.
//!
//! Core decides (`sportello_core::payments`: notice numbers, status machine, whether a receipt
//! pays); this module loads, locks, stores and notifies. A receipt is recorded in one
//! transaction together with its inbox message and push (the notification outbox) and the
//! effect on whatever the position pays for ([`on_option_paid`]).

mod error;
pub mod fees;
pub mod http;
pub mod node;
pub mod simulator;
pub mod soap;
pub mod store;

pub use self::error::PayError;
use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use sportello_core::api;
use sportello_core::identity::{FiscalCode, Office, Role, may_operate};
use sportello_core::payments::{
    Amount, DebtPosition, Debtor, DebtorKind, DigitalStamp, Iban, NoticeNumber, OptionKind, Payment,
    PaymentOption, PaymentsError, PositionStatus, QrPayload, SegregationCode, TaxonomyCategory, Transfer,
    TransferTarget,
};
use sportello_core::tenant::{EntityFiscalCode, IstatCode};
use sqlx::AnyConnection;

use self::store::{OptionRow, PositionRow, StoredPosition, TransferRow};
use crate::clock::now_ms;
use crate::config::PagopaConfig;
use crate::db::Db;
use crate::notify::Notifier;

/// Most positions in one page of the operators' list.
pub const PAGE_LIMIT: i64 = 100;
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

/// The payments service: the creditors served and their settings.
#[derive(Debug)]
pub struct Payments {
    creditors: Vec<Creditor>,
    by_fiscal_code: HashMap<String, usize>,
    by_istat: HashMap<String, usize>,
}

impl Payments {
    /// Resolves every municipality's creditor settings (metropolitan-wide values, then the
    /// municipality's overrides); fails on an invalid IBAN, taxonomy or segregation code. A
    /// municipality with `enabled = false` is not a creditor here.
    pub fn new(config: &PagopaConfig) -> anyhow::Result<Self> {
        for istat in config.municipalities.keys() {
            IstatCode::parse(istat).map_err(|e| anyhow::anyhow!("pagopa.municipalities.{istat}: {e}"))?;
        }
        let mut creditors = Vec::new();
        for municipality in crate::tenant::reference_municipalities()? {
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

    /// Creates a DRAFT position for an operator of the municipality's payments office.
    pub async fn create_position(
        &self,
        db: &Db,
        roles: &[Role],
        user_id: &str,
        istat: &str,
        input: &api::PaymentPositionInput,
    ) -> Result<api::PaymentPosition, PayError> {
        let creditor = self.operator_creditor(roles, istat)?;
        let spec = position_spec(creditor, input)?;
        let mut tx = db.pool().begin().await?;
        let stored = insert_new_position(&mut tx, creditor, &spec, user_id, None).await?;
        tx.commit().await?;
        Ok(self.to_api(&stored))
    }

    /// Creates and publishes a position without an operator (demo data, fixtures); `None` when
    /// a position with the same IUPD exists, so loading twice changes nothing.
    pub async fn seed_position(
        &self,
        db: &Db,
        istat: &str,
        input: &api::PaymentPositionInput,
    ) -> Result<Option<api::PaymentPosition>, PayError> {
        let creditor = self.creditor_of(istat).ok_or(PayError::NotFound)?;
        let spec = position_spec(creditor, input)?;
        let mut tx = db.pool().begin().await?;
        let mut stored = match insert_new_position(&mut tx, creditor, &spec, "demo", None).await {
            Ok(stored) => stored,
            Err(PayError::Invalid { field, .. }) if field == "iupd" => return Ok(None),
            Err(e) => return Err(e),
        };
        apply_event(&mut tx, &mut stored, DebtPosition::publish).await?;
        tx.commit().await?;
        Ok(Some(self.to_api(&stored)))
    }

    /// Publishes a DRAFT position.
    pub async fn publish(
        &self,
        db: &Db,
        roles: &[Role],
        istat: &str,
        id: &str,
    ) -> Result<api::PaymentPosition, PayError> {
        self.transition(db, roles, istat, id, DebtPosition::publish).await
    }

    /// Withdraws a PUBLISHED or VALID position.
    pub async fn invalidate(
        &self,
        db: &Db,
        roles: &[Role],
        istat: &str,
        id: &str,
    ) -> Result<api::PaymentPosition, PayError> {
        self.transition(db, roles, istat, id, |position, _| position.invalidate())
            .await
    }

    async fn transition(
        &self,
        db: &Db,
        roles: &[Role],
        istat: &str,
        id: &str,
        event: impl FnOnce(&mut DebtPosition, Timestamp) -> Result<PositionStatus, PaymentsError>,
    ) -> Result<api::PaymentPosition, PayError> {
        self.operator_creditor(roles, istat)?;
        let mut tx = db.pool().begin().await?;
        if !store::lock_position(&mut tx, id).await? {
            return Err(PayError::NotFound);
        }
        let mut stored = store::load_position(&mut tx, id)
            .await?
            .ok_or(PayError::NotFound)?;
        // Another municipality's position looks like no position at all.
        if stored.position.municipality != istat {
            return Err(PayError::NotFound);
        }
        apply_event(&mut tx, &mut stored, event).await?;
        tx.commit().await?;
        Ok(self.to_api(&stored))
    }

    /// One position of the operator's municipality.
    pub async fn get(
        &self,
        db: &Db,
        roles: &[Role],
        istat: &str,
        id: &str,
    ) -> Result<api::PaymentPosition, PayError> {
        self.operator_creditor(roles, istat)?;
        let mut conn = db.pool().acquire().await?;
        let stored = store::load_position(&mut conn, id)
            .await?
            .ok_or(PayError::NotFound)?;
        if stored.position.municipality != istat {
            return Err(PayError::NotFound);
        }
        Ok(self.to_api(&stored))
    }

    /// A page of the municipality's positions, newest first.
    #[allow(clippy::too_many_arguments, reason = "one argument per filter of the list")]
    pub async fn list(
        &self,
        db: &Db,
        roles: &[Role],
        istat: &str,
        status: Option<&str>,
        debtor: Option<&str>,
        origin: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<api::PaymentPositionPage, PayError> {
        self.operator_creditor(roles, istat)?;
        if let Some(status) = status {
            PositionStatus::parse(status)
                .map_err(|e| PayError::invalid("status", e.to_string(), e.to_string()))?;
        }
        let limit = limit.unwrap_or(50);
        if !(1..=PAGE_LIMIT).contains(&limit) {
            return Err(PayError::invalid("limit", "Da 1 a 100.", "From 1 to 100."));
        }
        let origin = origin
            .map(|o| {
                o.split_once(':')
                    .ok_or_else(|| PayError::invalid("origin", "Forma: tipo:id.", "Form: kind:id."))
            })
            .transpose()?;
        let after = cursor
            .map(|c| {
                c.split_once('_')
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| PayError::invalid("cursor", "Cursore non valido.", "Invalid cursor."))
            })
            .transpose()?;
        let mut conn = db.pool().acquire().await?;
        let filter = store::PositionFilter {
            municipality: istat,
            status,
            debtor_id: debtor,
            origin,
            after,
            limit,
        };
        let page = store::list_positions(&mut conn, &filter).await?;
        let next_cursor = (i64::try_from(page.len()).unwrap_or(0) == limit)
            .then(|| {
                page.last()
                    .map(|s| format!("{}_{}", s.position.created_at, s.position.id))
            })
            .flatten();
        Ok(api::PaymentPositionPage {
            items: page.iter().map(|s| self.to_api(s)).collect(),
            next_cursor,
        })
    }

    /// A citizen's notices: due (soonest first), then paid (newest first), then expired and
    /// cancelled. Drafts are never shown; options made moot by another way of paying are left out.
    pub async fn my_payments(&self, db: &Db, fiscal_code: &str) -> Result<api::MyPaymentList, PayError> {
        let mut conn = db.pool().acquire().await?;
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
    pub async fn receipt(&self, db: &Db, fiscal_code: &str, option_id: &str) -> Result<String, PayError> {
        let mut conn = db.pool().acquire().await?;
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
        db: &Db,
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
        let mut conn = db.pool().acquire().await?;
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

    fn notice_api(row: &OptionRow) -> api::PaymentNotice {
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

/// Applies `event` to a stored (and locked) position as core decides, after the transitions
/// time alone causes, and stores the status (and validity) it leads to.
async fn apply_event(
    conn: &mut AnyConnection,
    stored: &mut StoredPosition,
    event: impl FnOnce(&mut DebtPosition, Timestamp) -> Result<PositionStatus, PaymentsError>,
) -> Result<(), PayError> {
    let mut position = to_domain(stored)?;
    let now = Timestamp::now();
    position.refresh(now);
    let status = event(&mut position, now)?;
    let valid_from = position.validity().map(Timestamp::as_millisecond);
    store::set_status(conn, &stored.position.id, status.as_str(), valid_from, now_ms()).await?;
    status.as_str().clone_into(&mut stored.position.status);
    stored.position.valid_from = valid_from;
    Ok(())
}

/// The transfer of an option paid into the creditor's account.
fn iban_transfer(
    creditor: &Creditor,
    amount: Amount,
    remittance: &str,
    category: &TaxonomyCategory,
) -> Transfer {
    Transfer {
        amount,
        creditor: creditor.fiscal_code.clone(),
        remittance: remittance.to_owned(),
        category: category.clone(),
        target: TransferTarget::Iban {
            iban: creditor.iban.clone(),
            postal_iban: None,
        },
    }
}

/// Validates an operator's input into a position to create.
fn position_spec(creditor: &Creditor, input: &api::PaymentPositionInput) -> Result<NewPosition, PayError> {
    let debtor = parse_debtor(&input.debtor)?;
    if input.options.is_empty() || input.options.len() > 100 {
        return Err(PayError::invalid(
            "options",
            "Da 1 a 100 opzioni.",
            "1 to 100 options.",
        ));
    }
    let taxonomy = match &input.taxonomy {
        Some(text) => TaxonomyCategory::parse(text)
            .map_err(|e| PayError::invalid("taxonomy", e.to_string(), e.to_string()))?,
        None => creditor.taxonomy.clone(),
    };
    let options = input
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let due = parse_date(&o.due_date, &format!("options[{i}].due_date"))?;
            let amount = Amount::from_cents(o.amount_cents).map_err(|e| {
                PayError::invalid(
                    &format!("options[{i}].amount_cents"),
                    e.to_string(),
                    e.to_string(),
                )
            })?;
            let description = o.description.clone().unwrap_or_else(|| input.description.clone());
            Ok(NewOption {
                amount,
                due,
                transfers: vec![iban_transfer(creditor, amount, &description, &taxonomy)],
                description,
            })
        })
        .collect::<Result<Vec<_>, PayError>>()?;
    let valid_from = input
        .valid_from
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>().map_err(|_| {
                PayError::invalid(
                    "valid_from",
                    "Serve un istante RFC 3339.",
                    "An RFC 3339 instant is expected.",
                )
            })
        })
        .transpose()?;
    Ok(NewPosition {
        iupd: input.iupd.clone(),
        debtor,
        description: input.description.clone(),
        options,
        instalments: input.instalments,
        valid_from,
        expires: input.expires,
    })
}

/// A position to create, validated field by field.
struct NewPosition {
    iupd: Option<String>,
    debtor: Debtor,
    description: String,
    options: Vec<NewOption>,
    instalments: bool,
    valid_from: Option<Timestamp>,
    expires: bool,
}

/// An option of a position to create; core checks that the transfers add up.
struct NewOption {
    amount: Amount,
    due: Date,
    description: String,
    transfers: Vec<Transfer>,
}

/// Numbers the options, checks the whole position in core and inserts it in DRAFT.
async fn insert_new_position(
    conn: &mut AnyConnection,
    creditor: &Creditor,
    spec: &NewPosition,
    created_by: &str,
    origin: Option<&Origin>,
) -> Result<StoredPosition, PayError> {
    if spec.description.trim().is_empty() || spec.description.chars().count() > 140 {
        return Err(PayError::invalid(
            "description",
            "Da 1 a 140 caratteri.",
            "1 to 140 characters.",
        ));
    }
    let count = i64::try_from(spec.options.len()).unwrap_or(i64::MAX);
    let first = store::reserve_iuv_bases(
        conn,
        creditor.fiscal_code.as_str(),
        i64::from(creditor.segregation.value()),
        count,
    )
    .await?;
    let kind = if spec.instalments {
        OptionKind::Instalment
    } else {
        OptionKind::Single
    };
    let mut options = Vec::with_capacity(spec.options.len());
    for (i, option) in spec.options.iter().enumerate() {
        let base = u64::try_from(first + i64::try_from(i).unwrap_or(0))
            .map_err(|_| PayError::Internal("negative IUV base".into()))?;
        let notice = NoticeNumber::generate(creditor.segregation, base)?;
        options.push(PaymentOption::new(
            kind,
            notice,
            option.amount,
            option.due,
            &option.description,
            option.transfers.clone(),
        )?);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let iupd = spec
        .iupd
        .clone()
        .unwrap_or_else(|| format!("{}-{}", creditor.fiscal_code, uuid::Uuid::now_v7().simple()));
    let position = DebtPosition::new(
        &iupd,
        creditor.fiscal_code.clone(),
        spec.debtor.clone(),
        options,
        spec.valid_from,
        spec.expires,
    )?;
    let mut stored = from_domain(
        &id,
        creditor.istat.as_str(),
        &position,
        created_by,
        origin,
        now_ms(),
    );
    stored.position.description.clone_from(&spec.description);
    match store::insert_position(conn, &stored).await {
        Ok(()) => Ok(stored),
        Err(e) if crate::db::is_unique_violation(&e) => Err(PayError::invalid(
            "iupd",
            "Esiste già una posizione con questo IUPD.",
            "A position with this IUPD already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

fn parse_date(text: &str, field: &str) -> Result<Date, PayError> {
    text.parse::<Date>().map_err(|_| {
        PayError::invalid(
            field,
            "Serve una data AAAA-MM-GG.",
            "A YYYY-MM-DD date is expected.",
        )
    })
}

fn parse_debtor(input: &api::PaymentDebtor) -> Result<Debtor, PayError> {
    let name = input.full_name.trim();
    if name.is_empty() || name.chars().count() > 70 {
        return Err(PayError::invalid(
            "debtor.full_name",
            "Da 1 a 70 caratteri.",
            "1 to 70 characters.",
        ));
    }
    let (kind, id) = match input.kind.as_str() {
        "F" => (
            DebtorKind::Natural,
            FiscalCode::parse(&input.fiscal_code)
                .map_err(|e| PayError::invalid("debtor.fiscal_code", e.to_string(), e.to_string()))?
                .as_str()
                .to_owned(),
        ),
        "G" => (
            DebtorKind::Legal,
            EntityFiscalCode::parse(&input.fiscal_code)
                .map_err(|e| PayError::invalid("debtor.fiscal_code", e.to_string(), e.to_string()))?
                .as_str()
                .to_owned(),
        ),
        _ => return Err(PayError::invalid("debtor.kind", "F oppure G.", "F or G.")),
    };
    Ok(Debtor {
        kind,
        id,
        full_name: name.to_owned(),
    })
}

/// The rows of a new position.
fn from_domain(
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
