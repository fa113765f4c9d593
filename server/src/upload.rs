//! Uploads streamed to a file or another writer, never held in memory: the one way a request
//! body larger than a JSON document (a MARC export, a permit document) is stored.

use std::path::Path;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// A body written to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex (recorded, and checked again on download).
    pub sha256: String,
}

/// Why an upload was not saved. The partial file is removed in every case.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the limit: refused at the first byte past it, not after reading the rest.
    #[error("upload over {0} bytes")]
    TooLarge(u64),
    /// The first bytes are not what the caller accepts (a file type promised by its name).
    #[error("upload refused by its first bytes")]
    Refused,
    /// Nothing was sent, where the first bytes are checked (a size-only upload may be empty).
    #[error("empty upload")]
    Empty,
    /// The client stopped sending, or the connection broke.
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// The file could not be written.
    #[error("upload file: {0}")]
    Io(#[from] std::io::Error),
}

/// What an upload may be: its size limit, and a check of its first `head_len` bytes (made as
/// soon as they have arrived, or at the end of a shorter body). A checked upload cannot be
/// empty; one with only a size limit may be (an empty MARC file imports nothing).
pub struct Limits<'a> {
    /// Most bytes accepted.
    pub max_bytes: u64,
    /// How many leading bytes `accept_head` needs (0: no check).
    pub head_len: usize,
    /// Whether the leading bytes are acceptable.
    pub accept_head: &'a (dyn Fn(&[u8]) -> bool + Sync),
}

impl Limits<'_> {
    /// Only a size limit.
    pub fn size(max_bytes: u64) -> Limits<'static> {
        Limits {
            max_bytes,
            head_len: 0,
            accept_head: &|_| true,
        }
    }
}

/// Reads the file at `from` in chunks and hashes it; with `to`, writes the same bytes to that
/// new file and flushes it to disk. The copy and its hash come from one read, so the hash is
/// the hash of what was copied.
pub async fn hash_and_copy(from: &Path, to: Option<&Path>) -> std::io::Result<Saved> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut source = tokio::fs::File::open(from).await?;
    let mut target = match to {
        Some(to) => Some(tokio::fs::File::create_new(to).await?),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = source.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
        if let Some(target) = target.as_mut() {
            target.write_all(&buffer[..read]).await?;
        }
    }
    if let Some(mut target) = target {
        target.flush().await?;
        target.sync_all().await?;
    }
    Ok(Saved {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Streams `body` into a new file at `path`, hashing as it goes, and flushes it to disk. On any
/// error the file is removed and nothing is left behind.
pub async fn save<S, E>(body: S, path: &Path, limits: &Limits<'_>) -> Result<Saved, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let saved = write(body, path, limits).await;
    if saved.is_err() {
        let _ = tokio::fs::remove_file(path).await;
    }
    saved
}

async fn write<S, E>(body: S, path: &Path, limits: &Limits<'_>) -> Result<Saved, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(path).await?;
    let saved = copy_within(body, &mut file, limits).await?;
    file.flush().await?;
    file.sync_all().await?;
    Ok(saved)
}

/// Streams `body` into `sink` within `limits`, hashing as it goes: the one loop behind a file
/// upload and an object-store upload (`crate::storage`). The caller finishes the sink (flush,
/// complete the multipart upload) on success and discards what was written on error.
pub async fn copy_within<S, E, W>(
    mut body: S,
    sink: &mut W,
    limits: &Limits<'_>,
) -> Result<Saved, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(limits.head_len);
    let mut head_checked = limits.head_len == 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limits.max_bytes {
            return Err(UploadError::TooLarge(limits.max_bytes));
        }
        if !head_checked {
            let wanted = limits.head_len - head.len();
            head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
            if head.len() >= limits.head_len {
                head_checked = true;
                if !(limits.accept_head)(&head) {
                    return Err(UploadError::Refused);
                }
            }
        }
        hasher.update(&chunk);
        sink.write_all(&chunk).await?;
    }
    if size == 0 && limits.head_len > 0 {
        return Err(UploadError::Empty);
    }
    if !head_checked && !(limits.accept_head)(&head) {
        return Err(UploadError::Refused);
    }
    Ok(Saved {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an error is the one a case expects.
    type Expected = fn(&UploadError) -> bool;

    fn is_pdf(head: &[u8]) -> bool {
        head.starts_with(b"%PDF")
    }

    const PDF_UP_TO_10_BYTES: Limits<'static> = Limits {
        max_bytes: 10,
        head_len: 4,
        accept_head: &is_pdf,
    };

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures_util::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::from_static(c)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn saves_and_hashes_a_body_within_its_limits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc");
        let saved = save(body(&[b"%P", b"DF-1"]), &path, &PDF_UP_TO_10_BYTES)
            .await
            .unwrap();
        assert_eq!(saved.size, 6);
        assert_eq!(saved.sha256, hex::encode(Sha256::digest(b"%PDF-1")));
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-1");
    }

    #[tokio::test]
    async fn leaves_nothing_behind_when_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc");
        let cases: [(&[&'static [u8]], Expected); 4] = [
            (&[b"%PDF-1", b"234567"], |e| {
                matches!(e, UploadError::TooLarge(10))
            }),
            (&[b"GIF89a"], |e| matches!(e, UploadError::Refused)),
            (&[b"%P"], |e| matches!(e, UploadError::Refused)),
            (&[], |e| matches!(e, UploadError::Empty)),
        ];
        for (chunks, expected) in cases {
            let error = save(body(chunks), &path, &PDF_UP_TO_10_BYTES).await.unwrap_err();
            assert!(expected(&error), "{chunks:?}: {error}");
            assert!(!path.exists());
        }
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"%PDF")),
            Err(std::io::Error::other("reset")),
        ]);
        let error = save(broken, &path, &Limits::size(100)).await.unwrap_err();
        assert!(matches!(error, UploadError::Interrupted(_)));
        assert!(!path.exists());
        let empty = save(body(&[]), &path, &Limits::size(100)).await.unwrap();
        assert_eq!(empty.size, 0);
    }
}
