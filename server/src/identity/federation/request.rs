//! The relying party's side of a federated login (SPID/CIE profile of OpenID Connect): the
//! signed request object with PKCE, the `private_key_jwt` client assertion, and the checks on the
//! ID token and on the userinfo (a JWS inside a JWE).

use serde_json::{Map, Value, json};
use sportello_core::identity::FiscalCode;

use super::jwe;
use super::keys::{Key, KeySet, Purpose};
use super::trust::{verify_jws, verify_jws_requiring};
use crate::identity::tokens::{pkce_challenge, random_secret};

/// Lifetime of request objects and client assertions, seconds.
const ASSERTION_TTL_SECS: i64 = 300;
/// The fiscal number claim of the SPID/CIE profile (`TINIT-<CF>`).
pub const FISCAL_NUMBER_CLAIM: &str = "https://attributes.eid.gov.it/fiscal_number";
/// SPID levels, lowest first (CIE uses the same values).
pub const ACR_LEVELS: [&str; 3] = [
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
];

/// What a provider's (policy-applied) metadata says about where to go.
#[derive(Debug, Clone)]
pub struct ProviderEndpoints {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    /// Where tokens are revoked at logout (RFC 7009), if the provider has one.
    pub revocation_endpoint: Option<String>,
    /// The provider's keys for ID tokens and userinfo.
    pub jwks: Value,
}

impl ProviderEndpoints {
    /// From `openid_provider` metadata.
    pub fn from_metadata(metadata: &Map<String, Value>) -> Result<Self, String> {
        let text = |name: &str| {
            metadata
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("provider metadata lacks `{name}`"))
        };
        let jwks = metadata
            .get("jwks")
            .cloned()
            .ok_or("provider metadata lacks `jwks` (signed_jwks_uri is not supported)")?;
        Ok(Self {
            issuer: text("issuer")?,
            authorization_endpoint: text("authorization_endpoint")?,
            token_endpoint: text("token_endpoint")?,
            userinfo_endpoint: text("userinfo_endpoint")?,
            revocation_endpoint: text("revocation_endpoint").ok(),
            jwks,
        })
    }
}

/// A login to start: where to send the browser, and what to remember until the callback.
#[derive(Debug)]
pub struct AuthorizationRequest {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub acr: String,
}

/// The rank of an `acr` value (0 = SpidL1), `None` for a value not known.
pub fn acr_rank(acr: &str) -> Option<usize> {
    ACR_LEVELS.iter().position(|level| *level == acr)
}

/// A signed request object (RS256, the core key) and the authorization URL carrying it.
pub fn authorization_request(
    core: &Key,
    client_id: &str,
    redirect_uri: &str,
    provider: &ProviderEndpoints,
    acr: &str,
    now: i64,
) -> Result<AuthorizationRequest, String> {
    if acr_rank(acr).is_none() {
        return Err(format!("unknown acr {acr}"));
    }
    let (state, nonce, pkce_verifier) = (random_secret(), random_secret(), random_secret());
    let challenge = pkce_challenge(&pkce_verifier);
    // No `sub`: with `iss` = `sub` = the client id and the provider as `aud`, this request
    // object, which travels through the browser, would also pass as a `private_key_jwt` client
    // assertion at the token endpoint (the SPID guidelines and `spid-cie-oidc` forbid it).
    let claims = json!({
        "iss": client_id,
        "aud": [provider.issuer, provider.authorization_endpoint],
        "iat": now,
        "exp": now + ASSERTION_TTL_SECS,
        "jti": random_secret(),
        "client_id": client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "acr_values": acr,
        "prompt": "consent login",
        "claims": {
            "id_token": { "family_name": null, "given_name": null },
            "userinfo": {
                FISCAL_NUMBER_CLAIM: { "essential": true },
                "given_name": null,
                "family_name": null,
            },
        },
    });
    let request = core.sign("JWT", &claims).map_err(|e| e.to_string())?;
    let mut url = url::Url::parse(&provider.authorization_endpoint).map_err(|e| e.to_string())?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("request", &request);
    Ok(AuthorizationRequest {
        url,
        state,
        nonce,
        pkce_verifier,
        acr: acr.to_owned(),
    })
}

/// The `private_key_jwt` client assertion for the token endpoint (RFC 7523).
pub fn client_assertion(
    core: &Key,
    client_id: &str,
    token_endpoint: &str,
    now: i64,
) -> Result<String, String> {
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": token_endpoint,
        "iat": now, "exp": now + ASSERTION_TTL_SECS, "jti": random_secret(),
    });
    core.sign("JWT", &claims).map_err(|e| e.to_string())
}

/// The token request form: code, PKCE verifier and client assertion.
pub fn token_form(
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    client_id: &str,
    assertion: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("code_verifier", verifier.to_owned()),
        ("redirect_uri", redirect_uri.to_owned()),
        ("client_id", client_id.to_owned()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ),
        ("client_assertion", assertion.to_owned()),
    ]
}

/// The token revocation request (RFC 7009) for the provider's access token, authenticated like
/// the token request with a `private_key_jwt` assertion (whose `aud` is the revocation endpoint).
pub fn revocation_form(access_token: &str, client_id: &str, assertion: &str) -> Vec<(&'static str, String)> {
    vec![
        ("token", access_token.to_owned()),
        ("token_type_hint", "access_token".to_owned()),
        ("client_id", client_id.to_owned()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
        ),
        ("client_assertion", assertion.to_owned()),
    ]
}

/// Verifies an ID token: signature with the provider's keys (accepted algorithms only), `iss`,
/// `aud` (Sportello's client id), `exp`, `iat`, `nonce`, and an `acr` at least as high as asked.
pub fn verify_id_token(
    jwt: &str,
    provider: &ProviderEndpoints,
    client_id: &str,
    nonce: &str,
    requested_acr: &str,
) -> Result<Value, String> {
    let claims = verify_jws(jwt, &provider.jwks, None).map_err(|e| format!("ID token: {e}"))?;
    if claims["iss"] != provider.issuer.as_str() {
        return Err("ID token: issued by another provider".to_owned());
    }
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => aud == client_id,
        Value::Array(auds) => auds.iter().any(|aud| aud == client_id),
        _ => false,
    };
    if !audience_ok {
        return Err("ID token: not addressed to Sportello".to_owned());
    }
    if claims["iat"].as_i64().is_none() {
        return Err("ID token: no iat".to_owned());
    }
    if claims["nonce"] != nonce {
        return Err("ID token: wrong nonce".to_owned());
    }
    let given = claims["acr"].as_str().and_then(acr_rank);
    let asked = acr_rank(requested_acr);
    if given.is_none() || given < asked {
        return Err(format!(
            "ID token: authentication level {} is lower than the {requested_acr} asked",
            claims["acr"]
        ));
    }
    Ok(claims)
}

/// Decrypts and verifies a userinfo response: it must be a JWE (an unencrypted one is refused),
/// decrypted with one of Sportello's encryption keys, holding a JWS of the provider about the
/// same subject as the ID token; its `iss` and `aud`, when present, the provider and Sportello.
pub fn verify_userinfo(
    body: &str,
    keys: &KeySet,
    provider: &ProviderEndpoints,
    client_id: &str,
    subject: &str,
) -> Result<Value, String> {
    let body = body.trim();
    if !jwe::is_jwe(body) {
        return Err("userinfo is not encrypted".to_owned());
    }
    let header = jwe::header(body)?;
    let mut candidates: Vec<&Key> = keys
        .all(Purpose::Encryption)
        .filter(|key| header.kid.as_deref().is_none_or(|kid| kid == key.kid))
        .collect();
    if candidates.is_empty() {
        // A kid of a retired key: try the published ones anyway.
        candidates = keys.all(Purpose::Encryption).collect();
    }
    let plaintext = candidates
        .iter()
        .find_map(|key| jwe::decrypt(body, key.private()).ok())
        .ok_or("userinfo cannot be decrypted with Sportello's keys")?;
    let inner = std::str::from_utf8(&plaintext).map_err(|_| "userinfo is not a JWS")?;
    // `iss` and `aud` are checked when present but not required: the reference provider
    // (`spid-cie-oidc`) signs a userinfo of `sub` and the claims only, and the signature with
    // the provider's key from its trust chain already says who issued it.
    let claims =
        verify_jws_requiring(inner, &provider.jwks, None, &["sub"]).map_err(|e| format!("userinfo: {e}"))?;
    let issuer_ok = claims
        .get("iss")
        .is_none_or(|iss| iss == provider.issuer.as_str());
    if !issuer_ok || claims["sub"] != subject {
        return Err("userinfo: about someone else or from another provider".to_owned());
    }
    if let Some(aud) = claims.get("aud")
        && aud != client_id
        && !aud
            .as_array()
            .is_some_and(|auds| auds.iter().any(|a| a == client_id))
    {
        return Err("userinfo: not addressed to Sportello".to_owned());
    }
    Ok(claims)
}

/// The fiscal code of the `TINIT-…` fiscal number claim.
pub fn fiscal_code(userinfo: &Value) -> Result<FiscalCode, String> {
    let number = userinfo[FISCAL_NUMBER_CLAIM].as_str();
    FiscalCode::from_claims(number, None).map_err(|e| e.to_string())
}

/// The base64url payload of a JWT, unverified (tests and logs).
#[cfg(test)]
fn payload(jwt: &str) -> Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = jwt.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
