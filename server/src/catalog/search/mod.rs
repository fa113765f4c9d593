//! Catalogue search: validating the request, querying the index, and joining each hit with its
//! live availability from the database.
//!
//! Filters that depend on live status (`available=true`) or on where copies are
//! (`radius_km`, sorting by distance) cannot live in the index. For those the best
//! [`CANDIDATES`] index matches are checked against the database and filtered or sorted there;
//! the response's `total` then counts what was found among those candidates.

use std::collections::{HashMap, HashSet};

use sportello_core::api;
use sportello_core::catalog::availability::{self, CopyState};
use sportello_core::catalog::isbn::Isbn13;
use sportello_core::geo::Coordinates;
use tantivy::query::Query;

use super::store;
use super::{Catalog, CatalogError, LibraryMap, copy_state, round_km};
use crate::db::Db;

mod query;
mod request;

pub use self::query::AnswerCache;
use self::query::{
    EXPAND_BELOW, Expansion, IndexAnswer, IndexHit, Window, answer_key, build_query, run_index_query,
};
pub use self::request::{MAX_LIMIT, MAX_QUERY_CHARS, SearchRequest, Sort};

/// Most words of a query that are searched.
const MAX_TERMS: usize = 32;
/// Index matches checked live for `available`, `radius_km` and distance sorting.
pub const CANDIDATES: usize = 1000;

/// Runs a search.
#[allow(
    clippy::too_many_lines,
    reason = "index query, live filtering and paging read best in sequence"
)]
pub async fn search(
    catalog: &Catalog,
    db: &Db,
    request: &SearchRequest,
) -> Result<api::SearchResults, CatalogError> {
    let libraries = catalog.libraries().await?;
    // Libraries within the radius: an index filter, so far-away holdings do not even match.
    let in_radius: Option<HashSet<String>> = match (request.near, request.radius_km) {
        (Some(from), Some(radius)) => Some(
            libraries
                .values()
                .filter(|l| Coordinates::new(l.lat, l.lon).is_ok_and(|at| from.distance_km(at) <= radius))
                .map(|l| l.id.clone())
                .collect(),
        ),
        _ => None,
    };
    let index = catalog.index();
    let fields = *index.fields();
    let Some(exact) = build_query(&fields, request, in_radius.as_ref(), Expansion::Exact) else {
        return Ok(api::SearchResults {
            total: 0,
            items: Vec::new(),
            facets: api::Facets::default(),
            next_cursor: None,
        });
    };
    let compact: String = request.q.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    // An ISBN is looked up, not typed as words: widening it with typos would build
    // edit-distance-2 automata over 13 digits (the costliest query there is) to find other
    // books' numbers.
    let may_expand = !(request.q.is_empty() || Isbn13::parse(&compact).is_some());
    let searcher = index.searcher();
    let live = request.live_filtering();
    let window = if live {
        Window {
            offset: 0,
            limit: CANDIDATES,
        }
    } else {
        Window {
            offset: request.offset,
            limit: request.limit + 1,
        }
    };
    let sort = if request.sort == Sort::Relevance && !request.q.is_empty() {
        Sort::Relevance
    } else {
        Sort::Year
    };
    let key = answer_key(request, in_radius.as_ref(), window, sort);
    let generation = searcher.generation().generation_id();
    let answer = if let Some(answer) = catalog.answers().get(generation, &key) {
        answer
    } else {
        let facets = catalog.facets();
        let (request, in_radius) = (request.clone(), in_radius.clone());
        let answer = tokio::task::spawn_blocking(move || -> tantivy::Result<IndexAnswer> {
            let run = |query: &dyn Query| run_index_query(&searcher, &fields, &facets, query, window, sort);
            let answer = run(exact.as_ref())?;
            // Typo tolerance and prefixes widen the query only when the words as typed find
            // less than a page: they cost a scan of the term dictionary and a union over many
            // terms, and an exact hit list that long is what people want anyway. The rule
            // does not depend on the page, so paging stays consistent.
            if !may_expand || answer.count >= EXPAND_BELOW {
                return Ok(answer);
            }
            let expansion = Expansion::TyposAndPrefixes(&searcher);
            match build_query(&fields, &request, in_radius.as_ref(), expansion) {
                Some(expanded) => run(expanded.as_ref()),
                None => Ok(answer),
            }
        })
        .await
        .map_err(|e| CatalogError::Internal(format!("search task: {e}")))?
        .map_err(|e| CatalogError::Internal(format!("search: {e}")))?;
        catalog.answers().put(generation, key, answer)
    };
    let (count, facets) = (answer.count, answer.facets.clone());
    let ids: Vec<String> = answer.hits.iter().map(|hit| hit.id.clone()).collect();

    let now = jiff::Timestamp::now();
    let (page, total, next_offset) = if live {
        let copies = copy_states(db, &ids).await?;
        // (position in the index answer, distance to the nearest copy on the shelf)
        let mut ranked: Vec<(usize, Option<f64>)> = Vec::new();
        for (position, id) in ids.iter().enumerate() {
            let states: Vec<_> = copies
                .get(id)
                .map(|list| {
                    list.iter()
                        .filter(|c| in_radius.as_ref().is_none_or(|set| set.contains(&c.library_id)))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let counts = availability::summarise(&states, 10_000);
            if request.available && !counts.iter().any(availability::LibraryCounts::available) {
                continue;
            }
            let nearest = request.near.and_then(|from| {
                availability::nearest_on_shelf(from, &counts, |c| location(&libraries, &c.library_id))
                    .map(|(_, distance)| distance)
            });
            ranked.push((position, nearest));
        }
        if request.sort == Sort::Distance {
            // Stable: equal distances keep the index order (relevance or year).
            ranked.sort_by(|a, b| availability::nearer(a.1, b.1));
        }
        let total = ranked.len();
        let page: Vec<&IndexHit> = ranked
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|(position, _)| &answer.hits[position])
            .collect();
        let next = request.offset + request.limit;
        (page, total as u64, (next < total).then_some(next))
    } else {
        let more = answer.hits.len() > request.limit;
        let page: Vec<&IndexHit> = answer.hits.iter().take(request.limit).collect();
        (page, count as u64, more.then_some(request.offset + request.limit))
    };

    let items = hits(db, &libraries, &page, request, in_radius.as_ref(), now).await?;
    Ok(api::SearchResults {
        total,
        items,
        facets,
        next_cursor: next_offset.and_then(|o| request.cursor(o)),
    })
}

/// The fields counted for facets, in the order [`run_index_query`] reads them.
pub const FACET_FIELDS: &[&str] = &["format", "language", "municipality", "library"];

/// The live state of the copies of `ids`, by record.
async fn copy_states(db: &Db, ids: &[String]) -> Result<HashMap<String, Vec<CopyState>>, CatalogError> {
    let mut map = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        for (record, copies) in store::copy_states_of_records(db, chunk).await? {
            let states = copies
                .into_iter()
                .map(|copy| copy_state(copy.library_id, &copy.status, copy.due_date))
                .collect();
            map.insert(record, states);
        }
    }
    Ok(map)
}

/// Where a library is, if it is known and its coordinates are usable.
fn location(libraries: &LibraryMap, id: &str) -> Option<Coordinates> {
    libraries
        .get(id)
        .and_then(|l| Coordinates::new(l.lat, l.lon).ok())
}

/// The page's hits: each record as the index stores it, with its availability read live.
async fn hits(
    db: &Db,
    libraries: &LibraryMap,
    page: &[&IndexHit],
    request: &SearchRequest,
    in_radius: Option<&HashSet<String>>,
    now: jiff::Timestamp,
) -> Result<Vec<api::SearchHit>, CatalogError> {
    let ids: Vec<String> = page.iter().map(|hit| hit.id.clone()).collect();
    let copies = copy_states(db, &ids).await?;
    let mut items = Vec::with_capacity(page.len());
    for hit in page {
        let id = &hit.id;
        let Ok(record) = serde_json::from_str::<api::CatalogRecord>(&hit.card) else {
            tracing::warn!(record = %id, "unreadable record in the search index; `sportello catalog reindex` rebuilds it");
            continue;
        };
        let states = copies.get(id).map(Vec::as_slice).unwrap_or_default();
        let counts = availability::summarise(states, 10_000);
        let nearest = request.near.and_then(|from| {
            let within = counts
                .iter()
                .filter(|c| in_radius.is_none_or(|set| set.contains(&c.library_id)));
            let (counts, distance) =
                availability::nearest_on_shelf(from, within, |c| location(libraries, &c.library_id))?;
            let library = libraries.get(&counts.library_id)?;
            Some(api::NearestCopy {
                library_id: library.id.clone(),
                library_name: library.name.clone(),
                distance_km: round_km(distance),
                open_now: libraries.hours(&library.id).status_at(now).open_now,
            })
        });
        let on_shelf: u32 = counts.iter().map(|c| c.on_shelf + c.reference_only).sum();
        let total: u32 = counts
            .iter()
            .map(|c| c.on_shelf + c.reference_only + c.on_loan + c.in_transit + c.unknown)
            .sum();
        items.push(api::SearchHit {
            record,
            availability: api::AvailabilitySummary {
                copies_on_shelf: on_shelf,
                copies_total: total,
                libraries: u32::try_from(counts.len()).unwrap_or(u32::MAX),
                nearest,
            },
        });
    }
    Ok(items)
}
