//! A federated login at the service level, against a trust anchor and an OpenID provider served
//! by the test on loopback: the happy path and the refusals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rsa::RsaPrivateKey;
use serde_json::{Value, json};

use super::jwe::tests::encrypt;
use super::keys::Key;
use super::request::{ACR_LEVELS, FISCAL_NUMBER_CLAIM};
use super::tests::{spid, test_db};
use super::trust::verify_jws;
use super::*;
use crate::identity::tokens::pkce_challenge;

const RP: &str = "https://sportello.example";

/// What the fake provider knows and how it misbehaves.
struct Op {
    base: String,
    key: Key,
    ta_key: Key,
    rp_jwks: Value,
    /// code → (nonce, PKCE challenge); a code works once.
    codes: HashMap<String, (String, String)>,
    acr: String,
    encrypt_userinfo: bool,
}

type Shared = Arc<Mutex<Op>>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn statement(key: &Key, claims: &Value) -> String {
    key.sign(entity::ENTITY_STATEMENT_TYP, claims).expect("signed")
}

async fn ta_configuration(State(op): State<Shared>) -> String {
    let op = op.lock().expect("lock");
    let ta = format!("{}/ta", op.base);
    statement(
        &op.ta_key,
        &json!({
            "iss": ta, "sub": ta, "iat": now(), "exp": now() + 3600,
            "jwks": {"keys": [op.ta_key.public_jwk()]},
            "metadata": {"federation_entity": {"federation_fetch_endpoint": format!("{ta}/fetch")}},
        }),
    )
}

async fn ta_fetch(State(op): State<Shared>) -> String {
    let op = op.lock().expect("lock");
    statement(
        &op.ta_key,
        &json!({
            "iss": format!("{}/ta", op.base), "sub": format!("{}/op", op.base), "iat": now(), "exp": now() + 3600,
            "jwks": {"keys": [op.key.public_jwk()]},
        }),
    )
}

async fn op_configuration(State(op): State<Shared>) -> String {
    let op = op.lock().expect("lock");
    let issuer = format!("{}/op", op.base);
    statement(
        &op.key,
        &json!({
            "iss": issuer, "sub": issuer, "iat": now(), "exp": now() + 3600,
            "jwks": {"keys": [op.key.public_jwk()]},
            "authority_hints": [format!("{}/ta", op.base)],
            "metadata": {"openid_provider": {
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorization"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "jwks": {"keys": [op.key.public_jwk()]},
            }},
        }),
    )
}

async fn token(
    State(op): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let mut op = op.lock().expect("lock");
    let issuer = format!("{}/op", op.base);
    let assertion_ok = verify_jws(&form["client_assertion"], &op.rp_jwks, None)
        .is_ok_and(|claims| claims["iss"] == RP && claims["aud"] == format!("{issuer}/token"));
    let Some((nonce, challenge)) = op.codes.remove(&form["code"]) else {
        return (StatusCode::BAD_REQUEST, "invalid_grant").into_response();
    };
    if !assertion_ok || pkce_challenge(&form["code_verifier"]) != challenge {
        return (StatusCode::BAD_REQUEST, "invalid_client").into_response();
    }
    let id_token = op
        .key
        .sign(
            "JWT",
            &json!({
                "iss": issuer, "sub": "pairwise-7", "aud": RP, "iat": now(), "exp": now() + 300,
                "nonce": nonce, "acr": op.acr,
            }),
        )
        .expect("signed");
    axum::Json(json!({"access_token": "at-1", "token_type": "Bearer", "id_token": id_token})).into_response()
}

async fn userinfo(State(op): State<Shared>, headers: HeaderMap) -> axum::response::Response {
    let op = op.lock().expect("lock");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer at-1") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let jws = op
        .key
        .sign(
            "JWT",
            &json!({
                "iss": format!("{}/op", op.base), "sub": "pairwise-7", "aud": RP,
                FISCAL_NUMBER_CLAIM: "TINIT-RSSMRA85T10A562S", "given_name": "Mario", "family_name": "Rossi",
            }),
        )
        .expect("signed");
    if !op.encrypt_userinfo {
        return jws.into_response();
    }
    let enc = op.rp_jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["use"] == "enc")
        .expect("enc key");
    let public = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&b64(&enc["n"])),
        rsa::BigUint::from_bytes_be(&b64(&enc["e"])),
    )
    .expect("RSA public key");
    encrypt(
        jws.as_bytes(),
        &public,
        enc["kid"].as_str().expect("kid"),
        "RSA-OAEP-256",
        "A128CBC-HS256",
    )
    .into_response()
}

fn b64(value: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.as_str().expect("text"))
        .expect("base64url")
}

fn key() -> Key {
    Key::new(
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA"),
        Purpose::Federation,
    )
    .expect("key")
}

/// A running fake federation and Sportello's relying party in it.
struct World {
    op: Shared,
    federation: Federation,
    provider: String,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let op = Arc::new(Mutex::new(Op {
        base: base.clone(),
        key: key(),
        ta_key: key(),
        rp_jwks: json!({}),
        codes: HashMap::new(),
        acr: ACR_LEVELS[1].to_owned(),
        encrypt_userinfo: true,
    }));
    let app = axum::Router::new()
        .route("/ta/.well-known/openid-federation", get(ta_configuration))
        .route("/ta/fetch", get(ta_fetch))
        .route("/op/.well-known/openid-federation", get(op_configuration))
        .route("/op/token", post(token))
        .route("/op/userinfo", get(userinfo))
        .with_state(op.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let mut config = spid();
    let ta = format!("{base}/ta");
    let ta_jwks = json!({"keys": [op.lock().expect("lock").ta_key.public_jwk()]});
    config.trust_anchors = BTreeMap::from([(ta.clone(), ta_jwks)]);
    config.authority_hints = vec![ta];
    let (db, dir) = test_db().await;
    let federation = Federation::new(
        db,
        RP,
        RelyingPartyConfig::default(),
        BTreeMap::from([("spid".to_owned(), config)]),
        false,
    );
    let keys = federation.keys().await.expect("keys");
    op.lock().expect("lock").rp_jwks = keys.jwks(&[Purpose::Core, Purpose::Encryption]);
    World {
        op,
        federation,
        provider: format!("{base}/op"),
        _dir: dir,
    }
}

impl World {
    /// Starts a login and plays the provider's authorization endpoint: a code for the request.
    async fn authorize(&self, acr: &str) -> (String, request::AuthorizationRequest) {
        let request = self
            .federation
            .begin("spid", &self.provider, acr)
            .await
            .expect("begins");
        let query: HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        let claims = verify_jws(&query["request"], &self.op.lock().expect("lock").rp_jwks, None)
            .expect("request object");
        let code = crate::identity::tokens::random_secret();
        self.op.lock().expect("lock").codes.insert(
            code.clone(),
            (
                claims["nonce"].as_str().expect("nonce").to_owned(),
                claims["code_challenge"].as_str().expect("challenge").to_owned(),
            ),
        );
        (code, request)
    }

    /// Completing the login fails, saying why.
    async fn refused(&self, code: &str, request: &request::AuthorizationRequest, why: &str) {
        let error = self
            .complete(code, request)
            .await
            .expect_err("refused")
            .to_string();
        assert!(error.contains(why), "{why}: {error}");
    }

    async fn complete(
        &self,
        code: &str,
        request: &request::AuthorizationRequest,
    ) -> Result<FederatedIdentity, FederationError> {
        self.federation
            .complete(
                "spid",
                &self.provider,
                code,
                &request.pkce_verifier,
                &request.nonce,
                &request.acr,
            )
            .await
    }
}

#[tokio::test]
async fn a_federated_login_yields_the_fiscal_code_and_refuses_every_deviation() {
    let world = world().await;
    let (code, request) = world.authorize(ACR_LEVELS[1]).await;
    let identity = world.complete(&code, &request).await.expect("logged in");
    assert_eq!(identity.fiscal_code.as_str(), "RSSMRA85T10A562S");
    assert_eq!(identity.given_name.as_deref(), Some("Mario"));

    // The same code again.
    world.refused(&code, &request, "400").await;

    // A nonce that is not the one sent.
    let (code, mut request) = world.authorize(ACR_LEVELS[1]).await;
    request.nonce = "another".to_owned();
    world.refused(&code, &request, "nonce").await;

    // A lower level than asked.
    world.op.lock().expect("lock").acr = ACR_LEVELS[0].to_owned();
    let (code, request) = world.authorize(ACR_LEVELS[1]).await;
    world.refused(&code, &request, "lower").await;
    world.op.lock().expect("lock").acr = ACR_LEVELS[2].to_owned();

    // An unencrypted userinfo.
    world.op.lock().expect("lock").encrypt_userinfo = false;
    let (code, request) = world.authorize(ACR_LEVELS[1]).await;
    world.refused(&code, &request, "not encrypted").await;
}

#[tokio::test]
async fn a_provider_outside_the_federation_is_refused_before_any_redirect() {
    let world = world().await;
    // The provider's chain leads to a trust anchor Sportello does not know.
    let mut config = spid();
    config.authority_hints = vec!["https://elsewhere.example".to_owned()];
    let db = world.federation.db.clone();
    let other = Federation::new(
        db,
        RP,
        RelyingPartyConfig::default(),
        BTreeMap::from([("spid".to_owned(), config)]),
        false,
    );
    let error = other
        .begin("spid", &world.provider, ACR_LEVELS[1])
        .await
        .unwrap_err();
    assert!(
        matches!(error, FederationError::Trust(trust::TrustError::Untrusted(_))),
        "{error}"
    );
    let error = world
        .federation
        .begin("cie", &world.provider, ACR_LEVELS[1])
        .await
        .unwrap_err();
    assert!(matches!(error, FederationError::UnknownFederation(_)), "{error}");
}
