//! Files under a directory: `DIR/KEY`, written as `KEY.part` and renamed once complete and
//! flushed to disk, so a file at its key is always whole (the layout of every earlier version).

use std::path::PathBuf;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};

use super::{ByteStream, Key, StorageError, unavailable};
use crate::upload::{self, Limits, Saved, UploadError};

/// Bytes read from disk at a time.
const CHUNK: usize = 64 * 1024;

pub(super) struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub(super) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub(super) fn describe(&self) -> String {
        format!("the directory {}", self.dir.display())
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(key.as_str())
    }

    pub(super) async fn put<S, E>(
        &self,
        key: &Key,
        body: S,
        limits: &Limits<'_>,
    ) -> Result<Saved, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let part = PathBuf::from(format!("{}.part", path.display()));
        let saved = upload::save(body, &part, limits).await?;
        if let Err(error) = tokio::fs::rename(&part, &path).await {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(error.into());
        }
        Ok(saved)
    }

    pub(super) async fn read(&self, key: &Key) -> Result<ByteStream, StorageError> {
        let file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StorageError::Missing(key.clone()));
            }
            Err(error) => return Err(unavailable(error)),
        };
        let chunks = futures_util::stream::unfold(file, |mut file| async move {
            use tokio::io::AsyncReadExt;
            let mut buffer = vec![0u8; CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(read) => {
                    buffer.truncate(read);
                    Some((Ok(Bytes::from(buffer)), file))
                }
                Err(error) => Some((Err(error), file)),
            }
        });
        Ok(chunks.boxed())
    }

    pub(super) async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(unavailable(error)),
            _ => Ok(()),
        }
    }

    pub(super) fn is_empty_under(&self, prefix: &Key) -> Result<bool, StorageError> {
        match std::fs::read_dir(self.path(prefix)) {
            Ok(mut entries) => Ok(entries.next().is_none()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(error) => Err(unavailable(error)),
        }
    }
}
