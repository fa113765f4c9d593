//! JWE compact serialisation, decryption only, for the userinfo SPID/CIE providers encrypt to the
//! relying party (RFC 7516): key encryption RSA-OAEP or RSA-OAEP-256, content encryption
//! A128CBC-HS256 or A256CBC-HS512 (RFC 7518 §4.3, §5.2), as the federations require.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::{Oaep, RsaPrivateKey};
use serde::Deserialize;
use sha2::{Sha256, Sha512};

/// The protected header members that matter here.
#[derive(Debug, Deserialize)]
pub struct Header {
    pub alg: String,
    pub enc: String,
    pub kid: Option<String>,
    /// `JWT` when the plaintext is a nested JWS (RFC 7519 §5.2).
    pub cty: Option<String>,
}

/// Whether a compact token is a JWE (five parts) rather than a JWS (three).
pub fn is_jwe(token: &str) -> bool {
    token.split('.').count() == 5
}

/// The protected header of a JWE.
pub fn header(jwe: &str) -> Result<Header, String> {
    let encoded = jwe.split('.').next().ok_or("empty JWE")?;
    serde_json::from_slice(&b64(encoded)?).map_err(|e| format!("JWE header: {e}"))
}

/// Decrypts a compact JWE with an RSA private key; returns the plaintext.
pub fn decrypt(jwe: &str, key: &RsaPrivateKey) -> Result<Vec<u8>, String> {
    let parts: Vec<&str> = jwe.split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err("not a compact JWE (five parts)".to_owned());
    };
    let header = header(jwe)?;
    let wrapped = b64(encrypted_key)?;
    let cek = match header.alg.as_str() {
        "RSA-OAEP" => key.decrypt(Oaep::new::<sha1::Sha1>(), &wrapped),
        "RSA-OAEP-256" => key.decrypt(Oaep::new::<Sha256>(), &wrapped),
        other => return Err(format!("key encryption {other} not accepted")),
    }
    .map_err(|_| "the content key cannot be decrypted with this key".to_owned())?;
    let (iv, ciphertext, tag) = (b64(iv)?, b64(ciphertext)?, b64(tag)?);
    let aad = protected.as_bytes();
    match header.enc.as_str() {
        "A128CBC-HS256" => cbc_hs::<aes::Aes128, Hmac<Sha256>>(&cek, 32, aad, &iv, &ciphertext, &tag),
        "A256CBC-HS512" => cbc_hs::<aes::Aes256, Hmac<Sha512>>(&cek, 64, aad, &iv, &ciphertext, &tag),
        other => Err(format!("content encryption {other} not accepted")),
    }
}

/// AES-CBC with HMAC-SHA2 (RFC 7518 §5.2.2.2): the tag is checked (in constant time) before
/// anything is decrypted.
fn cbc_hs<C, M>(
    cek: &[u8],
    cek_len: usize,
    aad: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, String>
where
    C: aes::cipher::BlockCipher + aes::cipher::BlockDecrypt + aes::cipher::KeyInit,
    cbc::Decryptor<C>: KeyIvInit,
    M: Mac + hmac::digest::KeyInit,
{
    if cek.len() != cek_len {
        return Err("content key of the wrong length".to_owned());
    }
    let (mac_key, enc_key) = cek.split_at(cek_len / 2);
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(mac_key).map_err(|e| e.to_string())?;
    mac.update(aad);
    mac.update(iv);
    mac.update(ciphertext);
    mac.update(&(u64::try_from(aad.len()).unwrap_or(u64::MAX).saturating_mul(8)).to_be_bytes());
    if tag.len() != cek_len / 2 {
        return Err("authentication tag of the wrong length".to_owned());
    }
    mac.verify_truncated_left(tag)
        .map_err(|_| "authentication tag does not match: the JWE was altered".to_owned())?;
    cbc::Decryptor::<C>::new_from_slices(enc_key, iv)
        .map_err(|e| e.to_string())?
        .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        .map_err(|_| "bad padding".to_owned())
}

fn b64(part: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("JWE part not base64url: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use aes::cipher::BlockEncryptMut;

    use super::*;

    /// Encrypts like a provider would (RSA-OAEP(-256), A128CBC-HS256 / A256CBC-HS512).
    pub(crate) fn encrypt(
        plaintext: &[u8],
        key: &rsa::RsaPublicKey,
        kid: &str,
        alg: &str,
        enc: &str,
    ) -> String {
        let cek_len = if enc == "A128CBC-HS256" { 32 } else { 64 };
        let mut cek = vec![0u8; cek_len];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut cek).expect("random");
        getrandom::fill(&mut iv).expect("random");
        let rng = &mut rsa::rand_core::OsRng;
        let wrapped = match alg {
            "RSA-OAEP" => key.encrypt(rng, Oaep::new::<sha1::Sha1>(), &cek),
            _ => key.encrypt(rng, Oaep::new::<Sha256>(), &cek),
        }
        .expect("wrap");
        let protected = URL_SAFE_NO_PAD
            .encode(serde_json::json!({"alg": alg, "enc": enc, "kid": kid, "cty": "JWT"}).to_string());
        let (mac_key, enc_key) = cek.split_at(cek_len / 2);
        let ciphertext = if cek_len == 32 {
            cbc::Encryptor::<aes::Aes128>::new_from_slices(enc_key, &iv)
                .expect("key")
                .encrypt_padded_vec_mut::<Pkcs7>(plaintext)
        } else {
            cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, &iv)
                .expect("key")
                .encrypt_padded_vec_mut::<Pkcs7>(plaintext)
        };
        let al = (protected.len() as u64 * 8).to_be_bytes();
        let tag = if cek_len == 32 {
            let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(mac_key).expect("key");
            for part in [protected.as_bytes(), &iv, &ciphertext, &al] {
                mac.update(part);
            }
            mac.finalize().into_bytes()[..16].to_vec()
        } else {
            let mut mac = <Hmac<Sha512> as hmac::digest::KeyInit>::new_from_slice(mac_key).expect("key");
            for part in [protected.as_bytes(), &iv, &ciphertext, &al] {
                mac.update(part);
            }
            mac.finalize().into_bytes()[..32].to_vec()
        };
        [
            protected,
            URL_SAFE_NO_PAD.encode(wrapped),
            URL_SAFE_NO_PAD.encode(iv),
            URL_SAFE_NO_PAD.encode(ciphertext),
            URL_SAFE_NO_PAD.encode(tag),
        ]
        .join(".")
    }

    fn key() -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key")
    }

    #[test]
    fn every_accepted_combination_round_trips_and_tampering_is_detected() {
        let key = key();
        for alg in ["RSA-OAEP", "RSA-OAEP-256"] {
            for enc in ["A128CBC-HS256", "A256CBC-HS512"] {
                let jwe = encrypt(b"eyJ.inner.jws", &key.to_public_key(), "k1", alg, enc);
                assert!(is_jwe(&jwe));
                assert_eq!(header(&jwe).expect("header").kid.as_deref(), Some("k1"));
                assert_eq!(
                    decrypt(&jwe, &key).expect("decrypts"),
                    b"eyJ.inner.jws",
                    "{alg} {enc}"
                );

                let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
                let mut ciphertext = URL_SAFE_NO_PAD.decode(&parts[3]).expect("b64");
                ciphertext[0] ^= 1;
                parts[3] = URL_SAFE_NO_PAD.encode(ciphertext);
                let error = decrypt(&parts.join("."), &key).unwrap_err();
                assert!(error.contains("altered"), "{error}");
            }
        }
    }

    #[test]
    fn another_key_or_algorithm_is_refused() {
        let (key, other) = (key(), key());
        let jwe = encrypt(b"x", &key.to_public_key(), "k1", "RSA-OAEP-256", "A128CBC-HS256");
        assert!(decrypt(&jwe, &other).is_err());
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(r#"{"alg":"RSA1_5","enc":"A128CBC-HS256"}"#);
        assert!(decrypt(&parts.join("."), &key).unwrap_err().contains("RSA1_5"));
        assert!(!is_jwe("a.b.c"));
    }
}
