//! Access tokens as a caller presents them (`Authorization: Bearer …`), read the way
//! `KeyRing::verify` reads them: `key_id`, then `verify` with the key it names, then the roles
//! and fiscal code in the claims as `Identity::authenticate` and the login read them.
//! The key ring is one fixed Ed25519 key (a test key, used nowhere else) that signed the
//! tokens in [`ISSUED`]; the seed corpus holds those and forged variants of them (alg none,
//! HS256 keyed with the public key, another kid, expired, other audience or issuer).
//!
//! Properties: no panic; a token accepted is byte for byte one the key signed, with its
//! claims (no second encoding of a signed token, no forged header or claims, is accepted);
//! every role or fiscal code that parses, from the claims or from the raw input, prints back
//! to text that parses to the same value.
#![no_main]

use std::sync::OnceLock;

use jsonwebtoken::DecodingKey;
use libfuzzer_sys::fuzz_target;
use sportello_core::identity::tokens::{self, AUDIENCE, AccessClaims};
use sportello_core::identity::{FiscalCode, Role};

const ISSUER: &str = "https://sportello.example";
const KID: &str = "fuzz-key-1";
/// The public half of the test key (base64url), as the JWKS carries it.
const PUBLIC_X: &str = "2fyg642xLlOdE2-l5VwzozumSWv51SqHm0P5D8KqF5k";
/// The test key's private half, only to sign [`ISSUED`] at start-up.
const PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIKByWokb23YV51es6bnMG7JiFk/qNx9JMPeESWF7XSF3
-----END PRIVATE KEY-----
";

/// (sub, cf, roles) of the tokens the key signs; they expire in 2100.
const ISSUED: [(&str, &str, &[&str]); 2] = [
    ("u-citizen", "RSSMRA85T10A562S", &["citizen"]),
    (
        "u-operator",
        "VRDGPP80A01D969Z",
        &["citizen", "operator:010025:payments", "admin"],
    ),
];

struct Ring {
    key: DecodingKey,
    issued: Vec<(String, AccessClaims)>,
}

fn ring() -> &'static Ring {
    static RING: OnceLock<Ring> = OnceLock::new();
    RING.get_or_init(|| {
        let signing = jsonwebtoken::EncodingKey::from_ed_pem(PRIVATE_PEM.as_bytes()).expect("test key");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(KID.to_owned());
        let issued = ISSUED
            .iter()
            .map(|(sub, cf, roles)| {
                let claims = AccessClaims {
                    iss: ISSUER.to_owned(),
                    aud: AUDIENCE.to_owned(),
                    sub: (*sub).to_owned(),
                    cf: (*cf).to_owned(),
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    sid: format!("s-{sub}"),
                    iat: 1_780_000_000,
                    exp: 4_102_444_800,
                };
                let token = jsonwebtoken::encode(&header, &claims, &signing).expect("signs");
                (token, claims)
            })
            .collect();
        Ring {
            key: DecodingKey::from_ed_components(PUBLIC_X).expect("test key"),
            issued,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_role(text);
    check_fiscal_code(text);
    let ring = ring();
    let Ok(kid) = tokens::key_id(text) else {
        return;
    };
    if kid != KID {
        return;
    }
    let Ok(claims) = tokens::verify(text, &ring.key, ISSUER) else {
        return;
    };
    let Some((_, signed)) = ring.issued.iter().find(|(token, _)| token == text) else {
        panic!("accepted a token the key did not sign: {text:?} -> {claims:?}");
    };
    assert_eq!(&claims, signed);
    for role in &claims.roles {
        assert!(role.parse::<Role>().is_ok(), "{role}");
    }
    assert!(FiscalCode::parse(&claims.cf).is_ok());
});

fn check_role(text: &str) {
    if let Ok(role) = text.parse::<Role>() {
        let printed = role.to_string();
        assert_eq!(
            printed.parse::<Role>().as_ref(),
            Ok(&role),
            "{text:?} -> {printed:?}"
        );
    }
}

fn check_fiscal_code(text: &str) {
    if let Ok(code) = FiscalCode::from_claims(Some(text), None) {
        assert_eq!(FiscalCode::parse(code.as_str()).as_ref(), Ok(&code));
        assert_eq!(code.as_str().len(), 16);
    }
}
