-- Payments on pagoPA: debt positions (GPD model), their options (one notice each), transfers,
-- receipts, and the IUV counters. Instants are BIGINT ms (UTC); money is BIGINT cents.
-- (0004 is reserved for permits.)

CREATE TABLE payment_positions (
    id                TEXT PRIMARY KEY,
    municipality      TEXT NOT NULL REFERENCES municipalities (istat_code),
    creditor          TEXT NOT NULL,   -- fiscal code of the creditor (idPA)
    iupd              TEXT NOT NULL,
    status            TEXT NOT NULL,   -- GPD: DRAFT PUBLISHED VALID PARTIALLY_PAID PAID EXPIRED INVALID REPORTED
    debtor_kind       TEXT NOT NULL,   -- F | G
    debtor_id         TEXT NOT NULL,   -- fiscal code / VAT number: what citizens' lists filter on
    debtor_name       TEXT NOT NULL,
    description       TEXT NOT NULL,
    valid_from        BIGINT,
    switch_to_expired BIGINT NOT NULL, -- 0 | 1
    origin_kind       TEXT,            -- e.g. permit
    origin_id         TEXT,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (creditor, iupd)
);
CREATE INDEX payment_positions_municipality ON payment_positions (municipality, created_at, id);
CREATE INDEX payment_positions_debtor ON payment_positions (debtor_id);
CREATE INDEX payment_positions_origin ON payment_positions (origin_kind, origin_id);

-- One row per notice. The primary key is what paVerifyPaymentNotice looks up.
CREATE TABLE payment_options (
    creditor         TEXT NOT NULL,
    notice_number    TEXT NOT NULL,
    id               TEXT NOT NULL UNIQUE,
    position_id      TEXT NOT NULL REFERENCES payment_positions (id),
    iuv              TEXT NOT NULL,
    instalment       BIGINT NOT NULL,  -- 0 single | 1 instalment
    amount_cents     BIGINT NOT NULL,
    due_date         TEXT NOT NULL,    -- YYYY-MM-DD, Europe/Rome
    description      TEXT NOT NULL,
    receipt_id       TEXT,             -- set with the payment (see payment_receipts)
    paid_cents       BIGINT,
    paid_at          BIGINT,
    PRIMARY KEY (creditor, notice_number),
    UNIQUE (creditor, iuv)
);
CREATE INDEX payment_options_position ON payment_options (position_id);
-- A scanned notice without its creditor (the REST verify) finds its creditors here.
CREATE INDEX payment_options_notice ON payment_options (notice_number);

CREATE TABLE payment_transfers (
    creditor       TEXT NOT NULL,      -- owner of the option
    notice_number  TEXT NOT NULL,
    id_transfer    BIGINT NOT NULL,    -- 1..=5
    position_id    TEXT NOT NULL REFERENCES payment_positions (id),
    amount_cents   BIGINT NOT NULL,
    fiscal_code    TEXT NOT NULL,      -- the creditor credited by this transfer
    remittance     TEXT NOT NULL,
    category       TEXT NOT NULL,
    iban           TEXT,
    postal_iban    TEXT,
    stamp_hash     TEXT,
    stamp_type     TEXT,
    stamp_province TEXT,
    PRIMARY KEY (creditor, notice_number, id_transfer)
);
CREATE INDEX payment_transfers_position ON payment_transfers (position_id);

-- One receipt per option: the primary key makes a second paSendRTV2 for the same IUV a
-- conflict even when two arrive at once, and the receipt id is unique per creditor.
CREATE TABLE payment_receipts (
    creditor      TEXT NOT NULL,
    iuv           TEXT NOT NULL,
    receipt_id    TEXT NOT NULL,
    notice_number TEXT NOT NULL,
    position_id   TEXT NOT NULL REFERENCES payment_positions (id),
    amount_cents  BIGINT NOT NULL,
    psp_id        TEXT NOT NULL,
    psp_name      TEXT NOT NULL,
    paid_at       BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    xml           TEXT NOT NULL,       -- the receipt element as the Node sent it
    PRIMARY KEY (creditor, iuv),
    UNIQUE (creditor, receipt_id)
);

-- The last IUV base handed out per (creditor, segregation code).
CREATE TABLE payment_iuv_counters (
    creditor         TEXT NOT NULL,
    segregation_code BIGINT NOT NULL,
    last_base        BIGINT NOT NULL,
    PRIMARY KEY (creditor, segregation_code)
);
