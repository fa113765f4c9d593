-- Cultural events: venues other than libraries, events, their occurrences materialised up to a
-- horizon (what search reads), and the people who follow an event.

CREATE TABLE event_venues (
    id            TEXT PRIMARY KEY,
    municipality  TEXT NOT NULL REFERENCES municipalities (istat_code),
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    lon           DOUBLE PRECISION NOT NULL,
    accessibility TEXT NOT NULL,   -- space-separated features
    opening_hours TEXT,            -- OpenStreetMap opening_hours subset
    demo          BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX event_venues_municipality ON event_venues (municipality, name);

CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    municipality   TEXT NOT NULL REFERENCES municipalities (istat_code),
    uid            TEXT NOT NULL,   -- iCalendar UID: imports upsert by it
    data           TEXT NOT NULL,   -- the event as last accepted (api::EventInput), JSON
    venue          TEXT NOT NULL,   -- where, resolved when written (api::EventVenue), JSON
    search_text    TEXT NOT NULL,   -- folded titles in every language, for q=
    status         TEXT NOT NULL,
    previous_start BIGINT,          -- the start before it was postponed or moved
    horizon        BIGINT NOT NULL, -- occurrences are materialised up to here
    demo           BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (municipality, uid)
);
CREATE INDEX events_horizon ON events (horizon);

-- One row per occurrence, with what search filters on copied from its event, so a search reads
-- this table only. `cell` is the 0.1-degree grid cell of the place: a radius becomes a few cells.
-- Both search indexes cover every column a search reads: without, each of the thousand-odd
-- occurrences of a weekend in Genova cost a random read of the table (a search took 15-30 ms of
-- SQLite time at 100,000 events; covered, 3 ms).
CREATE TABLE event_occurrences (
    event_id     TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    cell         BIGINT NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    municipality TEXT NOT NULL,
    category     TEXT NOT NULL,
    free         BIGINT NOT NULL,
    accessible   BIGINT NOT NULL,
    PRIMARY KEY (event_id, starts_at)
);
CREATE INDEX event_occurrences_cell ON event_occurrences
    (cell, starts_at, event_id, lat, lon, municipality, category, free, accessible);
CREATE INDEX event_occurrences_start ON event_occurrences
    (starts_at, event_id, cell, lat, lon, municipality, category, free, accessible);

CREATE TABLE event_follows (
    user_id       TEXT NOT NULL REFERENCES users (id),
    event_id      TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    reminded_for  BIGINT,           -- the start of the occurrence last reminded of
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_follows_event ON event_follows (event_id);
