//! The `[pagopa]` section: the creditor's identity towards the Node, per-municipality
//! overrides, and how the Node's endpoint is protected (docs/payments.md).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

/// pagoPA creditor settings. Metropolitan-wide values apply to every municipality; a
/// `[pagopa.municipalities.<ISTAT>]` table overrides them for one. The idPA of a municipality is
/// its fiscal code from the reference data, never configured, so it cannot drift.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagopaConfig {
    /// idBrokerPA: the intermediary (partner tecnologico) the Node knows this installation by.
    pub broker_id: String,
    /// idStation: the station of the broker the Node calls.
    pub station_id: String,
    /// Segregation code of the notice numbers (aux digit 3), 0–99.
    pub segregation_code: u8,
    /// Account credited by the transfers.
    pub iban: String,
    /// Default taxonomy category of the transfers.
    pub taxonomy: String,
    /// Largest SOAP request accepted on `/pagopa/paForNode`, bytes.
    pub body_limit_bytes: usize,
    /// Per-municipality overrides, by ISTAT code.
    pub municipalities: BTreeMap<String, PagopaCreditorConfig>,
    /// How the Node's endpoint is protected: mutual TLS on its own listener, source networks,
    /// a shared key (docs/payments.md, "The channel").
    pub channel: PagopaChannelConfig,
}

/// The channel the pagoPA Node calls `/pagopa/paForNode` through. Whoever reaches the endpoint
/// can mark notices paid, so production refuses to start unless at least one protection is on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagopaChannelConfig {
    /// The endpoint's own listener; when set, the main listener no longer serves it.
    pub listen: Option<SocketAddr>,
    /// Certificate chain (PEM) of the own listener; with `tls_key` it speaks TLS.
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// CA bundle (PEM) that client certificates are verified against: mutual TLS, a client
    /// without a certificate of one of these CAs cannot complete the handshake.
    pub client_ca: Option<PathBuf>,
    /// The common name (CN) the verified client certificate's subject must have, exactly.
    pub client_subject: Option<String>,
    /// Only TCP peers in these networks reach the endpoint; others get 403.
    pub source_networks: Vec<ipnet::IpNet>,
    /// The request header that carries `shared_key`.
    pub shared_key_header: String,
    /// A key every request must carry in `shared_key_header` (at least 16 characters); others
    /// get 403.
    pub shared_key: Option<Secret>,
}

impl Default for PagopaChannelConfig {
    fn default() -> Self {
        Self {
            listen: None,
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            client_subject: None,
            source_networks: Vec::new(),
            shared_key_header: "x-pagopa-channel-key".to_owned(),
            shared_key: None,
        }
    }
}

impl PagopaChannelConfig {
    /// Whether anything stands between the network and the endpoint.
    pub fn is_protected(&self) -> bool {
        self.client_ca.is_some() || !self.source_networks.is_empty() || self.shared_key.is_some()
    }

    /// Whether the endpoint is served on the channel's own listener with TLS.
    pub fn is_tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// Rejects settings that cannot work together.
    pub(super) fn validate(&self, main_listen: SocketAddr) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.tls_cert.is_some() == self.tls_key.is_some(),
            "pagopa.channel.tls_cert and pagopa.channel.tls_key go together"
        );
        anyhow::ensure!(
            self.tls_cert.is_none() || self.listen.is_some(),
            "pagopa.channel.tls_cert needs pagopa.channel.listen: TLS is served on the channel's own \
             listener (behind an ingress that terminates TLS, leave both unset)"
        );
        anyhow::ensure!(
            self.client_ca.is_none() || self.tls_cert.is_some(),
            "pagopa.channel.client_ca needs pagopa.channel.tls_cert and tls_key: client certificates \
             are verified in the channel's own TLS handshake"
        );
        anyhow::ensure!(
            self.client_subject.is_none() || self.client_ca.is_some(),
            "pagopa.channel.client_subject needs pagopa.channel.client_ca"
        );
        anyhow::ensure!(
            self.client_subject.as_ref().is_none_or(|s| !s.is_empty()),
            "pagopa.channel.client_subject must not be empty"
        );
        anyhow::ensure!(
            self.listen != Some(main_listen),
            "pagopa.channel.listen must differ from listen"
        );
        anyhow::ensure!(
            axum::http::HeaderName::from_bytes(self.shared_key_header.as_bytes()).is_ok(),
            "pagopa.channel.shared_key_header `{}` is not an HTTP header name",
            self.shared_key_header
        );
        if let Some(key) = &self.shared_key {
            anyhow::ensure!(
                key.expose().chars().count() >= 16,
                "pagopa.channel.shared_key must have at least 16 characters"
            );
        }
        Ok(())
    }
}

/// Overrides of the pagoPA settings for one municipality.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagopaCreditorConfig {
    /// `false`: the municipality does not collect through this installation's pagoPA station
    /// (no notices are opened for it, the Node's calls for it are refused); its permit fees
    /// stay due without a notice and are paid at its office.
    pub enabled: Option<bool>,
    /// idBrokerPA, when the municipality has its own intermediary.
    pub broker_id: Option<String>,
    /// idStation.
    pub station_id: Option<String>,
    /// Segregation code.
    pub segregation_code: Option<u8>,
    /// Account credited.
    pub iban: Option<String>,
    /// Default taxonomy category.
    pub taxonomy: Option<String>,
}

/// The IBAN of pagoPA's own examples: the demo's default, never a real creditor's account.
pub(super) const EXAMPLE_IBAN: &str = "IT60X0542811101000000123456";
/// The demo's broker (Comune di Genova's fiscal code, which a real broker may well be).
pub(super) const DEMO_BROKER: &str = "00856930102";
/// The demo's station of that broker: printed in the README, never registered at pagoPA.
pub(super) const DEMO_STATION: &str = "00856930102_01";

impl Default for PagopaConfig {
    fn default() -> Self {
        // Demo values (README): Comune di Genova as the metropolitan broker, its first station,
        // and the IBAN of pagoPA's own examples. Real deployments set their own.
        Self {
            broker_id: DEMO_BROKER.to_owned(),
            station_id: DEMO_STATION.to_owned(),
            segregation_code: 1,
            iban: EXAMPLE_IBAN.to_owned(),
            taxonomy: "9/0101108TS/".to_owned(),
            body_limit_bytes: 256 * 1024,
            municipalities: BTreeMap::new(),
            channel: PagopaChannelConfig::default(),
        }
    }
}
