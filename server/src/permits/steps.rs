//! Taking a step on an application and telling the parties: core decides, then the row, the
//! timeline entry, the fees that fall due (handed to Payments, see [`super::fees`]) and the
//! inbox messages are written in the step's transaction.

use sportello_core::api;
use sportello_core::calendar;
use sportello_core::identity::FiscalCode;
use sportello_core::permits::{Action, Actor, FeeDue, ProtocolNumber, Status, Step, TimelineEntry};
use sqlx::AnyConnection;

use super::access::{actor_for, may_assign};
use super::draft::{check_complete, check_integration_documents};
use super::error::{bad_instant, invalid};
use super::fees::{self, FeeNotice, FeeNotices};
use super::loaded::Loaded;
use super::messages;
use super::store::{self, TimelineRow};
use super::{PermitError, Permits, internal};
use crate::clock::timestamp_from_ms;
use crate::identity::Principal;
use crate::notify::store::{NewMessage, enqueue};

/// The group of fees that falls due when an application enters `status`, if any.
fn falls_due(status: Status) -> Option<FeeDue> {
    match status {
        Status::AwaitingPayment => Some(FeeDue::Filing),
        Status::AwaitingIssuePayment => Some(FeeDue::Issue),
        _ => None,
    }
}

/// The group of fees a payment recorded in `status` pays: the issue fees while they are
/// awaited, else the filing fees.
pub(super) fn paid_in(status: Status) -> FeeDue {
    falls_due(status).unwrap_or(FeeDue::Filing)
}

/// The next protocol number of the application's municipality, in the Rome year of `at`
/// (gapless: drawn in the registration's transaction, rolled back with it).
pub(super) async fn draw_protocol_number(
    conn: &mut AnyConnection,
    municipality: &str,
    at: jiff::Timestamp,
) -> Result<ProtocolNumber, PermitError> {
    let year = calendar::rome_date(at).year();
    let number = store::next_protocol_number(conn, municipality, i64::from(year)).await?;
    Ok(ProtocolNumber::new(
        year,
        u32::try_from(number).map_err(internal)?,
    )?)
}

impl Permits {
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
        let mut step = Step::new(
            action,
            actor,
            timestamp_from_ms(now).ok_or_else(|| bad_instant(now))?,
        );
        if let Some(note) = request.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            step = step.with_note(note);
        }
        // Core first; then what core cannot know: the documents on file.
        loaded.permit.check(&loaded.procedure, &step)?;
        match action {
            Action::Submit => check_complete(&mut tx, &loaded).await?,
            Action::SubmitIntegration => check_integration_documents(&mut tx, &loaded).await?,
            Action::Register => {
                let number = draw_protocol_number(&mut tx, &loaded.row.municipality, step.at).await?;
                step = step.with_protocol_number(number);
            }
            Action::ConfirmPayment => {
                // A payment taken at the counter: the officer's word is the receipt.
                let due = paid_in(loaded.permit.status());
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
        may_assign(&relations, status)?;
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
}

/// Whether the application waits for a payment in `status`.
fn awaits_payment(status: Status) -> bool {
    falls_due(status).is_some()
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
    notices: Option<&dyn FeeNotices>,
) -> Result<TimelineEntry, PermitError> {
    let at_ms = step.at.as_millisecond();
    let entry = loaded.permit.apply(&loaded.procedure, step)?.clone();
    let due = falls_due(entry.to);
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
    notice: Option<&FeeNotice>,
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
    let fee_due: i64 = if awaits_payment(entry.to) {
        loaded
            .permit
            .fees_due_now(&loaded.procedure)
            .iter()
            .map(|f| f.amount.cents())
            .sum()
    } else {
        0
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_fall_due_on_entering_a_payment_state_and_are_paid_in_it() {
        for status in Status::ALL {
            let expected = match status {
                Status::AwaitingPayment => Some(FeeDue::Filing),
                Status::AwaitingIssuePayment => Some(FeeDue::Issue),
                _ => None,
            };
            assert_eq!(falls_due(status), expected, "{status}");
            assert_eq!(awaits_payment(status), expected.is_some(), "{status}");
        }
        assert_eq!(paid_in(Status::AwaitingIssuePayment), FeeDue::Issue);
        assert_eq!(paid_in(Status::AwaitingPayment), FeeDue::Filing);
        // At the counter, an officer may confirm a payment in any state core allows.
        assert_eq!(paid_in(Status::Submitted), FeeDue::Filing);
    }
}
