//! Permits: applications filed by citizens (or a professional for them), worked by the permits
//! office of their municipality, with the legal clocks of core's catalogue.
//!
//! Core decides (status machine, clock, who may act); this service loads an application, asks
//! core, and stores the result: status, timeline entry and notifications in one transaction.
//! Every change takes the application's write lock first ([`store::lock_permit`]).
//!
//! This file holds the service and its configuration; each part of its work has its file:
//! [`loaded`] (an application as loaded and re-checked), [`access`] (who may see and act),
//! [`draft`] (creating and filling drafts, completeness), [`steps`] (taking a step and
//! telling the parties), [`fees`] (the hand-off to Payments), [`reads`] (one application, the
//! lists), [`documents`], [`sweep`] (deadlines), [`demo`]; [`wire`] maps to the API and
//! [`http`] serves it; [`store`] has the SQL.

mod access;
mod demo;
pub mod documents;
mod draft;
mod error;
pub mod fees;
pub mod http;
mod loaded;
mod messages;
mod reads;
mod steps;
pub mod store;
mod sweep;
pub mod wire;

pub use self::demo::load_demo;
pub use self::error::PermitError;
use self::error::invalid;
pub(crate) use self::loaded::{Loaded, load};
pub use self::reads::{MonthlyCount, PermitView, ProcedureCatalogue, QueueQuery, SummaryPage};
pub(crate) use self::steps::apply_step;
pub use self::sweep::SweepReport;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use sportello_core::permits::Catalogue;
use sportello_core::tenant::IstatCode;

use crate::clock::now_ms;
use crate::config::PermitsConfig;
use crate::db::Db;
use crate::notify::Notifier;
use crate::storage::Storage;
use crate::tenant::Municipalities;

/// How long permit pushes stay deliverable when the caller has no notifier config (fees).
pub const DEFAULT_PUSH_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

const MS_PER_DAY: i64 = 24 * 3600 * 1000;

fn internal(cause: impl std::fmt::Display) -> PermitError {
    PermitError::Internal(cause.to_string())
}

/// The permits service of one process.
pub struct Permits {
    db: Db,
    config: PermitsConfig,
    /// Where the documents are (`permits/ID/DOCUMENT` in the store).
    storage: Arc<Storage>,
    notifier: Arc<Notifier>,
    push_ttl_ms: i64,
    clock_offset_ms: AtomicI64,
    /// Opens pagoPA notices for fees that fall due (Payments); none: fees are only recorded.
    fee_notices: Option<Arc<dyn fees::FeeNotices>>,
    /// The municipalities served (whether one is large sets its terms).
    municipalities: Arc<Municipalities>,
}

impl Permits {
    /// The service; documents go under `data_dir/permits` until [`Self::with_storage`] says
    /// otherwise.
    pub fn new(
        db: Db,
        config: PermitsConfig,
        data_dir: &std::path::Path,
        notifier: Arc<Notifier>,
        municipalities: Arc<Municipalities>,
    ) -> Self {
        let offset = config.clock_offset_days.saturating_mul(MS_PER_DAY);
        Self {
            db,
            config,
            storage: Arc::new(Storage::local(data_dir.to_owned())),
            push_ttl_ms: notifier.ttl_ms(),
            notifier,
            clock_offset_ms: AtomicI64::new(offset),
            fee_notices: None,
            municipalities,
        }
    }

    /// Opens a pagoPA notice for every group of fees that falls due, in the step's
    /// transaction, and withdraws unpaid notices when an application leaves a payment state
    /// another way (see [`fees`]).
    #[must_use]
    pub fn with_fee_notices(mut self, notices: Arc<dyn fees::FeeNotices>) -> Self {
        self.fee_notices = Some(notices);
        self
    }

    /// Keeps the documents in `storage` (the configured store: the data directory or a bucket).
    #[must_use]
    pub fn with_storage(mut self, storage: Arc<Storage>) -> Self {
        self.storage = storage;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PermitsConfig {
        &self.config
    }

    /// Now, in stored milliseconds, as the permits clock sees it (see [`Self::set_clock_offset_ms`]).
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this process's permits clock by `offset_ms` from real time: how tests (and
    /// `permits.clock_offset_days` outside production) walk legal terms day by day through the
    /// HTTP API. Only ever moved forward in practice: timeline entries cannot go back in time.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.clock_offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, PermitError> {
        Ok(self.db.pool().acquire().await?)
    }

    /// Whether the municipality is served here and over 100,000 inhabitants.
    fn is_large(&self, municipality: &IstatCode) -> Result<bool, PermitError> {
        let found = self.municipalities.find(municipality).ok_or_else(|| {
            invalid(
                "municipality",
                format!("Nessun comune servito ha codice {municipality}."),
                format!("No municipality served here has code {municipality}."),
            )
        })?;
        Ok(found.is_large())
    }

    /// Sets (or removes) a municipality's catalogue overrides, after checking they parse.
    pub async fn set_catalogue_override(
        &self,
        municipality: &IstatCode,
        toml: Option<&str>,
    ) -> Result<(), PermitError> {
        if let Some(text) = toml {
            Catalogue::builtin_with(text).map_err(|e| invalid("catalogue", e.to_string(), e.to_string()))?;
        }
        let mut conn = self.conn().await?;
        store::set_catalogue_override(&mut conn, municipality.as_str(), toml, now_ms()).await?;
        Ok(())
    }
}
