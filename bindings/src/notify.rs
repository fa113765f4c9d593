//! Notifications: the device's push registration, preferences, the inbox, area broadcasts, and
//! the data of a received push.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use reqwest::Method;
use sportello_core::api::{self, BroadcastAccepted, PaymentData, QuietHours};
use sportello_core::notify;

use crate::client::{SportelloClient, path_segment, timestamp};
use crate::error::SportelloError;
use crate::tenant::parse_istat_code;

/// Scheme and host of the app's deep links to inbox messages (`it.genova.sportello://inbox/{id}`).
pub const INBOX_DEEP_LINK: &str = "it.genova.sportello://inbox/";

/// What a notification is about; people choose the topics they receive pushes for.
/// Kotlin's `toString()` gives the API string (`alerts`); in Python and Swift the enum's own
/// string forms are not it (the case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[uniffi::export(Display)]
pub enum Topic {
    /// Holds ready, loans due.
    Library,
    /// Permit status changes and deadlines.
    Permits,
    /// Payment notices and receipts.
    Payments,
    /// Cultural events.
    Events,
    /// Civil-protection and other public alerts (they ignore quiet hours).
    Alerts,
}

impl From<notify::Topic> for Topic {
    fn from(topic: notify::Topic) -> Self {
        match topic {
            notify::Topic::Library => Topic::Library,
            notify::Topic::Permits => Topic::Permits,
            notify::Topic::Payments => Topic::Payments,
            notify::Topic::Events => Topic::Events,
            notify::Topic::Alerts => Topic::Alerts,
        }
    }
}

impl From<Topic> for notify::Topic {
    fn from(topic: Topic) -> Self {
        match topic {
            Topic::Library => notify::Topic::Library,
            Topic::Permits => notify::Topic::Permits,
            Topic::Payments => notify::Topic::Payments,
            Topic::Events => notify::Topic::Events,
            Topic::Alerts => notify::Topic::Alerts,
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(notify::Topic::from(*self).as_str())
    }
}

/// Parses a topic string (`library`, `permits`, `payments`, `events`, `alerts`), e.g. the
/// `topic` of an inbox message or a push.
#[uniffi::export]
pub fn parse_topic(text: &str) -> Result<Topic, SportelloError> {
    text.trim()
        .parse::<notify::Topic>()
        .map(Topic::from)
        .map_err(|error| SportelloError::invalid("topic", &error))
}

/// Topics from the server; one this version of the library does not know (from a newer server)
/// is left out rather than failing the call.
fn known_topics(topics: &[String]) -> Vec<Topic> {
    topics
        .iter()
        .filter_map(|text| text.parse::<notify::Topic>().ok())
        .map(Topic::from)
        .collect()
}

/// Checks ISTAT codes on the device (six digits).
fn istat_codes(codes: &[String]) -> Result<Vec<String>, SportelloError> {
    codes.iter().map(|code| parse_istat_code(code)).collect()
}

/// A device registered for pushes (its token or keys are never shown back). Not `api::Device`:
/// `created_at` is a time for the apps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Device {
    /// Opaque id, for `remove_device`.
    pub id: String,
    /// `fcm`, `apns` or `webpush`.
    pub kind: String,
    /// The token's last characters (FCM, APNs) or the push service's host (Web Push), to tell
    /// devices apart.
    pub label: String,
    /// When it was registered.
    pub created_at: SystemTime,
}

impl TryFrom<api::Device> for Device {
    type Error = SportelloError;

    fn try_from(device: api::Device) -> Result<Self, Self::Error> {
        Ok(Self {
            created_at: timestamp("created_at", &device.created_at)?,
            id: device.id,
            kind: device.kind,
            label: device.label,
        })
    }
}

/// Who may push what to the person, and when. Not `api::NotificationPreferences`: its topics
/// are `Topic`s for the apps (one from a newer server is left out).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationPreferences {
    /// Topics that may push (all by default). The inbox receives every message regardless.
    pub topics: Vec<Topic>,
    /// Language of the pushes: `it` or `en`.
    pub language: String,
    /// Quiet hours, or none.
    pub quiet_hours: Option<QuietHours>,
    /// Municipalities (ISTAT codes) the person wants area alerts for.
    pub municipalities: Vec<String>,
}

impl From<api::NotificationPreferences> for NotificationPreferences {
    fn from(p: api::NotificationPreferences) -> Self {
        Self {
            topics: known_topics(&p.topics),
            language: p.language,
            quiet_hours: p.quiet_hours,
            municipalities: p.municipalities,
        }
    }
}

impl From<NotificationPreferences> for api::NotificationPreferences {
    fn from(p: NotificationPreferences) -> Self {
        Self {
            topics: p.topics.into_iter().map(|t| t.to_string()).collect(),
            language: p.language,
            quiet_hours: p.quiet_hours,
            municipalities: p.municipalities,
        }
    }
}

/// A message in the inbox, as in the national IO app. Not `api::InboxMessage`: `created_at` is
/// a time for the apps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InboxMessage {
    /// Opaque id (the `message_id` of its pushes).
    pub id: String,
    /// Topic string (`alerts`, …); `parse_topic` gives the enum.
    pub topic: String,
    /// Subject.
    pub subject: String,
    /// Markdown body.
    pub body: String,
    /// ISTAT code of the sender municipality, if any.
    pub municipality: Option<String>,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// A notice to pay, if any.
    pub payment: Option<PaymentData>,
    /// When it arrived.
    pub created_at: SystemTime,
    /// Whether the person has opened it (`mark_read`).
    pub read: bool,
}

impl TryFrom<api::InboxMessage> for InboxMessage {
    type Error = SportelloError;

    fn try_from(m: api::InboxMessage) -> Result<Self, Self::Error> {
        Ok(Self {
            created_at: timestamp("created_at", &m.created_at)?,
            id: m.id,
            topic: m.topic,
            subject: m.subject,
            body: m.body,
            municipality: m.municipality,
            due_date: m.due_date,
            payment: m.payment,
            read: m.read,
        })
    }
}

/// A page of the inbox, newest first. Not `api::InboxPage`: it holds the apps' `InboxMessage`s,
/// and the unread count is unsigned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InboxPage {
    /// Messages.
    pub items: Vec<InboxMessage>,
    /// Pass to `inbox` for the next page; none on the last one.
    pub next_cursor: Option<String>,
    /// Unread messages in the whole inbox (for the badge).
    pub unread: u64,
}

impl TryFrom<api::InboxPage> for InboxPage {
    type Error = SportelloError;

    fn try_from(page: api::InboxPage) -> Result<Self, Self::Error> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(InboxMessage::try_from)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
            unread: u64::try_from(page.unread).unwrap_or(0),
        })
    }
}

/// A received push, as the app should route it: open `message_id` in the inbox.
///
/// Delivery is at least once: a push may arrive twice with the same `id`. Keep the ids of the
/// pushes already shown (a few hundred suffice) and drop a push whose `id` is among them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushNotification {
    /// The delivery's idempotency key (message and device): the same for a repeated push.
    pub id: String,
    /// The inbox message to open (`inbox_message(message_id)`).
    pub message_id: String,
    /// Topic string (`alerts`, …), when the push says.
    pub topic: Option<String>,
    /// The deep link, `it.genova.sportello://inbox/{message_id}` with the id percent-encoded as
    /// one path segment (Android's `Uri.lastPathSegment` gives the id back).
    pub url: String,
    /// Title, when the data carries it (Web Push payloads do; FCM has it in the notification).
    pub subject: Option<String>,
    /// Short body, likewise.
    pub body: Option<String>,
}

/// Reads the data of a Sportello push (FCM `RemoteMessage.data`, the APNs `userInfo` strings,
/// or a Web Push payload's fields): `id`, `message_id`, `topic`, `url`, and optionally `subject`
/// and `body`. `message_id` may be missing if `url` links an inbox message. Data that is not a
/// Sportello push (another SDK's message) fails with `InvalidInput`.
// UniFFI hands foreign maps over by value, with the default hasher.
#[allow(clippy::needless_pass_by_value, clippy::implicit_hasher)]
#[uniffi::export]
pub fn parse_push_data(data: HashMap<String, String>) -> Result<PushNotification, SportelloError> {
    let field = |name: &str| {
        data.get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let id = field("id").ok_or_else(|| SportelloError::invalid("id", "missing"))?;
    let url = field("url");
    let from_url = url.as_deref().and_then(|url| {
        url.split_once("inbox/")
            .map(|(_, id)| id.to_owned())
            .filter(|id| !id.is_empty())
    });
    let message_id = match (field("message_id"), from_url) {
        (Some(id), Some(linked)) if id != linked => {
            return Err(SportelloError::invalid("url", "does not link message_id"));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Err(SportelloError::invalid("message_id", "missing")),
    };
    let segment = path_segment("message_id", &message_id)?;
    Ok(PushNotification {
        url: format!("{INBOX_DEEP_LINK}{segment}"),
        id,
        message_id,
        topic: field("topic"),
        subject: field("subject"),
        body: field("body"),
    })
}

impl SportelloClient {
    /// `POST /v1/me/devices`.
    async fn register(&self, registration: api::DeviceRegistration) -> Result<Device, SportelloError> {
        let device: api::Device = self
            .authorized(|| Ok(self.request(Method::POST, "v1/me/devices")?.json(&registration)))
            .await?;
        device.try_into()
    }

    /// A token registration with the optional alert areas.
    async fn register_token(
        &self,
        kind: &str,
        token: String,
        municipalities: Vec<String>,
    ) -> Result<Device, SportelloError> {
        let municipalities = istat_codes(&municipalities)?;
        self.register(api::DeviceRegistration {
            kind: kind.to_owned(),
            endpoint: None,
            keys: None,
            token: Some(token),
            municipalities: (!municipalities.is_empty()).then_some(municipalities),
        })
        .await
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// Registers this device's FCM registration token (Android; iOS apps using Firebase too),
    /// and adds `municipalities` (ISTAT codes) to the person's alert areas. Call it after login
    /// and whenever Firebase reports a new token (`onNewToken`): registering the same token again
    /// is harmless. New devices receive `alerts` unless the person opted out.
    #[uniffi::method(default(municipalities = []))]
    pub async fn register_fcm_token(
        &self,
        token: String,
        municipalities: Vec<String>,
    ) -> Result<Device, SportelloError> {
        self.register_token("fcm", token, municipalities).await
    }

    /// Registers an APNs device token (hex), as `register_fcm_token`. The server stores it, but
    /// does not deliver through APNs yet: iOS apps should register their FCM token.
    #[uniffi::method(default(municipalities = []))]
    pub async fn register_apns_token(
        &self,
        token: String,
        municipalities: Vec<String>,
    ) -> Result<Device, SportelloError> {
        self.register_token("apns", token, municipalities).await
    }

    /// Registers a Web Push subscription (`PushSubscription.toJSON()`: the endpoint and its
    /// `p256dh` and `auth` keys), e.g. from a WebView shell; see `vapid_public_key`.
    #[uniffi::method(default(municipalities = []))]
    pub async fn register_web_push(
        &self,
        endpoint: String,
        p256dh: String,
        auth: String,
        municipalities: Vec<String>,
    ) -> Result<Device, SportelloError> {
        let municipalities = istat_codes(&municipalities)?;
        self.register(api::DeviceRegistration {
            kind: "webpush".to_owned(),
            endpoint: Some(endpoint),
            keys: Some(api::PushKeys { p256dh, auth }),
            token: None,
            municipalities: (!municipalities.is_empty()).then_some(municipalities),
        })
        .await
    }

    /// The person's devices, oldest first.
    pub async fn devices(&self) -> Result<Vec<Device>, SportelloError> {
        let list: api::DeviceList = self
            .authorized(|| self.request(Method::GET, "v1/me/devices"))
            .await?;
        list.items.into_iter().map(Device::try_from).collect()
    }

    /// Removes a device (e.g. at logout, this device's own: it stops receiving pushes).
    pub async fn remove_device(&self, id: String) -> Result<(), SportelloError> {
        let path = format!("v1/me/devices/{}", path_segment("id", &id)?);
        self.authorized_empty(|| self.request(Method::DELETE, &path))
            .await
    }

    /// The person's notification preferences (defaults until changed).
    pub async fn notification_preferences(&self) -> Result<NotificationPreferences, SportelloError> {
        let preferences: api::NotificationPreferences = self
            .authorized(|| self.request(Method::GET, "v1/me/notification-preferences"))
            .await?;
        Ok(preferences.into())
    }

    /// Replaces the person's notification preferences and returns them as stored.
    pub async fn set_notification_preferences(
        &self,
        preferences: NotificationPreferences,
    ) -> Result<NotificationPreferences, SportelloError> {
        let mut preferences = api::NotificationPreferences::from(preferences);
        preferences.municipalities = istat_codes(&preferences.municipalities)?;
        let stored: api::NotificationPreferences = self
            .authorized(|| {
                Ok(self
                    .request(Method::PUT, "v1/me/notification-preferences")?
                    .json(&preferences))
            })
            .await?;
        Ok(stored.into())
    }

    /// The server's VAPID public key (base64url), the `applicationServerKey` of a Web Push
    /// subscription.
    pub async fn vapid_public_key(&self) -> Result<String, SportelloError> {
        let key: api::VapidPublicKey = self
            .send(self.request(Method::GET, "v1/push/vapid-public-key")?)
            .await?;
        Ok(key.public_key)
    }

    /// A page of the inbox, newest first: `cursor` is the previous page's `next_cursor` (none
    /// for the first page), `limit` 1 to 100 (default 20).
    #[uniffi::method(default(cursor = None, limit = None))]
    pub async fn inbox(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<InboxPage, SportelloError> {
        let mut query = Vec::new();
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let page: api::InboxPage = self
            .authorized(|| Ok(self.request(Method::GET, "v1/me/inbox")?.query(&query)))
            .await?;
        page.try_into()
    }

    /// One inbox message (e.g. the one a push links to).
    pub async fn inbox_message(&self, id: String) -> Result<InboxMessage, SportelloError> {
        let path = format!("v1/me/inbox/{}", path_segment("id", &id)?);
        let message: api::InboxMessage = self.authorized(|| self.request(Method::GET, &path)).await?;
        message.try_into()
    }

    /// Marks a message read (when the person opens it).
    pub async fn mark_read(&self, id: String) -> Result<(), SportelloError> {
        let path = format!("v1/me/inbox/{}/read", path_segment("id", &id)?);
        self.authorized_empty(|| self.request(Method::POST, &path)).await
    }

    /// Deletes a message from the inbox.
    pub async fn delete_message(&self, id: String) -> Result<(), SportelloError> {
        let path = format!("v1/me/inbox/{}", path_segment("id", &id)?);
        self.authorized_empty(|| self.request(Method::DELETE, &path))
            .await
    }

    /// Sends a message to everyone with an alert area among `municipalities` (ISTAT codes), e.g.
    /// a civil-protection alert: for operator apps. Admins may broadcast anywhere, operators only
    /// in their own municipalities (else `Forbidden`). `subject` 1–120 characters, `body`
    /// Markdown up to 10,000.
    pub async fn broadcast(
        &self,
        municipalities: Vec<String>,
        topic: Topic,
        subject: String,
        body: String,
    ) -> Result<BroadcastAccepted, SportelloError> {
        let request = api::BroadcastRequest {
            municipalities: istat_codes(&municipalities)?,
            topic: topic.to_string(),
            subject,
            body,
        };
        self.authorized(|| Ok(self.request(Method::POST, "v1/broadcasts")?.json(&request)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fcm_push_data_gives_the_message_to_open() {
        let push = parse_push_data(data(&[
            ("id", "d-1"),
            ("message_id", "0199-abc"),
            ("topic", "alerts"),
            ("url", "it.genova.sportello://inbox/0199-abc"),
        ]))
        .unwrap();
        assert_eq!(
            push,
            PushNotification {
                id: "d-1".into(),
                message_id: "0199-abc".into(),
                topic: Some("alerts".into()),
                url: "it.genova.sportello://inbox/0199-abc".into(),
                subject: None,
                body: None,
            }
        );
        assert_eq!(
            parse_topic(push.topic.as_deref().unwrap()).unwrap(),
            Topic::Alerts
        );
    }

    #[test]
    fn push_data_without_message_id_uses_the_link_and_web_paths_become_deep_links() {
        let push = parse_push_data(data(&[
            ("id", "d-2"),
            ("url", "/inbox/m-2"),
            ("subject", "Allerta"),
        ]))
        .unwrap();
        assert_eq!(push.message_id, "m-2");
        assert_eq!(push.url, "it.genova.sportello://inbox/m-2");
        assert_eq!(push.subject.as_deref(), Some("Allerta"));
    }

    #[test]
    fn broadcast_message_ids_with_a_slash_stay_one_link_segment() {
        // What the server sends for a broadcast: `{broadcast}/{user}`, raw in the link.
        let push = parse_push_data(data(&[
            ("id", "d-3"),
            ("message_id", "b-1/u-2"),
            ("url", "it.genova.sportello://inbox/b-1/u-2"),
        ]))
        .unwrap();
        assert_eq!(push.message_id, "b-1/u-2");
        assert_eq!(push.url, "it.genova.sportello://inbox/b-1%2Fu-2");
        assert_eq!(path_segment("id", "../x.y").unwrap(), "%2E%2E%2Fx%2Ey");
        assert!(path_segment("id", "").is_err());
    }

    #[test]
    fn foreign_or_inconsistent_push_data_is_refused() {
        let field = |pairs: &[(&str, &str)]| match parse_push_data(data(pairs)) {
            Err(SportelloError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[("google.message_id", "x")]), "id");
        assert_eq!(field(&[("id", "d"), ("topic", "alerts")]), "message_id");
        assert_eq!(
            field(&[
                ("id", "d"),
                ("message_id", "a"),
                ("url", "it.genova.sportello://inbox/b")
            ]),
            "url"
        );
        assert_eq!(field(&[("id", "d"), ("message_id", "..")]), "message_id");
    }

    #[test]
    fn topics_round_trip_and_unknown_ones_from_the_server_are_skipped() {
        for topic in notify::Topic::ALL {
            assert_eq!(parse_topic(topic.as_str()).unwrap().to_string(), topic.as_str());
        }
        assert!(parse_topic("weather").is_err());
        let preferences = NotificationPreferences::from(api::NotificationPreferences {
            topics: vec!["alerts".into(), "weather".into()],
            language: "it".into(),
            quiet_hours: None,
            municipalities: vec![],
        });
        assert_eq!(preferences.topics, vec![Topic::Alerts]);
    }

    #[test]
    fn server_times_become_system_times() {
        let device = Device::try_from(api::Device {
            id: "d".into(),
            kind: "fcm".into(),
            label: "…abcdef".into(),
            created_at: "2026-03-01T10:00:00Z".into(),
        })
        .unwrap();
        let secs = device
            .created_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, 1_772_359_200);
    }
}
