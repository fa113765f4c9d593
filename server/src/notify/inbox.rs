//! What a person reads and sets: their inbox, their devices and their notification
//! preferences (the delivery of pushes is in `mod.rs`).

use sportello_core::api;
use sportello_core::notify::{TimeOfDay, Topic};

use super::{Notifier, NotifyError, invalid, store, wire};
use crate::pagination::{Cursor, PageRequest};

impl Notifier {
    /// A page of the person's inbox, newest first, with the count of unread messages.
    pub async fn inbox(&self, user_id: &str, page: &PageRequest) -> Result<api::InboxPage, NotifyError> {
        let after = page
            .after
            .as_ref()
            .map(|cursor| Ok::<_, NotifyError>((cursor.key_number()?, cursor.id.clone())))
            .transpose()?;
        let rows = store::list_messages(&self.db, user_id, after, page.fetch_limit()).await?;
        let (messages, next_cursor) = page.page(rows, |m| Cursor::new(m.created_at, m.id.clone()));
        let unread = store::unread_count(&self.db, user_id).await?;
        Ok(api::InboxPage {
            items: messages.into_iter().map(wire::message).collect(),
            next_cursor,
            unread,
        })
    }

    /// One message of the person's inbox.
    pub async fn inbox_message(&self, user_id: &str, id: &str) -> Result<api::InboxMessage, NotifyError> {
        let message = store::get_message(&self.db, user_id, id)
            .await?
            .ok_or(NotifyError::NotFound)?;
        Ok(wire::message(message))
    }

    /// Marks one of the person's messages read.
    pub async fn mark_read(&self, user_id: &str, id: &str) -> Result<(), NotifyError> {
        found(store::mark_read(&self.db, user_id, id).await?)
    }

    /// Deletes one of the person's messages.
    pub async fn delete_message(&self, user_id: &str, id: &str) -> Result<(), NotifyError> {
        found(store::delete_message(&self.db, user_id, id).await?)
    }

    /// The person's registered devices.
    pub async fn devices(&self, user_id: &str) -> Result<Vec<api::Device>, NotifyError> {
        let devices = store::list_devices(&self.db, user_id).await?;
        Ok(devices.into_iter().map(wire::device).collect())
    }

    /// Removes one of the person's devices.
    pub async fn delete_device(&self, user_id: &str, id: &str) -> Result<(), NotifyError> {
        found(store::delete_device(&self.db, user_id, id).await?)
    }

    /// The person's preferences: every topic, Italian, no quiet hours until they change them.
    pub async fn preferences(&self, user_id: &str) -> Result<api::NotificationPreferences, NotifyError> {
        let stored = store::get_preferences(&self.db, user_id).await?;
        let municipalities = store::alert_areas(&self.db, user_id).await?;
        Ok(match stored {
            Some(p) => api::NotificationPreferences {
                topics: p.topics,
                language: p.language,
                quiet_hours: p
                    .quiet_start
                    .zip(p.quiet_end)
                    .map(|(start, end)| api::QuietHours { start, end }),
                municipalities,
            },
            None => api::NotificationPreferences {
                topics: Topic::ALL.iter().map(|t| t.as_str().to_owned()).collect(),
                language: "it".to_owned(),
                quiet_hours: None,
                municipalities,
            },
        })
    }

    /// Replaces the person's preferences; returns them as stored (topics and alert areas
    /// without repeats, areas sorted).
    pub async fn set_preferences(
        &self,
        user_id: &str,
        preferences: api::NotificationPreferences,
    ) -> Result<api::NotificationPreferences, NotifyError> {
        let mut topics = Vec::new();
        for topic in &preferences.topics {
            let topic: Topic = topic.parse().map_err(|e: sportello_core::notify::NotifyError| {
                invalid("topics", e.to_string(), e.to_string())
            })?;
            if !topics.contains(&topic.as_str().to_owned()) {
                topics.push(topic.as_str().to_owned());
            }
        }
        if !["it", "en"].contains(&preferences.language.as_str()) {
            return Err(invalid("language", "Lingue: it, en.", "Languages: it, en."));
        }
        if let Some(quiet) = &preferences.quiet_hours {
            for value in [&quiet.start, &quiet.end] {
                TimeOfDay::parse(value).map_err(|e| invalid("quiet_hours", e.to_string(), e.to_string()))?;
            }
        }
        let mut municipalities = self.check_municipalities(&preferences.municipalities)?;
        municipalities.sort();
        let stored = store::Preferences {
            topics: topics.clone(),
            language: preferences.language.clone(),
            quiet_start: preferences.quiet_hours.as_ref().map(|q| q.start.clone()),
            quiet_end: preferences.quiet_hours.as_ref().map(|q| q.end.clone()),
        };
        store::put_preferences(&self.db, user_id, &stored).await?;
        store::set_alert_areas(&self.db, user_id, &municipalities).await?;
        Ok(api::NotificationPreferences {
            topics,
            municipalities,
            ..preferences
        })
    }
}

/// `NotFound` when a statement on one of the person's rows touched none.
fn found(touched: bool) -> Result<(), NotifyError> {
    if touched {
        Ok(())
    } else {
        Err(NotifyError::NotFound)
    }
}
