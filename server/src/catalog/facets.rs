//! Facet counts of a search, from the values of string fast fields decoded once per segment.
//!
//! Why not tantivy's `FacetCollector`: it resolves the requested facet roots against the
//! segment's facet dictionary for every query and segment, which was a tenth of the CPU of a
//! search under load. Why not read the fast fields per match either: a match has four facet
//! fields, two of them multi-valued (a record is held by several libraries), and each value read
//! from the compressed columns took tens of nanoseconds, a third of a search's CPU on a
//! million-record catalogue. A segment never changes, so its values are decoded once, the first
//! time a search reaches it, into a row of term ordinals per document (16 bytes, 16 MB per
//! million records); counting a match is then a few array increments, and ordinals become
//! values once per segment, for the values that were counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Decoded facet values of the segments of the current searcher.
pub struct FacetCache {
    fields: &'static [&'static str],
    inner: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// The searcher generation the entries were last pruned for.
    generation: u64,
    segments: HashMap<SegmentId, Arc<OnceLock<SegmentValues>>>,
}

impl FacetCache {
    /// A cache for `fields` (each a `STRING | FAST` field of the schema).
    pub fn new(fields: &'static [&'static str]) -> Self {
        assert!(fields.len() <= 4, "a row entry has two bits for the field");
        Self {
            fields,
            inner: Mutex::new(CacheState::default()),
        }
    }

    /// The collector counting the cached fields over a search of `searcher`. Segments that
    /// left the index (merged away) are forgotten here.
    pub fn counter(&self, searcher: &tantivy::Searcher) -> FacetCounts<'_> {
        let generation = searcher.generation().generation_id();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.generation != generation {
            let live: std::collections::HashSet<SegmentId> = searcher
                .segment_readers()
                .iter()
                .map(SegmentReader::segment_id)
                .collect();
            inner.segments.retain(|id, _| live.contains(id));
            inner.generation = generation;
        }
        FacetCounts { cache: self }
    }

    /// Decodes the segments of `searcher` that no search has reached yet, so that the first
    /// search after a merge (whose new segment may hold most of the catalogue) does not wait for
    /// it. Cheap when there is nothing new.
    pub fn warm(&self, searcher: &tantivy::Searcher) {
        self.warm_ahead(searcher, searcher.segment_readers());
    }

    /// Decodes `upcoming` segments before a searcher reads them (see
    /// [`super::Catalog::read_merged_segments`]). The entries are first pruned for the
    /// `current` searcher, so a search still on it does not prune them away.
    pub fn warm_ahead(&self, current: &tantivy::Searcher, upcoming: &[SegmentReader]) {
        let _ = self.counter(current);
        for reader in upcoming {
            self.segment(reader)
                .get_or_init(|| SegmentValues::decode(reader, self.fields));
        }
    }

    fn segment(&self, reader: &SegmentReader) -> Arc<OnceLock<SegmentValues>> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(inner.segments.entry(reader.segment_id()).or_default())
    }
}

/// Counts the values of the cache's fields over the matching documents.
pub struct FacetCounts<'a> {
    cache: &'a FacetCache,
}

/// Per field (in the cache's order), the documents counted for each value.
pub type Counts = Vec<HashMap<String, u64>>;

/// One segment's facet values: a fixed-size row per document holding all its values of all
/// fields, so counting a match touches one cache line. (With an array per field, a match cost a
/// cache miss per field and per offset, most of the counting time on a large segment.)
struct SegmentValues {
    /// Per field, the column that turns ordinals back into values; `None` for a field missing
    /// from the segment or with too many values for a row entry.
    columns: Vec<Option<StrColumn>>,
    rows: Vec<[u16; SLOTS]>,
    /// The values of documents with more than [`SLOTS`] of them (held by many libraries).
    spilled: Vec<Vec<u16>>,
}

/// Values per row: format, language, and three libraries in three municipalities fit.
const SLOTS: usize = 8;
/// An unused slot.
const EMPTY: u16 = u16::MAX;
/// First slot of a row whose values are in `spilled`, at the index in the next two slots.
const SPILLED: u16 = u16::MAX - 1;
/// A row entry is the field's index in the top two bits and the term ordinal below.
const FIELD_SHIFT: u16 = 14;
/// Ordinals must stay below the two markers.
const MAX_ORDS: usize = (1 << FIELD_SHIFT) - 2;

impl SegmentValues {
    fn decode(reader: &SegmentReader, fields: &[&str]) -> Self {
        let columns: Vec<Option<StrColumn>> = fields
            .iter()
            .map(|field| {
                let column = reader.fast_fields().str(field).ok().flatten()?;
                if column.num_terms() > MAX_ORDS {
                    tracing::warn!(field, "a facet field has too many values to be counted");
                    return None;
                }
                Some(column)
            })
            .collect();
        let max_doc = reader.max_doc();
        let mut rows = Vec::with_capacity(max_doc as usize);
        let mut spilled = Vec::new();
        let mut values: Vec<u16> = Vec::with_capacity(SLOTS);
        for doc in 0..max_doc {
            values.clear();
            for (field, column) in (0u16..).zip(&columns) {
                if let Some(column) = column {
                    values.extend(
                        column
                            .term_ords(doc)
                            .filter_map(|ord| u16::try_from(ord).ok())
                            .map(|ord| (field << FIELD_SHIFT) | ord),
                    );
                }
            }
            let mut row = [EMPTY; SLOTS];
            if values.len() <= SLOTS {
                row[..values.len()].copy_from_slice(&values);
            } else {
                let index = u32::try_from(spilled.len()).unwrap_or(u32::MAX);
                row[0] = SPILLED;
                row[1] = u16::try_from(index >> 16).unwrap_or(u16::MAX);
                row[2] = u16::try_from(index & 0xFFFF).unwrap_or(u16::MAX);
                spilled.push(values.clone());
            }
            rows.push(row);
        }
        Self {
            columns,
            rows,
            spilled,
        }
    }

    /// The row entries of a document.
    fn of(&self, doc: DocId) -> &[u16] {
        let Some(row) = self.rows.get(doc as usize) else {
            return &[];
        };
        if row[0] == SPILLED {
            let index = (usize::from(row[1]) << 16) | usize::from(row[2]);
            return self.spilled.get(index).map_or(&[], Vec::as_slice);
        }
        let used = row.iter().position(|&v| v == EMPTY).unwrap_or(SLOTS);
        &row[..used]
    }
}

/// [`FacetCounts`] on one segment: a counter per term ordinal of each field.
pub struct SegmentFacetCounts {
    values: Arc<OnceLock<SegmentValues>>,
    counts: Vec<Vec<u32>>,
}

impl Collector for FacetCounts<'_> {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(&self, _segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let values = self.cache.segment(reader);
        // Concurrent searches reaching a new segment wait for one decoding instead of each
        // doing it.
        let decoded = values.get_or_init(|| SegmentValues::decode(reader, self.cache.fields));
        let counts = decoded
            .columns
            .iter()
            .map(|column| column.as_ref().map_or_else(Vec::new, |c| vec![0; c.num_terms()]))
            .collect();
        Ok(SegmentFacetCounts { values, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut merged: Counts = vec![HashMap::new(); self.cache.fields.len()];
        for segment in segments {
            for (total, counts) in merged.iter_mut().zip(segment) {
                for (value, count) in counts {
                    *total.entry(value).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let Some(values) = self.values.get() else {
            return;
        };
        for &entry in values.of(doc) {
            let (field, ord) = (entry >> FIELD_SHIFT, entry & ((1 << FIELD_SHIFT) - 1));
            if let Some(count) = self
                .counts
                .get_mut(usize::from(field))
                .and_then(|counts| counts.get_mut(usize::from(ord)))
            {
                *count += 1;
            }
        }
    }

    fn harvest(self) -> Counts {
        let Some(values) = self.values.get() else {
            return Vec::new();
        };
        values
            .columns
            .iter()
            .zip(self.counts)
            .map(|(column, counts)| {
                let mut values = HashMap::new();
                let Some(column) = column else {
                    return values;
                };
                // One pass over the dictionary for all counted ordinals (in order): looking
                // each up on its own re-reads a dictionary block per value.
                let counted: Vec<(u64, u32)> = (0u64..).zip(counts).filter(|(_, count)| *count > 0).collect();
                let ords: Vec<u64> = counted.iter().map(|(ord, _)| *ord).collect();
                let mut counted = counted.into_iter();
                let _ = column.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
                    if let (Some((_, count)), Ok(value)) = (counted.next(), std::str::from_utf8(bytes)) {
                        values.insert(value.to_owned(), u64::from(count));
                    }
                });
                values
            })
            .collect()
    }
}

/// The `k` most frequent values, most frequent first (ties by value, for stable answers).
pub fn top<'a>(counts: impl IntoIterator<Item = (&'a String, &'a u64)>, k: usize) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().map(|(v, c)| (v.clone(), *c)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(k);
    list
}

#[cfg(test)]
mod tests {
    use tantivy::collector::Count;
    use tantivy::query::AllQuery;
    use tantivy::schema::{FAST, STRING, Schema};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    const FIELDS: &[&str] = &["format", "library"];

    #[test]
    fn counts_every_value_of_short_and_spilled_rows_across_segments() {
        let mut schema = Schema::builder();
        let format = schema.add_text_field("format", STRING | FAST);
        let library = schema.add_text_field("library", STRING | FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        // Two segments: one commit each.
        for (formats, libraries) in [(&["book"][..], 3), (&["book"][..], 12)] {
            for _ in 0..2 {
                let mut doc = TantivyDocument::default();
                for f in formats {
                    doc.add_text(format, f);
                }
                for n in 0..libraries {
                    doc.add_text(library, format!("lib-{n:02}"));
                }
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(format, "video");
        writer.add_document(doc).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() >= 2);

        for warm in [false, true] {
            // Rows decoded by the search itself, then by a warm-up ahead of it.
            let cache = FacetCache::new(FIELDS);
            if warm {
                cache.warm(&searcher);
            }
            let (count, counts) = searcher
                .search(&AllQuery, &(Count, cache.counter(&searcher)))
                .unwrap();
            assert_eq!(count, 5);
            assert_eq!(counts[0].get("book"), Some(&4));
            assert_eq!(counts[0].get("video"), Some(&1));
            // lib-00..02 in all four books, lib-03..11 only in the two with 12 libraries
            // (rows too long for a row: spilled).
            assert_eq!(counts[1].get("lib-00"), Some(&4));
            assert_eq!(counts[1].get("lib-02"), Some(&4));
            assert_eq!(counts[1].get("lib-03"), Some(&2));
            assert_eq!(counts[1].get("lib-11"), Some(&2));
            assert_eq!(counts[1].len(), 12);
        }
    }

    fn decoded(cache: &FacetCache, id: SegmentId) -> bool {
        let inner = cache.inner.lock().unwrap();
        inner.segments.get(&id).is_some_and(|entry| entry.get().is_some())
    }

    #[test]
    fn a_merged_segment_is_decoded_before_searches_read_it_and_kept_once_they_do() {
        let mut schema = Schema::builder();
        let format = schema.add_text_field("format", STRING | FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for value in ["book", "video"] {
            let mut doc = TantivyDocument::default();
            doc.add_text(format, value);
            writer.add_document(doc).unwrap();
            writer.commit().unwrap();
        }
        let reader = index.reader().unwrap();
        let cache = FacetCache::new(&["format"]);
        let before = reader.searcher();
        cache.warm(&before);
        writer
            .merge(&index.searchable_segment_ids().unwrap())
            .wait()
            .unwrap();
        let merged: Vec<SegmentReader> = index
            .searchable_segments()
            .unwrap()
            .iter()
            .map(|segment| SegmentReader::open(segment).unwrap())
            .collect();
        assert_eq!(merged.len(), 1);
        let id = merged[0].segment_id();
        assert!(!decoded(&cache, id));
        cache.warm_ahead(&before, &merged);
        // A search still on the old segments keeps the new entry...
        let _ = before
            .search(&AllQuery, &(Count, cache.counter(&before)))
            .unwrap();
        assert!(decoded(&cache, id));
        // ...and the first search on the merged segment finds it decoded, and counts with it.
        reader.reload().unwrap();
        let after = reader.searcher();
        let (count, counts) = after.search(&AllQuery, &(Count, cache.counter(&after))).unwrap();
        assert!(decoded(&cache, id));
        assert_eq!(count, 2);
        assert_eq!(counts[0].get("video"), Some(&1));
        assert_eq!(
            cache.inner.lock().unwrap().segments.len(),
            1,
            "the merged-away segments are forgotten"
        );
    }
}
