//! The provider list from the federation, against the trust anchor and provider of
//! `flow_tests` on loopback.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::flow_tests::fake_federation;
use super::super::tests::{spid, test_db};
use super::*;
use crate::config::RelyingPartyConfig;

async fn federation_of(config: crate::config::FederationConfig) -> (Federation, tempfile::TempDir) {
    let (db, dir) = test_db().await;
    let federation = Federation::new(
        db,
        "https://sportello.example",
        RelyingPartyConfig::default(),
        BTreeMap::from([("spid".to_owned(), config)]),
        false,
    );
    (federation, dir)
}

#[tokio::test]
async fn the_anchors_providers_are_listed_with_name_and_logo_while_their_chain_holds() {
    let (op, base, config) = fake_federation().await;
    let (federation, _dir) = federation_of(config).await;
    let listed = federation.providers().await;
    // The anchor lists two; the one without an Entity Configuration (no chain) is left out.
    assert_eq!(
        listed,
        vec![FederatedProvider {
            federation: "spid".to_owned(),
            entity_id: format!("{base}/op"),
            name: "Test ID".to_owned(),
            logo_uri: Some(format!("{base}/logo.svg")),
        }]
    );
    // Kept until the chain expires (an hour here): the anchor is not asked again, and a renamed
    // provider shows later.
    op.lock().expect("lock").name = "Renamed".to_owned();
    assert_eq!(federation.providers().await, listed);
    assert_eq!(op.lock().expect("lock").listings, 1);
}

#[tokio::test]
async fn an_unreachable_anchor_lists_nothing_and_no_federation_lists_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nowhere = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let mut config = spid();
    config.trust_anchors = BTreeMap::from([(nowhere, json!({"keys": []}))]);
    let (federation, _dir) = federation_of(config).await;
    assert!(federation.providers().await.is_empty());

    let (db, _dir) = test_db().await;
    let none = Federation::new(
        db,
        "https://sportello.example",
        RelyingPartyConfig::default(),
        BTreeMap::new(),
        true,
    );
    assert!(none.providers().await.is_empty());
}

fn chain(federation_entity: &Value, metadata: &Value) -> TrustChain {
    let object = |value: &Value| value.as_object().cloned().unwrap_or_else(Map::new);
    TrustChain {
        subject: "https://idp.example".to_owned(),
        anchor: "https://ta.example".to_owned(),
        metadata: object(metadata),
        federation_entity: object(federation_entity),
        expires_at: 0,
        statements: Vec::new(),
    }
}

#[test]
fn names_and_logos_come_from_the_federation_entity_then_the_provider_metadata() {
    let both = entry(
        "cie",
        &chain(
            &json!({"organization_name": " CIE id ", "logo_uri": "https://idp.example/cie.svg"}),
            &json!({"organization_name": "other", "logo_uri": "https://idp.example/other.svg"}),
        ),
    );
    assert_eq!(
        (
            both.federation.as_str(),
            both.name.as_str(),
            both.logo_uri.as_deref()
        ),
        ("cie", "CIE id", Some("https://idp.example/cie.svg"))
    );
    let fallback = entry(
        "spid",
        &chain(
            &json!({}),
            &json!({"organization_name": "Provider", "logo_uri": "https://idp.example/p.svg"}),
        ),
    );
    assert_eq!(fallback.name, "Provider");
    assert_eq!(fallback.logo_uri.as_deref(), Some("https://idp.example/p.svg"));
    // Nothing published: the entity id, no logo; a logo that is not an http(s) URL is dropped;
    // an overlong name is cut.
    let bare = entry("spid", &chain(&json!({"organization_name": "  "}), &json!({})));
    assert_eq!((bare.name.as_str(), bare.logo_uri), ("https://idp.example", None));
    for logo in [
        "javascript:alert(1)",
        "data:image/svg+xml,<svg/>",
        "/relative.svg",
    ] {
        let odd = entry("spid", &chain(&json!({"logo_uri": logo}), &json!({})));
        assert_eq!(odd.logo_uri, None, "{logo}");
    }
    let long = entry(
        "spid",
        &chain(&json!({"organization_name": "x".repeat(500)}), &json!({})),
    );
    assert_eq!(long.name.chars().count(), 200);
}
