//! The relying party's RSA keys: one set per purpose, in the database, rotated without downtime.
//!
//! SPID and CIE require RS256 for signatures and RSA-OAEP / RSA-OAEP-256 for key encryption
//! (the `spid-cie-oidc` guides, "Algoritmi supportati"), so every key is RSA 2048. `kid` is the
//! RFC 7638 thumbprint of the public key, as the reference implementation does.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::store::{self, StoredKey};
use crate::db::Db;

/// Size of every key, bits (the guides ask for at least 2048).
const RSA_BITS: usize = 2048;

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signs the Entity Configuration (published in its top-level `jwks`).
    Federation,
    /// Signs request objects and `private_key_jwt` client assertions (RP metadata `jwks`).
    Core,
    /// Decrypts the userinfo (RP metadata `jwks`, `use: enc`).
    Encryption,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [Purpose::Federation, Purpose::Core, Purpose::Encryption];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Federation => "federation",
            Purpose::Core => "core",
            Purpose::Encryption => "encryption",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|purpose| purpose.as_str() == text)
    }
}

/// One key pair.
pub struct Key {
    pub kid: String,
    pub purpose: Purpose,
    private: RsaPrivateKey,
    encoding: EncodingKey,
}

impl Key {
    fn from_stored(stored: &StoredKey) -> anyhow::Result<Self> {
        let purpose = Purpose::parse(&stored.purpose)
            .ok_or_else(|| anyhow::anyhow!("federation key {}: unknown purpose", stored.kid))?;
        let private = RsaPrivateKey::from_pkcs8_pem(&stored.private_key_pem)?;
        Self::new(private, purpose)
    }

    pub(crate) fn new(private: RsaPrivateKey, purpose: Purpose) -> anyhow::Result<Self> {
        let encoding = EncodingKey::from_rsa_der(private.to_pkcs1_der()?.as_bytes());
        Ok(Self {
            kid: thumbprint(&private.to_public_key()),
            purpose,
            private,
            encoding,
        })
    }

    /// The private key, for decryption.
    pub fn private(&self) -> &RsaPrivateKey {
        &self.private
    }

    /// The public JWK: `use` and `alg` say what it is for.
    pub fn public_jwk(&self) -> serde_json::Value {
        let public = self.private.to_public_key();
        let (usage, alg) = match self.purpose {
            Purpose::Federation | Purpose::Core => ("sig", "RS256"),
            Purpose::Encryption => ("enc", "RSA-OAEP-256"),
        };
        serde_json::json!({
            "kty": "RSA", "use": usage, "alg": alg, "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        })
    }

    /// Signs claims as an RS256 JWS with this key's `kid` and the given `typ`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

/// The RFC 7638 thumbprint of an RSA public key, base64url.
pub fn thumbprint(public: &RsaPublicKey) -> String {
    // Members in lexicographic order, no whitespace (RFC 7638 §3.2).
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The published keys: for each purpose the newest signs (or decrypts first), the older ones are
/// still published until they retire.
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// Loads the keys published at `now`, creating the first key of any purpose that has none.
    pub async fn load(db: &Db, now: i64, retirement_ms: i64) -> anyhow::Result<Self> {
        let stored = store::keys(db, now).await?;
        for purpose in Purpose::ALL {
            if !stored.iter().any(|key| key.purpose == purpose.as_str()) {
                rotate(db, purpose, now, retirement_ms).await?;
            }
        }
        let keys = store::keys(db, now)
            .await?
            .iter()
            .map(Key::from_stored)
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { keys })
    }

    /// A set of keys made in memory, oldest first (tests).
    #[cfg(test)]
    pub(crate) fn from_keys(keys: Vec<Key>) -> Self {
        Self { keys }
    }

    /// The key in use for a purpose: the newest.
    pub fn current(&self, purpose: Purpose) -> &Key {
        self.keys
            .iter()
            .rev()
            .find(|key| key.purpose == purpose)
            .expect("every purpose has a key after load")
    }

    /// Every published key of a purpose, newest first.
    pub fn all(&self, purpose: Purpose) -> impl Iterator<Item = &Key> {
        self.keys.iter().rev().filter(move |key| key.purpose == purpose)
    }

    /// A JWKS of the published keys of the given purposes.
    pub fn jwks(&self, purposes: &[Purpose]) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .filter(|key| purposes.contains(&key.purpose))
            .map(Key::public_jwk)
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// Makes a new key for a purpose; the purpose's previous keys stay published for
/// `retirement_ms` more. Returns the new `kid`.
pub async fn rotate(db: &Db, purpose: Purpose, now: i64, retirement_ms: i64) -> anyhow::Result<String> {
    // RSA key generation is CPU-bound for a noticeable while: off the async threads.
    let private =
        tokio::task::spawn_blocking(|| RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)).await??;
    let pem = private.to_pkcs8_pem(LineEnding::LF)?;
    let kid = thumbprint(&private.to_public_key());
    store::insert_key(
        db,
        &kid,
        purpose.as_str(),
        &pem,
        now,
        now.saturating_add(retirement_ms),
    )
    .await?;
    Ok(kid)
}
