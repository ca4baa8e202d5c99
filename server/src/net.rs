//! The server's connections, over HTTP or HTTPS, and the limits that keep slow, idle or
//! half-sent ones from taking it down:
//! - a deadline for the TLS handshake;
//! - a deadline for each request's head, which is also how long a kept-alive connection may
//!   sit idle before it is closed;
//! - a deadline for each request's whole body (not only between its pieces, so a body sent a
//!   byte at a time runs out too);
//! - a cap on open connections, below the open-file limit. At the cap the connection that has
//!   been open longest without a request under way is closed to make room, as busy web
//!   servers drop idle keep-alives; only when every one is working is a newcomer refused.
//!
//! Every answer also gets `X-Content-Type-Options: nosniff`, and over HTTPS
//! `Strict-Transport-Security`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;
use tower_service::Service;

/// The time and number limits on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub tls_handshake: Duration,
    /// For each request's head, and for the next one on a kept-alive connection.
    pub header_read: Duration,
    /// For each request's whole body, from the moment its head arrived.
    pub body_read: Duration,
    pub max_connections: usize,
    /// How long a stop waits for requests under way.
    pub drain: Duration,
}

/// Files the server keeps open beside its connections: three database connections with their
/// WAL and shared memory, a reader per report being made, a backup, the log.
pub const RESERVED_FILES: u64 = 64;

impl Limits {
    /// The defaults, with room for as many connections as `open_files` allows. A tablet on a
    /// poor Wi-Fi sends a 200-rating batch (about 100 KB) in a few seconds: the deadlines
    /// leave it ten times that.
    pub fn for_open_files(open_files: u64) -> Limits {
        let room = open_files.saturating_sub(RESERVED_FILES).clamp(16, 1 << 20);
        Limits {
            tls_handshake: Duration::from_secs(10),
            header_read: Duration::from_secs(20),
            body_read: Duration::from_secs(60),
            max_connections: usize::try_from(room).unwrap_or(1 << 20),
            drain: Duration::from_secs(30),
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit. Returns the soft limit
/// before and after, and the hard limit.
pub fn raise_open_files() -> std::io::Result<(u64, u64, u64)> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let before = limit.rlim_cur;
            // "Unlimited" is not a number of files the kernel takes: keep to a large one.
            let wanted = limit.rlim_max.min(1 << 20);
            if wanted > limit.rlim_cur {
                limit.rlim_cur = wanted;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok((before, limit.rlim_cur, limit.rlim_max))
        }
    }
    #[cfg(not(unix))]
    Ok((8192, 8192, 8192))
}

/// A request body that did not arrive within [`Limits::body_read`].
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// What a connection is doing, as far as making room goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Handshaking, or waiting for (or reading) a request's head: may be closed for room.
    Waiting = 0,
    /// Its request's body is still coming: may be closed for room.
    Receiving = 1,
    /// Working on a request or sending its answer: never closed for room.
    Working = 2,
}

struct Connection {
    phase: AtomicU8,
    /// Told when the connection is closed to make room.
    close: Notify,
}

impl Connection {
    fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    fn working(&self) -> bool {
        self.phase.load(Ordering::Relaxed) == Phase::Working as u8
    }
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    next: u64,
    by_age: BTreeMap<u64, Arc<Connection>>,
}

type Registry = Arc<Mutex<Open>>;

/// A connection's place among the open ones, given up when it ends.
struct Slot {
    id: u64,
    connection: Arc<Connection>,
    registry: Registry,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.registry).by_age.remove(&self.id);
    }
}

fn lock(registry: &Registry) -> std::sync::MutexGuard<'_, Open> {
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// A place for a new connection: at the cap, the oldest connection not working is closed to
/// make room; `None` if every one is working.
fn admit(registry: &Registry, max: usize) -> Option<Slot> {
    let mut open = lock(registry);
    if open.by_age.len() >= max {
        let oldest = open
            .by_age
            .iter()
            .find(|(_, c)| !c.working())
            .map(|(id, _)| *id)?;
        if let Some(closed) = open.by_age.remove(&oldest) {
            closed.close.notify_one();
        }
    }
    let id = open.next;
    open.next += 1;
    let connection = Arc::new(Connection {
        phase: AtomicU8::new(Phase::Waiting as u8),
        close: Notify::new(),
    });
    open.by_age.insert(id, connection.clone());
    Some(Slot {
        id,
        connection,
        registry: registry.clone(),
    })
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests under way
/// finish (at most [`Limits::drain`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Registry::default();
    let tasks = TaskTracker::new();
    let (stop, stopping) = watch::channel(false);
    let acceptor = tls.map(TlsAcceptor::from);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files, or the peer gave up before it was taken: the listener
                    // itself is fine. A short pause keeps the loop from spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = admit(&registry, limits.max_connections) else {
            tracing::warn!(
                %peer,
                max = limits.max_connections,
                "connection refused: every open connection is working"
            );
            continue;
        };
        let accepted = Accepted {
            peer,
            app: app.clone(),
            limits,
            slot,
            stopping: stopping.clone(),
        };
        tasks.spawn(accepted.serve(stream, acceptor.clone()));
    }
    drop(listener);
    let _ = stop.send(true);
    tasks.close();
    if tokio::time::timeout(limits.drain, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.drain.as_secs(),
            "requests still under way after the drain time are cut off"
        );
    }
}

/// An accepted connection, and what serving it needs.
struct Accepted {
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    slot: Slot,
    stopping: watch::Receiver<bool>,
}

impl Accepted {
    /// Serves the connection: HTTP, or HTTP inside TLS after a handshake within its deadline.
    async fn serve(self, stream: TcpStream, acceptor: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let Some(acceptor) = acceptor else {
            return self.http(TokioIo::new(stream), false).await;
        };
        let handshake = tokio::select! {
            done = tokio::time::timeout(self.limits.tls_handshake, acceptor.accept(stream)) => done,
            () = self.slot.connection.close.notified() => return,
        };
        match handshake {
            Ok(Ok(stream)) => self.http(TokioIo::new(stream), true).await,
            Ok(Err(e)) => tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    /// HTTP/1.1 on the connection, plain or inside TLS.
    async fn http<IO>(self, io: IO, https: bool)
    where
        IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Accepted {
            peer,
            app,
            limits,
            slot,
            mut stopping,
        } = self;
        let state = slot.connection.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut app = app.clone();
            let state = state.clone();
            async move {
                let response = app
                    .call(prepare(request, peer, limits.body_read, &state))
                    .await
                    .unwrap_or_else(|never| match never {});
                Ok::<_, Infallible>(finish(response, state, https))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read);
        let served = builder.serve_connection(io, service);
        let mut served = std::pin::pin!(served);
        tokio::select! {
            done = served.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
            }
            () = slot.connection.close.notified() => {
                tracing::debug!(%peer, "idle connection closed to make room");
            }
            stopped = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
                let _ = stopped;
                served.as_mut().graceful_shutdown();
                let _ = served.await;
            }
        }
    }
}

/// The request as the app sees it: who sent it, and its body under the deadline.
fn prepare(
    mut request: Request<Incoming>,
    peer: SocketAddr,
    body_read: Duration,
    state: &Arc<Connection>,
) -> Request<Body> {
    use http_body::Body as _;
    request.extensions_mut().insert(ConnectInfo(peer));
    state.set(if request.body().is_end_stream() {
        Phase::Working
    } else {
        Phase::Receiving
    });
    let deadline = Instant::now() + body_read;
    request.map(|body| {
        Body::new(Deadline {
            body,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            state: state.clone(),
        })
    })
}

/// The answer with this server's own headers, and the connection marked working until its
/// body has been sent (or dropped).
fn finish(
    mut response: axum::response::Response,
    state: Arc<Connection>,
    https: bool,
) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    state.set(Phase::Working);
    let answering = Answering(state);
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _kept_until_sent = &answering;
            frame
        }))
    })
}

/// Marks its connection waiting again when dropped: the answer is sent or abandoned.
struct Answering(Arc<Connection>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.set(Phase::Waiting);
    }
}

/// A request body that fails with [`BodyTimedOut`] once its deadline passes.
struct Deadline {
    body: Incoming,
    sleep: Pin<Box<Sleep>>,
    state: Arc<Connection>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(None) => {
                self.state.set(Phase::Working);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => Poll::Ready(Some(frame.map_err(Into::into))),
            Poll::Pending => match self.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn working(slot: &Slot) {
        slot.connection.set(Phase::Working);
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room_and_working_ones_never_do() {
        let registry = Registry::default();
        let first = admit(&registry, 3).unwrap();
        let second = admit(&registry, 3).unwrap();
        let third = admit(&registry, 3).unwrap();
        working(&first);
        working(&third);
        // The second is the oldest one not working: it is told to close.
        let fourth = admit(&registry, 3).unwrap();
        assert_eq!(lock(&registry).by_age.len(), 3);
        assert!(!lock(&registry).by_age.contains_key(&second.id));
        working(&fourth);
        assert!(
            admit(&registry, 3).is_none(),
            "all working: the newcomer is refused"
        );
        drop(first);
        assert!(
            admit(&registry, 3).is_some(),
            "a connection that ended frees its place"
        );
    }

    #[test]
    fn limits_leave_room_for_the_servers_own_files() {
        assert_eq!(
            Limits::for_open_files(1100).max_connections,
            1100 - RESERVED_FILES as usize
        );
        assert_eq!(Limits::for_open_files(20).max_connections, 16);
    }
}
