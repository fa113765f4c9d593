//! Shared test harness: a real `sportello` server on a loopback port, on SQLite or, when
//! `SPORTELLO_TEST_PG_URL` is set, on a fresh database of that PostgreSQL server.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

pub mod alerts;
pub mod push;

use std::net::SocketAddr;
use std::path::PathBuf;

use sportello_server::config::{Config, RateLimitsConfig, Secret};
use sportello_server::db::Db;
use sportello_server::{AppState, serve};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The backend the suite runs on, printed so test logs show it.
pub fn backend_name() -> &'static str {
    if std::env::var_os("SPORTELLO_TEST_PG_URL").is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A fresh, empty database: a new SQLite file, or a new database on the test PostgreSQL.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match std::env::var("SPORTELLO_TEST_PG_URL") {
            Ok(admin_url) => {
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let admin = Db::connect(&admin_url).await.expect("connect to test PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin.pool())
                    .await
                    .expect("create test database");
                admin.close().await;
                let mut url = url::Url::parse(&admin_url).expect("SPORTELLO_TEST_PG_URL is a URL");
                url.set_path(&name);
                url.to_string()
            }
            Err(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
        };
        eprintln!("test database backend: {}", backend_name());
        Self { url, _dir: dir }
    }

    pub async fn connect(&self) -> Db {
        Db::connect_and_migrate(&self.url)
            .await
            .expect("migrate test database")
    }
}

/// A running server.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub db: TestDb,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _data: tempfile::TempDir,
}

/// A listener already bound, so a test can learn the port before configuring the server.
pub struct Prepared {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub config: Config,
    /// The pagoPA channel's own listener, once [`Prepared::pagopa_listener`] bound it.
    pub pagopa: Option<TcpListener>,
    db: TestDb,
    data: tempfile::TempDir,
}

impl Prepared {
    pub async fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let db = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen: addr,
            data_dir: data.path().to_owned(),
            database_url: Some(Secret::new(db.url.clone())),
            dev_auth: true,
            // Every test is one client on one address: the suites of other features would trip
            // the per-client limits. tests/limits.rs turns them on to test them.
            rate_limits: RateLimitsConfig {
                enabled: false,
                ..RateLimitsConfig::default()
            },
            ..Config::default()
        };
        Self {
            listener,
            addr,
            config,
            pagopa: None,
            db,
            data,
        }
    }

    /// Binds the pagoPA channel's own listener on a loopback port and configures it.
    pub async fn pagopa_listener(&mut self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        self.config.pagopa.channel.listen = Some(addr);
        self.pagopa = Some(listener);
        addr
    }

    pub async fn start(self) -> TestServer {
        // Logs of the server under test, when asked for: SPORTELLO_LOG=debug cargo test …
        if let Ok(filter) = std::env::var("SPORTELLO_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let state = AppState::start(self.config).await.expect("server starts");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let state = state.clone();
            async move {
                serve(state, self.listener, self.pagopa, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
            }
        });
        TestServer {
            base: format!("http://{}", self.addr),
            addr: self.addr,
            state,
            data_dir: self.data.path().to_owned(),
            db: self.db,
            stop: Some(stop),
            task: Some(task),
            _data: self.data,
        }
    }
}

impl TestServer {
    /// A server with dev-auth on, demo data off.
    pub async fn start() -> Self {
        Prepared::new().await.start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    /// `GET path` without a token, read as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = client().get(self.url(path)).send().await.expect("GET request");
        response.json().await.expect("a JSON answer")
    }

    /// Dev-login; returns (access token, refresh token).
    pub async fn dev_login(&self, fiscal_code: &str, roles: &[&str]) -> (String, String) {
        let response = client()
            .post(self.url("/v1/auth/dev-login"))
            .json(&serde_json::json!({ "fiscal_code": fiscal_code, "roles": roles }))
            .send()
            .await
            .expect("dev-login request");
        assert_eq!(response.status(), 200, "dev-login for {fiscal_code}");
        let pair: sportello_core::api::TokenPair = response.json().await.expect("token pair");
        (pair.access_token, pair.refresh_token)
    }
}

/// An HTTP client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Fictitious but valid fiscal codes.
pub const CITIZEN: &str = "RSSMRA85T10A562S";
pub const GENOVA_OPERATOR: &str = "VRDGPP80A01D969Z";
pub const ARENZANO_OPERATOR: &str = "FRRLCU70C15A388O";
pub const ADMIN: &str = "GLLMRC68H22D969U";

/// Runs a Python oracle of `tests/` (in the test venv: `SPORTELLO_TEST_VENV`, else `build/venv`)
/// with `input` as JSON on stdin, and returns what it printed as JSON; fails on a non-zero exit.
pub async fn oracle(script: &str, requirements: &str, input: &serde_json::Value) -> serde_json::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var("SPORTELLO_TEST_VENV")
        .map_or_else(|_| root.join("build/venv"), PathBuf::from)
        .join("bin/python");
    let mut child = tokio::process::Command::new(&python)
        .arg(root.join(script))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/test installs {requirements})", python.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    tokio::io::AsyncWriteExt::write_all(&mut stdin, input.to_string().as_bytes())
        .await
        .expect("write to the oracle");
    drop(stdin);
    let output = child.wait_with_output().await.expect("oracle runs");
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the oracle prints JSON")
}

/// Starts the `sportello` binary (`serve --demo`) on `database_url` and `data_dir` on a free
/// loopback port; returns the child, its stderr (after the "listening" line) and the address.
pub fn serve_binary(
    database_url: &str,
    data_dir: &str,
    extra: &[&str],
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
    String,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .args(["--database-url", database_url, "--data-dir", data_dir])
        .args(extra)
        .env("SPORTELLO_LOG", "info")
        .env_remove("SPORTELLO__ENV")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start sportello");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut log = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read the server's log") > 0,
            "server exited early:\n{log}"
        );
        log.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("an address").to_owned();
        }
    };
    (child, stderr, address)
}

/// A PDF of `size` bytes (only the magic bytes matter to the server), varied so that the parts
/// of a multipart upload differ.
pub fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n".to_vec();
    bytes.extend((0..size.saturating_sub(9)).map(|i| u8::try_from(i % 251).unwrap()));
    bytes
}
