//! Firebase Cloud Messaging, HTTP v1 API. (The `fcm` crate speaks only the legacy API that
//! Google shut down in 2024.) A service-account key signs an RS256 JWT assertion, exchanged at
//! the token endpoint (jwt-bearer grant) for an access token, cached until shortly before it
//! expires; messages go to `{api_url}/v1/projects/{project}/messages:send`.

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Mutex;

use super::Delivery;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The fields of a Google service-account key file that matter here.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    private_key_id: String,
    private_key: String,
    client_email: String,
    token_uri: String,
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
}

/// A push to one FCM registration token.
pub struct FcmMessage<'a> {
    pub token: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub data: &'a [(&'a str, String)],
    pub collapse_key: &'a str,
    pub ttl: Duration,
    pub high_priority: bool,
}

/// An FCM client for one Firebase project.
pub struct Fcm {
    http: reqwest::Client,
    account: ServiceAccount,
    key: EncodingKey,
    send_url: String,
    token_url: String,
    token: Mutex<Option<(String, i64)>>,
}

impl Fcm {
    /// Reads the service-account key; `api_url` and `token_url` override Google's endpoints
    /// (tests point them at a local simulator).
    pub fn from_file(
        http: reqwest::Client,
        file: &Path,
        api_url: &str,
        token_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("FCM service account {}: {e}", file.display()))?;
        let account: ServiceAccount = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("FCM service account {}: {e}", file.display()))?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())?;
        let send_url = format!(
            "{}/v1/projects/{}/messages:send",
            api_url.trim_end_matches('/'),
            account.project_id
        );
        let token_url = token_url.map_or_else(|| account.token_uri.clone(), str::to_owned);
        Ok(Self {
            http,
            account,
            key,
            send_url,
            token_url,
            token: Mutex::new(None),
        })
    }

    async fn access_token(&self) -> Result<String, Delivery> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && *expires - 60 > now
        {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.account.private_key_id.clone());
        let claims = Assertion {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: &self.token_url,
            iat: now,
            exp: now + 3600,
        };
        let assertion = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| Delivery::Permanent(format!("FCM assertion: {e}")))?;
        let response = self
            .http
            .post(&self.token_url)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ])
            .send()
            .await
            .map_err(|e| Delivery::Retry {
                after: None,
                error: format!("FCM token: {e}"),
            })?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(Delivery::Retry {
                after: retry_after(&response),
                error: format!("FCM token: HTTP {status}"),
            });
        }
        let token: TokenResponse = response.json().await.map_err(|e| Delivery::Retry {
            after: None,
            error: format!("FCM token: {e}"),
        })?;
        *cached = Some((token.access_token.clone(), now + token.expires_in));
        Ok(token.access_token)
    }

    /// Sends one message and classifies the answer per FCM's error codes.
    pub async fn send(&self, message: &FcmMessage<'_>) -> Delivery {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(delivery) => return delivery,
        };
        let ttl = format!("{}s", message.ttl.as_secs());
        let data: serde_json::Map<String, serde_json::Value> = message
            .data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let body = json!({
            "message": {
                "token": message.token,
                "notification": {"title": message.title, "body": message.body},
                "data": data,
                "android": {
                    "collapse_key": message.collapse_key,
                    "priority": if message.high_priority { "high" } else { "normal" },
                    "ttl": ttl,
                },
                "apns": {"headers": {
                    "apns-collapse-id": message.collapse_key,
                    "apns-priority": if message.high_priority { "10" } else { "5" },
                }},
                "webpush": {"headers": {"TTL": message.ttl.as_secs().to_string(), "Topic": message.collapse_key}},
            }
        });
        let response = match self
            .http
            .post(&self.send_url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => {
                return Delivery::Retry {
                    after: None,
                    error: format!("FCM send: {error}"),
                };
            }
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Delivery::Sent;
        }
        let after = retry_after(&response);
        let text = response.text().await.unwrap_or_default();
        let code = error_code(&text);
        match (status, code.as_deref()) {
            (404, _) | (_, Some("UNREGISTERED")) => Delivery::Gone(format!("FCM {status} UNREGISTERED")),
            (401, _) => {
                // The cached token was refused: fetch a new one on the next attempt.
                *self.token.lock().await = None;
                Delivery::Retry {
                    after: None,
                    error: "FCM 401".to_owned(),
                }
            }
            (429 | 500 | 502 | 503 | 504, _) => Delivery::Retry {
                after,
                error: format!("FCM {status}"),
            },
            _ => Delivery::Permanent(format!("FCM {status} {}", code.unwrap_or_default())),
        }
    }
}

/// The `errorCode` of an FCM v1 error body (`error.details[].errorCode`), else `error.status`.
fn error_code(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = value.get("error")?;
    error
        .get("details")
        .and_then(|details| details.as_array())
        .and_then(|details| details.iter().find_map(|d| d.get("errorCode")?.as_str()))
        .or_else(|| error.get("status")?.as_str())
        .map(str::to_owned)
}

/// `Retry-After` in seconds (the HTTP-date form is rare for push services and ignored).
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fcm_error_codes() {
        let unregistered = r#"{"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert_eq!(error_code(unregistered).as_deref(), Some("UNREGISTERED"));
        assert_eq!(
            error_code(r#"{"error":{"status":"INVALID_ARGUMENT"}}"#).as_deref(),
            Some("INVALID_ARGUMENT")
        );
        assert_eq!(error_code("not json"), None);
    }
}
