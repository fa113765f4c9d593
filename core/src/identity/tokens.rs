//! The server's access tokens as a caller presents them: Ed25519-signed JWTs (`EdDSA`) naming
//! their key with `kid`. Reading one is pure (no key store, no clock but the system's), so it
//! lives here, where the fuzz targets (fuzz/) reach it without building the server; the server
//! keeps the keys, their rotation and the sessions (server/src/identity/tokens.rs).
//!
//! Only with the `tokens` feature (the server turns it on; the mobile bindings never verify
//! tokens).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Audience of the access tokens: this API.
pub const AUDIENCE: &str = "sportello-api";
/// Seconds of clock difference tolerated on `exp` (between instances of the server).
const LEEWAY_SECONDS: u64 = 30;

/// Claims of an access JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: the server's public URL.
    pub iss: String,
    /// Audience: [`AUDIENCE`].
    pub aud: String,
    /// User id.
    pub sub: String,
    /// Fiscal code.
    pub cf: String,
    /// Role strings.
    pub roles: Vec<String>,
    /// Session (token family) id.
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Why a token was refused (all map to 401; the reason is only logged).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The header names no key, or one that is not ours.
    #[error("no key with this kid")]
    UnknownKid,
    /// Malformed, badly signed, expired, or for another issuer or audience.
    #[error("token invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// The `kid` of a token's header, read without verifying anything: which key to verify with.
pub fn key_id(token: &str) -> Result<String, TokenError> {
    jsonwebtoken::decode_header(token)?
        .kid
        .ok_or(TokenError::UnknownKid)
}

/// Verifies signature (EdDSA only: the header cannot choose another algorithm), issuer,
/// audience and expiry with the key the token's `kid` named; returns the claims.
pub fn verify(token: &str, key: &DecodingKey, issuer: &str) -> Result<AccessClaims, TokenError> {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    Ok(jsonwebtoken::decode::<AccessClaims>(token, key, &validation)?.claims)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;

    /// A test key (also the fuzz target's), used nowhere else.
    const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIKByWokb23YV51es6bnMG7JiFk/qNx9JMPeESWF7XSF3
-----END PRIVATE KEY-----
";
    const PUBLIC_X: &str = "2fyg642xLlOdE2-l5VwzozumSWv51SqHm0P5D8KqF5k";
    const ISSUER: &str = "https://sportello.example";

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: "u1".to_owned(),
            cf: "RSSMRA85T10A562S".to_owned(),
            roles: vec!["citizen".to_owned()],
            sid: "s1".to_owned(),
            iat: 0,
            exp,
        }
    }

    fn sign(header: &Header, claims: &AccessClaims) -> String {
        let key = EncodingKey::from_ed_pem(PRIVATE_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(header, claims, &key).unwrap()
    }

    #[test]
    fn verifies_signature_issuer_audience_and_expiry() {
        let key = DecodingKey::from_ed_components(PUBLIC_X).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("k1".to_owned());
        let token = sign(&header, &claims(4_102_444_800));
        assert_eq!(key_id(&token).unwrap(), "k1");
        assert_eq!(verify(&token, &key, ISSUER).unwrap(), claims(4_102_444_800));
        assert!(verify(&token, &key, "https://other.example").is_err());
        assert!(verify(&sign(&header, &claims(1_000)), &key, ISSUER).is_err());
        // The signature over other claims does not carry over.
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let other = sign(
            &header,
            &AccessClaims {
                roles: vec!["admin".to_owned()],
                ..claims(4_102_444_800)
            },
        );
        let payload = other.split('.').nth(1).unwrap();
        assert!(verify(&format!("{head}.{payload}.{signature}"), &key, ISSUER).is_err());
        // No kid: which key would verify it?
        let no_kid = sign(&Header::new(Algorithm::EdDSA), &claims(4_102_444_800));
        assert!(matches!(key_id(&no_kid), Err(TokenError::UnknownKid)));
        assert!(key_id("not a token").is_err());
    }
}
