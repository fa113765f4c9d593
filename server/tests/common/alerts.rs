//! Helpers of the alerts suites (`alerts.rs`, `alerts_cap.rs`): alerts and CAP documents to
//! send, devices on the push simulator, and `xmllint` against the OASIS CAP 1.2 schema.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use sportello_core::api::AlertPage;

use super::push::{Simulator, point_at};
use super::{Prepared, TestServer, client};

pub const GENOVA_OFFICER: &str = "operator:010025:civil-protection";
pub const ARENZANO_OFFICER: &str = "operator:010001:civil-protection";
/// A second citizen, living in Arenzano (fictitious, valid check character).
pub const ARENZANO_CITIZEN: &str = "BNCLRA75M41D969C";
/// Roughly the lower Bisagno valley, in Genova.
pub const BISAGNO: [[f64; 2]; 6] = [
    [44.4180, 8.9450],
    [44.4250, 8.9520],
    [44.4350, 8.9600],
    [44.4300, 8.9700],
    [44.4150, 8.9620],
    [44.4050, 8.9520],
];

pub async fn server_with_simulator(worker: bool) -> (TestServer, Simulator) {
    let simulator = Simulator::start(true).await;
    let mut prepared = Prepared::new().await;
    point_at(&mut prepared, &simulator);
    prepared.config.notify.worker = worker;
    (prepared.start().await, simulator)
}

pub fn in_hours(hours: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .unwrap()
        .to_string()
}

pub fn orange_alert(municipalities: &[&str]) -> Value {
    json!({
        "level": "arancione",
        "hazard": "idrogeologico",
        "zones": ["B"],
        "municipalities": municipalities,
        "expires": in_hours(24),
        "texts": {
            "it": {"headline": "Allerta arancione idrogeologica", "description": "Piogge forti.",
                   "instruction": "Non sostare nei sottopassi."},
            "en": {"headline": "Orange alert: floods and landslides", "description": "Heavy rain.",
                   "instruction": "Keep out of underpasses."}
        }
    })
}

/// An update of the alert `id` (an orange alert for Genova, as [`orange_alert`]).
pub fn update_of(id: &str) -> Value {
    let mut update = orange_alert(&["010025"]);
    update["msg_type"] = json!("update");
    update["references"] = json!(id);
    update
}

pub async fn post_alert(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/v1/alerts"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_cap(server: &TestServer, token: &str, xml: &str) -> reqwest::Response {
    client()
        .post(server.url("/v1/alerts"))
        .bearer_auth(token)
        .header("content-type", "application/cap+xml")
        .body(xml.to_owned())
        .send()
        .await
        .unwrap()
}

/// Registers a Web Push device of the simulator for `fiscal_code`, with alert areas.
pub async fn webpush_device(
    server: &TestServer,
    simulator: &Simulator,
    fiscal_code: &str,
    areas: &[&str],
) -> String {
    let (token, _) = server.dev_login(fiscal_code, &[]).await;
    let mut device = simulator.subscriptions(1, "ok").await[0].clone();
    let id = device["endpoint"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    device["kind"] = json!("webpush");
    device["municipalities"] = json!(areas);
    register(server, &token, &device).await;
    id
}

pub async fn register(server: &TestServer, token: &str, device: &Value) {
    let response = client()
        .post(server.url("/v1/me/devices"))
        .bearer_auth(token)
        .json(device)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

pub fn pushes<'a>(received: &'a Value, subscription: &str) -> Vec<&'a Value> {
    received["webpush"][subscription]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

pub async fn alerts_of(server: &TestServer, query: &str) -> AlertPage {
    let response = client()
        .get(server.url(&format!("/v1/alerts{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Validates a CAP document against the OASIS schema with xmllint; returns xmllint's verdict.
pub fn xmllint(xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(project_root().join("server/data/cap/CAP-v1.2.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint must be installed (apt-get install libxml2-utils; scripts/test does it)");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

pub fn cap_document(identifier: &str, msg_type: &str, references: &str) -> String {
    let sent = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    let expires = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(12))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    let references = if references.is_empty() {
        String::new()
    } else {
        format!("<references>{references}</references>")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>allertaliguria@regione.liguria.it</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>it-IT</language>
    <category>Met</category>
    <event>Allerta meteo-idrologica per temporali</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <senderName>Regione Liguria – ARPAL</senderName>
    <headline>Allerta gialla per temporali sulla zona B</headline>
    <description>Temporali forti possibili.</description>
    <parameter><valueName>awareness_level</valueName><value>2; yellow; Moderate</value></parameter>
    <area>
      <areaDesc>Genova</areaDesc>
      <polygon>44.40,8.90 44.45,8.90 44.45,9.00 44.40,9.00 44.40,8.90</polygon>
      <geocode><valueName>ISTAT</valueName><value>010025</value></geocode>
    </area>
  </info>
</alert>
"#
    )
}
