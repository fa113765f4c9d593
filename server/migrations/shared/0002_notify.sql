-- Notifications: devices, preferences, alert areas, inbox, broadcasts and the push outbox.

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    kind       TEXT NOT NULL,   -- webpush | fcm | apns
    address    TEXT NOT NULL,   -- push endpoint URL, or FCM/APNs registration token
    p256dh     TEXT,            -- Web Push: the browser's P-256 public key, base64url
    auth       TEXT,            -- Web Push: the 16-byte auth secret, base64url
    created_at BIGINT NOT NULL,
    UNIQUE (kind, address)
);
CREATE INDEX devices_user ON devices (user_id);

-- Absent row: every topic, Italian, no quiet hours.
CREATE TABLE notification_preferences (
    user_id     TEXT PRIMARY KEY REFERENCES users (id),
    topics      TEXT NOT NULL,  -- space-separated topics that may push
    language    TEXT NOT NULL,
    quiet_start TEXT,           -- HH:MM Europe/Rome
    quiet_end   TEXT,
    updated_at  BIGINT NOT NULL
);

-- Where a person wants area alerts for.
CREATE TABLE alert_areas (
    user_id      TEXT NOT NULL REFERENCES users (id),
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    PRIMARY KEY (user_id, municipality)
);
CREATE INDEX alert_areas_municipality ON alert_areas (municipality);

CREATE TABLE inbox_messages (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id),
    municipality         TEXT REFERENCES municipalities (istat_code), -- the sender, if a municipality
    topic                TEXT NOT NULL,
    subject              TEXT NOT NULL,
    body                 TEXT NOT NULL, -- markdown
    due_date             TEXT,          -- YYYY-MM-DD
    payment_notice       TEXT,
    payment_amount_cents BIGINT,
    payment_creditor     TEXT,
    broadcast_id         TEXT,
    dedup_key            TEXT,          -- the sender's key: the same key twice is one message
    created_at           BIGINT NOT NULL,
    read_at              BIGINT
);
CREATE INDEX inbox_messages_user ON inbox_messages (user_id, created_at, id);
CREATE UNIQUE INDEX inbox_messages_dedup ON inbox_messages (user_id, dedup_key);
CREATE INDEX inbox_messages_broadcast ON inbox_messages (broadcast_id);

CREATE TABLE broadcasts (
    id             TEXT PRIMARY KEY,
    created_by     TEXT NOT NULL,
    topic          TEXT NOT NULL,
    subject        TEXT NOT NULL,
    body           TEXT NOT NULL,
    municipalities TEXT NOT NULL, -- space-separated ISTAT codes
    recipients     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- One row per (message, device): its id is the idempotency key of that delivery.
CREATE TABLE push_outbox (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    collapse_key    TEXT NOT NULL, -- a newer pending push with the same key replaces this one
    status          TEXT NOT NULL, -- pending | sent | dropped
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,        -- claimed by a worker until then
    lease_token     TEXT,
    expires_at      BIGINT NOT NULL, -- TTL: undelivered by then, dropped
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX push_outbox_due ON push_outbox (status, next_attempt_at);
CREATE INDEX push_outbox_lease ON push_outbox (lease_token);
CREATE INDEX push_outbox_device ON push_outbox (device_id, collapse_key, status);
CREATE INDEX push_outbox_message ON push_outbox (message_id);

-- The VAPID key pair (RFC 8292) identifying this server to push services; browsers subscribe with
-- its public key, so every instance must share it.
CREATE TABLE push_keys (
    name            TEXT PRIMARY KEY,
    private_key_pem TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
