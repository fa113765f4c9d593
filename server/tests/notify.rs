//! Notifications end to end: devices, inbox, broadcasts, and delivery through the push
//! simulator of `tests/push-sim/` (VAPID verified and every payload decrypted by Python
//! `http_ece`; FCM assertion verified with the service account's public key).
//! Needs the Python venv that scripts/test creates (`build/venv`, `tests/push-sim/requirements.txt`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::time::{Duration, Instant};

use common::push::{Simulator, point_at};
use common::{ADMIN, ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_core::api::{InboxPage, Problem};
use sportello_server::notify::store;

async fn server_with_simulator() -> (TestServer, Simulator) {
    let simulator = Simulator::start(true).await;
    let mut prepared = Prepared::new().await;
    point_at(&mut prepared, &simulator);
    (prepared.start().await, simulator)
}

async fn register(server: &TestServer, token: &str, device: &Value) -> reqwest::Response {
    client()
        .post(server.url("/v1/me/devices"))
        .bearer_auth(token)
        .json(device)
        .send()
        .await
        .unwrap()
}

fn webpush(subscription: &Value, municipalities: &[&str]) -> Value {
    let mut device = subscription.clone();
    device["kind"] = json!("webpush");
    device["expirationTime"] = Value::Null;
    device["municipalities"] = json!(municipalities);
    device
}

async fn broadcast(
    server: &TestServer,
    token: &str,
    municipalities: &[&str],
    subject: &str,
) -> reqwest::Response {
    client()
        .post(server.url("/v1/broadcasts"))
        .bearer_auth(token)
        .json(
            &json!({"municipalities": municipalities, "topic": "alerts", "subject": subject,
                      "body": "Allerta **arancione** per piogge: evitate i sottopassi."}),
        )
        .send()
        .await
        .unwrap()
}

/// Waits until the person has exactly `expected` devices (dead ones are removed asynchronously).
async fn wait_for_devices(server: &TestServer, token: &str, expected: usize) {
    let start = Instant::now();
    loop {
        let devices: Value = client()
            .get(server.url("/v1/me/devices"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if devices["items"].as_array().unwrap().len() == expected {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "expected {expected} devices: {devices}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn delivered(received: &Value, kind: &str) -> usize {
    received[kind]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_array().unwrap().len()).sum())
}

#[tokio::test]
async fn web_push_payloads_decrypt_with_http_ece_and_carry_the_inbox_message() {
    let (server, simulator) = server_with_simulator().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let subscriptions = simulator.subscriptions(3, "ok").await;
    for subscription in &subscriptions {
        let response = register(&server, &citizen, &webpush(subscription, &["010025"])).await;
        assert_eq!(response.status(), 201);
    }
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let response = broadcast(&server, &admin, &["010025", "010001"], "Allerta meteo arancione").await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(
        (accepted["recipients"].as_u64(), accepted["pushes"].as_u64()),
        (Some(1), Some(3))
    );

    let received = simulator
        .wait_for(Duration::from_secs(20), |r| delivered(r, "webpush") >= 3)
        .await;
    assert_eq!(received["rejected"], json!([]), "VAPID and headers accepted");
    let inbox: InboxPage = client()
        .get(server.url("/v1/me/inbox"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.unread, 1);
    let message = &inbox.items[0];
    for (_, payloads) in received["webpush"].as_object().unwrap() {
        let payloads = payloads.as_array().unwrap();
        assert_eq!(payloads.len(), 1, "exactly once per device");
        let payload = &payloads[0];
        assert_eq!(payload["subject"], "Allerta meteo arancione");
        assert_eq!(payload["message_id"], message.id.as_str());
        assert_eq!(payload["url"], format!("/inbox/{}", message.id));
        assert_eq!(payload["_headers"]["Urgency"], "high");
        assert_eq!(payload["_headers"]["Topic"], "alerts");
        assert!(
            payload["_headers"]["TTL"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 0
        );
    }
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("sportello_push_sent_total"), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn dead_devices_are_removed_and_retry_after_is_honoured() {
    let (server, simulator) = server_with_simulator().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let gone = simulator.subscriptions(1, "gone").await;
    let slow = simulator.subscriptions(1, "retry-after-once").await;
    let flaky = simulator.subscriptions(1, "unavailable-once").await;
    let broken = simulator.subscriptions(1, "bad-request").await;
    for subscription in [&gone[0], &slow[0], &flaky[0], &broken[0]] {
        assert_eq!(
            register(&server, &citizen, &webpush(subscription, &["010025"]))
                .await
                .status(),
            201
        );
    }
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    assert_eq!(
        broadcast(&server, &admin, &["010025"], "Prova").await.status(),
        202
    );
    let received = simulator
        .wait_for(Duration::from_secs(30), |r| delivered(r, "webpush") >= 2)
        .await;
    let id_of = |sub: &Value| {
        sub["endpoint"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(received["attempts"][id_of(&slow[0])], 2, "429 then delivered");
    assert_eq!(received["attempts"][id_of(&flaky[0])], 2, "503 then delivered");
    assert_eq!(received["attempts"][id_of(&broken[0])], 1, "400 is not retried");
    // The gone device disappears from the user's devices.
    wait_for_devices(&server, &citizen, 3).await;
    server.stop().await;
}

#[tokio::test]
async fn fcm_http_v1_with_a_verified_assertion_and_error_handling() {
    let (server, simulator) = server_with_simulator().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    for token in [
        "ok-phone",
        "unregistered-phone",
        "ratelimit-phone",
        "unavailable-phone",
        "invalid-phone",
    ] {
        let device = json!({"kind": "fcm", "token": token, "municipalities": ["010025"]});
        assert_eq!(register(&server, &citizen, &device).await.status(), 201);
    }
    // With FCM configured, an FCM device still needs its token; APNs has no sender yet.
    let response = register(&server, &citizen, &json!({"kind": "fcm"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json::<Problem>().await.unwrap().errors[0].field, "token");
    let response = register(&server, &citizen, &json!({"kind": "apns", "token": "t"})).await;
    assert_eq!(
        response.json::<Problem>().await.unwrap().code,
        "push-kind-unavailable"
    );
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    assert_eq!(
        broadcast(&server, &admin, &["010025"], "Allerta gialla")
            .await
            .status(),
        202
    );
    let received = simulator
        .wait_for(Duration::from_secs(30), |r| delivered(r, "fcm") >= 3)
        .await;
    assert_eq!(
        received["rejected"],
        json!([]),
        "assertion verified with the service account key"
    );
    let fcm = received["fcm"].as_object().unwrap();
    let mut tokens: Vec<_> = fcm.keys().cloned().collect();
    tokens.sort();
    assert_eq!(tokens, ["ok-phone", "ratelimit-phone", "unavailable-phone"]);
    let message = &fcm["ok-phone"][0];
    assert_eq!(message["notification"]["title"], "Allerta gialla");
    assert_eq!(message["android"]["priority"], "high");
    assert_eq!(message["android"]["collapse_key"], "alerts");
    assert!(message["data"]["message_id"].as_str().is_some());
    assert_eq!(received["attempts"]["ratelimit-phone"], 2);
    assert_eq!(received["attempts"]["invalid-phone"], 1);
    // The unregistered token is forgotten; the others stay.
    wait_for_devices(&server, &citizen, 4).await;
    server.stop().await;
}

#[tokio::test]
async fn broadcasts_are_scoped_to_the_senders_municipalities() {
    let (server, _simulator) = server_with_simulator().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:permits"])
        .await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:permits"])
        .await;
    assert_eq!(
        broadcast(&server, &citizen, &["010025"], "x").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        broadcast(&server, &arenzano, &["010025"], "x").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        broadcast(&server, &genova, &["010025", "010001"], "x")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        broadcast(&server, &genova, &["010025"], "Allerta").await.status(),
        StatusCode::ACCEPTED
    );
    for (body, field) in [
        (
            json!({"municipalities": [], "topic": "alerts", "subject": "s", "body": "b"}),
            "municipalities",
        ),
        (
            json!({"municipalities": ["099999"], "topic": "alerts", "subject": "s", "body": "b"}),
            "municipalities",
        ),
        (
            json!({"municipalities": ["010025"], "topic": "weather", "subject": "s", "body": "b"}),
            "topic",
        ),
        (
            json!({"municipalities": ["010025"], "topic": "alerts", "subject": "", "body": "b"}),
            "subject",
        ),
    ] {
        let response = client()
            .post(server.url("/v1/broadcasts"))
            .bearer_auth(&genova)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json::<Problem>().await.unwrap().errors[0].field, field);
    }
    server.stop().await;
}

#[tokio::test]
async fn device_registration_rejects_bad_subscriptions() {
    let mut prepared = Prepared::new().await;
    prepared.config.notify.worker = false;
    let server = prepared.start().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let key = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    let cases = [
        (
            json!({"kind": "webpush", "endpoint": "https://evil.example/push", "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}}),
            "endpoint",
        ),
        (
            json!({"kind": "webpush", "endpoint": "http://fcm.googleapis.com/wp/x", "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}}),
            "endpoint",
        ),
        // An allowed host on another port is another server.
        (
            json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com:8443/wp/x", "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}}),
            "endpoint",
        ),
        (
            json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/wp/x", "keys": {"p256dh": "AAAA", "auth": "_ordMnz7uTCmrpBTeUV4Bw"}}),
            "keys",
        ),
        (
            json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/wp/x", "keys": {"p256dh": key, "auth": "short"}}),
            "keys",
        ),
        (json!({"kind": "pager", "token": "x"}), "kind"),
        (
            json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/wp/x", "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}, "municipalities": ["999999"]}),
            "municipalities",
        ),
    ];
    for (body, field) in cases {
        let response = register(&server, &citizen, &body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            response.json::<Problem>().await.unwrap().errors[0].field,
            field,
            "{body}"
        );
    }
    // This server has no FCM account and no APNs sender: such devices would never hear from it.
    for kind in ["fcm", "apns"] {
        let response = register(&server, &citizen, &json!({"kind": kind, "token": "t"})).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        let problem = response.json::<Problem>().await.unwrap();
        assert_eq!(problem.code, "push-kind-unavailable", "{kind}");
        assert!(problem.detail.contains(kind), "{}", problem.detail);
    }
    let ok = json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/wp/abc",
                    "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}, "expirationTime": null});
    let first: Value = register(&server, &citizen, &ok).await.json().await.unwrap();
    let again: Value = register(&server, &citizen, &ok).await.json().await.unwrap();
    assert_eq!(first["id"], again["id"], "re-registering keeps the device");
    assert_eq!(first["label"], "fcm.googleapis.com");
    let vapid: Value = client()
        .get(server.url("/v1/push/vapid-public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        vapid["public_key"].as_str().unwrap().len(),
        87,
        "65-byte point, base64url"
    );
    // Another person cannot delete it.
    let (other, _) = server.dev_login(GENOVA_OPERATOR, &[]).await;
    let id = first["id"].as_str().unwrap();
    let response = client()
        .delete(server.url(&format!("/v1/me/devices/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = client()
        .delete(server.url(&format!("/v1/me/devices/{id}")))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    server.stop().await;
}

#[tokio::test]
async fn the_inbox_pages_counts_and_is_private() {
    let mut prepared = Prepared::new().await;
    prepared.config.notify.worker = false;
    let server = prepared.start().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (other, _) = server.dev_login(GENOVA_OPERATOR, &[]).await;
    let me: Value = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = me["user_id"].as_str().unwrap().to_owned();
    let mut conn = server.state.db.pool().acquire().await.unwrap();
    for i in 0..25 {
        let message = store::NewMessage {
            user_id: user_id.clone(),
            topic: "payments".into(),
            subject: format!("Avviso {i}"),
            body: "Pagamento **TARI**".into(),
            due_date: Some("2026-12-31".into()),
            payment_notice: Some("302032002700000251".into()),
            payment_amount_cents: Some(12_345),
            payment_creditor: Some("03334231200".into()),
            dedup_key: Some(format!("tari-{i}")),
            ttl_ms: 60_000,
            ..store::NewMessage::default()
        };
        store::enqueue(&mut conn, &message).await.unwrap();
    }
    // The same dedup key again is the same message.
    let again = store::NewMessage {
        user_id: user_id.clone(),
        topic: "payments".into(),
        subject: "Avviso 0".into(),
        dedup_key: Some("tari-0".into()),
        ttl_ms: 60_000,
        ..store::NewMessage::default()
    };
    store::enqueue(&mut conn, &again).await.unwrap();
    drop(conn);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => server.url(&format!("/v1/me/inbox?limit=10&cursor={cursor}")),
            None => server.url("/v1/me/inbox?limit=10"),
        };
        let page: InboxPage = client()
            .get(&url)
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page.unread, 25);
        seen.extend(page.items.iter().map(|m| m.subject.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "every message once across pages");
    assert_eq!(seen[0], "Avviso 24", "newest first");
    let page: InboxPage = client()
        .get(server.url("/v1/me/inbox?limit=1"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = &page.items[0];
    assert_eq!(message.payment.as_ref().unwrap().amount_cents, 12_345);
    let path = format!("/v1/me/inbox/{}", message.id);
    assert_eq!(
        client()
            .get(server.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client()
            .post(server.url(&format!("{path}/read")))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client()
            .post(server.url(&format!("{path}/read")))
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        client()
            .delete(server.url(&path))
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let page: InboxPage = client()
        .get(server.url("/v1/me/inbox"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page.unread, 24);
    for bad in ["?limit=0", "?limit=101", "?cursor=%%%", "?page=2"] {
        let response = client()
            .get(server.url(&format!("/v1/me/inbox{bad}")))
            .bearer_auth(&citizen)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    server.stop().await;
}

#[tokio::test]
async fn preferences_choose_topics_areas_and_quiet_hours() {
    let (server, simulator) = server_with_simulator().await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let defaults: Value = client()
        .get(server.url("/v1/me/notification-preferences"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        defaults["topics"],
        json!(["library", "permits", "payments", "events", "alerts"])
    );
    let subscription = simulator.subscriptions(1, "ok").await;
    assert_eq!(
        register(&server, &citizen, &webpush(&subscription[0], &[]))
            .await
            .status(),
        201
    );
    // Quiet right now (Rome time), alerts opted out, areas Genova and Chiavari.
    let now = jiff::Timestamp::now().to_zoned_datetime(sportello_core::calendar::ROME.clone());
    let start = now.checked_sub(jiff::SignedDuration::from_hours(1)).unwrap();
    let end = now.checked_add(jiff::SignedDuration::from_hours(1)).unwrap();
    let preferences = json!({
        "topics": ["payments", "permits"], "language": "en",
        "quiet_hours": {"start": format!("{:02}:{:02}", start.hour(), start.minute()),
                        "end": format!("{:02}:{:02}", end.hour(), end.minute())},
        "municipalities": ["010025", "010015"]
    });
    let response = client()
        .put(server.url("/v1/me/notification-preferences"))
        .bearer_auth(&citizen)
        .json(&preferences)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut expected = preferences.clone();
    expected["municipalities"] = json!(["010015", "010025"]);
    assert_eq!(response.json::<Value>().await.unwrap(), expected);
    let stored: Value = client()
        .get(server.url("/v1/me/notification-preferences"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored, expected);
    for bad in [
        json!({"topics": ["weather"], "language": "it"}),
        json!({"topics": [], "language": "fr"}),
        json!({"topics": [], "language": "it", "quiet_hours": {"start": "25:00", "end": "07:00"}}),
    ] {
        let response = client()
            .put(server.url("/v1/me/notification-preferences"))
            .bearer_auth(&citizen)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // An alert reaches the inbox but does not push (opted out); a permit update waits for the
    // end of the quiet hours.
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let accepted: Value = broadcast(&server, &admin, &["010015"], "Allerta")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (accepted["recipients"].as_u64(), accepted["pushes"].as_u64()),
        (Some(1), Some(0))
    );
    let me: Value = client()
        .get(server.url("/v1/me"))
        .bearer_auth(&citizen)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut conn = server.state.db.pool().acquire().await.unwrap();
    let permit = store::NewMessage {
        user_id: me["user_id"].as_str().unwrap().to_owned(),
        topic: "permits".into(),
        subject: "Pratica registrata".into(),
        body: "Protocollo 123".into(),
        ttl_ms: 3_600_000,
        ..store::NewMessage::default()
    };
    store::enqueue(&mut conn, &permit).await.unwrap();
    drop(conn);
    server.state.notifier.deliver_due().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        delivered(&simulator.received().await, "webpush"),
        0,
        "quiet hours hold the push"
    );
    let counts = store::outbox_counts(&server.state.db).await.unwrap();
    assert_eq!(counts, vec![("pending".to_owned(), 1)]);
    server.stop().await;
}
