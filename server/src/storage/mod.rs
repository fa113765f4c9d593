//! File storage: where uploaded files (permit documents) are kept, behind one interface with two
//! stores, chosen by `[storage] kind` ([`crate::config::StorageConfig`]):
//!
//! - [`local`]: files under the data directory, at `DATA_DIR/KEY` (the embedded default, and the
//!   layout of every earlier version, so existing data keeps working);
//! - [`object`]: an S3-compatible bucket, at `PREFIX/KEY`, shared by several instances.
//!
//! Both ways stream: an upload goes through [`crate::upload::copy_within`] (size limit enforced
//! at the first byte past it, SHA-256 computed on the way), a download is read in chunks. A
//! download is checked against the size and hash recorded at upload ([`Storage::get`]).
//!
//! What happens on a mismatch. A document is hashed *before* its first byte is sent: a
//! damaged one is refused with a clear problem, never served (a small one is read once into
//! memory and checked; a larger one is read twice, once to check and once to send, because S3
//! cannot be asked for a verified read and holding a 20 MiB document in memory per download
//! does not scale). The bytes being sent are hashed again as they go, and the last chunk is
//! held back until that hash matches: an object replaced between the two reads ends the
//! response short of its `Content-Length`, so no client can take it as complete.

mod local;
mod object;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::config::{StorageConfig, StorageKind};
use crate::upload::{Limits, Saved, UploadError};

/// The bytes of a stored file, in chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Documents up to this size are read once into memory and checked before they are sent.
const READ_ONCE_MAX: u64 = 1024 * 1024;

/// Where a file is in a store: plain names joined by `/` (`permits/ID/DOCUMENT`), the same
/// relative path under the data directory and under the bucket's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// The key of these names; a name that is empty, `.`, `..` or holds a separator is refused
    /// (keys come from the database, but a key must never leave its store).
    pub fn new(names: &[&str]) -> Result<Self, StorageError> {
        let plain = |name: &&str| {
            !name.is_empty() && *name != "." && *name != ".." && !name.contains(['/', '\\', '\0'])
        };
        if names.is_empty() || !names.iter().all(plain) {
            return Err(StorageError::Unavailable(format!("not a storage key: {names:?}")));
        }
        Ok(Self(names.join("/")))
    }

    /// The key as a relative path (`permits/ID/DOCUMENT`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What was recorded of a file at upload, to check it against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// Why a stored file cannot be given back.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Nothing is stored under the key.
    #[error("{0}: not in storage")]
    Missing(Key),
    /// The stored bytes are not those recorded at upload.
    #[error(
        "{key}: {size} bytes with SHA-256 {sha256} in storage where {} bytes with SHA-256 {} \
         were recorded at upload",
        recorded.size,
        recorded.sha256
    )]
    Damaged {
        key: Key,
        size: u64,
        sha256: String,
        recorded: Recorded,
    },
    /// The store failed (disk, network, credentials).
    #[error("storage: {0}")]
    Unavailable(String),
}

/// The file store of a process.
pub struct Storage {
    backend: Backend,
}

enum Backend {
    Local(local::LocalStore),
    Object(object::ObjectBackend),
}

impl Storage {
    /// Files under `dir` (the embedded default).
    pub fn local(dir: PathBuf) -> Self {
        Self {
            backend: Backend::Local(local::LocalStore::new(dir)),
        }
    }

    /// The store `config` names; local files go under `data_dir`. An object store is reached
    /// once here, so a wrong bucket, endpoint or key stops the start-up rather than the first
    /// upload.
    pub async fn open(config: &StorageConfig, data_dir: PathBuf) -> anyhow::Result<Arc<Self>> {
        let storage = match config.kind {
            StorageKind::Local => Self::local(data_dir),
            StorageKind::S3 => {
                let backend = object::ObjectBackend::s3(&config.s3)?;
                backend.check().await?;
                Self {
                    backend: Backend::Object(backend),
                }
            }
        };
        tracing::info!(storage = %storage.describe(), "file storage ready");
        Ok(Arc::new(storage))
    }

    /// Where the files are, for logs and messages (never credentials).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(store) => store.describe(),
            Backend::Object(store) => store.describe(),
        }
    }

    /// Whether the files are in the data directory (what a backup copies as files).
    pub fn is_local(&self) -> bool {
        matches!(self.backend, Backend::Local(_))
    }

    /// Streams `body` to `key` within `limits`, hashing it on the way. The file is there only
    /// once complete: on any error (over the limit, refused, interrupted) nothing is left.
    pub async fn put<S, E>(&self, key: &Key, body: S, limits: &Limits<'_>) -> Result<Saved, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        match &self.backend {
            Backend::Local(store) => store.put(key, body, limits).await,
            Backend::Object(store) => store.put(key, body, limits).await,
        }
    }

    /// The stored bytes of `key`, unchecked (a backup checks them itself).
    pub async fn read(&self, key: &Key) -> Result<ByteStream, StorageError> {
        match &self.backend {
            Backend::Local(store) => store.read(key).await,
            Backend::Object(store) => store.read(key).await,
        }
    }

    /// The bytes of `key`, checked against what was recorded at upload before the first one is
    /// given and again as they are sent (see the module's documentation).
    pub async fn get(&self, key: &Key, recorded: &Recorded) -> Result<ByteStream, StorageError> {
        if recorded.size <= READ_ONCE_MAX {
            let bytes = collect(self.read(key).await?, recorded.size).await?;
            let saved = Saved {
                size: bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(&bytes)),
            };
            check(key, &saved, recorded)?;
            return Ok(futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) }).boxed());
        }
        let saved = hash(self.read(key).await?).await?;
        check(key, &saved, recorded)?;
        Ok(verified(self.read(key).await?, key.clone(), recorded.clone()))
    }

    /// Removes `key`; a key already gone is not an error.
    pub async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        match &self.backend {
            Backend::Local(store) => store.delete(key).await,
            Backend::Object(store) => store.delete(key).await,
        }
    }

    /// Whether nothing is stored under the key `prefix` (a restore writes only into an empty
    /// store).
    pub async fn is_empty_under(&self, prefix: &Key) -> Result<bool, StorageError> {
        match &self.backend {
            Backend::Local(store) => store.is_empty_under(prefix),
            Backend::Object(store) => store.is_empty_under(prefix).await,
        }
    }
}

/// Compares what was read with what was recorded.
fn check(key: &Key, saved: &Saved, recorded: &Recorded) -> Result<(), StorageError> {
    if saved.size == recorded.size && saved.sha256 == recorded.sha256 {
        Ok(())
    } else {
        Err(StorageError::Damaged {
            key: key.clone(),
            size: saved.size,
            sha256: saved.sha256.clone(),
            recorded: recorded.clone(),
        })
    }
}

fn unavailable(error: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(error.to_string())
}

/// Reads a whole small file; reading stops past `size` bytes (a file grown behind the server's
/// back is damaged whatever follows).
async fn collect(mut stream: ByteStream, size: u64) -> Result<Bytes, StorageError> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(unavailable)?);
        if bytes.len() as u64 > size {
            break;
        }
    }
    Ok(Bytes::from(bytes))
}

/// Size and SHA-256 of a stream.
pub async fn hash(mut stream: ByteStream) -> Result<Saved, StorageError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unavailable)?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok(Saved {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Passes `stream` on, hashing it, and holds the last chunk back until the whole matches
/// `recorded`: a mismatch ends the stream with an error instead (the response is cut short).
fn verified(stream: ByteStream, key: Key, recorded: Recorded) -> ByteStream {
    struct State {
        stream: ByteStream,
        hasher: Sha256,
        size: u64,
        held: Option<Bytes>,
        done: bool,
        key: Key,
        recorded: Recorded,
    }
    let state = State {
        stream,
        hasher: Sha256::new(),
        size: 0,
        held: None,
        done: false,
        key,
        recorded,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        loop {
            match state.stream.next().await {
                Some(Ok(chunk)) => {
                    state.size += chunk.len() as u64;
                    state.hasher.update(&chunk);
                    if let Some(previous) = state.held.replace(chunk) {
                        return Some((Ok(previous), state));
                    }
                }
                Some(Err(error)) => {
                    state.done = true;
                    return Some((Err(error), state));
                }
                None => {
                    state.done = true;
                    let saved = Saved {
                        size: state.size,
                        sha256: hex::encode(std::mem::take(&mut state.hasher).finalize()),
                    };
                    return match check(&state.key, &saved, &state.recorded) {
                        Ok(()) => state.held.take().map(|last| (Ok(last), state)),
                        Err(damaged) => {
                            tracing::error!(%damaged, "stored file changed while it was sent; the response is cut short");
                            Some((Err(std::io::Error::other(damaged.to_string())), state))
                        }
                    };
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
        .boxed()
    }

    fn recorded(bytes: &[u8]) -> Recorded {
        Recorded {
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }

    async fn drain(mut stream: ByteStream) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(_) => return (out, false),
            }
        }
        (out, true)
    }

    #[test]
    fn keys_are_plain_names() {
        assert_eq!(Key::new(&["permits", "a", "b"]).unwrap().as_str(), "permits/a/b");
        for bad in [&["permits", ".."][..], &["a/b"], &[""], &[], &["."], &["a\\b"]] {
            assert!(Key::new(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_stream_that_differs_from_the_record_is_cut_before_its_last_chunk() {
        let key = Key::new(&["k"]).unwrap();
        let good = verified(chunks(&[b"ab", b"cd", b"ef"]), key.clone(), recorded(b"abcdef"));
        assert_eq!(drain(good).await, (b"abcdef".to_vec(), true));
        let bad = verified(chunks(&[b"ab", b"cd", b"eX"]), key.clone(), recorded(b"abcdef"));
        assert_eq!(drain(bad).await, (b"abcd".to_vec(), false));
        let short = verified(chunks(&[b"abc"]), key.clone(), recorded(b"abcdef"));
        assert_eq!(drain(short).await, (Vec::new(), false));
        let empty = verified(chunks(&[]), key, recorded(b""));
        assert_eq!(drain(empty).await, (Vec::new(), true));
    }

    #[tokio::test]
    async fn local_files_are_checked_before_they_are_served() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::local(dir.path().to_owned());
        let key = Key::new(&["permits", "p", "d"]).unwrap();
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"%PDF-1"))]);
        let saved = storage.put(&key, body, &Limits::size(100)).await.unwrap();
        assert_eq!(std::fs::read(dir.path().join("permits/p/d")).unwrap(), b"%PDF-1");
        let record = Recorded {
            size: saved.size,
            sha256: saved.sha256,
        };
        let (bytes, complete) = drain(storage.get(&key, &record).await.unwrap()).await;
        assert_eq!((bytes.as_slice(), complete), (&b"%PDF-1"[..], true));
        std::fs::write(dir.path().join("permits/p/d"), b"%PDF-2").unwrap();
        assert!(matches!(
            storage.get(&key, &record).await,
            Err(StorageError::Damaged { size: 6, .. })
        ));
        assert!(
            !storage
                .is_empty_under(&Key::new(&["permits"]).unwrap())
                .await
                .unwrap()
        );
        storage.delete(&key).await.unwrap();
        storage.delete(&key).await.unwrap();
        assert!(matches!(
            storage.get(&key, &record).await,
            Err(StorageError::Missing(_))
        ));
        let too_large =
            futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"0123456789"))]);
        assert!(storage.put(&key, too_large, &Limits::size(4)).await.is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("permits/p")).unwrap().count(),
            0
        );
    }
}
