//! What keeps one client from taking the server down: connection caps and timeouts, rate limits
//! with `Retry-After`, forwarded addresses believed only from trusted proxies, CORS off unless
//! configured, and a clear problem for a request line the server cannot read.
//!
//! Clients of different addresses are simulated with the loopback network: every 127.x.y.z
//! address reaches the server, each a different client.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Prepared, TestServer, client};
use serde_json::json;
use sportello_core::api;
use sportello_server::config::Quota;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

/// A connection from `source` (a loopback address) to the server.
async fn connect_from(source: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).unwrap();
    socket.connect(server).await.unwrap()
}

/// Starts a request head and stops halfway, as a slowloris client does.
async fn half_open(source: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let mut stream = connect_from(source, server).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sportello\r\nX-Waiting: ")
        .await
        .unwrap();
    stream
}

/// Whether the server closed the connection within `within` (end of stream or reset, after
/// whatever it wrote first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            stream.read(&mut buffer),
        )
        .await
        {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn healthz_answers(server: &TestServer) -> bool {
    let response = timeout(
        Duration::from_secs(2),
        client().get(server.url("/healthz")).send(),
    )
    .await;
    matches!(response, Ok(Ok(r)) if r.status() == 200)
}

#[tokio::test]
async fn half_open_connections_are_capped_per_client_and_closed_after_the_header_timeout() {
    let mut prepared = Prepared::new().await;
    prepared.config.http.max_connections_per_client = 40;
    prepared.config.http.header_read_timeout_secs = 3;
    let server = prepared.start().await;
    let attacker = Ipv4Addr::new(127, 0, 0, 2);

    let mut held = Vec::new();
    for _ in 0..120 {
        held.push(half_open(attacker, server.addr).await);
    }
    // The server answers everyone else meanwhile.
    assert!(
        healthz_answers(&server).await,
        "healthz while 120 half-open connections wait"
    );
    // Beyond its cap the attacker's connections were closed at once; its first 40 are held.
    let mut refused = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(5)).await {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 80,
        "connections closed at once beyond the per-client cap of 40"
    );
    // Within the header timeout (and some slack for a loaded machine) every one is closed.
    let started = Instant::now();
    for stream in &mut held {
        assert!(
            closed_within(stream, Duration::from_secs(8)).await,
            "a half-open connection outlived the 3 s header timeout"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(8));
    // Its slots are free again: the same client connects and is served.
    let mut stream = connect_from(attacker, server.addr).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sportello\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    timeout(Duration::from_secs(5), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn silent_and_idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let mut prepared = Prepared::new().await;
    prepared.config.http.idle_timeout_secs = 2;
    prepared.config.http.header_read_timeout_secs = 30;
    let server = prepared.start().await;
    let source = Ipv4Addr::new(127, 0, 0, 3);

    // A connection that never sends a byte.
    let mut silent = connect_from(source, server.addr).await;
    // A keep-alive connection after one answered request.
    let mut idle = connect_from(source, server.addr).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: sportello\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 4096];
    let read = timeout(Duration::from_secs(5), idle.read(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
    let opened = Instant::now();

    // Kept for a second (keep-alive works), closed within the idle timeout plus slack.
    assert!(
        !closed_within(&mut idle, Duration::from_secs(1)).await,
        "closed before its idle timeout"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(4)).await,
        "silent connection kept"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(4)).await,
        "idle keep-alive connection kept"
    );
    assert!(opened.elapsed() >= Duration::from_secs(1));
    server.stop().await;
}

#[tokio::test]
async fn a_full_server_makes_room_by_closing_the_longest_silent_connection() {
    let mut prepared = Prepared::new().await;
    prepared.config.http.max_connections = 20;
    prepared.config.http.max_connections_per_client = 20;
    prepared.config.http.header_read_timeout_secs = 30;
    let server = prepared.start().await;

    // Twenty clients, one half-open connection each, fill the server; the first is oldest.
    let mut held = Vec::new();
    for last in 10..30 {
        held.push(half_open(Ipv4Addr::new(127, 0, 1, last), server.addr).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // A new client is served: the connection silent longest made room for it.
    assert!(
        healthz_answers(&server).await,
        "a full server locked a new client out"
    );
    assert!(
        closed_within(&mut held[0], Duration::from_secs(1)).await,
        "the oldest silent connection was kept"
    );
    let mut closed = 1;
    for stream in &mut held[1..] {
        if closed_within(stream, Duration::from_millis(50)).await {
            closed += 1;
        }
    }
    assert!(
        closed <= 2,
        "{closed} connections closed to make room for one or two"
    );
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn a_server_full_of_busy_connections_refuses_new_ones() {
    let mut prepared = Prepared::new().await;
    prepared.config.http.max_connections = 5;
    prepared.config.http.header_read_timeout_secs = 30;
    let server = prepared.start().await;
    // Five connections that keep sending (slowly, but never silent for a second).
    let mut held = Vec::new();
    for last in 10..15 {
        held.push(half_open(Ipv4Addr::new(127, 0, 2, last), server.addr).await);
    }
    for _ in 0..3 {
        for stream in &mut held {
            stream.write_all(b"x").await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut extra = half_open(Ipv4Addr::new(127, 0, 2, 99), server.addr).await;
    assert!(
        closed_within(&mut extra, Duration::from_secs(2)).await,
        "a sixth connection was kept"
    );
    for stream in &mut held {
        stream.write_all(b"x").await.unwrap();
    }
    drop((held, extra));
    server.stop().await;
}

async fn verify_from(
    server: &TestServer,
    forwarded_for: Option<&str>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = client()
        .post(server.url("/v1/payments/verify"))
        .json(&json!({ "code": "301000000000000105" }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn notice_verification_is_rate_limited_per_client_with_retry_after() {
    let mut prepared = Prepared::new().await;
    prepared.config.rate_limits.enabled = true;
    prepared.config.rate_limits.verify = Quota {
        per_minute: 2,
        burst: 3,
    };
    let server = prepared.start().await;

    for _ in 0..3 {
        assert_ne!(verify_from(&server, None, None).await.status(), 429);
    }
    let refused = verify_from(&server, None, None).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
    let problem: api::Problem = refused.json().await.unwrap();
    assert_eq!((problem.code.as_str(), problem.status), ("rate-limited", 429));
    // Without a trusted proxy, a made-up X-Forwarded-For does not make a new client.
    assert_eq!(
        verify_from(&server, Some("203.0.113.50"), None).await.status(),
        429
    );
    // Other operations keep their own quota.
    assert_eq!(
        client()
            .get(server.url("/v1/catalog/search?q=dante"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_and_each_account_has_its_quota() {
    let mut prepared = Prepared::new().await;
    prepared.config.rate_limits.enabled = true;
    prepared.config.rate_limits.login = Quota {
        per_minute: 1000,
        burst: 100,
    };
    prepared.config.rate_limits.verify = Quota {
        per_minute: 1,
        burst: 2,
    };
    prepared.config.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let server = prepared.start().await;

    for _ in 0..2 {
        assert_ne!(
            verify_from(&server, Some("203.0.113.1"), None).await.status(),
            429
        );
    }
    assert_eq!(
        verify_from(&server, Some("203.0.113.1"), None).await.status(),
        429
    );
    // Another client behind the same proxy is not affected.
    assert_ne!(
        verify_from(&server, Some("203.0.113.2"), None).await.status(),
        429
    );
    // A citizen changing address keeps the quota of their account.
    let (token, _) = server.dev_login(common::CITIZEN, &[]).await;
    for address in ["198.51.100.1", "198.51.100.2"] {
        assert_ne!(
            verify_from(&server, Some(address), Some(&token)).await.status(),
            429
        );
    }
    assert_eq!(
        verify_from(&server, Some("198.51.100.3"), Some(&token))
            .await
            .status(),
        429
    );
    // A forged token counts as no account: only the address is limited.
    assert_ne!(
        verify_from(
            &server,
            Some("198.51.100.4"),
            Some("eyJhbGciOiJFZERTQSJ9.e30.AAAA")
        )
        .await
        .status(),
        429
    );
    server.stop().await;
}

#[tokio::test]
async fn cross_origin_access_only_for_configured_origins() {
    let preflight = |server: &TestServer, origin: &str| {
        client()
            .request(reqwest::Method::OPTIONS, server.url("/v1/catalog/search"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let server = TestServer::start().await;
    let response = preflight(&server, "https://app.example.it").await.unwrap();
    assert!(
        !response.headers().contains_key("access-control-allow-origin"),
        "CORS on by default"
    );
    server.stop().await;

    let mut prepared = Prepared::new().await;
    prepared.config.http.cors_allowed_origins = vec!["https://app.example.it".into()];
    let server = prepared.start().await;
    let response = preflight(&server, "https://app.example.it").await.unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.it"
    );
    let allowed_headers = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed_headers.contains("authorization"), "{allowed_headers}");
    let other = preflight(&server, "https://evil.example.com").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    // A simple request from the allowed origin can read Retry-After and the request id.
    let response = client()
        .get(server.url("/v1/municipalities"))
        .header("origin", "https://app.example.it")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.it"
    );
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("retry-after") && exposed.contains("x-request-id"),
        "{exposed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_bad_request_not_malformed_json() {
    let server = TestServer::start().await;
    let response = client()
        .get(server.url("/v1/municipalities/%FF%FE"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: api::Problem = response.json().await.unwrap();
    assert_eq!(problem.code, "bad-request");
    server.stop().await;
}
