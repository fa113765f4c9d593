//! Web Push (RFC 8030): payload encryption with aes128gcm (RFC 8188/8291) and VAPID
//! authentication (RFC 8292), signed with `jsonwebtoken`'s ES256 so the server uses one JWT
//! library.
//!
//! Why not a crate for the encryption: `web-push` needs OpenSSL and brings its own HTTP client;
//! `web-push-native` is correct but its pure-Rust P-256 made encryption cost ~540 µs per message
//! here, the bottleneck of a 100,000-device broadcast. The same steps on `ring` (already in the
//! tree through rustls, assembly-optimised P-256, HKDF and AES-GCM) take a fraction of that.
//! Correctness is checked against two independent implementations: `web-push-native`'s decrypt in
//! the unit tests and Python's `http_ece` in the push simulator.

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

/// Decodes and checks a browser subscription's keys, including that the point is on the curve:
/// done once, when the subscription is registered.
pub fn parse_keys(p256dh: &str, auth: &str) -> Result<(p256::PublicKey, [u8; 16]), SubscriptionError> {
    let (point, auth) = decode_keys(p256dh, auth)?;
    let public = p256::PublicKey::from_sec1_bytes(&point).map_err(|_| SubscriptionError::PublicKey)?;
    Ok((public, auth))
}

/// Decodes a subscription's keys without the curve check, for every push: the point was
/// validated at registration and ring validates it again in the key agreement, so parsing it
/// with `p256` here would only add a second, slower validation per message.
fn decode_keys(p256dh: &str, auth: &str) -> Result<([u8; 65], [u8; 16]), SubscriptionError> {
    let point: [u8; 65] = URL_SAFE_NO_PAD
        .decode(p256dh.trim_end_matches('='))
        .map_err(|_| SubscriptionError::PublicKey)?
        .try_into()
        .map_err(|_| SubscriptionError::PublicKey)?;
    if point[0] != 0x04 {
        return Err(SubscriptionError::PublicKey);
    }
    let auth: [u8; 16] = URL_SAFE_NO_PAD
        .decode(auth.trim_end_matches('='))
        .map_err(|_| SubscriptionError::Auth)?
        .try_into()
        .map_err(|_| SubscriptionError::Auth)?;
    Ok((point, auth))
}

/// Record size announced in the aes128gcm header: one record holds the whole payload.
const RECORD_SIZE: u32 = 4096;

/// Encrypts a payload for a subscription (RFC 8291: aes128gcm, one record).
pub fn encrypt(plaintext: &[u8], p256dh: &str, auth: &str) -> Result<Vec<u8>, SubscriptionError> {
    use ring::{aead, agreement, hkdf, rand::SecureRandom};

    if plaintext.len() > MAX_PLAINTEXT {
        return Err(SubscriptionError::Endpoint(
            "payload too large for one push".into(),
        ));
    }
    let (ua_public, auth) = decode_keys(p256dh, auth)?;
    let rng = ring::rand::SystemRandom::new();
    let failed = |step: &str| SubscriptionError::Endpoint(format!("encryption failed at {step}"));
    let ephemeral = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| failed("key generation"))?;
    let as_public = ephemeral.compute_public_key().map_err(|_| failed("public key"))?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &ua_public);
    let shared = agreement::agree_ephemeral(ephemeral, &peer, <[u8]>::to_vec)
        .map_err(|_| SubscriptionError::PublicKey)?;

    // RFC 8291 §3.4: IKM = HKDF(auth secret, ECDH secret, "WebPush: info" || 0 || ua || as).
    let key_info: [&[u8]; 4] = [b"WebPush: info\0", &ua_public, as_public.as_ref(), &[]];
    let ikm = expand(
        &hkdf::Salt::new(hkdf::HKDF_SHA256, &auth).extract(&shared),
        &key_info,
        32,
    )?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| failed("salt"))?;
    // RFC 8188 §2.2/2.3: content key and nonce from the salt and the IKM.
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
    let cek = expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?;

    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| failed("key"))?);
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| failed("nonce"))?;
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    record.push(2); // padding delimiter of the last (only) record
    key.seal_in_place_append_tag(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| failed("seal"))?;

    let key_id = as_public.as_ref();
    let mut body = Vec::with_capacity(21 + key_id.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(u8::try_from(key_id.len()).map_err(|_| failed("key id"))?);
    body.extend_from_slice(key_id);
    body.extend_from_slice(&record);
    Ok(body)
}

/// HKDF-Expand to `len` bytes.
fn expand(prk: &ring::hkdf::Prk, info: &[&[u8]], len: usize) -> Result<Vec<u8>, SubscriptionError> {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let mut out = vec![0u8; len];
    prk.expand(info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| SubscriptionError::Endpoint("HKDF failed".into()))?;
    Ok(out)
}

/// The origin (`scheme://host[:port]`) of a push endpoint: the VAPID audience.
pub fn origin_of(endpoint: &url::Url) -> String {
    endpoint.origin().ascii_serialization()
}

/// Seconds a push service should keep an undelivered message.
pub fn ttl_header(remaining: Duration) -> String {
    remaining.as_secs().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_independent_implementation_decrypts_our_pushes() {
        let ua_secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let p256dh = URL_SAFE_NO_PAD.encode(ua_secret.public_key().to_encoded_point(false).as_bytes());
        let auth = [7u8; 16];
        let body = encrypt(
            b"{\"subject\":\"Allerta\"}",
            &p256dh,
            &URL_SAFE_NO_PAD.encode(auth),
        )
        .unwrap();
        let plaintext =
            web_push_native::decrypt(body, &ua_secret, &web_push_native::Auth::from(auth)).unwrap();
        assert_eq!(plaintext, b"{\"subject\":\"Allerta\"}");
    }

    #[test]
    fn oversized_payloads_and_bad_keys_are_refused() {
        let ua_secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let p256dh = URL_SAFE_NO_PAD.encode(ua_secret.public_key().to_encoded_point(false).as_bytes());
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        assert!(encrypt(&[b'x'; MAX_PLAINTEXT + 1], &p256dh, &auth).is_err());
        assert!(encrypt(b"x", "AAAA", &auth).is_err());
        assert!(encrypt(b"x", &p256dh, "AAAA").is_err());
    }
}
