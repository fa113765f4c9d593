//! `scripts/bench push`: one area broadcast to many Web Push devices, delivered by the real
//! worker over HTTP to an in-process push-service sink on loopback. Prints fan-out time, time
//! until the sink has received every push, deliveries per second, and the encryption cost per
//! message beside pywebpush's, measured in the same run.
//!
//! SPORTELLO_BENCH_DEVICES (default 100000), SPORTELLO_BENCH_PG_URL (PostgreSQL instead of
//! SQLite), SPORTELLO_BENCH_PYTHON (default build/venv/bin/python), SPORTELLO_BENCH_INSTANCES
//! (2: the broadcast again with one instance's workers, then with a second instance's beside
//! them on the same database, and the ratio; `scripts/bench cluster` sets it, on PostgreSQL).

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::too_many_lines,
    reason = "a benchmark script, read top to bottom"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sportello_core::api::BroadcastRequest;
use sportello_core::identity::Role;
use sportello_server::config::{Config, Secret};
use sportello_server::db::Db;
use sportello_server::notify::webpush;
use sportello_server::{AppState, serve, tenant};

#[tokio::main]
async fn main() {
    let devices: usize = std::env::var("SPORTELLO_BENCH_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let instances: usize = std::env::var("SPORTELLO_BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("SPORTELLO_BENCH_PG_URL") {
        Ok(url) => url,
        Err(_) => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };

    // The push-service sink: accepts every push, counts it.
    let received = Arc::new(AtomicUsize::new(0));
    let sink = Router::new().route(
        "/wp/{id}",
        post({
            let received = Arc::clone(&received);
            move |headers: HeaderMap, body: axum::body::Bytes| {
                let received = Arc::clone(&received);
                async move {
                    let ok = headers.get("content-encoding").is_some_and(|v| v == "aes128gcm")
                        && headers.get("authorization").is_some()
                        && !body.is_empty();
                    if ok {
                        received.fetch_add(1, Ordering::Relaxed);
                        StatusCode::CREATED
                    } else {
                        StatusCode::BAD_REQUEST
                    }
                }
            }
        }),
    );
    let sink_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_addr = sink_listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(sink_listener, sink).await.unwrap() });

    // Setup: people with one browser subscription each, all with an alert area in Genova.
    let setup = Instant::now();
    let db = Db::connect_and_migrate(&url).await.unwrap();
    tenant::Municipalities::load(&db).await.unwrap();
    let keys: Vec<(String, String)> = (0..256)
        .map(|_| {
            let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
            let point = secret.public_key().to_encoded_point(false);
            (
                URL_SAFE_NO_PAD.encode(point.as_bytes()),
                URL_SAFE_NO_PAD.encode(rand16()),
            )
        })
        .collect();
    let mut tx = db.pool().begin().await.unwrap();
    for chunk_start in (0..devices).step_by(500) {
        let end = (chunk_start + 500).min(devices);
        for i in chunk_start..end {
            let user = format!("bench-user-{i}");
            let (p256dh, auth) = &keys[i % keys.len()];
            sqlx::query(
                "INSERT INTO users (id, fiscal_code, created_at, last_login_at) VALUES ($1, $1, 0, 0)",
            )
            .bind(&user)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO devices (id, user_id, kind, address, p256dh, auth, created_at)
                 VALUES ($1, $2, 'webpush', $3, $4, $5, 0)",
            )
            .bind(format!("bench-device-{i}"))
            .bind(&user)
            .bind(format!("http://{sink_addr}/wp/{i}"))
            .bind(p256dh)
            .bind(auth)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query("INSERT INTO alert_areas (user_id, municipality) VALUES ($1, '010025')")
                .bind(&user)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    db.close().await;
    let setup = setup.elapsed();

    let make_config = |data_dir: &std::path::Path| {
        let mut config = Config {
            data_dir: data_dir.to_owned(),
            database_url: Some(Secret::new(url.clone())),
            ..Config::default()
        };
        config.notify.allow_insecure_endpoints = true;
        config.notify.webpush_allowed_hosts = vec!["127.0.0.1".to_owned()];
        config.notify.batch_size = 512;
        config.notify.concurrency = 64;
        config
    };
    let first = Instance::start(make_config(dir.path())).await;

    let request = BroadcastRequest {
        municipalities: vec!["010025".to_owned()],
        topic: "alerts".to_owned(),
        subject: "Allerta rossa per temporali".to_owned(),
        body: "Evitate i sottopassi e le zone vicine ai torrenti. Seguite gli aggiornamenti.".to_owned(),
    };
    let (fan_out, total) = broadcast_and_wait(&first.state, &request, &received, devices).await;

    // Two instances on one database: the same broadcast again with one instance's workers (warm,
    // as the next run will be), then with a second instance's workers beside them.
    let mut two_instances = None;
    if instances >= 2 {
        let (_, one) = broadcast_and_wait(&first.state, &request, &received, devices).await;
        let second_dir = tempfile::tempdir().unwrap();
        let second = Instance::start(make_config(second_dir.path())).await;
        let (_, two) = broadcast_and_wait(&first.state, &request, &received, devices).await;
        second.stop().await;
        two_instances = Some((one, two));
    }
    first.stop().await;

    // Encryption alone, ours and pywebpush's, on the same payload size.
    let payload = serde_json::json!({
        "id": "0199c1d2-0000-7000-8000-000000000000/0199c1d2-0000-7000-8000-000000000001",
        "message_id": "0199c1d2-0000-7000-8000-000000000000", "topic": "alerts",
        "subject": request.subject, "body": request.body, "url": "/inbox/0199c1d2-0000-7000-8000-000000000000",
    })
    .to_string();
    let samples = 2000;
    let (p256dh, auth) = &keys[0];
    let encrypt_start = Instant::now();
    for _ in 0..samples {
        std::hint::black_box(webpush::encrypt(payload.as_bytes(), p256dh, auth).unwrap());
    }
    let ours_us = encrypt_start.elapsed().as_secs_f64() * 1e6 / f64::from(samples);
    let python = std::env::var("SPORTELLO_BENCH_PYTHON")
        .unwrap_or_else(|_| format!("{}/../build/venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let script = format!(
        "{}/../tests/push-sim/bench_encrypt.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let theirs_us = std::process::Command::new(&python)
        .args([&script, &samples.to_string(), &payload])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse::<f64>().ok());

    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    println!("push benchmark ({backend}, {devices} web-push devices, 2 cores)");
    println!(
        "  setup (insert people and devices):   {:>8.2} s",
        setup.as_secs_f64()
    );
    println!(
        "  broadcast fan-out (inbox + outbox):  {:>8.2} s",
        fan_out.as_secs_f64()
    );
    println!(
        "  broadcast to last push received:     {:>8.2} s",
        total.as_secs_f64()
    );
    println!(
        "  deliveries per second:               {:>8.0}",
        devices as f64 / total.as_secs_f64()
    );
    println!("  encryption per message (Sportello):  {ours_us:>8.1} µs");
    match theirs_us {
        Some(theirs) => {
            println!("  encryption per message (pywebpush):  {theirs:>8.1} µs");
            println!(
                "  pywebpush / Sportello:               {:>8.1}x",
                theirs / ours_us
            );
        }
        None => println!("  pywebpush: not available ({python}); run scripts/test once to create the venv"),
    }
    if let Some((one, two)) = two_instances {
        let rate = |took: Duration| devices as f64 / took.as_secs_f64();
        println!(
            "  one instance's workers (warm):        {:>8.2} s, {:>6.0} deliveries/s",
            one.as_secs_f64(),
            rate(one)
        );
        println!(
            "  two instances' workers together:     {:>8.2} s, {:>6.0} deliveries/s",
            two.as_secs_f64(),
            rate(two)
        );
        println!(
            "  two instances / one instance:         {:>8.2}x",
            rate(two) / rate(one)
        );
    }
}

/// One server with its delivery workers, as `sportello serve` runs it.
struct Instance {
    state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Instance {
    async fn start(config: Config) -> Self {
        let state = AppState::start(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn({
            let state = state.clone();
            async move {
                serve(state, listener, None, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            }
        });
        Self { state, stop, server }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap();
    }
}

/// Broadcasts `request` and waits until the sink has received a push for every device: the
/// fan-out's time and the time to the last push.
async fn broadcast_and_wait(
    state: &AppState,
    request: &BroadcastRequest,
    received: &AtomicUsize,
    devices: usize,
) -> (Duration, Duration) {
    received.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let (_, recipients, pushes) = state
        .notifier
        .broadcast("bench", &[Role::Admin], request)
        .await
        .unwrap();
    let fan_out = start.elapsed();
    assert_eq!((recipients, pushes), (devices as u64, devices as u64));
    while received.load(Ordering::Relaxed) < devices {
        assert!(
            start.elapsed() < Duration::from_mins(15),
            "stalled at {}",
            received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (fan_out, start.elapsed())
}

fn rand16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}
