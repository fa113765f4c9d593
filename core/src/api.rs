//! The JSON wire types of the HTTP API, shared by the server and the mobile client so the two
//! cannot drift. They carry serde derives (the wire format is their purpose) and, with the
//! `openapi` feature, OpenAPI schemas.
//!
//! With the `uniffi` feature the types the apps use as they are also derive `uniffi::Record` or
//! `uniffi::Enum`, so the mobile bindings hand them over without a copy of their own. Only those:
//! a type the apps see in another shape (a timestamp as a time, a status string as an enum,
//! `lat`/`lon` as one point) keeps its app-facing record in the bindings, which says why, and
//! deriving it here would only add an unused type, under a clashing name, to the apps' API.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

mod alerts;
mod catalog;
mod events;
mod payments;
mod permits;
pub use self::alerts::*;
pub use self::catalog::*;
pub use self::events::*;
pub use self::payments::*;
pub use self::permits::*;

/// A municipality as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Municipality {
    /// ISTAT code, the tenant id (`010025`).
    #[cfg_attr(feature = "openapi", schema(example = "010025"))]
    pub istat_code: String,
    /// Official name.
    #[cfg_attr(feature = "openapi", schema(example = "Genova"))]
    pub name: String,
    /// Belfiore cadastral code.
    #[cfg_attr(feature = "openapi", schema(example = "D969"))]
    pub belfiore_code: String,
    /// Fiscal code, also the pagoPA creditor id.
    #[cfg_attr(feature = "openapi", schema(example = "00856930102"))]
    pub fiscal_code: String,
    /// IndicePA code.
    #[cfg_attr(feature = "openapi", schema(example = "c_d969"))]
    pub ipa_code: String,
    /// Province abbreviation.
    pub province: String,
    /// Latitude (WGS84) of a representative point.
    pub lat: f64,
    /// Longitude (WGS84) of a representative point.
    pub lon: f64,
    /// Legal population (census 2011).
    pub population: u32,
    /// Postal codes.
    pub postal_codes: Vec<String>,
}

/// The municipalities served, ordered by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MunicipalityList {
    /// Every municipality (a bounded list: 67 in the Città Metropolitana di Genova).
    pub items: Vec<Municipality>,
}

/// A configured identity provider the apps can offer as a login button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuthProvider {
    /// Path segment used in the login URL (`cie`, `spid`).
    pub id: String,
    /// Name to show.
    pub display_name: String,
}

/// An identity provider of the SPID or CIE federation, found through its trust anchor: the apps
/// draw the official SPID button (or the CIE one) with these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FederatedProvider {
    /// The federation: `spid` or `cie` (path segment of the login URL).
    pub federation: String,
    /// The provider's entity id: the `provider` parameter of the login URL.
    pub entity_id: String,
    /// Its organization name, as the federation publishes it.
    pub name: String,
    /// Its logo, as the federation publishes it.
    pub logo_uri: Option<String>,
}

/// Identity providers available on this server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuthProviderList {
    /// Configured providers.
    pub items: Vec<AuthProvider>,
    /// Whether `POST /v1/auth/dev-login` is enabled (local demos only).
    pub dev_login: bool,
    /// SPID and CIE identity providers of the configured federations, whose trust chains hold,
    /// ordered by federation and name (empty when no federation is configured).
    #[serde(default)]
    pub federated: Vec<FederatedProvider>,
}

/// Body of `POST /v1/auth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenRequest {
    /// Completes a login: the one-time code the server put on the app's redirect URI, and the
    /// PKCE verifier whose S256 challenge the app sent when it started the login.
    AuthorizationCode {
        /// One-time code from the redirect.
        code: String,
        /// PKCE code verifier (RFC 7636, 43–128 characters).
        code_verifier: String,
    },
    /// Exchanges a refresh token for a new token pair; the old refresh token stops working.
    RefreshToken {
        /// The current refresh token.
        refresh_token: String,
    },
}

/// Body of `POST /v1/auth/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The refresh token of the session to end.
    pub refresh_token: String,
}

/// Body of `POST /v1/auth/dev-login` (only with `--dev-auth`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DevLoginRequest {
    /// Fiscal code of the person to impersonate.
    #[cfg_attr(feature = "openapi", schema(example = "RSSMRA85T10A562S"))]
    pub fiscal_code: String,
    /// Roles: `citizen`, `admin`, `operator:<istat_code>:<office>`. Citizen is always added.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

/// The caller's identity (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    /// Opaque user id.
    pub user_id: String,
    /// Fiscal code.
    pub fiscal_code: String,
    /// Given name, when the identity provider sent it.
    pub given_name: Option<String>,
    /// Family name, when the identity provider sent it.
    pub family_name: Option<String>,
    /// Role strings.
    pub roles: Vec<String>,
}

/// A role granted to a person in a municipality's back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorGrant {
    /// Fiscal code of the operator.
    pub fiscal_code: String,
    /// Role string, `operator:<istat_code>:<office>`.
    pub role: String,
    /// Who granted it (a fiscal code, or `cli`).
    pub granted_by: String,
    /// When, RFC 3339 UTC.
    pub granted_at: String,
}

/// Operators of one municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorGrantList {
    /// Grants, by role then fiscal code (at most 1000).
    pub items: Vec<OperatorGrant>,
}

/// Keys of a Web Push subscription (`PushSubscription.toJSON().keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

/// Body of `POST /v1/me/devices`: a browser's `PushSubscription.toJSON()` with
/// `"kind": "webpush"`, or `{"kind": "fcm" | "apns", "token"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceRegistration {
    /// `webpush`, `fcm` or `apns`.
    pub kind: String,
    /// Web Push endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Web Push keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<PushKeys>,
    /// FCM or APNs registration token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Municipalities (ISTAT codes) the person wants area alerts for; added to their preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipalities: Option<Vec<String>>,
}

/// A registered device (its secrets are never shown back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Device {
    /// Opaque id, for `DELETE /v1/me/devices/{id}`.
    pub id: String,
    /// `webpush`, `fcm` or `apns`.
    pub kind: String,
    /// Push service host (Web Push) or the token's last characters, to tell devices apart.
    pub label: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// The caller's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceList {
    /// Devices, oldest first.
    pub items: Vec<Device>,
}

/// Quiet hours, local time in Europe/Rome: pushes wait (alerts excepted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM`, exclusive; earlier than `start` spans midnight.
    pub end: String,
}

/// Notification preferences (`GET`/`PUT /v1/me/notification-preferences`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    /// Topics that may push: library, permits, payments, events, alerts.
    pub topics: Vec<String>,
    /// `it` or `en`.
    pub language: String,
    /// Quiet hours, or none.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Municipalities (ISTAT codes) for area alerts.
    #[serde(default)]
    pub municipalities: Vec<String>,
}

/// The server's VAPID public key (`applicationServerKey` for `pushManager.subscribe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VapidPublicKey {
    /// Uncompressed P-256 point, base64url.
    pub public_key: String,
}

/// Payment data attached to an inbox message (a pagoPA notice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PaymentData {
    /// Notice number (numero avviso), 18 digits.
    pub notice_number: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Creditor institution fiscal code.
    pub creditor_fiscal_code: String,
}

/// A message in the inbox, as in the national IO app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InboxMessage {
    /// Opaque id (also in the push payload as `message_id`).
    pub id: String,
    /// Topic.
    pub topic: String,
    /// Subject.
    pub subject: String,
    /// Markdown body.
    pub body: String,
    /// Sender municipality, if any.
    pub municipality: Option<String>,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Payment data.
    pub payment: Option<PaymentData>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// Whether the person has opened it.
    pub read: bool,
}

/// A page of the inbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InboxPage {
    /// Messages.
    pub items: Vec<InboxMessage>,
    /// Cursor for the next page; absent on the last one.
    pub next_cursor: Option<String>,
    /// Unread messages in the whole inbox.
    pub unread: i64,
}

/// Body of `POST /v1/broadcasts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BroadcastRequest {
    /// ISTAT codes of the municipalities concerned (1 to 67).
    pub municipalities: Vec<String>,
    /// Topic, usually `alerts`.
    pub topic: String,
    /// Subject (1–120 characters).
    pub subject: String,
    /// Markdown body (up to 10,000 characters).
    pub body: String,
}

/// A broadcast accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BroadcastAccepted {
    /// Broadcast id.
    pub id: String,
    /// People whose inbox received it.
    pub recipients: u64,
    /// Pushes queued (one per device).
    pub pushes: u64,
}

/// One invalid field in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldError {
    /// Field name or JSON pointer.
    pub field: String,
    /// What is wrong, in the request's language.
    pub message: String,
}

/// An error response, RFC 9457 `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// Problem type URI (`/problems/<code>`), stable.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the type, in the request's language.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Human explanation of this occurrence, in the request's language.
    pub detail: String,
    /// Stable machine code (`not-found`, `validation`, …).
    pub code: String,
    /// Request id, to quote to support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Field errors, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Readiness report (`GET /readyz`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Readiness {
    /// `ok` or `unavailable`.
    pub status: String,
    /// Database backend (`sqlite` or `postgres`).
    pub database: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::record::Format;
    use crate::geo;

    #[test]
    fn token_requests_are_tagged_by_grant_type() {
        let request: TokenRequest =
            serde_json::from_str(r#"{"grant_type":"refresh_token","refresh_token":"abc"}"#).unwrap();
        assert_eq!(
            request,
            TokenRequest::RefreshToken {
                refresh_token: "abc".into()
            }
        );
        assert!(serde_json::from_str::<TokenRequest>(r#"{"grant_type":"password"}"#).is_err());
    }

    #[test]
    fn catalog_queries_become_parameters_the_server_reads_back() {
        assert!(CatalogQuery::default().to_params().is_empty());
        let query = CatalogQuery {
            q: Some("città".into()),
            municipality: Some("010025".into()),
            format: Some(MaterialFormat::Ebook),
            year_from: Some(1990),
            available: Some(true),
            near: Some(Coordinates {
                lat: 44.4072,
                lon: 8.934,
            }),
            radius_km: Some(2.5),
            sort: Some(CatalogSort::Distance),
            limit: Some(5),
            ..CatalogQuery::default()
        };
        let params = query.to_params();
        let get = |name| params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("q"), Some("città"));
        assert_eq!(get("format"), Some("ebook"));
        assert_eq!(get("year_from"), Some("1990"));
        assert_eq!(get("year_to"), None);
        assert_eq!(get("available"), Some("true"));
        assert_eq!(get("near"), Some("44.4072,8.934"));
        assert_eq!(get("radius_km"), Some("2.5"));
        assert_eq!(get("sort"), Some("distance"));
        assert_eq!(get("limit"), Some("5"));
        // The server's extractor sees every value as text; JSON strings stand in for it here
        // (numbers and booleans aside, which the query-string reader converts).
        let text: serde_json::Map<String, serde_json::Value> = params
            .iter()
            .filter(|(name, _)| ["q", "municipality", "format", "near", "sort"].contains(name))
            .map(|(name, value)| ((*name).to_owned(), value.clone().into()))
            .collect();
        let back: CatalogQuery = serde_json::from_value(text.into()).unwrap();
        assert_eq!(
            (back.format, back.near, back.sort),
            (query.format, query.near, query.sort)
        );
        assert!(serde_json::from_str::<CatalogQuery>(r#"{"near":"north"}"#).is_err());
        assert!(serde_json::from_str::<CatalogQuery>(r#"{"shelf":"3"}"#).is_err());
        // Unchecked on purpose: the server names the bad parameter.
        let far: CatalogQuery = serde_json::from_str(r#"{"near":"95,8.9"}"#).unwrap();
        assert!(geo::Coordinates::try_from(far.near.unwrap()).is_err());
    }

    #[test]
    fn formats_unknown_to_a_client_are_other() {
        assert_eq!(MaterialFormat::from_wire("ebook"), MaterialFormat::Ebook);
        assert_eq!(MaterialFormat::from_wire("hologram"), MaterialFormat::Other);
        for format in Format::ALL {
            assert_eq!(MaterialFormat::from(format).as_str(), format.as_str());
            assert_eq!(Format::from(MaterialFormat::from(format)), format);
        }
    }
}
