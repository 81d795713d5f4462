//! The TLS listener: HTTP/1.1 and HTTP/2 on every configured address, one task per connection,
//! each request answered by [`Service::handle`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::api::Service;

/// Request bodies larger than this are refused (a restore blob of a secret with many versions is
/// the largest legitimate body; values are limited to 25 KiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

async fn answer(
    service: Arc<Service>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let body = format!(
                "{{\"error\":{{\"code\":\"BadParameter\",\"message\":\"The request body is larger than {MAX_BODY_BYTES} bytes.\"}}}}"
            );
            let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
            *r.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json; charset=utf-8"),
            );
            return Ok(r);
        }
    };
    let req = http::Request::from_parts(parts, bytes);
    let resp = service.handle(&req);
    Ok(resp.map(Full::new))
}

/// Accepts connections on `listener` until `shutdown` turns true; then drops every connection.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    service: Arc<Service>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, _peer): (_, SocketAddr) = match accepted {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors or a reset before accept: back off briefly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        // Without TCP_NODELAY small responses wait for delayed ACKs (~40 ms per page).
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = service.clone();
        connections.spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                .await
            {
                Ok(Ok(tls)) => tls,
                _ => return,
            };
            let svc = service_fn(move |req| answer(service.clone(), req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), svc)
                .await;
        });
    }
    connections.shutdown().await;
}
