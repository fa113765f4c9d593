//! The operators' debt positions: created (by an operator, or seeded as demo data), published,
//! withdrawn, read and listed; and the validation and numbering every new position goes
//! through, whoever opens it (the permit fees too, see `fees.rs`).

use jiff::Timestamp;
use jiff::civil::Date;
use sportello_core::api;
use sportello_core::identity::{FiscalCode, Role};
use sportello_core::payments::{
    Amount, DebtPosition, Debtor, DebtorKind, NoticeNumber, OptionKind, PaymentOption, PaymentsError,
    PositionStatus, TaxonomyCategory, Transfer, TransferTarget,
};
use sportello_core::tenant::EntityFiscalCode;
use sqlx::AnyConnection;

use super::store::{self, StoredPosition};
use super::stored::{from_domain, to_domain};
use super::{Creditor, Origin, PAGE_DEFAULT, PAGE_LIMIT, PayError, Payments};
use crate::clock::now_ms;
use crate::pagination::{Cursor, PageRequest};

impl Payments {
    /// Creates a DRAFT position for an operator of the municipality's payments office.
    pub async fn create_position(
        &self,
        roles: &[Role],
        user_id: &str,
        istat: &str,
        input: &api::PaymentPositionInput,
    ) -> Result<api::PaymentPosition, PayError> {
        let creditor = self.operator_creditor(roles, istat)?;
        let spec = position_spec(creditor, input)?;
        let mut tx = self.db.pool().begin().await?;
        let stored = insert_new_position(&mut tx, creditor, &spec, user_id, None).await?;
        tx.commit().await?;
        Ok(self.to_api(&stored))
    }

    /// Creates and publishes a position without an operator (demo data, fixtures); `None` when
    /// a position with the same IUPD exists, so loading twice changes nothing.
    pub async fn seed_position(
        &self,
        istat: &str,
        input: &api::PaymentPositionInput,
    ) -> Result<Option<api::PaymentPosition>, PayError> {
        let creditor = self.creditor_of(istat).ok_or(PayError::NotFound)?;
        let spec = position_spec(creditor, input)?;
        let mut tx = self.db.pool().begin().await?;
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
        roles: &[Role],
        istat: &str,
        id: &str,
    ) -> Result<api::PaymentPosition, PayError> {
        self.transition(roles, istat, id, DebtPosition::publish).await
    }

    /// Withdraws a PUBLISHED or VALID position.
    pub async fn invalidate(
        &self,
        roles: &[Role],
        istat: &str,
        id: &str,
    ) -> Result<api::PaymentPosition, PayError> {
        self.transition(roles, istat, id, |position, _| position.invalidate())
            .await
    }

    async fn transition(
        &self,
        roles: &[Role],
        istat: &str,
        id: &str,
        event: impl FnOnce(&mut DebtPosition, Timestamp) -> Result<PositionStatus, PaymentsError>,
    ) -> Result<api::PaymentPosition, PayError> {
        self.operator_creditor(roles, istat)?;
        let mut tx = self.db.pool().begin().await?;
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
    pub async fn get(&self, roles: &[Role], istat: &str, id: &str) -> Result<api::PaymentPosition, PayError> {
        self.operator_creditor(roles, istat)?;
        let mut conn = self.db.pool().acquire().await?;
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
        let page = PageRequest::new(cursor, limit, PAGE_DEFAULT, PAGE_LIMIT)?;
        let origin = origin
            .map(|o| {
                o.split_once(':')
                    .ok_or_else(|| PayError::invalid("origin", "Forma: tipo:id.", "Form: kind:id."))
            })
            .transpose()?;
        let after = match &page.after {
            Some(cursor) => Some((cursor.key_number()?, cursor.id.as_str())),
            None => None,
        };
        let mut conn = self.db.pool().acquire().await?;
        let filter = store::PositionFilter {
            municipality: istat,
            status,
            debtor_id: debtor,
            origin,
            after,
            limit: page.fetch_limit(),
        };
        let rows = store::list_positions(&mut conn, &filter).await?;
        let (rows, next_cursor) = page.page(rows, |s| {
            Cursor::new(s.position.created_at, s.position.id.clone())
        });
        Ok(api::PaymentPositionPage {
            items: rows.iter().map(|s| self.to_api(s)).collect(),
            next_cursor,
        })
    }
}

/// Applies `event` to a stored (and locked) position as core decides, after the transitions
/// time alone causes, and stores the status (and validity) it leads to.
pub(super) async fn apply_event(
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
pub(super) fn iban_transfer(
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
pub(super) struct NewPosition {
    pub(super) iupd: Option<String>,
    pub(super) debtor: Debtor,
    pub(super) description: String,
    pub(super) options: Vec<NewOption>,
    pub(super) instalments: bool,
    pub(super) valid_from: Option<Timestamp>,
    pub(super) expires: bool,
}

/// An option of a position to create; core checks that the transfers add up.
pub(super) struct NewOption {
    pub(super) amount: Amount,
    pub(super) due: Date,
    pub(super) description: String,
    pub(super) transfers: Vec<Transfer>,
}

/// Numbers the options, checks the whole position in core and inserts it in DRAFT.
pub(super) async fn insert_new_position(
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

pub(super) fn parse_debtor(input: &api::PaymentDebtor) -> Result<Debtor, PayError> {
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
