//! The `sportello` binary as a person uses it: help, migrate, operators, serve and shutdown.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::fmt::Write as _;
use std::io::BufReader;
use std::process::{Child, ChildStderr, Command, Output};

use common::{GENOVA_OPERATOR, TestDb};

fn sportello(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["--database-url", &db.url])
        .args(args)
        .env_remove("SPORTELLO__ENV")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_explains_the_commands() {
    let output = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = text(&output.stdout);
    for word in [
        "serve",
        "migrate",
        "operators",
        "keys",
        "--data-dir",
        "--database-url",
        "SPORTELLO__",
    ] {
        assert!(help.contains(word), "help mentions {word}:\n{help}");
    }
    let serve = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let serve = text(&serve.stdout);
    for word in ["--listen", "--demo", "--dev-auth", "127.0.0.1:8080"] {
        assert!(serve.contains(word), "serve help mentions {word}:\n{serve}");
    }
}

#[test]
fn production_refuses_dev_auth() {
    let output = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--dev-auth", "--listen", "127.0.0.1:0"])
        .env("SPORTELLO__ENV", "production")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--dev-auth") && stderr.contains("production"),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sportello.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:8080\"\nlisten_port = 3\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("listen_port"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn migrate_and_manage_operators() {
    let db = TestDb::new().await;
    let migrate = sportello(&db, &["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    assert!(text(&migrate.stdout).contains("67 municipalities"));

    let grant = [
        "operators",
        "grant",
        "--fiscal-code",
        GENOVA_OPERATOR,
        "--municipality",
        "010025",
        "--office",
        "permits",
    ];
    let first = sportello(&db, &grant);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).starts_with("granted operator:010025:permits"));
    assert!(text(&sportello(&db, &grant).stdout).starts_with("already had"));
    let admin = sportello(
        &db,
        &["operators", "grant", "--fiscal-code", GENOVA_OPERATOR, "--admin"],
    );
    assert!(admin.status.success());

    let genova = text(&sportello(&db, &["operators", "list", "--municipality", "010025"]).stdout);
    assert_eq!(genova.lines().count(), 1, "{genova}");
    assert!(genova.contains("operator:010025:permits"));
    assert_eq!(
        text(&sportello(&db, &["operators", "list"]).stdout)
            .lines()
            .count(),
        2
    );

    let revoke = [
        "operators",
        "revoke",
        "--fiscal-code",
        GENOVA_OPERATOR,
        "--municipality",
        "010025",
        "--office",
        "permits",
    ];
    assert!(sportello(&db, &revoke).status.success());
    let again = sportello(&db, &revoke);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("does not have the role"));

    for (args, message) in [
        (
            vec!["--fiscal-code", "XXX", "--admin"],
            "not a valid personal fiscal code",
        ),
        (
            vec![
                "--fiscal-code",
                GENOVA_OPERATOR,
                "--municipality",
                "099999",
                "--office",
                "permits",
            ],
            "no municipality",
        ),
        (
            vec![
                "--fiscal-code",
                GENOVA_OPERATOR,
                "--municipality",
                "010025",
                "--office",
                "zoo",
            ],
            "not an office",
        ),
    ] {
        let output = sportello(&db, &[&["operators", "grant"][..], &args].concat());
        assert!(!output.status.success());
        assert!(text(&output.stderr).contains(message), "{}", text(&output.stderr));
    }
}

/// Starts `sportello serve --demo` on the test database (see `common::serve_binary`).
fn serve(db: &TestDb, data_dir: &str, extra: &[&str]) -> (Child, BufReader<ChildStderr>, String) {
    common::serve_binary(&db.url, data_dir, extra)
}

#[tokio::test]
async fn serve_answers_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let (mut child, mut stderr, address) = serve(&db, data.path().to_str().unwrap(), &[]);
    let list: serde_json::Value = reqwest::get(format!("http://{address}/v1/municipalities"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 67);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "exit status {status:?}\n{rest}");
    assert!(rest.contains("stopped"), "{rest}");
}

#[tokio::test]
async fn catalog_import_libraries_and_reindex() {
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let run = |args: &[&str]| sportello(&db, &[&["--data-dir", data_dir][..], args].concat());
    let migrate = run(&["migrate", "--demo"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    assert!(text(&migrate.stdout).contains("libraries"));
    let libraries = text(&run(&["catalog", "libraries", "--municipality", "010025"]).stdout);
    assert!(
        libraries.contains("ge-berio\t010025\tBiblioteca Civica Berio"),
        "{libraries}"
    );

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/marc");
    let bncf = format!("{fixtures}/bncf-unimarcxml/data.mrc");
    let cyrillic = format!("{fixtures}/pymarc/1251.dat");
    let import = run(&["catalog", "import", "--library", "ge-berio", &bncf, &cyrillic]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let summary = text(&import.stdout);
    assert!(
        summary.starts_with("read 11, imported 5, updated 0, unchanged 0, deleted 0, skipped 6"),
        "{summary}"
    );
    let problems = text(&import.stderr);
    assert!(
        problems.contains("1251.dat: record 1 at byte 0") && problems.contains("MARC-8"),
        "{problems}"
    );
    let again = text(&run(&["catalog", "import", "--library", "ge-berio", &bncf]).stdout);
    assert!(again.contains("unchanged 5"), "{again}");

    let reindex = run(&["catalog", "reindex"]);
    assert!(reindex.status.success(), "{}", text(&reindex.stderr));
    assert!(text(&reindex.stdout).contains("5 records"));

    for (args, message) in [
        (
            vec!["catalog", "import", "--library", "nowhere", bncf.as_str()],
            "no library",
        ),
        (
            vec!["catalog", "import", "--library", "ge-berio", "/nonexistent.mrc"],
            "not a readable file",
        ),
        (
            vec![
                "catalog",
                "import",
                "--library",
                "ge-berio",
                "--holdings",
                "x",
                bncf.as_str(),
            ],
            "holdings",
        ),
        (
            vec![
                "catalog",
                "import",
                "--library",
                "ge-berio",
                "--map",
                "CF",
                bncf.as_str(),
            ],
            "CODE=LIBRARY_ID",
        ),
    ] {
        let output = run(&args);
        assert!(!output.status.success(), "{args:?}");
        assert!(text(&output.stderr).contains(message), "{}", text(&output.stderr));
    }
}

/// `records` MARC 21 records as MARCXML, each with one copy (852 $p barcode) and the made-up
/// word "zebuloniane" in its title.
fn marcxml(records: usize) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">"#,
    );
    for n in 1..=records {
        let _ = write!(
            xml,
            r#"<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">LIVE{n:06}</controlfield><controlfield tag="008">200101s2020    it            000 0 ita d</controlfield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Cronache zebuloniane numero {n}</subfield></datafield><datafield tag="852" ind1=" " ind2=" "><subfield code="h">Z {n}</subfield><subfield code="p">LIVE-{n:06}</subfield></datafield></record>"#
        );
    }
    xml.push_str("</collection>");
    xml
}

/// The JSON answer of a GET.
async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// The demo library `ge-berio` as the server lists it.
async fn get_berio(http: &reqwest::Client, base: &str) -> serde_json::Value {
    let libraries = get_json(http, &format!("{base}/v1/libraries?municipality=010025")).await;
    libraries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "ge-berio")
        .unwrap()
        .clone()
}

/// A catalogue import from the CLI while `serve` writes to the same database (the library row
/// the import locks, on SQLite the same file): both go through, no write is lost, and the
/// server's index follows the change sequence to the imported records.
#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: a server, an import beside it, then what the server shows"
)]
async fn catalog_import_beside_a_live_server() {
    const RECORDS: usize = 3000;
    let db = TestDb::new().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let (mut child, mut stderr, address) = serve(&db, &data_dir, &["--dev-auth"]);
    // Keep reading the server's log, or it blocks once the pipe is full.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    let base = format!("http://{address}");
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/v1/auth/dev-login"))
        .json(&serde_json::json!({"fiscal_code": "GLLMRC68H22D969U", "roles": ["admin"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let berio = get_berio(&http, &base).await;

    let file = data.path().join("live.xml");
    std::fs::write(&file, marcxml(RECORDS)).unwrap();
    let import = {
        let url = db.url.clone();
        let file = file.to_str().unwrap().to_owned();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_sportello"))
                .args(["--database-url", &url, "--data-dir", &data_dir])
                .args([
                    "catalog",
                    "import",
                    "--library",
                    "ge-berio",
                    "--format",
                    "marcxml",
                    &file,
                ])
                .env_remove("SPORTELLO__ENV")
                .output()
                .unwrap()
        })
    };
    // The server edits the very library row each import batch locks, until the import ends.
    let mut edits = 0;
    while !import.is_finished() || edits == 0 {
        edits += 1;
        let mut body = serde_json::Map::new();
        for field in [
            "address",
            "postal_code",
            "lat",
            "lon",
            "phone",
            "email",
            "website",
            "services",
            "codes",
            "opening_hours",
            "closures",
        ] {
            body.insert(field.to_owned(), berio[field].clone());
        }
        body.insert(
            "name".to_owned(),
            format!("Biblioteca Civica Berio ({edits})").into(),
        );
        let response = http
            .put(format!("{base}/v1/municipalities/010025/libraries/ge-berio"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            status.is_success(),
            "edit {edits}: {status} {}",
            response.text().await.unwrap()
        );
    }
    let output = import.await.unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).starts_with(&format!("read {RECORDS}, imported {RECORDS}, updated 0")),
        "{}",
        text(&output.stdout)
    );

    let name = get_berio(&http, &base).await["name"].clone();
    assert_eq!(
        name,
        format!("Biblioteca Civica Berio ({edits})"),
        "the last edit is the one stored"
    );

    // The server's index follows the change sequence the CLI wrote (polled every second).
    let mut found = 0;
    for _ in 0..100 {
        let results = get_json(
            &http,
            &format!("{base}/v1/catalog/search?q=zebuloniane&library=ge-berio&limit=1"),
        )
        .await;
        found = results["total"].as_u64().unwrap();
        if found == RECORDS as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(found, RECORDS as u64);
    let hit = get_json(
        &http,
        &format!("{base}/v1/catalog/search?q=zebuloniane%20numero%201234"),
    )
    .await;
    assert_eq!(
        hit["items"][0]["record"]["title"], "Cronache zebuloniane numero 1234",
        "{hit}"
    );
    assert_eq!(hit["items"][0]["availability"]["copies_total"], 1, "{hit}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `keys rotate --federation`: a new key of the purpose is in use, the one it replaces stays in
/// the Entity Configuration; an unknown purpose is refused by name.
#[tokio::test]
async fn federation_keys_rotate_and_the_replaced_key_stays_published() {
    let db = TestDb::new().await;
    let lines =
        |output: &Output| -> Vec<String> { text(&output.stdout).lines().map(str::to_owned).collect() };
    let first = sportello(&db, &["keys", "list", "--federation"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = lines(&first);
    let old_core = before
        .iter()
        .find_map(|line| line.strip_prefix("core "))
        .unwrap()
        .to_owned();

    let rotated = sportello(&db, &["keys", "rotate", "--federation", "core"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let after = lines(&rotated);
    let new_core = after[0]
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches(';')
        .to_owned();
    assert!(after[0].starts_with("new core key "), "{after:?}");
    let cores: Vec<&str> = after
        .iter()
        .filter_map(|line| line.strip_prefix("core "))
        .collect();
    assert_eq!(cores, [new_core.as_str(), old_core.as_str()], "newest first");
    assert_eq!(
        after.iter().filter(|line| !line.starts_with("core ")).count(),
        3,
        "the federation and encryption keys untouched: {after:?}"
    );

    // Both core keys in the published Entity Configuration.
    let data = tempfile::tempdir().unwrap();
    let (mut child, _stderr, address) = serve(&db, data.path().to_str().unwrap(), &[]);
    let jwt = reqwest::get(format!("http://{address}/.well-known/openid-federation"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    let published: Vec<&str> = claims["metadata"]["openid_relying_party"]["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    for kid in [&new_core, &old_core] {
        assert!(published.contains(&kid.as_str()), "{kid} in {published:?}");
    }

    let unknown = sportello(&db, &["keys", "rotate", "--federation", "signing"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("signing"),
        "{}",
        text(&unknown.stderr)
    );
}
