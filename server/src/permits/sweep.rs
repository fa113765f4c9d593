//! The deadline sweep: silent approvals (and the end of a SCIA's checks) recorded when core
//! says the term ran out with effect, warnings to the officers otherwise, once per
//! application, kind and deadline; the stored clock columns refreshed on the way.

use std::sync::Arc;

use sportello_core::permits::{Action, Actor, Step, SweepFinding};
use sqlx::AnyConnection;

use super::error::bad_instant;
use super::loaded::{Loaded, load};
use super::messages;
use super::steps::apply_step;
use super::store;
use super::{PermitError, Permits};
use crate::clock::timestamp_from_ms;
use crate::notify::store::{NewMessage, enqueue};

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

impl SweepReport {
    /// Whether the sweep changed or sent anything.
    fn acted(&self) -> bool {
        self.matured + self.warned_due_soon + self.warned_overdue > 0
    }
}

impl Permits {
    /// The deadline sweep as of `now_ms`: records matured silent approvals and warns the
    /// officers (and the officer in charge) of deadlines within `permits.warn_within_days`
    /// and of deadlines passed, once per application, kind and deadline.
    pub async fn sweep(&self, now_ms: i64) -> Result<SweepReport, PermitError> {
        let mut report = SweepReport::default();
        let ids = {
            let mut conn = self.conn().await?;
            store::open_with_clock(&mut conn).await?
        };
        let now = timestamp_from_ms(now_ms).ok_or_else(|| bad_instant(now_ms))?;
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
                    let at_ms = now_ms.max(last);
                    let at = timestamp_from_ms(at_ms).ok_or_else(|| bad_instant(at_ms))?;
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
        if report.acted() {
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
                Ok(report) if report.acted() => tracing::info!(?report, "permits sweep"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "permits sweep failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_acted_when_it_recorded_or_warned() {
        assert!(!SweepReport::default().acted());
        assert!(
            !SweepReport {
                examined: 40,
                ..SweepReport::default()
            }
            .acted()
        );
        for report in [
            SweepReport {
                matured: 1,
                ..SweepReport::default()
            },
            SweepReport {
                warned_due_soon: 1,
                ..SweepReport::default()
            },
            SweepReport {
                warned_overdue: 1,
                ..SweepReport::default()
            },
        ] {
            assert!(report.acted(), "{report:?}");
        }
    }
}
