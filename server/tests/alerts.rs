//! Civil-protection alerts end to end, on SQLite (or PostgreSQL with SPORTELLO_TEST_PG_URL):
//! an officer's alert reaches the devices of its municipality through the push simulator of
//! `tests/push-sim/` (Web Push and FCM) and no others; updates collapse and cancellations
//! withdraw; roles keep each municipality's officers to their own; lists, `near` and the demo
//! alert. CAP and the geometry oracle are in `alerts_cap.rs`.
//! Needs the Python venv that scripts/test creates (`build/venv`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::time::Duration;

use common::alerts::{
    ARENZANO_CITIZEN, ARENZANO_OFFICER, BISAGNO, GENOVA_OFFICER, alerts_of, orange_alert, post_alert, pushes,
    register, server_with_simulator, update_of, webpush_device,
};
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, TestServer, client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_core::api::{Alert, Problem};

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
    register(&server, &citizen, &phone).await;

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
    let mut update = update_of(&first.id);
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
    let update = update_of(&first.id);
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
async fn of_concurrent_updates_of_one_alert_exactly_one_wins() {
    let server = TestServer::start().await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[GENOVA_OFFICER]).await;
    let first: Alert = post_alert(&server, &officer, &orange_alert(&["010025"]))
        .await
        .json()
        .await
        .unwrap();
    let update = update_of(&first.id);
    let attempts = (0..8).map(|_| post_alert(&server, &officer, &update));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(reqwest::Response::status)
        .collect();
    let won = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let lost = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((won, lost), (1, 7), "{statuses:?}");
    assert_eq!(alerts_of(&server, "?municipality=010025").await.items.len(), 1);
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
