//! The `sportello` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Overrides;

/// Sportello: the digital front desk of the municipalities of the Città Metropolitana di Genova.
///
/// Start here: `sportello serve --demo --dev-auth` runs the API on http://127.0.0.1:8080 with an
/// embedded SQLite database in ./sportello-data; open http://127.0.0.1:8080/docs.
///
/// Configuration is layered: defaults, then the TOML file given with --config, then
/// SPORTELLO__* environment variables (e.g. SPORTELLO__DATABASE_URL, SPORTELLO__ENV=production),
/// then these flags.
#[derive(Debug, Parser)]
#[command(name = "sportello", version, max_term_width = 100)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE", env = "SPORTELLO_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Where data lives (all commands).
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite database, search indexes and uploads [default: ./sportello-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data dir].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (migrates the database first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Grant, revoke and list operator and admin roles.
    #[command(subcommand)]
    Operators(OperatorsCommand),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Library catalogue: import MARC exports, rebuild the search index, list libraries.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Permits: run the deadline sweep, set a municipality's procedure catalogue overrides.
    #[command(subcommand)]
    Permits(PermitsCommand),
    /// pagoPA: play the Node against a running server.
    #[command(subcommand)]
    Pagopa(PagopaCommand),
    /// Back up the embedded database and the permit documents into a new directory, each file
    /// with its SHA-256 in manifest.json; safe while `serve` runs. PostgreSQL: use pg_dump.
    Backup {
        /// The backup directory (created; must be empty if it exists).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory: every hash checked first, then the
    /// migrations of this version, then the catalogue search index rebuilt.
    Restore {
        /// The backup directory (written by `sportello backup`).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PermitsCommand {
    /// Record matured silent approvals and warn officers of close or passed deadlines (what
    /// `serve` does every `permits.sweep_interval_secs`); safe to run any time.
    Sweep {
        /// Sweep as of this instant (RFC 3339), e.g. to check what a date will bring.
        #[arg(long, value_name = "INSTANT")]
        now: Option<String>,
    },
    /// Override the built-in procedure catalogue for one municipality with a TOML file of the
    /// same shape (core/data/permits/procedures.toml); `--remove` goes back to the built-in one.
    Catalogue {
        /// ISTAT code of the municipality.
        #[arg(value_name = "ISTAT")]
        municipality: String,
        /// The overrides.
        #[arg(long, value_name = "FILE", required_unless_present = "remove")]
        file: Option<PathBuf>,
        /// Remove the overrides.
        #[arg(long, conflicts_with = "file")]
        remove: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PagopaCommand {
    /// Pay a notice as the pagoPA Node would (paVerifyPaymentNotice, paGetPaymentV2, paSendRTV2)
    /// against a running server; the citizen gets the receipt and a push.
    SimulatePayment(SimulatePaymentArgs),
}

#[derive(Debug, Args)]
pub struct SimulatePaymentArgs {
    /// Notice number (18 digits, spaces allowed).
    #[arg(value_name = "NOTICE")]
    pub notice: String,
    /// Creditor fiscal code [default: looked up with POST /v1/payments/verify].
    #[arg(long, value_name = "CF")]
    pub creditor: Option<String>,
    /// Server base URL [default: the configured public URL].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// idBrokerPA [default: pagopa.broker_id].
    #[arg(long, value_name = "ID")]
    pub broker: Option<String>,
    /// idStation [default: pagopa.station_id].
    #[arg(long, value_name = "ID")]
    pub station: Option<String>,
    /// Where /pagopa/paForNode is served [default: https://<pagopa.channel.listen> (http://
    /// without pagopa.channel.tls_cert) when set, else --url].
    #[arg(long, value_name = "URL")]
    pub channel_url: Option<String>,
    /// Client certificate (PEM, with its chain) presented to the channel: mutual TLS.
    #[arg(long, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of --client-cert.
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// CA certificates (PEM) to trust for the channel's server certificate.
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// The channel's shared key, sent in pagopa.channel.shared_key_header [default:
    /// pagopa.channel.shared_key].
    #[arg(long, value_name = "KEY")]
    pub shared_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Also load the demo data (people, roles and libraries).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import MARC files (MARC 21 or UNIMARC; ISO 2709 or MARCXML / UNIMARC slim; MARC-8 or
    /// UTF-8) into a library. Files are streamed, so size does not matter. Bad records are
    /// reported with their position and skipped; re-importing a file is idempotent.
    Import(CatalogImportArgs),
    /// Rebuild the search index from the database (stop servers using this data dir first).
    Reindex,
    /// List the libraries, with their ids for `import --library`.
    Libraries {
        /// Only this municipality.
        #[arg(long, value_name = "ISTAT")]
        municipality: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CatalogImportArgs {
    /// The library the export comes from (see `sportello catalog libraries`).
    #[arg(long, value_name = "ID")]
    pub library: String,

    /// Container format.
    #[arg(long, default_value = "auto", value_parser = ["auto", "marc21", "unimarc", "marcxml"])]
    pub format: String,

    /// Holdings presets to try, comma-separated: sbn950, bncf960, sbn899, marc852, marc949,
    /// koha952 [default: by flavour: UNIMARC sbn950,bncf960,sbn899; MARC 21 marc852,marc949,koha952].
    #[arg(long, value_name = "PRESETS")]
    pub holdings: Option<String>,

    /// Copies with this source library code belong to another library: CODE=LIBRARY_ID
    /// (repeatable), e.g. an SBN union export `--map GMPLE=ge-lercari`.
    #[arg(long = "map", value_name = "CODE=LIBRARY")]
    pub map: Vec<String>,

    /// MARC files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Externally visible base URL, used in login callbacks [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Load demo data (fictitious people and roles; see the README).
    #[arg(long)]
    pub demo: bool,

    /// Enable POST /v1/auth/dev-login: log in as anyone. Local demos only; refused in production.
    #[arg(long)]
    pub dev_auth: bool,
}

/// Who gets or loses a role.
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// Fiscal code of the person.
    #[arg(long, value_name = "CF")]
    pub fiscal_code: String,

    /// Municipality ISTAT code (operators).
    #[arg(
        long,
        value_name = "ISTAT",
        required_unless_present = "admin",
        requires = "office"
    )]
    pub municipality: Option<String>,

    /// Office: library, permits, payments, events or civil-protection (operators).
    #[arg(long, value_name = "OFFICE", requires = "municipality")]
    pub office: Option<String>,

    /// Metropolitan administrator (all municipalities) instead of an operator.
    #[arg(long, conflicts_with_all = ["municipality", "office"])]
    pub admin: bool,
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Grant a role, e.g. `--fiscal-code X --municipality 010025 --office permits`.
    Grant(RoleArgs),
    /// Revoke a role (takes effect at the person's next token refresh).
    Revoke(RoleArgs),
    /// List granted roles.
    List {
        /// Only this municipality.
        #[arg(long, value_name = "ISTAT")]
        municipality: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key; new tokens use it, existing tokens stay valid.
    Rotate {
        /// Rotate a key of the SPID/CIE federation instead: `federation` (signs the Entity
        /// Configuration: send the new public key to the trust anchor before the old one
        /// retires), `core` (request objects, client assertions) or `encryption` (userinfo).
        /// The key it replaces stays published for auth.relying_party.key_retirement_secs;
        /// running servers use the new one within a minute.
        #[arg(long, value_name = "PURPOSE")]
        federation: Option<FederationKey>,
    },
    /// List key ids, oldest first (the last one signs).
    List {
        /// List the SPID/CIE federation keys instead (purpose and kid, newest first; made if
        /// missing).
        #[arg(long)]
        federation: bool,
    },
}

/// A purpose of the federation keys, as `keys rotate --federation` names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FederationKey {
    Federation,
    Core,
    Encryption,
}

impl From<FederationKey> for crate::identity::federation::keys::Purpose {
    fn from(key: FederationKey) -> Self {
        match key {
            FederationKey::Federation => Self::Federation,
            FederationKey::Core => Self::Core,
            FederationKey::Encryption => Self::Encryption,
        }
    }
}

impl Cli {
    /// Flag values that override the other configuration layers.
    pub fn overrides(&self) -> Overrides {
        let mut overrides = Overrides {
            data_dir: self.storage.data_dir.clone(),
            database_url: self.storage.database_url.clone(),
            ..Overrides::default()
        };
        if let Command::Migrate(migrate) = &self.command {
            overrides.demo = migrate.demo;
        }
        if let Command::Serve(serve) = &self.command {
            overrides.listen = serve.listen;
            overrides.public_url.clone_from(&serve.public_url);
            overrides.demo = serve.demo;
            overrides.dev_auth = serve.dev_auth;
        }
        overrides
    }
}
