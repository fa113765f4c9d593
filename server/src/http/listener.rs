//! The server's accept loop: every connection counted, timed and closed when it stops moving.
//!
//! `axum::serve` keeps a connection for as long as the client holds it: a client that sends
//! half a request head and waits kept its socket forever, and about 20,000 of them exhausted
//! the process's file descriptors (the server stopped accepting; the search index could not
//! reopen its files). This loop adds what a server on the open internet needs:
//! - a cap per client address: a connection beyond it is closed at once;
//! - a cap on open connections, below the file-descriptor limit. When it is reached, the
//!   connection that has been silent longest (at least a second) is closed to make room, so
//!   clients that hold connections open and silent from many addresses cannot lock others out;
//!   when every connection is busy, the new one is closed at once;
//! - a deadline for the request head (hyper's `header_read_timeout`);
//! - an idle timeout: a connection on which no byte moves for `idle_timeout` is shut down
//!   gracefully (the request in hand, if any, is answered first), and dropped if it is still
//!   open a request timeout later.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use super::client::{TrustedProxies, limit_key};
use crate::config::HttpConfig;

/// File descriptors kept for everything but client connections: the database pool, the search
/// index's segment files, uploads, outgoing HTTP.
const RESERVED_FDS: u64 = 512;

/// A full server closes a connection to make room only if it has been silent this long: a
/// connection that just opened (or just moved) is not the one holding a slot for nothing.
const MIN_SILENCE_TO_EVICT: Duration = Duration::from_secs(1);

/// New connections waiting at once for an evicted connection's slot.
const MAX_EVICTIONS_IN_FLIGHT: usize = 256;

/// The limits the accept loop applies.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections per client address (IPv6: per /64) at most; trusted proxies are exempt.
    pub max_per_client: usize,
    /// Time to send a whole request head.
    pub header_read_timeout: Duration,
    /// Time without a byte in either direction before a connection is closed.
    pub idle_timeout: Duration,
    /// Time an in-flight request gets to finish once its connection is closing.
    pub drain_timeout: Duration,
    /// Proxies exempt from the per-client cap.
    pub trusted_proxies: TrustedProxies,
}

impl ConnectionLimits {
    /// The configured limits, with `max_connections` lowered (and a warning logged) when the
    /// process may not open that many files. The soft file limit is first raised to the hard one.
    pub fn from_config(http: &HttpConfig) -> Self {
        let mut max_connections = http.max_connections;
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(files) => {
                let room = usize::try_from(files.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
                if room < max_connections {
                    let lowered = room.max(16);
                    tracing::warn!(
                        configured = max_connections,
                        open_files_limit = files,
                        lowered,
                        "http.max_connections is more than the open-files limit leaves room for; \
                         raise `ulimit -n` (LimitNOFILE) to serve that many"
                    );
                    max_connections = lowered;
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the open-files limit"),
        }
        Self {
            max_connections,
            max_per_client: http.max_connections_per_client.min(max_connections),
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(http.idle_timeout_secs),
            drain_timeout: Duration::from_secs(http.request_timeout_secs),
            trusted_proxies: TrustedProxies::new(http.trusted_proxies.clone()),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops accepting,
/// lets every connection finish the request in hand (at most `drain_timeout`) and returns.
/// Each request carries `ConnectInfo<SocketAddr>` with the TCP peer.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_client = Arc::new(PerClient::default());
    let registry = Arc::new(Registry::default());
    let evicting = Arc::new(Semaphore::new(MAX_EVICTIONS_IN_FLIGHT));
    let builder = Arc::new(builder(&limits));
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    tracing::info!(
        max_connections = limits.max_connections,
        max_per_client = limits.max_per_client,
        "accepting connections"
    );
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        let slot = if limits.trusted_proxies.contains(peer.ip()) {
            None
        } else {
            let Some(slot) = PerClient::take(&per_client, limit_key(peer.ip()), limits.max_per_client) else {
                refuse(stream, "client_full");
                continue;
            };
            Some(slot)
        };
        let connection = Connection {
            stream,
            peer,
            app: app.clone(),
            builder: Arc::clone(&builder),
            limits: Arc::clone(&limits),
            stopping: stopping.clone(),
            registry: Arc::clone(&registry),
        };
        if let Ok(permit) = Arc::clone(&open).try_acquire_owned() {
            tokio::spawn(connection.run(permit, slot));
            continue;
        }
        // Full: make room by closing the connection silent longest, then wait briefly for its
        // permit. The waiters are few (one per eviction in flight) and bounded.
        let (Some(victim), Ok(waiter)) = (
            registry.longest_silent(MIN_SILENCE_TO_EVICT),
            Arc::clone(&evicting).try_acquire_owned(),
        ) else {
            refuse(connection.stream, "server_full");
            continue;
        };
        metrics::counter!("sportello_http_connections_evicted_total").increment(1);
        victim.evict.notify_one();
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            let permit = tokio::time::timeout(Duration::from_secs(1), open.acquire_owned()).await;
            drop(waiter);
            match permit {
                Ok(Ok(permit)) => connection.run(permit, slot).await,
                _ => refuse(connection.stream, "server_full"),
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it is gone: having them all back means drained.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let grace = limits.drain_timeout + Duration::from_secs(1);
    if tokio::time::timeout(grace, open.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
    Ok(())
}

fn builder(limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // Request heads are small; 64 KiB (hyper's maximum buffer is ~400 KiB) is plenty.
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100)
        .keep_alive_interval(Some(limits.idle_timeout / 2))
        .keep_alive_timeout(limits.header_read_timeout);
    builder
}

/// A connection refused by a cap: closed at once, counted.
fn refuse(stream: TcpStream, reason: &'static str) {
    metrics::counter!("sportello_http_connections_refused_total", "reason" => reason).increment(1);
    drop(stream);
}

/// An accept error: a connection the client reset before we took it costs nothing; anything else
/// (out of file descriptors above all) pauses accepting briefly instead of spinning on the error.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    metrics::counter!("sportello_http_accept_errors_total").increment(1);
    tracing::error!(%error, "accept failed; pausing for 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Open connections per client key.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// One connection of a client, given back on drop.
struct ClientSlot {
    clients: Arc<PerClient>,
    key: IpAddr,
}

impl PerClient {
    fn take(clients: &Arc<Self>, key: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = clients.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            clients: Arc::clone(clients),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// One accepted connection and what it needs to serve itself.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    builder: Arc<Builder<TokioExecutor>>,
    limits: Arc<ConnectionLimits>,
    stopping: watch::Receiver<bool>,
    registry: Arc<Registry>,
}

impl Connection {
    /// Serves the connection; `permit` and `slot` are its places under the caps, given back when
    /// it ends.
    async fn run(self, permit: OwnedSemaphorePermit, slot: Option<ClientSlot>) {
        let _ = self.stream.set_nodelay(true);
        let registry = Arc::clone(&self.registry);
        let (id, activity) = registry.add();
        metrics::gauge!("sportello_http_connections_open").increment(1);
        self.serve(&activity).await;
        metrics::gauge!("sportello_http_connections_open").decrement(1);
        registry.remove(id);
        drop((permit, slot));
    }

    async fn serve(mut self, activity: &Arc<Activity>) {
        let started = activity.started;
        let io = TokioIo::new(Watched {
            inner: self.stream,
            activity: Arc::clone(activity),
        });
        let peer = self.peer;
        let service = self
            .app
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = self
            .builder
            .serve_connection_with_upgrades(io, TowerToHyperService::new(service));
        tokio::pin!(connection);
        let idle = self.limits.idle_timeout;
        let watchdog = tokio::time::sleep(idle);
        tokio::pin!(watchdog);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                    return;
                }
                () = activity.evict.notified() => {
                    tracing::debug!(%peer, "closing the longest-silent connection to make room");
                    return;
                }
                changed = self.stopping.changed(), if !closing => {
                    // The server is shutting down (or its sender is gone, which means the same).
                    let _ = changed;
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                    watchdog.as_mut().reset(Instant::now() + self.limits.drain_timeout);
                }
                () = &mut watchdog => {
                    if closing {
                        // Graceful shutdown asked and not done in a whole request timeout.
                        tracing::debug!(%peer, "closing a connection that did not finish");
                        return;
                    }
                    let last = started + activity.silent_since();
                    if last.elapsed() >= idle {
                        metrics::counter!("sportello_http_connections_idle_closed_total").increment(1);
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                        watchdog.as_mut().reset(Instant::now() + self.limits.drain_timeout);
                    } else {
                        watchdog.as_mut().reset(last + idle);
                    }
                }
            }
        }
    }
}

/// What the accept loop knows of a live connection: when a byte last moved, and how to close it.
struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last byte read or written.
    last_ms: AtomicU64,
    evict: Notify,
    /// Chosen to make room already: not chosen twice.
    evicted: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(elapsed, Ordering::Relaxed);
    }

    /// Time from the start of the connection to its last byte.
    fn silent_since(&self) -> Duration {
        Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// The live connections, to find the one to close when the server is full.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Activity>>>,
}

impl Registry {
    fn add(&self) -> (u64, Arc<Activity>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            evict: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&activity));
        (id, activity)
    }

    fn remove(&self, id: u64) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Chooses the connection silent longest, if it has been silent at least `min`. A scan of
    /// every live connection (10,000 atomic loads, some microseconds), only when the server is
    /// full.
    fn longest_silent(&self, min: Duration) -> Option<Arc<Activity>> {
        let now = Instant::now();
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, chosen) = live
            .values()
            .filter(|activity| !activity.evicted.load(Ordering::Relaxed))
            .map(|activity| {
                let last = activity.started + activity.silent_since();
                (now.saturating_duration_since(last), activity)
            })
            .filter(|(silence, _)| *silence >= min)
            .max_by_key(|(silence, _)| *silence)?;
        chosen.evicted.store(true, Ordering::Relaxed);
        Some(Arc::clone(chosen))
    }
}

/// A stream that records when a byte last moved, for the idle timeout and eviction.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    fn touch(&self) {
        self.activity.touch();
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
