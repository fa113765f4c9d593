//! Backup and restore of an embedded Sportello: the SQLite database and the permit documents,
//! in one directory with a manifest of every file's SHA-256.
//!
//! The documents are read from, and restored into, the configured file store
//! (`crate::storage`): the data directory, or the S3 bucket when `storage.kind = "s3"`, so a
//! backup holds everything either way (a bucket's own versioning or replication is still the
//! better protection of a large one; docs/deployment.md, "Backup and restore").
//!
//! A backup may be taken while the server runs: the database is copied as of one instant
//! (`VACUUM INTO`), and the documents copied are those that copy records (a document is in
//! its store before its row is committed, and documents are never deleted). Every document is
//! checked against the hash recorded at upload while it is copied; the manifest is written last,
//! so a directory without one is not a backup. A restore checks every hash before it writes
//! anything, goes only into an empty data directory, applies the migrations of this version and
//! rebuilds the catalogue's search index (derived data, not backed up).
//!
//! On PostgreSQL the database is backed up with its own tools (`pg_dump`); see
//! docs/deployment.md, "Backup and restore".

mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::config::{Config, StorageKind};
use crate::db::{Backend, Db};
use crate::permits::documents::document_key;
use crate::storage::{Key, Storage};
use crate::upload::{Limits, Saved, hash_and_copy};

/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The version of the backup layout; a restore refuses others.
const FORMAT: u32 = 1;
/// The database's file name in a backup directory.
const DATABASE_FILE: &str = "sportello.db";
/// Where the permit documents are, in a backup and in the store (`document_key`).
const DOCUMENTS_DIR: &str = "permits";

/// The tables whose rows a backup counts, and a restore checks it restored.
pub(crate) const COUNTED: &[&str] = &[
    "municipalities",
    "users",
    "role_grants",
    "permits",
    "permit_documents",
    "payment_positions",
    "payment_receipts",
    "libraries",
    "catalog_records",
    "catalog_copies",
    "events",
    "event_follows",
    "devices",
    "inbox_messages",
];

/// What a backup directory holds, written last as `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The layout's version ([`FORMAT`]).
    pub format: u32,
    /// The Sportello version that wrote it.
    pub sportello_version: String,
    /// When the database was copied (RFC 3339, UTC).
    pub created_at: String,
    /// The database file.
    pub database: BackedUpFile,
    /// Every permit document, with the hash recorded at upload.
    pub documents: Vec<BackedUpFile>,
    /// Rows per table in the copied database.
    pub counts: BTreeMap<String, i64>,
}

/// One file of a backup: its path relative to the backup directory, size and SHA-256 (hex).
#[derive(Debug, Serialize, Deserialize)]
pub struct BackedUpFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What `backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: Manifest,
    /// Bytes of the database and the documents together.
    pub bytes: u64,
}

/// What `restore` put back.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// Records in the rebuilt catalogue search index.
    pub indexed: u64,
}

/// Backs up the data of `config` into `to`, a directory that must not exist or be empty.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<BackupReport> {
    let database = sqlite_file(config)?;
    ensure!(
        database.is_file(),
        "no database at {}: nothing to back up (check --data-dir)",
        database.display()
    );
    prepare_empty_dir(to)?;
    let db = Db::connect(&config.database_url()).await?;
    let created_at = jiff::Timestamp::now().to_string();
    let copy = to.join(DATABASE_FILE);
    store::vacuum_into(&db, &copy.to_string_lossy())
        .await
        .context("copying the database")?;
    db.close().await;

    // The documents and counts of the copy, not of the live database, which moves on.
    let snapshot = Db::connect(&sqlite_url(&copy)).await?;
    let documents = store::documents(&snapshot).await?;
    let counts = counts(&snapshot).await?;
    snapshot.close().await;

    let live = Storage::open(&config.storage, config.data_dir.clone()).await?;
    let backup_files = Storage::local(to.to_owned());
    let mut bytes = 0;
    let mut entries = Vec::with_capacity(documents.len());
    for document in &documents {
        let key = document_key(&document.permit_id, &document.id)?;
        let copied = copy_document(&live, &backup_files, &key).await.with_context(|| {
            format!(
                "copying document {} of permit {} from {}",
                document.id,
                document.permit_id,
                live.describe()
            )
        })?;
        if copied.sha256 != document.sha256 || i64::try_from(copied.size).ok() != Some(document.size_bytes) {
            bail!(
                "document {} of permit {} is damaged: SHA-256 {} ({} bytes) where {} ({} bytes) was \
                 recorded at upload; the backup in {} is incomplete (it has no manifest)",
                document.id,
                document.permit_id,
                copied.sha256,
                copied.size,
                document.sha256,
                document.size_bytes,
                to.display()
            );
        }
        bytes += copied.size;
        entries.push(BackedUpFile {
            path: key.as_str().to_owned(),
            size: copied.size,
            sha256: copied.sha256,
        });
    }
    let database = hash_and_copy(&copy, None).await?;
    bytes += database.size;
    let manifest = Manifest {
        format: FORMAT,
        sportello_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        database: BackedUpFile {
            path: DATABASE_FILE.to_owned(),
            size: database.size,
            sha256: database.sha256,
        },
        documents: entries,
        counts,
    };
    let partial = to.join(format!("{MANIFEST}.part"));
    tokio::fs::write(&partial, serde_json::to_vec_pretty(&manifest)?).await?;
    tokio::fs::rename(&partial, to.join(MANIFEST)).await?;
    Ok(BackupReport { manifest, bytes })
}

/// Restores the backup in `from` into the data directory of `config`, which must hold no
/// database and no documents.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<RestoreReport> {
    let database = sqlite_file(config)?;
    let manifest = read_manifest(from).await?;
    // Every file checked before anything is written.
    for file in std::iter::once(&manifest.database).chain(&manifest.documents) {
        verify(from, file, None).await?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        ensure!(
            !path.exists(),
            "{} exists: restore goes into an empty data directory (move the present one aside)",
            path.display()
        );
    }
    let live = Storage::open(&config.storage, config.data_dir.clone()).await?;
    if !live.is_empty_under(&Key::new(&[DOCUMENTS_DIR])?).await? {
        bail!(
            "{} holds documents under {DOCUMENTS_DIR}/: restore goes into an empty store (move the \
             present data directory aside, or use a new bucket or prefix)",
            live.describe()
        );
    }

    if let Some(parent) = database.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = PathBuf::from(format!("{}.restoring", database.display()));
    let _ = tokio::fs::remove_file(&partial).await;
    verify(from, &manifest.database, Some(&partial)).await?;
    tokio::fs::rename(&partial, &database).await?;
    let backup_files = Storage::local(from.to_owned());
    for file in &manifest.documents {
        let key = Key::new(&file.path.split('/').collect::<Vec<_>>())?;
        let copied = copy_document(&backup_files, &live, &key)
            .await
            .with_context(|| format!("restoring {} into {}", file.path, live.describe()))?;
        if copied.sha256 != file.sha256 || copied.size != file.size {
            let _ = live.delete(&key).await;
            bail!(
                "{} changed while it was restored: SHA-256 {} ({} bytes) where the manifest says \
                 {} ({} bytes)",
                file.path,
                copied.sha256,
                copied.size,
                file.sha256,
                file.size
            );
        }
    }

    let db = Db::connect(&config.database_url()).await?;
    let restored = counts(&db).await?;
    for (table, expected) in &manifest.counts {
        let found = restored.get(table).copied().unwrap_or_default();
        ensure!(
            found == *expected,
            "table {table}: {found} rows restored where the backup counted {expected}"
        );
    }
    // A backup of an earlier version gets this version's schema.
    db.migrate().await?;
    let (indexed, _) = catalog::Collection::new(db.clone())
        .rebuild_index(&config.data_dir)
        .await?;
    db.close().await;
    Ok(RestoreReport { manifest, indexed })
}

/// Reads and checks the manifest of the backup in `from`.
async fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let bytes = tokio::fs::read(&path).await.with_context(|| {
        format!(
            "{} cannot be read: not a complete Sportello backup",
            path.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a backup manifest", path.display()))?;
    ensure!(
        manifest.format == FORMAT,
        "{}: backup format {} (this Sportello reads format {FORMAT})",
        path.display(),
        manifest.format
    );
    for file in std::iter::once(&manifest.database).chain(&manifest.documents) {
        ensure!(
            is_plain_relative(&file.path),
            "{}: the path {:?} leaves the backup directory",
            path.display(),
            file.path
        );
    }
    Ok(manifest)
}

/// Checks that `file` of the backup in `from` has its recorded size and hash, copying it to
/// `to` when given (removed again when it does not match).
async fn verify(from: &Path, file: &BackedUpFile, to: Option<&Path>) -> anyhow::Result<()> {
    let read = hash_and_copy(&from.join(&file.path), to)
        .await
        .with_context(|| format!("reading {} of the backup", file.path))?;
    if read.sha256 != file.sha256 || read.size != file.size {
        if let Some(to) = to {
            let _ = tokio::fs::remove_file(to).await;
        }
        bail!(
            "{} of the backup is damaged: SHA-256 {} ({} bytes) where the manifest says {} ({} \
             bytes); nothing was restored from it",
            file.path,
            read.sha256,
            read.size,
            file.sha256,
            file.size
        );
    }
    Ok(())
}

/// Copies `key` from one store to the other, streamed; returns the size and hash of what was
/// written.
async fn copy_document(from: &Storage, to: &Storage, key: &Key) -> anyhow::Result<Saved> {
    let bytes = from.read(key).await?;
    Ok(to.put(key, bytes, &Limits::size(u64::MAX)).await?)
}

/// Rows of each of [`COUNTED`].
async fn counts(db: &Db) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for table in COUNTED {
        counts.insert((*table).to_owned(), store::count(db, table).await?);
    }
    Ok(counts)
}

/// The SQLite file of `config`'s database; PostgreSQL is refused with what to use instead.
fn sqlite_file(config: &Config) -> anyhow::Result<PathBuf> {
    let url = config.database_url();
    if Backend::from_url(&url)? == Backend::Postgres {
        let documents = match config.storage.kind {
            StorageKind::Local => format!(
                "the documents directory {} with your file backups",
                config.data_dir.join(DOCUMENTS_DIR).display()
            ),
            StorageKind::S3 => format!(
                "the documents in the bucket {} by the object store's own means (versioning, \
                 replication)",
                config.storage.s3.bucket
            ),
        };
        bail!(
            "sportello backup and restore work on the embedded SQLite database; on PostgreSQL \
             back up the database with pg_dump and {documents} (docs/deployment.md, \"Backup and \
             restore\")"
        );
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(&url);
    let path = path.split('?').next().unwrap_or(path);
    ensure!(
        !path.is_empty() && path != ":memory:",
        "the database {url} is not a file"
    );
    Ok(PathBuf::from(path))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Makes `dir` if missing; refuses a directory that holds anything.
fn prepare_empty_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        ensure!(dir.is_dir(), "{} is not a directory", dir.display());
        ensure!(
            std::fs::read_dir(dir)?.next().is_none(),
            "{} is not empty: back up into a new directory",
            dir.display()
        );
    } else {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

/// A path of plain names below the directory it is joined to (no `..`, no root).
fn is_plain_relative(path: &str) -> bool {
    Path::new(path)
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)))
        && !path.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_in_the_backup() {
        assert!(is_plain_relative("permits/abc/def"));
        assert!(is_plain_relative("sportello.db"));
        assert!(!is_plain_relative("../sportello.db"));
        assert!(!is_plain_relative("/etc/passwd"));
        assert!(!is_plain_relative("permits/../../x"));
        assert!(!is_plain_relative(""));
    }
}
