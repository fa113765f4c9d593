//! Catalogue search: validating the request, querying the index, and joining each hit with its
//! live availability from the database.
//!
//! Filters that depend on live status (`available=true`) or on where copies are
//! (`radius_km`, sorting by distance) cannot live in the index. For those the best
//! [`CANDIDATES`] index matches are checked against the database and filtered or sorted there;
//! the response's `total` then counts what was found among those candidates.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sportello_core::api::{self, CatalogSort};
use sportello_core::catalog::availability::{self, CopyState};
use sportello_core::catalog::isbn::Isbn13;
use sportello_core::catalog::record::Format;
use sportello_core::geo::Coordinates;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::facets::{self, FacetCache};
use super::index::{Fields, analyzer};
use super::store;
use super::{Catalog, CatalogError, LibraryMap, copy_state, round_km};
use crate::db::Db;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most words of a query that are searched.
const MAX_TERMS: usize = 32;
/// Largest page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset a cursor may reach (deep paging costs the index linearly).
const MAX_OFFSET: usize = 10_000;
/// Index matches checked live for `available`, `radius_km` and distance sorting.
pub const CANDIDATES: usize = 1000;
/// Largest search radius.
const MAX_RADIUS_KM: f64 = 200.0;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Year,
    Distance,
}

/// A validated search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub q: String,
    pub municipality: Option<String>,
    pub library: Option<String>,
    pub format: Option<Format>,
    pub language: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub available: bool,
    pub near: Option<Coordinates>,
    pub radius_km: Option<f64>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    fingerprint: String,
}

impl SearchRequest {
    /// Validates the query string (core's `CatalogQuery`, which the mobile client also sends).
    #[allow(clippy::too_many_lines, reason = "one check per parameter, in order")]
    pub fn parse(params: api::CatalogQuery) -> Result<Self, CatalogError> {
        let q = params.q.unwrap_or_default().trim().to_owned();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(CatalogError::invalid(
                "q",
                format!("La ricerca può avere al massimo {MAX_QUERY_CHARS} caratteri."),
                format!("The query may have at most {MAX_QUERY_CHARS} characters."),
            ));
        }
        let near = params.near.map(Coordinates::try_from).transpose().map_err(|e| {
            CatalogError::invalid(
                "near",
                format!("Posizione non valida: {e}"),
                format!("Invalid position: {e}"),
            )
        })?;
        let radius_km = match params.radius_km {
            Some(r) if !(r.is_finite() && r > 0.0 && r <= MAX_RADIUS_KM) => {
                return Err(CatalogError::invalid(
                    "radius_km",
                    format!("Il raggio deve essere tra 0 e {MAX_RADIUS_KM} km."),
                    format!("The radius must be between 0 and {MAX_RADIUS_KM} km."),
                ));
            }
            Some(_) if near.is_none() => {
                return Err(CatalogError::invalid(
                    "radius_km",
                    "Il raggio richiede `near`.",
                    "A radius needs `near`.",
                ));
            }
            other => other,
        };
        // A format or sort that is not one of the names is refused by the query's extractor.
        let format = params.format.map(Format::from);
        if let Some(language) = &params.language
            && !(language.len() == 3 && language.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(CatalogError::invalid(
                "language",
                "Lingua: codice ISO 639-2 di tre lettere (ita).",
                "Language: three-letter ISO 639-2 code (ita).",
            ));
        }
        if let Some(municipality) = &params.municipality {
            sportello_core::tenant::IstatCode::parse(municipality).map_err(|_| {
                CatalogError::invalid(
                    "municipality",
                    "Codice ISTAT di sei cifre.",
                    "Six-digit ISTAT code.",
                )
            })?;
        }
        if params.library.as_ref().is_some_and(|l| l.len() > 64) {
            return Err(CatalogError::invalid(
                "library",
                "Biblioteca sconosciuta.",
                "Unknown library.",
            ));
        }
        for (name, year) in [("year_from", params.year_from), ("year_to", params.year_to)] {
            if year.is_some_and(|y| !(0..=3000).contains(&y)) {
                return Err(CatalogError::invalid(
                    name,
                    "Anno tra 0 e 3000.",
                    "Year between 0 and 3000.",
                ));
            }
        }
        if let (Some(from), Some(to)) = (params.year_from, params.year_to)
            && from > to
        {
            return Err(CatalogError::invalid(
                "year_from",
                "year_from è dopo year_to.",
                "year_from is after year_to.",
            ));
        }
        let sort = match params.sort {
            None if q.is_empty() => Sort::Year,
            None | Some(CatalogSort::Relevance) => Sort::Relevance,
            Some(CatalogSort::Year) => Sort::Year,
            Some(CatalogSort::Distance) if near.is_some() => Sort::Distance,
            Some(CatalogSort::Distance) => {
                return Err(CatalogError::invalid(
                    "sort",
                    "L'ordine per distanza richiede `near`.",
                    "Sorting by distance needs `near`.",
                ));
            }
        };
        let limit = params
            .limit
            .map_or(20, |limit| usize::try_from(limit).unwrap_or(usize::MAX));
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(CatalogError::invalid(
                "limit",
                format!("Da 1 a {MAX_LIMIT} risultati per pagina."),
                format!("From 1 to {MAX_LIMIT} results per page."),
            ));
        }
        let fingerprint = {
            let key = format!(
                "{q}|{:?}|{:?}|{format:?}|{:?}|{:?}|{:?}|{:?}|{near:?}|{radius_km:?}|{sort:?}",
                params.municipality,
                params.library,
                params.language,
                params.year_from,
                params.year_to,
                params.available
            );
            let digest = Sha256::digest(key.as_bytes());
            hex::encode(&digest[..6])
        };
        let offset = match &params.cursor {
            None => 0,
            Some(cursor) => decode_cursor(cursor, &fingerprint).ok_or_else(|| {
                CatalogError::invalid(
                    "cursor",
                    "Cursore non valido o di un'altra ricerca.",
                    "Invalid cursor, or from another search.",
                )
            })?,
        };
        Ok(Self {
            q,
            municipality: params.municipality,
            library: params.library,
            format,
            language: params.language,
            year_from: params.year_from,
            year_to: params.year_to,
            available: params.available.unwrap_or(false),
            near,
            radius_km,
            sort,
            offset,
            limit,
            fingerprint,
        })
    }

    fn live_filtering(&self) -> bool {
        self.available || self.radius_km.is_some() || self.sort == Sort::Distance
    }

    fn cursor(&self, offset: usize) -> Option<String> {
        (offset <= MAX_OFFSET).then(|| URL_SAFE_NO_PAD.encode(format!("{offset}:{}", self.fingerprint)))
    }
}

fn decode_cursor(cursor: &str, fingerprint: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?).ok()?;
    let (offset, print) = text.split_once(':')?;
    let offset: usize = offset.parse().ok()?;
    (print == fingerprint && offset <= MAX_OFFSET).then_some(offset)
}

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

/// Exact matches below which the query is widened with typo tolerance and prefixes.
const EXPAND_BELOW: usize = 20;

/// Which slice of the ranked index matches to read.
#[derive(Debug, Clone, Copy)]
struct Window {
    offset: usize,
    limit: usize,
}

/// Whether words match only as typed, or also with typos and (the last one) as a prefix.
#[derive(Clone, Copy)]
enum Expansion<'a> {
    Exact,
    /// Typos are tolerated in the words the index does not know (a word found as typed is taken
    /// as meant: widening it with every word one letter away would bury the records that have
    /// it, and reading all their lists was the costliest part of a widened search); the last
    /// word also matches as a prefix.
    TyposAndPrefixes(&'a tantivy::Searcher),
}

/// What the index answers for one query: the ranked records in the window, the number of
/// matches and the facet counts. Availability is never part of it: that is read live every time.
#[derive(Debug)]
pub struct IndexAnswer {
    hits: Vec<IndexHit>,
    count: usize,
    facets: api::Facets,
}

/// One ranked record of an [`IndexAnswer`]: its id and the record as the index stores it for
/// hits (`api::CatalogRecord` JSON, decoded only for the page shown).
#[derive(Debug)]
struct IndexHit {
    id: String,
    card: String,
}

/// Recent index answers, valid for one searcher generation (the index content they were
/// computed on). Popular searches repeat (the same exhibition, the same bestseller), and the
/// index part is the expensive one; a new generation (any catalogue change reaching the index)
/// empties the cache, so an answer is never staler than the index itself.
#[derive(Default)]
pub struct AnswerCache {
    inner: std::sync::Mutex<(u64, HashMap<String, std::sync::Arc<IndexAnswer>>)>,
}

impl AnswerCache {
    /// Answers kept at most; when full the cache starts over (cheap, and the popular searches
    /// come back first).
    const CAPACITY: usize = 4096;

    fn get(&self, generation: u64, key: &str) -> Option<std::sync::Arc<IndexAnswer>> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.0 != generation {
            return None;
        }
        inner.1.get(key).cloned()
    }

    fn put(&self, generation: u64, key: String, answer: IndexAnswer) -> std::sync::Arc<IndexAnswer> {
        let answer = std::sync::Arc::new(answer);
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.0 != generation || inner.1.len() >= Self::CAPACITY {
            *inner = (generation, HashMap::new());
        }
        inner.1.insert(key, std::sync::Arc::clone(&answer));
        answer
    }
}

/// The cache key of the index part of a request: everything that shapes the index query and
/// the window, and nothing else (the user's position matters only through the radius).
fn answer_key(
    request: &SearchRequest,
    in_radius: Option<&HashSet<String>>,
    window: Window,
    sort: Sort,
) -> String {
    let mut radius: Vec<&str> = in_radius
        .map(|set| set.iter().map(String::as_str).collect())
        .unwrap_or_default();
    radius.sort_unstable();
    let key = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{sort:?}|{}|{}",
        request.q,
        request.municipality,
        request.library,
        request.format,
        request.language,
        request.year_from,
        request.year_to,
        in_radius.is_some(),
        radius.join(","),
        window.offset,
        window.limit,
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes()))
}

/// Runs one index query: the ranked window, the match count and the facets.
fn run_index_query(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    facets: &FacetCache,
    query: &dyn Query,
    window: Window,
    sort: Sort,
) -> tantivy::Result<IndexAnswer> {
    let facets = facets.counter(searcher);
    let top = TopDocs::with_limit(window.limit).and_offset(window.offset);
    let (addresses, count, facet_counts): (Vec<DocAddress>, usize, _) = if sort == Sort::Relevance {
        let (docs, count, facet_counts) = searcher.search(query, &(top.order_by_score(), Count, facets))?;
        (docs.into_iter().map(|(_, a)| a).collect(), count, facet_counts)
    } else {
        let (docs, count, facet_counts) = searcher.search(
            query,
            &(top.order_by_fast_field::<i64>("year", Order::Desc), Count, facets),
        )?;
        (docs.into_iter().map(|(_, a)| a).collect(), count, facet_counts)
    };
    let mut hits = Vec::with_capacity(addresses.len());
    for address in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_owned);
        if let (Some(id), Some(card)) = (text(fields.id), text(fields.card)) {
            hits.push(IndexHit { id, card });
        }
    }
    let list = |field: usize, k: usize| -> Vec<api::FacetCount> {
        facet_counts
            .get(field)
            .map(|counts| facets::top(counts, k))
            .unwrap_or_default()
            .into_iter()
            .map(|(value, count)| api::FacetCount { value, count })
            .collect()
    };
    Ok(IndexAnswer {
        hits,
        count,
        facets: api::Facets {
            format: list(0, 10),
            language: list(1, 20),
            municipality: list(2, 67),
            library: list(3, 50),
        },
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

/// The tantivy query for a request; `None` when it cannot match anything (a query of only
/// punctuation, or a radius with no library in it) or, widened, would be the exact query again
/// (known words, the last one too short for a prefix).
fn build_query(
    fields: &Fields,
    request: &SearchRequest,
    in_radius: Option<&HashSet<String>>,
    expansion: Expansion<'_>,
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !request.q.is_empty() {
        must.push((Occur::Must, text_query(fields, &request.q, expansion)?));
    }
    let term = |field: Field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    if let Some(format) = request.format {
        must.push((Occur::Must, term(fields.format, format.as_str())));
    }
    if let Some(language) = &request.language {
        must.push((Occur::Must, term(fields.language, language)));
    }
    if let Some(municipality) = &request.municipality {
        must.push((Occur::Must, term(fields.municipality, municipality)));
    }
    if let Some(library) = &request.library {
        must.push((Occur::Must, term(fields.library, library)));
    }
    if let Some(set) = in_radius {
        if set.is_empty() {
            return None;
        }
        let any: Vec<(Occur, Box<dyn Query>)> = set
            .iter()
            .map(|id| (Occur::Should, term(fields.library, id)))
            .collect();
        must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    if request.year_from.is_some() || request.year_to.is_some() {
        let bound = |year: Option<i32>| match year {
            Some(y) => std::ops::Bound::Included(Term::from_field_i64(fields.year, i64::from(y))),
            None => std::ops::Bound::Unbounded,
        };
        must.push((
            Occur::Must,
            Box::new(RangeQuery::new(bound(request.year_from), bound(request.year_to))),
        ));
    }
    if must.is_empty() {
        return Some(Box::new(AllQuery));
    }
    Some(Box::new(BooleanQuery::new(must)))
}

/// Every word must match the record's words (where title and author weigh more, see
/// `index::WORD_WEIGHTS`); with [`Expansion::TyposAndPrefixes`] longer words tolerate typos and the
/// last word also matches as a prefix (people search while typing). An ISBN or an
/// identifier such as an SBN BID matches on its own. `None` when there is nothing to match, or
/// nothing to widen.
fn text_query(fields: &Fields, q: &str, expansion: Expansion<'_>) -> Option<Box<dyn Query>> {
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let compact: String = q.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if let Some(isbn) = Isbn13::parse(&compact) {
        alternatives.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.isbn, isbn.as_str()),
                    IndexRecordOption::Basic,
                )),
                10.0,
            )),
        ));
    }
    if !q.contains(char::is_whitespace) && q.len() <= 64 {
        alternatives.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.identifier, &q.to_lowercase()),
                    IndexRecordOption::Basic,
                )),
                10.0,
            )),
        ));
    }
    let mut analyzer = analyzer();
    let mut tokens: Vec<(String, usize)> = Vec::new();
    let mut stream = analyzer.token_stream(q);
    while stream.advance() {
        let token = stream.token();
        let original = q
            .get(token.offset_from..token.offset_to)
            .map_or(0, |s| s.chars().count());
        if !tokens.iter().any(|(t, _)| t == &token.text) {
            tokens.push((token.text.clone(), original));
        }
        if tokens.len() == MAX_TERMS {
            break;
        }
    }
    // Whether the widened query differs from the exact one at all.
    let mut widened = false;
    if !tokens.is_empty() {
        let last = tokens.len() - 1;
        let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, (text, length)) in tokens.iter().enumerate() {
            let term = Term::from_field_text(fields.words, text);
            let exact: Box<dyn Query> = Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
            let Expansion::TyposAndPrefixes(searcher) = expansion else {
                all.push((Occur::Must, exact));
                continue;
            };
            let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, exact)];
            let known = searcher.doc_freq(&term).is_ok_and(|n| n > 0);
            let distance = match *length {
                _ if known => 0,
                0..=4 => 0,
                5..=8 => 1,
                _ => 2,
            };
            widened |= distance > 0 || (i == last && *length >= 3);
            if distance > 0 {
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new(term.clone(), distance, true)),
                        0.3,
                    )),
                ));
            }
            if i == last && *length >= 3 {
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                        0.5,
                    )),
                ));
            }
            all.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        alternatives.push((Occur::Should, Box::new(BooleanQuery::new(all))));
    }
    if alternatives.is_empty() || (matches!(expansion, Expansion::TyposAndPrefixes(_)) && !widened) {
        return None;
    }
    Some(Box::new(BooleanQuery::new(alternatives)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(params: api::CatalogQuery) -> Result<SearchRequest, CatalogError> {
        SearchRequest::parse(params)
    }

    #[test]
    fn bad_parameters_are_named() {
        let field = |params: api::CatalogQuery| match parse(params) {
            Err(CatalogError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(api::CatalogQuery {
                q: Some("x".repeat(10_000)),
                ..Default::default()
            }),
            "q"
        );
        assert_eq!(
            field(api::CatalogQuery {
                near: Some(api::Coordinates { lat: 91.0, lon: 0.0 }),
                ..Default::default()
            }),
            "near"
        );
        assert_eq!(
            field(api::CatalogQuery {
                radius_km: Some(5.0),
                ..Default::default()
            }),
            "radius_km"
        );
        assert_eq!(
            field(api::CatalogQuery {
                near: Some(api::Coordinates { lat: 44.4, lon: 8.9 }),
                radius_km: Some(1e9),
                ..Default::default()
            }),
            "radius_km"
        );
        assert_eq!(
            field(api::CatalogQuery {
                sort: Some(CatalogSort::Distance),
                ..Default::default()
            }),
            "sort"
        );
        assert_eq!(
            field(api::CatalogQuery {
                limit: Some(0),
                ..Default::default()
            }),
            "limit"
        );
        assert_eq!(
            field(api::CatalogQuery {
                cursor: Some("!!".into()),
                ..Default::default()
            }),
            "cursor"
        );
        assert_eq!(
            field(api::CatalogQuery {
                year_from: Some(2000),
                year_to: Some(1990),
                ..Default::default()
            }),
            "year_from"
        );
    }

    #[test]
    fn cursors_belong_to_their_search() {
        let first = parse(api::CatalogQuery {
            q: Some("asimov".into()),
            ..Default::default()
        })
        .unwrap();
        let cursor = first.cursor(20).unwrap();
        let second = parse(api::CatalogQuery {
            q: Some("asimov".into()),
            cursor: Some(cursor.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(second.offset, 20);
        assert!(
            parse(api::CatalogQuery {
                q: Some("eco".into()),
                cursor: Some(cursor),
                ..Default::default()
            })
            .is_err()
        );
    }
}
