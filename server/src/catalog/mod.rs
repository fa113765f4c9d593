//! Catalogue: libraries with their hours, imports of each library's MARC exports merged into one
//! record per edition, live availability, and full-text search over a derived index.
//!
//! The database is the source of truth. The search index (`index`) is rebuilt from it and kept
//! current by following `catalog_changes`; copy status is always read from the database.

mod collection;
pub mod daia;
mod error;
pub mod facets;
pub mod http;
pub mod import;
pub mod index;
mod libraries;
pub mod search;
mod stemming;
pub mod store;
pub mod stored;
mod wire;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::Stream;
use sportello_core::api;
use sportello_core::catalog::availability::{self, CopyState};
use sportello_core::catalog::holdings::CopyStatus;
use sportello_core::catalog::record::BibRecord;
use sportello_core::geo::Coordinates;
use sportello_core::tenant::IstatCode;

pub use self::collection::{Collection, import_options};
pub use self::error::CatalogError;
use self::index::{Commit, SearchIndex};
pub use self::libraries::{Libraries, LibraryMap, hours_of, validate_library};
use self::search::SearchRequest;
use self::store::LibraryRow;
pub use self::stored::{record_from_json, record_to_json};
use self::wire::library_to_wire;
pub use self::wire::to_wire;
use crate::config::CatalogConfig;
use crate::db::Db;
use crate::tenant::Municipalities;
use crate::upload;

/// Most libraries a list returns.
pub const LIBRARY_LIST_LIMIT: i64 = 500;
/// Most copies listed per library in an availability answer.
const COPIES_PER_LIBRARY: usize = 200;
/// How long the in-memory library table may be stale (other instances' edits).
const LIBRARY_CACHE_TTL: Duration = Duration::from_secs(10);

/// The catalogue service: owns its database and settings, the search index and a cache of the
/// library table; the handlers, the index follower and the CLI go through it (the CLI through
/// its index-free half, [`Collection`]).
pub struct Catalog {
    db: Db,
    config: CatalogConfig,
    /// Where uploaded exports wait while they are imported.
    uploads: PathBuf,
    municipalities: Arc<Municipalities>,
    collection: Collection,
    index: SearchIndex,
    libraries: RwLock<Option<(Instant, LibraryMap)>>,
    answers: search::AnswerCache,
    facets: Arc<facets::FacetCache>,
}

/// An operator's import as sent: see `http::ImportQuery`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportRequest<'a> {
    /// `auto` (default), `marc21`, `unimarc`, `marcxml`.
    pub format: Option<&'a str>,
    /// Holdings presets to try, comma-separated.
    pub holdings: Option<&'a str>,
    /// Source library codes of other libraries of the municipality, `CODE:library-id,…`.
    pub map: Option<&'a str>,
}

/// Where the search index lives in a data directory.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("catalog-index")
}

impl Catalog {
    /// Opens (or rebuilds) the index in `data_dir/catalog-index` and brings it up to date.
    pub async fn open(
        db: Db,
        config: CatalogConfig,
        data_dir: &Path,
        municipalities: Arc<Municipalities>,
    ) -> anyhow::Result<Self> {
        let index = SearchIndex::open(&index_dir(data_dir))?;
        let catalog = Self {
            collection: Collection::new(db.clone()),
            db,
            config,
            uploads: data_dir.join("uploads"),
            municipalities,
            index,
            libraries: RwLock::new(None),
            answers: search::AnswerCache::default(),
            facets: Arc::new(facets::FacetCache::new(search::FACET_FIELDS)),
        };
        catalog.index.sync(&catalog.db).await?;
        Ok(catalog)
    }

    /// The search index.
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// Recent answers of the search index, per index generation.
    pub fn answers(&self) -> &search::AnswerCache {
        &self.answers
    }

    /// The facet values of the index segments, decoded once per segment.
    pub fn facets(&self) -> Arc<facets::FacetCache> {
        Arc::clone(&self.facets)
    }

    /// Decodes the facet values of index segments no search has reached yet (see
    /// [`facets::FacetCache::warm`]), off the async threads.
    pub async fn warm_facets(&self) {
        let (facets, searcher) = (self.facets(), self.index.searcher());
        if let Err(error) = tokio::task::spawn_blocking(move || facets.warm(&searcher)).await {
            tracing::warn!(%error, "facet warm-up failed");
        }
    }

    /// Moves searches onto the segments background merges made since the last reload, once
    /// their facet values are decoded: a search reaching an undecoded segment decodes it, and a
    /// merged segment may hold most of the catalogue (every search arriving meanwhile waits).
    pub async fn read_merged_segments(&self) -> anyhow::Result<()> {
        let Some(merged) = self.index.merged_segments()? else {
            return Ok(());
        };
        let (facets, current) = (self.facets(), self.index.searcher());
        tokio::task::spawn_blocking(move || facets.warm_ahead(&current, &merged)).await?;
        self.index.reload()
    }

    /// Keeps the search index current with catalogue changes made anywhere (other instances,
    /// the CLI), every `index_poll_ms`, until `stop` changes.
    pub async fn follow_changes(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let period = Duration::from_millis(self.config.index_poll_ms);
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
            match self.index.sync_with(&self.db, Commit::Batched).await {
                // Caught up: read the segments that background merges made since the last
                // commit, and decode the facets of new segments now rather than in the next
                // search. Not while changes stream in (a bulk import), when segments come and go
                // by the second and searches decode the ones they reach.
                Ok(0) => {
                    if let Err(error) = self.read_merged_segments().await {
                        tracing::warn!(%error, "search index reload failed; retrying");
                    }
                    self.warm_facets().await;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "search index update failed; retrying"),
            }
        }
    }

    /// Applies the changes made so far to the search index and commits them, so that the
    /// caller's own writes are searchable when it answers.
    async fn sync_index(&self) -> Result<(), CatalogError> {
        self.index
            .sync(&self.db)
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        Ok(())
    }

    /// The library table, cached for a few seconds.
    pub async fn libraries(&self) -> Result<LibraryMap, CatalogError> {
        if let Ok(guard) = self.libraries.read()
            && let Some((loaded, map)) = guard.as_ref()
            && loaded.elapsed() < LIBRARY_CACHE_TTL
        {
            return Ok(map.clone());
        }
        let rows = self.collection.libraries(None).await?;
        let map = Arc::new(Libraries::new(rows));
        if let Ok(mut guard) = self.libraries.write() {
            *guard = Some((Instant::now(), map.clone()));
        }
        Ok(map)
    }

    /// Forgets the cached library table (after a local edit).
    pub fn invalidate_libraries(&self) {
        if let Ok(mut guard) = self.libraries.write() {
            *guard = None;
        }
    }

    /// One library, with whether it is open now.
    pub async fn library(&self, id: &str) -> Result<api::Library, CatalogError> {
        let row = self
            .collection
            .library(id)
            .await?
            .ok_or_else(|| CatalogError::LibraryNotFound(id.to_owned()))?;
        Ok(library_to_wire(&row, jiff::Timestamp::now(), None))
    }

    /// The library `id` of a municipality: `None` if there is none, and another municipality's
    /// library looks like no library at all (`LibraryNotFound`).
    async fn municipal_library(
        &self,
        municipality: &IstatCode,
        id: &str,
    ) -> Result<Option<LibraryRow>, CatalogError> {
        match self.collection.library(id).await? {
            Some(library) if library.municipality != municipality.as_str() => {
                Err(CatalogError::LibraryNotFound(id.to_owned()))
            }
            library => Ok(library),
        }
    }

    /// As [`Catalog::municipal_library`], for a library that must exist.
    async fn existing_library(&self, municipality: &IstatCode, id: &str) -> Result<LibraryRow, CatalogError> {
        self.municipal_library(municipality, id)
            .await?
            .ok_or_else(|| CatalogError::LibraryNotFound(id.to_owned()))
    }

    /// Creates or updates a library of a municipality served here, after validating it; a
    /// library loaded as demo data stays marked as such.
    pub async fn put_library(
        &self,
        municipality: &IstatCode,
        id: &str,
        input: api::LibraryInput,
    ) -> Result<api::Library, CatalogError> {
        let existing = self.municipal_library(municipality, id).await?;
        self.municipalities.require_code(municipality)?;
        let demo = existing.is_some_and(|l| l.demo);
        let row = validate_library(id, municipality.as_str(), input, demo)?;
        self.collection.put_library(&row).await?;
        self.invalidate_libraries();
        self.library(id).await
    }

    /// Libraries, nearest first when `near` is given.
    pub async fn list_libraries(
        &self,
        municipality: Option<&str>,
        near: Option<Coordinates>,
        limit: usize,
    ) -> Result<Vec<api::Library>, CatalogError> {
        let now = jiff::Timestamp::now();
        let mut rows = store::list_libraries(&self.db, municipality, LIBRARY_LIST_LIMIT).await?;
        let distances = match near {
            Some(from) => {
                availability::nearest_first(&mut rows, from, |l| Coordinates::new(l.lat, l.lon).ok())
            }
            None => vec![None; rows.len()],
        };
        Ok(rows
            .iter()
            .zip(distances)
            .take(limit)
            .map(|(row, distance)| library_to_wire(row, now, distance))
            .collect())
    }

    /// Searches the catalogue; each hit carries its live availability.
    pub async fn search(&self, request: &SearchRequest) -> Result<api::SearchResults, CatalogError> {
        search::search(self, &self.db, request).await
    }

    /// A stored record, read back.
    async fn stored_record(&self, id: &str) -> Result<(String, BibRecord), CatalogError> {
        let row = store::get_record(&self.db, id)
            .await?
            .ok_or_else(|| CatalogError::RecordNotFound(id.to_owned()))?;
        let record = record_from_json(&row.data)
            .ok_or_else(|| CatalogError::Internal(format!("record {id}: stored data unreadable")))?;
        Ok((row.id, record))
    }

    /// One catalogue record.
    pub async fn record(&self, id: &str) -> Result<api::CatalogRecord, CatalogError> {
        let (id, record) = self.stored_record(id).await?;
        Ok(to_wire(&id, &record))
    }

    /// Where a record's copies are, per library, nearest first when `near` is given.
    pub async fn availability(
        &self,
        record_id: &str,
        near: Option<Coordinates>,
    ) -> Result<api::RecordAvailability, CatalogError> {
        let (record_id, record) = self.stored_record(record_id).await?;
        let libraries = self.libraries().await?;
        let copies = store::copies_of_records(&self.db, std::slice::from_ref(&record_id), 100_000).await?;
        let now = jiff::Timestamp::now();
        let mut by_library: HashMap<&str, Vec<&store::CopyView>> = HashMap::new();
        for copy in &copies {
            by_library.entry(copy.library_id.as_str()).or_default().push(copy);
        }
        let states: Vec<CopyState> = copies
            .iter()
            .map(|c| copy_state(c.library_id.clone(), &c.status, c.due_date.clone()))
            .collect();
        let mut counts = availability::summarise(&states, 10_000);
        let distances = if let Some(from) = near {
            availability::nearest_first(&mut counts, from, |c| {
                libraries
                    .get(&c.library_id)
                    .and_then(|l| Coordinates::new(l.lat, l.lon).ok())
            })
        } else {
            // Without a position: libraries with a copy to take first, then by name.
            counts.sort_by_key(|c| {
                (
                    !c.available(),
                    libraries
                        .get(&c.library_id)
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                )
            });
            vec![None; counts.len()]
        };
        let mut result = Vec::with_capacity(counts.len());
        for (count, distance) in counts.into_iter().zip(distances) {
            let Some(library) = libraries.get(&count.library_id) else {
                continue;
            };
            let hours = libraries.hours(&library.id).status_at(now);
            let copies = by_library
                .get(count.library_id.as_str())
                .map(|list| {
                    list.iter()
                        .take(COPIES_PER_LIBRARY)
                        .map(|c| wire::copy_to_wire(c))
                        .collect()
                })
                .unwrap_or_default();
            result.push(wire::holdings_to_wire(library, &count, &hours, distance, copies));
        }
        Ok(api::RecordAvailability {
            record: to_wire(&record_id, &record),
            libraries: result,
        })
    }

    /// Imports a MARC export into a library of the municipality: the upload is streamed to a
    /// file (the readers then stream it again, so memory stays flat), imported, and indexed
    /// before the answer. Bad records are skipped and listed; re-importing is idempotent.
    pub async fn import<S, E>(
        &self,
        municipality: &IstatCode,
        library_id: &str,
        request: ImportRequest<'_>,
        body: S,
    ) -> Result<api::ImportSummary, CatalogError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let library = self.existing_library(municipality, library_id).await?;
        let mut map = Vec::new();
        for pair in request
            .map
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .take(1000)
        {
            let (source_code, target) = pair.split_once(':').ok_or_else(|| {
                CatalogError::invalid(
                    "map",
                    "Formato: CODICE:id-biblioteca,…",
                    "Format: CODE:library-id,…",
                )
            })?;
            // Only libraries of the same municipality: an operator cannot write another's copies.
            let target = self
                .collection
                .library(target.trim())
                .await?
                .filter(|l| l.municipality == municipality.as_str())
                .ok_or_else(|| CatalogError::LibraryNotFound(target.trim().to_owned()))?;
            map.push((source_code.trim().to_owned(), target));
        }
        let options = import_options(library, request.format, request.holdings, &map)?;

        tokio::fs::create_dir_all(&self.uploads)
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        let path = self.uploads.join(format!("{}.upload", uuid::Uuid::now_v7()));
        let limits = upload::Limits::size(self.config.import_body_limit_bytes);
        let result = match upload::save(body, &path, &limits).await {
            Ok(_) => {
                let mut summary = api::ImportSummary::default();
                let files = [(path.clone(), "upload".to_owned())];
                let outcome = self.collection.import(&options, &files, &mut summary).await;
                outcome.map(|()| summary)
            }
            Err(error) => Err(CatalogError::from(error)),
        };
        let _ = tokio::fs::remove_file(&path).await;
        let summary = result?;
        self.sync_index().await?;
        tracing::info!(library = %library_id, read = summary.read, imported = summary.imported, updated = summary.updated,
            skipped = summary.skipped, "catalogue import");
        Ok(summary)
    }

    /// Sets the live status of a copy of a library of the municipality (from the library's
    /// circulation system).
    pub async fn set_copy_status(
        &self,
        municipality: &IstatCode,
        library_id: &str,
        item_id: &str,
        update: &api::CopyStatusUpdate,
    ) -> Result<(), CatalogError> {
        self.existing_library(municipality, library_id).await?;
        let status = CopyStatus::parse(&update.status).ok_or_else(|| {
            let all = CopyStatus::ALL.map(CopyStatus::as_str).join(", ");
            CatalogError::invalid(
                "status",
                format!("Stato non valido: uno tra {all}."),
                format!("Invalid status: one of {all}."),
            )
        })?;
        let due_date = match &update.due_date {
            Some(date) => {
                jiff::civil::Date::strptime("%Y-%m-%d", date).map_err(|_| {
                    CatalogError::invalid(
                        "due_date",
                        "Data non valida (AAAA-MM-GG).",
                        "Invalid date (YYYY-MM-DD).",
                    )
                })?;
                Some(date.as_str())
            }
            None => None,
        };
        let due_date = if status == CopyStatus::OnLoan {
            due_date
        } else {
            None
        };
        store::set_copy_status(
            &self.db,
            municipality.as_str(),
            library_id,
            item_id,
            status.as_str(),
            due_date,
        )
        .await?
        .ok_or_else(|| CatalogError::RecordNotFound(format!("{library_id}/{item_id}")))?;
        self.sync_index().await
    }
}

/// Distances are shown to 10 m.
pub fn round_km(km: f64) -> f64 {
    (km * 100.0).round() / 100.0
}

/// A copy's live state from its stored columns (an unknown status reads as unknown).
pub(crate) fn copy_state(library_id: String, status: &str, due_date: Option<String>) -> CopyState {
    CopyState {
        library_id,
        status: CopyStatus::parse(status).unwrap_or(CopyStatus::Unknown),
        due_date,
    }
}
