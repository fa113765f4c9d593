//! Chains built by the test: good ones, and every way one may be broken.

use std::collections::HashMap;
use std::sync::LazyLock;

use base64::Engine;
use rsa::RsaPrivateKey;
use serde_json::json;

use super::super::keys::{Key, Purpose};
use super::*;

const TA: &str = "https://ta.example";
const SA: &str = "https://sa.example";
const OP: &str = "https://op.example";

/// Three entities' federation keys, made once (RSA generation is slow).
static KEYS: LazyLock<Vec<Key>> = LazyLock::new(|| {
    (0..4)
        .map(|_| {
            let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
            Key::new(private, Purpose::Federation).expect("key")
        })
        .collect()
});

fn ta_key() -> &'static Key {
    &KEYS[0]
}
fn sa_key() -> &'static Key {
    &KEYS[1]
}
fn op_key() -> &'static Key {
    &KEYS[2]
}
fn stranger_key() -> &'static Key {
    &KEYS[3]
}

fn jwks(key: &Key) -> Value {
    json!({ "keys": [key.public_jwk()] })
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn sign(key: &Key, claims: &Value) -> String {
    key.sign(ENTITY_STATEMENT_TYP, claims).expect("signed")
}

/// A federation on a map of URL → statement.
struct Federation(HashMap<String, String>);

impl Fetch for Federation {
    async fn get(&self, url: &str) -> Result<String, String> {
        self.0.get(url).cloned().ok_or_else(|| "404".to_owned())
    }
}

fn well_known(entity: &str) -> String {
    format!("{entity}/.well-known/openid-federation")
}

fn fetch_url(superior: &str, subject: &str) -> String {
    let mut url = url::Url::parse(&format!("{superior}/fetch")).expect("url");
    url.query_pairs_mut().append_pair("sub", subject);
    url.to_string()
}

fn authority_ec(entity: &str, key: &Key, hints: &[&str], exp: i64) -> String {
    sign(
        key,
        &json!({
            "iss": entity, "sub": entity, "iat": now(), "exp": exp, "jwks": jwks(key),
            "authority_hints": hints,
            "metadata": {"federation_entity": {"federation_fetch_endpoint": format!("{entity}/fetch")}},
        }),
    )
}

fn op_ec(hints: &[&str]) -> String {
    sign(
        op_key(),
        &json!({
            "iss": OP, "sub": OP, "iat": now(), "exp": now() + 3600, "jwks": jwks(op_key()),
            "authority_hints": hints,
            "metadata": {"openid_provider": {
                "issuer": OP,
                "scopes_supported": ["openid", "offline_access", "profile"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }},
        }),
    )
}

fn statement(issuer: &Key, iss: &str, sub: &str, subject_key: &Key, exp: i64, policy: &Value) -> String {
    sign(
        issuer,
        &json!({
            "iss": iss, "sub": sub, "iat": now(), "exp": exp, "jwks": jwks(subject_key),
            "metadata_policy": policy,
        }),
    )
}

/// OP → TA, the TA limiting the scopes.
fn direct() -> Federation {
    let policy =
        json!({"openid_provider": {"scopes_supported": {"subset_of": ["openid", "offline_access"]}}});
    Federation(HashMap::from([
        (well_known(OP), op_ec(&[TA])),
        (well_known(TA), authority_ec(TA, ta_key(), &[], now() + 7200)),
        (
            fetch_url(TA, OP),
            statement(ta_key(), TA, OP, op_key(), now() + 1800, &policy),
        ),
    ]))
}

/// OP → SA → TA.
fn through_intermediate() -> Federation {
    Federation(HashMap::from([
        (well_known(OP), op_ec(&[SA])),
        (well_known(SA), authority_ec(SA, sa_key(), &[TA], now() + 3600)),
        (well_known(TA), authority_ec(TA, ta_key(), &[], now() + 7200)),
        (
            fetch_url(SA, OP),
            statement(
                sa_key(),
                SA,
                OP,
                op_key(),
                now() + 3600,
                &json!({"openid_provider": {"token_endpoint_auth_methods_supported": {"superset_of": ["private_key_jwt"]}}}),
            ),
        ),
        (
            fetch_url(TA, SA),
            statement(
                ta_key(),
                TA,
                SA,
                sa_key(),
                now() + 600,
                &json!({"openid_provider": {"scopes_supported": {"subset_of": ["openid", "profile"]}}}),
            ),
        ),
    ]))
}

fn anchors() -> BTreeMap<String, Value> {
    BTreeMap::from([(TA.to_owned(), jwks(ta_key()))])
}

/// The error resolving the direct chain with some statements replaced.
async fn refusal(replaced: Vec<(String, String)>) -> TrustError {
    let mut federation = direct();
    federation.0.extend(replaced);
    resolve(&federation, OP, "openid_provider", &anchors())
        .await
        .expect_err("refused")
}

fn is_invalid_from(error: &TrustError, expected: &str) -> bool {
    matches!(error, TrustError::Invalid { entity, .. } if entity == expected)
}

#[tokio::test]
async fn a_direct_chain_resolves_with_policies_and_earliest_expiry() {
    let chain = resolve(&direct(), OP, "openid_provider", &anchors())
        .await
        .expect("trusted");
    assert_eq!(chain.anchor, TA);
    assert_eq!(
        chain.metadata["scopes_supported"],
        json!(["openid", "offline_access"])
    );
    assert_eq!(chain.statements.len(), 3, "leaf EC, TA's statement, TA's EC");
    assert!(
        (chain.expires_at - (now() + 1800)).abs() <= 2,
        "the statement expires first"
    );
}

#[tokio::test]
async fn a_chain_through_an_intermediate_merges_both_policies() {
    let chain = resolve(&through_intermediate(), OP, "openid_provider", &anchors())
        .await
        .expect("trusted");
    assert_eq!(chain.metadata["scopes_supported"], json!(["openid", "profile"]));
    assert_eq!(chain.statements.len(), 4);
    assert!((chain.expires_at - (now() + 600)).abs() <= 2);
}

#[tokio::test]
async fn a_tampered_statement_is_refused() {
    let original = direct().0[&fetch_url(TA, OP)].clone();
    // The same signature over a payload that says something else (a longer life).
    let parts: Vec<&str> = original.split('.').collect();
    let mut claims = unverified_claims(&original).expect("claims");
    claims["exp"] = json!(now() + 999_999);
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    let error = refusal(vec![(fetch_url(TA, OP), tampered)]).await;
    assert!(is_invalid_from(&error, TA), "{error}");
}

#[tokio::test]
async fn an_expired_statement_is_refused() {
    let error = refusal(vec![(
        fetch_url(TA, OP),
        statement(ta_key(), TA, OP, op_key(), now() - 120, &json!({})),
    )])
    .await;
    assert!(error.to_string().contains("xpired"), "{error}");
}

#[tokio::test]
async fn a_provider_of_another_federation_is_untrusted() {
    let other = BTreeMap::from([("https://other-ta.example".to_owned(), jwks(ta_key()))]);
    let error = resolve(&direct(), OP, "openid_provider", &other)
        .await
        .unwrap_err();
    assert!(matches!(error, TrustError::Untrusted(_)), "{error}");
}

#[tokio::test]
async fn an_impostor_anchor_is_refused() {
    // Someone answering for the anchor's id with their own keys, vouching for the provider.
    let error = refusal(vec![
        (
            well_known(TA),
            authority_ec(TA, stranger_key(), &[], now() + 7200),
        ),
        (
            fetch_url(TA, OP),
            statement(stranger_key(), TA, OP, op_key(), now() + 1800, &json!({})),
        ),
    ])
    .await;
    assert!(is_invalid_from(&error, TA), "{error}");
}

#[tokio::test]
async fn a_provider_with_keys_its_superior_did_not_vouch_for_is_refused() {
    let error = refusal(vec![(
        fetch_url(TA, OP),
        statement(ta_key(), TA, OP, stranger_key(), now() + 1800, &json!({})),
    )])
    .await;
    assert!(is_invalid_from(&error, OP), "{error}");
}

#[tokio::test]
async fn metadata_violating_a_policy_is_refused() {
    let error = refusal(vec![
        (fetch_url(TA, OP), statement(ta_key(), TA, OP, op_key(), now() + 1800,
            &json!({"openid_provider": {"token_endpoint_auth_methods_supported": {"superset_of": ["tls_client_auth"]}}}))),
    ])
    .await;
    assert!(matches!(error, TrustError::Policy(_)), "{error}");
}

#[tokio::test]
async fn a_statement_without_the_entity_statement_type_is_refused() {
    let claims = unverified_claims(&direct().0[&well_known(OP)]).expect("claims");
    let untyped = op_key().sign("JWT", &claims).expect("signed");
    let error = refusal(vec![(well_known(OP), untyped)]).await;
    assert!(error.to_string().contains("typ"), "{error}");
}

/// Counts the fetches of a federation.
struct Counting(Federation, std::sync::atomic::AtomicUsize);

impl Fetch for Counting {
    async fn get(&self, url: &str) -> Result<String, String> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.get(url).await
    }
}

#[tokio::test]
async fn chains_are_cached_until_their_earliest_expiry() {
    let fetch = Counting(direct(), std::sync::atomic::AtomicUsize::new(0));
    let cache = ChainCache::default();
    let fetches = || fetch.1.load(std::sync::atomic::Ordering::SeqCst);
    let first = cache
        .resolve(&fetch, "spid", OP, "openid_provider", &anchors(), now())
        .await
        .expect("trusted");
    let after_first = fetches();
    assert_eq!(after_first, 3);
    cache
        .resolve(
            &fetch,
            "spid",
            OP,
            "openid_provider",
            &anchors(),
            first.expires_at - 1,
        )
        .await
        .expect("cached");
    assert_eq!(fetches(), after_first, "served from the cache");
    cache
        .resolve(
            &fetch,
            "spid",
            OP,
            "openid_provider",
            &anchors(),
            first.expires_at,
        )
        .await
        .expect("resolved again");
    assert_eq!(fetches(), 2 * after_first, "resolved again once expired");
}
