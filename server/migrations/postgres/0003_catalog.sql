-- Catalogue: libraries (branches), records merged per edition, each library's source records,
-- copies with their live status, and the change sequence the search indexes follow.

CREATE TABLE libraries (
    id            TEXT PRIMARY KEY,
    municipality  TEXT NOT NULL REFERENCES municipalities (istat_code),
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    postal_code   TEXT NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    lon           DOUBLE PRECISION NOT NULL,
    phone         TEXT,
    email         TEXT,
    website       TEXT,
    services      TEXT NOT NULL,  -- space-separated
    codes         TEXT NOT NULL,  -- space-separated ISIL / SBN codes, for holdings mapping
    opening_hours TEXT NOT NULL,  -- OpenStreetMap opening_hours subset
    closures      TEXT NOT NULL,  -- one dated exception per line
    demo          BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX libraries_municipality ON libraries (municipality);

-- One row per edition, shared by the whole network (not tenant data).
CREATE TABLE catalog_records (
    id         TEXT PRIMARY KEY,
    merge_key  TEXT NOT NULL UNIQUE,
    data       TEXT NOT NULL,   -- the merged normalised record, JSON
    updated_at BIGINT NOT NULL
);

-- A record as one library's software exported it; re-imports upsert by (library, source id).
CREATE TABLE catalog_sources (
    library_id   TEXT NOT NULL REFERENCES libraries (id),
    source_id    TEXT NOT NULL,
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    record_id    TEXT NOT NULL REFERENCES catalog_records (id),
    data         TEXT NOT NULL,   -- this source's normalised record, JSON
    fingerprint  TEXT NOT NULL,   -- SHA-256 of record and copies: unchanged re-imports are no-ops
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (library_id, source_id)
);
CREATE INDEX catalog_sources_record ON catalog_sources (record_id);

CREATE TABLE catalog_copies (
    library_id   TEXT NOT NULL REFERENCES libraries (id),
    item_id      TEXT NOT NULL,
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    source_id    TEXT NOT NULL,   -- the source record that listed it (in the importing library)
    source_library TEXT NOT NULL,
    record_id    TEXT NOT NULL REFERENCES catalog_records (id),
    shelf_mark   TEXT,
    status       TEXT NOT NULL,
    due_date     TEXT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (library_id, item_id)
);
CREATE INDEX catalog_copies_record ON catalog_copies (record_id);
CREATE INDEX catalog_copies_source ON catalog_copies (source_library, source_id);

-- Every change to a record or its copies' holding libraries; search indexes follow it.
CREATE TABLE catalog_changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id  TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
