-- The SPID/CIE provider's access token of a federated login, kept only so that a logout from
-- Sportello also revokes it at the provider (its revocation endpoint). It follows the login: the
-- one-time code handed to the app names it, then the session that code starts. Deleted when the
-- session ends; expired rows are swept when new ones are stored.
CREATE TABLE provider_sessions (
    id           TEXT PRIMARY KEY,
    federation   TEXT NOT NULL,
    provider     TEXT NOT NULL,   -- the provider's entity id
    access_token TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);

ALTER TABLE authorization_codes ADD COLUMN provider_session TEXT;
ALTER TABLE token_families ADD COLUMN provider_session TEXT;
