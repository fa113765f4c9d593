//! Reminders to followers before an event's next occurrence starts: a sweep, run on a schedule
//! as the permits deadline sweep is, that queues an inbox message with its push through the
//! notification outbox, once per occurrence and follower. The reminder moment is the configured
//! lead before the start, moved before the follower's quiet hours when it falls in them (the
//! notification worker would otherwise hold the push until they end, maybe after the start).

use std::sync::Arc;

use jiff::SignedDuration;
use sportello_core::events::Lang;
use sportello_core::events::reminder::reminder_at;
use sportello_core::notify::{QuietHours, TimeOfDay};

use super::follows::rome_text;
use super::store::{self, ReminderCandidate};
use super::{Events, EventsError, wire};
use crate::clock::{now_ms, timestamp_from_ms};
use crate::notify::store::{NewMessage, enqueue};

/// Most follower-occurrence pairs one sweep looks at (the next sweep takes the rest).
const SWEEP_LIMIT: i64 = 5_000;
/// Quiet hours move a reminder back by at most a day: look that much further ahead.
const QUIET_SLACK_MS: i64 = 86_400_000;
/// A reminder's push never lives less than this (a start a few seconds away still gets it).
const MIN_TTL_MS: i64 = 60_000;

/// What a reminder sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Follower-occurrence pairs looked at.
    pub examined: u64,
    /// Reminders queued.
    pub sent: u64,
}

impl Events {
    /// The reminder sweep as of `now_ms`: reminds every follower whose reminder moment for an
    /// occurrence has come, once per occurrence (safe to run any time, from several instances).
    pub async fn remind(&self, now_ms: i64) -> Result<ReminderReport, EventsError> {
        let lead_ms = i64::from(self.config.reminder_lead_minutes) * 60_000;
        let lead = SignedDuration::from_millis(lead_ms);
        let candidates =
            store::reminder_candidates(&self.db, now_ms, now_ms + lead_ms + QUIET_SLACK_MS, SWEEP_LIMIT)
                .await?;
        let mut report = ReminderReport::default();
        for candidate in candidates {
            report.examined += 1;
            let Some(start) = timestamp_from_ms(candidate.starts_at) else {
                continue;
            };
            if reminder_at(start, lead, quiet_hours(&candidate)).as_millisecond() > now_ms {
                continue;
            }
            if self.send_reminder(&candidate, now_ms).await? {
                report.sent += 1;
            }
        }
        if report.sent > 0
            && let Some(notifier) = &self.notifier
        {
            notifier.wake();
        }
        Ok(report)
    }

    /// Marks the occurrence reminded and queues the message in one transaction; false when
    /// another sweep did it first or the event is gone.
    async fn send_reminder(&self, candidate: &ReminderCandidate, now_ms: i64) -> Result<bool, EventsError> {
        let Some(row) = store::event(&self.db, &candidate.event_id).await? else {
            return Ok(false);
        };
        let (_, title) = wire::summary(&row)?.title(Lang::It);
        let when = rome_text(candidate.starts_at);
        let mut tx = self.db.pool().begin().await?;
        if !store::mark_reminded(
            &mut tx,
            &candidate.user_id,
            &candidate.event_id,
            candidate.starts_at,
        )
        .await?
        {
            return Ok(false);
        }
        let message = NewMessage {
            user_id: candidate.user_id.clone(),
            municipality: Some(row.municipality.clone()),
            topic: "events".to_owned(),
            subject: format!("Promemoria: «{title}» il {when}"),
            body: format!(
                "L'evento «{title}» che segui inizia il {when}.\n\n_The event «{title}» you follow starts on {when} (Rome time)._"
            ),
            due_date: None,
            dedup_key: Some(format!(
                "event-reminder:{}:{}",
                candidate.event_id, candidate.starts_at
            )),
            // Never delivered after the start: a reminder then is noise.
            ttl_ms: (candidate.starts_at - now_ms).max(MIN_TTL_MS),
            ..NewMessage::default()
        };
        enqueue(&mut tx, &message).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The periodic reminder sweep: every `events.reminder_interval_secs` until `stop` turns true.
    pub async fn run_reminders(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let period = std::time::Duration::from_secs(self.config.reminder_interval_secs.max(1));
        loop {
            match self.remind(now_ms()).await {
                Ok(report) if report.sent > 0 => tracing::info!(?report, "event reminders"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "event reminder sweep failed; retrying"),
            }
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// The follower's quiet hours, when they set readable ones.
fn quiet_hours(candidate: &ReminderCandidate) -> Option<QuietHours> {
    let start = TimeOfDay::parse(candidate.quiet_start.as_deref()?).ok()?;
    let end = TimeOfDay::parse(candidate.quiet_end.as_deref()?).ok()?;
    Some(QuietHours { start, end })
}
