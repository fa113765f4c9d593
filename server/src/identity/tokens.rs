//! The server's own tokens: short-lived Ed25519-signed access JWTs (with `kid`, so keys can
//! rotate) and opaque refresh tokens, stored only as SHA-256 hashes. Checking a presented
//! access token is core's `identity::tokens`; this module holds the keys.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use sha2::{Digest, Sha256};
use sportello_core::identity::tokens;
// Reading a presented token is pure, so it lives in core, where the fuzz targets (fuzz/) reach
// it; the keys, their rotation and the reloads stay here.
pub use sportello_core::identity::tokens::{AUDIENCE, AccessClaims, TokenError};

use super::store::{self, StoredKey};
use crate::db::Db;

/// How often an unknown `kid` may trigger a reload of the keys from the database.
const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Public key, base64url, for the JWKS.
    x: String,
}

struct Keys {
    by_kid: HashMap<String, Key>,
    /// The newest key signs.
    active: String,
    loaded_at: Instant,
}

/// The signing keys, shared by every instance through the database.
pub struct KeyRing {
    keys: RwLock<Keys>,
    issuer: String,
    access_ttl: Duration,
}

impl KeyRing {
    /// Loads the keys, creating the first one if the database has none.
    pub async fn load(db: &Db, issuer: String, access_ttl: Duration) -> anyhow::Result<Self> {
        if store::signing_keys(db).await?.is_empty() {
            rotate(db).await?;
        }
        let keys = Self::read(db).await?;
        Ok(Self {
            keys: RwLock::new(keys),
            issuer,
            access_ttl,
        })
    }

    async fn read(db: &Db) -> anyhow::Result<Keys> {
        let stored = store::signing_keys(db).await?;
        let active = stored
            .last()
            .map(|key| key.kid.clone())
            .ok_or_else(|| anyhow::anyhow!("no signing key in the database"))?;
        let by_kid = stored
            .into_iter()
            .map(|stored| Ok((stored.kid.clone(), key_from_pem(&stored)?)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Keys {
            by_kid,
            active,
            loaded_at: Instant::now(),
        })
    }

    /// Lifetime of access tokens.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Signs an access token for a user with the given roles.
    pub fn issue(&self, user_id: &str, fiscal_code: &str, roles: Vec<String>, session: &str) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            cf: fiscal_code.to_owned(),
            roles,
            sid: session.to_owned(),
            iat: now,
            exp: now + i64::try_from(self.access_ttl.as_secs()).unwrap_or(900),
        };
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = &keys.by_kid[&keys.active];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        // Signing with a well-formed in-memory Ed25519 key cannot fail.
        jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap_or_default()
    }

    /// Verifies signature, `kid`, issuer, audience and expiry; returns the claims.
    pub async fn verify(&self, db: &Db, token: &str) -> Result<AccessClaims, TokenError> {
        let kid = tokens::key_id(token)?;
        if !self.has_kid(&kid) && self.may_reload() {
            // Another instance may have rotated the keys.
            if let Ok(keys) = Self::read(db).await {
                *self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
            }
        }
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = keys.by_kid.get(&kid).ok_or(TokenError::UnknownKid)?;
        tokens::verify(token, &key.decoding, &self.issuer)
    }

    fn has_kid(&self, kid: &str) -> bool {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_kid
            .contains_key(kid)
    }

    fn may_reload(&self) -> bool {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.loaded_at.elapsed() >= RELOAD_INTERVAL
    }

    /// The public keys as a JSON Web Key Set (RFC 7517/8037), for anyone verifying our tokens.
    pub fn jwks(&self) -> serde_json::Value {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut list: Vec<_> = keys.by_kid.values().collect();
        list.sort_by(|a, b| a.kid.cmp(&b.kid));
        serde_json::json!({
            "keys": list.iter().map(|key| serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": key.kid, "x": key.x,
            })).collect::<Vec<_>>()
        })
    }
}

/// Generates a new Ed25519 key and stores it; it signs from now on (after a reload elsewhere).
/// The ids of the signing keys, newest first.
pub async fn key_ids(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    Ok(store::signing_keys(db)
        .await?
        .into_iter()
        .map(|key| key.kid)
        .collect())
}

pub async fn rotate(db: &Db) -> anyhow::Result<String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let signing = SigningKey::from_bytes(&seed);
    let pem = signing.to_pkcs8_pem(LineEnding::LF)?.to_string();
    let kid = uuid::Uuid::now_v7().simple().to_string();
    store::insert_signing_key(db, &kid, &pem).await?;
    Ok(kid)
}

fn key_from_pem(stored: &StoredKey) -> anyhow::Result<Key> {
    let signing = SigningKey::from_pkcs8_pem(&stored.private_key_pem)?;
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    Ok(Key {
        kid: stored.kid.clone(),
        encoding: EncodingKey::from_ed_pem(stored.private_key_pem.as_bytes())?,
        decoding: DecodingKey::from_ed_components(&x)?,
        x,
    })
}

/// A new random opaque secret (256 bits, base64url): refresh tokens, one-time codes, states.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not recoverable in a server.
    getrandom::fill(&mut bytes).expect("operating system random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, hex: how secrets are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
