//! Reliability: `kill -9` the server in the middle of a broadcast, restart it, and count what
//! every device received. Delivery is at least once; the documented window for duplicates is
//! the batches in flight in the killed instance (`notify.rounds_in_flight × notify.batch_size`),
//! redelivered after their lease.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use common::push::Simulator;
use serde_json::Value;
use sportello_server::notify::store;

const DEVICES: usize = 2000;
const BATCH: usize = 16;
const ROUNDS: usize = 2;
/// The at-least-once window: every batch in flight when the instance died.
const WINDOW: usize = BATCH * ROUNDS;

fn start_server(db_url: &str, config: &std::path::Path, data: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .args(["--config", config.to_str().unwrap(), "--database-url", db_url])
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("SPORTELLO__ENV")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn per_device(received: &Value) -> Vec<usize> {
    received["webpush"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .collect()
}

#[tokio::test]
async fn kill_9_mid_broadcast_loses_nothing_and_duplicates_stay_within_the_batches_in_flight() {
    let simulator = Simulator::start(true).await;
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    simulator
        .register_alert_followers(&db, DEVICES, "USER", "010025")
        .await;
    let municipalities = ["010025".to_owned()];
    let broadcast = store::NewBroadcast {
        id: "crash-test",
        created_by: "test",
        topic: "alerts",
        subject: "Allerta rossa",
        body: "Restate in casa.",
        municipalities: &municipalities,
        ttl_ms: 3_600_000,
    };
    let (recipients, pushes) = store::create_broadcast(&db, &broadcast).await.unwrap();
    assert_eq!((recipients, pushes), (DEVICES as u64, DEVICES as u64));
    db.close().await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sportello.toml");
    writeln!(
        std::fs::File::create(&config).unwrap(),
        "[notify]\nallow_insecure_endpoints = true\nwebpush_allowed_hosts = [\"127.0.0.1\"]\n\
         batch_size = {BATCH}\nrounds_in_flight = {ROUNDS}\nconcurrency = 4\nlease_secs = 2\npoll_interval_ms = 50"
    )
    .unwrap();

    let mut first = start_server(&test_db.url, &config, dir.path());
    let start = Instant::now();
    let at_kill = loop {
        let delivered: usize = per_device(&simulator.received().await).iter().sum();
        if delivered >= DEVICES / 4 {
            break delivered;
        }
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "no progress before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    first.kill().unwrap(); // SIGKILL: no graceful shutdown, a batch may be in flight
    first.wait().unwrap();
    assert!(
        at_kill < DEVICES,
        "killed after the end: make the broadcast bigger"
    );

    let mut second = start_server(&test_db.url, &config, dir.path());
    let received = simulator
        .wait_for(Duration::from_secs(90), |r| {
            r["webpush"].as_object().is_some_and(|m| m.len() == DEVICES)
        })
        .await;
    // Let anything still in flight land before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = {
        let _ = received;
        simulator.received().await
    };
    second.kill().unwrap();
    second.wait().unwrap();

    let counts = per_device(&received);
    let total: usize = counts.iter().sum();
    let duplicates = total - DEVICES;
    println!(
        "kill -9 after {at_kill}/{DEVICES} deliveries; after restart every device reached; \
         {duplicates} duplicate(s) (bound: {ROUNDS} rounds of {BATCH} = {WINDOW})"
    );
    assert_eq!(counts.len(), DEVICES, "every device received the alert");
    assert!(counts.iter().all(|&n| n >= 1));
    assert!(
        duplicates <= WINDOW,
        "{duplicates} duplicates exceed the batches in flight"
    );
    assert_eq!(received["rejected"], serde_json::json!([]));

    let db = test_db.connect().await;
    assert_eq!(
        store::outbox_counts(&db).await.unwrap(),
        vec![("sent".to_owned(), i64::try_from(DEVICES).unwrap())]
    );
}
