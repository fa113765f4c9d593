//! The payments REST API on a real server (both backends): operators of the payments office
//! create, publish, invalidate and list debt positions of their municipality only; citizens see
//! only their own notices and receipts; notice verification by number or QR code; the hand-off
//! used by permit fees.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use common::{ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, TestServer, client};
use serde_json::{Value, json};
use sportello_core::api;
use sportello_server::payments::PayError;
use sportello_server::payments::simulator::NodeSimulator;
use sportello_server::permits::fees::{self, FeeLine, FeeNoticeRequest};

const OTHER_CITIZEN: &str = "BNCLRA75M41D969C";

fn body(cents: i64, due: &str) -> Value {
    json!({
        "debtor": {"fiscal_code": CITIZEN, "full_name": "Mario Rossi"},
        "description": "Canone occupazione suolo pubblico",
        "options": [{"amount_cents": cents, "due_date": due}],
    })
}

async fn post(server: &TestServer, token: &str, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn problem_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let problem: api::Problem = response.json().await.unwrap();
    (status, problem.code)
}

#[tokio::test]
async fn operators_manage_positions_of_their_municipality_only() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:payments"])
        .await;
    let (library, _) = server
        .dev_login("BNCLRA75M41D969C", &["operator:010025:library"])
        .await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:payments"])
        .await;
    let base = "/v1/municipalities/010025/payment-positions";

    let response = post(&server, &genova, base, &body(3000, "2099-12-31")).await;
    assert_eq!(response.status(), 201);
    let draft: api::PaymentPosition = response.json().await.unwrap();
    assert_eq!(
        (draft.status.as_str(), draft.creditor_fiscal_code.as_str()),
        ("DRAFT", "00856930102")
    );
    let option = &draft.options[0];
    assert!(
        option.notice_number.starts_with("301"),
        "aux 3, segregation code 01"
    );
    assert_eq!(option.notice_printed.split(' ').count(), 5);
    assert_eq!(
        option.qr_payload,
        format!("PAGOPA|002|{}|00856930102|3000", option.notice_number)
    );

    // Other offices and other municipalities: forbidden; another municipality's id: not found.
    assert_eq!(
        post(&server, &library, base, &body(3000, "2099-12-31"))
            .await
            .status(),
        403
    );
    assert_eq!(
        post(&server, &arenzano, base, &body(3000, "2099-12-31"))
            .await
            .status(),
        403
    );
    assert_eq!(get(&server, &arenzano, base).await.status(), 403);
    let foreign = format!("/v1/municipalities/010001/payment-positions/{}", draft.id);
    assert_eq!(
        problem_code(get(&server, &arenzano, &foreign).await).await,
        (404, "payment-not-found".into())
    );
    let publish_foreign = format!("{foreign}/publish");
    assert_eq!(
        post(&server, &arenzano, &publish_foreign, &json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(get(&server, "not-a-token", base).await.status(), 401);

    // Publish, publish again (409), invalidate, invalidate again (409).
    let publish = format!("{base}/{}/publish", draft.id);
    let published: api::PaymentPosition = post(&server, &genova, &publish, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published.status, "VALID");
    assert_eq!(
        problem_code(post(&server, &genova, &publish, &json!({})).await).await,
        (409, "position-status".into())
    );
    let invalidate = format!("{base}/{}/invalidate", draft.id);
    let invalid: api::PaymentPosition = post(&server, &genova, &invalidate, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(invalid.status, "INVALID");
    assert_eq!(
        post(&server, &genova, &invalidate, &json!({})).await.status(),
        409
    );

    // Validation: problem+json with the field.
    for (bad, field) in [
        (
            json!({"debtor": {"fiscal_code": "XX", "full_name": "A"}, "description": "x", "options": [{"amount_cents": 1, "due_date": "2099-01-01"}]}),
            "debtor.fiscal_code",
        ),
        (
            json!({"debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "options": [{"amount_cents": 0, "due_date": "2099-01-01"}]}),
            "position",
        ),
        (
            json!({"debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "options": [{"amount_cents": -5, "due_date": "2099-01-01"}]}),
            "options[0].amount_cents",
        ),
        (
            json!({"debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "options": [{"amount_cents": 5, "due_date": "31/12/2099"}]}),
            "options[0].due_date",
        ),
        (
            json!({"debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "options": []}),
            "options",
        ),
        (
            json!({"debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "instalments": true, "options": [{"amount_cents": 5, "due_date": "2099-01-01"}]}),
            "position",
        ),
    ] {
        let response = post(&server, &genova, base, &bad).await;
        assert_eq!(response.status(), 422, "{bad}");
        let problem: api::Problem = response.json().await.unwrap();
        assert_eq!(problem.errors[0].field, field, "{bad}");
    }
    let duplicate_iupd = json!({"iupd": "IUPD-1", "debtor": {"fiscal_code": CITIZEN, "full_name": "A"}, "description": "x", "options": [{"amount_cents": 5, "due_date": "2099-01-01"}]});
    assert_eq!(post(&server, &genova, base, &duplicate_iupd).await.status(), 201);
    assert_eq!(post(&server, &genova, base, &duplicate_iupd).await.status(), 422);

    // Listing: filters and cursor paging over every position.
    for i in 0..5 {
        let response = post(&server, &genova, base, &body(100 + i, "2099-12-31")).await;
        assert_eq!(response.status(), 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}?limit=2&cursor={c}"),
            None => format!("{base}?limit=2"),
        };
        let page: api::PaymentPositionPage = get(&server, &genova, &path).await.json().await.unwrap();
        seen.extend(page.items.iter().map(|p| p.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "no position twice across pages");
    let exact: api::PaymentPositionPage = get(&server, &genova, &format!("{base}?limit=7"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (exact.items.len(), exact.next_cursor),
        (7, None),
        "a full last page hands out no cursor"
    );
    let response = get(&server, &genova, &format!("{base}?cursor=garbage")).await;
    assert_eq!(response.status(), 422);
    let problem: api::Problem = response.json().await.unwrap();
    assert_eq!(problem.errors[0].field, "cursor");
    let invalid_only: api::PaymentPositionPage = get(&server, &genova, &format!("{base}?status=INVALID"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(invalid_only.items.len(), 1);
    assert_eq!(
        get(&server, &genova, &format!("{base}?status=NOPE"))
            .await
            .status(),
        422
    );
    assert_eq!(
        get(&server, &genova, &format!("{base}?limit=1000"))
            .await
            .status(),
        422
    );
    server.stop().await;
}

#[tokio::test]
async fn citizens_see_and_verify_only_what_concerns_them() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:payments"])
        .await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (other, _) = server.dev_login(OTHER_CITIZEN, &[]).await;
    let base = "/v1/municipalities/010025/payment-positions";
    let mut notices = Vec::new();
    for (cents, due, publish) in [
        (3000, "2099-12-31", true),
        (1500, "2099-06-30", true),
        (999, "2099-01-01", false),
    ] {
        let created: api::PaymentPosition = post(&server, &genova, base, &body(cents, due))
            .await
            .json()
            .await
            .unwrap();
        if publish {
            let response = post(
                &server,
                &genova,
                &format!("{base}/{}/publish", created.id),
                &json!({}),
            )
            .await;
            assert_eq!(response.status(), 200);
        }
        notices.push(created.options[0].clone());
    }
    // Due first, soonest due date first; drafts never shown.
    let mine: api::MyPaymentList = get(&server, &citizen, "/v1/me/payments")
        .await
        .json()
        .await
        .unwrap();
    let amounts: Vec<i64> = mine.items.iter().map(|p| p.notice.amount_cents).collect();
    assert_eq!(amounts, vec![1500, 3000]);
    assert!(
        mine.items
            .iter()
            .all(|p| p.state == "due" && p.creditor_name == "Comune di Genova")
    );
    let theirs: api::MyPaymentList = get(&server, &other, "/v1/me/payments")
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.items.is_empty());
    assert_eq!(get(&server, "", "/v1/me/payments").await.status(), 401);

    // Verify by printed notice number, by QR payload; errors as problems.
    let verify = |code: String| {
        let server = &server;
        async move {
            client()
                .post(server.url("/v1/payments/verify"))
                .json(&json!({ "code": code }))
                .send()
                .await
                .unwrap()
        }
    };
    let verified: api::VerifiedPayment = verify(notices[0].notice_printed.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (verified.amount_cents, verified.creditor_fiscal_code.as_str()),
        (3000, "00856930102")
    );
    let by_qr: api::VerifiedPayment = verify(notices[1].qr_payload.clone()).await.json().await.unwrap();
    assert_eq!(by_qr.due_date, "2099-06-30");
    let mut mistyped = notices[0].notice_number.clone().into_bytes();
    mistyped[10] = if mistyped[10] == b'9' {
        b'0'
    } else {
        mistyped[10] + 1
    };
    assert_eq!(verify(String::from_utf8(mistyped).unwrap()).await.status(), 422);
    assert_eq!(
        problem_code(verify(notices[2].notice_number.clone()).await).await,
        (404, "payment-not-found".into()),
        "a draft is unknown"
    );
    assert_eq!(verify("PAGOPA|002|123|00856930102|1".into()).await.status(), 422);

    // Pay one through the Node simulator: paid in the list, 409 on verify, receipt only for them.
    let simulator = NodeSimulator::new(&server.base, "00856930102", "00856930102_01");
    simulator
        .simulate_payment("00856930102", &notices[0].notice_number)
        .await
        .unwrap();
    assert_eq!(
        problem_code(verify(notices[0].notice_number.clone()).await).await,
        (409, "notice-paid".into())
    );
    let mine: api::MyPaymentList = get(&server, &citizen, "/v1/me/payments")
        .await
        .json()
        .await
        .unwrap();
    let paid = mine
        .items
        .iter()
        .find(|p| p.state == "paid")
        .expect("a paid notice");
    assert_eq!(paid.notice.id, notices[0].id);
    let receipt = format!("/v1/me/payments/{}/receipt", notices[0].id);
    assert_eq!(get(&server, &citizen, &receipt).await.status(), 200);
    assert_eq!(get(&server, &other, &receipt).await.status(), 404);
    let unpaid = format!("/v1/me/payments/{}/receipt", notices[1].id);
    assert_eq!(get(&server, &citizen, &unpaid).await.status(), 404);
    server.stop().await;
}

/// The hand-off used by permit fees, on its own: a group of fees becomes one VALID notice that
/// remembers its origin, with the money to the creditor's account and each stamp fee as a
/// digital stamp; a receipt for a permit this server does not know is still recorded.
#[tokio::test]
async fn permit_fees_open_payable_positions_that_remember_their_origin() {
    let server = TestServer::start().await;
    let request = FeeNoticeRequest {
        permit_id: "permit-42".into(),
        municipality: "010025".into(),
        debtor_fiscal_code: CITIZEN.into(),
        debtor_name: "Mario Rossi".into(),
        description: "Permesso di costruire – Imposta di bollo, Diritti di segreteria".into(),
        due_date: jiff::civil::date(2099, 3, 31),
        fees: vec![
            FeeLine {
                code: "application-stamp".into(),
                reason: "Imposta di bollo sull'istanza".into(),
                amount_cents: 1_600,
                stamp_document_hash: Some(fees::stamp_document_hash("permit-42", "application-stamp")),
            },
            FeeLine {
                code: "secretariat".into(),
                reason: "Diritti di segreteria".into(),
                amount_cents: 5_200,
                stamp_document_hash: None,
            },
        ],
    };
    let mut tx = server.state.db.pool().begin().await.unwrap();
    let stored = server
        .state
        .payments
        .open_position_for_fee(&mut tx, &request)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.position.status, "VALID");
    assert_eq!(stored.options.len(), 1);
    assert_eq!(stored.options[0].amount_cents, 6_800);
    assert_eq!(stored.options[0].due_date, "2099-03-31");
    let transfers: Vec<(i64, bool, Option<&str>)> = stored
        .transfers
        .iter()
        .map(|t| (t.amount_cents, t.iban.is_some(), t.stamp_province.as_deref()))
        .collect();
    assert_eq!(
        transfers,
        vec![(5_200, true, None), (1_600, false, Some("GE"))],
        "money first, to the creditor's account; then the stamp"
    );
    let notice = stored.options[0].notice_number.clone();
    let simulator = NodeSimulator::new(&server.base, "00856930102", "00856930102_01");
    let paid = simulator.simulate_payment("00856930102", &notice).await.unwrap();
    assert_eq!(paid.amount_cents, 6_800);
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:payments"])
        .await;
    let page: api::PaymentPositionPage = get(
        &server,
        &genova,
        "/v1/municipalities/010025/payment-positions?origin=permit:permit-42",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, "PAID");
    assert_eq!(page.items[0].origin.as_deref(), Some("permit:permit-42"));

    // Another municipality's fees go to that creditor; one that is no creditor here: NotFound.
    let mut tx = server.state.db.pool().begin().await.unwrap();
    let arenzano = server
        .state
        .payments
        .open_position_for_fee(
            &mut tx,
            &FeeNoticeRequest {
                municipality: "010001".into(),
                ..request.clone()
            },
        )
        .await
        .unwrap();
    assert_ne!(arenzano.position.creditor, "00856930102");
    let unknown = server
        .state
        .payments
        .open_position_for_fee(
            &mut tx,
            &FeeNoticeRequest {
                municipality: "999999".into(),
                ..request
            },
        )
        .await;
    assert!(matches!(unknown, Err(PayError::NotFound)), "{unknown:?}");
    tx.rollback().await.unwrap();
    server.stop().await;
}
