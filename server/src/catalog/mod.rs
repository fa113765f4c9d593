//! Catalogue: libraries with their hours, imports of each library's MARC exports merged into one
//! record per edition, live availability, and full-text search over a derived index.
//!
//! The database is the source of truth. The search index (`index`) is rebuilt from it and kept
//! current by following `catalog_changes`; copy status is always read from the database.

pub mod daia;
mod error;
pub mod facets;
pub mod http;
pub mod import;
pub mod index;
pub mod search;
mod stemming;
pub mod store;
pub mod stored;

pub use self::error::CatalogError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sportello_core::api;
use sportello_core::catalog::availability::{self, CopyState};
use sportello_core::catalog::holdings::CopyStatus;
use sportello_core::catalog::hours::OpeningHours;
use sportello_core::catalog::record::BibRecord;
use sportello_core::geo::Coordinates;

use self::index::SearchIndex;
use self::store::LibraryRow;
pub use self::stored::{record_from_json, record_to_json};
use crate::db::Db;

/// Most libraries a list returns.
pub const LIBRARY_LIST_LIMIT: i64 = 500;
/// Most copies listed per library in an availability answer.
const COPIES_PER_LIBRARY: usize = 200;
/// How long the in-memory library table may be stale (other instances' edits).
const LIBRARY_CACHE_TTL: Duration = Duration::from_secs(10);

/// The library table as the catalogue reads it: rows by id, with each library's opening hours
/// parsed once per load rather than once per search hit.
#[derive(Debug, Default)]
pub struct Libraries {
    rows: HashMap<String, LibraryRow>,
    hours: HashMap<String, OpeningHours>,
}

impl Libraries {
    fn new(rows: Vec<LibraryRow>) -> Self {
        let hours = rows.iter().map(|l| (l.id.clone(), hours_of(l))).collect();
        let rows = rows.into_iter().map(|l| (l.id.clone(), l)).collect();
        Self { rows, hours }
    }

    /// The library with this id.
    pub fn get(&self, id: &str) -> Option<&LibraryRow> {
        self.rows.get(id)
    }

    /// Every library.
    pub fn values(&self) -> impl Iterator<Item = &LibraryRow> {
        self.rows.values()
    }

    /// The opening hours of a library of this table (always-closed hours for an unknown id).
    pub fn hours(&self, id: &str) -> std::borrow::Cow<'_, OpeningHours> {
        self.hours.get(id).map_or_else(
            || std::borrow::Cow::Owned(OpeningHours::default()),
            std::borrow::Cow::Borrowed,
        )
    }
}

/// The cached library table.
pub type LibraryMap = Arc<Libraries>;

/// The catalogue service: the search index and a cache of the library table.
pub struct Catalog {
    index: SearchIndex,
    libraries: RwLock<Option<(Instant, LibraryMap)>>,
    answers: search::AnswerCache,
    facets: Arc<facets::FacetCache>,
}

impl Catalog {
    /// Opens (or rebuilds) the index in `data_dir/catalog-index` and brings it up to date.
    pub async fn open(db: &Db, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let index = SearchIndex::open(&data_dir.join("catalog-index"))?;
        let catalog = Self {
            index,
            libraries: RwLock::new(None),
            answers: search::AnswerCache::default(),
            facets: Arc::new(facets::FacetCache::new(search::FACET_FIELDS)),
        };
        catalog.index.sync(db).await?;
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

    /// The library table, cached for a few seconds.
    pub async fn libraries(&self, db: &Db) -> Result<LibraryMap, CatalogError> {
        if let Ok(guard) = self.libraries.read()
            && let Some((loaded, map)) = guard.as_ref()
            && loaded.elapsed() < LIBRARY_CACHE_TTL
        {
            return Ok(map.clone());
        }
        let rows = store::list_libraries(db, None, 100_000).await?;
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

    /// Creates or replaces a library after validating it.
    pub async fn put_library(&self, db: &Db, library: LibraryRow) -> Result<(), CatalogError> {
        store::upsert_library(db, &library).await?;
        self.invalidate_libraries();
        Ok(())
    }

    /// Libraries, nearest first when `near` is given.
    pub async fn list_libraries(
        &self,
        db: &Db,
        municipality: Option<&str>,
        near: Option<Coordinates>,
        limit: usize,
    ) -> Result<Vec<api::Library>, CatalogError> {
        let now = jiff::Timestamp::now();
        let mut rows = store::list_libraries(db, municipality, LIBRARY_LIST_LIMIT).await?;
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

    /// Where a record's copies are, per library, nearest first when `near` is given.
    pub async fn availability(
        &self,
        db: &Db,
        record_id: &str,
        near: Option<Coordinates>,
    ) -> Result<api::RecordAvailability, CatalogError> {
        let row = store::get_record(db, record_id)
            .await?
            .ok_or_else(|| CatalogError::RecordNotFound(record_id.to_owned()))?;
        let record = record_from_json(&row.data)
            .ok_or_else(|| CatalogError::Internal(format!("record {record_id}: stored data unreadable")))?;
        let libraries = self.libraries(db).await?;
        let copies = store::copies_of_records(db, std::slice::from_ref(&row.id), 100_000).await?;
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
                        .map(|c| api::CopyInfo {
                            item_id: c.item_id.clone(),
                            shelf_mark: c.shelf_mark.clone(),
                            status: c.status.clone(),
                            due_date: c.due_date.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            result.push(api::LibraryHoldings {
                library_id: library.id.clone(),
                library_name: library.name.clone(),
                municipality: library.municipality.clone(),
                address: library.address.clone(),
                lat: library.lat,
                lon: library.lon,
                distance_km: distance.map(round_km),
                open_now: hours.open_now,
                next_opening: hours.next_opening.map(|t| t.to_string()),
                on_shelf: count.on_shelf,
                on_loan: count.on_loan,
                in_transit: count.in_transit,
                reference_only: count.reference_only,
                unknown: count.unknown,
                earliest_due: count.earliest_due,
                copies,
            });
        }
        Ok(api::RecordAvailability {
            record: to_wire(&row.id, &record),
            libraries: result,
        })
    }

    /// Sets a copy's live status (from the library's circulation system).
    pub async fn set_copy_status(
        &self,
        db: &Db,
        municipality: &str,
        library_id: &str,
        item_id: &str,
        update: &api::CopyStatusUpdate,
    ) -> Result<(), CatalogError> {
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
        store::set_copy_status(db, municipality, library_id, item_id, status.as_str(), due_date)
            .await?
            .ok_or_else(|| CatalogError::RecordNotFound(format!("{library_id}/{item_id}")))?;
        self.index
            .sync(db)
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        Ok(())
    }
}

/// Validates a library sent by an operator or loaded as demo data.
pub fn validate_library(
    id: &str,
    municipality: &str,
    input: api::LibraryInput,
    demo: bool,
) -> Result<LibraryRow, CatalogError> {
    let id_ok = (2..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if !id_ok {
        return Err(CatalogError::invalid(
            "id",
            "Identificativo: 2-64 caratteri tra a-z, 0-9 e '-'.",
            "Id: 2-64 characters among a-z, 0-9 and '-'.",
        ));
    }
    Coordinates::new(input.lat, input.lon).map_err(|e| {
        CatalogError::invalid(
            "lat/lon",
            format!("Coordinate non valide: {e}"),
            format!("Invalid coordinates: {e}"),
        )
    })?;
    OpeningHours::parse(&input.opening_hours, &input.closures).map_err(|e| {
        CatalogError::invalid(
            "opening_hours",
            format!("Orari non validi: {e}"),
            format!("Invalid hours: {e}"),
        )
    })?;
    let too_long = [
        &input.name,
        &input.address,
        &input.postal_code,
        &input.opening_hours,
    ]
    .iter()
    .any(|s| s.len() > 1000)
        || input.services.len() > 100
        || input.codes.len() > 100
        || input.closures.len() > 400;
    if input.name.trim().is_empty() || too_long {
        return Err(CatalogError::invalid(
            "name",
            "Nome obbligatorio; testi e liste entro i limiti.",
            "A name is required; texts and lists within limits.",
        ));
    }
    let words = |list: Vec<String>| -> Vec<String> {
        list.iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    };
    Ok(LibraryRow {
        id: id.to_owned(),
        municipality: municipality.to_owned(),
        name: input.name.trim().to_owned(),
        address: input.address.trim().to_owned(),
        postal_code: input.postal_code.trim().to_owned(),
        lat: input.lat,
        lon: input.lon,
        phone: input.phone,
        email: input.email,
        website: input.website,
        services: words(input.services),
        codes: words(input.codes),
        opening_hours: input.opening_hours,
        closures: input
            .closures
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
        demo,
    })
}

/// The opening hours of a stored library; hours that no longer parse count as "always closed"
/// rather than failing the request (they were validated on the way in).
pub fn hours_of(library: &LibraryRow) -> OpeningHours {
    OpeningHours::parse(&library.opening_hours, &library.closures).unwrap_or_default()
}

/// Distances are shown to 10 m.
pub fn round_km(km: f64) -> f64 {
    (km * 100.0).round() / 100.0
}

fn library_to_wire(row: &LibraryRow, now: jiff::Timestamp, distance: Option<f64>) -> api::Library {
    let status = hours_of(row).status_at(now);
    api::Library {
        id: row.id.clone(),
        municipality: row.municipality.clone(),
        name: row.name.clone(),
        address: row.address.clone(),
        postal_code: row.postal_code.clone(),
        lat: row.lat,
        lon: row.lon,
        phone: row.phone.clone(),
        email: row.email.clone(),
        website: row.website.clone(),
        services: row.services.clone(),
        codes: row.codes.clone(),
        opening_hours: row.opening_hours.clone(),
        closures: row.closures.clone(),
        open_now: status.open_now,
        closes_at: status.closes_at.map(|t| t.to_string()),
        next_opening: status.next_opening.map(|t| t.to_string()),
        distance_km: distance.map(round_km),
        demo: row.demo,
    }
}

/// A copy's live state from its stored columns (an unknown status reads as unknown).
pub(crate) fn copy_state(library_id: String, status: &str, due_date: Option<String>) -> CopyState {
    CopyState {
        library_id,
        status: CopyStatus::parse(status).unwrap_or(CopyStatus::Unknown),
        due_date,
    }
}

/// A normalised record as the API shows it.
pub fn to_wire(id: &str, record: &BibRecord) -> api::CatalogRecord {
    api::CatalogRecord {
        id: id.to_owned(),
        title: record.title.clone(),
        subtitle: record.subtitle.clone(),
        authors: record
            .authors
            .iter()
            .map(|a| api::Contributor {
                name: a.name.clone(),
                role: a.role.as_str().to_owned(),
            })
            .collect(),
        isbns: record.isbns.iter().map(ToString::to_string).collect(),
        publisher: record.publisher.clone(),
        year: record.year,
        language: record.language.clone(),
        subjects: record.subjects.clone(),
        format: record.format.as_str().to_owned(),
        series: record.series.clone(),
        identifiers: record
            .identifiers
            .iter()
            .map(|i| api::RecordIdentifier {
                scheme: i.scheme.clone(),
                value: i.value.clone(),
            })
            .collect(),
    }
}
