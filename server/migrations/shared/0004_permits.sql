-- Permits: applications (pratiche), their append-only timeline, documents, protocol counters,
-- fees due, per-municipality catalogue overrides and the officers' deadline warnings.
-- Instants are BIGINT milliseconds since the Unix epoch, UTC; legal days are ISO dates
-- (YYYY-MM-DD, Europe/Rome), which sort as text.

CREATE TABLE permits (
    id                       TEXT PRIMARY KEY,
    municipality             TEXT NOT NULL REFERENCES municipalities (istat_code),
    procedure_code           TEXT NOT NULL,
    status                   TEXT NOT NULL,
    applicant_fiscal_code    TEXT NOT NULL,
    filed_by                 TEXT NOT NULL REFERENCES users (id),
    -- Set when a professional files for the applicant (their fiscal code).
    professional_fiscal_code TEXT,
    assigned_to              TEXT,            -- fiscal code of the officer in charge
    large_municipality       BIGINT NOT NULL, -- 0/1, frozen at creation
    address                  TEXT,
    foglio                   TEXT,
    mappale                  TEXT,
    subalterno               TEXT,
    description              TEXT,
    fields                   TEXT NOT NULL,   -- JSON object of the procedure's other fields
    constraints_list         TEXT NOT NULL,   -- space-separated constraints on the property
    protocol_year            BIGINT,
    protocol_number          BIGINT,
    deadline                 TEXT,            -- last day of the legal term, as of the last change
    clock_stopped            BIGINT NOT NULL,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    UNIQUE (municipality, protocol_year, protocol_number)
);
CREATE INDEX permits_queue ON permits (municipality, status, updated_at);
CREATE INDEX permits_applicant ON permits (applicant_fiscal_code, updated_at);
CREATE INDEX permits_filer ON permits (filed_by, updated_at);
CREATE INDEX permits_deadline ON permits (deadline);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE permit_timeline (
    permit_id      TEXT NOT NULL REFERENCES permits (id),
    seq            BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    action         TEXT NOT NULL,   -- a core action, or `assign`
    actor          TEXT NOT NULL,   -- applicant | professional | operator | system
    actor_user_id  TEXT,            -- NULL for the system
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    note           TEXT,
    PRIMARY KEY (permit_id, seq)
);

CREATE TABLE permit_documents (
    id            TEXT PRIMARY KEY,
    permit_id     TEXT NOT NULL REFERENCES permits (id),
    kind          TEXT NOT NULL,   -- a document code of the procedure
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,   -- hex, of the stored bytes
    stage         TEXT NOT NULL,   -- application | integration
    uploaded_by   TEXT NOT NULL REFERENCES users (id),
    uploaded_at   BIGINT NOT NULL
);
CREATE INDEX permit_documents_permit ON permit_documents (permit_id, uploaded_at);

-- The last protocol number given per municipality and year; incremented in the transaction of
-- the registration, so numbers are gapless and unique.
CREATE TABLE permit_protocol_counters (
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    year         BIGINT NOT NULL,
    last_number  BIGINT NOT NULL,
    PRIMARY KEY (municipality, year)
);

-- Fees due on an application (the hand-off to Payments).
CREATE TABLE permit_fees (
    permit_id    TEXT NOT NULL REFERENCES permits (id),
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    due          TEXT NOT NULL,   -- filing | issue
    stamp        BIGINT NOT NULL, -- 0/1: paid as a digital revenue stamp
    created_at   BIGINT NOT NULL,
    paid_at      BIGINT,
    receipt_ref  TEXT,
    PRIMARY KEY (permit_id, code)
);
CREATE INDEX permit_fees_unpaid ON permit_fees (paid_at, created_at);

-- A municipality's overrides of the built-in procedure catalogue (TOML, same shape).
CREATE TABLE permit_catalogue_overrides (
    municipality TEXT PRIMARY KEY REFERENCES municipalities (istat_code),
    toml         TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Deadline warnings already sent to the officers: one per permit, kind and deadline, so
-- repeated sweeps do not repeat them.
CREATE TABLE permit_warnings (
    permit_id  TEXT NOT NULL REFERENCES permits (id),
    kind       TEXT NOT NULL,   -- due-soon | overdue
    deadline   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (permit_id, kind, deadline)
);
