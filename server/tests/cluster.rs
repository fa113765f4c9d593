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
//!   recover when it is back, without a restart of their own;
//! - SIGTERM to an instance in the middle of another broadcast and of an upload: the upload is
//!   answered, the instance exits within the drain deadline, the others finish the broadcast and
//!   no device receives it twice.
//!
//! Needs what `scripts/test` provides, and fails without it rather than skipping:
//! `SPORTELLO_TEST_PG_URL` and `SPORTELLO_TEST_PG_CTL` (scripts/lib/postgres.sh),
//! `SPORTELLO_TEST_S3_URL` (scripts/lib/s3.sh), nginx (`SPORTELLO_TEST_NGINX`, else `nginx` on
//! the PATH). It restarts the PostgreSQL server, so it runs alone, in its own step.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

#[path = "cluster/harness.rs"]
mod harness;

use harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_nginx_share_files_catalogue_and_pushes_and_survive_a_kill_and_a_database_restart()
 {
    let database = required("SPORTELLO_TEST_PG_URL", "PostgreSQL");
    assert!(database.starts_with("postgres"), "{database}");
    let s3_url = required("SPORTELLO_TEST_S3_URL", "an S3-compatible server");
    let simulator = Simulator::start(false).await;
    let test_db = TestDb::new().await;
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
lease_secs = 4
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

    // Thousands of citizens with a Web Push device each, following Genova's alerts; registered
    // after the demo data is loaded, so that its demo alert for Genova reaches none of them.
    let db = test_db.connect().await;
    simulator
        .register_alert_followers(&db, DEVICES, "CLUSTER", GENOVA)
        .await;
    db.close().await;

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

    // SIGTERM in the middle of another broadcast and of an upload: instance 2 finishes the
    // upload and the pushes it claimed, then exits; instance 0 sends the rest, and no device gets
    // the alert twice (nothing was left leased to expire and be sent again).
    let before = per_device(&simulator.received().await);
    let sent_before = instances[2].pushes_sent().await;
    let accepted = client()
        .post(instances[0].url("/v1/broadcasts"))
        .bearer_auth(&admin)
        .json(&json!({"municipalities": [GENOVA], "topic": "alerts",
                      "subject": "Allerta arancione", "body": "Evitate i sottopassi."}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let broadcast_at = Instant::now();
    loop {
        let delivered = new_deliveries(&before, &simulator.received().await);
        if delivered >= DEVICES / 4 {
            break;
        }
        assert!(broadcast_at.elapsed() < Duration::from_mins(1), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_by_stopping = instances[2].pushes_sent().await - sent_before;
    let upload = tokio::spawn(slow_upload(
        instances[2].address.clone(),
        format!("/v1/permits/{permit}/documents?kind=drawings&name=tavola-2.pdf"),
        citizen.clone(),
        pdf(1_000_000),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &instances[2].child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let term_at = Instant::now();
    let exit = loop {
        if let Some(status) = instances[2].child.try_wait().unwrap() {
            break status;
        }
        assert!(
            term_at.elapsed() < Duration::from_secs(30),
            "instance 2 still running 30 s after SIGTERM:\n{}",
            instances[2].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let exited_after = term_at.elapsed();
    assert!(exit.success(), "{exit:?}:\n{}", instances[2].log_tail());
    let answer = upload.await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the upload in flight at SIGTERM: {answer}"
    );
    simulator
        .wait_for(Duration::from_mins(2), |r| {
            new_deliveries(&before, r) >= DEVICES
                && per_device(r)
                    .iter()
                    .all(|(device, n)| *n > before.get(device).copied().unwrap_or(0))
        })
        .await;
    let finished_after = broadcast_at.elapsed();
    // Longer than a lease: a push left claimed would be sent again by now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let duplicates = new_deliveries(&before, &simulator.received().await) - DEVICES;
    println!(
        "SIGTERM to instance 2 during a broadcast (it had sent {sent_by_stopping} of it) and an \
         upload: exited in {exited_after:?}, the upload answered 201, every device reached \
         {finished_after:?} after the broadcast, {duplicates} duplicate(s)"
    );
    assert!(sent_by_stopping > 0, "instance 2 took no part in the broadcast");
    assert_eq!(
        duplicates, 0,
        "pushes left leased by the stopped instance were sent again"
    );
    drop(nginx);
}
