//! Permits: applications filed by citizens (or a professional for them), worked by the permits
//! office of their municipality, with the legal clocks of core's catalogue.
//!
//! Core decides (status machine, clock, who may act); this service loads an application, asks
//! core, and stores the result: status, timeline entry and notifications in one transaction.
//! Every change takes the application's write lock first ([`store::lock_permit`]).

pub mod documents;
mod error;
pub mod fees;
pub mod http;
mod messages;
pub mod store;

pub use self::error::PermitError;
use self::error::invalid;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use sportello_core::api;
use sportello_core::calendar;
use sportello_core::identity::{FiscalCode, Office, may_operate};
use sportello_core::permits::{
    Action, Actor, Catalogue, CitizenStatus, Constraint, FeeDue, FieldKind, Permit, PermitsError, Procedure,
    ProtocolNumber, Status, Step, SweepFinding, TimelineEntry,
};
use sportello_core::tenant::IstatCode;
use sqlx::AnyConnection;
use tokio::io::AsyncWriteExt;

use self::documents::DocumentType;
use self::store::{DocumentRow, PermitRow, TimelineRow};
use crate::clock::now_ms;
use crate::clock::rfc3339_from_ms;
use crate::config::PermitsConfig;
use crate::db::Db;
use crate::identity::Principal;
use crate::notify::Notifier;
use crate::notify::store::{NewMessage, enqueue};

/// How long permit pushes stay deliverable when the caller has no notifier config (fees).
pub const DEFAULT_PUSH_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

const MS_PER_DAY: i64 = 24 * 3600 * 1000;

fn internal(cause: impl std::fmt::Display) -> PermitError {
    PermitError::Internal(cause.to_string())
}

/// What the sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Applications looked at.
    pub examined: u64,
    /// Silent approvals (or permissions to start works) recorded.
    pub matured: u64,
    /// New "deadline close" warnings to the officers.
    pub warned_due_soon: u64,
    /// New "deadline passed" warnings to the officers.
    pub warned_overdue: u64,
}

/// An application with its timeline, its procedure and core's view of it.
pub(crate) struct Loaded {
    pub row: PermitRow,
    pub timeline: Vec<TimelineRow>,
    pub procedure: Procedure,
    pub permit: Permit,
}

/// The permits service of one process.
pub struct Permits {
    db: Db,
    config: PermitsConfig,
    documents_dir: PathBuf,
    notifier: Arc<Notifier>,
    push_ttl_ms: i64,
    clock_offset_ms: AtomicI64,
    /// Opens pagoPA notices for fees that fall due (Payments); none: fees are only recorded.
    fee_notices: Option<Arc<dyn fees::FeeNotices>>,
}

/// Instant of stored milliseconds.
pub(crate) fn instant(ms: i64) -> Result<jiff::Timestamp, PermitError> {
    jiff::Timestamp::from_millisecond(ms).map_err(internal)
}

fn parse_actor(text: &str) -> Result<Actor, PermitError> {
    Actor::ALL
        .into_iter()
        .find(|a| a.as_str() == text)
        .ok_or_else(|| PermitError::Integrity(format!("unknown actor {text}")))
}

/// The catalogue of a municipality: the built-in one with its overrides.
pub(crate) async fn catalogue_of(
    conn: &mut AnyConnection,
    municipality: &str,
) -> Result<Catalogue, PermitError> {
    match store::catalogue_override(conn, municipality).await? {
        Some(text) => Catalogue::builtin_with(&text)
            .map_err(|e| PermitError::Internal(format!("catalogue of {municipality}: {e}"))),
        None => Ok(Catalogue::builtin().clone()),
    }
}

/// Core's application from the stored row and timeline (entries that are not core actions,
/// like `assign`, do not change the status and are skipped).
fn restore(row: &PermitRow, timeline: &[TimelineRow]) -> Result<Permit, PermitError> {
    let constraints = row
        .constraints
        .split_whitespace()
        .map(Constraint::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let protocol = match (row.protocol_year, row.protocol_number) {
        (Some(year), Some(number)) => Some(ProtocolNumber::new(
            i16::try_from(year).map_err(internal)?,
            u32::try_from(number).map_err(internal)?,
        )?),
        _ => None,
    };
    let mut entries = Vec::with_capacity(timeline.len());
    for t in timeline {
        let Ok(action) = Action::parse(&t.action) else {
            continue;
        };
        entries.push(TimelineEntry {
            at: instant(t.at)?,
            actor: parse_actor(&t.actor)?,
            action,
            from: Status::parse(&t.from_status)?,
            to: Status::parse(&t.to_status)?,
            note: t.note.clone(),
        });
    }
    Permit::restore(
        &row.procedure_code,
        row.large_municipality,
        constraints,
        protocol,
        entries,
    )
    .map_err(|e| PermitError::Integrity(format!("permit {}: {e}", row.id)))
}

/// Loads an application (inside the caller's transaction when it holds the lock).
pub(crate) async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Loaded>, PermitError> {
    let Some(row) = store::get_permit(conn, id).await? else {
        return Ok(None);
    };
    let timeline = store::timeline(conn, id).await?;
    let catalogue = catalogue_of(conn, &row.municipality).await?;
    let procedure = catalogue
        .procedure(&row.procedure_code)
        .map_err(|e| PermitError::Integrity(format!("permit {id}: {e}")))?
        .clone();
    let permit = restore(&row, &timeline)?;
    Ok(Some(Loaded {
        row,
        timeline,
        procedure,
        permit,
    }))
}

/// Whether the application waits for a payment in `status`.
fn awaits_payment(status: Status) -> bool {
    matches!(status, Status::AwaitingPayment | Status::AwaitingIssuePayment)
}

/// Takes `step` on a loaded (and locked) application: core decides, then the row, the timeline
/// entry, the fees that become due (with their pagoPA notice, when `notices` is given and opens
/// one) and the notifications to the applicant are written on `conn`. Leaving a payment state
/// withdraws the application's unpaid notices (with `notices`; the receipt path passes none,
/// its notice being the one paid). The caller commits (and wakes the notifier).
pub(crate) async fn apply_step(
    conn: &mut AnyConnection,
    loaded: &mut Loaded,
    step: Step,
    user_id: Option<&str>,
    push_ttl_ms: i64,
    notices: Option<&dyn fees::FeeNotices>,
) -> Result<TimelineEntry, PermitError> {
    let at_ms = step.at.as_millisecond();
    let entry = loaded.permit.apply(&loaded.procedure, step)?.clone();
    let due = match entry.to {
        Status::AwaitingPayment => Some(FeeDue::Filing),
        Status::AwaitingIssuePayment => Some(FeeDue::Issue),
        _ => None,
    };
    if let Some(due) = due {
        for fee in loaded.procedure.fees_due(due) {
            store::insert_fee(
                conn,
                &store::FeeRow {
                    permit_id: loaded.row.id.clone(),
                    code: fee.code.clone(),
                    reason: fee.name.it.clone(),
                    amount_cents: fee.amount.cents(),
                    due: due.as_str().to_owned(),
                    stamp: fee.stamp,
                    created_at: at_ms,
                    paid_at: None,
                    receipt_ref: None,
                    position_id: None,
                    notice_number: None,
                },
            )
            .await?;
        }
    }
    let notice = match (due, notices) {
        (Some(due), Some(notices)) => fees::open_notice(conn, notices, loaded, due, at_ms).await?,
        _ => None,
    };
    if let Some(notices) = notices
        && awaits_payment(entry.from)
        && !awaits_payment(entry.to)
    {
        let withdrawn = notices.withdraw(conn, &loaded.row.id).await?;
        if withdrawn > 0 {
            tracing::info!(permit = %loaded.row.id, withdrawn, action = %entry.action, "unpaid fee notices withdrawn");
        }
    }
    if let Some(protocol) = loaded.permit.protocol_number() {
        loaded.row.protocol_year = Some(i64::from(protocol.year()));
        loaded.row.protocol_number = Some(i64::from(protocol.number()));
    }
    entry.to.as_str().clone_into(&mut loaded.row.status);
    let clock = loaded.permit.clock(&loaded.procedure, entry.at)?;
    loaded.row.deadline = clock.and_then(|c| c.deadline()).map(|d| d.to_string());
    loaded.row.clock_stopped = clock.is_some_and(|c| c.is_stopped());
    loaded.row.updated_at = at_ms;
    store::update_state(conn, &loaded.row).await?;
    let row = TimelineRow {
        seq: loaded.timeline.last().map_or(1, |t| t.seq + 1),
        at: at_ms,
        action: entry.action.as_str().to_owned(),
        actor: entry.actor.as_str().to_owned(),
        actor_user_id: user_id.map(str::to_owned),
        actor_name: None,
        from_status: entry.from.as_str().to_owned(),
        to_status: entry.to.as_str().to_owned(),
        note: entry.note.clone(),
    };
    store::append_timeline(conn, &loaded.row.id, &row).await?;
    loaded.timeline.push(row);
    notify_parties(conn, loaded, &entry, notice.as_ref(), push_ttl_ms).await?;
    Ok(entry)
}

/// Puts a message about `entry` in the inbox of the applicant and of the professional who
/// filed (each once), in their language, with the pagoPA notice of fees that fell due.
async fn notify_parties(
    conn: &mut AnyConnection,
    loaded: &Loaded,
    entry: &TimelineEntry,
    notice: Option<&fees::FeeNotice>,
    push_ttl_ms: i64,
) -> Result<(), PermitError> {
    let seq = loaded.timeline.last().map_or(0, |t| t.seq);
    let mut recipients = Vec::new();
    if let Some(applicant) = store::person(conn, &loaded.row.applicant_fiscal_code).await? {
        recipients.push(applicant);
    }
    if loaded.row.professional_fiscal_code.is_some()
        && let Some(filer) = store::person_by_id(conn, &loaded.row.filed_by).await?
        && !recipients.iter().any(|r| r.user_id == filer.user_id)
    {
        recipients.push(filer);
    }
    let fee_due: i64 = match entry.to {
        Status::AwaitingPayment | Status::AwaitingIssuePayment => loaded
            .permit
            .fees_due_now(&loaded.procedure)
            .iter()
            .map(|f| f.amount.cents())
            .sum(),
        _ => 0,
    };
    for recipient in recipients {
        let (subject, mut body) = messages::transition(&recipient.language, loaded, entry);
        if fee_due > 0 {
            body.push_str(&messages::fee_notice(&recipient.language, fee_due, notice));
        }
        let message = NewMessage {
            user_id: recipient.user_id.clone(),
            municipality: Some(loaded.row.municipality.clone()),
            topic: "permits".to_owned(),
            subject,
            body,
            due_date: loaded.row.deadline.clone().filter(|_| !entry.to.is_final()),
            payment_amount_cents: (fee_due > 0).then_some(fee_due),
            payment_notice: notice.map(|n| n.notice_number.clone()),
            payment_creditor: notice.map(|n| n.creditor_fiscal_code.clone()),
            dedup_key: Some(format!("permit:{}:{seq}", loaded.row.id)),
            ttl_ms: push_ttl_ms,
        };
        enqueue(conn, &message).await?;
    }
    Ok(())
}

/// How the caller relates to an application, most specific first; empty: they may not see it.
/// Officers see filed applications only: a draft is the citizen's own business.
fn relations(principal: &Principal, row: &PermitRow) -> Vec<Actor> {
    let mut relations = Vec::new();
    if principal.fiscal_code == row.applicant_fiscal_code {
        relations.push(Actor::Applicant);
    }
    if row.professional_fiscal_code.as_deref() == Some(principal.fiscal_code.as_str()) {
        relations.push(Actor::Professional);
    }
    let officer =
        IstatCode::parse(&row.municipality).is_ok_and(|m| may_operate(&principal.roles, &m, Office::Permits));
    if officer && row.status != Status::Draft.as_str() {
        relations.push(Actor::Operator);
    }
    relations
}

/// The role the caller acts in for `action`: the first of their relations the action allows,
/// else their first relation (so core names the refusal).
fn actor_for(relations: &[Actor], action: Action) -> Option<Actor> {
    relations
        .iter()
        .copied()
        .find(|a| action.actors().contains(a))
        .or_else(|| relations.first().copied())
}

/// Parses `?cursor=` of the form the pages give out.
fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (key, id) = text.split_once('|')?;
    Some((key.to_owned(), id.to_owned()))
}

fn encode_cursor(key: &str, id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}|{id}"))
}

/// Filters of the operator queue, as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub municipality: String,
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    pub deadline_within_days: Option<i64>,
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    pub limit: i64,
}

impl Permits {
    /// The service; documents go under `data_dir/permits`.
    pub fn new(db: Db, config: PermitsConfig, data_dir: &std::path::Path, notifier: Arc<Notifier>) -> Self {
        let offset = config.clock_offset_days.saturating_mul(MS_PER_DAY);
        Self {
            db,
            config,
            documents_dir: data_dir.join("permits"),
            push_ttl_ms: notifier.ttl_ms(),
            notifier,
            clock_offset_ms: AtomicI64::new(offset),
            fee_notices: None,
        }
    }

    /// Opens a pagoPA notice for every group of fees that falls due, in the step's
    /// transaction, and withdraws unpaid notices when an application leaves a payment state
    /// another way (see [`fees`]).
    #[must_use]
    pub fn with_fee_notices(mut self, notices: Arc<dyn fees::FeeNotices>) -> Self {
        self.fee_notices = Some(notices);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PermitsConfig {
        &self.config
    }

    /// Now, in stored milliseconds, as the permits clock sees it (see [`Self::set_clock_offset_ms`]).
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this process's permits clock by `offset_ms` from real time: how tests (and
    /// `permits.clock_offset_days` outside production) walk legal terms day by day through the
    /// HTTP API. Only ever moved forward in practice: timeline entries cannot go back in time.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.clock_offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, PermitError> {
        Ok(self.db.pool().acquire().await?)
    }

    /// The procedures of a municipality, in the caller's language.
    pub async fn procedures(
        &self,
        municipality: &IstatCode,
        lang: &str,
    ) -> Result<api::ProcedureList, PermitError> {
        let mut conn = self.conn().await?;
        let large = self.is_large(municipality).await?;
        let catalogue = catalogue_of(&mut conn, municipality.as_str()).await?;
        let facts = sportello_core::permits::DoublingFacts {
            large_municipality: large,
            complex_project: false,
        };
        let items = catalogue
            .procedures()
            .iter()
            .map(|p| api::ProcedureInfo {
                code: p.code.clone(),
                name: p.name.get(lang).to_owned(),
                legal_basis: p.legal_basis.clone(),
                decided_by: p.decided_by.get(lang).to_owned(),
                effective_on_filing: p.effective_on_filing,
                clock_days: p.total_days(facts),
                at_deadline: p.at_deadline.as_str().to_owned(),
                documents: p
                    .documents
                    .iter()
                    .map(|d| api::ProcedureDocument {
                        code: d.code.clone(),
                        name: d.name.get(lang).to_owned(),
                        required: d.required,
                    })
                    .collect(),
                fields: p
                    .fields
                    .iter()
                    .map(|f| api::ProcedureField {
                        code: f.code.clone(),
                        label: f.label.get(lang).to_owned(),
                        kind: f.kind.as_str().to_owned(),
                        required: f.required,
                    })
                    .collect(),
                fees: p
                    .fees
                    .iter()
                    .map(|f| api::ProcedureFee {
                        code: f.code.clone(),
                        name: f.name.get(lang).to_owned(),
                        amount_cents: f.amount.cents(),
                        due: f.due.as_str().to_owned(),
                    })
                    .collect(),
            })
            .collect();
        Ok(api::ProcedureList { items })
    }

    /// Whether the municipality is served here and over 100,000 inhabitants.
    async fn is_large(&self, municipality: &IstatCode) -> Result<bool, PermitError> {
        let found = crate::tenant::store::get(&self.db, municipality)
            .await?
            .ok_or_else(|| {
                invalid(
                    "municipality",
                    format!("Nessun comune servito ha codice {municipality}."),
                    format!("No municipality served here has code {municipality}."),
                )
            })?;
        Ok(found.is_large())
    }

    /// Creates a draft for the caller (or, when a professional gives another applicant's
    /// fiscal code, for that applicant, filed by the caller). Returns its id.
    pub async fn create(
        &self,
        principal: &Principal,
        request: &api::NewPermit,
    ) -> Result<String, PermitError> {
        let municipality = IstatCode::parse(&request.municipality)
            .map_err(|e| invalid("municipality", e.to_string(), e.to_string()))?;
        let mut conn = self.conn().await?;
        let large = self.is_large(&municipality).await?;
        let catalogue = catalogue_of(&mut conn, municipality.as_str()).await?;
        let procedure = catalogue.procedure(&request.procedure).map_err(|_| {
            invalid(
                "procedure",
                format!("Nessuna procedura `{}` in questo comune.", request.procedure),
                format!("No procedure `{}` in this municipality.", request.procedure),
            )
        })?;
        let (applicant, professional) = match &request.applicant_fiscal_code {
            Some(code) => {
                let code = FiscalCode::parse(code).map_err(|_| {
                    invalid(
                        "applicant_fiscal_code",
                        "Codice fiscale non valido.",
                        "Invalid fiscal code.",
                    )
                })?;
                if code.as_str() == principal.fiscal_code {
                    (principal.fiscal_code.clone(), None)
                } else {
                    (code.as_str().to_owned(), Some(principal.fiscal_code.clone()))
                }
            }
            None => (principal.fiscal_code.clone(), None),
        };
        let now = self.now_ms();
        let id = uuid::Uuid::now_v7().to_string();
        let row = PermitRow {
            id: id.clone(),
            municipality: municipality.as_str().to_owned(),
            procedure_code: procedure.code.clone(),
            status: Status::Draft.as_str().to_owned(),
            applicant_fiscal_code: applicant,
            filed_by: principal.user_id.clone(),
            professional_fiscal_code: professional,
            assigned_to: None,
            large_municipality: large,
            address: None,
            foglio: None,
            mappale: None,
            subalterno: None,
            description: None,
            fields: "{}".to_owned(),
            constraints: String::new(),
            protocol_year: None,
            protocol_number: None,
            deadline: None,
            clock_stopped: false,
            created_at: now,
            updated_at: now,
        };
        store::insert_permit(&mut conn, &row).await?;
        tracing::info!(permit = %id, procedure = %row.procedure_code, municipality = %row.municipality, "permit draft created");
        Ok(id)
    }

    /// Loads an application the caller may see, with their relations to it.
    async fn visible(
        &self,
        conn: &mut AnyConnection,
        principal: &Principal,
        id: &str,
    ) -> Result<(Loaded, Vec<Actor>), PermitError> {
        let loaded = load(conn, id).await?.ok_or(PermitError::NotFound)?;
        let relations = relations(principal, &loaded.row);
        if relations.is_empty() {
            // Someone else's application looks like none at all.
            return Err(PermitError::NotFound);
        }
        Ok((loaded, relations))
    }

    /// Changes a draft's data (applicant or filing professional only).
    pub async fn update(
        &self,
        principal: &Principal,
        id: &str,
        update: &api::PermitUpdate,
    ) -> Result<(), PermitError> {
        let mut tx = self.db.pool().begin().await?;
        if !store::lock_permit(&mut tx, id).await? {
            return Err(PermitError::NotFound);
        }
        let (mut loaded, relations) = self.visible(&mut tx, principal, id).await?;
        if !relations
            .iter()
            .any(|r| matches!(r, Actor::Applicant | Actor::Professional))
        {
            return Err(PermitError::Rule(PermitsError::Transition {
                status: loaded.permit.status(),
                action: Action::Submit,
                reason: sportello_core::permits::TransitionDenied::NotAllowedFor(Actor::Operator),
            }));
        }
        if loaded.permit.status() != Status::Draft {
            return Err(PermitsError::NotADraft(loaded.permit.status()).into());
        }
        apply_update(&mut loaded, update)?;
        loaded.row.updated_at = self.now_ms().max(loaded.row.updated_at);
        store::update_draft(&mut tx, &loaded.row).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a named action on an application for the caller.
    pub async fn act(
        &self,
        principal: &Principal,
        id: &str,
        action: &str,
        request: &api::PermitActionRequest,
    ) -> Result<(), PermitError> {
        if action == "assign" {
            return self.assign(principal, id, request).await;
        }
        let action = Action::parse(action).map_err(|_| {
            invalid(
                "action",
                format!("`{action}` non è un'azione sulle pratiche."),
                format!("`{action}` is not an action on applications."),
            )
        })?;
        let mut tx = self.db.pool().begin().await?;
        if !store::lock_permit(&mut tx, id).await? {
            return Err(PermitError::NotFound);
        }
        let (mut loaded, relations) = self.visible(&mut tx, principal, id).await?;
        let actor = actor_for(&relations, action).ok_or(PermitError::NotFound)?;
        let now = self.now_ms().max(loaded.timeline.last().map_or(0, |t| t.at));
        let mut step = Step::new(action, actor, instant(now)?);
        if let Some(note) = request.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            step = step.with_note(note);
        }
        // What core cannot know: the documents on file.
        let allowed_by_core = {
            let mut trial = loaded.permit.clone();
            let mut trial_step = step.clone();
            if action == Action::Register {
                trial_step = trial_step.with_protocol_number(ProtocolNumber::new(2000, 1)?);
            }
            trial.apply(&loaded.procedure, trial_step).map(drop)
        };
        allowed_by_core?;
        match action {
            Action::Submit => check_complete(&mut tx, &loaded).await?,
            Action::SubmitIntegration => check_integration_documents(&mut tx, &loaded).await?,
            Action::Register => {
                let year = i64::from(calendar::rome_date(step.at).year());
                let number = store::next_protocol_number(&mut tx, &loaded.row.municipality, year).await?;
                step = step.with_protocol_number(ProtocolNumber::new(
                    i16::try_from(year).map_err(internal)?,
                    u32::try_from(number).map_err(internal)?,
                )?);
            }
            Action::ConfirmPayment => {
                // A payment taken at the counter: the officer's word is the receipt.
                let due = if loaded.permit.status() == Status::AwaitingIssuePayment {
                    FeeDue::Issue
                } else {
                    FeeDue::Filing
                };
                let receipt = format!("counter:{}:{now}", principal.fiscal_code);
                store::mark_fees_paid(&mut tx, id, due.as_str(), &receipt, now).await?;
            }
            _ => {}
        }
        let entry = apply_step(
            &mut tx,
            &mut loaded,
            step,
            Some(&principal.user_id),
            self.push_ttl_ms,
            self.fee_notices.as_deref(),
        )
        .await?;
        tx.commit().await?;
        self.notifier.wake();
        tracing::info!(permit = %id, action = %entry.action, actor = %entry.actor, from = %entry.from, to = %entry.to, "permit transition");
        Ok(())
    }

    /// Assigns the application to an officer of its municipality's permits office (recorded on
    /// the timeline; the status does not change).
    async fn assign(
        &self,
        principal: &Principal,
        id: &str,
        request: &api::PermitActionRequest,
    ) -> Result<(), PermitError> {
        let assignee = request
            .assignee_fiscal_code
            .as_deref()
            .map(FiscalCode::parse)
            .transpose()
            .ok()
            .flatten()
            .ok_or_else(|| {
                invalid(
                    "assignee_fiscal_code",
                    "Serve il codice fiscale di un funzionario.",
                    "The fiscal code of an officer is required.",
                )
            })?;
        let mut tx = self.db.pool().begin().await?;
        if !store::lock_permit(&mut tx, id).await? {
            return Err(PermitError::NotFound);
        }
        let (mut loaded, relations) = self.visible(&mut tx, principal, id).await?;
        let status = loaded.permit.status();
        if !relations.contains(&Actor::Operator) {
            return Err(PermitsError::Transition {
                status,
                action: Action::StartReview,
                reason: sportello_core::permits::TransitionDenied::NotAllowedFor(relations[0]),
            }
            .into());
        }
        if status.is_final() {
            return Err(PermitsError::Transition {
                status,
                action: Action::StartReview,
                reason: sportello_core::permits::TransitionDenied::Closed,
            }
            .into());
        }
        let role = format!("operator:{}:permits", loaded.row.municipality);
        let officers = store::people_with_role(&mut tx, &role).await?;
        let assignee_person = store::person(&mut tx, assignee.as_str()).await?;
        let is_officer = assignee.as_str() == principal.fiscal_code
            || assignee_person
                .as_ref()
                .is_some_and(|p| officers.iter().any(|o| o.user_id == p.user_id));
        if !is_officer {
            return Err(invalid(
                "assignee_fiscal_code",
                "Non è un funzionario dell'ufficio permessi di questo comune.",
                "Not an officer of this municipality's permits office.",
            ));
        }
        let now = self.now_ms().max(loaded.timeline.last().map_or(0, |t| t.at));
        loaded.row.assigned_to = Some(assignee.as_str().to_owned());
        loaded.row.updated_at = now;
        store::update_state(&mut tx, &loaded.row).await?;
        let entry = TimelineRow {
            seq: loaded.timeline.last().map_or(1, |t| t.seq + 1),
            at: now,
            action: "assign".to_owned(),
            actor: Actor::Operator.as_str().to_owned(),
            actor_user_id: Some(principal.user_id.clone()),
            actor_name: None,
            from_status: status.as_str().to_owned(),
            to_status: status.as_str().to_owned(),
            note: Some(format!("assegnata a {}", assignee.as_str())),
        };
        store::append_timeline(&mut tx, id, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An application in full, for someone who may see it.
    pub async fn get(&self, principal: &Principal, id: &str, lang: &str) -> Result<api::Permit, PermitError> {
        let mut conn = self.conn().await?;
        let (loaded, relations) = self.visible(&mut conn, principal, id).await?;
        let documents = store::documents(&mut conn, id).await?;
        let fees = store::fees(&mut conn, id).await?;
        let now = instant(self.now_ms())?;
        let clock = loaded.permit.clock(&loaded.procedure, now)?;
        let actions = allowed_actions(&loaded, &relations, now);
        let citizen = loaded.permit.citizen_status(&loaded.procedure);
        let row = &loaded.row;
        Ok(api::Permit {
            id: row.id.clone(),
            municipality: row.municipality.clone(),
            procedure: row.procedure_code.clone(),
            procedure_name: loaded.procedure.name.get(lang).to_owned(),
            status: row.status.clone(),
            simplified_status: citizen.as_str().to_owned(),
            simplified_label: citizen.label(lang).to_owned(),
            applicant_fiscal_code: row.applicant_fiscal_code.clone(),
            professional_fiscal_code: row.professional_fiscal_code.clone(),
            assigned_to: row.assigned_to.clone(),
            protocol_number: loaded.permit.protocol_number().map(|p| p.to_string()),
            address: row.address.clone(),
            cadastral_parcel: parcel_of(row),
            description: row.description.clone(),
            fields: fields_of(row)?,
            constraints: row.constraints.split_whitespace().map(str::to_owned).collect(),
            deadline: clock.and_then(|c| c.deadline()).map(|d| d.to_string()),
            days_left: clock.and_then(|c| c.days_left()),
            clock_stopped: clock.is_some_and(|c| c.is_stopped()),
            at_deadline: loaded.procedure.at_deadline.as_str().to_owned(),
            actions,
            timeline: loaded
                .timeline
                .iter()
                .map(|t| api::PermitTimelineEntry {
                    at: rfc3339_from_ms(t.at),
                    action: t.action.clone(),
                    actor: t.actor.clone(),
                    actor_name: t.actor_name.clone(),
                    from_status: t.from_status.clone(),
                    to_status: t.to_status.clone(),
                    note: t.note.clone(),
                })
                .collect(),
            documents: documents.iter().map(document_api).collect(),
            fee_due_cents: fees
                .iter()
                .filter(|f| f.paid_at.is_none())
                .map(|f| f.amount_cents)
                .sum(),
            fees: fees
                .into_iter()
                .map(|f| api::PermitFee {
                    code: f.code,
                    reason: f.reason,
                    amount_cents: f.amount_cents,
                    due: f.due,
                    paid_at: f.paid_at.map(rfc3339_from_ms),
                    payment_position_id: f.position_id,
                    notice_number: f.notice_number,
                })
                .collect(),
            created_at: rfc3339_from_ms(row.created_at),
            updated_at: rfc3339_from_ms(row.updated_at),
        })
    }

    fn summaries(
        &self,
        conn_catalogues: &BTreeMap<String, Catalogue>,
        rows: &[PermitRow],
        lang: &str,
    ) -> Vec<api::PermitSummary> {
        let today = calendar::rome_date(instant(self.now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH));
        rows.iter()
            .map(|row| {
                let procedure = conn_catalogues
                    .get(&row.municipality)
                    .and_then(|c| c.procedure(&row.procedure_code).ok());
                let effective = procedure.is_some_and(|p| p.effective_on_filing);
                let status = Status::parse(&row.status).unwrap_or(Status::Draft);
                let citizen = CitizenStatus::of(status, effective);
                let deadline = row
                    .deadline
                    .clone()
                    .filter(|_| !row.clock_stopped && !status.is_final());
                api::PermitSummary {
                    id: row.id.clone(),
                    municipality: row.municipality.clone(),
                    procedure: row.procedure_code.clone(),
                    procedure_name: procedure
                        .map_or_else(|| row.procedure_code.clone(), |p| p.name.get(lang).to_owned()),
                    status: row.status.clone(),
                    simplified_status: citizen.as_str().to_owned(),
                    simplified_label: citizen.label(lang).to_owned(),
                    applicant_fiscal_code: row.applicant_fiscal_code.clone(),
                    protocol_number: match (row.protocol_year, row.protocol_number) {
                        (Some(y), Some(n)) => Some(format!("{y}/{n:07}")),
                        _ => None,
                    },
                    address: row.address.clone(),
                    assigned_to: row.assigned_to.clone(),
                    days_left: deadline
                        .as_deref()
                        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                        .map(|d| calendar::days_between(today, d)),
                    deadline,
                    updated_at: rfc3339_from_ms(row.updated_at),
                }
            })
            .collect()
    }

    async fn catalogues_for(
        &self,
        conn: &mut AnyConnection,
        rows: &[PermitRow],
    ) -> Result<BTreeMap<String, Catalogue>, PermitError> {
        let mut catalogues = BTreeMap::new();
        for row in rows {
            if !catalogues.contains_key(&row.municipality) {
                let catalogue = catalogue_of(conn, &row.municipality).await?;
                catalogues.insert(row.municipality.clone(), catalogue);
            }
        }
        Ok(catalogues)
    }

    /// The caller's applications (as applicant or as the filing professional), most recently
    /// changed first.
    pub async fn mine(
        &self,
        principal: &Principal,
        cursor: Option<&str>,
        limit: i64,
        lang: &str,
    ) -> Result<api::PermitPage, PermitError> {
        let after = cursor
            .map(|c| {
                decode_cursor(c)
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| invalid("cursor", "Cursore non valido.", "Invalid cursor."))
            })
            .transpose()?;
        let mut conn = self.conn().await?;
        let rows = store::list_for_person(
            &mut conn,
            &principal.user_id,
            &principal.fiscal_code,
            after,
            limit + 1,
        )
        .await?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        let rows: Vec<PermitRow> = rows
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(0))
            .collect();
        let next_cursor = more
            .then(|| {
                rows.last()
                    .map(|r| encode_cursor(&r.updated_at.to_string(), &r.id))
            })
            .flatten();
        let catalogues = self.catalogues_for(&mut conn, &rows).await?;
        Ok(api::PermitPage {
            items: self.summaries(&catalogues, &rows, lang),
            next_cursor,
        })
    }

    /// The work queue of a municipality's permits office, nearest deadline first.
    pub async fn queue(
        &self,
        principal: &Principal,
        query: &QueueQuery,
        lang: &str,
    ) -> Result<api::PermitPage, PermitError> {
        let municipality = IstatCode::parse(&query.municipality)
            .map_err(|e| invalid("municipality", e.to_string(), e.to_string()))?;
        if !may_operate(&principal.roles, &municipality, Office::Permits) {
            return Err(PermitError::Forbidden);
        }
        for status in &query.statuses {
            Status::parse(status)?;
        }
        let today = calendar::rome_date(instant(self.now_ms())?);
        let day = |offset: i64| {
            calendar::add_days(today, offset)
                .map(|d| d.to_string())
                .ok_or(PermitError::Rule(PermitsError::DateOutOfRange))
        };
        let mut filter = store::QueueFilter {
            municipality: municipality.as_str().to_owned(),
            statuses: query.statuses.clone(),
            procedure: query.procedure.clone(),
            ..store::QueueFilter::default()
        };
        if let Some(days) = query.deadline_within_days {
            filter.deadline_from = Some(day(0)?);
            filter.deadline_until = Some(day(days)?);
            filter.closed = Some(false);
        }
        match query.overdue {
            Some(true) => {
                filter.deadline_until = Some(day(-1)?);
                filter.closed = Some(false);
            }
            Some(false) => filter.not_overdue_on = Some(day(0)?),
            None => {}
        }
        let after = query
            .cursor
            .as_deref()
            .map(|c| {
                decode_cursor(c).ok_or_else(|| invalid("cursor", "Cursore non valido.", "Invalid cursor."))
            })
            .transpose()?;
        let mut conn = self.conn().await?;
        let rows = store::queue(&mut conn, &filter, after, query.limit + 1).await?;
        let more = rows.len() > usize::try_from(query.limit).unwrap_or(usize::MAX);
        let rows: Vec<PermitRow> = rows
            .into_iter()
            .take(usize::try_from(query.limit).unwrap_or(0))
            .collect();
        let next_cursor = more
            .then(|| {
                rows.last()
                    .map(|r| encode_cursor(r.deadline.as_deref().unwrap_or("9999-12-31"), &r.id))
            })
            .flatten();
        let catalogues = self.catalogues_for(&mut conn, &rows).await?;
        Ok(api::PermitPage {
            items: self.summaries(&catalogues, &rows, lang),
            next_cursor,
        })
    }

    /// Stores an uploaded document: streamed to a file while hashed (never held in memory),
    /// checked by its first bytes, and recorded only when complete and within the limits.
    pub async fn upload<S, E>(
        &self,
        principal: &Principal,
        id: &str,
        kind: &str,
        file_name: &str,
        body: S,
    ) -> Result<api::PermitDocument, PermitError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file_name = documents::check_file_name(file_name)
            .map_err(|why| {
                invalid(
                    "name",
                    format!("Nome di file non valido: {why}."),
                    format!("Invalid file name: {why}."),
                )
            })?
            .to_owned();
        let promised = DocumentType::from_name(&file_name).ok_or(PermitError::UnsupportedDocument)?;
        let (stage, limit) = {
            let mut conn = self.conn().await?;
            let (loaded, relations) = self.visible(&mut conn, principal, id).await?;
            let stage = upload_stage(&loaded, &relations, kind)?;
            let used = store::documents(&mut conn, id).await?;
            self.check_room(&used)?;
            let total: i64 = used.iter().map(|d| d.size_bytes).sum();
            let room = self
                .config
                .max_permit_bytes
                .saturating_sub(u64::try_from(total).unwrap_or(0));
            (stage, room.min(self.config.max_document_bytes))
        };
        let document_id = uuid::Uuid::now_v7().to_string();
        let dir = self.documents_dir.join(id);
        tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
        let part = dir.join(format!("{document_id}.part"));
        let written = self.write_stream(body, &part, limit, promised).await;
        let (size, sha256) = match written {
            Ok(result) => result,
            Err(error) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(error);
            }
        };
        let path = dir.join(&document_id);
        let recorded = async {
            tokio::fs::rename(&part, &path).await.map_err(internal)?;
            let mut tx = self.db.pool().begin().await?;
            if !store::lock_permit(&mut tx, id).await? {
                return Err(PermitError::NotFound);
            }
            // Re-checked under the lock: the status or the total may have changed meanwhile.
            let (loaded, relations) = self.visible(&mut tx, principal, id).await?;
            upload_stage(&loaded, &relations, kind)?;
            let used = store::documents(&mut tx, id).await?;
            self.check_room(&used)?;
            let total: u64 = used
                .iter()
                .map(|d| u64::try_from(d.size_bytes).unwrap_or(0))
                .sum();
            if total + size > self.config.max_permit_bytes {
                return Err(PermitError::PermitTooLarge(self.config.max_permit_bytes));
            }
            let row = DocumentRow {
                id: document_id.clone(),
                permit_id: id.to_owned(),
                kind: kind.to_owned(),
                file_name: file_name.clone(),
                content_type: promised.content_type().to_owned(),
                size_bytes: i64::try_from(size).map_err(internal)?,
                sha256,
                stage: stage.to_owned(),
                uploaded_by: principal.user_id.clone(),
                uploaded_at: self.now_ms(),
            };
            store::insert_document(&mut tx, &row).await?;
            tx.commit().await?;
            Ok(row)
        }
        .await;
        match recorded {
            Ok(row) => {
                tracing::info!(permit = %id, document = %row.id, size = row.size_bytes, "permit document stored");
                Ok(document_api(&row))
            }
            Err(error) => {
                let _ = tokio::fs::remove_file(&path).await;
                let _ = tokio::fs::remove_file(&part).await;
                Err(error)
            }
        }
    }

    fn check_room(&self, used: &[DocumentRow]) -> Result<(), PermitError> {
        if used.len() >= usize::try_from(self.config.max_documents).unwrap_or(usize::MAX) {
            return Err(invalid(
                "document",
                format!("Al massimo {} documenti per pratica.", self.config.max_documents),
                format!("At most {} documents per application.", self.config.max_documents),
            ));
        }
        Ok(())
    }

    /// Writes the body to `path`, hashing as it goes; refuses it past `limit` bytes or when its
    /// first bytes are not the type its name promises. Returns (size, SHA-256 hex).
    async fn write_stream<S, E>(
        &self,
        mut body: S,
        path: &std::path::Path,
        limit: u64,
        promised: DocumentType,
    ) -> Result<(u64, String), PermitError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::File::create(path).await.map_err(internal)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head: Vec<u8> = Vec::with_capacity(documents::SNIFF_LEN);
        let mut sniffed = false;
        let too_large = || {
            if limit < self.config.max_document_bytes {
                PermitError::PermitTooLarge(self.config.max_permit_bytes)
            } else {
                PermitError::DocumentTooLarge(self.config.max_document_bytes)
            }
        };
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                invalid(
                    "body",
                    format!("Caricamento interrotto: {e}"),
                    format!("Upload interrupted: {e}"),
                )
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large());
            }
            if !sniffed {
                let wanted = documents::SNIFF_LEN - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
                if head.len() >= documents::SNIFF_LEN {
                    sniffed = true;
                    if DocumentType::sniff(&head) != Some(promised) {
                        return Err(PermitError::UnsupportedDocument);
                    }
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(internal)?;
        }
        if size == 0 {
            return Err(invalid("body", "Il documento è vuoto.", "The document is empty."));
        }
        if !sniffed && DocumentType::sniff(&head) != Some(promised) {
            return Err(PermitError::UnsupportedDocument);
        }
        file.flush().await.map_err(internal)?;
        file.sync_all().await.map_err(internal)?;
        Ok((size, hex::encode(hasher.finalize())))
    }

    /// A document for download, after checking that the stored bytes still hash to what was
    /// recorded (a mismatch is logged and refused, never served).
    pub async fn document(
        &self,
        principal: &Principal,
        id: &str,
        document_id: &str,
    ) -> Result<(DocumentRow, PathBuf), PermitError> {
        let mut conn = self.conn().await?;
        self.visible(&mut conn, principal, id).await?;
        let row = store::get_document(&mut conn, id, document_id)
            .await?
            .ok_or(PermitError::DocumentNotFound)?;
        drop(conn);
        let path = self.documents_dir.join(id).join(&row.id);
        let actual = hash_file(&path)
            .await
            .map_err(|e| PermitError::Integrity(format!("document {} of permit {id}: {e}", row.id)))?;
        if actual != row.sha256 {
            return Err(PermitError::Integrity(format!(
                "document {} of permit {id}: SHA-256 {actual} differs from the recorded {}",
                row.id, row.sha256
            )));
        }
        Ok((row, path))
    }

    /// The deadline sweep as of `now_ms`: records matured silent approvals and warns the
    /// officers (and the officer in charge) of deadlines within `permits.warn_within_days`
    /// and of deadlines passed, once per application, kind and deadline.
    pub async fn sweep(&self, now_ms: i64) -> Result<SweepReport, PermitError> {
        let mut report = SweepReport::default();
        let ids = {
            let mut conn = self.conn().await?;
            store::open_with_clock(&mut conn).await?
        };
        let now = instant(now_ms)?;
        for id in ids {
            let mut tx = self.db.pool().begin().await?;
            if !store::lock_permit(&mut tx, &id).await? {
                continue;
            }
            let Some(mut loaded) = load(&mut tx, &id).await? else {
                continue;
            };
            report.examined += 1;
            let last = loaded.timeline.last().map_or(0, |t| t.at);
            let finding = loaded
                .permit
                .sweep(&loaded.procedure, now, self.config.warn_within_days)?;
            match finding {
                SweepFinding::Matured { .. } => {
                    let at = instant(now_ms.max(last))?;
                    apply_step(
                        &mut tx,
                        &mut loaded,
                        Step::new(Action::Mature, Actor::System, at),
                        None,
                        self.push_ttl_ms,
                        self.fee_notices.as_deref(),
                    )
                    .await?;
                    report.matured += 1;
                    tracing::info!(permit = %id, "silent approval recorded");
                }
                SweepFinding::DueSoon { deadline, days_left } => {
                    if self
                        .warn(&mut tx, &loaded, "due-soon", deadline, days_left, now_ms)
                        .await?
                    {
                        report.warned_due_soon += 1;
                    }
                }
                SweepFinding::Overdue {
                    deadline,
                    days_overdue,
                } => {
                    if self
                        .warn(&mut tx, &loaded, "overdue", deadline, -days_overdue, now_ms)
                        .await?
                    {
                        report.warned_overdue += 1;
                    }
                }
                SweepFinding::Nothing => {}
            }
            if !matches!(finding, SweepFinding::Matured { .. }) {
                let clock = loaded.permit.clock(&loaded.procedure, now)?;
                let deadline = clock.and_then(|c| c.deadline()).map(|d| d.to_string());
                if deadline != loaded.row.deadline
                    || clock.is_some_and(|c| c.is_stopped()) != loaded.row.clock_stopped
                {
                    store::update_clock(
                        &mut tx,
                        &id,
                        deadline.as_deref(),
                        clock.is_some_and(|c| c.is_stopped()),
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        if report.matured + report.warned_due_soon + report.warned_overdue > 0 {
            self.notifier.wake();
        }
        Ok(report)
    }

    /// Warns the officers once about a deadline; returns whether this was the first time.
    async fn warn(
        &self,
        conn: &mut AnyConnection,
        loaded: &Loaded,
        kind: &str,
        deadline: jiff::civil::Date,
        days_left: i64,
        now_ms: i64,
    ) -> Result<bool, PermitError> {
        let deadline_text = deadline.to_string();
        if !store::record_warning(conn, &loaded.row.id, kind, &deadline_text, now_ms).await? {
            return Ok(false);
        }
        let role = format!("operator:{}:permits", loaded.row.municipality);
        let mut recipients = store::people_with_role(conn, &role).await?;
        if let Some(officer) = &loaded.row.assigned_to
            && let Some(person) = store::person(conn, officer).await?
            && !recipients.iter().any(|r| r.user_id == person.user_id)
        {
            recipients.push(person);
        }
        for recipient in recipients {
            let (subject, body) =
                messages::warning(&recipient.language, loaded, kind, &deadline_text, days_left);
            enqueue(
                conn,
                &NewMessage {
                    user_id: recipient.user_id,
                    municipality: Some(loaded.row.municipality.clone()),
                    topic: "permits".to_owned(),
                    subject,
                    body,
                    due_date: Some(deadline_text.clone()),
                    dedup_key: Some(format!("permit-warning:{}:{kind}:{deadline_text}", loaded.row.id)),
                    ttl_ms: self.push_ttl_ms,
                    ..NewMessage::default()
                },
            )
            .await?;
        }
        Ok(true)
    }

    /// The periodic sweep: every `permits.sweep_interval_secs` until `stop` turns true.
    pub async fn run_sweeps(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let period = std::time::Duration::from_secs(self.config.sweep_interval_secs.max(1));
        loop {
            match self.sweep(self.now_ms()).await {
                Ok(report) if report.matured + report.warned_due_soon + report.warned_overdue > 0 => {
                    tracing::info!(?report, "permits sweep");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "permits sweep failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Sets (or removes) a municipality's catalogue overrides, after checking they parse.
    pub async fn set_catalogue_override(
        &self,
        municipality: &IstatCode,
        toml: Option<&str>,
    ) -> Result<(), PermitError> {
        if let Some(text) = toml {
            Catalogue::builtin_with(text).map_err(|e| invalid("catalogue", e.to_string(), e.to_string()))?;
        }
        let mut conn = self.conn().await?;
        store::set_catalogue_override(&mut conn, municipality.as_str(), toml, now_ms()).await?;
        Ok(())
    }
}

/// The stage a document uploaded now belongs to, if the caller may upload one of `kind`.
fn upload_stage(loaded: &Loaded, relations: &[Actor], kind: &str) -> Result<&'static str, PermitError> {
    if !relations
        .iter()
        .any(|r| matches!(r, Actor::Applicant | Actor::Professional))
    {
        return Err(PermitsError::Transition {
            status: loaded.permit.status(),
            action: Action::SubmitIntegration,
            reason: sportello_core::permits::TransitionDenied::NotAllowedFor(Actor::Operator),
        }
        .into());
    }
    let stage = match loaded.permit.status() {
        Status::Draft => "application",
        Status::IntegrationRequested => "integration",
        other => return Err(PermitError::DocumentsClosed(other.as_str().to_owned())),
    };
    if !loaded.procedure.documents.iter().any(|d| d.code == kind) {
        let codes: Vec<&str> = loaded
            .procedure
            .documents
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        return Err(invalid(
            "kind",
            format!("Tipo di documento sconosciuto; ammessi: {}.", codes.join(", ")),
            format!("Unknown document kind; allowed: {}.", codes.join(", ")),
        ));
    }
    Ok(stage)
}

/// Applies a draft update to the row, validating every member against the procedure.
#[allow(clippy::too_many_lines, reason = "one block per member, read top to bottom")]
fn apply_update(loaded: &mut Loaded, update: &api::PermitUpdate) -> Result<(), PermitError> {
    let text = |field: &str, value: &str, max: usize| -> Result<Option<String>, PermitError> {
        let value = value.trim();
        if value.chars().count() > max || value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(invalid(
                field,
                format!("Al massimo {max} caratteri, senza caratteri di controllo."),
                format!("At most {max} characters, no control characters."),
            ));
        }
        Ok((!value.is_empty()).then(|| value.to_owned()))
    };
    let row = &mut loaded.row;
    if let Some(address) = &update.address {
        row.address = text("address", address, 300)?;
    }
    if let Some(description) = &update.description {
        row.description = text("description", description, 10_000)?;
    }
    if let Some(parcel) = &update.cadastral_parcel {
        let code = |field: &str, value: &str| -> Result<Option<String>, PermitError> {
            let value = value.trim();
            if value.len() > 10 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(invalid(
                    field,
                    "Da 1 a 10 lettere o cifre.",
                    "1 to 10 letters or digits.",
                ));
            }
            Ok((!value.is_empty()).then(|| value.to_owned()))
        };
        let foglio = code("cadastral_parcel.foglio", &parcel.foglio)?;
        let mappale = code("cadastral_parcel.mappale", &parcel.mappale)?;
        if foglio.is_none() || mappale.is_none() {
            return Err(invalid(
                "cadastral_parcel",
                "Servono foglio e mappale.",
                "Sheet (foglio) and parcel (mappale) are required.",
            ));
        }
        row.foglio = foglio;
        row.mappale = mappale;
        row.subalterno = parcel
            .subalterno
            .as_deref()
            .map(|s| code("cadastral_parcel.subalterno", s))
            .transpose()?
            .flatten();
    }
    if let Some(fields) = &update.fields {
        let mut stored = fields_of(row)?;
        for (code, value) in fields {
            let spec = loaded
                .procedure
                .fields
                .iter()
                .find(|f| f.code == *code && !is_own_member(f.kind, &f.code))
                .ok_or_else(|| {
                    invalid(
                        &format!("fields.{code}"),
                        "Campo sconosciuto per questa procedura.",
                        "Unknown field for this procedure.",
                    )
                })?;
            let field = format!("fields.{code}");
            let value = value.trim();
            if value.is_empty() {
                stored.remove(code);
                continue;
            }
            let ok = match spec.kind {
                FieldKind::Date => value.parse::<jiff::civil::Date>().is_ok(),
                FieldKind::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
                FieldKind::Boolean => matches!(value, "true" | "false"),
                FieldKind::Text => value.chars().count() <= 300,
                _ => value.chars().count() <= 10_000,
            };
            if !ok {
                return Err(invalid(
                    &field,
                    format!("Valore non valido per un campo di tipo {}.", spec.kind.as_str()),
                    format!("Invalid value for a {} field.", spec.kind.as_str()),
                ));
            }
            stored.insert(code.clone(), value.to_owned());
        }
        row.fields = serde_json::to_string(&stored).map_err(internal)?;
    }
    if let Some(constraints) = &update.constraints {
        let parsed = constraints
            .iter()
            .map(|c| Constraint::parse(c.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("constraints", e.to_string(), e.to_string()))?;
        loaded.permit.set_constraints(parsed)?;
        loaded.row.constraints = loaded
            .permit
            .constraints()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    }
    Ok(())
}

/// Fields with their own member in the API rather than in `fields`.
fn is_own_member(kind: FieldKind, code: &str) -> bool {
    matches!(kind, FieldKind::Address | FieldKind::CadastralParcel) || code == "description"
}

/// What a draft lacks before it can be submitted: required fields and documents.
async fn check_complete(conn: &mut AnyConnection, loaded: &Loaded) -> Result<(), PermitError> {
    let row = &loaded.row;
    let fields = fields_of(row)?;
    let mut missing = Vec::new();
    for spec in loaded.procedure.fields.iter().filter(|f| f.required) {
        let present = match spec.kind {
            FieldKind::Address => row.address.is_some(),
            FieldKind::CadastralParcel => row.foglio.is_some() && row.mappale.is_some(),
            _ if spec.code == "description" => row.description.is_some(),
            _ => fields.contains_key(&spec.code),
        };
        if !present {
            let field = if is_own_member(spec.kind, &spec.code) {
                spec.code.clone()
            } else {
                format!("fields.{}", spec.code)
            };
            missing.push((
                field,
                format!("Obbligatorio: {}.", spec.label.it),
                format!("Required: {}.", spec.label.en),
            ));
        }
    }
    let documents = store::documents(conn, &row.id).await?;
    for spec in loaded.procedure.documents.iter().filter(|d| d.required) {
        if !documents.iter().any(|d| d.kind == spec.code) {
            missing.push((
                format!("documents.{}", spec.code),
                format!("Documento obbligatorio mancante: {}.", spec.name.it),
                format!("Required document missing: {}.", spec.name.en),
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PermitError::Incomplete(missing))
    }
}

/// An answer to an integration request must bring at least one document uploaded since.
async fn check_integration_documents(conn: &mut AnyConnection, loaded: &Loaded) -> Result<(), PermitError> {
    let requested_at = loaded
        .timeline
        .iter()
        .rev()
        .find(|t| t.action == Action::RequestIntegration.as_str())
        .map_or(0, |t| t.at);
    let documents = store::documents(conn, &loaded.row.id).await?;
    if documents
        .iter()
        .any(|d| d.stage == "integration" && d.uploaded_at >= requested_at)
    {
        Ok(())
    } else {
        Err(PermitError::Incomplete(vec![(
            "documents".to_owned(),
            "Carica almeno un documento di integrazione prima di inviarla.".to_owned(),
            "Upload at least one integration document before submitting it.".to_owned(),
        )]))
    }
}

/// The actions the caller could take now, as core sees them (documents on file aside).
fn allowed_actions(loaded: &Loaded, relations: &[Actor], now: jiff::Timestamp) -> Vec<String> {
    let at = loaded
        .permit
        .timeline()
        .last()
        .map_or(now, |last| now.max(last.at));
    let mut actions: Vec<String> = Action::ALL
        .into_iter()
        .filter(|a| *a != Action::Mature)
        .filter(|action| {
            let Some(actor) = relations.iter().copied().find(|a| action.actors().contains(a)) else {
                return false;
            };
            let mut step = Step::new(*action, actor, at);
            if let (Action::Register, Ok(number)) = (*action, ProtocolNumber::new(2000, 1)) {
                step = step.with_protocol_number(number);
            }
            loaded.permit.clone().apply(&loaded.procedure, step).is_ok()
        })
        .map(|a| a.as_str().to_owned())
        .collect();
    if relations.contains(&Actor::Operator) && !loaded.permit.status().is_final() {
        actions.push("assign".to_owned());
    }
    actions
}

fn parcel_of(row: &PermitRow) -> Option<api::CadastralParcel> {
    Some(api::CadastralParcel {
        foglio: row.foglio.clone()?,
        mappale: row.mappale.clone()?,
        subalterno: row.subalterno.clone(),
    })
}

fn fields_of(row: &PermitRow) -> Result<BTreeMap<String, String>, PermitError> {
    serde_json::from_str(&row.fields)
        .map_err(|e| PermitError::Integrity(format!("fields of {}: {e}", row.id)))
}

fn document_api(row: &DocumentRow) -> api::PermitDocument {
    api::PermitDocument {
        id: row.id.clone(),
        kind: row.kind.clone(),
        file_name: row.file_name.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        stage: row.stage.clone(),
        uploaded_at: rfc3339_from_ms(row.uploaded_at),
    }
}

/// SHA-256 of a file, read in chunks.
async fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One demo application: procedure, address, description, and the steps taken so far as
/// (days ago, action, actor, note).
type DemoPermit = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(i64, Action, Actor, Option<&'static str>)],
);

/// Applications of the demo citizen in Genova, in several states (`--demo`).
const DEMO_PERMITS: &[DemoPermit] = &[
    (
        "cila",
        "Via XX Settembre 14, Genova",
        "Rifacimento del bagno",
        &[],
    ),
    (
        "pdc",
        "Salita San Nicolò 5, Genova",
        "Sopraelevazione di un piano",
        &[
            (20, Action::Submit, Actor::Applicant, None),
            (20, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (18, Action::Register, Actor::Operator, None),
            (15, Action::StartReview, Actor::Operator, None),
            (
                5,
                Action::RequestIntegration,
                Actor::Operator,
                Some("Manca la relazione geologica"),
            ),
        ],
    ),
    (
        "scia",
        "Corso Italia 30, Genova",
        "Manutenzione straordinaria della facciata",
        &[
            (10, Action::Submit, Actor::Applicant, None),
            (10, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (9, Action::Register, Actor::Operator, None),
        ],
    ),
    (
        "suolo-pubblico",
        "Piazza De Ferrari, Genova",
        "Ponteggio per 30 giorni, 12 m²",
        &[
            (25, Action::Submit, Actor::Applicant, None),
            (25, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (24, Action::Register, Actor::Operator, None),
            (20, Action::StartReview, Actor::Operator, None),
            (2, Action::Accept, Actor::Operator, Some("Concessione accordata")),
        ],
    ),
];

/// Loads the demo applications of `fiscal_code` (user `user_id`) unless they have some already.
/// With `notices`, an application left waiting for a payment gets its pagoPA notice (the steps
/// before the last are history: their fees were paid at the counter, no notice is replayed).
pub async fn load_demo(
    db: &Db,
    user_id: &str,
    fiscal_code: &str,
    notices: Option<&dyn fees::FeeNotices>,
) -> Result<usize, PermitError> {
    let mut tx = db.pool().begin().await?;
    if !store::list_for_person(&mut tx, user_id, fiscal_code, None, 1)
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let now = now_ms();
    for (procedure, address, description, steps) in DEMO_PERMITS {
        let id = uuid::Uuid::now_v7().to_string();
        let created = now - 30 * MS_PER_DAY;
        store::insert_permit(
            &mut tx,
            &PermitRow {
                id: id.clone(),
                municipality: "010025".to_owned(),
                procedure_code: (*procedure).to_owned(),
                status: Status::Draft.as_str().to_owned(),
                applicant_fiscal_code: fiscal_code.to_owned(),
                filed_by: user_id.to_owned(),
                professional_fiscal_code: None,
                assigned_to: None,
                large_municipality: true,
                address: Some((*address).to_owned()),
                foglio: Some("12".to_owned()),
                mappale: Some("345".to_owned()),
                subalterno: None,
                description: Some((*description).to_owned()),
                fields: "{}".to_owned(),
                constraints: String::new(),
                protocol_year: None,
                protocol_number: None,
                deadline: None,
                clock_stopped: false,
                created_at: created,
                updated_at: created,
            },
        )
        .await?;
        let mut loaded = load(&mut tx, &id).await?.ok_or(PermitError::NotFound)?;
        for (i, (days_ago, action, actor, note)) in steps.iter().enumerate() {
            let at = instant(now - days_ago * MS_PER_DAY)?;
            let mut step = Step::new(*action, *actor, at);
            if let Some(note) = note {
                step = step.with_note(note);
            }
            if *action == Action::Register {
                let year = calendar::rome_date(at).year();
                let number = store::next_protocol_number(&mut tx, "010025", i64::from(year)).await?;
                step = step.with_protocol_number(ProtocolNumber::new(
                    year,
                    u32::try_from(number).map_err(internal)?,
                )?);
            }
            if *action == Action::ConfirmPayment {
                store::mark_fees_paid(&mut tx, &id, FeeDue::Filing.as_str(), "demo", at.as_millisecond())
                    .await?;
            }
            let user = matches!(actor, Actor::Applicant).then_some(user_id);
            let last = i + 1 == steps.len();
            let notices = notices.filter(|_| last);
            apply_step(&mut tx, &mut loaded, step, user, DEFAULT_PUSH_TTL_MS, notices).await?;
        }
    }
    tx.commit().await?;
    Ok(DEMO_PERMITS.len())
}
