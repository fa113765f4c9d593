//! Tests of the relying party's keys and Entity Configuration.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::keys::{self, Purpose};
use super::*;
use crate::config::{Config, Secret, TrustMarkConfig};

/// A fresh migrated database: SQLite in a temporary directory, or a new database on the
/// PostgreSQL of `SPORTELLO_TEST_PG_URL`.
pub(crate) async fn test_db() -> (Db, tempfile::TempDir) {
    let (url, dir) = test_db_url().await;
    (Db::connect_and_migrate(&url).await.expect("migrate"), dir)
}

/// The URL of a fresh, empty database (see [`test_db`]).
pub(crate) async fn test_db_url() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match std::env::var("SPORTELLO_TEST_PG_URL") {
        Ok(admin_url) => {
            let name = format!("t_{}", uuid::Uuid::now_v7().simple());
            let admin = Db::connect(&admin_url).await.expect("connect to test PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(admin.pool())
                .await
                .expect("create test database");
            admin.close().await;
            let mut url = url::Url::parse(&admin_url).expect("SPORTELLO_TEST_PG_URL is a URL");
            url.set_path(&name);
            url.to_string()
        }
        Err(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
    };
    (url, dir)
}

pub(crate) fn spid() -> FederationConfig {
    FederationConfig {
        trust_anchors: BTreeMap::from([("https://registry.spid.example".to_owned(), json!({"keys": []}))]),
        authority_hints: vec!["https://registry.spid.example".to_owned()],
        trust_marks: vec![TrustMarkConfig {
            id: "https://registry.spid.example/openid_relying_party/public/".to_owned(),
            trust_mark: Secret::new("eyJ.mark.jwt"),
        }],
        default_acr: Some("https://www.spid.gov.it/SpidL2".to_owned()),
        acr_by_route: BTreeMap::new(),
    }
}

/// Verifies an RS256 JWT against a JWKS (the key of its `kid`); returns header `typ` and claims.
pub(crate) fn verify_with(jwks: &Value, jwt: &str) -> (Option<String>, Value) {
    let header = jsonwebtoken::decode_header(jwt).expect("header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .expect("the kid is published");
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"))
        .expect("RSA key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("signature and expiry")
        .claims;
    (header.typ, claims)
}

/// The payload of a JWT, unverified.
fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url"),
    )
    .expect("JSON")
}

#[tokio::test]
async fn the_entity_configuration_is_self_signed_and_complete() {
    let (db, _dir) = test_db().await;
    let federation = Federation::new(
        db,
        "https://sportello.example/",
        RelyingPartyConfig {
            contacts: vec!["ops@sportello.example".to_owned()],
            ..RelyingPartyConfig::default()
        },
        BTreeMap::from([("spid".to_owned(), spid())]),
        false,
    );
    let jwt = federation.entity_configuration().await.expect("signed");
    // Self-signed: verified with the federation keys it publishes itself.
    let unverified = payload(&jwt);
    let (typ, claims) = verify_with(&unverified["jwks"], &jwt);
    assert_eq!(typ.as_deref(), Some("entity-statement+jwt"));
    let entity = "https://sportello.example";
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some(entity), Some(entity))
    );
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 24 * 3600);
    assert_eq!(
        claims["authority_hints"],
        json!(["https://registry.spid.example"])
    );
    assert_eq!(
        claims["trust_marks"],
        json!([{"id": "https://registry.spid.example/openid_relying_party/public/", "trust_mark": "eyJ.mark.jwt"}])
    );
    let rp = &claims["metadata"]["openid_relying_party"];
    assert_eq!(rp["client_id"], entity);
    assert_eq!(rp["organization_name"], "Sportello");
    assert_eq!(rp["client_registration_types"], json!(["automatic"]));
    assert_eq!(
        rp["redirect_uris"],
        json!([format!("{entity}/v1/auth/federation/callback")])
    );
    assert_eq!(rp["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(rp["response_types"], json!(["code"]));
    assert_eq!(rp["userinfo_encrypted_response_alg"], "RSA-OAEP-256");
    assert_eq!(
        claims["metadata"]["federation_entity"]["organization_name"],
        "Sportello"
    );
    assert_eq!(
        claims["metadata"]["federation_entity"]["contacts"],
        json!(["ops@sportello.example"])
    );

    // Three separate keys: the federation key only at the top, the others only in the metadata.
    let federation_kids: Vec<&Value> = claims["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    let rp_keys = rp["jwks"]["keys"].as_array().unwrap();
    assert_eq!(federation_kids.len(), 1);
    assert_eq!(rp_keys.len(), 2);
    let uses: Vec<(&str, &str)> = rp_keys
        .iter()
        .map(|k| (k["use"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    assert!(
        uses.contains(&("sig", "RS256")) && uses.contains(&("enc", "RSA-OAEP-256")),
        "{uses:?}"
    );
    assert!(rp_keys.iter().all(|k| !federation_kids.contains(&&k["kid"])));
    // No private member leaks into a published key.
    for key in rp_keys.iter().chain(claims["jwks"]["keys"].as_array().unwrap()) {
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }
}

#[tokio::test]
async fn without_a_federation_only_the_demo_publishes() {
    let (db, _dir) = test_db().await;
    let off = Federation::new(
        db.clone(),
        "http://127.0.0.1:8080",
        RelyingPartyConfig::default(),
        BTreeMap::new(),
        false,
    );
    assert!(matches!(
        off.entity_configuration().await,
        Err(FederationError::Disabled)
    ));
    let demo = Federation::new(
        db,
        "http://127.0.0.1:8080",
        RelyingPartyConfig::default(),
        BTreeMap::new(),
        true,
    );
    let jwt = demo.entity_configuration().await.expect("demo publishes");
    let (_, claims) = verify_with(&payload(&jwt)["jwks"], &jwt);
    assert_eq!(claims["authority_hints"], json!([]));
    assert_eq!(
        claims["metadata"]["openid_relying_party"]["client_id"],
        "http://127.0.0.1:8080"
    );
}

#[tokio::test]
async fn rotation_publishes_old_and_new_keys_until_the_old_retire() {
    let (db, _dir) = test_db().await;
    let now = now_ms();
    let retirement = 3_600_000;
    let first = KeySet::load(&db, now, retirement).await.expect("made");
    let old_kid = first.current(Purpose::Federation).kid.clone();
    let old_core = first.current(Purpose::Core).kid.clone();
    // Loading again makes nothing new.
    let again = KeySet::load(&db, now, retirement).await.expect("loaded");
    assert_eq!(again.current(Purpose::Federation).kid, old_kid);

    let new_kid = keys::rotate(&db, Purpose::Federation, now + 1, retirement)
        .await
        .expect("rotated");
    assert_ne!(new_kid, old_kid);
    let during = KeySet::load(&db, now + 2, retirement).await.expect("loaded");
    assert_eq!(
        during.current(Purpose::Federation).kid,
        new_kid,
        "the new key signs at once"
    );
    let published: Vec<&str> = during
        .all(Purpose::Federation)
        .map(|key| key.kid.as_str())
        .collect();
    assert_eq!(
        published,
        [new_kid.as_str(), old_kid.as_str()],
        "the old one is still published"
    );
    assert_eq!(
        during.current(Purpose::Core).kid,
        old_core,
        "other purposes untouched"
    );

    let after = KeySet::load(&db, now + retirement + 2, retirement)
        .await
        .expect("loaded");
    let published: Vec<&str> = after
        .all(Purpose::Federation)
        .map(|key| key.kid.as_str())
        .collect();
    assert_eq!(published, [new_kid.as_str()], "retired after the grace period");
    assert_eq!(after.current(Purpose::Core).kid, old_core);
}

#[tokio::test]
async fn served_at_the_well_known_address_with_its_media_type() {
    use tower::ServiceExt;

    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: data.path().to_owned(),
        ..Config::default()
    };
    config.auth.federations.insert("cie".to_owned(), spid());
    let state = crate::AppState::start(config).await.expect("starts");
    let response = crate::http::router(state)
        .oneshot(
            axum::http::Request::get("/.well-known/openid-federation")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[axum::http::header::CONTENT_TYPE],
        "application/entity-statement+jwt"
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let jwt = std::str::from_utf8(&body).expect("text");
    let (typ, claims) = verify_with(&payload(jwt)["jwks"], jwt);
    assert_eq!(typ.as_deref(), Some("entity-statement+jwt"));
    assert_eq!(claims["iss"], "http://127.0.0.1:8080");
}
