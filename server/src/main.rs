//! The `sportello` binary.

use std::process::ExitCode;

use clap::Parser;
use sportello_core::identity::{FiscalCode, Role};
use sportello_core::tenant::IstatCode;
use sportello_server::cli::{
    CatalogCommand, Cli, Command, KeysCommand, OperatorsCommand, PagopaCommand, PermitsCommand, RoleArgs,
    SimulatePaymentArgs,
};
use sportello_server::config::{Config, LogFormat};
use sportello_server::db::{Db, redact_url};
use sportello_server::identity::directory::Directory;
use sportello_server::identity::federation::Federation;
use sportello_server::identity::federation::keys::Purpose;
use sportello_server::identity::tokens;
use sportello_server::notify::Notifier;
use sportello_server::payments::simulator::{ChannelCredentials, NodeSimulator};
use sportello_server::permits::Permits;
use sportello_server::tenant::Municipalities;
use sportello_server::{AppState, backup, catalog, demo, serve};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), &cli.overrides()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    match run(cli, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One line per counted table: `  permits  12`.
fn print_counts(counts: &std::collections::BTreeMap<String, i64>) {
    for (table, rows) in counts {
        println!("  {table:<18} {rows}");
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("SPORTELLO_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(_) => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
            let pagopa = match config.pagopa.channel.listen {
                Some(address) => Some(tokio::net::TcpListener::bind(address).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen on {address} (pagopa.channel.listen): {e}")
                })?),
                None => None,
            };
            tracing::info!(
                database = %redact_url(&config.database_url()),
                env = ?config.env,
                dev_auth = config.dev_auth,
                "starting"
            );
            let state = AppState::start(config).await?;
            let address = listener.local_addr()?;
            let shutdown = shutdown_signal()?;
            tracing::info!("listening on http://{address} (API docs: http://{address}/docs)");
            serve(state, listener, pagopa, shutdown).await?;
            tracing::info!("stopped");
        }
        Command::Migrate(_) => {
            let db = Db::connect_and_migrate(&config.database_url()).await?;
            let municipalities = Municipalities::load(&db).await?;
            let count = municipalities.all().len();
            println!(
                "database migrated ({}), {count} municipalities",
                db.backend().as_str()
            );
            if config.demo {
                anyhow::ensure!(
                    config.env != sportello_server::config::Environment::Production,
                    "demo data cannot be loaded with env = production"
                );
                let payments =
                    sportello_server::payments::Payments::new(db.clone(), &config.pagopa, &municipalities)?;
                demo::load_payments(&payments).await?;
                demo::load(&db, Some(&payments)).await?;
                println!("demo data loaded ({} libraries)", demo::DEMO_LIBRARIES.len());
            }
        }
        Command::Catalog(command) => catalog_command(&config, command).await?,
        Command::Permits(command) => permits_command(&config, command).await?,
        Command::Pagopa(PagopaCommand::SimulatePayment(args)) => {
            let simulator = node_simulator(&config, &args)?;
            let creditor = match args.creditor {
                Some(creditor) => creditor,
                None => simulator.creditor_of(&args.notice).await?,
            };
            let paid = simulator.simulate_payment(&creditor, &args.notice).await?;
            println!(
                "paid notice {} of creditor {}: {}.{:02} EUR ({}); receipt {}",
                paid.notice_number,
                paid.creditor,
                paid.amount_cents / 100,
                paid.amount_cents % 100,
                paid.description,
                paid.receipt_id
            );
        }
        Command::Operators(command) => operators(&config, command).await?,
        Command::Keys(command) => keys(&config, command).await?,
        Command::Backup { to } => {
            let report = backup::backup(&config, &to).await?;
            let manifest = &report.manifest;
            println!(
                "backed up to {} ({} kB): database as of {}, {} documents, each with its SHA-256 in {}",
                to.display(),
                report.bytes.div_ceil(1000),
                manifest.created_at,
                manifest.documents.len(),
                backup::MANIFEST
            );
            print_counts(&manifest.counts);
        }
        Command::Restore { from } => {
            let report = backup::restore(&config, &from).await?;
            let manifest = &report.manifest;
            println!(
                "restored the backup of {} (Sportello {}) into {}: {} documents, every hash checked; \
                 search index rebuilt ({} records)",
                manifest.created_at,
                manifest.sportello_version,
                config.data_dir.display(),
                manifest.documents.len(),
                report.indexed
            );
            print_counts(&manifest.counts);
        }
    }
    Ok(())
}

/// `sportello keys`: the access-token signing keys, or with `--federation` the SPID/CIE ones.
async fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let db = Db::connect_and_migrate(&config.database_url()).await?;
    let federation = || {
        Federation::new(
            db.clone(),
            &config.public_url(),
            config.auth.relying_party.clone(),
            config.auth.federations.clone(),
            true,
        )
    };
    match command {
        KeysCommand::Rotate { federation: None } => {
            let kid = tokens::rotate(&db).await?;
            println!("new signing key {kid}; running servers pick it up when they restart");
        }
        KeysCommand::Rotate {
            federation: Some(purpose),
        } => {
            let federation = federation();
            let kid = federation.rotate(purpose.into()).await?;
            println!(
                "new {} key {kid}; the one it replaces stays published for {} s",
                Purpose::from(purpose).as_str(),
                config.auth.relying_party.key_retirement_secs
            );
            return list_federation_keys(&federation).await;
        }
        KeysCommand::List { federation: true } => return list_federation_keys(&federation()).await,
        KeysCommand::List { federation: false } => {}
    }
    for kid in tokens::key_ids(&db).await? {
        println!("{kid}");
    }
    Ok(())
}

/// The published federation keys, `purpose kid` per line, newest first (the first of a purpose
/// is in use, the others are retiring).
async fn list_federation_keys(federation: &Federation) -> anyhow::Result<()> {
    let keys = federation.keys().await?;
    for purpose in Purpose::ALL {
        for key in keys.all(purpose) {
            println!("{} {}", purpose.as_str(), key.kid);
        }
    }
    Ok(())
}

/// The Node simulator of `pagopa simulate-payment`, with the channel's credentials.
fn node_simulator(config: &Config, args: &SimulatePaymentArgs) -> anyhow::Result<NodeSimulator> {
    let read =
        |path: &std::path::Path| std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    let url = args.url.clone().unwrap_or_else(|| config.public_url());
    let channel = &config.pagopa.channel;
    let node_url = match (&args.channel_url, channel.listen) {
        (Some(url), _) => url.clone(),
        (None, Some(address)) => {
            format!("{}://{address}", if channel.is_tls() { "https" } else { "http" })
        }
        (None, None) => url.clone(),
    };
    let identity_pem = match (&args.client_cert, &args.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            Some(pem)
        }
        _ => None,
    };
    let shared_key = args
        .shared_key
        .clone()
        .or_else(|| channel.shared_key.as_ref().map(|key| key.expose().to_owned()))
        .map(|key| (channel.shared_key_header.clone(), key));
    let credentials = ChannelCredentials {
        identity_pem,
        ca_pem: args.ca.as_deref().map(read).transpose()?,
        shared_key,
    };
    Ok(NodeSimulator::with_channel(
        &url,
        &node_url,
        args.broker.as_deref().unwrap_or(&config.pagopa.broker_id),
        args.station.as_deref().unwrap_or(&config.pagopa.station_id),
        &credentials,
    )?)
}

async fn operators(config: &Config, command: OperatorsCommand) -> anyhow::Result<()> {
    let db = Db::connect_and_migrate(&config.database_url()).await?;
    let municipalities = Municipalities::load(&db).await?;
    let directory = Directory::new(db.clone());
    match command {
        OperatorsCommand::Grant(args) => {
            let (fiscal_code, role) = parse_role(&args)?;
            ensure_municipality(&municipalities, &role)?;
            let new = directory.grant(&fiscal_code, &role, "cli").await?;
            println!(
                "{} {role} for {fiscal_code}",
                if new { "granted" } else { "already had" }
            );
        }
        OperatorsCommand::Revoke(args) => {
            let (fiscal_code, role) = parse_role(&args)?;
            let existed = directory.revoke(&fiscal_code, &role).await?;
            anyhow::ensure!(existed, "{fiscal_code} does not have the role {role}");
            println!("revoked {role} from {fiscal_code}");
        }
        OperatorsCommand::List { municipality } => {
            let municipality = municipality.map(|m| IstatCode::parse(&m)).transpose()?;
            let grants = directory.grants(municipality.as_ref(), 100_000).await?;
            for grant in grants {
                println!(
                    "{}\t{}\t{}\t{}",
                    grant.fiscal_code,
                    grant.role,
                    grant.granted_by,
                    sportello_server::clock::rfc3339_from_ms(grant.granted_at)
                );
            }
        }
    }
    Ok(())
}

async fn permits_command(config: &Config, command: PermitsCommand) -> anyhow::Result<()> {
    let db = Db::connect_and_migrate(&config.database_url()).await?;
    let municipalities = std::sync::Arc::new(Municipalities::load(&db).await?);
    let notifier = std::sync::Arc::new(
        Notifier::new(
            db.clone(),
            config.notify.clone(),
            std::sync::Arc::clone(&municipalities),
        )
        .await?,
    );
    let permits = Permits::new(
        db.clone(),
        config.permits.clone(),
        &config.data_dir,
        notifier,
        municipalities,
    );
    match command {
        PermitsCommand::Sweep { now } => {
            let now_ms = match now {
                Some(text) => text
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| anyhow::anyhow!("--now {text}: {e}"))?
                    .as_millisecond(),
                None => permits.now_ms(),
            };
            let report = permits
                .sweep(now_ms)
                .await
                .map_err(|e| anyhow::anyhow!("sweep failed: {e}"))?;
            println!(
                "examined {}, silent approvals recorded {}, warnings: due soon {}, overdue {}",
                report.examined, report.matured, report.warned_due_soon, report.warned_overdue
            );
        }
        PermitsCommand::Catalogue {
            municipality,
            file,
            remove,
        } => {
            let code = IstatCode::parse(&municipality)?;
            let text = match (&file, remove) {
                (Some(path), false) => Some(
                    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                ),
                _ => None,
            };
            permits
                .set_catalogue_override(&code, text.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}",
                if text.is_some() {
                    "catalogue overrides set"
                } else {
                    "catalogue overrides removed"
                }
            );
        }
    }
    db.close().await;
    Ok(())
}

async fn catalog_command(config: &Config, command: CatalogCommand) -> anyhow::Result<()> {
    let db = Db::connect_and_migrate(&config.database_url()).await?;
    Municipalities::load(&db).await?;
    let collection = catalog::Collection::new(db.clone());
    match command {
        CatalogCommand::Import(args) => {
            let library = collection.library(&args.library).await?.ok_or_else(|| {
                anyhow::anyhow!(
                    "no library `{}` (see `sportello catalog libraries`)",
                    args.library
                )
            })?;
            let mut map = Vec::new();
            for pair in &args.map {
                let (code, target) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--map {pair}: expected CODE=LIBRARY_ID"))?;
                let target = collection
                    .library(target)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("--map {pair}: no library `{target}`"))?;
                map.push((code.to_owned(), target));
            }
            let options =
                catalog::import_options(library, Some(&args.format), args.holdings.as_deref(), &map)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let files: Vec<_> = args
                .files
                .iter()
                .map(|path| {
                    anyhow::ensure!(path.is_file(), "{} is not a readable file", path.display());
                    Ok((path.clone(), path.display().to_string()))
                })
                .collect::<anyhow::Result<_>>()?;
            let mut summary = sportello_core::api::ImportSummary::default();
            let started = std::time::Instant::now();
            collection
                .import(&options, &files, &mut summary)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for issue in &summary.issues {
                let id = issue
                    .control_number
                    .as_deref()
                    .map(|n| format!(" (001 {n})"))
                    .unwrap_or_default();
                eprintln!(
                    "{}: record {} at byte {}{id}: {}",
                    issue.file, issue.index, issue.offset, issue.reason
                );
            }
            if summary.issues_truncated {
                eprintln!("(more problems not listed)");
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "read {}, imported {}, updated {}, unchanged {}, deleted {}, skipped {}; copies {}, withdrawn {} ({seconds:.1} s)",
                summary.read,
                summary.imported,
                summary.updated,
                summary.unchanged,
                summary.deleted,
                summary.skipped,
                summary.copies,
                summary.withdrawn
            );
        }
        CatalogCommand::Reindex => {
            let (count, dir) = collection.rebuild_index(&config.data_dir).await?;
            println!("search index rebuilt: {count} records ({})", dir.display());
        }
        CatalogCommand::Libraries { municipality } => {
            let municipality = municipality.map(|m| IstatCode::parse(&m)).transpose()?;
            let libraries = collection
                .libraries(municipality.as_ref().map(IstatCode::as_str))
                .await?;
            for library in libraries {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    library.id,
                    library.municipality,
                    library.name,
                    library.address,
                    if library.demo { "\t(demo)" } else { "" }
                );
            }
        }
    }
    Ok(())
}

fn parse_role(args: &RoleArgs) -> anyhow::Result<(FiscalCode, Role)> {
    let fiscal_code = FiscalCode::parse(&args.fiscal_code)?;
    let role = if args.admin {
        Role::Admin
    } else {
        let municipality = args.municipality.as_deref().unwrap_or_default();
        let office = args.office.as_deref().unwrap_or_default();
        Role::Operator {
            municipality: IstatCode::parse(municipality)?,
            office: office.parse()?,
        }
    };
    Ok((fiscal_code, role))
}

fn ensure_municipality(municipalities: &Municipalities, role: &Role) -> anyhow::Result<()> {
    if let Role::Operator { municipality, .. } = role {
        anyhow::ensure!(
            municipalities.find(municipality).is_some(),
            "no municipality with ISTAT code {municipality} (see GET /v1/municipalities)"
        );
    }
    Ok(())
}

/// SIGTERM or SIGINT (Ctrl-C), as a future. The handlers are installed here, before the server
/// says it is listening: installed on the future's first poll instead, a SIGTERM sent as soon as
/// the first answer came could find none and kill the process (a test saw it under load).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
