//! Black-box tests of the HTTP API against a real server on a loopback port (SQLite, or
//! PostgreSQL with `SPORTELLO_TEST_PG_URL`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use ed25519_dalek::pkcs8::{EncodePrivateKey, spki::der::pem::LineEnding};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_core::api::{Me, MunicipalityList, Problem, TokenPair};
use sportello_server::identity::store;

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Problem {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Problem = response.json().await.unwrap();
    assert_eq!(problem.code, code, "{problem:?}");
    assert_eq!(problem.status, status.as_u16());
    assert_eq!(problem.problem_type, format!("/problems/{code}"));
    assert!(problem.request_id.is_some(), "request id in the problem");
    problem
}

#[tokio::test]
async fn lists_the_67_municipalities() {
    let server = TestServer::start().await;
    let list: MunicipalityList = client()
        .get(server.url("/v1/municipalities"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.items.len(), 67);
    let response = client()
        .get(server.url("/v1/municipalities/010025"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Security headers on every answer; no HSTS while the public URL is plain http.
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(!headers.contains_key("strict-transport-security"));
    let genova: Value = response.json().await.unwrap();
    assert_eq!(genova["name"], "Genova");
    assert_eq!(genova["belfiore_code"], "D969");
    assert_eq!(genova["fiscal_code"], "00856930102");
    assert_eq!(genova["ipa_code"], "c_d969");
    assert!(genova["population"].as_u64().unwrap() > 500_000);
    assert!((genova["lat"].as_f64().unwrap() - 44.4).abs() < 0.2);
    server.stop().await;
}

#[tokio::test]
async fn municipality_errors_are_problems_in_the_requested_language() {
    let server = TestServer::start().await;
    let italian = problem(
        client()
            .get(server.url("/v1/municipalities/01002x"))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(italian.errors[0].field, "istat_code");
    assert!(italian.errors[0].message.contains("sei cifre"), "{italian:?}");
    let response = client()
        .get(server.url("/v1/municipalities/099999"))
        .header("accept-language", "en-GB,en;q=0.9,it;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-language"], "en");
    let english = problem(response, StatusCode::NOT_FOUND, "municipality-not-found").await;
    assert!(english.detail.contains("099999") && english.title == "Municipality not found");
    problem(
        client().get(server.url("/v1/nothing-here")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    problem(
        client()
            .delete(server.url("/v1/municipalities"))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    )
    .await;
    server.stop().await;
}

/// A malformed ISTAT code gets one answer wherever it is, in a path, a query or a body: 422
/// `validation` naming the parameter or field, as every other value that does not fit.
#[tokio::test]
async fn a_malformed_istat_code_is_one_answer_everywhere() {
    let server = TestServer::start().await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let cases = [
        ("GET", "/v1/municipalities/01002x", None, &admin, "istat_code"),
        (
            "GET",
            "/v1/municipalities/1/operators",
            None,
            &admin,
            "istat_code",
        ),
        (
            "GET",
            "/v1/municipalities/abcdef/payment-positions",
            None,
            &admin,
            "istat_code",
        ),
        (
            "POST",
            "/v1/municipalities/0100250/payment-positions/x/publish",
            None,
            &admin,
            "istat_code",
        ),
        (
            "POST",
            "/v1/municipalities/01002x/libraries/ge-berio/imports",
            None,
            &admin,
            "istat_code",
        ),
        (
            "GET",
            "/v1/libraries?municipality=10025",
            None,
            &admin,
            "municipality",
        ),
        (
            "GET",
            "/v1/catalog/search?q=dante&municipality=10025",
            None,
            &admin,
            "municipality",
        ),
        (
            "GET",
            "/v1/permits/procedures?municipality=genova",
            None,
            &admin,
            "municipality",
        ),
        (
            "GET",
            "/v1/permits?municipality=genova",
            None,
            &admin,
            "municipality",
        ),
        (
            "POST",
            "/v1/permits",
            Some(json!({"municipality": "genova", "procedure": "scia"})),
            &citizen,
            "municipality",
        ),
    ];
    for (method, path, body, token, field) in cases {
        let mut request = client()
            .request(method.parse().unwrap(), server.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}"
        );
        let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&field), "{method} {path}: {fields:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn serves_openapi_docs_health_and_metrics() {
    let server = TestServer::start().await;
    let spec: Value = client()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in [
        "/v1/municipalities",
        "/v1/municipalities/{istat_code}",
        "/v1/auth/token",
        "/v1/me",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(spec["components"]["schemas"].get("Problem").is_some());

    let docs = client().get(server.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "swagger UI page");
    let js = client()
        .get(server.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200, "vendored assets are served locally");

    assert_eq!(
        client()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let ready: Value = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["database"], common::backend_name());
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sportello_http_requests_total"), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn dev_login_issues_tokens_and_me_answers() {
    let server = TestServer::start().await;
    let (access, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:permits"])
        .await;
    let me: Me = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.fiscal_code, GENOVA_OPERATOR);
    assert_eq!(me.roles, vec!["citizen", "operator:010025:permits"]);
    // The Bearer scheme is case-insensitive (RFC 9110 §11.1).
    let lower = client()
        .get(server.url("/v1/me"))
        .header("authorization", format!("bearer {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn bad_request_bodies_get_4xx_problems() {
    let server = TestServer::start().await;
    let url = server.url("/v1/auth/dev-login");
    let bad_code = problem(
        client()
            .post(&url)
            .json(&json!({"fiscal_code": "RSSMRA85T10A562X"}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(bad_code.errors[0].field, "fiscal_code");
    let bad_role = problem(
        client()
            .post(&url)
            .json(&json!({"fiscal_code": CITIZEN, "roles": ["operator:010025:zoo"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    )
    .await;
    assert_eq!(bad_role.errors[0].field, "roles");
    problem(
        client()
            .post(&url)
            .json(&json!({"fiscal_code": CITIZEN, "is_admin": true}))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed-json",
    )
    .await;
    problem(
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"fiscal_code\":")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed-json",
    )
    .await;
    problem(
        client().post(&url).body("fiscal_code=x").send().await.unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    let huge = format!("{{\"fiscal_code\":\"{}\"}}", "A".repeat(2 * 1024 * 1024));
    problem(
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn dev_login_is_off_unless_enabled() {
    let mut prepared = Prepared::new().await;
    prepared.config.dev_auth = false;
    let server = prepared.start().await;
    problem(
        client()
            .post(server.url("/v1/auth/dev-login"))
            .json(&json!({"fiscal_code": CITIZEN}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "dev-login-disabled",
    )
    .await;
    let providers: Value = client()
        .get(server.url("/v1/auth/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(providers["dev_login"], false);
    server.stop().await;
}

/// Signs arbitrary claims with the server's real signing key, read from its database.
async fn sign_with_server_key(server: &TestServer, claims: &Value, kid: Option<&str>) -> String {
    let keys = store::signing_keys(&server.state.db).await.unwrap();
    let key = keys.last().unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.unwrap_or(&key.kid).to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ed_pem(key.private_key_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
#[allow(clippy::too_many_lines, reason = "one scenario per refused token")]
async fn forged_expired_and_misaddressed_tokens_get_401() {
    let server = TestServer::start().await;
    let (access, _) = server.dev_login(CITIZEN, &[]).await;
    let me = server.url("/v1/me");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let valid_claims = |exp: i64| {
        let payload = access.split('.').nth(1).unwrap();
        let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["exp"] = json!(exp);
        claims
    };
    // Sanity: the real key with valid claims is accepted, so the refusals below are meaningful.
    let resigned = sign_with_server_key(&server, &valid_claims(now + 600), None).await;
    assert_eq!(
        client()
            .get(&me)
            .bearer_auth(&resigned)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let mut tokens = vec![
        ("missing", None),
        ("garbage", Some("not-a-jwt".to_owned())),
        (
            "expired",
            Some(sign_with_server_key(&server, &valid_claims(now - 3600), None).await),
        ),
        (
            "unknown kid",
            Some(sign_with_server_key(&server, &valid_claims(now + 600), Some("nope")).await),
        ),
    ];
    let mut wrong_audience = valid_claims(now + 600);
    wrong_audience["aud"] = json!("another-api");
    tokens.push((
        "wrong audience",
        Some(sign_with_server_key(&server, &wrong_audience, None).await),
    ));
    let mut wrong_issuer = valid_claims(now + 600);
    wrong_issuer["iss"] = json!("https://evil.example");
    tokens.push((
        "wrong issuer",
        Some(sign_with_server_key(&server, &wrong_issuer, None).await),
    ));
    // A payload swapped under a valid signature (roles escalated).
    let mut escalated = valid_claims(now + 600);
    escalated["roles"] = json!(["citizen", "admin"]);
    let forged_payload = { URL_SAFE_NO_PAD.encode(serde_json::to_vec(&escalated).unwrap()) };
    let parts: Vec<_> = access.split('.').collect();
    tokens.push((
        "forged payload",
        Some(format!("{}.{forged_payload}.{}", parts[0], parts[2])),
    ));
    // A key the server never issued, with the server's kid.
    let (foreign_pem, kid) = {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let kid = store::signing_keys(&server.state.db)
            .await
            .unwrap()
            .pop()
            .unwrap()
            .kid;
        (key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(), kid)
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    let foreign = jsonwebtoken::encode(
        &header,
        &valid_claims(now + 600),
        &EncodingKey::from_ed_pem(foreign_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    tokens.push(("foreign key", Some(foreign)));
    // alg=none.
    let none_header = { URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#) };
    tokens.push(("alg none", Some(format!("{none_header}.{forged_payload}."))));

    for (name, token) in tokens {
        let mut request = client().get(&me);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{name}"
        );
        problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    server.stop().await;
}

#[tokio::test]
async fn operators_see_only_their_own_municipality() {
    let server = TestServer::start().await;
    let db = &server.state.db;
    store::grant_role(
        db,
        GENOVA_OPERATOR,
        "operator:010025:permits",
        Some("010025"),
        "test",
    )
    .await
    .unwrap();
    store::grant_role(
        db,
        ARENZANO_OPERATOR,
        "operator:010001:permits",
        Some("010001"),
        "test",
    )
    .await
    .unwrap();
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:permits"])
        .await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:permits"])
        .await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let operators_of = |istat: &str| server.url(&format!("/v1/municipalities/{istat}/operators"));

    let response = client().get(operators_of("010025")).send().await.unwrap();
    problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let response = client()
        .get(operators_of("010025"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = client()
        .get(operators_of("010025"))
        .bearer_auth(&arenzano)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = client()
        .get(operators_of("010001"))
        .bearer_auth(&genova)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::FORBIDDEN, "forbidden").await;

    let own: Value = client()
        .get(operators_of("010025"))
        .bearer_auth(&genova)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fiscal_codes: Vec<_> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["fiscal_code"].clone())
        .collect();
    assert_eq!(
        fiscal_codes,
        vec![json!(GENOVA_OPERATOR)],
        "no other municipality's data"
    );

    for istat in ["010025", "010001"] {
        let response = client()
            .get(operators_of(istat))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "admin sees {istat}");
    }
    let response = client()
        .get(operators_of("099999"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::NOT_FOUND, "municipality-not-found").await;
    server.stop().await;
}

async fn refresh(server: &TestServer, refresh_token: &str) -> reqwest::Response {
    client()
        .post(server.url("/v1/auth/token"))
        .json(&json!({"grant_type": "refresh_token", "refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let server = TestServer::start().await;
    let (_, first) = server.dev_login(CITIZEN, &["operator:010025:events"]).await;
    let response = refresh(&server, &first).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second: TokenPair = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first);
    let me: Me = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&second.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me.roles,
        vec!["citizen", "operator:010025:events"],
        "dev roles survive a refresh"
    );

    // Replaying the rotated token revokes the whole session, successor and access token included.
    problem(
        refresh(&server, &first).await,
        StatusCode::BAD_REQUEST,
        "invalid-grant",
    )
    .await;
    problem(
        refresh(&server, &second.refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid-grant",
    )
    .await;
    let response = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&second.access_token)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    server.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let server = TestServer::start().await;
    let (access, refresh_token) = server.dev_login(CITIZEN, &[]).await;
    let other_session = server.dev_login(CITIZEN, &[]).await;
    let response = client()
        .post(server.url("/v1/auth/logout"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
    problem(
        refresh(&server, &refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid-grant",
    )
    .await;
    // Other devices of the same person stay logged in.
    let response = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&other_session.0)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn token_endpoint_refuses_unknown_codes_and_grant_types() {
    let server = TestServer::start().await;
    let response = client()
        .post(server.url("/v1/auth/token"))
        .json(
            &json!({"grant_type": "authorization_code", "code": "made-up", "code_verifier": "x".repeat(43)}),
        )
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST, "invalid-grant").await;
    let response = client()
        .post(server.url("/v1/auth/token"))
        .json(&json!({"grant_type": "password", "username": "x"}))
        .send()
        .await
        .unwrap();
    problem(response, StatusCode::BAD_REQUEST, "malformed-json").await;
    server.stop().await;
}
