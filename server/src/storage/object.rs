//! An S3-compatible bucket through the `object_store` crate: objects at `PREFIX/KEY`.
//!
//! An upload is buffered up to `part_bytes`; a smaller file is sent with one PUT once complete
//! and within its limits, a larger one becomes a multipart upload, part by part, and is aborted
//! when the body goes over its limit or breaks, so no object and no parts are left. An object
//! appears at its key only when complete (S3 publishes it on the PUT or on completing the
//! multipart upload). A request dropped in the middle (the client gone) cannot abort: the
//! bucket's lifecycle rule for incomplete multipart uploads removes those parts
//! (docs/deployment.md, "File storage").

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use tokio::io::AsyncWriteExt;

use super::{ByteStream, Key, StorageError, unavailable};
use crate::config::S3Config;
use crate::upload::{self, Limits, Saved, UploadError};

pub(super) struct ObjectBackend {
    store: Arc<dyn ObjectStore>,
    prefix: Vec<String>,
    part_bytes: usize,
    /// For messages: the bucket, endpoint and prefix (no credentials).
    description: String,
}

impl ObjectBackend {
    /// The bucket of `config`; credentials go to the client and nowhere else.
    pub(super) fn s3(config: &S3Config) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_allow_http(config.allow_http)
            .with_virtual_hosted_style_request(!config.path_style);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            builder = builder
                .with_access_key_id(id.expose())
                .with_secret_access_key(secret.expose());
        }
        let store = builder.build().map_err(|e| anyhow::anyhow!("storage.s3: {e}"))?;
        let prefix: Vec<String> = config
            .prefix
            .split('/')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        let description = format!(
            "the S3 bucket {} at {}{}",
            config.bucket,
            config.endpoint.as_deref().unwrap_or("AWS"),
            if prefix.is_empty() {
                String::new()
            } else {
                format!(", under {}/", prefix.join("/"))
            }
        );
        Ok(Self {
            store: Arc::new(store),
            prefix,
            part_bytes: usize::try_from(config.part_bytes).unwrap_or(usize::MAX),
            description,
        })
    }

    pub(super) fn describe(&self) -> String {
        self.description.clone()
    }

    /// Lists the prefix once: the bucket exists and the credentials are accepted.
    pub(super) async fn check(&self) -> anyhow::Result<()> {
        let prefix = self.path(None);
        self.store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", self.description))?;
        Ok(())
    }

    fn path(&self, key: Option<&Key>) -> Path {
        let names = self.prefix.iter().map(String::as_str);
        match key {
            Some(key) => names.chain(key.as_str().split('/')).collect(),
            None => names.collect(),
        }
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
        let path = self.path(Some(key));
        let mut writer = BufWriter::with_capacity(Arc::clone(&self.store), path.clone(), self.part_bytes);
        match upload::copy_within(body, &mut writer, limits).await {
            Ok(saved) => match writer.shutdown().await {
                Ok(()) => Ok(saved),
                Err(error) => {
                    let _ = self.store.delete(&path).await;
                    Err(UploadError::Io(error))
                }
            },
            Err(error) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%key, error = %abort, "multipart upload not aborted; the bucket's lifecycle rule will remove its parts");
                }
                Err(error)
            }
        }
    }

    pub(super) async fn read(&self, key: &Key) -> Result<ByteStream, StorageError> {
        match self.store.get(&self.path(Some(key))).await {
            Ok(result) => Ok(result.into_stream().map_err(std::io::Error::other).boxed()),
            Err(object_store::Error::NotFound { .. }) => Err(StorageError::Missing(key.clone())),
            Err(error) => Err(unavailable(error)),
        }
    }

    pub(super) async fn delete(&self, key: &Key) -> Result<(), StorageError> {
        match self.store.delete(&self.path(Some(key))).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    pub(super) async fn is_empty_under(&self, prefix: &Key) -> Result<bool, StorageError> {
        let path = self.path(Some(prefix));
        match self.store.list(Some(&path)).next().await {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(error)) => Err(unavailable(error)),
        }
    }
}
