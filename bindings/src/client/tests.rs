//! The client against a scripted HTTP server on loopback: token renewal, retries, the login
//! exchange and error mapping, which a live server cannot be made to exercise on demand.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::login::pkce_challenge;

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Seen {
    fn bearer(&self) -> Option<&str> {
        self.headers.get("authorization")?.strip_prefix("Bearer ")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Status, extra headers and JSON body of a scripted answer.
type Answer = (u16, Vec<(&'static str, String)>, Value);

/// An HTTP/1.1 server that answers each request with a script and records what it saw.
struct Scripted {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    async fn start(script: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (script, log) = (Arc::clone(&script), Arc::clone(&log));
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    log.lock().unwrap().push(request.clone());
                    let (status, headers, body) = script(&request);
                    let body = if body.is_null() {
                        String::new()
                    } else {
                        body.to_string()
                    };
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    if status >= 400 {
                        head.push_str("content-type: application/problem+json\r\n");
                    } else {
                        head.push_str("content-type: application/json\r\n");
                    }
                    for (name, value) in headers {
                        let _ = write!(head, "{name}: {value}\r\n");
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    fn client(&self) -> Arc<SportelloClient> {
        SportelloClient::new(&self.base, None).unwrap()
    }
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, path) = (request_line.next()?.to_owned(), request_line.next()?.to_owned());
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[header_end..]).into_owned();
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn pair(access: &str, refresh: &str) -> Answer {
    let body = json!({"access_token": access, "token_type": "Bearer", "expires_in": 900,
        "refresh_token": refresh, "refresh_expires_in": 86400});
    (200, vec![], body)
}

fn problem(status: u16, code: &str) -> Answer {
    let body = json!({"type": format!("/problems/{code}"), "title": code, "status": status,
        "detail": format!("detail of {code}"), "code": code, "request_id": "req-42"});
    (status, vec![], body)
}

fn me_body() -> Answer {
    let body = json!({"user_id": "u1", "fiscal_code": "RSSMRA85T10A562S", "given_name": null,
        "family_name": null, "roles": ["citizen"]});
    (200, vec![], body)
}

/// Records what the client told it.
#[derive(Default)]
struct Recorder(Mutex<Vec<Option<String>>>);

impl SessionListener for Recorder {
    fn on_session_changed(&self, snapshot: Option<SessionSnapshot>) {
        self.0.lock().unwrap().push(snapshot.map(|s| s.refresh_token));
    }
}

impl Recorder {
    fn tokens(&self) -> Vec<Option<String>> {
        self.0.lock().unwrap().clone()
    }
}

/// A server with dev-login, a rotating token endpoint (`rN` -> `aN+1`/`rN+1`, a replay gets
/// `invalid-grant`) and `/v1/me` accepting only the newest access token.
async fn rotating_server() -> Scripted {
    let newest = Arc::new(Mutex::new(0u32));
    Scripted::start(move |request| {
        let mut newest = newest.lock().unwrap();
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v1/auth/dev-login") => {
                *newest = 1;
                pair("a1", "r1")
            }
            ("POST", "/v1/auth/token") => {
                let body = request.json();
                if body["refresh_token"] == format!("r{newest}") {
                    *newest += 1;
                    pair(&format!("a{newest}"), &format!("r{newest}"))
                } else {
                    problem(400, "invalid-grant")
                }
            }
            ("GET", "/v1/me") if request.bearer() == Some(&format!("a{newest}")) => me_body(),
            ("GET", "/v1/me") => problem(401, "unauthorized"),
            _ => problem(404, "not-found"),
        }
    })
    .await
}

/// Makes the client hold `access` as a current, unexpired access token.
fn hold_access_token(client: &SportelloClient, access: &str) {
    let mut tokens = client.tokens.lock().unwrap();
    let tokens = tokens.as_mut().unwrap();
    tokens.access_token = Some(access.to_owned());
    tokens.access_expires_at = Some(SystemTime::now() + Duration::from_mins(10));
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_once_and_the_call_retried() {
    let server = rotating_server().await;
    let client = server.client();
    let recorder = Arc::new(Recorder::default());
    client.set_session_listener(Some(recorder.clone()));
    client.dev_login("RSSMRA85T10A562S".into(), vec![]).await.unwrap();
    // Not yet due by the device's clock, but refused by the server (clock skew, key rotation).
    hold_access_token(&client, "stale");
    server.seen.lock().unwrap().clear();
    let me = client.me().await.unwrap();
    assert_eq!(me.fiscal_code, "RSSMRA85T10A562S");
    assert_eq!(
        server.paths(),
        ["GET /v1/me", "POST /v1/auth/token", "GET /v1/me"],
        "one renewal, one retry"
    );
    let seen = server.seen();
    assert_eq!(seen[0].bearer(), Some("stale"));
    assert_eq!(
        seen[1].json(),
        json!({"grant_type": "refresh_token", "refresh_token": "r1"})
    );
    assert_eq!(seen[2].bearer(), Some("a2"));
    assert_eq!(recorder.tokens(), vec![Some("r1".into()), Some("r2".into())]);
    // The fresh token is used as is: no further renewal.
    client.me().await.unwrap();
    assert_eq!(server.paths().len(), 4);
}

#[tokio::test]
async fn a_replayed_refresh_token_ends_the_session() {
    let server = rotating_server().await;
    let client = server.client();
    let recorder = Arc::new(Recorder::default());
    client.set_session_listener(Some(recorder.clone()));
    client.dev_login("RSSMRA85T10A562S".into(), vec![]).await.unwrap();
    // A copy of the session (a restored backup, say) spends r1 first.
    let other = server.client();
    other.restore_session("r1").unwrap();
    other.refresh().await.unwrap();
    let error = client.me().await.unwrap_err();
    assert!(error.is_invalid_grant(), "{error:?}");
    assert!(!client.is_logged_in());
    assert_eq!(recorder.tokens(), vec![Some("r1".into()), None]);
    assert_eq!(
        server.paths()[1..],
        ["POST /v1/auth/token", "GET /v1/me", "POST /v1/auth/token"]
    );
}

#[tokio::test]
async fn concurrent_calls_after_a_restore_spend_the_refresh_token_once() {
    let server = rotating_server().await;
    let seed = server.client();
    seed.dev_login("RSSMRA85T10A562S".into(), vec![]).await.unwrap();
    let client = server.client();
    client.restore_session("r1").unwrap();
    assert!(client.is_logged_in());
    assert_eq!(client.session_state().access_token_expires_at, None);
    server.seen.lock().unwrap().clear();
    let (a, b, c) = tokio::join!(client.me(), client.me(), client.me());
    assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
    let refreshes = server
        .paths()
        .iter()
        .filter(|p| *p == "POST /v1/auth/token")
        .count();
    assert_eq!(refreshes, 1, "{:?}", server.paths());
    assert!(client.session_state().access_token_expires_at.is_some());
    assert_eq!(client.session_snapshot().unwrap().refresh_token, "r2");
}

#[tokio::test]
async fn authenticated_calls_without_a_session_fail_locally() {
    let server = rotating_server().await;
    let client = server.client();
    let error = client.me().await.unwrap_err();
    assert!(matches!(&error, SportelloError::Unauthorized { code, .. } if code == "not-logged-in"));
    assert!(matches!(
        client.refresh().await,
        Err(SportelloError::Unauthorized { .. })
    ));
    assert!(server.seen().is_empty(), "nothing sent");
    assert_eq!(client.session_state(), logged_out());
    assert!(client.session_snapshot().is_none());
}

#[tokio::test]
async fn a_server_that_is_down_is_a_network_error_and_keeps_the_session() {
    // Bind, then drop: nothing listens on that port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = SportelloClient::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    assert!(matches!(
        client.municipalities().await,
        Err(SportelloError::Network { .. })
    ));
    client.restore_session("r1").unwrap();
    assert!(matches!(client.me().await, Err(SportelloError::Network { .. })));
    assert!(
        client.is_logged_in(),
        "a network failure does not end the session"
    );
    // Logging out offline still logs out the device.
    assert!(matches!(
        client.logout().await,
        Err(SportelloError::Network { .. })
    ));
    assert!(!client.is_logged_in());
}

#[tokio::test]
async fn errors_keep_status_code_detail_and_retry_after() {
    let server = Scripted::start(|request| match request.path.as_str() {
        "/v1/municipalities" => {
            let (status, _, body) = problem(429, "rate-limited");
            (status, vec![("retry-after", "7".to_owned())], body)
        }
        "/v1/auth/providers" => problem(503, "unavailable"),
        "/v1/municipalities/099999" => problem(404, "municipality-not-found"),
        _ => (200, vec![], json!({"unexpected": true})),
    })
    .await;
    let client = server.client();
    assert_eq!(
        client.municipalities().await.unwrap_err(),
        SportelloError::RateLimited {
            retry_after_secs: Some(7),
            detail: "detail of rate-limited".into()
        }
    );
    assert_eq!(
        client.providers().await.unwrap_err(),
        SportelloError::Server {
            status: 503,
            code: "unavailable".into(),
            detail: "detail of unavailable".into(),
            request_id: Some("req-42".into())
        }
    );
    assert!(matches!(
        client.municipality("099999".into()).await,
        Err(SportelloError::NotFound { code, .. }) if code == "municipality-not-found"
    ));
    let error = client.municipality("010025".into()).await.unwrap_err();
    assert!(
        matches!(&error, SportelloError::Server { status: 200, code, .. } if code == "unexpected-response"),
        "{error:?}"
    );
    // A malformed code never reaches the server.
    let before = server.seen().len();
    assert!(matches!(
        client.municipality("01002x".into()).await,
        Err(SportelloError::InvalidInput { field, .. }) if field == "istat_code"
    ));
    assert_eq!(server.seen().len(), before);
}

#[tokio::test]
async fn the_language_goes_out_as_accept_language() {
    let server = Scripted::start(|_| (200, vec![], json!({"items": [], "dev_login": false}))).await;
    let client = SportelloClient::new(&server.base, Some("en".into())).unwrap();
    client.providers().await.unwrap();
    client.set_language(None).unwrap();
    client.providers().await.unwrap();
    assert!(client.set_language(Some("en\r\nX-Evil: 1".into())).is_err());
    let seen = server.seen();
    assert_eq!(
        seen[0].headers.get("accept-language").map(String::as_str),
        Some("en")
    );
    assert_eq!(seen[1].headers.get("accept-language"), None);
    assert_eq!(seen[0].headers["accept"], "application/json");
    assert!(seen[0].headers["user-agent"].starts_with("sportello-mobile/"));
}

/// A server whose token endpoint redeems login codes issued for a PKCE challenge.
async fn login_server(challenges: Arc<Mutex<HashMap<String, String>>>) -> Scripted {
    Scripted::start(move |request| {
        let body = request.json();
        match request.path.as_str() {
            "/v1/auth/token" if body["grant_type"] == "authorization_code" => {
                let challenge = challenges
                    .lock()
                    .unwrap()
                    .remove(body["code"].as_str().unwrap_or_default());
                let verifier = body["code_verifier"].as_str().unwrap_or_default();
                if challenge.is_some_and(|c| c == pkce_challenge(verifier)) {
                    pair("a1", "r1")
                } else {
                    problem(400, "invalid-grant")
                }
            }
            "/v1/auth/logout" => (204, vec![], Value::Null),
            _ => problem(404, "not-found"),
        }
    })
    .await
}

/// What the server does between `begin_login` and the redirect: remember the challenge, hand a
/// code to the app's redirect URI with the app's state.
fn server_side_login(
    login: &LoginRequest,
    challenges: &Mutex<HashMap<String, String>>,
    code: &str,
) -> String {
    let url = Url::parse(&login.url).unwrap();
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
    challenges
        .lock()
        .unwrap()
        .insert(code.to_owned(), query["code_challenge"].clone());
    format!("{}?code={code}&state={}", query["redirect_uri"], query["state"])
}

#[tokio::test]
async fn a_browser_login_redeems_the_code_with_the_verifier() {
    let challenges = Arc::new(Mutex::new(HashMap::new()));
    let server = login_server(challenges.clone()).await;
    let client = server.client();
    let recorder = Arc::new(Recorder::default());
    client.set_session_listener(Some(recorder.clone()));
    let login = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    assert!(
        login
            .url
            .starts_with(&format!("{}/v1/auth/oidc/cie/login?", server.base))
    );
    let redirect = server_side_login(&login, &challenges, "code-1");
    let state = client.complete_login(redirect.clone()).await.unwrap();
    assert!(state.logged_in && client.is_logged_in());
    assert_eq!(recorder.tokens(), vec![Some("r1".into())]);
    // The same redirect again: the login is used up.
    assert!(matches!(
        client.complete_login(redirect).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "no_login_in_progress"
    ));
    client.logout().await.unwrap();
    assert_eq!(recorder.tokens(), vec![Some("r1".into()), None]);
    let seen = server.seen();
    assert_eq!(seen.last().unwrap().json(), json!({"refresh_token": "r1"}));
}

#[tokio::test]
async fn a_forged_redirect_leaves_the_genuine_login_pending() {
    let challenges = Arc::new(Mutex::new(HashMap::new()));
    let server = login_server(challenges.clone()).await;
    let client = server.client();
    let login = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    let forged = "it.genova.sportello://auth?code=attacker&state=guess".to_owned();
    assert!(matches!(
        client.complete_login(forged).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "state_mismatch"
    ));
    assert!(server.seen().is_empty(), "the forged code was not redeemed");
    let redirect = server_side_login(&login, &challenges, "code-2");
    client.complete_login(redirect).await.unwrap();
    assert!(client.is_logged_in());
}

#[tokio::test]
async fn a_cancelled_or_stale_login_fails_clearly() {
    let challenges = Arc::new(Mutex::new(HashMap::new()));
    let server = login_server(challenges.clone()).await;
    let client = server.client();
    let login = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    let cancelled = format!(
        "it.genova.sportello://auth?error=access_denied&state={}",
        login.state
    );
    assert!(matches!(
        client.complete_login(cancelled).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "access_denied"
    ));
    // A code the server does not know (expired, already used): invalid_grant.
    let login = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    let unknown = format!("it.genova.sportello://auth?code=nope&state={}", login.state);
    assert!(matches!(
        client.complete_login(unknown).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "invalid_grant"
    ));
    // A login begun again replaces the earlier one; cancel_login forgets it.
    let first = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    let second = client.begin_login("cie", "it.genova.sportello://auth").unwrap();
    let old = server_side_login(&first, &challenges, "code-3");
    assert!(matches!(
        client.complete_login(old).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "state_mismatch"
    ));
    client.cancel_login();
    let new = server_side_login(&second, &challenges, "code-4");
    assert!(matches!(
        client.complete_login(new).await,
        Err(SportelloError::LoginFailed { reason, .. }) if reason == "no_login_in_progress"
    ));
    assert!(!client.is_logged_in());
}

#[test]
fn base_urls_are_checked_and_normalised() {
    let base = |url: &str| SportelloClient::new(url, None).map(|c| c.base_url());
    assert_eq!(
        base("https://sportello.example").unwrap(),
        "https://sportello.example/"
    );
    assert_eq!(
        base(" http://127.0.0.1:8080/api ").unwrap(),
        "http://127.0.0.1:8080/api/"
    );
    for bad in [
        "",
        "sportello.example",
        "ftp://sportello.example",
        "https://sportello.example/?x=1",
        "https://user:pw@sportello.example",
        "mailto:a@b.c",
    ] {
        assert!(
            matches!(base(bad), Err(SportelloError::InvalidInput { field, .. }) if field == "base_url"),
            "{bad}"
        );
    }
    assert!(SportelloClient::new("https://x.example", Some("it-IT".into())).is_ok());
    assert!(SportelloClient::new("https://x.example", Some(String::new())).is_err());
}

/// A server for the notification calls: dev-login, one renewal (`r1` -> `a2`), and the device,
/// inbox and read endpoints accepting only `a1`/`a2` as access tokens.
async fn notifications_server() -> Scripted {
    Scripted::start(|request| {
        let authorized = matches!(request.bearer(), Some("a1" | "a2"));
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v1/auth/dev-login") => pair("a1", "r1"),
            ("POST", "/v1/auth/token") => pair("a2", "r2"),
            _ if !authorized => problem(401, "unauthorized"),
            ("POST", "/v1/me/devices") => {
                let body = json!({"id": "d-1", "kind": "fcm", "label": "…en-123",
                    "created_at": "2026-03-01T10:00:00Z"});
                (201, vec![], body)
            }
            ("GET", "/v1/me/inbox?cursor=c1&limit=2") => {
                let body = json!({"items": [{"id": "m-1", "topic": "alerts", "subject": "Allerta",
                    "body": "**Chiudere** le finestre", "municipality": "010025", "due_date": null,
                    "payment": {"notice_number": "301000000000000001", "amount_cents": 1250,
                        "creditor_fiscal_code": "00856930102"},
                    "created_at": "2026-03-01T10:00:00.123Z", "read": false}],
                    "next_cursor": null, "unread": 3});
                (200, vec![], body)
            }
            ("POST", "/v1/me/inbox/b-1%2Fu-1/read") => (204, vec![], Value::Null),
            _ => problem(404, "not-found"),
        }
    })
    .await
}

#[tokio::test]
async fn notification_calls_speak_the_wire_types_and_no_content_answers_are_renewed_and_retried() {
    let server = notifications_server().await;
    let client = server.client();
    client.dev_login("RSSMRA85T10A562S".into(), vec![]).await.unwrap();
    let device = client
        .register_fcm_token("token-123".into(), vec![" 010025 ".into()])
        .await
        .unwrap();
    assert_eq!(device.id, "d-1");
    assert_eq!(
        server.seen().last().unwrap().json(),
        json!({"kind": "fcm", "token": "token-123", "municipalities": ["010025"]})
    );

    let page = client.inbox(Some("c1".into()), Some(2)).await.unwrap();
    assert_eq!(page.unread, 3);
    let message = &page.items[0];
    assert_eq!(message.payment.as_ref().unwrap().amount_cents, 1250);
    let millis = message
        .created_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert_eq!(millis, 1_772_359_200_123);

    // A 204 goes through the same renew-and-retry path as JSON answers.
    hold_access_token(&client, "stale");
    server.seen.lock().unwrap().clear();
    // A broadcast message's id has a slash: it travels percent-encoded, as one segment.
    client.mark_read("b-1/u-1".into()).await.unwrap();
    assert_eq!(
        server.paths(),
        [
            "POST /v1/me/inbox/b-1%2Fu-1/read",
            "POST /v1/auth/token",
            "POST /v1/me/inbox/b-1%2Fu-1/read"
        ]
    );
    let error = client.delete_message("m-2".into()).await.unwrap_err();
    assert!(matches!(error, SportelloError::NotFound { .. }), "{error:?}");
    let local = client.mark_read("..".into()).await.unwrap_err();
    assert!(
        matches!(&local, SportelloError::InvalidInput { field, .. } if field == "id"),
        "{local:?}"
    );
    assert_eq!(
        server.paths().len(),
        4,
        "an id refused on the device sends nothing"
    );
}

/// A catalogue record as the server sends it.
fn wire_record(id: &str) -> Value {
    json!({"id": id, "title": format!("Titolo {id}"), "subtitle": null, "authors": [],
        "isbns": [], "publisher": null, "year": 2014, "language": "ita", "subjects": [],
        "format": "book", "series": [], "identifiers": []})
}

/// One library's holdings as the server sends them.
fn wire_holdings(library: &str, lat: f64, lon: f64, on_shelf: u32) -> Value {
    json!({"library_id": library, "library_name": library, "municipality": "010025",
        "address": "Via X", "lat": lat, "lon": lon, "distance_km": null, "open_now": true,
        "next_opening": null, "on_shelf": on_shelf, "on_loan": 0, "in_transit": 0,
        "reference_only": 0, "unknown": 0, "earliest_due": null, "copies": []})
}

#[tokio::test]
async fn ranking_on_the_device_never_sends_the_position() {
    use sportello_core::api::{CatalogQuery, CatalogSort, Coordinates};

    let server = Scripted::start(|request| {
        let path = request.path.split('?').next().unwrap_or_default();
        let hit = |id: &str| {
            json!({"record": wire_record(id), "availability": {"copies_on_shelf": 1,
                "copies_total": 1, "libraries": 1, "nearest": null}})
        };
        match path {
            "/v1/catalog/search" => (
                200,
                vec![],
                json!({"total": 3, "items": [hit("far"), hit("gone"), hit("near")],
                    "facets": {"format": [], "language": [], "municipality": [], "library": []},
                    "next_cursor": null}),
            ),
            "/v1/catalog/records/far/availability" => (
                200,
                vec![],
                json!({"record": wire_record("far"),
                    "libraries": [wire_holdings("chiavari-civica", 44.3169, 9.323, 1)]}),
            ),
            "/v1/catalog/records/near/availability" => (
                200,
                vec![],
                json!({"record": wire_record("near"),
                    "libraries": [wire_holdings("ge-berio", 44.404_986, 8.937_15, 2)]}),
            ),
            _ => problem(404, "record-not-found"),
        }
    })
    .await;
    let client = server.client();
    let de_ferrari = Coordinates {
        lat: 44.4072,
        lon: 8.9340,
    };
    let query = CatalogQuery {
        q: Some("stato".into()),
        ..CatalogQuery::default()
    };
    let page = client
        .search_nearest_on_device(query.clone(), de_ferrari)
        .await
        .unwrap();
    let order: Vec<_> = page.items.iter().map(|h| h.record.id.as_str()).collect();
    assert_eq!(
        order,
        ["near", "far", "gone"],
        "a record deleted meanwhile goes last"
    );
    let nearest = page.items[0].availability.nearest.as_ref().unwrap();
    assert_eq!(nearest.library_id, "ge-berio");
    let seen = server.paths();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen[0].starts_with("GET /v1/catalog/search?q=stato"), "{seen:?}");
    for path in &seen {
        assert!(
            !path.contains("near=") && !path.contains("44.4") && !path.contains("8.93"),
            "the position left the device: {path}"
        );
    }

    // Asking the server to use the position here is refused before anything is sent.
    for query in [
        CatalogQuery {
            near: Some(de_ferrari),
            ..query.clone()
        },
        CatalogQuery {
            sort: Some(CatalogSort::Distance),
            ..query.clone()
        },
    ] {
        let error = client
            .search_nearest_on_device(query, de_ferrari)
            .await
            .unwrap_err();
        assert!(matches!(error, SportelloError::InvalidInput { .. }), "{error:?}");
    }
    let pole_plus = Coordinates { lat: 90.5, lon: 0.0 };
    let error = client
        .search_nearest_on_device(query, pole_plus)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SportelloError::InvalidInput { field, .. } if field == "coordinates"),
        "{error:?}"
    );
    assert_eq!(server.paths().len(), 4, "refusals on the device send nothing");
}
