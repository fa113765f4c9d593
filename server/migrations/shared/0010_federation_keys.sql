-- Keys of Sportello as an OpenID Connect Federation relying party (SPID, CIE), one row per key.
-- `purpose`: `federation` signs the Entity Configuration; `core` signs request objects and
-- client assertions; `encryption` decrypts the userinfo. The newest key of a purpose is in use;
-- an older one stays published until `retire_at` (ms since the epoch), so that statements and
-- tokens made with it expire before it disappears.
CREATE TABLE federation_keys (
    kid             TEXT PRIMARY KEY,
    purpose         TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    retire_at       BIGINT
);

CREATE INDEX federation_keys_purpose ON federation_keys (purpose, created_at);

-- A federated login in progress also remembers its federation (`spid`, `cie`) and the level it
-- asked for; `provider` then holds the provider's entity id. Both NULL for the generic providers.
ALTER TABLE login_attempts ADD COLUMN federation TEXT;
ALTER TABLE login_attempts ADD COLUMN acr TEXT;
