//! Permit documents on S3-compatible object storage, against a real S3 server on loopback
//! (moto's standalone server, started by `scripts/test` through scripts/lib/s3.sh, its URL in
//! `SPORTELLO_TEST_S3_URL`; SQLite, or PostgreSQL when `SPORTELLO_TEST_PG_URL` is set).
//!
//! Without `SPORTELLO_TEST_S3_URL` the suite fails rather than skips: a green run must mean the
//! object store was tested. Locally:
//! `source scripts/lib/s3.sh && s3_start_throwaway && cargo test -p sportello-server --test storage`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::sync::Arc;

use common::{ARENZANO_OPERATOR, CITIZEN, Prepared, TestServer, client, pdf};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_server::config::{MIN_PART_BYTES, S3Config, Secret, StorageConfig, StorageKind};

const GENOVA: &str = "010025";
const OTHER_CITIZEN: &str = "BNCLRA75M41D969C";
const PREFIX: &str = "sportello";
const MIB: usize = 1024 * 1024;

/// The S3 server's URL; its absence fails the suite.
fn s3_url() -> String {
    std::env::var("SPORTELLO_TEST_S3_URL").unwrap_or_else(|_| {
        panic!(
            "SPORTELLO_TEST_S3_URL is not set: this suite needs a real S3-compatible server. \
             Start one with `source scripts/lib/s3.sh && s3_start_throwaway` (scripts/test does)"
        )
    })
}

/// A new empty bucket on the test server (moto accepts unsigned requests).
async fn new_bucket() -> String {
    let bucket = format!("t-{}", uuid::Uuid::now_v7().simple());
    let response = client()
        .put(format!("{}/{bucket}", s3_url()))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "create bucket: {}",
        response.status()
    );
    bucket
}

/// The bucket, seen directly (behind the server's back).
fn bucket_client(bucket: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(s3_url())
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .unwrap(),
    )
}

async fn keys(store: &Arc<dyn ObjectStore>) -> Vec<String> {
    use futures_util::TryStreamExt;
    let mut keys: Vec<String> = store
        .list(None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

/// Multipart uploads begun and neither completed nor aborted.
async fn pending_uploads(bucket: &str) -> usize {
    let listing = client()
        .get(format!("{}/{bucket}?uploads", s3_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listing.matches("<Upload>").count()
}

fn s3_storage(bucket: &str) -> StorageConfig {
    StorageConfig {
        kind: StorageKind::S3,
        s3: S3Config {
            bucket: bucket.to_owned(),
            endpoint: Some(s3_url()),
            access_key_id: Some(Secret::new("test")),
            secret_access_key: Some(Secret::new("test")),
            prefix: format!("{PREFIX}/"),
            allow_http: true,
            part_bytes: MIN_PART_BYTES,
            ..S3Config::default()
        },
    }
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A new draft permesso di costruire in Genova; returns its id.
async fn draft(server: &TestServer, token: &str) -> String {
    let created: Value = client()
        .post(server.url("/v1/permits"))
        .bearer_auth(token)
        .json(&json!({ "municipality": GENOVA, "procedure": "pdc" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

async fn upload(server: &TestServer, token: &str, id: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    client()
        .post(server.url(&format!("/v1/permits/{id}/documents")))
        .query(&[("kind", "drawings"), ("name", name)])
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn download(server: &TestServer, token: &str, id: &str, document: &str) -> reqwest::Response {
    client()
        .get(server.url(&format!("/v1/permits/{id}/documents/{document}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn problem_code(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    problem["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn documents_go_to_the_bucket_and_come_back_checked() {
    let bucket = new_bucket().await;
    let store = bucket_client(&bucket);
    let mut prepared = Prepared::new().await;
    prepared.config.storage = s3_storage(&bucket);
    prepared.config.permits.max_document_bytes = 12 * MIB as u64;
    prepared.config.permits.max_permit_bytes = 40 * MIB as u64;
    let data_dir = prepared.config.data_dir.clone();
    let server = prepared.start().await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let id = draft(&server, &citizen).await;

    // A small document (one PUT) and one of 7 MiB (a multipart upload of 5 MiB parts), both
    // back byte for byte, with the hash recorded at upload.
    let mut documents = Vec::new();
    for (name, bytes) in [("pianta.pdf", pdf(40 * 1024)), ("tavole.pdf", pdf(7 * MIB))] {
        let response = upload(&server, &citizen, &id, name, bytes.clone()).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        let stored: Value = response.json().await.unwrap();
        assert_eq!(stored["sha256"], sha256(&bytes));
        let document = stored["id"].as_str().unwrap().to_owned();
        let response = download(&server, &citizen, &id, &document).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-content-sha256"], sha256(&bytes).as_str());
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name}"
        );
        documents.push((document, bytes));
    }
    let expected: Vec<String> = {
        let mut keys: Vec<String> = documents
            .iter()
            .map(|(document, _)| format!("{PREFIX}/permits/{id}/{document}"))
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&store).await, expected);
    assert!(
        !data_dir.join("permits").exists(),
        "nothing written to the data directory"
    );

    // Over the limit, refused while streaming (413) after two parts of a multipart upload were
    // sent: the upload is aborted, no object and no pending parts are left in the bucket.
    let code = problem_code(
        upload(&server, &citizen, &id, "grande.pdf", pdf(12 * MIB + 1)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(code, "document-too-large");
    // Refused by its first bytes, before anything was sent: nothing stored either.
    let response = upload(&server, &citizen, &id, "finto.pdf", b"MZ not a pdf".to_vec()).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(keys(&store).await, expected);
    assert_eq!(pending_uploads(&bucket).await, 0);

    // Tenant isolation on the document routes: another citizen and an officer of another
    // municipality neither see nor add documents.
    sportello_server::identity::store::grant_role(
        &server.state.db,
        ARENZANO_OPERATOR,
        "operator:010001:permits",
        Some("010001"),
        "test",
    )
    .await
    .unwrap();
    let (other, _) = server.dev_login(OTHER_CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(ARENZANO_OPERATOR, &["citizen"]).await;
    for token in [&other, &officer] {
        let code = problem_code(
            download(&server, token, &id, &documents[0].0).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(code, "permit-not-found");
        let response = upload(&server, token, &id, "intruso.pdf", pdf(1024)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(keys(&store).await, expected);

    // Objects altered behind the server's back, small and large: refused with a clear
    // problem, never served.
    for (document, bytes) in &documents {
        let mut altered = bytes.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0xFF;
        store
            .put(
                &Path::from(format!("{PREFIX}/permits/{id}/{document}")),
                altered.into(),
            )
            .await
            .unwrap();
        let code = problem_code(
            download(&server, &citizen, &id, document).await,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
        assert_eq!(code, "document-damaged");
    }
    // A missing object is refused the same way.
    store
        .delete(&Path::from(format!("{PREFIX}/permits/{id}/{}", documents[0].0)))
        .await
        .unwrap();
    let code = problem_code(
        download(&server, &citizen, &id, &documents[0].0).await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert_eq!(code, "document-damaged");
    server.stop().await;
}

#[tokio::test]
async fn a_bucket_that_cannot_be_reached_stops_the_start() {
    let mut prepared = Prepared::new().await;
    prepared.config.storage = s3_storage(&format!("missing-{}", uuid::Uuid::now_v7().simple()));
    prepared.config.storage.s3.secret_access_key = Some(Secret::new("never-in-a-message"));
    let error = sportello_server::AppState::start(prepared.config.clone())
        .await
        .err()
        .expect("no start without the bucket");
    let message = format!("{error:#}");
    assert!(
        message.contains("cannot reach the S3 bucket missing-"),
        "{message}"
    );
    assert!(
        !message.contains("never-in-a-message"),
        "no credentials in {message}"
    );
}

#[tokio::test]
async fn backup_and_restore_carry_the_documents_of_the_bucket() {
    let bucket = new_bucket().await;
    let mut prepared = Prepared::new().await;
    prepared.config.storage = s3_storage(&bucket);
    let config = prepared.config.clone();
    let server = prepared.start().await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let id = draft(&server, &citizen).await;
    let bytes = pdf(2 * MIB);
    let response = upload(&server, &citizen, &id, "pianta.pdf", bytes.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let document = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("backup");
    let backed_up = sportello_server::backup::backup(&config, &to).await;
    server.stop().await;
    if common::backend_name() == "postgres" {
        // pg_dump for the database, the bucket's own versioning for the documents.
        let message = format!("{:#}", backed_up.expect_err("refused on PostgreSQL"));
        assert!(
            message.contains(&bucket) && message.contains("versioning"),
            "{message}"
        );
        return;
    }
    let report = backed_up.unwrap();
    assert_eq!(report.manifest.documents.len(), 1);
    assert_eq!(
        std::fs::read(to.join(format!("permits/{id}/{document}"))).unwrap(),
        bytes
    );

    // Into a new data directory and a new bucket; a bucket that holds documents is refused.
    let restored_bucket = new_bucket().await;
    let data = tempfile::tempdir().unwrap();
    let mut restored = Prepared::new().await;
    restored.config.data_dir = data.path().to_owned();
    restored.config.database_url = None;
    restored.config.storage = s3_storage(&bucket);
    let refused = sportello_server::backup::restore(&restored.config, &to)
        .await
        .expect_err("a bucket with documents is refused");
    assert!(format!("{refused:#}").contains("holds documents"), "{refused:#}");
    assert!(!data.path().join("sportello.db").exists(), "nothing restored");
    restored.config.storage = s3_storage(&restored_bucket);
    sportello_server::backup::restore(&restored.config, &to)
        .await
        .unwrap();
    assert_eq!(
        keys(&bucket_client(&restored_bucket)).await,
        [format!("{PREFIX}/permits/{id}/{document}")]
    );
    let server = restored.start().await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let response = download(&server, &citizen, &id, &document).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes.as_slice());
    server.stop().await;
}
