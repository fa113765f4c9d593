-- Civil-protection alerts (docs/alerts.md): each alert, update and cancellation is a row; the
-- municipalities it covers are rows of their own, so the public list by municipality is an index
-- range. Pushes go through the notifications outbox, with the alert's data beside the message.

CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    identifier    TEXT NOT NULL,   -- CAP identifier (ours for alerts written here)
    sender        TEXT NOT NULL,   -- CAP sender
    chain_id      TEXT NOT NULL,   -- the first alert of the chain its updates and cancel share
    msg_type      TEXT NOT NULL,   -- alert | update | cancel
    references_id TEXT REFERENCES alerts (id),
    cap_references TEXT,           -- CAP references of it: sender,identifier,sent
    status        TEXT NOT NULL,   -- active | replaced | cancelled
    level         TEXT NOT NULL,   -- notice | gialla | arancione | rossa
    hazard        TEXT NOT NULL,
    zones         TEXT NOT NULL,   -- space-separated zone letters
    polygons      TEXT NOT NULL,   -- JSON: [[[lat, lon], …], …]
    texts         TEXT NOT NULL,   -- JSON: {"it": {"headline", "description", "instruction"}, …}
    onset         BIGINT NOT NULL,
    expires       BIGINT NOT NULL,
    sent          BIGINT NOT NULL,
    source        TEXT NOT NULL,   -- api | cap
    created_by    TEXT NOT NULL,   -- fiscal code of the officer, or the CAP importer's
    demo          BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (sender, identifier)
);
CREATE INDEX alerts_active ON alerts (status, expires);
CREATE INDEX alerts_sent ON alerts (sent, id);

CREATE TABLE alert_municipalities (
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    alert_id     TEXT NOT NULL REFERENCES alerts (id),
    PRIMARY KEY (municipality, alert_id)
);
CREATE INDEX alert_municipalities_alert ON alert_municipalities (alert_id);

-- What a push carries besides the message (an alert's level, area, chain), as JSON.
ALTER TABLE inbox_messages ADD COLUMN push_data TEXT;
