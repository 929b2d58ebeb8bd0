//! The HTTP/1.1 listener every endpoint uses: a cap on connections, a deadline for request
//! headers, keep-alive, and a graceful stop (no new connections; each open one finishes the
//! request it is serving, then closes).
//!
//! A request body a handler leaves unread (an error answered before the upload was looked
//! at: a bad signature, no such bucket) is read to its end here before the response goes
//! out, if it is small, so the connection can serve the client's next request; else the
//! response says `Connection: close`. Without this, hyper kept the connection open in the
//! response's headers, then closed it when the rest of the body had not arrived yet — and
//! the client's next request on it failed (found by `server/tests/python/test_s3_fuzz.py`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// A stop signal shared by listeners: `true` means stop.
pub type Stop = watch::Receiver<bool>;

/// Run a long pass of the engine's upkeep (lifecycle, scrub) on a blocking thread, handing it
/// a flag that a stop sets: `None` when the server is stopping (the pass has then ended, at
/// whatever point it checks the flag next), else what the pass returned.
pub async fn halting_pass<T: Send + 'static>(
    stop: &mut Stop,
    pass: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> Option<Result<T, tokio::task::JoinError>> {
    let halt = Arc::new(AtomicBool::new(false));
    let flag = halt.clone();
    let mut task = tokio::task::spawn_blocking(move || pass(&flag));
    tokio::select! {
        r = &mut task => Some(r),
        _ = stop.changed() => {
            halt.store(true, Ordering::Relaxed);
            let _ = task.await;
            None
        }
    }
}

/// Serve HTTP/1.1 on `listener` until `stop` turns true, at most `max_connections` at a time,
/// calling `handle(peer, request)` for each request. Returns when every connection has
/// closed (or `drain` has passed since the stop).
pub async fn serve<F, Fut, B>(
    listener: TcpListener,
    max_connections: usize,
    header_timeout: Duration,
    drain: Duration,
    mut stop: Stop,
    handle: F,
) where
    F: Fn(SocketAddr, Request<RequestBody>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let permits = Arc::new(Semaphore::new(max_connections));
    loop {
        // At the cap, stop accepting: further clients wait in the kernel's queue.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let h = handle.clone();
                async move {
                    let (req, left) = RequestBody::wrap(req);
                    let mut response = h(peer, req).await;
                    left.settle(&mut response).await;
                    Ok::<_, Infallible>(response)
                }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = conn_stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    // Wait for open connections to finish their requests.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(drain, permits.acquire_many(all)).await;
}

/// Most bytes of a request body left unread that are read here before the response, to keep
/// the connection (S3's error answers to small uploads; larger ones close it).
const DRAIN_MAX: usize = 256 * 1024;

/// How long the rest of such a body may take to arrive.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// A request's body as the handlers get it: hyper's, with a record of whether it was read to
/// its end, and what is left of it if it was dropped before.
pub struct RequestBody {
    inner: Option<Incoming>,
    left: Arc<Leftover>,
}

/// What the listener learns of a request's body once the handler is done with it.
pub struct Leftover {
    /// Read to its end (or empty from the start).
    done: AtomicBool,
    /// Polled at least once: hyper has sent `100 Continue`, if the client asked for it.
    polled: AtomicBool,
    /// The client sent `Expect: 100-continue`: it sends the body only once asked.
    expects_continue: bool,
    /// The body, if the handler dropped it before its end.
    rest: Mutex<Option<Incoming>>,
}

impl RequestBody {
    /// The request with its body wrapped, and the record the listener keeps.
    fn wrap(req: Request<Incoming>) -> (Request<RequestBody>, Arc<Leftover>) {
        let (parts, body) = req.into_parts();
        let expects_continue = parts
            .headers
            .get(hyper::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let left = Arc::new(Leftover {
            done: AtomicBool::new(body.is_end_stream()),
            polled: AtomicBool::new(false),
            expects_continue,
            rest: Mutex::new(None),
        });
        let body = RequestBody {
            inner: Some(body),
            left: left.clone(),
        };
        (Request::from_parts(parts, body), left)
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        this.left.polled.store(true, Ordering::Relaxed);
        let frame = std::task::ready!(Pin::new(&mut *inner).poll_frame(cx));
        // An error ends the body too: the connection is broken, nothing is left to read.
        if frame.is_none() || frame.as_ref().is_some_and(Result::is_err) || inner.is_end_stream() {
            this.left.done.store(true, Ordering::Relaxed);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if !self.left.done.load(Ordering::Relaxed) {
                let mut rest = self.left.rest.lock().unwrap_or_else(|e| e.into_inner());
                *rest = Some(inner);
            }
        }
    }
}

impl Leftover {
    /// Before `response` goes out: read what the handler left of a small body, or tell the
    /// client the connection closes after this response.
    async fn settle<B>(&self, response: &mut Response<B>) {
        use http_body_util::BodyExt;
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let rest = self.rest.lock().unwrap_or_else(|e| e.into_inner()).take();
        // A body never polled whose client waits for `100 Continue` is not asked for: the
        // client, answered, will not send it.
        let waits_for_continue = self.expects_continue && !self.polled.load(Ordering::Relaxed);
        if let Some(body) = rest {
            let small = body
                .size_hint()
                .upper()
                .is_some_and(|n| usize::try_from(n).is_ok_and(|n| n <= DRAIN_MAX));
            if small && !waits_for_continue {
                let drained = http_body_util::Limited::new(body, DRAIN_MAX).collect();
                if let Ok(Ok(_)) = tokio::time::timeout(DRAIN_WAIT, drained).await {
                    return;
                }
            }
        }
        // Still held by the handler (a stream it goes on reading), too large, or a client
        // waiting to be told to send it.
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
}
