//! Sportello server: the HTTP API, storage and background work around `sportello-core`.

pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod identity;
pub mod notify;
pub mod pagination;
pub mod payments;
pub mod permits;
pub mod tenant;
pub mod upload;

use std::future::Future;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::catalog::index::Commit;
use crate::config::Config;
use crate::db::Db;
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
        let payments = Arc::new(Payments::new(&config.pagopa)?);
        if config.demo {
            demo::load_payments(&db, &payments).await?;
            demo::load(&db, Some(payments.as_ref())).await?;
        }
        let identity = Identity::new(&db, &config).await?;
        let notifier = Notifier::new(db.clone(), config.notify.clone()).await?;
        let catalog = Arc::new(Catalog::open(&db, &config.data_dir).await?);
        let notifier = Arc::new(notifier);
        let permits = Arc::new(
            Permits::new(
                db.clone(),
                config.permits.clone(),
                &config.data_dir,
                Arc::clone(&notifier),
                Arc::clone(&municipalities),
            )
            .with_fee_notices(Arc::clone(&payments) as Arc<dyn permits::fees::FeeNotices>),
        );
        Ok(Self {
            municipalities,
            notifier,
            permits,
            db,
            config: Arc::new(config),
            identity: Arc::new(identity),
            catalog,
            payments,
            metrics: http::ops::metrics_handle(),
        })
    }
}

/// Keeps this instance's search index current with catalogue changes made anywhere (other
/// instances, the CLI), until `stop` resolves.
async fn follow_catalog_changes(state: AppState, stop: tokio::sync::watch::Receiver<bool>) {
    let mut stop = stop;
    let period = std::time::Duration::from_millis(state.config.catalog.index_poll_ms);
    loop {
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = stop.changed() => return,
        }
        match state.catalog.index().sync_with(&state.db, Commit::Batched).await {
            // Caught up: read the segments that background merges made since the last
            // commit, and decode the facets of new segments now rather than in the next
            // search. Not while changes stream in (a bulk import), when segments come and go
            // by the second and searches decode the ones they reach.
            Ok(0) => {
                if let Err(error) = state.catalog.read_merged_segments().await {
                    tracing::warn!(%error, "search index reload failed; retrying");
                }
                state.catalog.warm_facets().await;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "search index update failed; retrying"),
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
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
    let follower = tokio::spawn(follow_catalog_changes(state.clone(), stopped));
    let app = http::router(state);
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    // Let the delivery worker finish the round in hand, the index follower and the permits
    // sweep stop, then close the pool.
    let _ = stop.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    let _ = follower.await;
    if let Some(sweeper) = sweeper {
        let _ = sweeper.await;
    }
    db.close().await;
    served.map_err(Into::into)
}
