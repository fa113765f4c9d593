//! The channel the pagoPA Node reaches `/pagopa/paForNode` through. Whoever can post a
//! `paSendRTV2` there marks a notice paid, so the endpoint is protected the way creditors protect
//! their stations (docs/payments.md, "The channel"):
//!
//! - mutual TLS on the channel's own listener: client certificates verified against a configured
//!   CA bundle, optionally with a pinned subject common name (`tls.rs`); a client without such a
//!   certificate cannot complete the handshake;
//! - source networks and a shared key header, checked by [`guard`] on whichever listener serves
//!   the route (the own one, or the main one behind an ingress that verifies the certificate).
//!
//! A refusal is logged, counted (`sportello_pagopa_channel_refusals_total`) and answered before
//! the body is read, so it never touches a stored position.

mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

pub use self::tls::server_config;
use super::soap;
use crate::AppState;
use crate::config::PagopaChannelConfig;

/// Connections open at once on the own listener; the Node keeps a few alive, so a flood of
/// handshakes waits in the kernel's backlog instead of taking the server's memory.
const MAX_CONNECTIONS: usize = 256;
/// Time a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send a request's headers (also between requests of a kept-alive
/// connection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time in-flight requests get to finish after shutdown is asked.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The checks of every request to the endpoint: the TCP peer's network and the shared key.
#[derive(Debug, Clone)]
pub struct Guard {
    networks: Vec<IpNet>,
    /// The header's name and the SHA-256 of the key: comparing digests takes the same time
    /// however much of a guess is right.
    key: Option<(String, [u8; 32])>,
}

/// Why the guard refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Source networks are configured but the listener did not say who the peer is.
    UnknownPeer,
    /// The peer is outside the source networks.
    Network(IpAddr),
    /// The shared key header is absent.
    MissingKey,
    /// The shared key header has another value.
    WrongKey,
}

impl Refusal {
    /// A label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownPeer => "unknown-peer",
            Refusal::Network(_) => "source-network",
            Refusal::MissingKey => "missing-key",
            Refusal::WrongKey => "wrong-key",
        }
    }
}

impl Guard {
    /// The guard of a configuration (already validated).
    pub fn new(config: &PagopaChannelConfig) -> Self {
        Self {
            networks: config.source_networks.clone(),
            key: config.shared_key.as_ref().map(|key| {
                (
                    config.shared_key_header.to_ascii_lowercase(),
                    Sha256::digest(key.expose().as_bytes()).into(),
                )
            }),
        }
    }

    /// Checks a request from `peer` (None: the listener did not tell) with `headers`.
    pub fn check(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Result<(), Refusal> {
        if !self.networks.is_empty() {
            let ip = peer.ok_or(Refusal::UnknownPeer)?.ip().to_canonical();
            if !self.networks.iter().any(|net| net.contains(&ip)) {
                return Err(Refusal::Network(ip));
            }
        }
        if let Some((name, digest)) = &self.key {
            let value = headers.get(name.as_str()).ok_or(Refusal::MissingKey)?;
            let presented: [u8; 32] = Sha256::digest(value.as_bytes()).into();
            if presented != *digest {
                return Err(Refusal::WrongKey);
            }
        }
        Ok(())
    }
}

/// Middleware: lets a request through the [`Guard`] or answers 403 with a SOAP Fault.
async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    match guard.check(peer, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            metrics::counter!("sportello_pagopa_channel_refusals_total", "reason" => refusal.as_str())
                .increment(1);
            tracing::warn!(peer = ?peer, reason = refusal.as_str(), "pagoPA channel: request refused");
            let mut response = (StatusCode::FORBIDDEN, soap::access_denied()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            response
        }
    }
}

/// The Node's route with its guard, for the main listener or the channel's own.
pub fn node_routes(config: &PagopaChannelConfig) -> Router<AppState> {
    Router::new()
        .route("/pagopa/paForNode", axum::routing::post(super::http::pa_for_node))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(Guard::new(config)),
            guard,
        ))
}

/// The channel's own listener, ready to serve: bound, with its TLS settings loaded.
pub struct Channel {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
}

impl Channel {
    /// Prepares the own listener when `pagopa.channel.listen` is set: `listener` if given (tests
    /// bind port 0 first), else bound to the configured address. Fails on unreadable
    /// certificates or keys, so a misconfigured channel stops the server before it serves.
    pub async fn prepare(state: &AppState, listener: Option<TcpListener>) -> anyhow::Result<Option<Self>> {
        let config = &state.config.pagopa.channel;
        let Some(address) = config.listen else {
            anyhow::ensure!(
                listener.is_none(),
                "a pagoPA channel listener was given but pagopa.channel.listen is not set"
            );
            return Ok(None);
        };
        let tls = server_config(config)?.map(TlsAcceptor::from);
        let listener = match listener {
            Some(listener) => listener,
            None => TcpListener::bind(address)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {address} (pagopa.channel.listen): {e}"))?,
        };
        let app = node_routes(config)
            .route_layer(middleware::from_fn(crate::http::ops::record_metrics))
            .with_state(state.clone());
        let app = crate::http::with_middleware(app, &state.config.http);
        Ok(Some(Self { listener, tls, app }))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` turns true or its sender is dropped, then lets in-flight requests
    /// finish (up to 30 s).
    pub async fn serve(self, mut stop: watch::Receiver<bool>) {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        if let Ok(address) = self.listener.local_addr() {
            tracing::info!("pagoPA channel listening on {scheme}://{address}/pagopa/paForNode");
        }
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let stopped = async {
                while !*stop.borrow_and_update() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
            };
            let accepted = tokio::select! {
                () = stopped => break,
                accepted = accept(&self.listener, &slots) => accepted,
            };
            let Some((tcp, peer, permit)) = accepted else {
                continue;
            };
            let (tls, app, builder, watcher) = (
                self.tls.clone(),
                self.app.clone(),
                builder.clone(),
                graceful.watcher(),
            );
            tokio::spawn(async move {
                let _permit = permit;
                let service = hyper::service::service_fn(move |mut request: Request<_>| {
                    // The source-network check reads the TCP peer, as on the main listener.
                    request.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().oneshot(request)
                });
                let Some(tls) = tls else {
                    let connection = builder.serve_connection(TokioIo::new(tcp), service).into_owned();
                    let _ = watcher.watch(connection).await;
                    return;
                };
                let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(error)) => {
                        refused_handshake(peer, &error.to_string());
                        return;
                    }
                    Err(_) => {
                        refused_handshake(peer, "handshake timed out");
                        return;
                    }
                };
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let _ = watcher.watch(connection).await;
            });
        }
        drop(self.listener);
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("pagoPA channel: requests still in flight after {DRAIN_TIMEOUT:?}, closed");
        }
    }
}

/// The next connection, with its slot; None after an accept error (logged, then a short pause
/// so a full file table does not spin the loop).
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit)> {
    let permit = Arc::clone(slots).acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((tcp, peer)) => Some((tcp, peer, permit)),
        Err(error) => {
            tracing::warn!(%error, "pagoPA channel: accept failed");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

fn refused_handshake(peer: SocketAddr, error: &str) {
    metrics::counter!("sportello_pagopa_channel_refusals_total", "reason" => "tls").increment(1);
    tracing::warn!(%peer, %error, "pagoPA channel: TLS handshake refused");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config(networks: &[&str], key: Option<&str>) -> PagopaChannelConfig {
        PagopaChannelConfig {
            source_networks: networks.iter().map(|n| n.parse().unwrap()).collect(),
            shared_key: key.map(Secret::new),
            shared_key_header: "X-Channel-Key".to_owned(),
            ..PagopaChannelConfig::default()
        }
    }

    fn headers(key: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            headers.insert("x-channel-key", HeaderValue::from_str(key).unwrap());
        }
        headers
    }

    #[test]
    fn the_guard_checks_networks_then_the_key() {
        let peer = |ip: &str| Some(SocketAddr::new(ip.parse().unwrap(), 40_000));
        let open = Guard::new(&config(&[], None));
        assert_eq!(open.check(None, &headers(None)), Ok(()));

        let networks = Guard::new(&config(&["10.1.0.0/16", "2001:db8::/32"], None));
        assert_eq!(networks.check(peer("10.1.2.3"), &headers(None)), Ok(()));
        assert_eq!(networks.check(peer("2001:db8::1"), &headers(None)), Ok(()));
        // An IPv4 peer seen through a dual-stack socket is the IPv4 address.
        assert_eq!(networks.check(peer("::ffff:10.1.2.3"), &headers(None)), Ok(()));
        assert_eq!(
            networks.check(peer("10.2.0.1"), &headers(None)),
            Err(Refusal::Network("10.2.0.1".parse().unwrap()))
        );
        // Without the peer's address the check cannot pass.
        assert_eq!(networks.check(None, &headers(None)), Err(Refusal::UnknownPeer));

        let key = Guard::new(&config(&[], Some("0123456789abcdef")));
        assert_eq!(key.check(None, &headers(Some("0123456789abcdef"))), Ok(()));
        assert_eq!(key.check(None, &headers(None)), Err(Refusal::MissingKey));
        assert_eq!(
            key.check(None, &headers(Some("0123456789abcdeF"))),
            Err(Refusal::WrongKey)
        );
        assert_eq!(key.check(None, &headers(Some(""))), Err(Refusal::WrongKey));

        let both = Guard::new(&config(&["127.0.0.0/8"], Some("0123456789abcdef")));
        assert_eq!(
            both.check(peer("127.0.0.1"), &headers(Some("0123456789abcdef"))),
            Ok(())
        );
        assert_eq!(
            both.check(peer("127.0.0.1"), &headers(None)),
            Err(Refusal::MissingKey)
        );
    }
}
