//! The catalogue search index: tantivy in the data directory, derived from the database and
//! rebuildable at any time (`sportello catalog reindex`).
//!
//! Each instance keeps its own index current by following `catalog_changes`: the applied
//! sequence number is stored atomically with each commit (tantivy's commit payload), so a crash
//! between indexing and recording progress is impossible. Sequence numbers can become visible
//! out of order on PostgreSQL (a transaction that took seq 7 may commit after the one with
//! seq 8), so the watermark only moves past a gap once the gap is older than [`GAP_GRACE_MS`]:
//! until then the later changes are indexed again on the next pass, which is harmless.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use sportello_core::catalog::record::BibRecord;
use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::LogMergePolicy;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, BoxTokenStream, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter,
    TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tokio::sync::Mutex;

use super::record_from_json;
use super::stemming::CachedItalianStemmer;
use super::store;
use crate::clock::now_ms;
use crate::db::Db;

/// Bumped whenever the schema, the analysis or the stored card (`to_wire`) changes: an index of
/// another version is rebuilt.
const SCHEMA_VERSION: u32 = 3;
/// Name of the Italian analyser.
pub const ANALYZER: &str = "it_folded";
/// A sequence gap younger than this may still be filled by a transaction in flight.
const GAP_GRACE_MS: i64 = 30_000;
/// Records fetched and indexed per step.
const CHUNK: usize = 500;
/// Changes applied per commit: commits are the expensive part of catching up on a big import.
const CHANGES_PER_PASS: i64 = 20_000;
/// Memory budget of the index writer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// A follower pass reading at least this many changes is taking part in a stream (a bulk
/// import): see [`Commit::Batched`].
const STREAM_CHANGES: usize = 2_000;
/// How long the follower may hold indexed changes of a stream before committing them: records
/// of a bulk import become searchable in steps of this, and each step writes segments that
/// merges then rewrite.
const STREAM_COMMIT_INTERVAL: Duration = Duration::from_secs(10);

/// Articles and the commonest prepositions (Italian, and the other languages of the
/// collections): titles are filed without their leading article, so searches ignore them too.
/// Deliberately short: a full stop list would make "Io e te" or "Essere e tempo" unfindable.
const STOP_WORDS: &[&str] = &[
    "il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una", "di", "del", "dello", "della", "dei",
    "degli", "delle", "dell", "e", "ed", "the", "an", "of", "der", "die", "das", "les", "des",
];

/// The index fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    /// The searchable words of title, subtitle, authors, subjects, series and publisher, in one
    /// field, each weighted by repetition (see [`WORD_WEIGHTS`]).
    pub words: Field,
    pub isbn: Field,
    pub identifier: Field,
    pub format: Field,
    pub language: Field,
    pub year: Field,
    pub library: Field,
    pub municipality: Field,
    /// The record as a search hit shows it (`api::CatalogRecord` JSON), stored so a search
    /// answers from the index alone; availability is still read live.
    pub card: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Frequencies, no positions: searches are bags of words (no phrase queries), and positions
    // would be a third of the postings to write and read.
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        words: builder.add_text_field("words", words),
        isbn: builder.add_text_field("isbn", STRING),
        identifier: builder.add_text_field("identifier", STRING),
        format: builder.add_text_field("format", STRING | FAST),
        language: builder.add_text_field("language", STRING | FAST),
        year: builder.add_i64_field("year", INDEXED | FAST),
        library: builder.add_text_field("library", STRING | FAST),
        municipality: builder.add_text_field("municipality", STRING | FAST),
        card: builder.add_text_field("card", STORED),
    };
    (builder.build(), fields)
}

/// The analyser: words, lower case, accents folded (`città` = `citta`), articles dropped,
/// Italian stemming (tantivy's, with the stems remembered: see [`CachedItalianStemmer`]).
/// Folding comes before stemming so both spellings stem alike.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(STOP_WORDS.iter().map(|w| (*w).to_owned())))
        .filter(CachedItalianStemmer)
        .build()
}

/// How many times each part of a record is counted in the `words` field. One field weighted by
/// repetition scores like BM25F (a word in the title counts three times a word in a subject) and
/// lets a search word be a single posting list: with a field per part, each word was a union of
/// five lists in every segment, most of the cost of a search.
const WORD_WEIGHTS: WordWeights = WordWeights {
    title: 3,
    author: 2,
    other: 1,
};

/// See [`WORD_WEIGHTS`].
struct WordWeights {
    /// Title and subtitle.
    title: usize,
    /// Authors' names.
    author: usize,
    /// Subjects, series, publisher.
    other: usize,
}

/// A value of the `words` field counted `weight` times (1 to 9): the weight travels as the
/// value's first character, which [`WeightedAnalyzer`] reads.
fn weighted(text: &str, weight: usize) -> String {
    let marker = char::from(u8::try_from(weight.clamp(1, 9)).unwrap_or(1));
    let mut value = String::with_capacity(text.len() + 1);
    value.push(marker);
    value.push_str(text);
    value
}

/// The `words` field's tokenizer: the [`analyzer`], each token repeated as many times as the
/// weight its value starts with (see [`weighted`]); a value without a weight counts once.
///
/// Why not pre-tokenized values, as tantivy offers: it hands them to its indexing threads
/// serialised as JSON (every token an object) and parses them back there, which was a tenth of
/// the server's CPU while it indexed a bulk import.
#[derive(Clone)]
struct WeightedAnalyzer(TextAnalyzer);

impl Tokenizer for WeightedAnalyzer {
    type TokenStream<'a> = WeightedTokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WeightedTokens<'a> {
        let (weight, text) = match text.chars().next() {
            Some(first @ '\u{1}'..='\u{9}') => (first as usize, &text[1..]),
            _ => (1, text),
        };
        WeightedTokens {
            inner: self.0.token_stream(text),
            weight,
            left: 0,
            position: 0,
        }
    }
}

/// See [`WeightedAnalyzer`].
struct WeightedTokens<'a> {
    inner: BoxTokenStream<'a>,
    weight: usize,
    /// Repetitions of the current token still to give.
    left: usize,
    position: usize,
}

impl TokenStream for WeightedTokens<'_> {
    fn advance(&mut self) -> bool {
        if self.left == 0 {
            if !self.inner.advance() {
                return false;
            }
            self.left = self.weight;
        }
        self.left -= 1;
        self.inner.token_mut().position = self.position;
        self.position += 1;
        true
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

/// What the commit payload records.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    version: u32,
    seq: i64,
}

/// When [`SearchIndex::sync_with`] commits, which is what makes indexed changes searchable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// Before returning: whoever just wrote to the catalogue sees it in the next search.
    Now,
    /// The change follower's pace: at once for a trickle of changes; while they stream in (a
    /// bulk import, [`STREAM_CHANGES`] or more per pass) every [`STREAM_COMMIT_INTERVAL`] and
    /// when the stream ends. Each commit writes new segments that merges then rewrite:
    /// committing every second of a bulk import was a good part of the work of indexing it.
    Batched,
}

/// The index writer and how far it has got beyond the last commit.
struct Writer {
    inner: IndexWriter,
    /// The change sequence number indexed, committed or not (never behind `applied`).
    indexed: i64,
    /// Since when changes have been indexed but not committed.
    uncommitted_since: Option<Instant>,
    /// The highest change sequence number whose record may be in the index (committed or
    /// not): any change ever read, everything a rebuild read, and at start everything in the
    /// database (a crash may have left a commit holding records read past its watermark). A
    /// change that created its record and lies beyond this is read for the first time, so its
    /// record cannot be in the index and needs no delete. None until the first sync sets it.
    read_through: Option<i64>,
}

/// The index, its writer and the sequence number it reflects.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Writer>,
    fields: Fields,
    /// The change sequence number of the last commit: what searches see.
    applied: AtomicI64,
    /// True until the first sync has filled a new index from the records table.
    needs_rebuild: std::sync::atomic::AtomicBool,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (empty, to be rebuilt) when it is missing or of
    /// another version.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create index directory {}: {e}", dir.display()))?;
        let (schema, fields) = schema();
        let existing = Index::open_in_dir(dir).ok().filter(|index| {
            index.schema() == schema
                && index
                    .load_metas()
                    .ok()
                    .and_then(|m| m.payload)
                    .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
                    .is_some_and(|p| p.version == SCHEMA_VERSION)
        });
        let (index, applied, fresh) = if let Some(index) = existing {
            let seq = index
                .load_metas()?
                .payload
                .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
                .map_or(0, |p| p.seq);
            (index, seq, false)
        } else {
            // Derived data: whatever is there (an older version, a half-written index) goes.
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            (
                Index::create(
                    MmapDirectory::open(dir)?,
                    schema,
                    tantivy::IndexSettings {
                        // A hit's card is read from a compressed block of the doc store: 4 KiB
                        // blocks (a few cards each) instead of 16 KiB make that a quarter of the
                        // decompression per hit, for a slightly larger store.
                        docstore_blocksize: 4096,
                        ..tantivy::IndexSettings::default()
                    },
                )?,
                0,
                true,
            )
        };
        index
            .tokenizers()
            .register(ANALYZER, WeightedAnalyzer(analyzer()));
        let writer: IndexWriter = index.writer(WRITER_MEMORY).map_err(|error| match error {
            tantivy::TantivyError::LockFailure(..) => anyhow::anyhow!(
                "the search index in {} is in use by another sportello process (stop it, or give this one another --data-dir)",
                dir.display()
            ),
            other => other.into(),
        })?;
        // Every segment costs each search a dictionary lookup and a scorer per word: merge as
        // soon as four segments of a size have piled up (tantivy's default waits for eight, and
        // a bulk import then leaves a dozen segments behind).
        let mut merges = LogMergePolicy::default();
        merges.set_min_num_segments(4);
        writer.set_merge_policy(Box::new(merges));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            dir: dir.to_owned(),
            index,
            reader,
            writer: Mutex::new(Writer {
                inner: writer,
                indexed: applied,
                uncommitted_since: None,
                read_through: None,
            }),
            fields,
            applied: AtomicI64::new(applied),
            needs_rebuild: std::sync::atomic::AtomicBool::new(fresh),
        })
    }

    /// The fields, for queries.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A searcher over the last committed state.
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The tantivy index (for query building).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The change sequence number the index reflects.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// Where the index lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Empties the index and rebuilds it from every record in the database.
    pub async fn rebuild(&self, db: &Db) -> anyhow::Result<u64> {
        let mut writer = self.writer.lock().await;
        let seq = store::latest_change(db).await?;
        writer.inner.delete_all_documents()?;
        let mut after = String::new();
        let mut count = 0u64;
        loop {
            let page = store::index_rows_page(db, &after, i64::try_from(CHUNK).unwrap_or(500)).await?;
            let Some(last) = page.last() else {
                break;
            };
            after.clone_from(&last.id);
            for row in &page {
                if let Some(document) = self.document(row) {
                    writer.inner.add_document(document)?;
                    count += 1;
                }
            }
        }
        writer.indexed = seq;
        // Read after the scan: every record it found was created by a change up to here.
        writer.read_through = Some(store::latest_change(db).await?);
        self.commit(&mut writer)?;
        self.needs_rebuild.store(false, Ordering::SeqCst);
        self.reader.reload()?;
        Ok(count)
    }

    /// Applies the changes recorded since the last pass and commits them; returns how many
    /// were read.
    pub async fn sync(&self, db: &Db) -> anyhow::Result<usize> {
        self.sync_with(db, Commit::Now).await
    }

    /// Applies the changes recorded since the last pass, committing as `policy` says; returns
    /// how many were read.
    pub async fn sync_with(&self, db: &Db, policy: Commit) -> anyhow::Result<usize> {
        if self.needs_rebuild.load(Ordering::SeqCst) {
            self.rebuild(db).await?;
        }
        let mut writer = self.writer.lock().await;
        if writer.read_through.is_none() {
            writer.read_through = Some(store::latest_change(db).await?);
        }
        let mut total = 0;
        let mut committed = false;
        loop {
            let from = writer.indexed;
            let changes = store::changes_after(db, from, CHANGES_PER_PASS).await?;
            if changes.is_empty() {
                break;
            }
            total += changes.len();
            let watermark = watermark(from, &changes, now_ms());
            let read_through = writer.read_through.unwrap_or(i64::MAX);
            let new_records: HashSet<&str> = changes
                .iter()
                .filter(|c| c.created && c.seq > read_through)
                .map(|c| c.record_id.as_str())
                .collect();
            let mut seen = HashSet::new();
            let ids: Vec<String> = changes
                .iter()
                .filter(|c| seen.insert(c.record_id.clone()))
                .map(|c| c.record_id.clone())
                .collect();
            writer.read_through = changes.iter().map(|c| c.seq).max().max(writer.read_through);
            for chunk in ids.chunks(CHUNK) {
                let rows = store::index_rows(db, chunk).await?;
                for id in chunk.iter().filter(|id| !new_records.contains(id.as_str())) {
                    writer
                        .inner
                        .delete_term(Term::from_field_text(self.fields.id, id));
                }
                for row in &rows {
                    if let Some(document) = self.document(row) {
                        writer.inner.add_document(document)?;
                    }
                }
            }
            writer.indexed = watermark;
            writer.uncommitted_since.get_or_insert_with(Instant::now);
            let fetched_all = i64::try_from(changes.len()).unwrap_or(i64::MAX) < CHANGES_PER_PASS;
            if watermark < changes.last().map_or(from, |c| c.seq) || fetched_all {
                // Either a young gap holds the watermark back (retry on the next pass) or there
                // is nothing more to read.
                break;
            }
            if writer
                .uncommitted_since
                .is_some_and(|since| since.elapsed() >= STREAM_COMMIT_INTERVAL)
            {
                self.commit(&mut writer)?;
                committed = true;
            }
        }
        let due = writer.uncommitted_since.is_some_and(|since| {
            policy == Commit::Now || total < STREAM_CHANGES || since.elapsed() >= STREAM_COMMIT_INTERVAL
        });
        if due {
            self.commit(&mut writer)?;
            committed = true;
        }
        drop(writer);
        if committed {
            self.reader.reload()?;
        }
        Ok(total)
    }

    /// The segments made by background merges since the reader last loaded, opened; None when
    /// the reader reads the index's segments. Merges finish after the commit that started them
    /// (a bulk import leaves several running), and until a reload searches keep reading the
    /// many small segments a merge replaced, each costing every search word a dictionary lookup.
    pub fn merged_segments(&self) -> anyhow::Result<Option<Vec<tantivy::SegmentReader>>> {
        let read: HashSet<SegmentId> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(tantivy::SegmentReader::segment_id)
            .collect();
        let segments = self.index.searchable_segments()?;
        if segments.len() == read.len() && segments.iter().all(|s| read.contains(&s.id())) {
            return Ok(None);
        }
        let new = segments
            .iter()
            .filter(|segment| !read.contains(&segment.id()))
            .map(tantivy::SegmentReader::open)
            .collect::<Result<_, _>>()?;
        Ok(Some(new))
    }

    /// Makes searches read the index's latest commit and merges.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.reader.reload()?;
        Ok(())
    }

    /// Commits what the writer holds, recording the change sequence number it reflects.
    fn commit(&self, writer: &mut Writer) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&Payload {
            version: SCHEMA_VERSION,
            seq: writer.indexed,
        })?;
        let mut prepared = writer.inner.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.applied.store(writer.indexed, Ordering::SeqCst);
        writer.uncommitted_since = None;
        Ok(())
    }

    fn document(&self, row: &store::IndexRow) -> Option<TantivyDocument> {
        let record = record_from_json(&row.data)?;
        Some(self.build(&row.id, &record, &row.holdings))
    }

    fn build(&self, id: &str, record: &BibRecord, holdings: &[(String, String)]) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, id);
        if let Ok(card) = serde_json::to_string(&super::to_wire(id, record)) {
            doc.add_text(f.card, card);
        }
        let mut words = |text: &str, weight: usize| doc.add_text(f.words, weighted(text, weight));
        words(&record.title, WORD_WEIGHTS.title);
        if let Some(subtitle) = &record.subtitle {
            words(subtitle, WORD_WEIGHTS.title);
        }
        for author in &record.authors {
            words(&author.name, WORD_WEIGHTS.author);
        }
        for text in record
            .subjects
            .iter()
            .chain(&record.series)
            .chain(&record.publisher)
        {
            words(text, WORD_WEIGHTS.other);
        }
        for isbn in &record.isbns {
            doc.add_text(f.isbn, isbn.as_str());
            if let Some(isbn10) = isbn.to_isbn10() {
                doc.add_text(f.isbn, isbn10);
            }
        }
        for identifier in &record.identifiers {
            doc.add_text(f.identifier, identifier.value.to_lowercase());
        }
        doc.add_text(f.format, record.format.as_str());
        if let Some(language) = &record.language {
            doc.add_text(f.language, language);
        }
        if let Some(year) = record.year {
            doc.add_i64(f.year, i64::from(year));
        }
        let mut municipalities = HashSet::new();
        for (library, municipality) in holdings {
            doc.add_text(f.library, library);
            if municipalities.insert(municipality) {
                doc.add_text(f.municipality, municipality);
            }
        }
        doc
    }
}

/// The highest sequence number up to which every change is known to be visible: contiguous
/// from `from`, or past gaps older than the grace period.
fn watermark(from: i64, changes: &[store::Change], now: i64) -> i64 {
    let mut mark = from;
    for change in changes {
        if change.seq != mark + 1 && now - change.changed_at < GAP_GRACE_MS {
            break;
        }
        mark = change.seq;
    }
    mark
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64, changed_at: i64) -> store::Change {
        store::Change {
            seq,
            record_id: format!("r{seq}"),
            changed_at,
            created: false,
        }
    }

    #[test]
    fn watermark_waits_for_young_gaps_only() {
        let now = 100_000;
        let contiguous = [change(1, now), change(2, now), change(3, now)];
        assert_eq!(watermark(0, &contiguous, now), 3);
        let young_gap = [change(1, now), change(3, now)];
        assert_eq!(watermark(0, &young_gap, now), 1);
        let old_gap = [change(1, 0), change(3, 0), change(4, now)];
        assert_eq!(watermark(0, &old_gap, now), 4);
    }

    #[tokio::test]
    async fn segments_merged_in_the_background_are_read_once_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        {
            let mut writer = index.writer.lock().await;
            for n in 0..3 {
                let mut doc = TantivyDocument::default();
                doc.add_text(index.fields.id, format!("r{n}"));
                writer.inner.add_document(doc).unwrap();
                index.commit(&mut writer).unwrap();
            }
        }
        index.reader.reload().unwrap();
        assert_eq!(index.searcher().segment_readers().len(), 3);
        assert!(index.merged_segments().unwrap().is_none(), "nothing changed");
        let segments = index.index.searchable_segment_ids().unwrap();
        index.writer.lock().await.inner.merge(&segments).wait().unwrap();
        assert_eq!(index.searcher().segment_readers().len(), 3, "not reloaded yet");
        let merged = index.merged_segments().unwrap().expect("a merge happened");
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].num_docs(), 3);
        index.reload().unwrap();
        assert_eq!(index.searcher().segment_readers().len(), 1);
        assert!(index.merged_segments().unwrap().is_none());
    }

    fn tokens(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn a_weighted_value_gives_each_token_its_weight_in_times() {
        let mut analyzer = WeightedAnalyzer(analyzer());
        let tokens = |analyzer: &mut WeightedAnalyzer, text: &str| {
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push((stream.token().text.clone(), stream.token().position));
            }
            out
        };
        let title = tokens(&mut analyzer, &weighted("La città", 3));
        let stem = super::tests::tokens("città").remove(0);
        assert_eq!(title, [(stem.clone(), 0), (stem.clone(), 1), (stem, 2)]);
        // Unmarked text (what a query would be) counts once, as the plain analyser has it.
        let plain: Vec<String> = tokens(&mut analyzer, "La città")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(plain, super::tests::tokens("La città"));
        assert_eq!(tokens(&mut analyzer, &weighted("", 2)), []);
    }

    #[test]
    fn analysis_folds_accents_stems_and_drops_articles() {
        assert_eq!(
            tokens("La Città e l'Università delle biblioteche"),
            tokens("citta universita biblioteca")
        );
        assert_eq!(
            tokens("Io e te"),
            ["io", "te"],
            "short words that matter are kept"
        );
    }
}
