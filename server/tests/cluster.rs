//! Several instances, one service: three `sportello serve` processes on one PostgreSQL and one
//! S3 bucket, behind nginx on loopback, as docs/deployment.md lays them out.
//!
//! - a document uploaded through one instance is downloaded through another and through nginx;
//! - a catalogue import through one instance is searchable on every instance;
//! - a broadcast to thousands of devices is delivered by the workers of every instance; one
//!   instance is killed with SIGKILL in the middle of it and of a load of requests through nginx:
//!   the other instances finish the broadcast, duplicates stay within the killed instance's
//!   batches in flight, and nginx moves the load on (no request started after the kill fails);
//! - PostgreSQL is stopped under load: every instance reports not ready on `/readyz`, and all
//!   recover when it is back, without a restart of their own.
//!
//! Needs what `scripts/test` provides, and fails without it rather than skipping:
//! `SPORTELLO_TEST_PG_URL` and `SPORTELLO_TEST_PG_CTL` (scripts/lib/postgres.sh),
//! `SPORTELLO_TEST_S3_URL` (scripts/lib/s3.sh), nginx (`SPORTELLO_TEST_NGINX`, else `nginx` on
//! the PATH). It restarts the PostgreSQL server, so it runs alone, in its own step.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::push::Simulator;
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, TestDb, client, pdf};
use serde_json::{Value, json};
use sportello_server::notify::store;

const GENOVA: &str = "010025";
const GENOVA_LIBRARIAN: &str = "BNCLRA75M41D969C";
const INSTANCES: usize = 3;
const DEVICES: usize = 3000;
const BATCH: usize = 16;
const ROUNDS: usize = 2;
/// The at-least-once window of the killed instance: its batches in flight.
const WINDOW: usize = BATCH * ROUNDS;
/// Clients of the load through nginx, each one request at a time.
const LOAD_CLIENTS: usize = 8;

fn required(name: &str, what: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: this suite needs {what}; scripts/test provides it"))
}

/// One `sportello serve` process; its log is kept for the failure messages.
struct Instance {
    child: Child,
    address: String,
    log: Arc<Mutex<String>>,
}

impl Instance {
    fn start(database_url: &str, config: &Path, data_dir: &Path, s3: &(String, String)) -> Self {
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

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        let start = log.len().saturating_sub(4000);
        log[log.floor_char_boundary(start)..].to_owned()
    }

    /// The pushes this instance's workers have sent (its Prometheus counter).
    async fn pushes_sent(&self) -> u64 {
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
struct Nginx {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstreams: &[String]) -> Self {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test PostgreSQL server's own pg_ctl (scripts/lib/postgres.sh writes it).
fn pg_ctl(args: &[&str]) {
    let ctl = required("SPORTELLO_TEST_PG_CTL", "control of the PostgreSQL server");
    let output = Command::new(&ctl).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{ctl} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn dev_login(base: &str, fiscal_code: &str, roles: &[&str]) -> String {
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
async fn new_bucket(s3_url: &str) -> String {
    let bucket = format!("cluster-{}", uuid::Uuid::now_v7().simple());
    let response = client().put(format!("{s3_url}/{bucket}")).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "create bucket: {}",
        response.status()
    );
    bucket
}

fn deliveries(received: &Value) -> Vec<usize> {
    received["webpush"]
        .as_object()
        .map(|devices| devices.values().map(|v| v.as_array().unwrap().len()).collect())
        .unwrap_or_default()
}

/// What the load through nginx saw: each request's start (since the load began) and outcome.
#[derive(Default)]
struct LoadRecord {
    requests: Vec<(Duration, Result<u16, String>)>,
}

/// Clients that call `paths` through nginx one request at a time each, until `stop`.
fn start_load(
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

async fn finish_load(
    clients: Vec<tokio::task::JoinHandle<LoadRecord>>,
) -> Vec<(Duration, Result<u16, String>)> {
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.await.unwrap().requests);
    }
    all
}

fn failed(outcome: &Result<u16, String>) -> bool {
    !matches!(outcome, Ok(status) if *status < 400)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_nginx_share_files_catalogue_and_pushes_and_survive_a_kill_and_a_database_restart()
 {
    let database = required("SPORTELLO_TEST_PG_URL", "PostgreSQL");
    assert!(database.starts_with("postgres"), "{database}");
    let s3_url = required("SPORTELLO_TEST_S3_URL", "an S3-compatible server");
    let simulator = Simulator::start(false).await;
    let test_db = TestDb::new().await;
    // Thousands of citizens with a Web Push device each, following Genova's alerts.
    let db = test_db.connect().await;
    simulator
        .register_alert_followers(&db, DEVICES, "CLUSTER", GENOVA)
        .await;
    db.close().await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sportello.toml");
    let bucket = new_bucket(&s3_url).await;
    writeln!(
        std::fs::File::create(&config).unwrap(),
        r#"[http]
trusted_proxies = ["127.0.0.1/32"]

[rate_limits]
enabled = false

[catalog]
index_poll_ms = 100

[storage]
kind = "s3"

[storage.s3]
bucket = "{bucket}"
endpoint = "{s3_url}"
region = "us-east-1"
allow_http = true

[notify]
allow_insecure_endpoints = true
webpush_allowed_hosts = ["127.0.0.1"]
batch_size = {BATCH}
rounds_in_flight = {ROUNDS}
concurrency = 4
lease_secs = 2
poll_interval_ms = 50"#
    )
    .unwrap();
    let s3_keys = ("test".to_owned(), "test".to_owned());
    // One after the other: each loads the demo data, which is idempotent but not meant to race.
    let mut instances: Vec<Instance> = (0..INSTANCES)
        .map(|n| {
            let data = dir.path().join(format!("instance-{n}"));
            std::fs::create_dir(&data).unwrap();
            Instance::start(&test_db.url, &config, &data, &s3_keys)
        })
        .collect();
    let nginx = Nginx::start(&instances.iter().map(|i| i.address.clone()).collect::<Vec<_>>());

    // Tokens are signed with keys kept in the database: any instance accepts them.
    let citizen = dev_login(&instances[0].url(""), CITIZEN, &[]).await;
    let librarian = dev_login(
        &instances[1].url(""),
        GENOVA_LIBRARIAN,
        &["operator:010025:library"],
    )
    .await;
    let admin = dev_login(&nginx.base, ADMIN, &["admin"]).await;
    let arenzano = dev_login(
        &instances[2].url(""),
        ARENZANO_OPERATOR,
        &["operator:010001:permits"],
    )
    .await;

    // A document uploaded through instance 0 comes back, whole, from instance 1 and nginx.
    let permit: Value = client()
        .post(instances[0].url("/v1/permits"))
        .bearer_auth(&citizen)
        .json(&json!({ "municipality": GENOVA, "procedure": "pdc" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let permit = permit["id"].as_str().unwrap().to_owned();
    let bytes = pdf(3_000_000);
    let uploaded = client()
        .post(instances[0].url(&format!("/v1/permits/{permit}/documents")))
        .query(&[("kind", "drawings"), ("name", "tavola-1.pdf")])
        .bearer_auth(&citizen)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201, "{}", uploaded.text().await.unwrap());
    let document = uploaded.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let document_path = format!("/v1/permits/{permit}/documents/{document}");
    for base in [instances[1].url(""), nginx.base.clone()] {
        let response = client()
            .get(format!("{base}{document_path}"))
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{base}");
        assert!(
            response.bytes().await.unwrap() == bytes,
            "{base}: the bytes differ"
        );
    }
    // Another municipality's officer cannot read it through any instance.
    for instance in &instances {
        let response = client()
            .get(instance.url(&document_path))
            .bearer_auth(&arenzano)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{}", instance.address);
    }

    // A catalogue import through instance 1 is searchable on every instance.
    let marc = r#"<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">cluster-1</controlfield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Cronache di Pegli e Voltri</subfield></datafield></record></collection>"#;
    let imported = client()
        .post(instances[1].url("/v1/municipalities/010025/libraries/ge-berio/imports?format=marcxml"))
        .bearer_auth(&librarian)
        .header("content-type", "application/octet-stream")
        .body(marc)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200, "{}", imported.text().await.unwrap());
    let imported_at = Instant::now();
    let search = "/v1/catalog/search?q=voltri";
    let mut seen_after = Vec::new();
    for instance in &instances {
        loop {
            let found: Value = client()
                .get(instance.url(search))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if found["total"].as_u64() == Some(1) {
                seen_after.push(imported_at.elapsed());
                break;
            }
            assert!(
                imported_at.elapsed() < Duration::from_secs(20),
                "{} does not find the import: {found}",
                instance.address
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    println!("catalogue import searchable on every instance after {seen_after:?}");

    // The broadcast, with a load of requests through nginx, and instance 1 killed in the middle.
    let stop = Arc::new(AtomicBool::new(false));
    let load_paths = vec![
        (search.to_owned(), None),
        (document_path.clone(), Some(citizen.clone())),
        ("/v1/municipalities".to_owned(), None),
        ("/v1/events?limit=5".to_owned(), None),
        ("/v1/me".to_owned(), Some(citizen.clone())),
    ];
    let (load_began, load) = start_load(&nginx.base, load_paths.clone(), &stop);
    let accepted = client()
        .post(nginx.url("/v1/broadcasts"))
        .bearer_auth(&admin)
        .json(&json!({"municipalities": [GENOVA], "topic": "alerts",
                      "subject": "Allerta rossa", "body": "Restate in casa."}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["pushes"], DEVICES, "{accepted}");
    let broadcast_at = Instant::now();
    let delivered_at_kill = loop {
        let delivered: usize = deliveries(&simulator.received().await).iter().sum();
        if delivered >= DEVICES / 4 {
            break delivered;
        }
        assert!(
            broadcast_at.elapsed() < Duration::from_mins(1),
            "no progress: {}",
            instances[0].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let sent_by_victim = instances[1].pushes_sent().await;
    instances[1].child.kill().unwrap(); // SIGKILL: no graceful shutdown, batches in flight
    instances[1].child.wait().unwrap();
    let killed_at = load_began.elapsed();
    assert!(
        delivered_at_kill < DEVICES,
        "killed after the end: make the broadcast bigger"
    );
    simulator
        .wait_for(Duration::from_mins(2), |r| {
            r["webpush"].as_object().is_some_and(|m| m.len() == DEVICES)
        })
        .await;
    let finished_after = broadcast_at.elapsed();
    // Let a redelivery still in flight land before counting; keep the load going meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let requests = finish_load(load).await;
    let received = simulator.received().await;
    let counts = deliveries(&received);
    let duplicates = counts.iter().sum::<usize>() - DEVICES;
    let survivors = [instances[0].pushes_sent().await, instances[2].pushes_sent().await];
    let failures: Vec<_> = requests.iter().filter(|(_, outcome)| failed(outcome)).collect();
    let late_failures: Vec<_> = failures
        .iter()
        .filter(|(started, _)| *started > killed_at + Duration::from_secs(1))
        .collect();
    println!(
        "broadcast to {DEVICES} devices: instance 1 killed after {delivered_at_kill} deliveries \
         (it had sent {sent_by_victim}); the others sent {survivors:?}; every device reached \
         {finished_after:?} after the broadcast; {duplicates} duplicate(s) (bound {WINDOW}); \
         load through nginx: {} requests, {} failed ({} started more than 1 s after the kill)",
        requests.len(),
        failures.len(),
        late_failures.len()
    );
    assert_eq!(counts.len(), DEVICES, "every device received the alert");
    assert!(
        duplicates <= WINDOW,
        "{duplicates} duplicates exceed the batches in flight"
    );
    assert_eq!(received["rejected"], json!([]));
    assert!(sent_by_victim > 0, "instance 1 took no part before the kill");
    assert!(
        survivors.iter().all(|&sent| sent > 0),
        "every instance's workers deliver: {survivors:?}"
    );
    assert!(
        failures.len() <= LOAD_CLIENTS,
        "more failures than requests in flight at the kill: {failures:?}"
    );
    assert!(
        late_failures.is_empty(),
        "nginx did not move on: {late_failures:?}"
    );
    let db = test_db.connect().await;
    assert_eq!(
        store::outbox_counts(&db).await.unwrap(),
        vec![("sent".to_owned(), i64::try_from(DEVICES).unwrap())]
    );
    db.close().await;

    // PostgreSQL stopped under load: not ready while it is down, ready again without a restart.
    let survivors: Vec<usize> = vec![0, 2];
    let stop = Arc::new(AtomicBool::new(false));
    let (_, load) = start_load(&nginx.base, load_paths, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg_ctl(&["-m", "fast", "-w", "stop"]);
    let stopped_at = Instant::now();
    for &n in &survivors {
        loop {
            let response = client()
                .get(instances[n].url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .unwrap();
            if response.status() == 503 {
                break;
            }
            assert!(
                stopped_at.elapsed() < Duration::from_secs(15),
                "instance {n} still says ready with the database down"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let noticed_after = stopped_at.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg_ctl(&["-w", "start"]);
    let restarted_at = Instant::now();
    for &n in &survivors {
        loop {
            let status = client()
                .get(instances[n].url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string());
            if status == Ok(200) {
                break;
            }
            assert!(
                restarted_at.elapsed() < Duration::from_secs(30),
                "instance {n} not ready again: {status:?}\n{}",
                instances[n].log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let recovered_after = restarted_at.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let requests = finish_load(load).await;
    let outage_failures = requests.iter().filter(|(_, outcome)| failed(outcome)).count();
    println!(
        "PostgreSQL stopped: every instance not ready after {noticed_after:?}; started again: \
         ready after {recovered_after:?}; load through nginx: {} requests, {outage_failures} \
         failed during the outage",
        requests.len()
    );
    for &n in &survivors {
        assert!(
            instances[n].is_running(),
            "instance {n} exited:\n{}",
            instances[n].log_tail()
        );
    }
    // Writes work again through nginx, and on every instance.
    for &n in &survivors {
        let created = client()
            .post(instances[n].url("/v1/permits"))
            .bearer_auth(&citizen)
            .json(&json!({ "municipality": GENOVA, "procedure": "pdc" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            created.status(),
            201,
            "instance {n}: {}",
            created.text().await.unwrap()
        );
    }
    let me = client()
        .get(nginx.url("/v1/me"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    drop(nginx);
}
