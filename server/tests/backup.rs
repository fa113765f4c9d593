//! `sportello backup` and `sportello restore`: a backup taken beside a live server, restored
//! into an empty data directory, serves the same permit document; damaged backups, non-empty
//! targets and PostgreSQL are refused with what to do.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{CITIZEN, TestDb};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const GENOVA: &str = "010025";

fn sportello(database_url: &str, data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args([
            "--database-url",
            database_url,
            "--data-dir",
            data_dir.to_str().unwrap(),
        ])
        .args(args)
        .env_remove("SPORTELLO__ENV")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("sportello.db").display())
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let login: Value = http
        .post(format!("{base}/v1/auth/dev-login"))
        .json(&json!({ "fiscal_code": CITIZEN, "roles": [] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}

/// A citizen's draft in Genova with one uploaded PDF; returns the permit and document ids.
async fn draft_with_document(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    pdf: &[u8],
) -> (String, String) {
    let draft: Value = http
        .post(format!("{base}/v1/permits"))
        .bearer_auth(token)
        .json(&json!({ "municipality": GENOVA, "procedure": "scia" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let permit = draft["id"].as_str().unwrap().to_owned();
    let procedures: Value = http
        .get(format!("{base}/v1/permits/procedures?municipality={GENOVA}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scia = procedures["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "scia")
        .unwrap();
    let kind = scia["documents"][0]["code"].as_str().unwrap();
    let uploaded = http
        .post(format!("{base}/v1/permits/{permit}/documents"))
        .query(&[("kind", kind), ("name", "relazione.pdf")])
        .bearer_auth(token)
        .body(pdf.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let document: Value = uploaded.json().await.unwrap();
    (permit, document["id"].as_str().unwrap().to_owned())
}

/// A running server, killed when the test ends however it ends.
struct Running(std::process::Child);

impl Running {
    fn start(database_url: &str, data_dir: &Path) -> (Self, String) {
        let (child, mut log, address) =
            common::serve_binary(database_url, data_dir.to_str().unwrap(), &["--dev-auth"]);
        // Keep reading the server's log, or it blocks once the pipe is full.
        std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        (Self(child), format!("http://{address}"))
    }

    /// Stops it as an operator would (SIGTERM) and waits for it.
    fn stop(mut self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        self.0.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of `backups` with one byte of the document changed: `restore` names the document and
/// writes nothing.
fn refuses_a_damaged_copy(backups: &Path, scratch: &Path, permit: &str, document: &str) {
    let damaged = scratch.join("damaged");
    copy_dir(backups, &damaged);
    let stored = damaged.join(format!("permits/{permit}/{document}"));
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&stored, bytes).unwrap();
    let other = scratch.join("other");
    let refused = sportello(
        &sqlite_url(&other),
        &other,
        &["restore", "--from", damaged.to_str().unwrap()],
    );
    assert!(!refused.status.success());
    let why = text(&refused.stderr);
    assert!(why.contains("damaged") && why.contains(document), "{why}");
    assert!(
        !other.join("sportello.db").exists(),
        "nothing restored from a damaged backup"
    );
}

#[tokio::test]
async fn a_backup_of_a_live_server_restores_into_an_empty_data_directory() {
    let db = TestDb::new().await;
    let scratch = tempfile::tempdir().unwrap();
    let backups = scratch.path().join("backup");
    if db.url.starts_with("postgres") {
        let refused = sportello(
            &db.url,
            scratch.path(),
            &["backup", "--to", backups.to_str().unwrap()],
        );
        assert!(!refused.status.success());
        assert!(
            text(&refused.stderr).contains("pg_dump"),
            "{}",
            text(&refused.stderr)
        );
        assert!(!backups.exists(), "nothing written on PostgreSQL");
        return;
    }

    // A live server with a citizen's document.
    let live = scratch.path().join("live");
    let live_url = sqlite_url(&live);
    let (server, base) = Running::start(&live_url, &live);
    let http = reqwest::Client::new();
    let token = login(&http, &base).await;
    let pdf = b"%PDF-1.4\n% the citizen's site plan\n%%EOF\n";
    let (permit, document) = draft_with_document(&http, &base, &token, pdf).await;

    // Backed up while the server runs.
    let backed_up = sportello(&live_url, &live, &["backup", "--to", backups.to_str().unwrap()]);
    assert!(backed_up.status.success(), "{}", text(&backed_up.stderr));
    assert!(
        text(&backed_up.stdout).contains("1 documents"),
        "{}",
        text(&backed_up.stdout)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backups.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["documents"].as_array().unwrap().len(), 1);
    assert_eq!(
        manifest["documents"][0]["path"],
        format!("permits/{permit}/{document}")
    );
    assert_eq!(
        manifest["documents"][0]["sha256"],
        hex::encode(Sha256::digest(pdf))
    );
    assert_eq!(manifest["counts"]["permit_documents"], 1);
    assert_eq!(manifest["counts"]["municipalities"], 67);
    let again = sportello(&live_url, &live, &["backup", "--to", backups.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("not empty"),
        "{}",
        text(&again.stderr)
    );
    server.stop();

    refuses_a_damaged_copy(&backups, scratch.path(), &permit, &document);

    // Restored into an empty data directory; the same document is served from it.
    let restored = scratch.path().join("restored");
    let restored_url = sqlite_url(&restored);
    let done = sportello(
        &restored_url,
        &restored,
        &["restore", "--from", backups.to_str().unwrap()],
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stdout).contains("search index rebuilt"),
        "{}",
        text(&done.stdout)
    );
    let twice = sportello(
        &restored_url,
        &restored,
        &["restore", "--from", backups.to_str().unwrap()],
    );
    assert!(!twice.status.success());
    assert!(
        text(&twice.stderr).contains("empty data directory"),
        "{}",
        text(&twice.stderr)
    );

    let (server, base) = Running::start(&restored_url, &restored);
    let token = login(&http, &base).await;
    let download = http
        .get(format!("{base}/v1/permits/{permit}/documents/{document}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf);
    server.stop();
}
