//! Civil-protection alerts end to end, on SQLite (or PostgreSQL with SPORTELLO_TEST_PG_URL):
//! an officer's alert reaches the devices of its municipality through the push simulator of
//! `tests/push-sim/` and no others; updates collapse and cancellations withdraw; roles keep
//! each municipality's officers to their own; CAP 1.2 in becomes a push, CAP out and in is
//! validated by `xmllint` against the OASIS schema (`server/data/cap/CAP-v1.2.xsd`); invalid CAP
//! is refused with the reason; point in polygon agrees with shapely (GEOS).
//! Needs the Python venv that scripts/test creates (`build/venv`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::push::{Simulator, point_at};
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_core::api::{Alert, AlertPage, Problem};

const GENOVA_OFFICER: &str = "operator:010025:civil-protection";
const ARENZANO_OFFICER: &str = "operator:010001:civil-protection";
/// A second citizen, living in Arenzano (fictitious, valid check character).
const ARENZANO_CITIZEN: &str = "BNCLRA75M41D969C";
/// Roughly the lower Bisagno valley, in Genova.
const BISAGNO: [[f64; 2]; 6] = [
    [44.4180, 8.9450],
    [44.4250, 8.9520],
    [44.4350, 8.9600],
    [44.4300, 8.9700],
    [44.4150, 8.9620],
    [44.4050, 8.9520],
];

async fn server_with_simulator(worker: bool) -> (TestServer, Simulator) {
    let simulator = Simulator::start(true).await;
    let mut prepared = Prepared::new().await;
    point_at(&mut prepared, &simulator);
    prepared.config.notify.worker = worker;
    (prepared.start().await, simulator)
}

fn in_hours(hours: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .unwrap()
        .to_string()
}

fn orange_alert(municipalities: &[&str]) -> Value {
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

async fn post_alert(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/v1/alerts"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_cap(server: &TestServer, token: &str, xml: &str) -> reqwest::Response {
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
async fn webpush_device(
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
    let response = client()
        .post(server.url("/v1/me/devices"))
        .bearer_auth(&token)
        .json(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    id
}

fn pushes<'a>(received: &'a Value, subscription: &str) -> Vec<&'a Value> {
    received["webpush"][subscription]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

async fn alerts_of(server: &TestServer, query: &str) -> AlertPage {
    let response = client()
        .get(server.url(&format!("/v1/alerts{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Validates a CAP document against the OASIS schema with xmllint; returns xmllint's verdict.
fn xmllint(xml: &str) -> Result<(), String> {
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

#[tokio::test]
async fn genova_officer_alerts_genova_update_collapses_cancel_withdraws() {
    let (server, simulator) = server_with_simulator(true).await;
    let genova_phone = webpush_device(&server, &simulator, CITIZEN, &["010025"]).await;
    let arenzano_phone = webpush_device(&server, &simulator, ARENZANO_CITIZEN, &["010001"]).await;
    // Quiet hours all day long: alerts ring anyway.
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let preferences = json!({"topics": ["alerts", "permits"], "language": "it",
        "quiet_hours": {"start": "00:00", "end": "23:59"}, "municipalities": ["010025"]});
    let response = client()
        .put(server.url("/v1/me/notification-preferences"))
        .bearer_auth(&citizen)
        .json(&preferences)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // And an Android phone of the same person, through FCM.
    let phone = json!({"kind": "fcm", "token": "ok-genova-phone", "municipalities": ["010025"]});
    let response = client()
        .post(server.url("/v1/me/devices"))
        .bearer_auth(&citizen)
        .json(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[GENOVA_OFFICER]).await;
    let mut alert = orange_alert(&["010025"]);
    alert["polygons"] = json!([BISAGNO]);
    let response = post_alert(&server, &officer, &alert).await;
    assert_eq!(response.status(), 201);
    let first: Alert = response.json().await.unwrap();
    assert_eq!(
        (first.level.as_str(), first.status.as_str()),
        ("arancione", "active")
    );
    assert_eq!(
        (first.zones.clone(), first.municipalities.clone()),
        (vec!["B".to_owned()], vec!["010025".to_owned()])
    );

    let received = simulator
        .wait_for(Duration::from_secs(20), |r| {
            !pushes(r, &genova_phone).is_empty() && r["fcm"]["ok-genova-phone"].is_array()
        })
        .await;
    assert_eq!(received["rejected"], json!([]));
    let android = &received["fcm"]["ok-genova-phone"][0];
    assert_eq!(android["android"]["collapse_key"], first.id.replace('-', ""));
    assert_eq!(
        android["apns"]["headers"]["apns-collapse-id"],
        first.id.replace('-', "")
    );
    assert_eq!(android["android"]["priority"], "high");
    let data: Value = serde_json::from_str(android["data"]["alert"].as_str().unwrap()).unwrap();
    assert_eq!(
        (data["id"].as_str(), data["level"].as_str()),
        (Some(first.id.as_str()), Some("arancione"))
    );
    let push = pushes(&received, &genova_phone)[0];
    assert_eq!(push["subject"], "Allerta arancione idrogeologica");
    assert_eq!(push["topic"], "alerts");
    assert_eq!(push["alert"]["id"], first.id.as_str());
    assert_eq!(push["alert"]["msg_type"], "alert");
    assert_eq!(push["alert"]["level"], "arancione");
    assert_eq!(
        push["alert"]["headline"]["en"],
        "Orange alert: floods and landslides"
    );
    let area = push["alert"]["area"].as_array().unwrap();
    assert_eq!(
        area[0].as_array().unwrap().len(),
        7,
        "the Bisagno polygon, closed"
    );
    let topic = push["_headers"]["Topic"].as_str().unwrap().to_owned();
    assert_eq!(topic, first.id.replace('-', ""), "the chain's collapse key");
    assert_eq!(push["_headers"]["Urgency"], "high");
    // "Where I am", decided on the device with the area the push carried, both sides of its edge.
    let area: Vec<Vec<[f64; 2]>> = serde_json::from_value(push["alert"]["area"].clone()).unwrap();
    assert!(sportello_core::alerts::area_contains(&area, 44.42, 8.955));
    assert!(!sportello_core::alerts::area_contains(&area, 44.42, 8.940));

    // The update replaces the alert, on the phone too (same Topic).
    let mut update = orange_alert(&["010025"]);
    update["msg_type"] = json!("update");
    update["references"] = json!(first.id);
    update["level"] = json!("rossa");
    update["texts"]["it"]["headline"] = json!("Allerta rossa idrogeologica");
    let response = post_alert(&server, &officer, &update).await;
    assert_eq!(response.status(), 201);
    let second: Alert = response.json().await.unwrap();
    assert_eq!(second.references.as_deref(), Some(first.id.as_str()));
    let received = simulator
        .wait_for(Duration::from_secs(20), |r| pushes(r, &genova_phone).len() >= 2)
        .await;
    let push = pushes(&received, &genova_phone)[1];
    assert_eq!(push["alert"]["msg_type"], "update");
    assert_eq!(push["alert"]["chain"], first.id.as_str());
    assert_eq!(push["_headers"]["Topic"], topic.as_str());
    let replaced: Alert = server.get_json(&format!("/v1/alerts/{}", first.id)).await;
    assert_eq!(replaced.status, "replaced");
    let listed = alerts_of(&server, "?municipality=010025").await;
    assert_eq!(
        listed.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [second.id.as_str()]
    );
    // Updating the replaced alert again is a conflict: the latest version is the one to change.
    assert_eq!(
        post_alert(&server, &officer, &update).await.status(),
        StatusCode::CONFLICT
    );

    // The cancellation withdraws it: a push telling the app to remove the notification.
    let cancel = json!({"msg_type": "cancel", "references": second.id});
    let response = post_alert(&server, &officer, &cancel).await;
    assert_eq!(response.status(), 201);
    let third: Alert = response.json().await.unwrap();
    assert_eq!(
        (third.msg_type.as_str(), third.status.as_str()),
        ("cancel", "cancelled")
    );
    let received = simulator
        .wait_for(Duration::from_secs(20), |r| pushes(r, &genova_phone).len() >= 3)
        .await;
    let push = pushes(&received, &genova_phone)[2];
    assert_eq!(push["alert"]["msg_type"], "cancel");
    assert_eq!(push["_headers"]["Topic"], topic.as_str());
    assert!(alerts_of(&server, "?municipality=010025").await.items.is_empty());
    let cancelled: Alert = server.get_json(&format!("/v1/alerts/{}", second.id)).await;
    assert_eq!(cancelled.status, "cancelled");

    // Arenzano is in zone B too, but the alert was Genova's: nothing reached it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(pushes(&simulator.received().await, &arenzano_phone).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_update_collapses_the_pending_push_of_the_alert_it_replaces() {
    // No delivery worker: both pushes are still pending when the update arrives.
    let (server, simulator) = server_with_simulator(false).await;
    webpush_device(&server, &simulator, CITIZEN, &["010025"]).await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let first: Alert = post_alert(&server, &admin, &orange_alert(&["010025"]))
        .await
        .json()
        .await
        .unwrap();
    let mut update = orange_alert(&["010025"]);
    update["msg_type"] = json!("update");
    update["references"] = json!(first.id);
    let second: Alert = post_alert(&server, &admin, &update).await.json().await.unwrap();
    let rows = sqlx::query("SELECT message_id, status, last_error FROM push_outbox ORDER BY created_at, id")
        .fetch_all(server.state.db.pool())
        .await
        .unwrap();
    let states: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|row| {
            use sqlx::Row;
            (
                row.get::<String, _>("message_id"),
                row.get::<String, _>("status"),
                row.get::<Option<String>, _>("last_error"),
            )
        })
        .collect();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(states[0].0.starts_with(&first.id));
    assert_eq!(
        (states[0].1.as_str(), states[0].2.as_deref()),
        ("dropped", Some("collapsed"))
    );
    assert!(states[1].0.starts_with(&second.id));
    assert_eq!(states[1].1, "pending");
    server.stop().await;
}

#[tokio::test]
async fn officers_alert_only_their_own_municipality() {
    let server = TestServer::start().await;
    let (arenzano, _) = server.dev_login(ARENZANO_OPERATOR, &[ARENZANO_OFFICER]).await;
    let (genova, _) = server.dev_login(GENOVA_OPERATOR, &[GENOVA_OFFICER]).await;
    let (permits, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:permits"])
        .await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    // An Arenzano officer cannot alert Genova; nor can another office of Genova, nor a citizen.
    for token in [&arenzano, &permits, &citizen] {
        let response = post_alert(&server, token, &orange_alert(&["010025"])).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.json::<Problem>().await.unwrap().code, "forbidden");
    }
    // Without a token, 401.
    let response = client()
        .post(server.url("/v1/alerts"))
        .json(&orange_alert(&["010025"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Zone B alone means all of its 18 municipalities: Genova's officer may not; an admin may.
    let mut zone = orange_alert(&[]);
    zone["municipalities"] = json!([]);
    assert_eq!(
        post_alert(&server, &genova, &zone).await.status(),
        StatusCode::FORBIDDEN
    );
    let response = post_alert(&server, &admin, &zone).await;
    assert_eq!(response.status(), 201);
    let whole_zone: Alert = response.json().await.unwrap();
    assert_eq!(whole_zone.municipalities.len(), 18);
    assert!(whole_zone.municipalities.contains(&"010001".to_owned()));
    // Each officer alerts their own municipality.
    let response = post_alert(&server, &arenzano, &orange_alert(&["010001"])).await;
    assert_eq!(response.status(), 201);
    let arenzano_alert: Alert = response.json().await.unwrap();
    // Genova's officer can neither update nor cancel Arenzano's alert, nor the admin's zone alert.
    for earlier in [&arenzano_alert.id, &whole_zone.id] {
        let cancel = json!({"msg_type": "cancel", "references": earlier});
        assert_eq!(
            post_alert(&server, &genova, &cancel).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    // A municipality outside the zones named, an unknown one, a malformed one: 422 naming the field.
    for (municipalities, zones) in [
        (json!(["010015"]), json!(["B"])),
        (json!(["099999"]), json!([])),
        (json!(["10025"]), json!([])),
    ] {
        let mut alert = orange_alert(&[]);
        alert["municipalities"] = municipalities;
        alert["zones"] = zones;
        let response = post_alert(&server, &admin, &alert).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.json::<Problem>().await.unwrap().errors[0].field,
            "municipalities"
        );
    }
    // Lists are per municipality: Arenzano's alert is not Genova's.
    let genova_list = alerts_of(&server, "?municipality=010025").await;
    assert_eq!(
        genova_list
            .items
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        [whole_zone.id.as_str()]
    );
    let arenzano_list = alerts_of(&server, "?municipality=010001").await;
    assert_eq!(arenzano_list.items.len(), 2);
    assert_eq!(alerts_of(&server, "?zone=C").await.items.len(), 0);
    assert_eq!(alerts_of(&server, "?zone=B&limit=1").await.items.len(), 1);
    // A cancel of an alert that does not exist: 404.
    let cancel = json!({"msg_type": "cancel", "references": "no-such-alert"});
    assert_eq!(
        post_alert(&server, &admin, &cancel).await.status(),
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn the_demo_alert_is_loaded_once() {
    let server = TestServer::start().await;
    assert!(
        sportello_server::alerts::demo::load(&server.state.alerts)
            .await
            .unwrap()
    );
    assert!(
        !sportello_server::alerts::demo::load(&server.state.alerts)
            .await
            .unwrap(),
        "only while none is active"
    );
    let listed = alerts_of(&server, "?municipality=010025").await;
    assert_eq!(listed.items.len(), 1);
    let demo = &listed.items[0];
    assert!(demo.demo && demo.texts["it"].headline.starts_with("DEMO"));
    assert_eq!(
        (demo.level.as_str(), demo.zones.clone()),
        ("gialla", vec!["B".to_owned()])
    );
    server.stop().await;
}

#[tokio::test]
async fn lists_are_bounded_and_find_alerts_near_a_point() {
    let server = TestServer::start().await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[GENOVA_OFFICER]).await;
    let mut drawn = orange_alert(&["010025"]);
    drawn["polygons"] = json!([BISAGNO]);
    let drawn: Alert = post_alert(&server, &officer, &drawn).await.json().await.unwrap();
    let plain: Alert = post_alert(&server, &officer, &orange_alert(&["010025"]))
        .await
        .json()
        .await
        .unwrap();
    // Inside the Bisagno polygon: both (Genova is the nearest municipality), the drawn one at 0 km.
    let near = alerts_of(&server, "?near=44.42,8.955").await;
    assert_eq!(near.items.len(), 2);
    let found = near.items.iter().find(|a| a.id == drawn.id).unwrap();
    assert_eq!(found.distance_km, Some(0.0));
    assert!(
        near.items
            .iter()
            .any(|a| a.id == plain.id && a.distance_km.is_none())
    );
    // In Chiavari: neither.
    assert!(alerts_of(&server, "?near=44.3172,9.3224").await.items.is_empty());
    // Pages.
    let first = alerts_of(&server, "?municipality=010025&limit=1").await;
    assert_eq!(first.items[0].id, plain.id, "most recent first");
    let cursor = first.next_cursor.unwrap();
    let second = alerts_of(&server, &format!("?municipality=010025&limit=1&cursor={cursor}")).await;
    assert_eq!(second.items[0].id, drawn.id);
    assert!(second.next_cursor.is_none());
    for bad in [
        "?limit=101",
        "?near=95,8",
        "?zone=F",
        "?municipality=10025",
        "?colour=red",
    ] {
        let response = client()
            .get(server.url(&format!("/v1/alerts{bad}")))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{bad}: {}",
            response.status()
        );
    }
    // Bad values of the alert itself name their field.
    for (field, value, named) in [
        ("level", json!("viola"), "level"),
        ("hazard", json!("meteoriti"), "hazard"),
        ("expires", json!("domani"), "expires"),
        ("polygons", json!([[[44.4, 8.9], [44.5, 8.9]]]), "polygons[0]"),
    ] {
        let mut alert = orange_alert(&["010025"]);
        alert[field] = value;
        let response = post_alert(&server, &officer, &alert).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(response.json::<Problem>().await.unwrap().errors[0].field, named);
    }
    let mut alert = orange_alert(&["010025"]);
    alert["texts"].as_object_mut().unwrap().remove("en");
    let response = post_alert(&server, &officer, &alert).await;
    assert_eq!(
        response.json::<Problem>().await.unwrap().errors[0].field,
        "texts.en"
    );
    server.stop().await;
}

fn cap_document(identifier: &str, msg_type: &str, references: &str) -> String {
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

#[tokio::test]
async fn cap_in_becomes_a_push_and_cap_out_validates_against_the_schema() {
    let (server, simulator) = server_with_simulator(true).await;
    let phone = webpush_device(&server, &simulator, CITIZEN, &["010025"]).await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let document = cap_document("ARPAL-TEST-1", "Alert", "");
    xmllint(&document).expect("the test's own CAP document is valid");
    let response = post_cap(&server, &admin, &document).await;
    assert_eq!(response.status(), 201);
    let imported: Alert = response.json().await.unwrap();
    assert_eq!(
        (imported.level.as_str(), imported.hazard.as_str()),
        ("gialla", "temporali")
    );
    assert_eq!(
        (imported.source.as_str(), imported.identifier.as_str()),
        ("cap", "ARPAL-TEST-1")
    );
    assert_eq!(imported.municipalities, ["010025"]);
    assert_eq!(
        imported.texts["en"].headline, imported.texts["it"].headline,
        "Italian fills in"
    );
    let received = simulator
        .wait_for(Duration::from_secs(20), |r| !pushes(r, &phone).is_empty())
        .await;
    assert_eq!(pushes(&received, &phone)[0]["alert"]["id"], imported.id.as_str());
    // The same document again is the same alert.
    let again = post_cap(&server, &admin, &document).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Alert>().await.unwrap().id, imported.id);

    // CAP out: the imported alert and one written here, and its update, validate.
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[GENOVA_OFFICER]).await;
    let mut written = orange_alert(&["010025"]);
    written["polygons"] = json!([BISAGNO]);
    written["texts"]["it"]["description"] = json!("Piogge <forti> & persistenti.");
    let written: Alert = post_alert(&server, &officer, &written)
        .await
        .json()
        .await
        .unwrap();
    let mut update = orange_alert(&["010025"]);
    update["msg_type"] = json!("update");
    update["references"] = json!(written.id);
    let update: Alert = post_alert(&server, &officer, &update).await.json().await.unwrap();
    for id in [&imported.id, &written.id, &update.id] {
        let response = client()
            .get(server.url(&format!("/v1/alerts/{id}")))
            .header("accept", "application/cap+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/cap+xml")
        );
        let xml = response.text().await.unwrap();
        xmllint(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(xml.contains("<msgType>"), "{xml}");
    }
    let xml = client()
        .get(server.url(&format!("/v1/alerts/{}", update.id)))
        .header("accept", "application/cap+xml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("<msgType>Update</msgType>") && xml.contains(&format!(",{},", written.id)),
        "{xml}"
    );
    assert!(xml.contains("<value>3; orange; Severe</value>"), "{xml}");
    // A CAP Update from outside replaces the imported alert.
    let update_cap = cap_document(
        "ARPAL-TEST-2",
        "Update",
        "allertaliguria@regione.liguria.it,ARPAL-TEST-1,2026-01-01T00:00:00+00:00",
    );
    let response = post_cap(&server, &admin, &update_cap).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.json::<Alert>().await.unwrap().references.as_deref(),
        Some(imported.id.as_str())
    );

    // The Atom feed carries the active alerts with their CAP documents.
    let response = client()
        .get(server.url("/v1/alerts/feed.atom"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let feed = response.text().await.unwrap();
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert!(feed.contains(&update.id) && !feed.contains(&format!("/v1/alerts/{}<", written.id)));
    assert!(feed.contains("<content type=\"application/cap+xml\">"));
    server.stop().await;
}

#[tokio::test]
async fn invalid_cap_is_refused_with_the_reason() {
    let server = TestServer::start().await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let valid = cap_document("ARPAL-TEST-3", "Alert", "");
    for (broken, reason) in [
        (valid.replace("<scope>Public</scope>", ""), "<scope>"),
        (
            valid.replace("<severity>Moderate</severity>", "<severity>Bad</severity>"),
            "<severity>",
        ),
        (valid.replace("+00:00</sent>", "Z</sent>"), "<sent>"),
        (
            valid.replace("<language>it-IT</language>", "<colour>x</colour>"),
            "<colour>",
        ),
    ] {
        assert!(xmllint(&broken).is_err(), "xmllint refuses it too: {reason}");
        let response = post_cap(&server, &admin, &broken).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
        let problem: Problem = response.json().await.unwrap();
        assert_eq!(problem.code, "cap-invalid");
        assert!(problem.detail.contains(reason), "{reason}: {}", problem.detail);
    }
    // Valid CAP that is no public alert, or names an alert never received.
    let exercise = valid.replace("<status>Actual</status>", "<status>Exercise</status>");
    assert!(xmllint(&exercise).is_ok());
    let problem: Problem = post_cap(&server, &admin, &exercise).await.json().await.unwrap();
    assert!(problem.detail.contains("Actual"), "{}", problem.detail);
    let orphan = cap_document(
        "ARPAL-TEST-4",
        "Cancel",
        "someone,ARPAL-NONE,2026-01-01T00:00:00+00:00",
    );
    let problem: Problem = post_cap(&server, &admin, &orphan).await.json().await.unwrap();
    assert!(problem.detail.contains("ARPAL-NONE"), "{}", problem.detail);
    // The OASIS specification's example is valid CAP, but alerts no municipality served here.
    let example =
        std::fs::read_to_string(project_root().join("server/data/cap/oasis-example-amber-alert.xml"))
            .unwrap();
    let response = post_cap(&server, &admin, &example).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.json::<Problem>().await.unwrap().errors[0].field,
        "municipalities"
    );
    // Not XML, another media type, too large.
    assert_eq!(
        post_cap(&server, &admin, "<alert").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let response = client()
        .post(server.url("/v1/alerts"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(valid.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = valid.replace("Temporali forti possibili.", &"x".repeat(1_100_000));
    assert_eq!(
        post_cap(&server, &admin, &huge).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // An Arenzano officer cannot import an alert for Genova either.
    let (arenzano, _) = server.dev_login(ARENZANO_OPERATOR, &[ARENZANO_OFFICER]).await;
    assert_eq!(
        post_cap(&server, &arenzano, &valid).await.status(),
        StatusCode::FORBIDDEN
    );
    server.stop().await;
}

/// A deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    /// A whole number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next();
        self.0 % n
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        #[allow(clippy::cast_precision_loss, reason = "53 bits are what a float holds")]
        let value = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        value
    }
}

/// Star-shaped polygons around points of the Genoa coast, with jagged radii as rivers' flood
/// areas and streets drawn by hand have: valid by construction (angles strictly increasing).
fn jagged_polygon(rng: &mut Rng) -> Vec<[f64; 2]> {
    let (lat0, lon0) = (44.30 + rng.next() * 0.2, 8.60 + rng.next() * 0.8);
    let count = 8 + usize::try_from(rng.below(300)).unwrap();
    let base = 0.005 + rng.next() * 0.05;
    (0..count)
        .map(|i| {
            #[allow(clippy::cast_precision_loss, reason = "a few hundred vertices")]
            let angle = (i as f64 + rng.next() * 0.8) / count as f64 * std::f64::consts::TAU;
            let radius = base * (0.3 + rng.next() * 0.7);
            [lat0 + radius * angle.sin(), lon0 + radius * 1.4 * angle.cos()]
        })
        .collect()
}

#[tokio::test]
async fn point_in_polygon_agrees_with_shapely() {
    let mut rng = Rng(0x5eed_a1e7_2026);
    let polygons: Vec<Vec<[f64; 2]>> = (0..40).map(|_| jagged_polygon(&mut rng)).collect();
    let mut points = Vec::new();
    for polygon in &polygons {
        let (lat0, lon0) = (polygon[0][0], polygon[0][1]);
        for _ in 0..50 {
            points.push([lat0 + (rng.next() - 0.5) * 0.15, lon0 + (rng.next() - 0.7) * 0.2]);
        }
    }
    let oracle = common::oracle(
        "tests/alerts/shapely_oracle.py",
        "tests/alerts/requirements.txt",
        &json!({"polygons": polygons, "points": points}),
    )
    .await;
    let mut inside_count = 0;
    for (p, polygon) in polygons.iter().enumerate() {
        let checked = sportello_core::alerts::polygons_from_wire("p", std::slice::from_ref(polygon)).unwrap();
        for (q, point) in points.iter().enumerate() {
            let here = sportello_core::geo::Coordinates::new(point[0], point[1]).unwrap();
            let ours = checked[0].contains(here);
            assert_eq!(
                ours,
                oracle["inside"][p][q].as_bool().unwrap(),
                "polygon {p} {polygon:?}, point {point:?}"
            );
            // What the apps call checks the polygon at every call: a sample is enough.
            if q % 25 == 0 {
                let on_device =
                    sportello_core::alerts::area_contains(std::slice::from_ref(polygon), point[0], point[1]);
                assert_eq!(ours, on_device);
            }
            inside_count += usize::from(ours);
        }
    }
    assert!(
        inside_count > 100,
        "the points exercise both answers: {inside_count} inside"
    );
}
