//! Civil-protection alerts as CAP 1.2, on SQLite (or PostgreSQL with SPORTELLO_TEST_PG_URL):
//! a CAP alert from outside becomes a push; every CAP document written, and the ones read, are
//! validated by `xmllint` against the OASIS schema (`server/data/cap/CAP-v1.2.xsd`); invalid CAP
//! is refused with the reason (and xmllint refuses it too); the Atom feed. Point in polygon is
//! compared with shapely (GEOS) on random points and jagged polygons.
//! Needs the Python venv that scripts/test creates (`build/venv`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::time::Duration;

use common::alerts::{
    ARENZANO_OFFICER, BISAGNO, GENOVA_OFFICER, cap_document, orange_alert, post_alert, post_cap,
    project_root, pushes, server_with_simulator, update_of, webpush_device, xmllint,
};
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, TestServer, client};
use reqwest::StatusCode;
use serde_json::json;
use sportello_core::api::{Alert, Problem};

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
    let update = update_of(&written.id);
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
    // An Arenzano officer cannot import an alert for Genova either, before or after it arrived.
    let (arenzano, _) = server.dev_login(ARENZANO_OPERATOR, &[ARENZANO_OFFICER]).await;
    assert_eq!(
        post_cap(&server, &arenzano, &valid).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_cap(&server, &admin, &valid).await.status(),
        StatusCode::CREATED
    );
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
