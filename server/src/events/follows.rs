//! Following events: a person's list, and what followers are told when an event they follow is
//! cancelled, postponed or moved (an inbox message with its push, queued through the
//! notification outbox in the transaction of the change, as every context does).

use sportello_core::api;
use sportello_core::events::{EventStatus, Lang};
use sqlx::AnyConnection;

use super::store::{self, EventRow};
use super::{Events, EventsError};
use crate::clock::{now_ms, rfc3339_from_ms};
use crate::notify::store::{NewMessage, enqueue};

/// Most events in a person's list.
const FOLLOWED_LIMIT: i64 = 200;
/// How long a push about a change stays deliverable: a day.
const CHANGE_TTL_MS: i64 = 86_400_000;

impl Events {
    /// Follows an event (following it again changes nothing).
    pub async fn follow(&self, user_id: &str, id: &str) -> Result<(), EventsError> {
        store::event(&self.db, id).await?.ok_or(EventsError::NotFound)?;
        store::follow(&self.db, user_id, id, now_ms()).await?;
        Ok(())
    }

    /// Stops following an event; `NotFound` when the person did not follow it.
    pub async fn unfollow(&self, user_id: &str, id: &str) -> Result<(), EventsError> {
        if store::unfollow(&self.db, user_id, id).await? {
            Ok(())
        } else {
            Err(EventsError::NotFound)
        }
    }

    /// The events a person follows, most recently followed first.
    pub async fn followed(&self, user_id: &str, lang: Lang) -> Result<api::EventList, EventsError> {
        let ids = store::followed(&self.db, user_id, FOLLOWED_LIMIT).await?;
        let mut rows = store::events_by_ids(&self.db, &ids).await?;
        rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(self.to_api(row, lang).await?);
        }
        Ok(api::EventList { items })
    }
}

/// What changed for the followers of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Change {
    pub status: EventStatus,
    /// The next start, when it moved.
    pub moved_to: Option<i64>,
}

/// Tells every follower of `row` about `change`, inside the caller's transaction.
pub(super) async fn tell_followers(
    conn: &mut AnyConnection,
    row: &EventRow,
    title: &str,
    change: Change,
) -> Result<(), sqlx::Error> {
    let (it, en) = match change.status {
        EventStatus::Cancelled => ("è stato annullato".to_owned(), "has been cancelled".to_owned()),
        EventStatus::Postponed => (
            "è stato rinviato a data da definire".to_owned(),
            "has been postponed".to_owned(),
        ),
        EventStatus::Scheduled | EventStatus::Rescheduled => match change.moved_to {
            Some(at) => (
                format!("è stato spostato: ora inizia il {}", rome_text(at)),
                format!("has been moved: it now starts on {}", rome_text(at)),
            ),
            None => return Ok(()),
        },
    };
    for user_id in store::followers(conn, &row.id).await? {
        let message = NewMessage {
            user_id,
            municipality: Some(row.municipality.clone()),
            topic: "events".to_owned(),
            subject: format!("«{title}» {it}"),
            body: format!("L'evento «{title}» che segui {it}.\n\n_The event «{title}» you follow {en}._"),
            due_date: None,
            payment_notice: None,
            payment_amount_cents: None,
            payment_creditor: None,
            dedup_key: Some(format!(
                "event:{}:{}:{}",
                row.id,
                change.status,
                change.moved_to.unwrap_or(0)
            )),
            ttl_ms: CHANGE_TTL_MS,
        };
        enqueue(conn, &message).await?;
    }
    Ok(())
}

/// An instant as Rome's date and time (`12/12/2026 21:00`).
pub(super) fn rome_text(ms: i64) -> String {
    crate::clock::timestamp_from_ms(ms).map_or_else(
        || rfc3339_from_ms(ms),
        |at| {
            sportello_core::calendar::ROME
                .to_datetime(at)
                .strftime("%d/%m/%Y %H:%M")
                .to_string()
        },
    )
}
