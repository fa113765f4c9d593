//! The cluster test's parts: `sportello serve` processes, nginx in front of them, the
//! PostgreSQL server's control, and clients that load the service or hold a request open.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::LOAD_CLIENTS;
use super::common::client;

pub fn required(name: &str, what: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: this suite needs {what}; scripts/test provides it"))
}

/// One `sportello serve` process; its log is kept for the failure messages.
pub struct Instance {
    pub child: Child,
    pub address: String,
    log: Arc<Mutex<String>>,
}

impl Instance {
    pub fn start(database_url: &str, config: &Path, data_dir: &Path, s3: &(String, String)) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .args(["--config", config.to_str().unwrap()])
            .args(["--database-url", database_url])
            .args(["--data-dir", data_dir.to_str().unwrap()])
            .args(["serve", "--demo", "--dev-auth", "--listen", "127.0.0.1:0"])
            .env("SPORTELLO_LOG", "info")
            .env("SPORTELLO__STORAGE__S3__ACCESS_KEY_ID", &s3.0)
            .env("SPORTELLO__STORAGE__S3__SECRET_ACCESS_KEY", &s3.1)
            .env_remove("SPORTELLO__ENV")
            .env_remove("SPORTELLO_CONFIG")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sportello");
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let address = loop {
            let mut line = String::new();
            let read = stderr.read_line(&mut line).unwrap();
            log.lock().unwrap().push_str(&line);
            assert!(read > 0, "server exited early:\n{}", log.lock().unwrap());
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep reading: a full pipe would block the server's logging.
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                if log.len() < 4 * 1024 * 1024 {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Self { child, address, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        let start = log.len().saturating_sub(4000);
        log[log.floor_char_boundary(start)..].to_owned()
    }

    /// The pushes this instance's workers have sent (its Prometheus counter).
    pub async fn pushes_sent(&self) -> u64 {
        let text = client()
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|line| line.starts_with("sportello_push_sent_total"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx in front of the instances, as a round-robin load balancer that passes an idempotent
/// request on to the next instance when one fails to answer.
pub struct Nginx {
    child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(upstreams: &[String]) -> Self {
        let binary = std::env::var("SPORTELLO_TEST_NGINX").unwrap_or_else(|_| "nginx".to_owned());
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers = upstreams.iter().fold(String::new(), |mut servers, address| {
            let _ = writeln!(servers, "        server {address} max_fails=1 fail_timeout=5s;");
            servers
        });
        let root = dir.path().display();
        let config = format!(
            r"# As root the workers would drop to nobody, who cannot write the temp paths below.
user root;
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream sportello {{
{servers}        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 64m;
        location / {{
            proxy_pass http://sportello;
            proxy_http_version 1.1;
            proxy_set_header Connection '';
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{binary}: {e} (scripts/test installs Debian's nginx-light)"));
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            base,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers; a SIGKILLed master leaves them running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The test PostgreSQL server's own pg_ctl (scripts/lib/postgres.sh writes it).
pub fn pg_ctl(args: &[&str]) {
    let ctl = required("SPORTELLO_TEST_PG_CTL", "control of the PostgreSQL server");
    let output = Command::new(&ctl).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{ctl} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub async fn dev_login(base: &str, fiscal_code: &str, roles: &[&str]) -> String {
    let response = client()
        .post(format!("{base}/v1/auth/dev-login"))
        .json(&json!({ "fiscal_code": fiscal_code, "roles": roles }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "dev-login for {fiscal_code}");
    response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A new empty bucket on the test S3 server (moto accepts unsigned requests).
pub async fn new_bucket(s3_url: &str) -> String {
    let bucket = format!("cluster-{}", uuid::Uuid::now_v7().simple());
    let response = client().put(format!("{s3_url}/{bucket}")).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "create bucket: {}",
        response.status()
    );
    bucket
}

pub fn deliveries(received: &Value) -> Vec<usize> {
    received["webpush"]
        .as_object()
        .map(|devices| devices.values().map(|v| v.as_array().unwrap().len()).collect())
        .unwrap_or_default()
}

/// What the load through nginx saw: each request's start (since the load began) and outcome.
#[derive(Default)]
pub struct LoadRecord {
    pub requests: Vec<(Duration, Result<u16, String>)>,
}

/// Clients that call `paths` through nginx one request at a time each, until `stop`.
pub fn start_load(
    nginx_base: &str,
    paths: Vec<(String, Option<String>)>,
    stop: &Arc<AtomicBool>,
) -> (Instant, Vec<tokio::task::JoinHandle<LoadRecord>>) {
    let began = Instant::now();
    let paths = Arc::new(paths);
    let clients = (0..LOAD_CLIENTS)
        .map(|n| {
            let (base, paths, stop) = (nginx_base.to_owned(), Arc::clone(&paths), Arc::clone(stop));
            tokio::spawn(async move {
                let http = client();
                let mut record = LoadRecord::default();
                let mut i = n;
                while !stop.load(Ordering::Relaxed) {
                    let (path, token) = &paths[i % paths.len()];
                    i += 1;
                    let started = began.elapsed();
                    let mut request = http.get(format!("{base}{path}")).timeout(Duration::from_secs(10));
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    let outcome = match request.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            match response.bytes().await {
                                Ok(_) => Ok(status),
                                Err(e) => Err(format!("{path}: body: {e}")),
                            }
                        }
                        Err(e) => Err(format!("{path}: {e}")),
                    };
                    record.requests.push((started, outcome));
                }
                record
            })
        })
        .collect();
    (began, clients)
}

pub async fn finish_load(
    clients: Vec<tokio::task::JoinHandle<LoadRecord>>,
) -> Vec<(Duration, Result<u16, String>)> {
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.await.unwrap().requests);
    }
    all
}

pub fn failed(outcome: &Result<u16, String>) -> bool {
    !matches!(outcome, Ok(status) if *status < 400)
}

/// How many pushes each device has received so far.
pub fn per_device(received: &Value) -> std::collections::HashMap<String, usize> {
    received["webpush"]
        .as_object()
        .map(|devices| {
            devices
                .iter()
                .map(|(device, list)| (device.clone(), list.as_array().unwrap().len()))
                .collect()
        })
        .unwrap_or_default()
}

/// Pushes received since `before` was taken, every device together.
pub fn new_deliveries(before: &std::collections::HashMap<String, usize>, received: &Value) -> usize {
    per_device(received)
        .iter()
        .map(|(device, n)| n - before.get(device).copied().unwrap_or(0))
        .sum()
}

/// An upload whose body arrives in four pieces over about 1.2 s, over a plain connection: a
/// request still in flight when its server is told to stop. Returns the whole answer.
pub async fn slow_upload(address: String, path: String, token: String, body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(body.len().div_ceil(4)) {
        stream.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
