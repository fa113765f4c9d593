//! SQL for devices, preferences, the inbox, broadcasts and the push outbox.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::clock::now_ms;
use crate::db::{Backend, Db, placeholders};

/// A registered push destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub address: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub created_at: i64,
}

/// Stored preferences (absent: defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub topics: Vec<String>,
    pub language: String,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
}

/// A message to put in one person's inbox.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub user_id: String,
    pub municipality: Option<String>,
    pub topic: String,
    pub subject: String,
    pub body: String,
    pub due_date: Option<String>,
    pub payment_notice: Option<String>,
    pub payment_amount_cents: Option<i64>,
    pub payment_creditor: Option<String>,
    /// The sender's key: enqueuing the same key twice for a person yields one message.
    pub dedup_key: Option<String>,
    /// How long pushes stay deliverable, milliseconds.
    pub ttl_ms: i64,
}

/// A stored inbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub municipality: Option<String>,
    pub topic: String,
    pub subject: String,
    pub body: String,
    pub due_date: Option<String>,
    pub payment_notice: Option<String>,
    pub payment_amount_cents: Option<i64>,
    pub payment_creditor: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A push claimed by a worker, with everything needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedPush {
    pub id: String,
    pub attempts: i64,
    pub expires_at: i64,
    pub collapse_key: String,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub topic: Option<String>,
    pub device_id: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
    pub language: Option<String>,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// What the push carries besides the message (an alert's data), JSON.
    pub push_data: Option<String>,
}

/// What happened to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry {
        at: i64,
        error: String,
    },
    Dropped {
        error: String,
    },
    /// Waits for the end of the person's quiet hours; not an attempt.
    Deferred {
        until: i64,
    },
}

const DEVICE_COLUMNS: &str = "id, user_id, kind, address, p256dh, auth, created_at";

fn device_from_row(row: &AnyRow) -> Result<Device, sqlx::Error> {
    Ok(Device {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        address: row.try_get("address")?,
        p256dh: row.try_get("p256dh")?,
        auth: row.try_get("auth")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Registers a device for a user; the same address registered again (e.g. after a reinstall or
/// by another person on a shared browser) moves to this user and keeps its id.
pub async fn upsert_device(
    db: &Db,
    user_id: &str,
    kind: &str,
    address: &str,
    p256dh: Option<&str>,
    auth: Option<&str>,
) -> Result<Device, sqlx::Error> {
    let row = sqlx::query(&format!(
        "INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (kind, address) DO UPDATE SET user_id = excluded.user_id,
           p256dh = excluded.p256dh, auth = excluded.auth
         RETURNING {DEVICE_COLUMNS}"
    ))
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(user_id)
    .bind(kind)
    .bind(address)
    .bind(p256dh)
    .bind(auth)
    .bind(now_ms())
    .fetch_one(db.pool())
    .await?;
    device_from_row(&row)
}

pub async fn count_devices(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM devices WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

pub async fn list_devices(db: &Db, user_id: &str) -> Result<Vec<Device>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {DEVICE_COLUMNS} FROM devices WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(device_from_row).collect()
}

/// Removes one of the user's devices; returns whether it existed (and was theirs).
pub async fn delete_device(db: &Db, user_id: &str, device_id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM devices WHERE id = $1 AND user_id = $2")
        .bind(device_id)
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn get_preferences(db: &Db, user_id: &str) -> Result<Option<Preferences>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT topics, language, quiet_start, quiet_end FROM notification_preferences WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let topics: String = row.try_get("topics")?;
        Ok(Preferences {
            topics: topics.split_whitespace().map(str::to_owned).collect(),
            language: row.try_get("language")?,
            quiet_start: row.try_get("quiet_start")?,
            quiet_end: row.try_get("quiet_end")?,
        })
    })
    .transpose()
}

pub async fn put_preferences(db: &Db, user_id: &str, preferences: &Preferences) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_preferences (user_id, topics, language, quiet_start, quiet_end, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id) DO UPDATE SET topics = excluded.topics, language = excluded.language,
           quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(preferences.topics.join(" "))
    .bind(&preferences.language)
    .bind(preferences.quiet_start.as_deref())
    .bind(preferences.quiet_end.as_deref())
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn alert_areas(db: &Db, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT municipality FROM alert_areas WHERE user_id = $1 ORDER BY municipality")
        .bind(user_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|row| row.try_get("municipality")).collect()
}

/// Replaces the user's alert areas.
pub async fn set_alert_areas(db: &Db, user_id: &str, municipalities: &[String]) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM alert_areas WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for municipality in municipalities {
        sqlx::query("INSERT INTO alert_areas (user_id, municipality) VALUES ($1, $2)")
            .bind(user_id)
            .bind(municipality)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Adds alert areas, keeping the existing ones.
pub async fn add_alert_areas(db: &Db, user_id: &str, municipalities: &[String]) -> Result<(), sqlx::Error> {
    for municipality in municipalities {
        sqlx::query("INSERT INTO alert_areas (user_id, municipality) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(municipality)
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// Puts a message in a person's inbox and queues a push to each of their devices, inside the
/// caller's transaction, so the message exists exactly when the change that caused it does.
/// Returns the message id (the existing one if `dedup_key` was seen before).
pub async fn enqueue(conn: &mut AnyConnection, message: &NewMessage) -> Result<String, sqlx::Error> {
    let now = now_ms();
    if let Some(key) = &message.dedup_key {
        let existing = sqlx::query("SELECT id FROM inbox_messages WHERE user_id = $1 AND dedup_key = $2")
            .bind(&message.user_id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = existing {
            return row.try_get("id");
        }
    }
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO inbox_messages (id, user_id, municipality, topic, subject, body, due_date, payment_notice,
           payment_amount_cents, payment_creditor, dedup_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&message.user_id)
    .bind(message.municipality.as_deref())
    .bind(&message.topic)
    .bind(&message.subject)
    .bind(&message.body)
    .bind(message.due_date.as_deref())
    .bind(message.payment_notice.as_deref())
    .bind(message.payment_amount_cents)
    .bind(message.payment_creditor.as_deref())
    .bind(message.dedup_key.as_deref())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let topic = &message.topic;
    queue_pushes(conn, "m.id = $1", &id, topic, topic, now, now + message.ttl_ms).await?;
    Ok(id)
}

/// Queues one push per (message, device) for the messages selected by `filter` (bound to
/// `$1`), for people whose preferences allow the topic; older pending pushes with the same
/// collapse key to those devices are superseded.
async fn queue_pushes(
    conn: &mut AnyConnection,
    filter: &str,
    filter_value: &str,
    topic: &str,
    collapse_key: &str,
    now: i64,
    expires_at: i64,
) -> Result<u64, sqlx::Error> {
    // `$2` is the topic; people without preferences get every topic.
    let allowed = "(p.user_id IS NULL OR (' ' || p.topics || ' ') LIKE ('% ' || $2 || ' %'))";
    sqlx::query(&format!(
        "UPDATE push_outbox SET status = 'dropped', last_error = 'collapsed'
         WHERE status = 'pending' AND collapse_key = $2 AND device_id IN (
           SELECT d.id FROM inbox_messages m JOIN devices d ON d.user_id = m.user_id WHERE {filter})"
    ))
    .bind(filter_value)
    .bind(collapse_key)
    .execute(&mut *conn)
    .await?;
    let result = sqlx::query(&format!(
        "INSERT INTO push_outbox (id, message_id, device_id, collapse_key, status, attempts, next_attempt_at,
           expires_at, created_at)
         SELECT m.id || '/' || d.id, m.id, d.id, $5, 'pending', 0, $3, $4, $3
         FROM inbox_messages m
         JOIN devices d ON d.user_id = m.user_id
         LEFT JOIN notification_preferences p ON p.user_id = m.user_id
         WHERE {filter} AND {allowed}
         ON CONFLICT (id) DO NOTHING"
    ))
    .bind(filter_value)
    .bind(topic)
    .bind(now)
    .bind(expires_at)
    .bind(collapse_key)
    .execute(&mut *conn)
    .await?;
    Ok(result.rows_affected())
}

/// An area broadcast to store.
#[derive(Debug, Clone, Copy)]
pub struct NewBroadcast<'a> {
    pub id: &'a str,
    pub created_by: &'a str,
    pub topic: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub municipalities: &'a [String],
    pub ttl_ms: i64,
}

/// A broadcast: one inbox message per person with an alert area among `municipalities` (and
/// the topic allowed), and their pushes, all in one transaction. Returns (recipients, pushes).
pub async fn create_broadcast(db: &Db, broadcast: &NewBroadcast<'_>) -> Result<(u64, u64), sqlx::Error> {
    let NewBroadcast {
        id,
        created_by,
        topic,
        subject,
        body,
        municipalities,
        ttl_ms,
    } = *broadcast;
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    // The municipality list is a handful of validated ISTAT codes, bound one by one.
    let sql = format!(
        "INSERT INTO inbox_messages (id, user_id, topic, subject, body, broadcast_id, created_at)
         SELECT $1 || '/' || u.id, u.id, $2, $3, $4, $1, $5 FROM users u
         WHERE EXISTS (SELECT 1 FROM alert_areas a WHERE a.user_id = u.id AND a.municipality IN ({}))",
        placeholders(municipalities.len(), 6)
    );
    let mut insert = sqlx::query(&sql)
        .bind(id)
        .bind(topic)
        .bind(subject)
        .bind(body)
        .bind(now);
    for municipality in municipalities {
        insert = insert.bind(municipality);
    }
    let recipients = insert.execute(&mut *tx).await?.rows_affected();
    sqlx::query(
        "INSERT INTO broadcasts (id, created_by, topic, subject, body, municipalities, recipients, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(created_by)
    .bind(topic)
    .bind(subject)
    .bind(body)
    .bind(municipalities.join(" "))
    .bind(i64::try_from(recipients).unwrap_or(i64::MAX))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let pushes = queue_pushes(
        &mut tx,
        "m.broadcast_id = $1",
        id,
        topic,
        topic,
        now,
        now + ttl_ms,
    )
    .await?;
    tx.commit().await?;
    Ok((recipients, pushes))
}

/// An alert to put in the inbox of everyone with an alert area among its municipalities, with
/// its pushes: in the caller's transaction, so the alert and its messages exist together.
#[derive(Debug, Clone, Copy)]
pub struct NewAlertBroadcast<'a> {
    /// The alert's id, also the broadcast's.
    pub id: &'a str,
    pub created_by: &'a str,
    /// Subject and body in Italian, and in English for people who chose English.
    pub subject: [&'a str; 2],
    pub body: [&'a str; 2],
    pub municipalities: &'a [String],
    /// Shared by an alert's updates and cancellation: each replaces the earlier push.
    pub collapse_key: &'a str,
    /// JSON the push carries (`api::AlertPush`).
    pub push_data: &'a str,
    pub ttl_ms: i64,
}

/// Writes an alert broadcast (see [`NewAlertBroadcast`]); returns (recipients, pushes).
pub async fn create_alert_broadcast(
    conn: &mut AnyConnection,
    broadcast: &NewAlertBroadcast<'_>,
) -> Result<(u64, u64), sqlx::Error> {
    let now = now_ms();
    let topic = "alerts";
    let sql = format!(
        "INSERT INTO inbox_messages (id, user_id, topic, subject, body, broadcast_id, push_data, created_at)
         SELECT $1 || '/' || u.id, u.id, $2,
                CASE WHEN p.language = 'en' THEN $4 ELSE $3 END,
                CASE WHEN p.language = 'en' THEN $6 ELSE $5 END, $1, $7, $8
         FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
         WHERE EXISTS (SELECT 1 FROM alert_areas a WHERE a.user_id = u.id AND a.municipality IN ({}))",
        placeholders(broadcast.municipalities.len(), 9)
    );
    let mut insert = sqlx::query(&sql)
        .bind(broadcast.id)
        .bind(topic)
        .bind(broadcast.subject[0])
        .bind(broadcast.subject[1])
        .bind(broadcast.body[0])
        .bind(broadcast.body[1])
        .bind(broadcast.push_data)
        .bind(now);
    for municipality in broadcast.municipalities {
        insert = insert.bind(municipality);
    }
    let recipients = insert.execute(&mut *conn).await?.rows_affected();
    sqlx::query(
        "INSERT INTO broadcasts (id, created_by, topic, subject, body, municipalities, recipients, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(broadcast.id)
    .bind(broadcast.created_by)
    .bind(topic)
    .bind(broadcast.subject[0])
    .bind(broadcast.body[0])
    .bind(broadcast.municipalities.join(" "))
    .bind(i64::try_from(recipients).unwrap_or(i64::MAX))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let expires_at = now + broadcast.ttl_ms;
    let filter = "m.broadcast_id = $1";
    let pushes = queue_pushes(
        conn,
        filter,
        broadcast.id,
        topic,
        broadcast.collapse_key,
        now,
        expires_at,
    )
    .await?;
    Ok((recipients, pushes))
}

const MESSAGE_COLUMNS: &str = "id, municipality, topic, subject, body, due_date, payment_notice, \
                               payment_amount_cents, payment_creditor, created_at, read_at";

fn message_from_row(row: &AnyRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        topic: row.try_get("topic")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        due_date: row.try_get("due_date")?,
        payment_notice: row.try_get("payment_notice")?,
        payment_amount_cents: row.try_get("payment_amount_cents")?,
        payment_creditor: row.try_get("payment_creditor")?,
        created_at: row.try_get("created_at")?,
        read_at: row.try_get("read_at")?,
    })
}

/// A page of the inbox, newest first, strictly after the cursor `(created_at, id)`.
pub async fn list_messages(
    db: &Db,
    user_id: &str,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let (cursor_at, cursor_id) = after.unwrap_or((i64::MAX, String::new()));
    let rows = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM inbox_messages WHERE user_id = $1
           AND (created_at < $2 OR (created_at = $2 AND id < $3))
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(user_id)
    .bind(cursor_at)
    .bind(if cursor_id.is_empty() {
        "\u{10ffff}".to_owned()
    } else {
        cursor_id
    })
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(message_from_row).collect()
}

pub async fn get_message(db: &Db, user_id: &str, id: &str) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM inbox_messages WHERE user_id = $1 AND id = $2"
    ))
    .bind(user_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(message_from_row).transpose()
}

pub async fn unread_count(db: &Db, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM inbox_messages WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id)
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

/// Marks a message read (the first time counts); returns whether it exists.
pub async fn mark_read(db: &Db, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE inbox_messages SET read_at = COALESCE(read_at, $1) WHERE user_id = $2 AND id = $3",
    )
    .bind(now_ms())
    .bind(user_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes a message; pending pushes for it are dropped by the worker. Returns whether it existed.
pub async fn delete_message(db: &Db, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM inbox_messages WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Claims up to `limit` due pushes for `lease_ms`; rows claimed by a worker that died become
/// claimable again when their lease ends. On PostgreSQL, `SKIP LOCKED` lets instances claim
/// side by side; SQLite serialises writers, so the same statement is already exclusive there.
pub async fn claim_due(db: &Db, limit: i64, lease_ms: i64) -> Result<Vec<ClaimedPush>, sqlx::Error> {
    let now = now_ms();
    let token = uuid::Uuid::now_v7().to_string();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let claimed = sqlx::query(&format!(
        "UPDATE push_outbox SET lease_until = $1, lease_token = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM push_outbox
                      WHERE status = 'pending' AND next_attempt_at <= $3
                        AND (lease_until IS NULL OR lease_until < $3)
                      ORDER BY next_attempt_at LIMIT $4 {lock})"
    ))
    .bind(now + lease_ms)
    .bind(&token)
    .bind(now)
    .bind(limit)
    .execute(db.pool())
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT o.id, o.attempts, o.expires_at, o.collapse_key, m.id AS message_id, m.subject, m.body, m.topic,
                m.push_data,
                d.id AS device_id, d.kind, d.address, d.p256dh, d.auth,
                p.language, p.quiet_start, p.quiet_end
         FROM push_outbox o
         LEFT JOIN inbox_messages m ON m.id = o.message_id
         LEFT JOIN devices d ON d.id = o.device_id
         LEFT JOIN notification_preferences p ON p.user_id = d.user_id
         WHERE o.lease_token = $1",
    )
    .bind(&token)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ClaimedPush {
                id: row.try_get("id")?,
                attempts: row.try_get("attempts")?,
                expires_at: row.try_get("expires_at")?,
                collapse_key: row.try_get("collapse_key")?,
                message_id: row.try_get("message_id")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                topic: row.try_get("topic")?,
                device_id: row.try_get("device_id")?,
                kind: row.try_get("kind")?,
                address: row.try_get("address")?,
                p256dh: row.try_get("p256dh")?,
                auth: row.try_get("auth")?,
                language: row.try_get("language")?,
                quiet_start: row.try_get("quiet_start")?,
                quiet_end: row.try_get("quiet_end")?,
                push_data: row.try_get("push_data")?,
            })
        })
        .collect()
}

/// Records the outcomes of a batch in one transaction. Devices the push service called gone are
/// deleted with their pending pushes.
pub async fn record_outcomes(
    db: &Db,
    outcomes: &[(String, Outcome)],
    gone_devices: &[String],
) -> Result<(), sqlx::Error> {
    // Sent is the common outcome: one statement per chunk instead of one per push keeps the
    // transaction short, which is what bounds throughput on SQLite's single writer.
    const SENT_CHUNK: usize = 500;
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    let sent: Vec<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Sent))
        .map(|(id, _)| id.as_str())
        .collect();
    for chunk in sent.chunks(SENT_CHUNK) {
        let sql = format!(
            "UPDATE push_outbox SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL
             WHERE id IN ({})",
            placeholders(chunk.len(), 2)
        );
        let mut update = sqlx::query(&sql).bind(now);
        for id in chunk {
            update = update.bind(*id);
        }
        update.execute(&mut *tx).await?;
    }
    for (id, outcome) in outcomes {
        let query = match outcome {
            Outcome::Sent => continue,
            Outcome::Retry { at, error } => sqlx::query(
                "UPDATE push_outbox SET next_attempt_at = $2, last_error = $3, lease_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(*at)
            .bind(error.as_str()),
            Outcome::Dropped { error } => sqlx::query(
                "UPDATE push_outbox SET status = 'dropped', last_error = $2, lease_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error.as_str()),
            Outcome::Deferred { until } => sqlx::query(
                "UPDATE push_outbox SET next_attempt_at = $2, attempts = attempts - 1, lease_until = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(*until),
        };
        query.execute(&mut *tx).await?;
    }
    for device in gone_devices {
        sqlx::query(
            "UPDATE push_outbox SET status = 'dropped', last_error = 'device gone'
             WHERE device_id = $1 AND status = 'pending'",
        )
        .bind(device)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM devices WHERE id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Counts of outbox rows by status, for tests and operations.
pub async fn outbox_counts(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM push_outbox GROUP BY status ORDER BY status")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("status")?, row.try_get("n")?)))
        .collect()
}

/// The stored private key called `name`, if any.
pub async fn push_key(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT private_key_pem FROM push_keys WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| row.try_get("private_key_pem")).transpose()
}

/// Stores a key unless one with that name exists (first instance wins); returns the stored one.
pub async fn insert_push_key(db: &Db, name: &str, pem: &str) -> Result<String, sqlx::Error> {
    sqlx::query("INSERT INTO push_keys (name, private_key_pem, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(pem)
        .bind(now_ms())
        .execute(db.pool())
        .await?;
    push_key(db, name).await.map(Option::unwrap_or_default)
}
