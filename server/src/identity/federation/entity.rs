//! The claims of Sportello's Entity Configuration.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::keys::{KeySet, Purpose};
use crate::config::{FederationConfig, RelyingPartyConfig};

/// `typ` of every entity statement (OpenID Federation 1.0 §3).
pub const ENTITY_STATEMENT_TYP: &str = "entity-statement+jwt";
/// Media type of an entity statement response.
pub const ENTITY_STATEMENT_MEDIA_TYPE: &str = "application/entity-statement+jwt";
/// Where providers send the browser back after a federated login.
pub const CALLBACK_PATH: &str = "/v1/auth/federation/callback";

/// The Entity Configuration's claims at `now` (seconds since the epoch).
pub fn entity_configuration(
    entity_id: &str,
    relying_party: &RelyingPartyConfig,
    federations: &BTreeMap<String, FederationConfig>,
    keys: &KeySet,
    now: i64,
) -> Value {
    let ttl = i64::try_from(relying_party.entity_configuration_ttl_secs).unwrap_or(i64::MAX);
    let mut authority_hints: Vec<&str> = federations
        .values()
        .flat_map(|federation| federation.authority_hints.iter().map(String::as_str))
        .collect();
    authority_hints.sort_unstable();
    authority_hints.dedup();
    let trust_marks: Vec<Value> = federations
        .values()
        .flat_map(|federation| &federation.trust_marks)
        .map(|mark| json!({ "id": mark.id, "trust_mark": mark.trust_mark.expose() }))
        .collect();
    let mut federation_entity = json!({
        "organization_name": relying_party.organization_name,
        "contacts": relying_party.contacts,
    });
    if let Some(homepage) = &relying_party.homepage_uri {
        federation_entity["homepage_uri"] = json!(homepage);
    }
    json!({
        "iss": entity_id,
        "sub": entity_id,
        "iat": now,
        "exp": now.saturating_add(ttl),
        "jwks": keys.jwks(&[Purpose::Federation]),
        "authority_hints": authority_hints,
        "trust_marks": trust_marks,
        "metadata": {
            "openid_relying_party": {
                "client_id": entity_id,
                "client_name": relying_party.organization_name,
                // Required here too by the SPID profile (the reference implementation's
                // relying-party schema refuses metadata without it).
                "organization_name": relying_party.organization_name,
                "client_registration_types": ["automatic"],
                "application_type": "web",
                "contacts": relying_party.contacts,
                "redirect_uris": [format!("{entity_id}{CALLBACK_PATH}")],
                "response_types": ["code"],
                "grant_types": ["authorization_code", "refresh_token"],
                "subject_type": "pairwise",
                "jwks": keys.jwks(&[Purpose::Core, Purpose::Encryption]),
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "RS256",
                "request_object_signing_alg": "RS256",
                "id_token_signed_response_alg": "RS256",
                "userinfo_signed_response_alg": "RS256",
                "userinfo_encrypted_response_alg": "RSA-OAEP-256",
                "userinfo_encrypted_response_enc": "A128CBC-HS256",
            },
            "federation_entity": federation_entity,
        },
    })
}
