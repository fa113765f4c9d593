//! Sportello server: the HTTP API, storage and background work around `sportello-core`.

pub mod alerts;
pub mod backup;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod events;
pub mod http;
pub mod identity;
pub mod notify;
pub mod opendata;
pub mod pagination;
pub mod payments;
pub mod permits;
pub mod storage;
pub mod tenant;
pub mod upload;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::alerts::Alerts;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::Db;
use crate::events::Events;
use crate::identity::Identity;
use crate::notify::Notifier;
use crate::payments::Payments;
use crate::permits::Permits;
use crate::tenant::Municipalities;

/// Shared state of the request handlers.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub municipalities: Arc<Municipalities>,
    pub identity: Arc<Identity>,
    pub notifier: Arc<Notifier>,
    pub catalog: Arc<Catalog>,
    pub permits: Arc<Permits>,
    pub payments: Arc<Payments>,
    pub rate_limits: Arc<http::rate_limit::RateLimits>,
    pub events: Arc<Events>,
    pub opendata: Arc<opendata::OpenData>,
    pub alerts: Arc<Alerts>,
    pub metrics: PrometheusHandle,
}

impl AppState {
    /// Connects, migrates, loads reference (and, if asked, demo) data and the identity keys.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create data directory {}: {e}", config.data_dir.display())
        })?;
        let db = Db::connect_and_migrate(&config.database_url()).await?;
        let municipalities = Arc::new(Municipalities::load(&db).await?);
        tracing::info!(
            backend = db.backend().as_str(),
            municipalities = municipalities.all().len(),
            "database ready"
        );
        // Payments first: Permits hands it the fees that fall due (permits::fees::FeeNotices).
        // The demo positions before the demo applications, so their notice numbers are the ones
        // the README lists.
        let payments = Arc::new(Payments::new(db.clone(), &config.pagopa, &municipalities)?);
        if config.demo {
            demo::load_payments(&payments).await?;
            demo::load(&db, Some(payments.as_ref())).await?;
        }
        let identity = Identity::new(db.clone(), &config).await?;
        let notifier = Notifier::new(db.clone(), config.notify.clone(), Arc::clone(&municipalities)).await?;
        let catalog = Arc::new(
            Catalog::open(
                db.clone(),
                config.catalog.clone(),
                &config.data_dir,
                Arc::clone(&municipalities),
            )
            .await?,
        );
        let notifier = Arc::new(notifier);
        let events = Arc::new(
            Events::new(
                db.clone(),
                Arc::clone(&municipalities),
                Arc::clone(&catalog),
                config.events.clone(),
            )
            .with_notifier(Arc::clone(&notifier)),
        );
        if config.demo {
            demo::load_events(&events).await?;
        }
        let alerts = Arc::new(Alerts::new(
            db.clone(),
            Arc::clone(&municipalities),
            Arc::clone(&notifier),
            config.public_url(),
        )?);
        if config.demo {
            demo::load_alerts(&alerts).await?;
        }
        let filled = events.fill_vectors().await?;
        if filled > 0 {
            tracing::info!(
                filled,
                "event places given the unit vector search near a point ranks by"
            );
        }
        let extended = events.extend_horizons().await?;
        tracing::info!(extended, "event occurrences materialised up to the horizon");
        let storage = storage::Storage::open(&config.storage, config.data_dir.clone()).await?;
        let permits = Arc::new(
            Permits::new(
                db.clone(),
                config.permits.clone(),
                &config.data_dir,
                Arc::clone(&notifier),
                Arc::clone(&municipalities),
            )
            .with_storage(storage)
            .with_fee_notices(Arc::clone(&payments) as Arc<dyn permits::fees::FeeNotices>),
        );
        let opendata = Arc::new(opendata::OpenData::new(
            Arc::clone(&municipalities),
            Arc::clone(&catalog),
            Arc::clone(&events),
            Arc::clone(&permits),
            config.opendata.clone(),
            config.public_url(),
        ));
        let rate_limits = Arc::new(http::rate_limit::RateLimits::new(&config.rate_limits));
        Ok(Self {
            municipalities,
            notifier,
            permits,
            db,
            config: Arc::new(config),
            identity: Arc::new(identity),
            catalog,
            payments,
            rate_limits,
            events,
            opendata,
            alerts,
            metrics: http::ops::metrics_handle(),
        })
    }
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
/// When `pagopa.channel.listen` is set, the pagoPA Node's endpoint is served on its own listener
/// beside it (`pagopa`, or bound from the configuration when `None`) and stops with it.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    pagopa: Option<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // First, so a channel that cannot start (certificates, address) stops the server before
    // anything runs.
    let channel = payments::channel::Channel::prepare(&state, pagopa).await?;
    let (quit, quitting) = tokio::sync::watch::channel(false);
    let channel = channel.map(|channel| tokio::spawn(channel.serve(quitting)));
    let shutdown = async move {
        shutdown.await;
        let _ = quit.send(true);
    };
    let db = state.db.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = state
        .config
        .notify
        .worker
        .then(|| tokio::spawn(Arc::clone(&state.notifier).run(stopped.clone())));
    let sweeper = state
        .config
        .permits
        .sweep
        .then(|| tokio::spawn(Arc::clone(&state.permits).run_sweeps(stopped.clone())));
    let reminders = state
        .config
        .events
        .reminders
        .then(|| tokio::spawn(Arc::clone(&state.events).run_reminders(stopped.clone())));
    let follower = tokio::spawn(Arc::clone(&state.catalog).follow_changes(stopped));
    let limits = http::listener::ConnectionLimits::from_config(&state.config.http);
    let app = http::router(state);
    let served = http::listener::serve(listener, app, limits, shutdown).await;
    if let Some(channel) = channel {
        let _ = channel.await;
    }
    // Let the delivery worker finish the round in hand, the index follower, the permits sweep
    // and the event reminders stop, then close the pool.
    let _ = stop.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    let _ = follower.await;
    if let Some(sweeper) = sweeper {
        let _ = sweeper.await;
    }
    if let Some(reminders) = reminders {
        let _ = reminders.await;
    }
    db.close().await;
    served.map_err(Into::into)
}
