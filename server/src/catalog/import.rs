//! Importing a library's catalogue export: records are read on a blocking thread (the core
//! readers stream from the file) and written in batches, one transaction per batch, so a
//! multi-GB export needs constant memory and a failure loses at most the batch in flight;
//! whatever was committed stays.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use sportello_core::api::{ImportIssue, ImportSummary};
use sportello_core::catalog::holdings::{self, HoldingsMapping, SourceCopy};
use sportello_core::catalog::record::BibRecord;
use sportello_core::catalog::{InputFormat, MarcReader, ReadError};
use sqlx::{Any, Connection, Transaction};
use tokio::sync::mpsc;

use super::store::{self, CopyRow, LibraryRow};
use super::{CatalogError, record_from_json, record_to_json};
use crate::db::Db;

/// Records per transaction. Each commit writes every page the batch changed, and the index of
/// merge keys takes its inserts at random: up to about as many records per batch as that index
/// has leaf pages (some 8,000 for 1,000,000 records), a commit wrote nearly one page of it per
/// record. 10,000 records (tens of MB of pages, under a second holding the write lock) should
/// write about half as much as 2,000 did (estimated from the index's size); measured,
/// 1,000,000 records imported in 51.4-54.7 s instead of 53.9-54.7 s, with the server indexing
/// alongside.
const BATCH: usize = 10_000;
/// Problems listed in a summary; the rest are only counted.
const MAX_ISSUES: usize = 1000;

/// Where copies of an import go.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The library whose export this is.
    pub library: LibraryRow,
    /// Container format.
    pub format: InputFormat,
    /// Holdings mappings to try, in order; empty: the defaults of each record's flavour.
    pub holdings: Vec<HoldingsMapping>,
    /// Source library codes mapped to other libraries of the network: (library id, ISTAT code).
    pub code_map: HashMap<String, (String, String)>,
}

/// One record ready to be written.
struct Prepared {
    source_id: String,
    deleted: bool,
    merge_key: String,
    data: String,
    /// The copies, each assigned to a library of the network.
    copies: Vec<CopyRow>,
    /// See [`fingerprint`].
    fingerprint: String,
}

/// The records a batch changed, each with whether the batch created it (see
/// [`store::Change::created`]).
#[derive(Default)]
struct Changed(HashMap<String, bool>);

impl Changed {
    fn record(&mut self, record_id: String, created: bool) {
        *self.0.entry(record_id).or_default() |= created;
    }
}

enum Item {
    Record(Box<Prepared>),
    Issue(ImportIssue),
}

/// Imports the files into the options' library, adding to `summary`; returns the ids of the
/// records that changed.
pub async fn import_files(
    db: &Db,
    options: &ImportOptions,
    files: &[(PathBuf, String)],
    summary: &mut ImportSummary,
) -> Result<HashSet<String>, CatalogError> {
    let mut all_changed = HashSet::new();
    let mut connection = store::import_connection(db).await?;
    let mut batches: u64 = 0;
    for (path, name) in files {
        let (sender, mut receiver) = mpsc::channel::<Vec<Item>>(1);
        let reader = spawn_reader(path.clone(), name.clone(), options.clone(), sender);
        while let Some(batch) = receiver.recv().await {
            let mut changed = Changed::default();
            let mut tx = connection.begin().await?;
            store::lock_library(&mut tx, &options.library.id).await?;
            let mut records = Vec::with_capacity(batch.len());
            for item in batch {
                summary.read += 1;
                match item {
                    Item::Issue(issue) => add_issue(summary, issue),
                    Item::Record(prepared) => records.push(*prepared),
                }
            }
            write_batch(&mut tx, options, &records, summary, &mut changed).await?;
            store::record_changes(&mut tx, &changed.0).await?;
            tx.commit().await?;
            all_changed.extend(changed.0.into_keys());
            batches += 1;
            // From the 2nd batch on: an import of one batch (the API's, most of them) pays nothing.
            if batches >= 2 && batches.is_power_of_two() {
                store::refresh_statistics(&mut connection).await?;
            }
        }
        match reader.await {
            Ok(Ok(())) => {}
            Ok(Err(issue)) => add_issue(summary, issue),
            Err(error) => return Err(CatalogError::Internal(format!("reader thread: {error}"))),
        }
    }
    Ok(all_changed)
}

fn add_issue(summary: &mut ImportSummary, issue: ImportIssue) {
    summary.skipped += 1;
    if summary.issues.len() < MAX_ISSUES {
        summary.issues.push(issue);
    } else {
        summary.issues_truncated = true;
    }
}

/// Reads and normalises on a blocking thread. An input error (unreadable file, hopeless XML)
/// ends the file and is returned as one issue.
fn spawn_reader(
    path: PathBuf,
    name: String,
    options: ImportOptions,
    sender: mpsc::Sender<Vec<Item>>,
) -> tokio::task::JoinHandle<Result<(), ImportIssue>> {
    tokio::task::spawn_blocking(move || {
        let input_issue = |reason: String| ImportIssue {
            file: name.clone(),
            index: 0,
            offset: 0,
            control_number: None,
            reason,
        };
        let file = std::fs::File::open(&path).map_err(|e| input_issue(format!("cannot open: {e}")))?;
        let reader =
            MarcReader::open(file, options.format).map_err(|e| input_issue(format!("cannot read: {e}")))?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut result = Ok(());
        for (index, item) in (1u64..).zip(reader) {
            let item = match item {
                Ok(record) => prepare(&record, &options).map_or_else(
                    |reason| {
                        Item::Issue(ImportIssue {
                            file: name.clone(),
                            index,
                            offset: 0,
                            control_number: record.control_number().map(str::to_owned),
                            reason,
                        })
                    },
                    |p| Item::Record(Box::new(p)),
                ),
                Err(ReadError::Record(error)) => Item::Issue(ImportIssue {
                    file: name.clone(),
                    index: error.index,
                    offset: error.offset,
                    control_number: error.control_number,
                    reason: error.reason,
                }),
                Err(ReadError::Input(reason)) => {
                    result = Err(ImportIssue {
                        index,
                        ..input_issue(reason)
                    });
                    break;
                }
            };
            batch.push(item);
            if batch.len() == BATCH && sender.blocking_send(std::mem::take(&mut batch)).is_err() {
                return result;
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        result
    })
}

/// Normalises a record and works out its copies and fingerprint: everything that needs no
/// database, done on the reader thread while the previous batch is written.
fn prepare(record: &sportello_core::catalog::Record, options: &ImportOptions) -> Result<Prepared, String> {
    let holdings = &options.holdings;
    let source_id = record
        .control_number()
        .ok_or("the record has no control number (001), so a re-import could not update it")?
        .to_owned();
    if source_id.len() > 200 {
        return Err("the control number (001) is longer than 200 characters".to_owned());
    }
    let bib = BibRecord::from_marc(record);
    if !record.is_deleted() && bib.title.is_empty() {
        return Err("the record has no title".to_owned());
    }
    let defaults;
    let mappings = if holdings.is_empty() {
        defaults = HoldingsMapping::defaults(record.flavour);
        &defaults[..]
    } else {
        holdings
    };
    let (mapping, listed) = holdings::copies(record, mappings);
    let data = record_to_json(&bib);
    let fingerprint = fingerprint(&data, &listed);
    let union_catalogue = mapping.is_some_and(|m| m.union_catalogue);
    let copies = resolve_copies(options, &source_id, &listed, union_catalogue);
    Ok(Prepared {
        deleted: record.is_deleted(),
        merge_key: bib.merge_key(),
        data,
        copies,
        fingerprint,
        source_id,
    })
}

/// What a re-import compares to tell an unchanged source record: SHA-256 over the normalised
/// record and its copies (each value length-prefixed, so no two different listings hash the
/// same input). `ring`'s SHA-256 uses the CPU's vector units; this runs once per record.
fn fingerprint(data: &str, copies: &[SourceCopy]) -> String {
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    let mut add = |value: Option<&str>| match value {
        Some(text) => {
            hasher.update(&(text.len() as u64 + 1).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        None => hasher.update(&0u64.to_le_bytes()),
    };
    add(Some(data));
    for copy in copies {
        add(copy.library_code.as_deref());
        add(copy.item_id.as_deref());
        add(copy.shelf_mark.as_deref());
        add(Some(copy.status.as_str()));
        add(copy.due_date.as_deref());
    }
    hex::encode(hasher.finish())
}

/// Writes one batch. Source records seen for the first time (the bulk of a first import) go
/// in with a few multi-row statements; updates, deletions and a source listed twice in the
/// batch go one by one, in file order, after them, which gives the same result as writing
/// every record in order.
async fn write_batch(
    tx: &mut Transaction<'_, Any>,
    options: &ImportOptions,
    records: &[Prepared],
    summary: &mut ImportSummary,
    changed: &mut Changed,
) -> Result<(), CatalogError> {
    let source_ids: Vec<&str> = records.iter().map(|p| p.source_id.as_str()).collect();
    let states = store::source_states(tx, &options.library.id, &source_ids).await?;
    let mut occurrences: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    for id in &source_ids {
        *occurrences.entry(id).or_default() += 1;
    }
    let (fresh, rest): (Vec<&Prepared>, Vec<&Prepared>) = records.iter().partition(|p| {
        !p.deleted && !states.contains_key(&p.source_id) && occurrences[p.source_id.as_str()] == 1
    });
    insert_fresh(tx, options, &fresh, summary, changed).await?;
    for prepared in rest {
        write(tx, options, prepared, summary, changed).await?;
    }
    Ok(())
}

/// Bulk path of [`write_batch`]: source records not stored before, each once in the batch.
async fn insert_fresh(
    tx: &mut Transaction<'_, Any>,
    options: &ImportOptions,
    fresh: &[&Prepared],
    summary: &mut ImportSummary,
    changed: &mut Changed,
) -> Result<(), CatalogError> {
    if fresh.is_empty() {
        return Ok(());
    }
    let library = &options.library;
    let keys: Vec<(&str, &str)> = fresh
        .iter()
        .map(|p| (p.merge_key.as_str(), p.data.as_str()))
        .collect();
    let records = store::ensure_records(tx, &keys).await?;
    let sources: Vec<store::NewSource<'_>> = fresh
        .iter()
        .zip(&records)
        .map(|(p, (record_id, created))| store::NewSource {
            source_id: &p.source_id,
            record_id,
            data: data_to_store(*created, &p.data),
            fingerprint: &p.fingerprint,
        })
        .collect();
    store::upsert_sources(tx, &library.id, &library.municipality, &sources).await?;
    let listed_copies: Vec<store::SourcedCopy<'_>> = fresh
        .iter()
        .zip(&records)
        .flat_map(|(p, (record_id, _))| {
            p.copies.iter().map(move |copy| store::SourcedCopy {
                copy,
                source_id: &p.source_id,
                record_id,
            })
        })
        .collect();
    store::upsert_copies(tx, &library.id, &listed_copies).await?;
    summary.copies += listed_copies.len() as u64;
    // A record this batch created holds exactly its one source's data, unless another source
    // of the batch merged into it: every record not created by its own source is recomputed.
    let mut recomputed = HashSet::new();
    for (record_id, created) in &records {
        if !created && recomputed.insert(record_id.as_str()) {
            recompute(tx, record_id).await?;
        }
    }
    summary.imported += fresh.len() as u64;
    for (id, created) in records {
        changed.record(id, created);
    }
    Ok(())
}

async fn write(
    tx: &mut Transaction<'_, Any>,
    options: &ImportOptions,
    prepared: &Prepared,
    summary: &mut ImportSummary,
    changed: &mut Changed,
) -> Result<(), CatalogError> {
    let library = &options.library;
    let state = store::source_state(tx, &library.id, &prepared.source_id).await?;
    if prepared.deleted {
        match state {
            Some(state) => {
                store::delete_copies_of_source(tx, &state.record_id, &library.id, &prepared.source_id)
                    .await?;
                store::delete_source(tx, &library.id, &prepared.source_id).await?;
                recompute(tx, &state.record_id).await?;
                changed.record(state.record_id, false);
                summary.deleted += 1;
            }
            None => summary.unchanged += 1,
        }
        return Ok(());
    }
    let fingerprint = &prepared.fingerprint;
    if state.as_ref().is_some_and(|s| &s.fingerprint == fingerprint) {
        summary.unchanged += 1;
        return Ok(());
    }
    let (record_id, created) = store::ensure_record(tx, &prepared.merge_key, &prepared.data).await?;
    store::upsert_source(
        tx,
        &library.id,
        &prepared.source_id,
        &library.municipality,
        &record_id,
        data_to_store(created, &prepared.data),
        fingerprint,
    )
    .await?;

    let copies = &prepared.copies;
    let keep: HashSet<(String, String)> = copies
        .iter()
        .map(|c| (c.library_id.clone(), c.item_id.clone()))
        .collect();
    // A source imported for the first time has no earlier copies to withdraw.
    if let Some(state) = &state {
        if state.record_id != record_id {
            store::move_copies_of_source(tx, &state.record_id, &record_id, &library.id, &prepared.source_id)
                .await?;
        }
        for (library_id, item_id, status) in
            store::copies_of_source(tx, &record_id, &library.id, &prepared.source_id).await?
        {
            if status != "withdrawn" && !keep.contains(&(library_id.clone(), item_id.clone())) {
                store::withdraw_copy(tx, &library_id, &item_id).await?;
                summary.withdrawn += 1;
            }
        }
    }
    for copy in copies {
        store::upsert_copy(tx, copy, &library.id, &prepared.source_id, &record_id).await?;
        summary.copies += 1;
    }
    // A record created by this very source already holds exactly its data.
    if !(created && state.is_none()) {
        recompute(tx, &record_id).await?;
    }
    if let Some(old) = state.as_ref().filter(|s| s.record_id != record_id) {
        recompute(tx, &old.record_id).await?;
        changed.record(old.record_id.clone(), false);
    }
    changed.record(record_id, created);
    if state.is_some() {
        summary.updated += 1;
    } else {
        summary.imported += 1;
    }
    Ok(())
}

/// The copies of a prepared record, each assigned to a library of the network.
fn resolve_copies(
    options: &ImportOptions,
    source_id: &str,
    listed: &[SourceCopy],
    union_catalogue: bool,
) -> Vec<CopyRow> {
    let own = &options.library;
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (n, copy) in listed.iter().enumerate() {
        let target = match &copy.library_code {
            Some(code) => match options.code_map.get(code) {
                Some((id, municipality)) => Some((id.clone(), municipality.clone())),
                None if own.codes.iter().any(|c| c == code) => {
                    Some((own.id.clone(), own.municipality.clone()))
                }
                None if union_catalogue => None,
                None => Some((own.id.clone(), own.municipality.clone())),
            },
            None if union_catalogue => None,
            None => Some((own.id.clone(), own.municipality.clone())),
        };
        let Some((library_id, municipality)) = target else {
            continue;
        };
        // Localisations carry no item number: one copy per (record, library code).
        let item_id = copy.item_id.clone().unwrap_or_else(|| match &copy.library_code {
            Some(code) => format!("{source_id}@{code}"),
            None => format!("{source_id}#{}", n + 1),
        });
        if !seen.insert((library_id.clone(), item_id.clone())) {
            continue;
        }
        rows.push(CopyRow {
            library_id,
            item_id,
            municipality,
            shelf_mark: copy.shelf_mark.clone(),
            status: copy.status.as_str().to_owned(),
            due_date: copy.due_date.clone(),
        });
    }
    rows
}

/// What a source record stores of its own data: nothing when its record was created for it
/// (the record's data is then exactly its data; see [`recompute`]).
fn data_to_store(record_created: bool, data: &str) -> Option<&str> {
    (!record_created).then_some(data)
}

/// Recomputes a record's merged data from its sources, or removes it when none is left.
async fn recompute(tx: &mut Transaction<'_, Any>, record_id: &str) -> Result<(), CatalogError> {
    let sources = store::source_data(tx, record_id).await?;
    if sources.is_empty() {
        store::delete_withdrawn_copies(tx, record_id).await?;
        store::delete_orphan_record(tx, record_id).await?;
        return Ok(());
    }
    // A record's only source keeps no data of its own (the record's is its). Once another
    // source has joined, that data is stored apart before the merge below replaces the record's.
    let several = sources.len() > 1;
    let mut datas = Vec::with_capacity(sources.len());
    let mut record_data = None;
    for source in sources {
        if let Some(data) = source.data {
            datas.push(data);
            continue;
        }
        if record_data.is_none() {
            record_data = store::record_data(tx, record_id).await?;
        }
        let data = record_data.clone().unwrap_or_default();
        if several {
            store::set_source_data(tx, &source.library_id, &source.source_id, &data).await?;
        }
        datas.push(data);
    }
    let mut merged: Option<BibRecord> = None;
    for data in &datas {
        let Some(record) = record_from_json(data) else {
            continue;
        };
        match merged.as_mut() {
            Some(merged) => merged.merge_from(&record),
            None => merged = Some(record),
        }
    }
    if let Some(merged) = merged {
        store::set_record_data(tx, record_id, &record_to_json(&merged)).await?;
    }
    Ok(())
}
