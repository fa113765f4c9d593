//! Permits end to end through the HTTP API of a real server (SQLite, or PostgreSQL when
//! `SPORTELLO_TEST_PG_URL` is set): a permesso di costruire from draft to silent approval with
//! an integration request in the middle, checked day by day; a SCIA from filing to the end of
//! its checks; the inbox messages they produce; isolation between citizens and municipalities;
//! bad input; documents; gapless protocol numbers under concurrency.
//!
//! The permits clock of the server under test is moved with `Permits::set_clock_offset_ms`, to
//! noon (Europe/Rome) of the day wanted, so the days counted do not depend on when the suite
//! runs.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use common::{ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use jiff::civil::Date;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sportello_core::calendar::{ROME, add_days, rome_date};
use sportello_server::config::PagopaCreditorConfig;
use sportello_server::payments::simulator::{NodeSimulator, SimulatorError};
use sportello_server::payments::soap::Operation;
use sportello_server::permits::fees;

const GENOVA: &str = "010025";
const ARENZANO: &str = "010001";
const OTHER_CITIZEN: &str = "BNCLRA75M41D969C";
const ARCHITECT: &str = "GLLMRC68H22D969U";
const OFFICER_ROLE: &str = "operator:010025:permits";

/// A small valid-looking PDF (only the magic bytes matter to the server).
fn pdf(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% Sportello test document: {label}\n%%EOF\n").into_bytes()
}

/// The days of the test, as Rome dates, and the clock moved to noon of them.
struct Clock {
    day0: Date,
}

impl Clock {
    fn new() -> Self {
        Self {
            day0: rome_date(jiff::Timestamp::now()),
        }
    }

    fn date(&self, day: i64) -> Date {
        add_days(self.day0, day).unwrap()
    }

    /// Moves the server's permits clock to noon (Rome) of `day`.
    fn set(&self, server: &TestServer, day: i64) {
        let noon = self
            .date(day)
            .at(12, 0, 0, 0)
            .to_zoned_datetime(ROME.clone())
            .unwrap()
            .timestamp()
            .as_millisecond();
        let offset = noon - jiff::Timestamp::now().as_millisecond();
        server.state.permits.set_clock_offset_ms(offset);
    }
}

struct Api<'a> {
    server: &'a TestServer,
}

impl Api<'_> {
    async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        client()
            .get(self.server.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, token: &str, path: &str) -> Value {
        let response = self.get(token, path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    async fn create(&self, token: &str, body: &Value) -> reqwest::Response {
        client()
            .post(self.server.url("/v1/permits"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn patch(&self, token: &str, id: &str, body: &Value) -> reqwest::Response {
        client()
            .patch(self.server.url(&format!("/v1/permits/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn act(&self, token: &str, id: &str, action: &str, body: Option<Value>) -> reqwest::Response {
        let request = client()
            .post(self.server.url(&format!("/v1/permits/{id}/actions/{action}")))
            .bearer_auth(token);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        request.send().await.unwrap()
    }

    async fn act_ok(&self, token: &str, id: &str, action: &str, note: Option<&str>) -> Value {
        let body = note.map(|n| json!({ "note": n }));
        let response = self.act(token, id, action, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn upload(
        &self,
        token: &str,
        id: &str,
        kind: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        client()
            .post(self.server.url(&format!("/v1/permits/{id}/documents")))
            .query(&[("kind", kind), ("name", name)])
            .bearer_auth(token)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Creates a draft and fills every required field and document of its procedure.
    async fn complete_draft(&self, token: &str, municipality: &str, procedure: &str, extra: Value) -> String {
        let mut body = json!({ "municipality": municipality, "procedure": procedure });
        if let Value::Object(extra) = extra {
            body.as_object_mut().unwrap().extend(extra);
        }
        let response = self.create(token, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let draft: Value = response.json().await.unwrap();
        let id = draft["id"].as_str().unwrap().to_owned();
        let procedures = self
            .json(
                token,
                &format!("/v1/permits/procedures?municipality={municipality}"),
            )
            .await;
        let spec = procedures["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == procedure)
            .unwrap()
            .clone();
        let mut fields = serde_json::Map::new();
        for field in spec["fields"].as_array().unwrap() {
            let code = field["code"].as_str().unwrap();
            let value = match field["kind"].as_str().unwrap() {
                "address" | "cadastral-parcel" => continue,
                _ if code == "description" => continue,
                "date" => "2026-05-04",
                "number" => "12",
                "boolean" => "false",
                _ => "testo",
            };
            fields.insert(code.to_owned(), json!(value));
        }
        let response = self
            .patch(
                token,
                &id,
                &json!({
                    "address": "Via Garibaldi 9, Genova",
                    "cadastral_parcel": { "foglio": "12", "mappale": "345", "subalterno": "6" },
                    "description": "Ampliamento di un fabbricato residenziale",
                    "fields": fields,
                }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap()
        );
        for document in spec["documents"].as_array().unwrap() {
            if document["required"] == true {
                let kind = document["code"].as_str().unwrap();
                let response = self
                    .upload(token, &id, kind, &format!("{kind}.pdf"), pdf(kind))
                    .await;
                assert_eq!(
                    response.status(),
                    StatusCode::CREATED,
                    "{}",
                    response.text().await.unwrap()
                );
            }
        }
        id
    }

    /// Records the payment of the fees due as the Payments context will: through the
    /// hand-off, in a transaction, then wakes the notifier.
    async fn pay(&self, id: &str, receipt: &str) -> fees::FeePaid {
        let mut tx = self.server.state.db.pool().begin().await.unwrap();
        let paid = fees::record_fee_paid(&mut tx, id, receipt, self.server.state.permits.now_ms())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        self.server.state.notifier.wake();
        paid
    }

    /// The caller's inbox messages of a topic, oldest first.
    async fn inbox(&self, token: &str, topic: &str) -> Vec<Value> {
        let inbox = self.json(token, "/v1/me/inbox?limit=100").await;
        let mut messages: Vec<Value> = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["topic"] == topic)
            .cloned()
            .collect();
        messages.reverse(); // oldest first
        messages
    }

    async fn inbox_subjects(&self, token: &str) -> Vec<String> {
        self.inbox(token, "permits")
            .await
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn code_of(problem: &Value) -> &str {
    problem["code"].as_str().unwrap_or_default()
}

async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    response.json().await.unwrap()
}

async fn grant_officer(server: &TestServer, fiscal_code: &str, role: &str) {
    let municipality = role.split(':').nth(1);
    sportello_server::identity::store::grant_role(&server.state.db, fiscal_code, role, municipality, "test")
        .await
        .unwrap();
}

#[tokio::test]
async fn procedures_are_listed_with_stable_codes() {
    let server = TestServer::start().await;
    let response = client()
        .get(server.url("/v1/permits/procedures?municipality=010025"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.unwrap();
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    for code in [
        "cila",
        "scia",
        "scia-alternativa",
        "pdc",
        "agibilita",
        "paesaggistica",
        "suolo-pubblico",
        "passo-carrabile",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let pdc = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "pdc")
        .unwrap();
    assert_eq!(pdc["clock_days"], 90);
    assert_eq!(pdc["at_deadline"], "silent-approval");
    // English on request.
    let english: Value = client()
        .get(server.url("/v1/permits/procedures?municipality=010025"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(english["items"][0]["name"].as_str().unwrap().contains("notice"));
    let response = client()
        .get(server.url("/v1/permits/procedures?municipality=999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The OpenAPI document describes the context.
    let openapi: Value = client()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/permits",
        "/v1/permits/{id}",
        "/v1/permits/{id}/actions/{action}",
        "/v1/permits/{id}/documents",
        "/v1/me/permits",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} not in the OpenAPI document"
        );
    }
    server.stop().await;
}

/// Done when (1/2): a permesso di costruire in Genova, from draft to silent approval, with an
/// integration request in the middle; deadline and days left checked every day.
#[tokio::test]
async fn pdc_walks_from_draft_to_silent_approval() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let clock = Clock::new();
    clock.set(&server, 0);
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;
    grant_officer(&server, GENOVA_OPERATOR, OFFICER_ROLE).await;

    let id = api.complete_draft(&citizen, GENOVA, "pdc", json!({})).await;
    let path = format!("/v1/permits/{id}");
    let draft = api.json(&citizen, &path).await;
    assert_eq!(draft["status"], "draft");
    assert!(draft["actions"].as_array().unwrap().contains(&json!("submit")));
    assert_eq!(draft["deadline"], Value::Null);

    // Submitting asks for the filing fees first; the clock does not run yet.
    let submitted = api.act_ok(&citizen, &id, "submit", None).await;
    assert_eq!(submitted["status"], "awaiting_payment");
    assert_eq!(submitted["simplified_status"], "payment_due");
    assert_eq!(submitted["fee_due_cents"], 21_600);
    assert_eq!(submitted["days_left"], Value::Null);
    let due = fees::fees_due(
        &mut server.state.db.pool().acquire().await.unwrap(),
        Some(GENOVA),
        100,
    )
    .await
    .unwrap();
    assert_eq!(due.iter().filter(|f| f.permit_id == id).count(), 2);

    // Payments records the receipt: the application is filed and its 60 + 30 days start.
    let paid = api.pay(&id, "rt-0001").await;
    assert_eq!(paid.advanced_to.as_deref(), Some("submitted"));
    assert!(
        api.pay(&id, "rt-0001").await.already_recorded,
        "a retried receipt changes nothing"
    );
    let filed = api.json(&citizen, &path).await;
    assert_eq!(filed["status"], "submitted");
    assert_eq!(filed["fee_due_cents"], 0);
    assert_eq!(filed["deadline"], clock.date(90).to_string());
    assert_eq!(filed["days_left"], 90);

    // The officer sees it in the queue, registers it (protocol number) and assigns it.
    let queue = api
        .json(&officer, "/v1/permits?municipality=010025&status=submitted")
        .await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str())
    );
    let registered = api.act_ok(&officer, &id, "register", None).await;
    let year = clock.date(0).year();
    assert_eq!(registered["protocol_number"], format!("{year}/0000001"));
    let response = api
        .act(
            &officer,
            &id,
            "assign",
            Some(json!({ "assignee_fiscal_code": GENOVA_OPERATOR })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    api.act_ok(&officer, &id, "start-review", None).await;

    for day in 0..=10 {
        // (Day 0 is now: setting it again would go back before the steps just taken.)
        if day > 0 {
            clock.set(&server, day);
        }
        let permit = api.json(&citizen, &path).await;
        assert_eq!(permit["days_left"], 90 - day, "day {day}");
        assert_eq!(permit["deadline"], clock.date(90).to_string(), "day {day}");
    }

    // Day 10: documents are missing. The clock stops.
    let requested = api
        .act_ok(
            &officer,
            &id,
            "request-integration",
            Some("Manca la relazione geologica"),
        )
        .await;
    assert_eq!(requested["status"], "integration_requested");
    assert_eq!(requested["simplified_status"], "action_needed");
    assert_eq!(requested["clock_stopped"], true);
    assert_eq!(requested["deadline"], Value::Null);
    for day in 11..=15 {
        clock.set(&server, day);
        let permit = api.json(&citizen, &path).await;
        assert_eq!(permit["days_left"], Value::Null, "stopped on day {day}");
    }

    // Day 15: the applicant answers with a document; the 90 days restart in full.
    let response = api.act(&citizen, &id, "submit-integration", None).await;
    let refused = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        refused["errors"][0]["field"], "documents",
        "an answer needs a document"
    );
    let response = api
        .upload(
            &citizen,
            &id,
            "conformity-report",
            "relazione-geologica.pdf",
            pdf("geologia"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let answered = api.act_ok(&citizen, &id, "submit-integration", None).await;
    assert_eq!(answered["status"], "integration_submitted");
    assert_eq!(answered["deadline"], clock.date(15 + 90).to_string());
    assert_eq!(answered["days_left"], 90);
    assert_eq!(
        answered["documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["stage"] == "integration")
            .count(),
        1
    );

    // The law allows one interruption: a second request is refused and changes nothing.
    let before = api.json(&officer, &path).await;
    let response = api
        .act(
            &officer,
            &id,
            "request-integration",
            Some(json!({ "note": "ancora" })),
        )
        .await;
    let refused = problem(response, StatusCode::CONFLICT).await;
    assert_eq!(code_of(&refused), "integration-limit-reached");
    assert!(
        refused["detail"].as_str().unwrap().contains("integrazione"),
        "Italian by default"
    );
    assert_eq!(api.json(&officer, &path).await["timeline"], before["timeline"]);

    for day in 16..=105 {
        clock.set(&server, day);
        let permit = api.json(&citizen, &path).await;
        assert_eq!(permit["days_left"], 105 - day, "day {day}");
        assert_eq!(permit["status"], "integration_submitted", "day {day}");
        if day >= 100 {
            // From five days before, the officers hear about it, once per deadline.
            let report = server
                .state
                .permits
                .sweep(server.state.permits.now_ms())
                .await
                .unwrap();
            assert_eq!(report.matured, 0, "day {day}");
            assert_eq!(report.warned_due_soon, u64::from(day == 100), "day {day}");
        }
    }
    let queue = api
        .json(&officer, "/v1/permits?municipality=010025&deadline_within_days=0")
        .await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "due today");
    assert_eq!(queue["items"][0]["days_left"], 0);

    // Day 106: the term has run out without a decision: silent approval.
    clock.set(&server, 106);
    let report = server
        .state
        .permits
        .sweep(server.state.permits.now_ms())
        .await
        .unwrap();
    assert_eq!(report.matured, 1);
    let again = server
        .state
        .permits
        .sweep(server.state.permits.now_ms())
        .await
        .unwrap();
    assert_eq!(again.matured, 0, "the sweep is idempotent");
    let approved = api.json(&citizen, &path).await;
    assert_eq!(approved["status"], "tacitly_accepted");
    assert_eq!(approved["simplified_status"], "approved");
    let last = approved["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("mature"), Some("system"))
    );
    let response = api
        .act(&officer, &id, "reject", Some(json!({ "note": "tardi" })))
        .await;
    assert_eq!(code_of(&problem(response, StatusCode::CONFLICT).await), "closed");

    // Every step reached the applicant's inbox, in order.
    let subjects = api.inbox_subjects(&citizen).await;
    let expected = [
        "per presentarla paga",
        "Domanda presentata",
        "Pratica protocollata",
        "Istruttoria avviata",
        "Integrazione richiesta",
        "Integrazione ricevuta",
        "Silenzio-assenso",
    ];
    assert_eq!(subjects.len(), expected.len(), "{subjects:?}");
    for (subject, wanted) in subjects.iter().zip(expected) {
        assert!(subject.contains(wanted), "{subject} should say {wanted}");
    }
    assert!(
        subjects[2].contains(&format!("prot. {year}/0000001")),
        "{}",
        subjects[2]
    );
    let warnings = api.inbox_subjects(&officer).await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("tra 5 giorni"), "{}", warnings[0]);
    server.stop().await;
}

/// Done when (2/2): a SCIA from filing to the end of its checks, with a conformity request.
#[tokio::test]
async fn scia_runs_its_checks_to_the_end() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let clock = Clock::new();
    clock.set(&server, 0);
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;

    let id = api.complete_draft(&citizen, GENOVA, "scia", json!({})).await;
    let path = format!("/v1/permits/{id}");
    assert_eq!(
        api.act_ok(&citizen, &id, "submit", None).await["status"],
        "awaiting_payment"
    );
    // Paid at the counter this time: the officer confirms it.
    let filed = api.act_ok(&officer, &id, "confirm-payment", None).await;
    assert_eq!(filed["status"], "submitted");
    assert_eq!(
        filed["simplified_status"], "effective",
        "a SCIA is effective on filing"
    );
    assert_eq!(filed["days_left"], 30);
    assert!(
        filed["fees"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["paid_at"].is_null())
    );
    api.act_ok(&officer, &id, "register", None).await;

    clock.set(&server, 5);
    assert_eq!(api.json(&citizen, &path).await["days_left"], 25);
    api.act_ok(
        &officer,
        &id,
        "request-integration",
        Some("Conformare il parapetto"),
    )
    .await;
    clock.set(&server, 8);
    api.upload(&citizen, &id, "drawings", "parapetto.pdf", pdf("parapetto"))
        .await;
    let answered = api.act_ok(&citizen, &id, "submit-integration", None).await;
    assert_eq!(answered["days_left"], 30, "the interruption restarts the 30 days");
    assert_eq!(answered["deadline"], clock.date(38).to_string());
    for day in 9..=38 {
        clock.set(&server, day);
        assert_eq!(
            api.json(&citizen, &path).await["days_left"],
            38 - day,
            "day {day}"
        );
    }
    clock.set(&server, 39);
    let report = server
        .state
        .permits
        .sweep(server.state.permits.now_ms())
        .await
        .unwrap();
    assert_eq!(report.matured, 1, "the end of the checks is recorded");
    let ended = api.json(&citizen, &path).await;
    assert_eq!(ended["status"], "tacitly_accepted");
    assert_eq!(ended["simplified_status"], "approved");
    assert_eq!(ended["days_left"], Value::Null);

    let subjects = api.inbox_subjects(&citizen).await;
    let expected = [
        "per presentarla paga",
        "Domanda presentata",
        "Pratica protocollata",
        "Integrazione richiesta",
        "Integrazione ricevuta",
        "Controlli conclusi",
    ];
    assert_eq!(subjects.len(), expected.len(), "{subjects:?}");
    for (subject, wanted) in subjects.iter().zip(expected) {
        assert!(subject.contains(wanted), "{subject} should say {wanted}");
    }
    server.stop().await;
}

#[tokio::test]
async fn people_see_only_their_own_and_officers_only_their_municipality() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (other, _) = server.dev_login(OTHER_CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:permits"])
        .await;
    let (librarian, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010025:library"])
        .await;
    let (admin, _) = server.dev_login(ARCHITECT, &["admin"]).await;

    let id = api.complete_draft(&citizen, GENOVA, "cila", json!({})).await;
    let path = format!("/v1/permits/{id}");
    let document = api.json(&citizen, &path).await["documents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A draft is the citizen's own business: not even the officers see it.
    for token in [&other, &officer, &arenzano, &librarian] {
        let refused = problem(api.get(token, &path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(code_of(&refused), "permit-not-found");
    }
    api.act_ok(&citizen, &id, "submit", None).await;
    api.pay(&id, "rt-iso").await;
    assert_eq!(api.get(&officer, &path).await.status(), StatusCode::OK);
    assert_eq!(api.get(&admin, &path).await.status(), StatusCode::OK);
    // Another citizen, another municipality's officer, another office: it does not exist.
    for token in [&other, &arenzano, &librarian] {
        assert_eq!(api.get(token, &path).await.status(), StatusCode::NOT_FOUND);
        let doc = api.get(token, &format!("{path}/documents/{document}")).await;
        assert_eq!(doc.status(), StatusCode::NOT_FOUND);
        let response = api.act(token, &id, "withdraw", None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = api.act(token, &id, "register", None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = api.patch(token, &id, &json!({ "description": "x" })).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = api.upload(token, &id, "drawings", "x.pdf", pdf("x")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // The queue: only the permits office of that municipality (and admins).
    for token in [&citizen, &arenzano, &librarian] {
        let response = api.get(token, "/v1/permits?municipality=010025").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let queue = api.json(&officer, "/v1/permits?municipality=010025").await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let queue = api.json(&arenzano, "/v1/permits?municipality=010001").await;
    assert!(queue["items"].as_array().unwrap().is_empty());
    // Lists of one's own.
    assert_eq!(
        api.json(&citizen, "/v1/me/permits").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        api.json(&other, "/v1/me/permits").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Unauthenticated.
    let response = client().get(server.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn a_professional_files_for_a_citizen_who_follows_it() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let (architect, _) = server.dev_login(ARCHITECT, &["citizen"]).await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let id = api
        .complete_draft(
            &architect,
            ARENZANO,
            "scia",
            json!({ "applicant_fiscal_code": CITIZEN }),
        )
        .await;
    let path = format!("/v1/permits/{id}");
    let permit = api.json(&citizen, &path).await;
    assert_eq!(permit["applicant_fiscal_code"], CITIZEN);
    assert_eq!(permit["professional_fiscal_code"], ARCHITECT);
    api.act_ok(&architect, &id, "submit", None).await;
    api.pay(&id, "rt-pro").await;
    // Withdrawing is the applicant's right, not the professional's.
    let refused = problem(
        api.act(&architect, &id, "withdraw", None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code_of(&refused), "not-allowed-for-actor");
    let withdrawn = api.act_ok(&citizen, &id, "withdraw", Some("Rinuncio")).await;
    assert_eq!(withdrawn["status"], "withdrawn");
    // Both hear about it; both list it.
    let citizen_inbox = api.inbox_subjects(&citizen).await;
    let architect_inbox = api.inbox_subjects(&architect).await;
    assert_eq!(citizen_inbox.len(), 3, "{citizen_inbox:?}");
    assert_eq!(architect_inbox, citizen_inbox);
    assert_eq!(
        api.json(&architect, "/v1/me/permits").await["items"][0]["id"],
        id.as_str()
    );
    assert_eq!(
        api.json(&citizen, "/v1/me/permits").await["items"][0]["id"],
        id.as_str()
    );
    let response = api
        .create(&architect, &json!({ "municipality": GENOVA, "procedure": "pdc", "applicant_fiscal_code": "NOTAFISCALCODE00" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    server.stop().await;
}

#[tokio::test]
async fn illegal_steps_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;

    // Incomplete drafts cannot be submitted; the missing parts are named.
    let response = api
        .create(&citizen, &json!({ "municipality": GENOVA, "procedure": "pdc" }))
        .await;
    let empty: Value = response.json().await.unwrap();
    let empty_id = empty["id"].as_str().unwrap();
    let refused = problem(
        api.act(&citizen, empty_id, "submit", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"address") && fields.contains(&"documents.drawings"),
        "{fields:?}"
    );
    // Unknown procedure, action, field, constraint.
    let response = api
        .create(
            &citizen,
            &json!({ "municipality": GENOVA, "procedure": "castle" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api.act(&citizen, empty_id, "fly", None).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let response = api
        .patch(&citizen, empty_id, &json!({ "fields": { "colour": "red" } }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = api
        .patch(&citizen, empty_id, &json!({ "constraints": ["martian"] }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = api
        .patch(
            &citizen,
            empty_id,
            &json!({ "cadastral_parcel": { "foglio": "1/2", "mappale": "3" } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let id = api.complete_draft(&citizen, GENOVA, "pdc", json!({})).await;
    let path = format!("/v1/permits/{id}");
    // A citizen cannot register or accept.
    for action in ["register", "accept"] {
        let refused = problem(api.act(&citizen, &id, action, None).await, StatusCode::FORBIDDEN).await;
        assert_eq!(code_of(&refused), "not-allowed-for-actor", "{action}");
    }
    // Cannot withdraw a draft (cancel it instead).
    let refused = problem(
        api.act(&citizen, &id, "withdraw", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code_of(&refused), "not-in-status");
    api.act_ok(&citizen, &id, "submit", None).await;
    api.pay(&id, "rt-ill").await;
    let before = api.json(&citizen, &path).await;
    // The officer cannot accept before registering? Accepting a submitted application is not in
    // the machine; nor is a second submission, nor editing once filed.
    let refused = problem(api.act(&officer, &id, "accept", None).await, StatusCode::CONFLICT).await;
    assert_eq!(code_of(&refused), "not-in-status");
    let english = client()
        .post(server.url(&format!("/v1/permits/{id}/actions/accept")))
        .bearer_auth(&officer)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let english = problem(english, StatusCode::CONFLICT).await;
    assert!(
        english["detail"].as_str().unwrap().starts_with("Cannot accept"),
        "{english}"
    );
    assert_eq!(
        code_of(&problem(api.act(&citizen, &id, "submit", None).await, StatusCode::CONFLICT).await),
        "not-in-status"
    );
    let refused = problem(
        api.patch(&citizen, &id, &json!({ "description": "x" })).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code_of(&refused), "not-a-draft");
    let refused = problem(
        api.upload(&citizen, &id, "drawings", "late.pdf", pdf("late"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code_of(&refused), "documents-closed");
    // Malformed bodies, and a body not sent as JSON (as every JSON body of the API).
    for (content_type, status) in [
        ("application/json", StatusCode::BAD_REQUEST),
        ("text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ] {
        let response = client()
            .post(server.url(&format!("/v1/permits/{id}/actions/register")))
            .bearer_auth(&officer)
            .header("content-type", content_type)
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{content_type}");
    }
    let long = "x".repeat(4001);
    let response = api
        .act(&officer, &id, "register", Some(json!({ "note": long })))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing changed.
    assert_eq!(api.json(&citizen, &path).await, before);
    let counters = sqlx::query("SELECT COUNT(*) AS n FROM permit_protocol_counters")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(
        sqlx::Row::try_get::<i64, _>(&counters, "n").unwrap(),
        0,
        "no number was used up"
    );
    server.stop().await;
}

#[tokio::test]
async fn documents_are_checked_streamed_and_verified() {
    let mut prepared = Prepared::new().await;
    prepared.config.permits.max_document_bytes = 2 * 1024 * 1024;
    prepared.config.permits.max_permit_bytes = 3 * 1024 * 1024;
    let server = prepared.start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let response = api
        .create(&citizen, &json!({ "municipality": GENOVA, "procedure": "pdc" }))
        .await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Over the per-document limit.
    let mut huge = pdf("huge");
    huge.resize(2 * 1024 * 1024 + 1, b' ');
    let refused = problem(
        api.upload(&citizen, &id, "drawings", "huge.pdf", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(code_of(&refused), "document-too-large");
    // Larger than the global 1 MiB JSON limit, within the document limit: accepted.
    let mut big = pdf("big");
    big.resize(1536 * 1024, b' ');
    let response = api
        .upload(&citizen, &id, "drawings", "tavole.pdf", big.clone())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let stored: Value = response.json().await.unwrap();
    let expected = {
        use sha2::Digest;
        sha2::Sha256::digest(&big)
            .iter()
            .fold(String::new(), |mut hex, b| {
                use std::fmt::Write as _;
                let _ = write!(hex, "{b:02x}");
                hex
            })
    };
    assert_eq!(stored["sha256"], expected);
    assert_eq!(stored["content_type"], "application/pdf");
    let download = api
        .get(
            &citizen,
            &format!("/v1/permits/{id}/documents/{}", stored["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().as_ref(), big.as_slice());
    // A JSON body over the global limit is still refused elsewhere.
    let response = api
        .patch(&citizen, &id, &json!({ "description": "x".repeat(1_100_000) }))
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Within it, but over the application's total.
    let mut second = pdf("second");
    second.resize(1800 * 1024, b' ');
    let refused = problem(
        api.upload(&citizen, &id, "drawings", "second.pdf", second).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(code_of(&refused), "documents-too-large");
    // Forbidden types, by content and by name.
    let refused = problem(
        api.upload(
            &citizen,
            &id,
            "drawings",
            "virus.pdf",
            b"MZ\x90\x00 this is not a pdf at all, really".to_vec(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(code_of(&refused), "unsupported-document-type");
    let response = api
        .upload(&citizen, &id, "drawings", "tavola.exe", pdf("exe"))
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = api
        .upload(&citizen, &id, "drawings", "foto.png", pdf("not a png"))
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let png = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[0u8; 40]].concat();
    assert_eq!(
        api.upload(&citizen, &id, "drawings", "foto.png", png)
            .await
            .status(),
        StatusCode::CREATED
    );
    // Paths in the name, an unknown kind, an empty file.
    for name in ["../../etc/passwd.pdf", "a/b.pdf", "..\\x.pdf"] {
        let refused = problem(
            api.upload(&citizen, &id, "drawings", name, pdf("p")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refused["errors"][0]["field"], "name", "{name}");
    }
    let response = api.upload(&citizen, &id, "selfie", "x.pdf", pdf("k")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = api
        .upload(&citizen, &id, "drawings", "empty.pdf", Vec::new())
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Only the two accepted documents are recorded, and no stray files are left.
    let permit = api.json(&citizen, &format!("/v1/permits/{id}")).await;
    assert_eq!(permit["documents"].as_array().unwrap().len(), 2);
    let dir = server.data_dir.join("permits").join(&id);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no partial uploads left behind"
    );

    // A file altered on disk is refused on download, never served.
    let document = stored["id"].as_str().unwrap();
    std::fs::write(dir.join(document), b"%PDF-1.4 tampered").unwrap();
    let refused = problem(
        api.get(&citizen, &format!("/v1/permits/{id}/documents/{document}"))
            .await,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .await;
    assert_eq!(code_of(&refused), "document-damaged");
    server.stop().await;
}

#[tokio::test]
async fn protocol_numbers_are_gapless_and_unique_under_concurrency() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:permits"])
        .await;
    let mut genova = Vec::new();
    for _ in 0..8 {
        let id = api.complete_draft(&citizen, GENOVA, "cila", json!({})).await;
        api.act_ok(&citizen, &id, "submit", None).await;
        api.pay(&id, &format!("rt-{id}")).await;
        genova.push(id);
    }
    let elsewhere = api.complete_draft(&citizen, ARENZANO, "cila", json!({})).await;
    api.act_ok(&citizen, &elsewhere, "submit", None).await;
    api.pay(&elsewhere, "rt-arenzano").await;

    // Every registration at once, plus a second attempt on each (which must fail cleanly).
    let attempts = genova.iter().chain(genova.iter()).map(|id| {
        let api = &api;
        let officer = &officer;
        async move { api.act(officer, id, "register", None).await.status() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        8,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let mut numbers = Vec::new();
    for id in &genova {
        let permit = api.json(&officer, &format!("/v1/permits/{id}")).await;
        let protocol = permit["protocol_number"].as_str().unwrap().to_owned();
        numbers.push(protocol.split_once('/').unwrap().1.parse::<u32>().unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>(), "gapless and unique");
    // Each municipality counts on its own.
    let permit = api.act_ok(&arenzano, &elsewhere, "register", None).await;
    assert!(permit["protocol_number"].as_str().unwrap().ends_with("/0000001"));

    // The queue pages through them, nearest deadline first, with a cursor.
    let first = api
        .json(&officer, "/v1/permits?municipality=010025&limit=5")
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = api
        .json(
            &officer,
            &format!("/v1/permits?municipality=010025&limit=5&cursor={cursor}"),
        )
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 3);
    assert!(second["next_cursor"].is_null());
    let response = api
        .get(&officer, "/v1/permits?municipality=010025&limit=1000")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = api
        .get(&officer, "/v1/permits?municipality=010025&status=flying")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let filtered = api
        .json(
            &officer,
            "/v1/permits?municipality=010025&status=registered&procedure=cila&overdue=false",
        )
        .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 8);
    let mine = api.json(&citizen, "/v1/me/permits?limit=4").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 4);
    assert!(mine["next_cursor"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn demo_data_has_permits_in_several_states() {
    let mut prepared = Prepared::new().await;
    prepared.config.demo = true;
    let server = prepared.start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let mine = api.json(&citizen, "/v1/me/permits").await;
    let mut statuses: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["simplified_status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["action_needed", "draft", "effective", "payment_due"]);
    // The one waiting for its issue fee has a pagoPA notice the citizen finds among their
    // payments; the fees paid before (at the counter) have none.
    let waiting = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["simplified_status"] == "payment_due")
        .unwrap();
    let waiting = api
        .json(
            &citizen,
            &format!("/v1/permits/{}", waiting["id"].as_str().unwrap()),
        )
        .await;
    let issue = waiting["fees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["paid_at"].is_null())
        .unwrap();
    let notice = issue["notice_number"].as_str().expect("a notice for the fee due");
    assert!(
        api.json(&citizen, "/v1/me/payments").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["notice_number"] == notice && p["state"] == "due")
    );
    // Loading again adds nothing.
    sportello_server::demo::load(&server.state.db, Some(server.state.payments.as_ref()))
        .await
        .unwrap();
    assert_eq!(
        api.json(&citizen, "/v1/me/permits").await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    server.stop().await;
}

/// Payments' view of the positions opened for an application (an officer of the payments office
/// of `municipality`).
async fn positions_of(server: &TestServer, municipality: &str, permit_id: &str) -> Vec<Value> {
    let (payments_officer, _) = server
        .dev_login(OTHER_CITIZEN, &[&format!("operator:{municipality}:payments")])
        .await;
    let page: Value = Api { server }
        .json(
            &payments_officer,
            &format!("/v1/municipalities/{municipality}/payment-positions?origin=permit:{permit_id}"),
        )
        .await;
    page["items"].as_array().unwrap().clone()
}

/// Issue 7's hand-off, end to end: the filing fees of a permesso di costruire become one pagoPA
/// notice for the applicant when the application is submitted; the Node pays it through
/// `paForNode` (verify, getPaymentV2, sendRTV2 — sent twice, as the Node retries); the receipt
/// files the application once. The issue fee gets its own notice, withdrawn when the officer
/// takes the payment at the counter instead.
#[tokio::test]
async fn permit_fees_are_paid_through_pagopa_and_file_the_application() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let clock = Clock::new();
    clock.set(&server, 0);
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    sportello_server::identity::store::upsert_user(&server.state.db, CITIZEN, Some("Mario"), Some("Rossi"))
        .await
        .unwrap();
    let (officer, _) = server.dev_login(GENOVA_OPERATOR, &[OFFICER_ROLE]).await;

    let id = api.complete_draft(&citizen, GENOVA, "pdc", json!({})).await;
    let path = format!("/v1/permits/{id}");
    let submitted = api.act_ok(&citizen, &id, "submit", None).await;
    assert_eq!(submitted["status"], "awaiting_payment");

    // One notice for the group: both filing fees carry it.
    let fees = submitted["fees"].as_array().unwrap();
    assert_eq!(fees.len(), 2);
    let notice = fees[0]["notice_number"]
        .as_str()
        .expect("a notice number")
        .to_owned();
    let position_id = fees[0]["payment_position_id"].as_str().unwrap().to_owned();
    assert_eq!(notice.len(), 18);
    assert!(
        fees.iter().all(
            |f| f["notice_number"] == notice.as_str() && f["payment_position_id"] == position_id.as_str()
        )
    );

    // Payments has it, for the applicant, for the right amount, pointing back at the permit.
    let positions = positions_of(&server, GENOVA, &id).await;
    assert_eq!(positions.len(), 1);
    let position = &positions[0];
    assert_eq!(position["id"], position_id.as_str());
    assert_eq!(position["status"], "VALID");
    assert_eq!(position["origin"], format!("permit:{id}"));
    assert_eq!(position["debtor"]["fiscal_code"], CITIZEN);
    assert_eq!(position["debtor"]["full_name"], "Mario Rossi");
    assert_eq!(position["options"][0]["notice_number"], notice.as_str());
    assert_eq!(position["options"][0]["amount_cents"], 21_600);
    assert_eq!(
        position["options"][0]["due_date"],
        clock.date(30).to_string(),
        "due 30 days after the fees fell due"
    );

    // The citizen finds it among their payments and in the message about the step.
    let mine = api.json(&citizen, "/v1/me/payments").await;
    let due: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["position_id"] == position_id.as_str())
        .collect();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0]["state"].as_str(), due[0]["amount_cents"].as_i64()),
        (Some("due"), Some(21_600))
    );
    let messages = api.inbox(&citizen, "permits").await;
    let asked = messages.last().unwrap();
    assert_eq!(asked["payment"]["notice_number"], notice.as_str());
    assert_eq!(asked["payment"]["amount_cents"], 21_600);
    assert_eq!(asked["payment"]["creditor_fiscal_code"], "00856930102");
    assert!(asked["body"].as_str().unwrap().contains("avviso pagoPA"));

    // The Node pays it: verify, getPaymentV2 (the secretariat fee to the account, the stamp as
    // a digital stamp), then the same receipt twice.
    let node = NodeSimulator::new(&server.base, "00856930102", "00856930102_01");
    let verified = node
        .call(
            Operation::VerifyPaymentNotice,
            &node.notice_request("00856930102", &notice, None),
        )
        .await
        .unwrap();
    let amount = verified
        .child("paymentList")
        .and_then(|l| l.child("paymentOptionDescription"))
        .and_then(|d| d.child("amount"))
        .unwrap()
        .text
        .clone();
    assert_eq!(amount, "216.00");
    let got = node
        .call(
            Operation::GetPaymentV2,
            &node.notice_request("00856930102", &notice, Some(&amount)),
        )
        .await
        .unwrap();
    let data = got.child("data").unwrap();
    let transfers: Vec<(String, bool)> = data
        .child("transferList")
        .unwrap()
        .children_named("transfer")
        .map(|t| {
            (
                t.child("transferAmount").unwrap().text.clone(),
                t.child("richiestaMarcaDaBollo").is_some(),
            )
        })
        .collect();
    assert_eq!(
        transfers,
        vec![("200.00".to_owned(), false), ("16.00".to_owned(), true)]
    );
    let receipt = node.receipt_request("00856930102", &notice, "rt-permit-0001", &amount, data);
    for _ in 0..2 {
        node.call(Operation::SendRtV2, &receipt).await.unwrap();
    }

    // The application was filed, once, by the system, with the receipt on the timeline.
    let filed = api.json(&citizen, &path).await;
    assert_eq!(filed["status"], "submitted");
    assert_eq!(filed["fee_due_cents"], 0);
    assert!(
        filed["fees"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["paid_at"].is_string())
    );
    let confirmations: Vec<&Value> = filed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["action"] == "confirm-payment")
        .collect();
    assert_eq!(
        confirmations.len(),
        1,
        "one advance for two copies of the receipt"
    );
    assert_eq!(confirmations[0]["actor"], "system");
    assert_eq!(confirmations[0]["to_status"], "submitted");
    assert!(
        confirmations[0]["note"]
            .as_str()
            .unwrap()
            .contains("rt-permit-0001")
    );
    let positions = positions_of(&server, GENOVA, &id).await;
    assert_eq!(positions[0]["status"], "PAID");
    assert_eq!(positions[0]["options"][0]["receipt_id"], "rt-permit-0001");
    let mine = api.json(&citizen, "/v1/me/payments").await;
    let paid = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["position_id"] == position_id.as_str() && p["state"] == "paid")
        .count();
    assert_eq!(paid, 1);
    let subjects = api.inbox_subjects(&citizen).await;
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.contains("Domanda presentata"))
            .count(),
        1,
        "{subjects:?}"
    );
    assert_eq!(api.inbox(&citizen, "payments").await.len(), 1);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_receipts")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1, "one payment recorded");

    // Approval: the issue fee (a digital stamp) gets a notice of its own...
    api.act_ok(&officer, &id, "register", None).await;
    api.act_ok(&officer, &id, "start-review", None).await;
    let accepted = api.act_ok(&officer, &id, "accept", None).await;
    assert_eq!(accepted["status"], "awaiting_issue_payment");
    let issue = accepted["fees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["due"] == "issue")
        .unwrap()
        .clone();
    let issue_notice = issue["notice_number"].as_str().unwrap().to_owned();
    assert_ne!(issue_notice, notice);
    let positions = positions_of(&server, GENOVA, &id).await;
    assert_eq!(positions.len(), 2);
    let open = positions
        .iter()
        .find(|p| p["options"][0]["notice_number"] == issue_notice.as_str())
        .unwrap();
    assert_eq!(
        (
            open["status"].as_str(),
            open["options"][0]["amount_cents"].as_i64()
        ),
        (Some("VALID"), Some(1_600))
    );
    // ...which is withdrawn when the officer takes the payment at the counter: the Node is told
    // it is cancelled, the citizen sees it cancelled.
    let issued = api.act_ok(&officer, &id, "confirm-payment", None).await;
    assert_eq!(issued["status"], "accepted");
    let withdrawn = positions_of(&server, GENOVA, &id)
        .await
        .into_iter()
        .find(|p| p["options"][0]["notice_number"] == issue_notice.as_str())
        .unwrap();
    assert_eq!(withdrawn["status"], "INVALID");
    let refused = node
        .call(
            Operation::VerifyPaymentNotice,
            &node.notice_request("00856930102", &issue_notice, None),
        )
        .await;
    assert!(
        matches!(&refused, Err(SimulatorError::Fault { code, .. }) if code == "PAA_PAGAMENTO_ANNULLATO"),
        "{refused:?}"
    );
    let mine = api.json(&citizen, "/v1/me/payments").await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| { p["notice_number"] == issue_notice.as_str() && p["state"] == "cancelled" })
    );
    server.stop().await;
}

/// A municipality that does not collect through this installation's pagoPA station: the step
/// still goes through, the fees stay due without a notice (visible as such), and the officer
/// confirms the payment taken at the office. Genova, on the same server, still gets notices.
#[tokio::test]
async fn fees_of_a_municipality_outside_pagopa_are_due_at_the_counter() {
    let mut prepared = Prepared::new().await;
    prepared.config.pagopa.municipalities.insert(
        ARENZANO.to_owned(),
        PagopaCreditorConfig {
            enabled: Some(false),
            ..PagopaCreditorConfig::default()
        },
    );
    let server = prepared.start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (officer, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:permits"])
        .await;

    let id = api.complete_draft(&citizen, ARENZANO, "scia", json!({})).await;
    let submitted = api.act_ok(&citizen, &id, "submit", None).await;
    assert_eq!(submitted["status"], "awaiting_payment");
    assert_eq!(submitted["fee_due_cents"], 10_000);
    let fees = submitted["fees"].as_array().unwrap();
    assert!(!fees.is_empty());
    assert!(fees.iter().all(|f| f["notice_number"].is_null()
        && f["payment_position_id"].is_null()
        && f["paid_at"].is_null()));
    let due = fees::fees_due(
        &mut server.state.db.pool().acquire().await.unwrap(),
        Some(ARENZANO),
        100,
    )
    .await
    .unwrap();
    assert!(due.iter().any(|f| f.permit_id == id && f.notice_number.is_none()));
    assert!(
        api.json(&citizen, "/v1/me/payments").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let messages = api.inbox(&citizen, "permits").await;
    let asked = messages.last().unwrap();
    assert!(asked["payment"].is_null());
    assert!(
        asked["body"]
            .as_str()
            .unwrap()
            .contains("presso l'ufficio del Comune")
    );

    let filed = api.act_ok(&officer, &id, "confirm-payment", None).await;
    assert_eq!(filed["status"], "submitted");
    assert_eq!(filed["fee_due_cents"], 0);

    // Genova collects through pagoPA on the same server.
    let genova = api.complete_draft(&citizen, GENOVA, "scia", json!({})).await;
    let submitted = api.act_ok(&citizen, &genova, "submit", None).await;
    assert!(submitted["fees"][0]["notice_number"].is_string());
    assert_eq!(positions_of(&server, GENOVA, &genova).await.len(), 1);
    server.stop().await;
}

/// Cancelling an application that waits for its filing fees withdraws their notice.
#[tokio::test]
async fn cancelling_an_unpaid_application_withdraws_its_notice() {
    let server = TestServer::start().await;
    let api = Api { server: &server };
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let id = api.complete_draft(&citizen, GENOVA, "scia", json!({})).await;
    let submitted = api.act_ok(&citizen, &id, "submit", None).await;
    let notice = submitted["fees"][0]["notice_number"].as_str().unwrap().to_owned();
    assert_eq!(positions_of(&server, GENOVA, &id).await[0]["status"], "VALID");
    let cancelled = api.act_ok(&citizen, &id, "cancel", None).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(positions_of(&server, GENOVA, &id).await[0]["status"], "INVALID");
    let verify = client()
        .post(server.url("/v1/payments/verify"))
        .json(&json!({ "code": notice }))
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), StatusCode::CONFLICT);
    server.stop().await;
}
