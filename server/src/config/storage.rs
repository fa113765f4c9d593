//! The `[storage]` section: where uploaded files (permit documents) are kept, the data directory
//! or an S3-compatible object store (see docs/deployment.md, "File storage").

use serde::{Deserialize, Serialize};

use super::Secret;

/// The smallest part S3 accepts in a multipart upload (all but the last part).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// Which store holds the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under `data_dir` (the embedded default; one machine).
    #[default]
    Local,
    /// An S3-compatible bucket shared by every instance.
    S3,
}

/// File storage.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `local` (default) or `s3`.
    pub kind: StorageKind,
    /// The bucket, when `kind = "s3"`.
    pub s3: S3Config,
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// The bucket's name (it must exist).
    pub bucket: String,
    /// The service's URL (`https://s3.example.it`, `http://127.0.0.1:9000`); empty: AWS itself.
    pub endpoint: Option<String>,
    /// The region signed into requests.
    pub region: String,
    /// Access key id; with the secret, usually from `SPORTELLO__STORAGE__S3__ACCESS_KEY_ID`.
    pub access_key_id: Option<Secret>,
    /// Secret access key, from `SPORTELLO__STORAGE__S3__SECRET_ACCESS_KEY`; never logged.
    pub secret_access_key: Option<Secret>,
    /// Prefix of every object's key (`sportello/`), so one bucket may hold several services.
    pub prefix: String,
    /// Allow a plain-HTTP endpoint (a server on loopback); refused in production.
    pub allow_http: bool,
    /// Bytes buffered before an upload turns multipart, and the size of each part: the memory
    /// one upload in flight may hold (at least 5 MiB, S3's smallest part).
    pub part_bytes: u64,
    /// Path-style requests (`endpoint/bucket/key`), which most S3-compatible servers expect;
    /// false: virtual-hosted style (`bucket.endpoint/key`).
    pub path_style: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            endpoint: None,
            region: "us-east-1".to_owned(),
            access_key_id: None,
            secret_access_key: None,
            prefix: String::new(),
            allow_http: false,
            part_bytes: 8 * 1024 * 1024,
            path_style: true,
        }
    }
}

impl StorageConfig {
    /// Rejects a configuration that cannot work; `production` forbids plain HTTP.
    pub fn validate(&self, production: bool) -> anyhow::Result<()> {
        if self.kind != StorageKind::S3 {
            return Ok(());
        }
        let s3 = &self.s3;
        anyhow::ensure!(
            !s3.bucket.is_empty(),
            "storage.s3.bucket is required with storage.kind = \"s3\""
        );
        anyhow::ensure!(
            s3.part_bytes >= MIN_PART_BYTES,
            "storage.s3.part_bytes must be at least {MIN_PART_BYTES} (S3's smallest part)"
        );
        anyhow::ensure!(
            s3.access_key_id.is_some() == s3.secret_access_key.is_some(),
            "storage.s3.access_key_id and storage.s3.secret_access_key go together"
        );
        anyhow::ensure!(
            !(production && s3.allow_http),
            "refusing to start: storage.s3.allow_http sends documents and signatures in clear; \
             it is for a test server on loopback, not env = production"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_needs_a_bucket_whole_credentials_and_https_in_production() {
        assert!(StorageConfig::default().validate(true).is_ok());
        let mut config = StorageConfig {
            kind: StorageKind::S3,
            ..StorageConfig::default()
        };
        assert!(config.validate(false).is_err());
        config.s3.bucket = "documents".to_owned();
        assert!(config.validate(false).is_ok());
        config.s3.access_key_id = Some(Secret::new("id"));
        assert!(config.validate(false).is_err());
        config.s3.secret_access_key = Some(Secret::new("s3-secret-value"));
        assert!(
            !format!("{config:?}").contains("s3-secret-value"),
            "never printed"
        );
        config.s3.allow_http = true;
        assert!(config.validate(false).is_ok());
        assert!(config.validate(true).is_err());
        config.s3.allow_http = false;
        config.s3.part_bytes = 1024;
        assert!(config.validate(false).is_err());
    }
}
