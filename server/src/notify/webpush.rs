//! Web Push (RFC 8030): payload encryption with aes128gcm (RFC 8188/8291, by the pure-Rust
//! `web-push-native` crate, chosen over `web-push` because it has no OpenSSL dependency and no
//! HTTP client of its own) and VAPID authentication (RFC 8292), signed here with
//! `jsonwebtoken`'s ES256 so the server uses one JWT library.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::Serialize;

use super::store;
use crate::db::Db;

/// VAPID tokens live 12 hours (RFC 8292 allows at most 24) and are reused until 1 hour before.
const VAPID_TTL_SECS: i64 = 12 * 3600;
const VAPID_REUSE_MARGIN_SECS: i64 = 3600;
/// Push services must accept payloads up to 4096 bytes (RFC 8291 §4); our plaintext stays under
/// that minus the aes128gcm header (86 bytes) and tag (16) and padding delimiter (1).
pub const MAX_PLAINTEXT: usize = 3993;

/// Why a subscription cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("p256dh is not an uncompressed P-256 public key in base64url")]
    PublicKey,
    #[error("auth is not 16 bytes in base64url")]
    Auth,
    #[error("endpoint: {0}")]
    Endpoint(String),
}

/// The server's VAPID identity.
pub struct Vapid {
    encoding: EncodingKey,
    public_key: String,
    subject: String,
    /// Signed tokens per push-service origin, with their expiry (Unix seconds).
    cache: Mutex<HashMap<String, (String, i64)>>,
}

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl Vapid {
    /// Loads the key pair shared by all instances, creating it on first start.
    pub async fn load(db: &Db, subject: String) -> anyhow::Result<Self> {
        let stored = store::push_key(db, "vapid").await?;
        let pem = if let Some(pem) = stored {
            pem
        } else {
            let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
            let pem = secret.to_pkcs8_pem(LineEnding::LF)?.to_string();
            // Another instance may have won the race: keep whichever key was stored first.
            store::insert_push_key(db, "vapid", &pem).await?
        };
        let secret = p256::SecretKey::from_pkcs8_pem(&pem)?;
        let public_key = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Self {
            encoding: EncodingKey::from_ec_pem(pem.as_bytes())?,
            public_key,
            subject,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The public key browsers pass as `applicationServerKey` (uncompressed point, base64url).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header value for a push service origin (`vapid t=…, k=…`).
    pub fn authorization(&self, origin: &str) -> anyhow::Result<String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, exp)) = cache.get(origin)
            && *exp - VAPID_REUSE_MARGIN_SECS > now
        {
            return Ok(format!("vapid t={token}, k={}", self.public_key));
        }
        let exp = now + VAPID_TTL_SECS;
        let claims = VapidClaims {
            aud: origin,
            exp,
            sub: &self.subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.encoding)?;
        cache.insert(origin.to_owned(), (token.clone(), exp));
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// Decodes and checks a browser subscription's keys.
pub fn parse_keys(p256dh: &str, auth: &str) -> Result<(p256::PublicKey, [u8; 16]), SubscriptionError> {
    let point = URL_SAFE_NO_PAD
        .decode(p256dh.trim_end_matches('='))
        .map_err(|_| SubscriptionError::PublicKey)?;
    if point.len() != 65 {
        return Err(SubscriptionError::PublicKey);
    }
    let public = p256::PublicKey::from_sec1_bytes(&point).map_err(|_| SubscriptionError::PublicKey)?;
    let auth: [u8; 16] = URL_SAFE_NO_PAD
        .decode(auth.trim_end_matches('='))
        .map_err(|_| SubscriptionError::Auth)?
        .try_into()
        .map_err(|_| SubscriptionError::Auth)?;
    Ok((public, auth))
}

/// Encrypts a payload for a subscription (aes128gcm, one record).
pub fn encrypt(plaintext: &[u8], p256dh: &str, auth: &str) -> Result<Vec<u8>, SubscriptionError> {
    let (public, auth) = parse_keys(p256dh, auth)?;
    let auth = web_push_native::Auth::from(auth);
    web_push_native::encrypt(plaintext.to_vec(), &public, &auth)
        .map_err(|e| SubscriptionError::Endpoint(e.to_string()))
}

/// The origin (`scheme://host[:port]`) of a push endpoint: the VAPID audience.
pub fn origin_of(endpoint: &url::Url) -> String {
    endpoint.origin().ascii_serialization()
}

/// Seconds a push service should keep an undelivered message.
pub fn ttl_header(remaining: Duration) -> String {
    remaining.as_secs().to_string()
}
