//! The index part of a search: the tantivy query a request becomes (exact, or widened with
//! typos and prefixes), the ranked window, the match count and facets, and the cache of answers.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sportello_core::api;
use sportello_core::catalog::isbn::Isbn13;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::{MAX_TERMS, SearchRequest, Sort};
use crate::catalog::facets::{self, FacetCache};
use crate::catalog::index::{Fields, analyzer};

/// Exact matches below which the query is widened with typo tolerance and prefixes.
pub(super) const EXPAND_BELOW: usize = 20;

/// Which slice of the ranked index matches to read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub(super) offset: usize,
    pub(super) limit: usize,
}

/// Whether words match only as typed, or also with typos and (the last one) as a prefix.
#[derive(Clone, Copy)]
pub(super) enum Expansion<'a> {
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
    pub(super) hits: Vec<IndexHit>,
    pub(super) count: usize,
    pub(super) facets: api::Facets,
}

/// One ranked record of an [`IndexAnswer`]: its id and the record as the index stores it for
/// hits (`api::CatalogRecord` JSON, decoded only for the page shown).
#[derive(Debug)]
pub(super) struct IndexHit {
    pub(super) id: String,
    pub(super) card: String,
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

    pub(super) fn get(&self, generation: u64, key: &str) -> Option<std::sync::Arc<IndexAnswer>> {
        let inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if inner.0 != generation {
            return None;
        }
        inner.1.get(key).cloned()
    }

    pub(super) fn put(
        &self,
        generation: u64,
        key: String,
        answer: IndexAnswer,
    ) -> std::sync::Arc<IndexAnswer> {
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
pub(super) fn answer_key(
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
pub(super) fn run_index_query(
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

/// The tantivy query for a request; `None` when it cannot match anything (a query of only
/// punctuation, or a radius with no library in it) or, widened, would be the exact query again
/// (known words, the last one too short for a prefix).
pub(super) fn build_query(
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
pub(super) fn text_query(fields: &Fields, q: &str, expansion: Expansion<'_>) -> Option<Box<dyn Query>> {
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
