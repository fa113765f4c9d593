//! Configuration, layered: built-in defaults, then a TOML file (`--config`), then
//! `SPORTELLO__*` environment variables (`__` separates nesting, e.g.
//! `SPORTELLO__AUTH__PROVIDERS__CIE__CLIENT_SECRET`), then command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

mod auth;
mod http;
mod notify;
mod pagopa;
mod storage;
pub use auth::{AuthConfig, FederationConfig, ProviderConfig, RelyingPartyConfig, TrustMarkConfig};
pub use http::{HttpConfig, Quota, RateLimitsConfig};
pub use notify::{FcmConfig, NotifyConfig};
use pagopa::{DEMO_BROKER, DEMO_STATION, EXAMPLE_IBAN};
pub use pagopa::{PagopaChannelConfig, PagopaConfig, PagopaCreditorConfig};
pub use storage::{MIN_PART_BYTES, S3Config, StorageConfig, StorageKind};

/// Where the server runs; production forbids demo-only switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A secret value: deserialised normally, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The whole configuration of a `sportello` process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `development` (default) or `production`.
    pub env: Environment,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, search indexes and uploads.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; default: SQLite in the data directory.
    pub database_url: Option<Secret>,
    /// The externally visible base URL (for OpenID Connect callbacks); default `http://<listen>`.
    pub public_url: Option<String>,
    /// Load demo data at start-up.
    pub demo: bool,
    /// Enable `POST /v1/auth/dev-login` (never in production).
    pub dev_auth: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// HTTP limits: requests, connections, trusted proxies, CORS.
    pub http: HttpConfig,
    /// Rate limits of login, token refresh, notice verification, search and device registration.
    pub rate_limits: RateLimitsConfig,
    /// Login and tokens.
    pub auth: AuthConfig,
    /// Inbox and push delivery.
    pub notify: NotifyConfig,
    /// Library catalogue.
    pub catalog: CatalogConfig,
    /// Permits: document limits, the deadline sweep.
    pub permits: PermitsConfig,
    /// Where uploaded files are kept: the data directory or S3-compatible object storage.
    pub storage: StorageConfig,
    /// pagoPA: the creditor side (idPA, idBrokerPA, idStation, IBANs, segregation codes).
    pub pagopa: PagopaConfig,
    /// Events: reminders to followers.
    pub events: EventsConfig,
    /// Open data: who publishes the catalogue.
    pub opendata: OpenDataConfig,
    /// The web app: where its payments page sends people to pay.
    pub web: WebConfig,
}

/// The web app (`server/src/web`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// pagoPA Checkout, where "pay" on a notice goes (the notice's payment code appended to
    /// the path); another address for the Checkout of pagoPA's test environment.
    pub pagopa_checkout_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            pagopa_checkout_url: "https://checkout.pagopa.it".to_owned(),
        }
    }
}

/// Open data: the publisher named by the DCAT-AP catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenDataConfig {
    /// The organisation that publishes the data.
    pub publisher_name: String,
    /// Its IndicePA (IPA) code, the identifier DCAT-AP_IT asks of a public body.
    pub publisher_ipa: String,
}

impl Default for OpenDataConfig {
    fn default() -> Self {
        Self {
            publisher_name: "Città Metropolitana di Genova".to_owned(),
            publisher_ipa: "cmge".to_owned(),
        }
    }
}

/// Events: the reminder sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Run the reminder sweep in this process (idempotent: several instances may).
    pub reminders: bool,
    /// Remind followers this many minutes before an occurrence starts.
    pub reminder_lead_minutes: u32,
    /// Seconds between reminder sweeps.
    pub reminder_interval_secs: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            reminders: true,
            reminder_lead_minutes: 24 * 60,
            reminder_interval_secs: 5 * 60,
        }
    }
}

/// Permits: document limits and the deadline sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PermitsConfig {
    /// Largest document, bytes.
    pub max_document_bytes: u64,
    /// Largest total of one application's documents, bytes.
    pub max_permit_bytes: u64,
    /// Most documents on one application.
    pub max_documents: u32,
    /// Run the deadline sweep in this process (idempotent: several instances may).
    pub sweep: bool,
    /// Seconds between sweeps.
    pub sweep_interval_secs: u64,
    /// Warn the officers of deadlines within this many days.
    pub warn_within_days: i64,
    /// Moves the permits clock this many days from real time, to demonstrate legal terms;
    /// refused in production.
    pub clock_offset_days: i64,
}

impl Default for PermitsConfig {
    fn default() -> Self {
        Self {
            max_document_bytes: 20 * 1024 * 1024,
            max_permit_bytes: 200 * 1024 * 1024,
            max_documents: 100,
            sweep: true,
            sweep_interval_secs: 15 * 60,
            warn_within_days: 5,
            clock_offset_days: 0,
        }
    }
}

/// Library catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// Largest MARC file accepted by the import API, bytes (the CLI has no limit).
    pub import_body_limit_bytes: u64,
    /// How often the search index looks for catalogue changes made by other instances, ms.
    pub index_poll_ms: u64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            import_body_limit_bytes: 512 * 1024 * 1024,
            index_poll_ms: 1000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./sportello-data"),
            database_url: None,
            public_url: None,
            demo: false,
            dev_auth: false,
            log_format: LogFormat::Text,
            http: HttpConfig::default(),
            rate_limits: RateLimitsConfig::default(),
            auth: AuthConfig::default(),
            notify: NotifyConfig::default(),
            catalog: CatalogConfig::default(),
            permits: PermitsConfig::default(),
            storage: StorageConfig::default(),
            events: EventsConfig::default(),
            opendata: OpenDataConfig::default(),
            pagopa: PagopaConfig::default(),
            web: WebConfig::default(),
        }
    }
}

/// Values given on the command line; only those present override the other layers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dev_auth: bool,
}

impl Config {
    /// Loads the layers in order and checks the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "config file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("SPORTELLO__").split("__"))
            .merge(Serialized::globals(overrides))
            .extract()
            .map_err(|error| anyhow::anyhow!("invalid configuration: {error}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects combinations that must never run.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.env == Environment::Production && self.dev_auth {
            anyhow::bail!(
                "refusing to start: --dev-auth lets anyone log in as anyone and is for local \
                 demos only; it cannot be used with env = production"
            );
        }
        if self.env == Environment::Production && self.permits.clock_offset_days != 0 {
            anyhow::bail!(
                "refusing to start: permits.clock_offset_days cannot be used with env = production"
            );
        }
        anyhow::ensure!(
            (1..=7 * 24 * 60).contains(&self.events.reminder_lead_minutes),
            "events.reminder_lead_minutes must be 1..=10080 (a week)"
        );
        anyhow::ensure!(
            (0..=365).contains(&self.permits.warn_within_days),
            "permits.warn_within_days must be 0..=365"
        );
        anyhow::ensure!(
            self.permits.max_document_bytes > 0
                && self.permits.max_permit_bytes >= self.permits.max_document_bytes,
            "permits.max_permit_bytes must be >= permits.max_document_bytes > 0"
        );
        anyhow::ensure!(
            url::Url::parse(&self.web.pagopa_checkout_url)
                .is_ok_and(|url| matches!(url.scheme(), "https" | "http")),
            "web.pagopa_checkout_url must be an http(s) URL"
        );
        self.storage.validate(self.env == Environment::Production)?;
        if self.env == Environment::Production && self.demo {
            anyhow::bail!("refusing to start: --demo data cannot be loaded with env = production");
        }
        if self.env == Environment::Production {
            let overrides = self
                .pagopa
                .municipalities
                .values()
                .filter_map(|m| m.iban.as_ref());
            if std::iter::once(&self.pagopa.iban)
                .chain(overrides)
                .any(|iban| iban == EXAMPLE_IBAN)
            {
                anyhow::bail!(
                    "refusing to start: pagopa.iban (or a municipality's override) is the example \
                     IBAN of the demo, which would send citizens' payments to no real account; \
                     set the creditor's IBAN (and pagopa.broker_id, pagopa.station_id) for \
                     env = production"
                );
            }
            self.refuse_demo_station()?;
            anyhow::ensure!(
                self.pagopa.channel.is_protected(),
                "refusing to start: /pagopa/paForNode is unprotected, so anyone who knows the \
                 broker and station ids could mark notices paid; configure [pagopa.channel] with \
                 client_ca (mutual TLS on its own listener), source_networks and/or shared_key \
                 for env = production (docs/payments.md, \"The channel\")"
            );
        }
        self.pagopa.channel.validate(self.listen)?;
        for (id, provider) in &self.auth.providers {
            anyhow::ensure!(
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "provider id `{id}` must be letters, digits or '-'"
            );
            url::Url::parse(&provider.issuer_url)
                .map_err(|e| anyhow::anyhow!("provider {id}: issuer_url: {e}"))?;
        }
        for (id, federation) in &self.auth.federations {
            anyhow::ensure!(
                matches!(id.as_str(), "spid" | "cie"),
                "auth.federations.{id}: the federations are `spid` and `cie`"
            );
            anyhow::ensure!(
                !federation.trust_anchors.is_empty() && !federation.authority_hints.is_empty(),
                "auth.federations.{id}: needs trust_anchors and authority_hints"
            );
            for url in federation.trust_anchors.keys().chain(&federation.authority_hints) {
                url::Url::parse(url).map_err(|e| anyhow::anyhow!("auth.federations.{id}: `{url}`: {e}"))?;
            }
        }
        anyhow::ensure!(
            self.auth.relying_party.entity_configuration_ttl_secs > 0
                && self.auth.relying_party.key_retirement_secs
                    >= self.auth.relying_party.entity_configuration_ttl_secs,
            "auth.relying_party.key_retirement_secs must be >= entity_configuration_ttl_secs > 0"
        );
        for uri in &self.auth.app_redirect_uris {
            url::Url::parse(uri).map_err(|e| anyhow::anyhow!("auth.app_redirect_uris: `{uri}`: {e}"))?;
        }
        self.http.validate()?;
        self.rate_limits.validate()?;
        anyhow::ensure!(
            self.catalog.index_poll_ms >= 10,
            "catalog.index_poll_ms must be >= 10"
        );
        Ok(())
    }

    /// Production refuses the demo's station (globally or in a municipality's override): the
    /// README prints it, and pagoPA never registered it.
    fn refuse_demo_station(&self) -> anyhow::Result<()> {
        let global = (Some(&self.pagopa.broker_id), Some(&self.pagopa.station_id));
        let overrides = self
            .pagopa
            .municipalities
            .values()
            .filter(|m| m.enabled != Some(false))
            .map(|m| {
                (
                    m.broker_id.as_ref().or(global.0),
                    m.station_id.as_ref().or(global.1),
                )
            });
        let demo = std::iter::once(global).chain(overrides).any(|(broker, station)| {
            broker.map(String::as_str) == Some(DEMO_BROKER)
                && station.map(String::as_str) == Some(DEMO_STATION)
        });
        anyhow::ensure!(
            !demo,
            "refusing to start: pagopa.station_id (or a municipality's override) is the demo's \
             station {DEMO_STATION} of broker {DEMO_BROKER}, printed in the README; set the \
             broker and station pagoPA registered for this installation for env = production"
        );
        Ok(())
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("sportello.db").display()),
        }
    }

    /// The externally visible base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err, reason = "figment::Jail's signature")]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sportello.toml",
                "listen = \"127.0.0.1:9000\"\ndata_dir = \"/from/file\"\n[http]\nbody_limit_bytes = 10\n",
            )?;
            jail.set_env("SPORTELLO__DATA_DIR", "/from/env");
            jail.set_env("SPORTELLO__AUTH__ACCESS_TOKEN_TTL_SECS", "60");
            let overrides = Overrides {
                data_dir: Some("/from/flag".into()),
                ..Overrides::default()
            };
            let config =
                Config::load(Some(Path::new("sportello.toml")), &overrides).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.data_dir, PathBuf::from("/from/flag"));
            assert_eq!(config.http.body_limit_bytes, 10);
            assert_eq!(config.http.request_timeout_secs, 30);
            assert_eq!(config.auth.access_token_ttl_secs, 60);
            Ok(())
        });
    }

    #[test]
    fn the_web_section_takes_the_checkout_address_and_nothing_unknown() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.web.pagopa_checkout_url, "https://checkout.pagopa.it");
            jail.create_file(
                "sportello.toml",
                "[web]\npagopa_checkout_url = \"https://uat.checkout.pagopa.it\"\n",
            )?;
            let path = Some(Path::new("sportello.toml"));
            let config = Config::load(path, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.web.pagopa_checkout_url, "https://uat.checkout.pagopa.it");
            jail.create_file("sportello.toml", "[web]\ncheckout = \"https://example.org\"\n")?;
            let error = Config::load(path, &Overrides::default()).unwrap_err().to_string();
            assert!(error.contains("checkout"), "{error}");
            jail.create_file("sportello.toml", "[web]\npagopa_checkout_url = \"not a url\"\n")?;
            let error = Config::load(path, &Overrides::default()).unwrap_err().to_string();
            assert!(error.contains("web.pagopa_checkout_url"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn production_refuses_dev_auth() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SPORTELLO__ENV", "production");
            let overrides = Overrides {
                dev_auth: true,
                ..Overrides::default()
            };
            let error = Config::load(None, &overrides).unwrap_err().to_string();
            assert!(error.contains("dev-auth"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn production_refuses_the_example_iban() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SPORTELLO__ENV", "production");
            let error = Config::load(None, &Overrides::default()).unwrap_err().to_string();
            assert!(error.contains("pagopa.iban"), "{error}");
            jail.set_env("SPORTELLO__PAGOPA__IBAN", "IT02L1234512345123456789012");
            jail.set_env("SPORTELLO__PAGOPA__STATION_ID", "00856930102_07");
            jail.set_env(
                "SPORTELLO__PAGOPA__CHANNEL__SOURCE_NETWORKS",
                "[\"10.20.0.0/16\"]",
            );
            Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            jail.set_env("SPORTELLO__PAGOPA__MUNICIPALITIES__010001__IBAN", EXAMPLE_IBAN);
            let error = Config::load(None, &Overrides::default()).unwrap_err().to_string();
            assert!(error.contains("pagopa.iban"), "{error}");
            Ok(())
        });
    }

    /// A production environment that passes every check but the one under test.
    fn production(jail: &mut figment::Jail) {
        jail.set_env("SPORTELLO__ENV", "production");
        jail.set_env("SPORTELLO__PAGOPA__IBAN", "IT02L1234512345123456789012");
        jail.set_env("SPORTELLO__PAGOPA__STATION_ID", "00856930102_07");
        jail.set_env(
            "SPORTELLO__PAGOPA__CHANNEL__SHARED_KEY",
            "a-long-random-shared-key",
        );
    }

    fn load_error() -> String {
        Config::load(None, &Overrides::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn production_refuses_the_demo_station() {
        figment::Jail::expect_with(|jail| {
            production(jail);
            Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            // The demo's station, globally or as one municipality's override.
            jail.set_env("SPORTELLO__PAGOPA__STATION_ID", DEMO_STATION);
            assert!(load_error().contains("demo's station"), "{}", load_error());
            jail.set_env("SPORTELLO__PAGOPA__STATION_ID", "00856930102_07");
            jail.set_env(
                "SPORTELLO__PAGOPA__MUNICIPALITIES__010025__STATION_ID",
                DEMO_STATION,
            );
            assert!(load_error().contains("demo's station"), "{}", load_error());
            // The same station id of another broker is not the demo's.
            jail.set_env(
                "SPORTELLO__PAGOPA__MUNICIPALITIES__010025__BROKER_ID",
                "\"80007580108\"",
            );
            Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            // Development runs the demo's values.
            jail.set_env("SPORTELLO__ENV", "development");
            jail.set_env("SPORTELLO__PAGOPA__STATION_ID", DEMO_STATION);
            Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn production_refuses_an_unprotected_node_endpoint() {
        figment::Jail::expect_with(|jail| {
            production(jail);
            // An empty or short key is refused, not taken for a protection.
            for key in ["", "short"] {
                jail.set_env("SPORTELLO__PAGOPA__CHANNEL__SHARED_KEY", key);
                assert!(load_error().contains("at least 16"), "{}", load_error());
            }
            Ok(())
        });
        for protection in [
            "[pagopa.channel]\nsource_networks = [\"10.20.0.0/16\", \"2001:db8::/32\"]\n",
            "[pagopa.channel]\nshared_key = \"0123456789abcdef\"\n",
            "[pagopa.channel]\nlisten = \"127.0.0.1:8443\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n\
             client_ca = \"ca.pem\"\n",
        ] {
            figment::Jail::expect_with(|jail| {
                jail.set_env("SPORTELLO__ENV", "production");
                jail.set_env("SPORTELLO__PAGOPA__IBAN", "IT02L1234512345123456789012");
                jail.set_env("SPORTELLO__PAGOPA__STATION_ID", "00856930102_07");
                assert!(load_error().contains("unprotected"), "{}", load_error());
                jail.create_file("channel.toml", protection)?;
                Config::load(Some(Path::new("channel.toml")), &Overrides::default())
                    .map_err(|e| format!("{protection}: {e}"))?;
                Ok(())
            });
        }
    }

    #[test]
    fn channel_settings_that_cannot_work_are_refused() {
        for (toml, expected) in [
            ("tls_cert = \"c.pem\"\n", "go together"),
            (
                "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
                "needs pagopa.channel.listen",
            ),
            (
                "listen = \"127.0.0.1:8443\"\nclient_ca = \"ca.pem\"\n",
                "needs pagopa.channel.tls_cert",
            ),
            (
                "listen = \"127.0.0.1:8443\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nclient_subject = \"nodo\"\n",
                "needs pagopa.channel.client_ca",
            ),
            ("listen = \"127.0.0.1:8080\"\n", "must differ from listen"),
            ("shared_key_header = \"bad header\"\n", "not an HTTP header name"),
            ("source_networks = [\"10.0.0.0/33\"]\n", "source_networks"),
            ("sauce_networks = []\n", "sauce_networks"),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("c.toml", &format!("[pagopa.channel]\n{toml}"))?;
                let error = Config::load(Some(Path::new("c.toml")), &Overrides::default())
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                assert!(error.contains(expected), "{toml}: {error}");
                Ok(())
            });
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut config = Config {
            database_url: Some(Secret::new("postgres://u:pw@h/db")),
            ..Config::default()
        };
        config.auth.providers.insert(
            "cie".into(),
            ProviderConfig {
                display_name: "CIE".into(),
                issuer_url: "https://idp.example".into(),
                client_id: "c".into(),
                client_secret: Secret::new("hunter2"),
                scopes: auth::default_scopes(),
            },
        );
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains(":pw@"),
            "{printed}"
        );
    }

    #[test]
    fn federations_load_from_toml_and_refuse_unknown_ids_and_keys() {
        let spid = "[auth.federations.spid]\n\
                    authority_hints = [\"https://ta.example\"]\n\
                    default_acr = \"https://www.spid.gov.it/SpidL2\"\n\
                    [auth.federations.spid.trust_anchors.\"https://ta.example\"]\n\
                    keys = []\n\
                    [[auth.federations.spid.trust_marks]]\n\
                    id = \"https://ta.example/openid_relying_party/public/\"\n\
                    trust_mark = \"eyJ.secret-mark\"\n";
        figment::Jail::expect_with(|jail| {
            jail.create_file("ok.toml", spid)?;
            let config =
                Config::load(Some(Path::new("ok.toml")), &Overrides::default()).map_err(|e| e.to_string())?;
            let federation = &config.auth.federations["spid"];
            assert_eq!(federation.authority_hints, ["https://ta.example"]);
            assert!(federation.trust_anchors.contains_key("https://ta.example"));
            assert!(!format!("{config:?}").contains("secret-mark"));

            jail.create_file(
                "other.toml",
                &spid.replace("federations.spid", "federations.eidas"),
            )?;
            let error = Config::load(Some(Path::new("other.toml")), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("`spid` and `cie`"), "{error}");

            jail.create_file("typo.toml", &format!("{spid}autority_hints = []\n"))?;
            let error = Config::load(Some(Path::new("typo.toml")), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("autority_hints"), "{error}");
            Ok(())
        });
    }
}
