//! The OpenAPI document lists every status a route answers: requests of each kind the shared
//! machinery refuses (no token, malformed JSON, a body not sent as JSON, an unknown query
//! parameter, a malformed ISTAT code) and an ordinary one per role go to every operation of the
//! served document, and each answer's status must be one its operation lists, an error with the
//! problem body. Cheap (one server, a few hundred requests); schemathesis
//! (`tests/schemathesis/run`) then generates far more inputs against a live server.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{ADMIN, CITIZEN, GENOVA_OPERATOR, TestServer, client};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sportello_core::api::Problem;

/// One documented operation of the served document.
struct Operation {
    method: Method,
    template: String,
    document: Value,
}

impl Operation {
    fn id(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn listed(&self, status: StatusCode) -> bool {
        self.document["responses"].get(status.as_str()).is_some()
    }

    fn needs_token(&self) -> bool {
        self.document["security"]
            .as_array()
            .is_some_and(|requirements| requirements.iter().any(|r| r.get("bearer").is_some()))
    }

    fn takes_json(&self) -> bool {
        self.document["requestBody"]["content"]
            .get("application/json")
            .is_some()
    }

    fn takes_query(&self) -> bool {
        self.document["parameters"]
            .as_array()
            .is_some_and(|parameters| parameters.iter().any(|p| p["in"] == "query"))
    }

    /// The path with every parameter filled: Genova for a municipality, `x` for an id.
    fn path(&self, istat_code: &str) -> String {
        self.template
            .split('/')
            .map(|segment| match segment {
                "{istat_code}" => istat_code,
                s if s.starts_with('{') => "x",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            found.push(Operation {
                method,
                template: template.clone(),
                document: operation.clone(),
            });
        }
    }
    found
}

/// A request of one kind to an operation.
struct Probe<'a> {
    kind: &'static str,
    token: Option<&'a str>,
    path: String,
    query: &'static str,
    body: Option<(&'static str, &'static str)>,
}

impl<'a> Probe<'a> {
    fn new(
        kind: &'static str,
        token: Option<&'a str>,
        path: &str,
        body: Option<(&'static str, &'static str)>,
    ) -> Self {
        Self {
            kind,
            token,
            path: path.to_owned(),
            query: "",
            body,
        }
    }
}

/// Sends a probe; returns a complaint if its answer is not one the operation lists, or not a
/// problem where it should be one.
async fn check(server: &TestServer, operation: &Operation, probe: Probe<'_>) -> Option<String> {
    let mut request = client().request(
        operation.method.clone(),
        server.url(&format!("{}{}", probe.path, probe.query)),
    );
    if let Some(token) = probe.token {
        request = request.bearer_auth(token);
    }
    if let Some((content_type, body)) = probe.body {
        request = request.header("content-type", content_type).body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let what = format!("{} ({}): {status}", operation.id(), probe.kind);
    if !operation.listed(status) {
        return Some(format!("{what} is not listed"));
    }
    let content_type = response.headers().get("content-type").cloned();
    if status.is_client_error() || status.is_server_error() {
        if content_type.is_none_or(|ct| ct != "application/problem+json") {
            return Some(format!("{what} is not a problem"));
        }
        let problem: Problem = response.json().await.unwrap();
        if problem.status != status.as_u16() {
            return Some(format!("{what}: the problem says {}", problem.status));
        }
    }
    None
}

#[tokio::test]
async fn every_status_an_operation_answers_is_listed() {
    let server = TestServer::start().await;
    let document: Value = server.get_json("/openapi.json").await;
    let (citizen, _) = server.dev_login(CITIZEN, &[]).await;
    let (operator, _) = server
        .dev_login(
            GENOVA_OPERATOR,
            &[
                "operator:010025:permits",
                "operator:010025:library",
                "operator:010025:payments",
            ],
        )
        .await;
    let (admin, _) = server.dev_login(ADMIN, &["admin"]).await;
    let operations = operations(&document);
    assert!(operations.len() > 40, "{} operations", operations.len());

    let mut complaints = Vec::new();
    let mut sent = 0;
    for operation in &operations {
        let genova = operation.path("010025");
        let json_body = operation.takes_json().then_some(("application/json", "{}"));
        let as_admin = Some(admin.as_str());
        let probe = |kind, token, body| Probe::new(kind, token, &genova, body);
        let mut probes = vec![probe("anonymous", None, None)];
        if operation.needs_token() {
            probes.push(probe("a token that is not one", Some("not-a-token"), None));
        }
        for (kind, token) in [("citizen", &citizen), ("operator", &operator), ("admin", &admin)] {
            probes.push(probe(kind, Some(token.as_str()), json_body));
        }
        if operation.takes_json() {
            let malformed = Some(("application/json", "{\"unfinished\":"));
            probes.push(probe("malformed JSON", as_admin, malformed));
            probes.push(probe("not sent as JSON", as_admin, Some(("text/plain", "{}"))));
        }
        if operation.takes_query() {
            probes.push(Probe {
                query: "?colour=red",
                ..probe("unknown query parameter", as_admin, None)
            });
        }
        if operation.template.contains("{istat_code}") {
            probes.push(Probe {
                path: operation.path("01002x"),
                ..probe("malformed ISTAT code", as_admin, json_body)
            });
        }
        for probe in probes {
            sent += 1;
            complaints.extend(check(&server, operation, probe).await);
        }
    }
    eprintln!("{sent} requests to {} operations", operations.len());
    assert!(
        complaints.is_empty(),
        "{} answers the document does not list:\n{}",
        complaints.len(),
        complaints.join("\n")
    );
    server.stop().await;
}

/// The shared statuses are where the machinery can answer them, and 429 exactly on the
/// rate-limited operations.
#[tokio::test]
async fn shared_statuses_follow_the_shape_of_each_operation() {
    let document = serde_json::to_value(sportello_server::http::openapi()).unwrap();
    let limited = sportello_server::http::contract::RATE_LIMITED;
    let mut seen_limited = Vec::new();
    // A generated client names its methods after operation ids: two alike and one is lost.
    let mut ids: Vec<String> = operations(&document)
        .iter()
        .map(|operation| operation.document["operationId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    let repeated: Vec<&[String]> = ids.windows(2).filter(|pair| pair[0] == pair[1]).collect();
    assert!(repeated.is_empty(), "operation ids used twice: {repeated:?}");
    for operation in operations(&document) {
        let id = operation.document["operationId"].as_str().unwrap().to_owned();
        let listed = |status: StatusCode| operation.listed(status);
        // A parameter documented in the path is one of the template's; the others are queries.
        for parameter in operation.document["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap();
            if parameter["in"] == "path" {
                assert!(
                    operation.template.contains(&format!("{{{name}}}")),
                    "{}: {name} is not in the path",
                    operation.id()
                );
            }
        }
        assert!(listed(StatusCode::REQUEST_TIMEOUT), "{}: 408", operation.id());
        assert_eq!(
            listed(StatusCode::UNAUTHORIZED),
            operation.needs_token(),
            "{}: 401 exactly with a bearer token",
            operation.id()
        );
        if operation.needs_token() {
            let headers = &operation.document["responses"]["401"]["headers"];
            assert!(headers.get("WWW-Authenticate").is_some(), "{}", operation.id());
        }
        if operation.takes_json() {
            for status in [400, 413, 415] {
                let status = StatusCode::from_u16(status).unwrap();
                assert!(listed(status), "{}: {status}", operation.id());
            }
        }
        assert_eq!(
            listed(StatusCode::TOO_MANY_REQUESTS),
            limited.contains(&id.as_str()),
            "{id}"
        );
        if limited.contains(&id.as_str()) {
            let headers = &operation.document["responses"]["429"]["headers"];
            assert!(headers.get("Retry-After").is_some(), "{id}: Retry-After");
            seen_limited.push(id.clone());
        }
        // Every error is a problem, but readiness's own report.
        for (status, response) in operation.document["responses"].as_object().unwrap() {
            if status.starts_with('4') || (status.starts_with('5') && id != "readyz") {
                let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/Problem", "{id} {status}");
            }
        }
    }
    // Every schema the document refers to is in it (a generated client needs them all).
    let text = document.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{name} is referred to but missing"
        );
    }
    seen_limited.sort_unstable();
    let mut expected: Vec<String> = limited.iter().map(|&s| s.to_owned()).collect();
    expected.sort_unstable();
    assert_eq!(
        seen_limited, expected,
        "every rate-limited operation is in the document"
    );
    for id in sportello_server::http::contract::FROM_MEMORY {
        assert!(
            operations(&document)
                .iter()
                .any(|o| o.document["operationId"] == *id),
            "{id} is an operation"
        );
    }
}
