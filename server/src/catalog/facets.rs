//! Facet counts of a search, read from the index's fast fields (columnar term ordinals).
//!
//! Why not tantivy's `FacetCollector`: it resolves the requested facet roots against the
//! segment's facet dictionary for every query and segment, which was a tenth of the CPU of a
//! search under load; here each matching document only bumps counters indexed by term ordinal,
//! and ordinals become values once per segment, for the values that were counted.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts the values of string fast fields over the matching documents.
pub struct FacetCounts {
    fields: &'static [&'static str],
}

impl FacetCounts {
    /// Counts for `fields` (each a `STRING | FAST` field of the schema).
    pub fn new(fields: &'static [&'static str]) -> Self {
        Self { fields }
    }
}

/// Per field (in the order given), the documents counted for each value.
pub type Counts = Vec<HashMap<String, u64>>;

/// [`FacetCounts`] on one segment.
pub struct SegmentFacetCounts {
    columns: Vec<Option<(StrColumn, Vec<u32>)>>,
}

impl Collector for FacetCounts {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(&self, _segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let mut columns = Vec::with_capacity(self.fields.len());
        for field in self.fields {
            let column = reader.fast_fields().str(field)?;
            columns.push(column.map(|column| {
                let terms = column.num_terms();
                (column, vec![0u32; terms])
            }));
        }
        Ok(SegmentFacetCounts { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut merged: Counts = vec![HashMap::new(); self.fields.len()];
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
        for (column, counts) in self.columns.iter_mut().flatten() {
            for ord in column.term_ords(doc) {
                if let Some(count) = usize::try_from(ord).ok().and_then(|i| counts.get_mut(i)) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        self.columns
            .into_iter()
            .map(|entry| {
                let mut values = HashMap::new();
                let Some((column, counts)) = entry else {
                    return values;
                };
                for (ord, count) in (0u64..).zip(counts) {
                    let mut value = String::new();
                    if count > 0 && column.ord_to_str(ord, &mut value).unwrap_or(false) {
                        values.insert(value, u64::from(count));
                    }
                }
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
