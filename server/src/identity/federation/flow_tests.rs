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
use super::tests::{spid, test_db, test_db_url};
use super::trust::verify_jws;
use super::*;
use crate::identity::tokens::pkce_challenge;

const RP: &str = "https://sportello.example";

/// What the fake provider knows and how it misbehaves.
pub(super) struct Op {
    pub(super) base: String,
    /// Its `federation_entity.organization_name`.
    pub(super) name: String,
    /// How often the anchor's subordinate listing was asked for.
    pub(super) listings: usize,
    /// Access tokens revoked by Sportello with a valid client assertion.
    revoked: Vec<String>,
    key: Key,
    ta_key: Key,
    rp_jwks: Value,
    /// code → (nonce, PKCE challenge); a code works once.
    codes: HashMap<String, (String, String)>,
    acr: String,
    encrypt_userinfo: bool,
}

pub(super) type Shared = Arc<Mutex<Op>>;

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
            "metadata": {"federation_entity": {
                "federation_fetch_endpoint": format!("{ta}/fetch"),
                "federation_list_endpoint": format!("{ta}/list"),
            }},
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

/// The anchor's subordinate listing: the provider, and one that has no Entity Configuration.
async fn ta_list(
    State(op): State<Shared>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let mut op = op.lock().expect("lock");
    op.listings += 1;
    if query.get("entity_type").map(String::as_str) != Some("openid_provider") {
        return axum::Json(json!([]));
    }
    axum::Json(json!([format!("{}/op", op.base), format!("{}/ghost", op.base)]))
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
            "metadata": {
              "federation_entity": {
                "organization_name": op.name,
                "logo_uri": format!("{}/logo.svg", op.base),
              },
              "openid_provider": {
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorization"),
                "token_endpoint": format!("{issuer}/token"),
                "userinfo_endpoint": format!("{issuer}/userinfo"),
                "revocation_endpoint": format!("{issuer}/revocation"),
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

/// RFC 7009 revocation, the client authenticated by a `private_key_jwt` for this endpoint.
async fn revocation(State(op): State<Shared>, Form(form): Form<HashMap<String, String>>) -> StatusCode {
    let mut op = op.lock().expect("lock");
    let endpoint = format!("{}/op/revocation", op.base);
    let assertion_ok = verify_jws(&form["client_assertion"], &op.rp_jwks, None)
        .is_ok_and(|claims| claims["iss"] == RP && claims["sub"] == RP && claims["aud"] == endpoint);
    if !assertion_ok || form.get("client_id").map(String::as_str) != Some(RP) {
        return StatusCode::BAD_REQUEST;
    }
    op.revoked.push(form["token"].clone());
    StatusCode::OK
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

/// The fake trust anchor and provider on loopback, and the federation configuration for them.
pub(super) async fn fake_federation() -> (Shared, String, FederationConfig) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let op = Arc::new(Mutex::new(Op {
        base: base.clone(),
        name: "Test ID".to_owned(),
        listings: 0,
        revoked: Vec::new(),
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
        .route("/ta/list", get(ta_list))
        .route("/op/.well-known/openid-federation", get(op_configuration))
        .route("/op/token", post(token))
        .route("/op/userinfo", get(userinfo))
        .route("/op/revocation", post(revocation))
        .with_state(op.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let mut config = spid();
    let ta = format!("{base}/ta");
    let ta_jwks = json!({"keys": [op.lock().expect("lock").ta_key.public_jwk()]});
    config.trust_anchors = BTreeMap::from([(ta.clone(), ta_jwks)]);
    config.authority_hints = vec![ta];
    (op, base, config)
}

async fn world() -> World {
    let (op, base, config) = fake_federation().await;
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
        let claims = super::trust::verify_jws_requiring(
            &query["request"],
            &self.op.lock().expect("lock").rp_jwks,
            None,
            &["exp", "iss"],
        )
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

/// Through Sportello's HTTP routes, as an app does: login, the provider's callback, the app's
/// code redeemed, `GET /v1/me`; then refusals that store nobody.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one login story and its refusals, read top to bottom"
)]
async fn the_app_flow_works_with_a_federated_provider() {
    use tower::ServiceExt;

    let (op, base, federation) = fake_federation().await;
    let (db_url, _dir) = test_db_url().await;
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = crate::config::Config {
        data_dir: data.path().to_owned(),
        public_url: Some(RP.to_owned()),
        ..crate::config::Config::default()
    };
    config.database_url = Some(crate::config::Secret::new(db_url));
    config.auth.federations.insert("spid".to_owned(), federation);
    let state = crate::AppState::start(config).await.expect("starts");
    let db = state.db.clone();
    let keys = state.identity.federation().keys().await.expect("keys");
    op.lock().expect("lock").rp_jwks = keys.jwks(&[Purpose::Core, Purpose::Encryption]);
    let router = crate::http::router(state.clone());
    let call = |request: axum::http::Request<axum::body::Body>| {
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.expect("response");
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|value| value.to_str().expect("text").to_owned());
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            (
                status,
                location,
                serde_json::from_slice::<Value>(&body).unwrap_or_default(),
            )
        }
    };
    let get = |uri: String| {
        axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .expect("request")
    };

    let verifier = "v".repeat(43);
    let provider = format!("{base}/op");
    let login = |provider: &str, app_state: &str| {
        let mut url = url::Url::parse("http://x/v1/auth/federation/spid/login").expect("url");
        url.query_pairs_mut()
            .append_pair("provider", provider)
            .append_pair("redirect_uri", "it.genova.sportello://auth")
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", app_state);
        format!("{}?{}", url.path(), url.query().expect("query"))
    };
    // The provider's authorization endpoint, played by the test: a code for the request object.
    let authorize = |location: String| {
        let url = url::Url::parse(&location).expect("provider URL");
        let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
        let claims = super::trust::verify_jws_requiring(
            &query["request"],
            &op.lock().expect("lock").rp_jwks,
            None,
            &["exp", "iss"],
        )
        .expect("request object");
        let code = crate::identity::tokens::random_secret();
        op.lock().expect("lock").codes.insert(
            code.clone(),
            (
                claims["nonce"].as_str().expect("nonce").to_owned(),
                claims["code_challenge"].as_str().expect("challenge").to_owned(),
            ),
        );
        format!(
            "/v1/auth/federation/callback?code={code}&state={}",
            claims["state"].as_str().expect("state")
        )
    };

    let (status, location, _) = call(get(login(&provider, "app-1"))).await;
    assert_eq!(status, 303);
    let location = location.expect("to the provider");
    assert!(
        location.starts_with(&format!("{provider}/authorization?")),
        "{location}"
    );
    let callback = authorize(location);
    let (status, location, _) = call(get(callback.clone())).await;
    assert_eq!(status, 303);
    let back = url::Url::parse(&location.expect("to the app")).expect("app URL");
    assert_eq!(back.scheme(), "it.genova.sportello");
    let query: HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query["state"], "app-1");
    let token = axum::http::Request::post("/v1/auth/token")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"grant_type": "authorization_code", "code": query["code"], "code_verifier": verifier})
                .to_string(),
        ))
        .expect("request");
    let (status, _, pair) = call(token).await;
    assert_eq!(status, 200, "{pair}");
    let me = axum::http::Request::get("/v1/me")
        .header(
            "authorization",
            format!("Bearer {}", pair["access_token"].as_str().expect("token")),
        )
        .body(axum::body::Body::empty())
        .expect("request");
    let (status, _, me) = call(me).await;
    assert_eq!(status, 200);
    assert_eq!(me["fiscal_code"], "RSSMRA85T10A562S");
    assert_eq!(me["given_name"], "Mario");
    let count = |table: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(db.pool())
                .await
                .expect("count")
        }
    };
    assert_eq!(count("provider_sessions").await, 1, "the provider's token kept");

    // Logging out of Sportello revokes the provider's token at its revocation endpoint, once.
    let logout = || {
        axum::http::Request::post("/v1/auth/logout")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"refresh_token": pair["refresh_token"]}).to_string(),
            ))
            .expect("request")
    };
    assert_eq!(call(logout()).await.0, 204);
    assert_eq!(op.lock().expect("lock").revoked, vec!["at-1".to_owned()]);
    assert_eq!(count("provider_sessions").await, 0, "forgotten");
    assert_eq!(call(logout()).await.0, 204);
    assert_eq!(op.lock().expect("lock").revoked.len(), 1, "revoked once");

    // The same callback again: the state is spent.
    let (status, _, problem) = call(get(callback)).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("login-failed")),
        "{problem}"
    );
    // A state Sportello never issued.
    let (status, _, _) = call(get("/v1/auth/federation/callback?code=x&state=forged".to_owned())).await;
    assert_eq!(status, 400);
    // A lower level than asked: back to the app with an error, and nobody new stored.
    op.lock().expect("lock").acr = ACR_LEVELS[0].to_owned();
    let before = (
        count("users").await,
        count("authorization_codes").await,
        count("provider_sessions").await,
    );
    let (_, location, _) = call(get(login(&provider, "app-2"))).await;
    let (status, location, _) = call(get(authorize(location.expect("to the provider")))).await;
    assert_eq!(status, 303);
    let location = location.expect("to the app");
    assert!(
        location.contains("error=login_failed") && !location.contains("code="),
        "{location}"
    );
    assert_eq!(
        (
            count("users").await,
            count("authorization_codes").await,
            count("provider_sessions").await
        ),
        before,
        "nothing stored"
    );
    // A provider outside the federation: refused before any redirect.
    let (status, _, problem) = call(get(login("https://op.elsewhere.example", "app-3"))).await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "provider-not-trusted");
}
