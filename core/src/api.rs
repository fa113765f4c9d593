//! The JSON wire types of the HTTP API, shared by the server and the mobile client so the two
//! cannot drift. They carry serde derives (the wire format is their purpose) and, with the
//! `openapi` feature, OpenAPI schemas.
//!
//! With the `uniffi` feature the types the apps use as they are also derive `uniffi::Record` or
//! `uniffi::Enum`, so the mobile bindings hand them over without a copy of their own. Only those:
//! a type the apps see in another shape (a timestamp as a time, a status string as an enum,
//! `lat`/`lon` as one point) keeps its app-facing record in the bindings, which says why, and
//! deriving it here would only add an unused type, under a clashing name, to the apps' API.

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::catalog::record::Format;
use crate::geo::{self, GeoError};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

mod alerts;
mod events;
pub use self::alerts::*;
pub use self::events::*;

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

/// A library (branch) as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Library {
    /// Stable id (`ge-berio`).
    pub id: String,
    /// ISTAT code of the municipality it belongs to.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code (CAP).
    pub postal_code: String,
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub lon: f64,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Services offered (`loan`, `wifi`, `kids`, `study-room`, …).
    pub services: Vec<String>,
    /// Codes of the library in other systems (ISIL, SBN), used to map imported holdings.
    pub codes: Vec<String>,
    /// Weekly hours, OpenStreetMap syntax: `Mo-Fr 08:30-19:00; Sa 09:00-13:00; PH off`.
    pub opening_hours: String,
    /// Dated exceptions, one per entry: `2026-08-10..2026-08-23 off`, `2026-12-24 09:00-12:00`.
    pub closures: Vec<String>,
    /// Open at the time of the request (Europe/Rome).
    pub open_now: bool,
    /// When it closes, if open (RFC 3339).
    pub closes_at: Option<String>,
    /// Next opening, if closed (RFC 3339).
    pub next_opening: Option<String>,
    /// Distance in km from `near`, when given.
    pub distance_km: Option<f64>,
    /// Whether this is demo data (real library, details to be confirmed by the library).
    pub demo: bool,
}

/// Libraries, nearest first when `near` is given, else by municipality and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LibraryList {
    /// At most `limit` libraries.
    pub items: Vec<Library>,
}

/// What a library operator sends to create or update a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LibraryInput {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Telephone.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Web site.
    #[serde(default)]
    pub website: Option<String>,
    /// Services.
    #[serde(default)]
    pub services: Vec<String>,
    /// Codes in other systems (ISIL, SBN).
    #[serde(default)]
    pub codes: Vec<String>,
    /// Weekly hours (see [`Library::opening_hours`]).
    #[serde(default)]
    pub opening_hours: String,
    /// Dated exceptions.
    #[serde(default)]
    pub closures: Vec<String>,
}

/// One record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportIssue {
    /// File name (or `upload`).
    pub file: String,
    /// 1-based position of the record in the file.
    pub index: u64,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// The record's 001, when readable.
    pub control_number: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportSummary {
    /// Records read (good and bad).
    pub read: u64,
    /// Records new to this library.
    pub imported: u64,
    /// Records already imported that changed.
    pub updated: u64,
    /// Records already imported and unchanged.
    pub unchanged: u64,
    /// Records the source marks deleted, removed here.
    pub deleted: u64,
    /// Bad records, skipped (see `issues`).
    pub skipped: u64,
    /// Copies written.
    pub copies: u64,
    /// Copies no longer in the source, now withdrawn.
    pub withdrawn: u64,
    /// The first problems (at most 1000).
    pub issues: Vec<ImportIssue>,
    /// Whether more problems happened than `issues` lists.
    pub issues_truncated: bool,
}

/// A WGS84 point in decimal degrees as the apps and query strings give it, not checked:
/// `geo::Coordinates::try_from` checks it where the answer can say what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Coordinates {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

impl Coordinates {
    /// `lat,lon`, as query strings carry a position (`near=44.4072,8.934`).
    pub fn to_param(self) -> String {
        format!("{},{}", self.lat, self.lon)
    }
}

impl FromStr for Coordinates {
    type Err = GeoError;

    /// Reads `lat,lon` without checking the range (see [`geo::Coordinates`]).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (lat, lon) = geo::parse_lat_lon(text)?;
        Ok(Self { lat, lon })
    }
}

impl TryFrom<Coordinates> for geo::Coordinates {
    type Error = GeoError;

    fn try_from(point: Coordinates) -> Result<Self, Self::Error> {
        geo::Coordinates::new(point.lat, point.lon)
    }
}

impl From<geo::Coordinates> for Coordinates {
    fn from(point: geo::Coordinates) -> Self {
        Self {
            lat: point.lat(),
            lon: point.lon(),
        }
    }
}

/// The kind of material of an edition, as the API names it (`format` of records, facets and
/// searches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum MaterialFormat {
    /// Printed book (also manuscripts and printed music).
    Book,
    /// Electronic text.
    Ebook,
    /// Sound recording (audiobook, music).
    Audio,
    /// Video (DVD, Blu-ray, film).
    Video,
    /// Journal, magazine, newspaper.
    Periodical,
    /// Anything else (maps, pictures, objects, kits), and formats a client does not know yet
    /// (from a newer server).
    Other,
}

impl MaterialFormat {
    /// The identifier on the wire (`ebook`).
    pub fn as_str(self) -> &'static str {
        Format::from(self).as_str()
    }

    /// A format from the wire; one this version does not know is `Other` rather than an error,
    /// so a newer server does not break older apps.
    pub fn from_wire(text: &str) -> Self {
        Format::parse(text).map_or(MaterialFormat::Other, MaterialFormat::from)
    }
}

impl From<Format> for MaterialFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Book => MaterialFormat::Book,
            Format::EBook => MaterialFormat::Ebook,
            Format::Audio => MaterialFormat::Audio,
            Format::Video => MaterialFormat::Video,
            Format::Periodical => MaterialFormat::Periodical,
            Format::Other => MaterialFormat::Other,
        }
    }
}

impl From<MaterialFormat> for Format {
    fn from(format: MaterialFormat) -> Self {
        match format {
            MaterialFormat::Book => Format::Book,
            MaterialFormat::Ebook => Format::EBook,
            MaterialFormat::Audio => Format::Audio,
            MaterialFormat::Video => Format::Video,
            MaterialFormat::Periodical => Format::Periodical,
            MaterialFormat::Other => Format::Other,
        }
    }
}

/// How catalogue search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CatalogSort {
    /// Best match first (the default with words to search).
    Relevance,
    /// Newest first (the default without words).
    Year,
    /// Nearest copy on the shelf first; needs `near`.
    Distance,
}

impl CatalogSort {
    /// The identifier on the wire (`distance`).
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSort::Relevance => "relevance",
            CatalogSort::Year => "year",
            CatalogSort::Distance => "distance",
        }
    }
}

/// A catalogue search, the query string of `GET /v1/catalog/search`: what the server extracts
/// (serde) and what the mobile client sends (`to_params`). Every field is
/// optional; the server checks them, and a bad position, radius, year range, language, limit or
/// cursor is a `validation` problem naming the parameter.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CatalogQuery {
    /// Words of title, author, subject, series or publisher, or an ISBN / SBN BID. Accents and
    /// leading articles do not matter (`citta` finds `città`), longer words tolerate a typo.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub q: Option<String>,
    /// Only editions with a copy in this municipality (ISTAT code).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub municipality: Option<String>,
    /// Only editions with a copy in this library (a library id).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub library: Option<String>,
    /// Only this kind of material: `book`, `ebook`, `audio`, `video`, `periodical`, `other`.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub format: Option<MaterialFormat>,
    /// Only this language, ISO 639-2 (`ita`, `eng`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub language: Option<String>,
    /// Published in or after this year.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub year_from: Option<i32>,
    /// Published in or before this year.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub year_to: Option<i32>,
    /// Only editions with a copy on the shelf now.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub available: Option<bool>,
    /// The person's position, `lat,lon`: each hit then names the nearest library with a copy on
    /// the shelf. The server sees it; an app can rank on the device instead.
    #[serde(default, deserialize_with = "lat_lon")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, example = "44.4072,8.934"))]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub near: Option<Coordinates>,
    /// With `near`: only copies within this many km (more than 0, at most 200).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub radius_km: Option<f64>,
    /// `relevance` (the default with `q`), `year` (newest first; the default without `q`),
    /// `distance` (nearest copy on the shelf first; needs `near`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub sort: Option<CatalogSort>,
    /// The previous page's `next_cursor`; none for the first page.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub limit: Option<u32>,
}

/// `near=lat,lon` in a query string.
fn lat_lon<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Coordinates>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse().map_err(serde::de::Error::custom))
        .transpose()
}

impl CatalogQuery {
    /// The query string pairs, in the form the server's extractor reads back.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let text = |name, value: &Option<String>| value.clone().map(|value| (name, value));
        let shown = |name, value: Option<&dyn std::fmt::Display>| value.map(|v| (name, v.to_string()));
        [
            text("q", &self.q),
            text("municipality", &self.municipality),
            text("library", &self.library),
            self.format.map(|f| ("format", f.as_str().to_owned())),
            text("language", &self.language),
            shown("year_from", self.year_from.as_ref().map(|y| y as _)),
            shown("year_to", self.year_to.as_ref().map(|y| y as _)),
            shown("available", self.available.as_ref().map(|a| a as _)),
            self.near.map(|near| ("near", near.to_param())),
            shown("radius_km", self.radius_km.as_ref().map(|r| r as _)),
            self.sort.map(|s| ("sort", s.as_str().to_owned())),
            text("cursor", &self.cursor),
            shown("limit", self.limit.as_ref().map(|l| l as _)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A person or body responsible for a work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Contributor {
    /// Name, inverted for persons.
    pub name: String,
    /// `author`, `editor`, `translator`, `illustrator`, `contributor`.
    pub role: String,
}

/// An identifier of an edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RecordIdentifier {
    /// `sbn`, `issn`, `lccn`, `oclc`, `bni`, `ean`.
    pub scheme: String,
    /// Value.
    pub value: String,
}

/// A catalogue record: one edition, merged across the libraries that hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogRecord {
    /// Opaque id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Authors and contributors.
    pub authors: Vec<Contributor>,
    /// ISBN-13s.
    pub isbns: Vec<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Year of publication.
    pub year: Option<i32>,
    /// ISO 639-2 language code.
    pub language: Option<String>,
    /// Subjects.
    pub subjects: Vec<String>,
    /// `book`, `ebook`, `audio`, `video`, `periodical`, `other`.
    pub format: String,
    /// Series.
    pub series: Vec<String>,
    /// SBN BID and other identifiers.
    pub identifiers: Vec<RecordIdentifier>,
}

/// The nearest library with a copy on the shelf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NearestCopy {
    /// Library id.
    pub library_id: String,
    /// Library name.
    pub library_name: String,
    /// Distance in km.
    pub distance_km: f64,
    /// Whether the library is open now.
    pub open_now: bool,
}

/// Availability of a record across the network, as shown in a result list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AvailabilitySummary {
    /// Copies on the shelf (loanable or reference) in the whole network.
    pub copies_on_shelf: u32,
    /// Copies in the network (withdrawn ones excluded).
    pub copies_total: u32,
    /// Libraries holding a copy.
    pub libraries: u32,
    /// The nearest library with a copy on the shelf, when `near` was given.
    pub nearest: Option<NearestCopy>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SearchHit {
    /// The record.
    pub record: CatalogRecord,
    /// Live availability, read from the database.
    pub availability: AvailabilitySummary,
}

/// A facet value and how many results have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FacetCount {
    /// Value (a format, language code, ISTAT code or library id).
    pub value: String,
    /// Results with it.
    pub count: u64,
}

/// Facets of a result set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Facets {
    /// By format.
    pub format: Vec<FacetCount>,
    /// By language.
    pub language: Vec<FacetCount>,
    /// By municipality holding a copy.
    pub municipality: Vec<FacetCount>,
    /// By library holding a copy (the 50 largest).
    pub library: Vec<FacetCount>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SearchResults {
    /// Results matching the query and the index filters (before `available`/`radius_km`,
    /// which are checked live on a bounded candidate set).
    pub total: u64,
    /// This page.
    pub items: Vec<SearchHit>,
    /// Facet counts over the matching records.
    pub facets: Facets,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// One copy in a library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CopyInfo {
    /// Barcode or inventory number.
    pub item_id: String,
    /// Shelf mark.
    pub shelf_mark: Option<String>,
    /// `on_shelf`, `on_loan`, `in_transit`, `reference_only`, `unknown`.
    pub status: String,
    /// Due date of a lent copy.
    pub due_date: Option<String>,
}

/// A record's copies in one library, with the library's distance and hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LibraryHoldings {
    /// Library id.
    pub library_id: String,
    /// Library name.
    pub library_name: String,
    /// Municipality ISTAT code.
    pub municipality: String,
    /// Address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Distance in km from `near`.
    pub distance_km: Option<f64>,
    /// Open now.
    pub open_now: bool,
    /// Next opening, if closed (RFC 3339).
    pub next_opening: Option<String>,
    /// Copies on the shelf, loanable.
    pub on_shelf: u32,
    /// Copies on loan.
    pub on_loan: u32,
    /// Copies in transit.
    pub in_transit: u32,
    /// Copies for consultation only.
    pub reference_only: u32,
    /// Copies whose status the library does not report.
    pub unknown: u32,
    /// Earliest due date of a lent copy.
    pub earliest_due: Option<String>,
    /// The copies (at most 200).
    pub copies: Vec<CopyInfo>,
}

/// Where a record can be found, nearest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordAvailability {
    /// The record.
    pub record: CatalogRecord,
    /// Per library, nearest first when `near` is given, available ones first otherwise.
    pub libraries: Vec<LibraryHoldings>,
}

/// Body of a copy status update from a library system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CopyStatusUpdate {
    /// New status.
    pub status: String,
    /// Due date (`YYYY-MM-DD`) when on loan.
    #[serde(default)]
    pub due_date: Option<String>,
}

// Permits (`/v1/permits`).

/// A document the applicant attaches, as the procedure asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureDocument {
    /// Stable code, used as `kind` when uploading (`drawings`).
    pub code: String,
    /// Name in the request's language.
    pub name: String,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// A field of a procedure's application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureField {
    /// Stable code (`works_start_date`); `address`, `cadastral_parcel` and `description` have
    /// their own members in [`PermitUpdate`], the others go in `fields`.
    pub code: String,
    /// Label in the request's language.
    pub label: String,
    /// `text`, `long-text`, `number`, `date` (YYYY-MM-DD), `boolean` (`true`/`false`),
    /// `address` or `cadastral-parcel`.
    pub kind: String,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// A fixed fee of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureFee {
    /// Stable code (`secretariat`).
    pub code: String,
    /// What it is for, in the request's language.
    pub name: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// `filing` (before the application counts as submitted) or `issue` (before the title).
    pub due: String,
}

/// A procedure a municipality offers (`GET /v1/permits/procedures`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureInfo {
    /// Stable code: `cila`, `scia`, `scia-alternativa`, `pdc`, `agibilita`, `paesaggistica`,
    /// `suolo-pubblico`, `passo-carrabile`, or one a municipality added.
    pub code: String,
    /// Name in the request's language.
    pub name: String,
    /// The law it rests on.
    pub legal_basis: String,
    /// Who decides.
    pub decided_by: String,
    /// Whether the title is effective as soon as it is filed.
    pub effective_on_filing: bool,
    /// Days of the legal clock in this municipality (0: none), before any doubling the officer
    /// may declare.
    pub clock_days: i64,
    /// What the clock running out means: `nothing`, `works-may-start`, `silent-approval`,
    /// `no-silent-approval`.
    pub at_deadline: String,
    /// Documents to attach.
    pub documents: Vec<ProcedureDocument>,
    /// Form fields.
    pub fields: Vec<ProcedureField>,
    /// Fixed fees.
    pub fees: Vec<ProcedureFee>,
}

/// The procedures of a municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcedureList {
    /// Procedures, in catalogue order.
    pub items: Vec<ProcedureInfo>,
}

/// Body of `POST /v1/permits`: a new draft for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPermit {
    /// ISTAT code of the municipality.
    #[cfg_attr(feature = "openapi", schema(example = "010025"))]
    pub municipality: String,
    /// Procedure code (`pdc`).
    pub procedure: String,
    /// A professional filing for someone else gives the applicant's fiscal code; the
    /// applicant then sees and follows the application too. Absent: the caller applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_fiscal_code: Option<String>,
}

/// Cadastral identification of the property (catasto fabbricati / terreni).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CadastralParcel {
    /// Sheet (foglio).
    pub foglio: String,
    /// Parcel (mappale or particella).
    pub mappale: String,
    /// Sub-unit (subalterno), when the parcel is divided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subalterno: Option<String>,
}

/// Body of `PATCH /v1/permits/{id}`: only members present change; drafts only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermitUpdate {
    /// Address of the property.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Cadastral parcel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadastral_parcel: Option<CadastralParcel>,
    /// Description of the works or of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The procedure's other fields by code, as text (dates `YYYY-MM-DD`, booleans
    /// `true`/`false`); an empty value removes the field. Merged into the stored ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// Constraints on the property (`landscape`, `cultural`, `hydrogeological`,
    /// `environmental`): they rule out silent approval. Replaces the stored list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Vec<String>>,
}

/// Body of `POST /v1/permits/{id}/actions/{action}` (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermitActionRequest {
    /// Why: the reasons of a decision, what documents are missing… (at most 4000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `assign`: the fiscal code of an officer of the municipality's permits office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_fiscal_code: Option<String>,
}

/// One entry of an application's timeline (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitTimelineEntry {
    /// RFC 3339 UTC.
    pub at: String,
    /// The action (`submit`, `register`, …, `mature`, or `assign`).
    pub action: String,
    /// Who, by role: `applicant`, `professional`, `operator`, `system`.
    pub actor: String,
    /// The person's name, when known (the officer in charge is public: L. 241/1990 art. 8).
    pub actor_name: Option<String>,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// Why.
    pub note: Option<String>,
}

/// A document attached to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitDocument {
    /// Opaque id, for the download.
    pub id: String,
    /// Document code of the procedure (`drawings`).
    pub kind: String,
    /// File name as uploaded.
    pub file_name: String,
    /// `application/pdf`, `application/pkcs7-mime`, `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// `application` or `integration`.
    pub stage: String,
    /// RFC 3339 UTC.
    pub uploaded_at: String,
}

/// A fee due on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitFee {
    /// Fee code of the procedure.
    pub code: String,
    /// What it is for.
    pub reason: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// `filing` or `issue`.
    pub due: String,
    /// RFC 3339 UTC, once paid.
    pub paid_at: Option<String>,
    /// The debt position opened for the fee's group (the fees due together share one pagoPA
    /// notice); it is the `position_id` of the payer's `GET /v1/me/payments` item. `null` when
    /// no notice was opened: the municipality does not collect through pagoPA here, and the fee
    /// is paid at its office (the officer confirms the payment).
    pub payment_position_id: Option<String>,
    /// The pagoPA notice number (18 digits) to pay the fee's group with, or `null` (see
    /// `payment_position_id`).
    #[cfg_attr(feature = "openapi", schema(example = "302032002700000251"))]
    pub notice_number: Option<String>,
}

/// An application in full (`GET /v1/permits/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Permit {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name, in the request's language.
    pub procedure_name: String,
    /// Full status: `draft`, `awaiting_payment`, `submitted`, `registered`, `in_review`,
    /// `integration_requested`, `integration_submitted`, `awaiting_issue_payment`, `accepted`,
    /// `tacitly_accepted`, `rejected`, `withdrawn`, `cancelled`.
    pub status: String,
    /// Simplified status for citizens: `draft`, `payment_due`, `received`, `effective`,
    /// `under_review`, `action_needed`, `approved`, `rejected`, `withdrawn`, `cancelled`.
    pub simplified_status: String,
    /// The simplified status in the request's language.
    pub simplified_label: String,
    /// Fiscal code of the applicant.
    pub applicant_fiscal_code: String,
    /// Fiscal code of the professional who files for the applicant, if any.
    pub professional_fiscal_code: Option<String>,
    /// Fiscal code of the officer in charge, once assigned.
    pub assigned_to: Option<String>,
    /// `YYYY/NNNNNNN`, once registered.
    pub protocol_number: Option<String>,
    /// Address of the property.
    pub address: Option<String>,
    /// Cadastral parcel.
    pub cadastral_parcel: Option<CadastralParcel>,
    /// Description.
    pub description: Option<String>,
    /// The procedure's other fields.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Constraints declared on the property.
    pub constraints: Vec<String>,
    /// Last day of the legal term (`YYYY-MM-DD`, Europe/Rome), while a clock runs or once it
    /// ran out; absent while an integration request stops it.
    pub deadline: Option<String>,
    /// Calendar days to the deadline: 0 on the last day, negative once overdue.
    pub days_left: Option<i64>,
    /// Whether an integration request stops the clock.
    pub clock_stopped: bool,
    /// What the clock running out means for this procedure.
    pub at_deadline: String,
    /// Actions the caller may try now (`submit`, `withdraw`, …).
    pub actions: Vec<String>,
    /// Timeline, oldest first.
    pub timeline: Vec<PermitTimelineEntry>,
    /// Documents, oldest first.
    pub documents: Vec<PermitDocument>,
    /// Fees due or paid.
    pub fees: Vec<PermitFee>,
    /// Sum of the fees still to pay, euro cents.
    pub fee_due_cents: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// An application in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitSummary {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name, in the request's language.
    pub procedure_name: String,
    /// Full status.
    pub status: String,
    /// Simplified status for citizens.
    pub simplified_status: String,
    /// The simplified status in the request's language.
    pub simplified_label: String,
    /// Fiscal code of the applicant.
    pub applicant_fiscal_code: String,
    /// `YYYY/NNNNNNN`, once registered.
    pub protocol_number: Option<String>,
    /// Address of the property.
    pub address: Option<String>,
    /// Fiscal code of the officer in charge.
    pub assigned_to: Option<String>,
    /// Last day of the legal term as of the last change or sweep (`YYYY-MM-DD`).
    pub deadline: Option<String>,
    /// Calendar days to the deadline as of now.
    pub days_left: Option<i64>,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// A page of applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitPage {
    /// Applications.
    pub items: Vec<PermitSummary>,
    /// Cursor for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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

// ---- Payments (pagoPA) ----

/// Who owes the money of a debt position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentDebtor {
    /// `F` natural person (default) or `G` legal person.
    #[serde(default = "natural_person")]
    pub kind: String,
    /// Fiscal code (16 characters) or VAT number (11 digits).
    #[cfg_attr(feature = "openapi", schema(example = "RSSMRA85T10A562S"))]
    pub fiscal_code: String,
    /// Name and surname, or company name (1–70 characters).
    #[cfg_attr(feature = "openapi", schema(example = "Mario Rossi"))]
    pub full_name: String,
}

fn natural_person() -> String {
    "F".to_owned()
}

/// One payment option of a new debt position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentOptionInput {
    /// Amount in euro cents (at least 1).
    #[cfg_attr(feature = "openapi", schema(example = 3000))]
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD` (Europe/Rome).
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-31"))]
    pub due_date: String,
    /// What is paid, as shown to the payer (default: the position's description).
    pub description: Option<String>,
}

/// Body of `POST /v1/municipalities/{istat}/payment-positions`: a new debt position in DRAFT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentPositionInput {
    /// Unique position id (IUPD); default: `<creditor fiscal code>-<uuid>`.
    pub iupd: Option<String>,
    /// Who pays.
    pub debtor: PaymentDebtor,
    /// What the debt is for (1–140 characters).
    #[cfg_attr(feature = "openapi", schema(example = "Diritti di segreteria"))]
    pub description: String,
    /// A single payment (one option) or an instalment plan (`instalments` = true, 2+ options).
    pub options: Vec<PaymentOptionInput>,
    /// Whether the options are instalments of a plan rather than one single payment.
    #[serde(default)]
    pub instalments: bool,
    /// pagoPA taxonomy category of the transfer (default: the creditor's configured one).
    #[cfg_attr(feature = "openapi", schema(example = "9/0101108TS/"))]
    pub taxonomy: Option<String>,
    /// When the position becomes payable, RFC 3339 (default: at publication).
    pub valid_from: Option<String>,
    /// Whether the position expires (stops being payable) after its last due date.
    #[serde(default)]
    pub expires: bool,
}

/// A payment option of a debt position, with its notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentNotice {
    /// Opaque id of the option (used by the receipt download).
    pub id: String,
    /// Notice number (numero avviso), 18 digits.
    #[cfg_attr(feature = "openapi", schema(example = "301000000000000105"))]
    pub notice_number: String,
    /// Notice number in groups of four, as printed.
    #[cfg_attr(feature = "openapi", schema(example = "3010 0000 0000 0001 05"))]
    pub notice_printed: String,
    /// IUV (creditorReferenceId).
    pub iuv: String,
    /// The QR code payload `PAGOPA|002|…`.
    pub qr_payload: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD`.
    pub due_date: String,
    /// What is paid.
    pub description: String,
    /// Whether this is one instalment of a plan.
    pub instalment: bool,
    /// RFC 3339 UTC, once paid.
    pub paid_at: Option<String>,
    /// The pagoPA receipt id, once paid.
    pub receipt_id: Option<String>,
}

/// A debt position as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentPosition {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the creditor municipality.
    pub municipality: String,
    /// Creditor fiscal code (idPA).
    pub creditor_fiscal_code: String,
    /// Unique position id (IUPD).
    pub iupd: String,
    /// GPD status: DRAFT, PUBLISHED, VALID, PARTIALLY_PAID, PAID, EXPIRED, INVALID, REPORTED.
    pub status: String,
    /// Who pays.
    pub debtor: PaymentDebtor,
    /// What the debt is for.
    pub description: String,
    /// Payment options.
    pub options: Vec<PaymentNotice>,
    /// What created it, e.g. `permit:<id>`; absent when an operator did.
    pub origin: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// A page of debt positions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentPositionPage {
    /// Positions.
    pub items: Vec<PaymentPosition>,
    /// Cursor for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// One of a citizen's payments (one notice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyPayment {
    /// The notice, with number, QR payload, amount and due date.
    #[serde(flatten)]
    pub notice: PaymentNotice,
    /// `due`, `paid`, `expired` or `cancelled`.
    pub state: String,
    /// The debt position's id.
    pub position_id: String,
    /// Creditor fiscal code.
    pub creditor_fiscal_code: String,
    /// Creditor name (the municipality).
    pub creditor_name: String,
    /// ISTAT code of the creditor municipality.
    pub municipality: String,
}

/// A citizen's payments: due first (soonest due date first), then paid and expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyPaymentList {
    /// Payments (at most 500).
    pub items: Vec<MyPayment>,
}

/// Body of `POST /v1/payments/verify`: a scanned or typed notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyPaymentRequest {
    /// A notice number (spaces allowed) or a QR payload `PAGOPA|002|…`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "PAGOPA|002|301000000000000105|00856930102|3000")
    )]
    pub code: String,
    /// Creditor fiscal code; required with a bare notice number unless only one creditor
    /// could have issued it.
    pub creditor_fiscal_code: Option<String>,
}

/// What a notice would pay, as pagoPA's verify would say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct VerifiedPayment {
    /// Notice number, 18 digits.
    pub notice_number: String,
    /// Printed form.
    pub notice_printed: String,
    /// Creditor fiscal code.
    pub creditor_fiscal_code: String,
    /// Creditor name.
    pub creditor_name: String,
    /// Amount in euro cents.
    pub amount_cents: i64,
    /// Last day to pay, `YYYY-MM-DD`.
    pub due_date: String,
    /// What is paid.
    pub description: String,
}
