//! The request object, the client assertion, and every check on the tokens a provider returns.

use std::sync::LazyLock;

use rsa::RsaPrivateKey;

use super::super::jwe::tests::encrypt;
use super::*;

const CLIENT: &str = "https://sportello.example";
const REDIRECT: &str = "https://sportello.example/v1/auth/federation/callback";
const OP: &str = "https://op.example";
const L1: &str = "https://www.spid.gov.it/SpidL1";
const L2: &str = "https://www.spid.gov.it/SpidL2";

fn rsa_key(purpose: Purpose) -> Key {
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    Key::new(private, purpose).expect("key")
}

/// Sportello's core and encryption keys, the provider's key, a stranger's key.
static KEYS: LazyLock<(KeySet, Key, Key)> = LazyLock::new(|| {
    let rp = KeySet::from_keys(vec![rsa_key(Purpose::Core), rsa_key(Purpose::Encryption)]);
    (rp, rsa_key(Purpose::Federation), rsa_key(Purpose::Federation))
});

fn rp() -> &'static KeySet {
    &KEYS.0
}
fn op_key() -> &'static Key {
    &KEYS.1
}
fn stranger() -> &'static Key {
    &KEYS.2
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn provider() -> ProviderEndpoints {
    let metadata = json!({
        "issuer": OP,
        "authorization_endpoint": format!("{OP}/authorization"),
        "token_endpoint": format!("{OP}/token"),
        "userinfo_endpoint": format!("{OP}/userinfo"),
        "jwks": {"keys": [op_key().public_jwk()]},
    });
    ProviderEndpoints::from_metadata(metadata.as_object().expect("object")).expect("endpoints")
}

fn id_token(signer: &Key, changes: &Value) -> String {
    let mut claims = json!({
        "iss": OP, "sub": "pairwise-1", "aud": [CLIENT], "iat": now(), "exp": now() + 300,
        "nonce": "n-1", "acr": L2,
    });
    for (name, value) in changes.as_object().expect("object") {
        claims[name] = value.clone();
    }
    signer.sign("JWT", &claims).expect("signed")
}

#[test]
fn the_request_object_is_signed_and_carries_pkce_state_nonce_and_acr() {
    let request = authorization_request(
        rp().current(Purpose::Core),
        CLIENT,
        REDIRECT,
        &provider(),
        L2,
        now(),
    )
    .expect("request");
    let query: std::collections::HashMap<_, _> = request.url.query_pairs().into_owned().collect();
    assert!(
        request
            .url
            .as_str()
            .starts_with("https://op.example/authorization?")
    );
    assert_eq!(query["client_id"], CLIENT);
    assert_eq!(query["code_challenge"], pkce_challenge(&request.pkce_verifier));
    let jwks = rp().jwks(&[Purpose::Core]);
    let claims = verify_jws_requiring(&query["request"], &jwks, None, &["exp", "iss"])
        .expect("signed with the core key");
    assert_eq!(claims["iss"], CLIENT);
    // Without `sub` it cannot be replayed as a client assertion.
    assert!(claims.get("sub").is_none());
    assert_eq!(claims["aud"], json!([OP, format!("{OP}/authorization")]));
    assert_eq!(claims["state"], request.state.as_str());
    assert_eq!(claims["nonce"], request.nonce.as_str());
    assert_eq!(claims["code_challenge"], query["code_challenge"].as_str());
    assert_eq!(claims["code_challenge_method"], "S256");
    assert_eq!(claims["acr_values"], L2);
    assert_eq!(claims["redirect_uri"], REDIRECT);
    assert_eq!(
        claims["claims"]["userinfo"][FISCAL_NUMBER_CLAIM]["essential"],
        true
    );
    assert!(
        authorization_request(
            rp().current(Purpose::Core),
            CLIENT,
            REDIRECT,
            &provider(),
            "L9",
            now()
        )
        .is_err()
    );
}

#[test]
fn the_client_assertion_is_for_the_token_endpoint() {
    let assertion = client_assertion(
        rp().current(Purpose::Core),
        CLIENT,
        &provider().token_endpoint,
        now(),
    )
    .expect("assertion");
    let claims = verify_jws(&assertion, &rp().jwks(&[Purpose::Core]), None).expect("verifies");
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some(CLIENT), Some(CLIENT))
    );
    assert_eq!(claims["aud"], "https://op.example/token");
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 32));
    let form = token_form("c", "v", REDIRECT, CLIENT, &assertion);
    assert!(form.contains(&(
        "client_assertion_type",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()
    )));
    assert_eq!(payload(&assertion)["aud"], "https://op.example/token");
}

#[test]
fn id_tokens_are_checked_claim_by_claim() {
    let ok = verify_id_token(&id_token(op_key(), &json!({})), &provider(), CLIENT, "n-1", L2).expect("valid");
    assert_eq!(ok["sub"], "pairwise-1");
    let higher = id_token(op_key(), &json!({"acr": "https://www.spid.gov.it/SpidL3"}));
    assert!(
        verify_id_token(&higher, &provider(), CLIENT, "n-1", L2).is_ok(),
        "a higher level is fine"
    );
    for (token, why) in [
        (id_token(stranger(), &json!({})), "kid"),
        (id_token(op_key(), &json!({"nonce": "n-2"})), "nonce"),
        (
            id_token(op_key(), &json!({"aud": "https://other.example"})),
            "addressed",
        ),
        (
            id_token(op_key(), &json!({"iss": "https://other-op.example"})),
            "another provider",
        ),
        (id_token(op_key(), &json!({"exp": now() - 120})), "xpired"),
        (id_token(op_key(), &json!({"acr": L1})), "lower"),
        (id_token(op_key(), &json!({"acr": null})), "lower"),
    ] {
        let error = verify_id_token(&token, &provider(), CLIENT, "n-1", L2).unwrap_err();
        assert!(error.contains(why), "{why}: {error}");
    }
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload(&id_token(op_key(), &json!({}))),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .expect("HS256");
    assert!(
        verify_id_token(&hmac, &provider(), CLIENT, "n-1", L2)
            .unwrap_err()
            .contains("not accepted")
    );
}

fn userinfo_jws(signer: &Key, sub: &str) -> String {
    userinfo_jws_with(signer, &json!({"iss": OP, "sub": sub, "aud": CLIENT}))
}

fn userinfo_jws_with(signer: &Key, extra: &Value) -> String {
    let mut claims = json!({
        "iat": now(), "exp": now() + 300,
        FISCAL_NUMBER_CLAIM: "TINIT-RSSMRA85T10A562S", "given_name": "Mario",
    });
    for (name, value) in extra.as_object().expect("object") {
        claims[name] = value.clone();
    }
    signer.sign("JWT", &claims).expect("signed")
}

#[test]
fn userinfo_must_be_encrypted_to_sportello_and_signed_by_the_provider() {
    let encryption = rp().current(Purpose::Encryption);
    let to_sportello = |jws: &str| {
        encrypt(
            jws.as_bytes(),
            &encryption.private().to_public_key(),
            &encryption.kid,
            "RSA-OAEP-256",
            "A128CBC-HS256",
        )
    };
    let good = to_sportello(&userinfo_jws(op_key(), "pairwise-1"));
    let claims = verify_userinfo(&good, rp(), &provider(), CLIENT, "pairwise-1").expect("valid");
    assert_eq!(
        fiscal_code(&claims).expect("fiscal code").as_str(),
        "RSSMRA85T10A562S"
    );

    // As the reference provider (`spid-cie-oidc`) signs it: `sub` and the claims, no `iss`/`aud`.
    let bare = to_sportello(&userinfo_jws_with(op_key(), &json!({"sub": "pairwise-1"})));
    verify_userinfo(&bare, rp(), &provider(), CLIENT, "pairwise-1").expect("valid without iss and aud");

    let plain = userinfo_jws(op_key(), "pairwise-1");
    let to_someone_else = encrypt(
        plain.as_bytes(),
        &stranger().private().to_public_key(),
        "x",
        "RSA-OAEP",
        "A256CBC-HS512",
    );
    for (body, why) in [
        (plain.clone(), "not encrypted"),
        (payload(&plain).to_string(), "not encrypted"),
        (to_someone_else, "cannot be decrypted"),
        (to_sportello(&userinfo_jws(stranger(), "pairwise-1")), "kid"),
        (
            to_sportello(&userinfo_jws(op_key(), "pairwise-2")),
            "someone else",
        ),
        (
            to_sportello(&userinfo_jws_with(
                op_key(),
                &json!({"iss": "https://other-op.example", "sub": "pairwise-1"}),
            )),
            "another provider",
        ),
        (
            to_sportello(&userinfo_jws_with(
                op_key(),
                &json!({"sub": "pairwise-1", "aud": "https://other-rp.example"}),
            )),
            "not addressed to Sportello",
        ),
        (
            to_sportello(&userinfo_jws_with(op_key(), &json!({"iss": OP}))),
            "sub",
        ),
    ] {
        let error = verify_userinfo(&body, rp(), &provider(), CLIENT, "pairwise-1").unwrap_err();
        assert!(error.contains(why), "{why}: {error}");
    }
}

#[test]
fn the_fiscal_number_becomes_the_fiscal_code() {
    let claims = json!({FISCAL_NUMBER_CLAIM: "TINIT-RSSMRA85T10A562S"});
    assert_eq!(fiscal_code(&claims).expect("valid").as_str(), "RSSMRA85T10A562S");
    assert!(fiscal_code(&json!({FISCAL_NUMBER_CLAIM: "TINIT-RSSMRA85T10A562X"})).is_err());
    assert!(fiscal_code(&json!({})).is_err());
    assert_eq!(acr_rank(L1), Some(0));
    assert_eq!(acr_rank("https://www.spid.gov.it/SpidL3"), Some(2));
}
