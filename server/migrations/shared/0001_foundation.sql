-- Foundation: municipalities (tenants), people, roles, signing keys, login state, sessions.
-- Instants are BIGINT milliseconds since the Unix epoch, UTC (see src/db.rs).

CREATE TABLE municipalities (
    istat_code    TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    belfiore_code TEXT NOT NULL UNIQUE,
    fiscal_code   TEXT NOT NULL,
    ipa_code      TEXT NOT NULL,
    province      TEXT NOT NULL,
    lat           DOUBLE PRECISION NOT NULL,
    lon           DOUBLE PRECISION NOT NULL,
    population    BIGINT NOT NULL,
    postal_codes  TEXT NOT NULL -- space-separated CAPs
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    fiscal_code   TEXT NOT NULL UNIQUE,
    given_name    TEXT,
    family_name   TEXT,
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL
);

-- Roles beyond `citizen`, granted by fiscal code so they can precede the first login.
CREATE TABLE role_grants (
    fiscal_code  TEXT NOT NULL,
    role         TEXT NOT NULL,          -- `admin` or `operator:<istat>:<office>`
    municipality TEXT REFERENCES municipalities (istat_code), -- NULL for admin
    granted_by   TEXT NOT NULL,
    granted_at   BIGINT NOT NULL,
    PRIMARY KEY (fiscal_code, role)
);
CREATE INDEX role_grants_municipality ON role_grants (municipality);

-- Ed25519 keys signing the access JWTs; shared by every instance through the database.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    private_key_pem TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- An OpenID Connect login in progress, keyed by the `state` sent to the provider.
CREATE TABLE login_attempts (
    state              TEXT PRIMARY KEY,
    provider           TEXT NOT NULL,
    nonce              TEXT NOT NULL,
    pkce_verifier      TEXT NOT NULL,
    app_redirect_uri   TEXT NOT NULL,
    app_state          TEXT,
    app_code_challenge TEXT NOT NULL,
    expires_at         BIGINT NOT NULL
);

-- One-time codes handed to the app's redirect URI after a login, bound to its PKCE challenge.
CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    code_challenge TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- A login session; refresh tokens rotate within it. Revoking it ends the session.
CREATE TABLE token_families (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    dev_roles  TEXT,  -- roles fixed by a dev login; NULL: roles come from role_grants
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,  -- SHA-256 of the token; the token itself is never stored
    family_id  TEXT NOT NULL REFERENCES token_families (id),
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT             -- set when rotated; a second use is a replay
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
