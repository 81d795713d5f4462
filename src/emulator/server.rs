//! The TLS listener: HTTP/1.1 and HTTP/2 on every configured address, one task per connection,
//! each request answered by [`Service::handle`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::api::{PeerAddr, Service};
use super::faults::Fault;

type Body = BoxBody<Bytes, std::io::Error>;

fn full(b: Bytes) -> Body {
    Full::new(b).map_err(|never| match never {}).boxed()
}

/// Half of the body, then an error: the connection is cut mid-response.
fn truncated(b: Bytes) -> Body {
    let half = b.slice(..b.len() / 2);
    let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
        Ok(Frame::data(half)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped by fault injection",
        )),
    ];
    StreamBody::new(futures::stream::iter(frames)).boxed()
}

/// Request bodies larger than this are refused (values are limited to 25 KiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A restore blob may be larger: a secret with the 500 versions a backup may hold, each 25 KiB.
pub const MAX_RESTORE_BYTES: usize = 32 * 1024 * 1024;

/// At most this many connections at once; past it a new one is closed at once.
pub const MAX_CONNECTIONS: usize = 256;

/// A client that has not sent a request's headers within this time is cut off.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

async fn answer(
    service: Arc<Service>,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    // An unauthenticated request costs no more than its headers: refused before its body is read.
    let mut head = http::Request::from_parts(parts.clone(), Bytes::new());
    head.extensions_mut().insert(PeerAddr(peer));
    if let Some(resp) = service.refuse_early(&head) {
        return Ok(resp.map(full));
    }
    let limit =
        if parts.method == http::Method::POST && parts.uri.path().ends_with("/secrets/restore") {
            MAX_RESTORE_BYTES
        } else {
            MAX_BODY_BYTES
        };
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let body = format!(
                "{{\"error\":{{\"code\":\"BadParameter\",\"message\":\"The request body is larger than {limit} bytes.\"}}}}"
            );
            let mut r = hyper::Response::new(full(Bytes::from(body)));
            *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json; charset=utf-8"),
            );
            return Ok(r);
        }
    };
    let mut req = http::Request::from_parts(parts, bytes);
    // The firewall judges the client's address.
    req.extensions_mut().insert(PeerAddr(peer));
    let (latency, fault) = service.fault_for(&req);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(resp) = service.fault_response(&req, fault) {
        return Ok(resp.map(full));
    }
    let resp = service.handle(&req);
    if fault == Fault::Drop {
        return Ok(resp.map(truncated));
    }
    Ok(resp.map(full))
}

/// Accepts connections on `listener` until `shutdown` turns true, handing each (TCP_NODELAY set)
/// to `handle` in a task of its own; then drops every connection.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    handle: F,
) where
    F: Fn(tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors or a reset before accept: back off briefly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        // A connection cap: past it, new connections are closed at once (the others keep working).
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        // Without TCP_NODELAY small responses wait for delayed ACKs (~40 ms per page).
        let _ = stream.set_nodelay(true);
        let served = handle(stream, peer);
        connections.spawn(async move {
            served.await;
            drop(slot);
        });
    }
    connections.shutdown().await;
}

/// Serves the vaults (and the login and management hosts) over TLS, HTTP/1.1 and HTTP/2.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    service: Arc<Service>,
    shutdown: watch::Receiver<bool>,
) {
    accept_loop(listener, shutdown, move |stream, peer| {
        let acceptor = acceptor.clone();
        let service = service.clone();
        async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls)) => tls,
                _ => return,
            };
            let svc = service_fn(move |req| answer(service.clone(), peer, req));
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            builder
                .http2()
                .timer(TokioTimer::new())
                .max_concurrent_streams(64)
                .keep_alive_interval(Some(Duration::from_secs(30)))
                .keep_alive_timeout(HEADER_TIMEOUT);
            let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
        }
    })
    .await
}
