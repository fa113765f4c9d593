//! Trust chain resolution (OpenID Federation 1.0 §10): from a provider's Entity Configuration up
//! its `authority_hints`, through each superior's fetch endpoint, to a configured trust anchor.
//!
//! Checked on every statement: `typ` `entity-statement+jwt`, an asymmetric `alg`, a `kid` found
//! in the keys that must have signed it, the signature, `exp` and `iat`, `iss`/`sub`. Each
//! Entity Configuration is self-signed, and its keys must be the ones its superior's subordinate
//! statement vouches for; the trust anchor's Entity Configuration and statements are verified
//! with the anchor keys from the configuration, never with keys fetched. Metadata policies of
//! the chain are merged from the anchor down and applied to the leaf's metadata; the chain
//! expires at the earliest `exp` of its statements.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::entity::ENTITY_STATEMENT_TYP;
use super::policy;

/// Most superiors between a leaf and its trust anchor.
const MAX_DEPTH: usize = 4;
/// Signature algorithms accepted on statements and tokens (no `none`, no HMAC).
pub const ACCEPTED_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Why a provider is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A statement could not be fetched.
    #[error("cannot fetch {url}: {reason}")]
    Unavailable { url: String, reason: String },
    /// A statement is malformed, badly signed, expired or about someone else.
    #[error("invalid statement from {entity}: {reason}")]
    Invalid { entity: String, reason: String },
    /// No path of `authority_hints` leads to a configured trust anchor.
    #[error("{0} is not in the federation: no path to a configured trust anchor")]
    Untrusted(String),
    /// The metadata violates a policy of the chain.
    #[error("metadata policy: {0}")]
    Policy(String),
}

/// Gets a statement (a JWT as text) from a URL.
pub trait Fetch: Sync {
    fn get(&self, url: &str) -> impl Future<Output = Result<String, String>> + Send;
}

/// Largest statement, listing or token response read from a federation entity: a statement is a
/// few kilobytes, a listing of every SPID provider less than one.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Fetches over HTTP(S).
pub struct HttpFetch(pub reqwest::Client);

impl Fetch for HttpFetch {
    async fn get(&self, url: &str) -> Result<String, String> {
        let mut response = self.0.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!("answer larger than {MAX_RESPONSE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "answer is not UTF-8".to_owned())
    }
}

/// A resolved chain.
#[derive(Debug, Clone)]
pub struct TrustChain {
    /// The leaf (the provider).
    pub subject: String,
    /// The trust anchor it ends at.
    pub anchor: String,
    /// The leaf's metadata of the entity type asked for, policies applied.
    pub metadata: Map<String, Value>,
    /// The leaf's `federation_entity` metadata as it publishes it (its name and logo).
    pub federation_entity: Map<String, Value>,
    /// Earliest `exp` of the chain, seconds since the epoch.
    pub expires_at: i64,
    /// The statements, leaf first: its Entity Configuration, then one subordinate statement per
    /// superior (the last one issued by the trust anchor).
    pub statements: Vec<String>,
}

/// A statement verified.
struct Verified {
    jwt: String,
    claims: Value,
}

/// Resolves the chain of `subject` for `entity_type` (e.g. `openid_provider`) to one of
/// `anchors` (entity id → JWKS of its federation keys).
pub async fn resolve<F: Fetch>(
    fetch: &F,
    subject: &str,
    entity_type: &str,
    anchors: &BTreeMap<String, Value>,
) -> Result<TrustChain, TrustError> {
    let leaf = entity_configuration(fetch, subject, anchors).await?;
    let mut expires_at = exp(&leaf);
    let (above, anchor) = climb(fetch, &leaf, anchors, 0).await?;
    for statement in &above {
        expires_at = expires_at.min(exp(statement));
    }
    // Policies merged from the anchor down; the immediate superior's `metadata` overrides first.
    let mut metadata = leaf.claims["metadata"][entity_type]
        .as_object()
        .cloned()
        .ok_or_else(|| invalid(subject, format!("no `{entity_type}` metadata")))?;
    if let Some(overrides) = above
        .first()
        .and_then(|s| s.claims["metadata"][entity_type].as_object())
    {
        metadata.extend(overrides.clone());
    }
    let mut merged = policy::Policy::new();
    for statement in above.iter().rev() {
        if let Some(own) = statement.claims["metadata_policy"][entity_type].as_object() {
            merged = policy::merge(&merged, own).map_err(TrustError::Policy)?;
        }
    }
    policy::apply(&merged, &mut metadata).map_err(TrustError::Policy)?;
    let federation_entity = leaf.claims["metadata"]["federation_entity"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut statements = vec![leaf.jwt];
    statements.extend(above.into_iter().map(|statement| statement.jwt));
    Ok(TrustChain {
        subject: subject.to_owned(),
        anchor,
        metadata,
        federation_entity,
        expires_at,
        statements,
    })
}

/// Resolved chains, each kept until its earliest expiry.
#[derive(Default)]
pub struct ChainCache {
    chains: std::sync::Mutex<std::collections::HashMap<(String, String, String), TrustChain>>,
}

impl ChainCache {
    /// The chain of `subject` in `federation` at `now` (seconds): from the cache while it has not
    /// expired, else resolved again (a failure is not cached).
    pub async fn resolve<F: Fetch>(
        &self,
        fetch: &F,
        federation: &str,
        subject: &str,
        entity_type: &str,
        anchors: &BTreeMap<String, Value>,
        now: i64,
    ) -> Result<TrustChain, TrustError> {
        let key = (federation.to_owned(), subject.to_owned(), entity_type.to_owned());
        if let Some(chain) = self.lock().get(&key)
            && chain.expires_at > now
        {
            return Ok(chain.clone());
        }
        let chain = resolve(fetch, subject, entity_type, anchors).await?;
        self.lock().insert(key, chain.clone());
        Ok(chain)
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String, String), TrustChain>> {
        self.chains
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The entities a trust anchor lists as its subordinates of `entity_type` (OpenID Federation
/// 1.0 §8.2, `federation_list_endpoint?entity_type=…`), and when the anchor's Entity
/// Configuration, which names that endpoint, expires. The anchor's Entity Configuration is
/// verified with its configured keys; the listing itself is unsigned, so each entity's chain
/// must still be resolved before it is trusted.
pub async fn subordinates<F: Fetch>(
    fetch: &F,
    anchor: &str,
    anchors: &BTreeMap<String, Value>,
    entity_type: &str,
) -> Result<(Vec<String>, i64), TrustError> {
    let configuration = entity_configuration(fetch, anchor, anchors).await?;
    let endpoint = configuration.claims["metadata"]["federation_entity"]["federation_list_endpoint"]
        .as_str()
        .ok_or_else(|| invalid(anchor, "no federation_list_endpoint".to_owned()))?;
    let mut url = url::Url::parse(endpoint).map_err(|e| invalid(anchor, e.to_string()))?;
    url.query_pairs_mut().append_pair("entity_type", entity_type);
    let body = get(fetch, url.as_str()).await?;
    let ids: Vec<String> =
        serde_json::from_str(&body).map_err(|e| invalid(anchor, format!("subordinate listing: {e}")))?;
    Ok((ids, exp(&configuration)))
}

type Climb<'a> = Pin<Box<dyn Future<Output = Result<(Vec<Verified>, String), TrustError>> + Send + 'a>>;

/// From a verified Entity Configuration, the subordinate statements up to a trust anchor (the
/// first `authority_hints` path that gets there).
fn climb<'a, F: Fetch>(
    fetch: &'a F,
    subordinate: &'a Verified,
    anchors: &'a BTreeMap<String, Value>,
    depth: usize,
) -> Climb<'a> {
    Box::pin(async move {
        let subject = subordinate.claims["sub"].as_str().unwrap_or_default().to_owned();
        let hints: Vec<String> = subordinate.claims["authority_hints"]
            .as_array()
            .map(|hints| {
                hints
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if hints.is_empty() || depth >= MAX_DEPTH {
            return Err(TrustError::Untrusted(subject));
        }
        let mut last = TrustError::Untrusted(subject.clone());
        // A hint that is a configured anchor is the shortest path: tried first.
        let mut ordered = hints.clone();
        ordered.sort_by_key(|hint| !anchors.contains_key(hint));
        for hint in ordered {
            match step(fetch, subordinate, &subject, &hint, anchors, depth).await {
                Ok(found) => return Ok(found),
                Err(error) => last = error,
            }
        }
        Err(last)
    })
}

async fn step<F: Fetch>(
    fetch: &F,
    subordinate: &Verified,
    subject: &str,
    superior: &str,
    anchors: &BTreeMap<String, Value>,
    depth: usize,
) -> Result<(Vec<Verified>, String), TrustError> {
    let superior_ec = entity_configuration(fetch, superior, anchors).await?;
    let endpoint = superior_ec.claims["metadata"]["federation_entity"]["federation_fetch_endpoint"]
        .as_str()
        .ok_or_else(|| invalid(superior, "no federation_fetch_endpoint".to_owned()))?;
    let mut url = url::Url::parse(endpoint).map_err(|e| invalid(superior, e.to_string()))?;
    url.query_pairs_mut().append_pair("sub", subject);
    let jwt = get(fetch, url.as_str()).await?;
    let statement = verify(superior, &jwt, &superior_ec.claims["jwks"])?;
    if statement.claims["iss"] != superior || statement.claims["sub"] != subject {
        return Err(invalid(
            superior,
            format!("statement not issued by it about {subject}"),
        ));
    }
    // The superior vouches for the subordinate's keys: its Entity Configuration must verify with
    // them, not only with the keys it publishes itself.
    verify(subject, &subordinate.jwt, &statement.claims["jwks"])?;
    if anchors.contains_key(superior) {
        // The chain ends with the anchor's own Entity Configuration, which bounds its lifetime too.
        return Ok((vec![statement, superior_ec], superior.to_owned()));
    }
    let (above, anchor) = climb(fetch, &superior_ec, anchors, depth + 1).await?;
    let mut chain = vec![statement];
    chain.extend(above);
    Ok((chain, anchor))
}

/// Fetches and verifies the Entity Configuration of `entity`: self-signed, or for a trust anchor
/// signed with its configured keys.
async fn entity_configuration<F: Fetch>(
    fetch: &F,
    entity: &str,
    anchors: &BTreeMap<String, Value>,
) -> Result<Verified, TrustError> {
    let url = format!("{}/.well-known/openid-federation", entity.trim_end_matches('/'));
    let jwt = get(fetch, &url).await?;
    let keys = match anchors.get(entity) {
        Some(configured) => configured.clone(),
        None => unverified_claims(&jwt).map_err(|reason| invalid(entity, reason))?["jwks"].clone(),
    };
    let verified = verify(entity, &jwt, &keys)?;
    if verified.claims["iss"] != entity || verified.claims["sub"] != entity {
        return Err(invalid(
            entity,
            "Entity Configuration not about itself".to_owned(),
        ));
    }
    Ok(verified)
}

async fn get<F: Fetch>(fetch: &F, url: &str) -> Result<String, TrustError> {
    fetch.get(url).await.map_err(|reason| TrustError::Unavailable {
        url: url.to_owned(),
        reason,
    })
}

/// Verifies an entity statement against a JWKS.
fn verify(entity: &str, jwt: &str, jwks: &Value) -> Result<Verified, TrustError> {
    let claims =
        verify_jws(jwt, jwks, Some(ENTITY_STATEMENT_TYP)).map_err(|reason| invalid(entity, reason))?;
    if claims["iat"].as_i64().is_none() {
        return Err(invalid(entity, "no iat".to_owned()));
    }
    Ok(Verified {
        jwt: jwt.to_owned(),
        claims,
    })
}

/// Verifies a JWS against the key of its `kid` in `jwks`: accepted algorithm, `typ` if given,
/// signature, `exp` (30 s leeway). Returns the claims. Also used for tokens.
pub fn verify_jws(jwt: &str, jwks: &Value, typ: Option<&str>) -> Result<Value, String> {
    verify_jws_requiring(jwt, jwks, typ, &["exp", "iss", "sub"])
}

/// [`verify_jws`] with the registered claims that must be present.
pub fn verify_jws_requiring(
    jwt: &str,
    jwks: &Value,
    typ: Option<&str>,
    required: &[&str],
) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
    if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
        return Err(format!("algorithm {:?} not accepted", header.alg));
    }
    if let Some(typ) = typ
        && header.typ.as_deref() != Some(typ)
    {
        return Err(format!("typ is {:?}, not {typ}", header.typ));
    }
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid.as_str()))
        .ok_or_else(|| format!("kid {kid} is not among the keys it must be signed with"))?;
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|e| format!("key {kid}: {e}"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("key {kid}: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.leeway = 30;
    validation.set_required_spec_claims(required);
    validation.validate_exp = required.contains(&"exp");
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

fn unverified_claims(jwt: &str) -> Result<Value, String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).ok_or("not a JWS")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

fn exp(statement: &Verified) -> i64 {
    statement.claims["exp"].as_i64().unwrap_or(i64::MIN)
}

fn invalid(entity: &str, reason: String) -> TrustError {
    TrustError::Invalid {
        entity: entity.to_owned(),
        reason,
    }
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
