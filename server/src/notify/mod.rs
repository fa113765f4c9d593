//! Notifications: the inbox, devices and preferences, area broadcasts, and the push outbox with
//! its delivery worker (Web Push and FCM).
//!
//! Other contexts call [`store::enqueue`] inside the transaction of the change that causes a
//! message; the worker delivers what is due, at least once, with retries, collapse by topic,
//! TTL, quiet hours and dead-device removal. Each push carries the outbox row id (message +
//! device) as `id`, so an app can drop the rare duplicate delivered after a crash.

mod error;
pub mod fcm;
pub mod http;
mod inbox;
pub mod store;
pub mod webpush;
mod wire;

pub use self::error::NotifyError;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use sportello_core::api;
use sportello_core::calendar::ROME;
use sportello_core::identity::{Role, works_in};
use sportello_core::notify::{QuietHours, RetryPolicy, TimeOfDay, Topic};
use sportello_core::tenant::IstatCode;
use tokio::sync::{Notify, watch};

use self::fcm::{Fcm, FcmMessage};
use self::store::{ClaimedPush, Outcome};
use self::webpush::Vapid;
use crate::clock::now_ms;
use crate::config::NotifyConfig;
use crate::db::Db;
use crate::tenant::Municipalities;

/// What a push service said about one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted.
    Sent,
    /// The device no longer exists (404/410, FCM UNREGISTERED): forget it.
    Gone(String),
    /// Try again later, not before `after` if the service said so.
    Retry { after: Option<Duration>, error: String },
    /// Will never succeed (bad request, payload too large…).
    Permanent(String),
}

/// An ISTAT code of an alert area.
fn parse_area(code: &str) -> Result<IstatCode, NotifyError> {
    IstatCode::parse(code).map_err(|e| {
        invalid(
            "municipalities",
            format!("Codice ISTAT non valido: {e}"),
            format!("Invalid ISTAT code: {e}"),
        )
    })
}

/// A refused field, with the reason in Italian and in English.
fn invalid(field: &'static str, it: impl Into<String>, en: impl Into<String>) -> NotifyError {
    NotifyError::Invalid {
        field,
        it: it.into(),
        en: en.into(),
    }
}

/// The notification service of one process.
pub struct Notifier {
    db: Db,
    municipalities: Arc<Municipalities>,
    config: NotifyConfig,
    vapid: Vapid,
    fcm: Option<Fcm>,
    http: reqwest::Client,
    retry: RetryPolicy,
    wake: Notify,
}

impl Notifier {
    /// Loads the VAPID keys and the FCM credentials.
    pub async fn new(
        db: Db,
        config: NotifyConfig,
        municipalities: Arc<Municipalities>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(config.concurrency)
            .build()?;
        let vapid = Vapid::load(&db, config.vapid_subject.clone()).await?;
        let fcm = config
            .fcm
            .as_ref()
            .map(|fcm| {
                Fcm::from_file(
                    http.clone(),
                    &fcm.service_account_file,
                    &fcm.api_url,
                    fcm.token_url.as_deref(),
                )
            })
            .transpose()?;
        tracing::info!(
            webpush = true,
            fcm = fcm.is_some(),
            apns = false,
            "push senders: devices of a kind without a sender are refused at registration"
        );
        Ok(Self {
            db,
            municipalities,
            config,
            vapid,
            fcm,
            http,
            retry: RetryPolicy::default(),
            wake: Notify::new(),
        })
    }

    /// The VAPID public key.
    pub fn vapid_public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// How long pushes stay deliverable, milliseconds.
    pub fn ttl_ms(&self) -> i64 {
        i64::try_from(self.config.ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// Wakes the local worker after pushes were queued (other instances find them by polling).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Checks a Web Push endpoint: https (unless allowed for simulators) and an allowed host.
    pub fn check_endpoint(&self, endpoint: &str) -> Result<url::Url, NotifyError> {
        let url = url::Url::parse(endpoint).map_err(|e| {
            invalid(
                "endpoint",
                format!("Indirizzo non valido: {e}"),
                format!("Invalid address: {e}"),
            )
        })?;
        let scheme_ok =
            url.scheme() == "https" || (self.config.allow_insecure_endpoints && url.scheme() == "http");
        if !scheme_ok {
            return Err(invalid(
                "endpoint",
                "L'indirizzo di push deve usare https.",
                "Push endpoints must use https.",
            ));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let allowed =
            self.config
                .webpush_allowed_hosts
                .iter()
                .any(|pattern| match pattern.strip_prefix("*.") {
                    Some(suffix) => host.ends_with(&format!(".{suffix}")),
                    None => host == *pattern,
                });
        if !allowed {
            return Err(invalid(
                "endpoint",
                format!("Il servizio di push `{host}` non è ammesso."),
                format!("Push service `{host}` is not allowed."),
            ));
        }
        // Push services answer on the https port; another port of an allowed host is someone
        // else's server. Only the test simulators (insecure endpoints allowed) use other ports.
        if url.port().is_some() && !self.config.allow_insecure_endpoints {
            return Err(invalid(
                "endpoint",
                "L'indirizzo di push deve usare la porta di https.",
                "Push endpoints must use the https port.",
            ));
        }
        Ok(url)
    }

    /// Whether this server has a sender for devices of `kind`: Web Push always (VAPID needs no
    /// account), FCM when `notify.fcm` is configured, APNs not yet (iOS apps receive their
    /// notifications through FCM).
    pub fn can_send_to(&self, kind: &str) -> bool {
        match kind {
            "webpush" => true,
            "fcm" => self.fcm.is_some(),
            _ => false,
        }
    }

    /// Registers (or re-registers) a device for a person.
    pub async fn register_device(
        &self,
        user_id: &str,
        registration: &sportello_core::api::DeviceRegistration,
    ) -> Result<api::Device, NotifyError> {
        let (address, p256dh, auth) = match registration.kind.as_str() {
            "webpush" => {
                let endpoint = registration
                    .endpoint
                    .as_deref()
                    .ok_or_else(|| invalid("endpoint", "Indirizzo obbligatorio.", "Required."))?;
                if endpoint.len() > 2048 {
                    return Err(invalid(
                        "endpoint",
                        "Al massimo 2048 caratteri.",
                        "At most 2048 characters.",
                    ));
                }
                self.check_endpoint(endpoint)?;
                let keys = registration.keys.as_ref().ok_or_else(|| {
                    invalid("keys", "Servono p256dh e auth.", "p256dh and auth are required.")
                })?;
                webpush::parse_keys(&keys.p256dh, &keys.auth).map_err(|e| {
                    invalid(
                        "keys",
                        format!("Chiavi non valide: {e}"),
                        format!("Invalid keys: {e}"),
                    )
                })?;
                (
                    endpoint.to_owned(),
                    Some(keys.p256dh.clone()),
                    Some(keys.auth.clone()),
                )
            }
            kind @ ("fcm" | "apns") => {
                if !self.can_send_to(kind) {
                    return Err(NotifyError::NoSender {
                        kind: kind.to_owned(),
                    });
                }
                let token = registration
                    .token
                    .as_deref()
                    .ok_or_else(|| invalid("token", "Token obbligatorio.", "Required."))?;
                let valid =
                    !token.is_empty() && token.len() <= 4096 && token.bytes().all(|b| b.is_ascii_graphic());
                if !valid {
                    return Err(invalid(
                        "token",
                        "Da 1 a 4096 caratteri stampabili.",
                        "1 to 4096 printable characters.",
                    ));
                }
                (token.to_owned(), None, None)
            }
            _ => {
                return Err(invalid(
                    "kind",
                    "Uno tra webpush, fcm, apns.",
                    "One of webpush, fcm, apns.",
                ));
            }
        };
        let municipalities =
            self.check_municipalities(registration.municipalities.as_deref().unwrap_or_default())?;
        let max = i64::from(self.config.max_devices_per_user);
        if store::count_devices(&self.db, user_id).await? >= max
            && !store::list_devices(&self.db, user_id)
                .await?
                .iter()
                .any(|d| d.address == address)
        {
            return Err(NotifyError::TooManyDevices);
        }
        let device = store::upsert_device(
            &self.db,
            user_id,
            &registration.kind,
            &address,
            p256dh.as_deref(),
            auth.as_deref(),
        )
        .await?;
        store::add_alert_areas(&self.db, user_id, &municipalities).await?;
        Ok(wire::device(device))
    }

    /// Validates ISTAT codes against the served municipalities (at most all 67).
    pub fn check_municipalities(&self, codes: &[String]) -> Result<Vec<String>, NotifyError> {
        if codes.len() > 67 {
            return Err(invalid(
                "municipalities",
                "Al massimo 67 comuni.",
                "At most 67 municipalities.",
            ));
        }
        let mut checked = Vec::with_capacity(codes.len());
        for code in codes {
            let istat = parse_area(code)?;
            if self.municipalities.find(&istat).is_none() {
                return Err(invalid(
                    "municipalities",
                    format!("Nessun comune {istat}."),
                    format!("No municipality {istat}."),
                ));
            }
            if !checked.contains(code) {
                checked.push(code.clone());
            }
        }
        Ok(checked)
    }

    /// Sends an area broadcast for someone with `roles`: admins anywhere, operators only in
    /// their own municipalities. Returns (id, recipients, pushes).
    pub async fn broadcast(
        &self,
        sender: &str,
        roles: &[Role],
        request: &sportello_core::api::BroadcastRequest,
    ) -> Result<(String, u64, u64), NotifyError> {
        if request.municipalities.is_empty() {
            return Err(invalid(
                "municipalities",
                "Almeno un comune.",
                "At least one municipality.",
            ));
        }
        let topic: Topic = request
            .topic
            .parse()
            .map_err(|e: sportello_core::notify::NotifyError| {
                invalid(
                    "topic",
                    format!("Argomento non valido: {e}"),
                    format!("Invalid topic: {e}"),
                )
            })?;
        sportello_core::notify::validate_message(&request.subject, &request.body).map_err(|e| match e {
            sportello_core::notify::NotifyError::MalformedMessage { field: "body", .. } => invalid(
                "body",
                "Il testo può avere al massimo 10.000 caratteri.",
                "The body may have at most 10,000 characters.",
            ),
            other => invalid(
                "subject",
                "L'oggetto deve avere da 1 a 120 caratteri.",
                format!("The subject must have 1 to 120 characters ({other})."),
            ),
        })?;
        let municipalities = self.check_municipalities(&request.municipalities)?;
        for code in &municipalities {
            let istat = parse_area(code)?;
            if !works_in(roles, &istat) {
                return Err(NotifyError::Forbidden);
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let broadcast = store::NewBroadcast {
            id: &id,
            created_by: sender,
            topic: topic.as_str(),
            subject: request.subject.trim(),
            body: &request.body,
            municipalities: &municipalities,
            ttl_ms: self.ttl_ms(),
        };
        let (recipients, pushes) = store::create_broadcast(&self.db, &broadcast).await?;
        metrics::counter!("sportello_push_queued_total").increment(pushes);
        tracing::info!(broadcast = %id, recipients, pushes, "broadcast queued");
        self.wake();
        Ok((id, recipients, pushes))
    }

    /// Delivers one claimed push and says what to record.
    async fn deliver(&self, push: &ClaimedPush) -> (Outcome, Option<String>) {
        let now = now_ms();
        let (Some(message_id), Some(device_id), Some(kind), Some(address)) =
            (&push.message_id, &push.device_id, &push.kind, &push.address)
        else {
            return (
                Outcome::Dropped {
                    error: "message or device deleted".into(),
                },
                None,
            );
        };
        if now >= push.expires_at {
            return (
                Outcome::Dropped {
                    error: "expired".into(),
                },
                None,
            );
        }
        let topic = push
            .topic
            .as_deref()
            .and_then(|t| t.parse::<Topic>().ok())
            .unwrap_or(Topic::Alerts);
        if let Some(until) = quiet_until(push, topic, now) {
            return (Outcome::Deferred { until }, None);
        }
        let remaining = Duration::from_millis(u64::try_from(push.expires_at - now).unwrap_or(0));
        let subject = push.subject.as_deref().unwrap_or_default();
        let preview = preview(push.body.as_deref().unwrap_or_default());
        let delivery = match kind.as_str() {
            "webpush" => {
                let payload = webpush_payload(push, message_id, topic, subject, &preview);
                self.send_webpush(push, address, &payload.to_string(), topic, remaining)
                    .await
            }
            "fcm" => match &self.fcm {
                Some(fcm) => {
                    let data = fcm_data(push, message_id, topic);
                    let message = FcmMessage {
                        token: address,
                        title: subject,
                        body: &preview,
                        data: &data,
                        collapse_key: &push.collapse_key,
                        ttl: remaining,
                        high_priority: topic == Topic::Alerts,
                    };
                    fcm.send(&message).await
                }
                None => Delivery::Permanent("FCM is not configured".into()),
            },
            other => Delivery::Permanent(format!("no sender for {other} devices")),
        };
        let kind_label = kind.clone();
        match delivery {
            Delivery::Sent => {
                metrics::counter!("sportello_push_sent_total", "kind" => kind_label).increment(1);
                (Outcome::Sent, None)
            }
            Delivery::Gone(error) => {
                metrics::counter!("sportello_push_dropped_total", "reason" => "gone").increment(1);
                (Outcome::Dropped { error }, Some(device_id.clone()))
            }
            Delivery::Permanent(error) => {
                metrics::counter!("sportello_push_failed_total", "kind" => kind_label).increment(1);
                metrics::counter!("sportello_push_dropped_total", "reason" => "permanent").increment(1);
                (Outcome::Dropped { error }, None)
            }
            Delivery::Retry { after, error } => {
                metrics::counter!("sportello_push_failed_total", "kind" => kind_label).increment(1);
                let attempts = u32::try_from(push.attempts).unwrap_or(u32::MAX);
                let delay = self.retry.delay(attempts, after, jitter());
                let at = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                if self.retry.should_retry(attempts) && at < push.expires_at {
                    metrics::counter!("sportello_push_retried_total").increment(1);
                    (Outcome::Retry { at, error }, None)
                } else {
                    metrics::counter!("sportello_push_dropped_total", "reason" => "retries").increment(1);
                    (Outcome::Dropped { error }, None)
                }
            }
        }
    }

    async fn send_webpush(
        &self,
        push: &ClaimedPush,
        endpoint: &str,
        payload: &str,
        topic: Topic,
        remaining: Duration,
    ) -> Delivery {
        let url = match self.check_endpoint(endpoint) {
            Ok(url) => url,
            Err(error) => return Delivery::Permanent(error.to_string()),
        };
        let (Some(p256dh), Some(auth)) = (&push.p256dh, &push.auth) else {
            return Delivery::Permanent("subscription without keys".into());
        };
        let body = match webpush::encrypt(payload.as_bytes(), p256dh, auth) {
            Ok(body) => body,
            Err(error) => return Delivery::Permanent(error.to_string()),
        };
        let authorization = match self.vapid.authorization(&webpush::origin_of(&url)) {
            Ok(value) => value,
            Err(error) => return Delivery::Permanent(format!("VAPID: {error}")),
        };
        let request = self
            .http
            .post(url)
            .header("Authorization", authorization)
            .header("TTL", webpush::ttl_header(remaining))
            .header("Urgency", if topic == Topic::Alerts { "high" } else { "normal" })
            .header("Topic", &push.collapse_key)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .body(body);
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Delivery::Retry {
                    after: None,
                    error: format!("web push: {error}"),
                };
            }
        };
        let status = response.status().as_u16();
        match status {
            200..=299 => Delivery::Sent,
            404 | 410 => Delivery::Gone(format!("web push {status}")),
            429 | 500..=599 => Delivery::Retry {
                after: fcm::retry_after(&response),
                error: format!("web push {status}"),
            },
            _ => Delivery::Permanent(format!("web push {status}")),
        }
    }

    /// One round: claims due pushes, delivers them concurrently, records the outcomes.
    /// Returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        let lease_ms = i64::try_from(self.config.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let batch = store::claim_due(&self.db, i64::from(self.config.batch_size), lease_ms).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let claimed = batch.len();
        let results: Vec<_> = futures_util::stream::iter(batch)
            .map(|push| async move {
                let outcome = self.deliver(&push).await;
                (push.id, outcome)
            })
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        let mut gone = Vec::new();
        let outcomes: Vec<(String, Outcome)> = results
            .into_iter()
            .map(|(id, (outcome, gone_device))| {
                gone.extend(gone_device);
                (id, outcome)
            })
            .collect();
        store::record_outcomes(&self.db, &outcomes, &gone).await?;
        Ok(claimed)
    }

    /// The delivery loop: keeps up to `rounds_in_flight` rounds going, so claiming and recording
    /// one batch overlaps with the network time of another; runs until `stop` turns true, then
    /// finishes the rounds in hand.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.config.poll_interval_ms);
        let rounds_in_flight = self.config.rounds_in_flight.max(1);
        let mut rounds = tokio::task::JoinSet::new();
        // Whether the latest round found nothing due: then wait to be woken instead of polling.
        let mut drained = false;
        while !*stop.borrow() {
            while !drained && rounds.len() < rounds_in_flight {
                let notifier = Arc::clone(&self);
                rounds.spawn(async move { notifier.deliver_due().await });
            }
            let Some(finished) = rounds.join_next().await else {
                tokio::select! {
                    () = tokio::time::sleep(idle) => {}
                    () = self.wake.notified() => {}
                    _ = stop.changed() => {}
                }
                drained = false;
                continue;
            };
            drained = match finished {
                Ok(Ok(claimed)) => claimed == 0,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "push delivery round failed");
                    true
                }
                Err(error) => {
                    tracing::error!(%error, "push delivery round panicked");
                    true
                }
            };
        }
        while rounds.join_next().await.is_some() {}
    }
}

/// The Web Push payload: the message's ids, topic, subject and preview, and what the push
/// carries besides (an alert's data, as `alert`).
fn webpush_payload(
    push: &ClaimedPush,
    message_id: &str,
    topic: Topic,
    subject: &str,
    preview: &str,
) -> serde_json::Value {
    let mut payload = json!({
        "id": push.id,
        "message_id": message_id,
        "topic": topic.as_str(),
        "subject": subject,
        "body": preview,
        "url": format!("/inbox/{message_id}"),
    });
    if let Some(data) = push
        .push_data
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
    {
        payload["alert"] = data;
    }
    payload
}

/// The FCM data: the same ids, and an alert's data as JSON text under `alert`.
fn fcm_data(push: &ClaimedPush, message_id: &str, topic: Topic) -> Vec<(&'static str, String)> {
    let mut data = vec![
        ("id", push.id.clone()),
        ("message_id", message_id.to_owned()),
        ("topic", topic.as_str().to_owned()),
        ("url", format!("it.genova.sportello://inbox/{message_id}")),
    ];
    if let Some(alert) = &push.push_data {
        data.push(("alert", alert.clone()));
    }
    data
}

/// When a push must wait for the end of the person's quiet hours, until when (ms).
fn quiet_until(push: &ClaimedPush, topic: Topic, now: i64) -> Option<i64> {
    if topic.overrides_quiet_hours() {
        return None;
    }
    let start = TimeOfDay::parse(push.quiet_start.as_deref()?).ok()?;
    let end = TimeOfDay::parse(push.quiet_end.as_deref()?).ok()?;
    let local = jiff::Timestamp::from_millisecond(now)
        .ok()?
        .to_zoned_datetime(ROME.clone());
    let hour = u8::try_from(local.hour()).ok()?;
    let minute = u8::try_from(local.minute()).ok()?;
    let minutes = QuietHours { start, end }.minutes_until_end(TimeOfDay::from_hm(hour, minute)?);
    (minutes > 0).then(|| now + i64::from(minutes) * 60_000)
}

/// The first characters of a markdown body, for the push notification itself.
fn preview(body: &str) -> String {
    const LIMIT: usize = 240;
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LIMIT {
        flat
    } else {
        let cut: String = flat.chars().take(LIMIT - 1).collect();
        format!("{cut}…")
    }
}

/// A uniform random number in [0, 1) for backoff jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    #[allow(
        clippy::cast_precision_loss,
        reason = "53 bits of randomness are plenty for jitter"
    )]
    let value = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_short_and_flat() {
        assert_eq!(preview("Allerta\n\n**arancione**"), "Allerta **arancione**");
        let long = preview(&"parola ".repeat(100));
        assert_eq!(long.chars().count(), 240);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}

#[cfg(test)]
mod quiet_tests {
    use super::*;

    fn push_with_quiet(start: &str, end: &str) -> ClaimedPush {
        ClaimedPush {
            id: "p".into(),
            attempts: 1,
            expires_at: i64::MAX,
            collapse_key: "permits".into(),
            message_id: None,
            subject: None,
            body: None,
            topic: None,
            device_id: None,
            kind: None,
            address: None,
            p256dh: None,
            auth: None,
            language: None,
            quiet_start: Some(start.into()),
            quiet_end: Some(end.into()),
            push_data: None,
        }
    }

    #[test]
    fn quiet_hours_are_read_in_rome_time() {
        // 2026-01-15T22:30:00Z is 23:30 in Rome (CET, UTC+1).
        let now = 1_768_516_200_000;
        let quiet = push_with_quiet("23:00", "07:00");
        assert_eq!(quiet_until(&quiet, Topic::Permits, now), Some(now + 450 * 60_000));
        assert_eq!(
            quiet_until(&quiet, Topic::Alerts, now),
            None,
            "alerts ignore quiet hours"
        );
        assert_eq!(
            quiet_until(&push_with_quiet("08:00", "20:00"), Topic::Permits, now),
            None
        );
    }
}
