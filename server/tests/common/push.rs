//! The push-service simulator of `tests/push-sim/` (Web Push with VAPID checks and `http_ece`
//! decryption, FCM HTTP v1), started for a test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sportello_server::config::FcmConfig;
use sportello_server::db::Db;
use sportello_server::notify::store;
use sportello_server::{identity, tenant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use super::{Prepared, client};

/// The push simulator; stops when dropped.
pub struct Simulator {
    pub base: String,
    pub service_account: PathBuf,
    _dir: tempfile::TempDir,
    _child: Child,
    _stdin: ChildStdin,
}

fn python() -> PathBuf {
    std::env::var_os("SPORTELLO_TEST_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/venv/bin/python"),
        PathBuf::from,
    )
}

impl Simulator {
    pub async fn start(decrypt: bool) -> Self {
        let python = python();
        assert!(
            python.exists(),
            "no Python venv at {}: run scripts/test (it creates build/venv)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let service_account = dir.path().join("service-account.json");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/push-sim/push_sim.py");
        let mut command = Command::new(python);
        command.arg(script).arg("--service-account").arg(&service_account);
        if !decrypt {
            command.arg("--no-decrypt");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .await
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("READY ")
            .expect("simulator prints READY")
            .to_owned();
        let stdin = child.stdin.take().unwrap();
        Self {
            base,
            service_account,
            _dir: dir,
            _child: child,
            _stdin: stdin,
        }
    }

    /// `count` people (fiscal codes `{prefix}0…`) with a Web Push subscription each on this
    /// simulator, following the alerts of `municipality`: a broadcast's audience, written
    /// straight into the store.
    pub async fn register_alert_followers(&self, db: &Db, count: usize, prefix: &str, municipality: &str) {
        tenant::Municipalities::load(db).await.unwrap();
        let subscriptions = self.subscriptions(count, "ok").await;
        for (i, subscription) in subscriptions.iter().enumerate() {
            // Valid fiscal codes are not needed at the store level: any unique key will do.
            let user = identity::store::upsert_user(db, &format!("{prefix}{i:012}"), None, None)
                .await
                .unwrap();
            let keys = &subscription["keys"];
            store::upsert_device(
                db,
                &user.id,
                "webpush",
                subscription["endpoint"].as_str().unwrap(),
                keys["p256dh"].as_str(),
                keys["auth"].as_str(),
            )
            .await
            .unwrap();
            store::add_alert_areas(db, &user.id, &[municipality.to_owned()])
                .await
                .unwrap();
        }
    }

    pub async fn subscriptions(&self, count: usize, behavior: &str) -> Vec<Value> {
        let response: Value = client()
            .post(format!("{}/control/webpush", self.base))
            .json(&json!({"count": count, "behavior": behavior}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["subscriptions"].as_array().unwrap().clone()
    }

    pub async fn received(&self) -> Value {
        client()
            .get(format!("{}/control/received", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until `done` holds for the received state, or fails after `limit`.
    pub async fn wait_for(&self, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let received = self.received().await;
            if done(&received) {
                return received;
            }
            assert!(
                start.elapsed() < limit,
                "timed out; simulator state: {received:#}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Configures a server for the simulator.
pub fn point_at(prepared: &mut Prepared, simulator: &Simulator) {
    let notify = &mut prepared.config.notify;
    notify.allow_insecure_endpoints = true;
    notify.webpush_allowed_hosts = vec!["127.0.0.1".to_owned()];
    notify.poll_interval_ms = 50;
    notify.fcm = Some(FcmConfig {
        service_account_file: simulator.service_account.clone(),
        api_url: simulator.base.clone(),
        token_url: None,
    });
}
