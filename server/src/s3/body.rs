//! Bodies between the async HTTP side and the synchronous engine, streamed both ways with
//! back-pressure and bounded memory.
//!
//! - PUT: [`BodyReader`] is the engine's `Read`. Each `read` pulls the next chunk of the
//!   request body (which s3s has already de-chunked and signature-checked, for aws-chunked
//!   uploads) by blocking this worker thread on the async stream — so the client is read only
//!   as fast as the store writes. It refuses a body shorter or longer than declared
//!   (IncompleteBody), a client that stalls (RequestTimeout), and once the last byte is in, it
//!   reads the aws-chunked trailer and hands the checksum it carries to the engine, which checks
//!   it before anything is committed.
//! - GET: [`ChunkSender`] is the engine's [`ChunkSink`]: the engine hands over each verified
//!   shard buffer, which becomes one `Bytes` chunk (the same memory, not a copy) on a bounded
//!   channel that the response body ([`ChunkStream`]) drains. A full channel blocks the engine
//!   thread (back-pressure); a client that stops reading for longer than the stall timeout
//!   ends the response. A small body skips the channel: [`Collected`] gathers its chunks and
//!   the response carries them whole.

use std::io::{self, Read};
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use s3s::dto::StreamingBlob;
use s3s::{S3Error, TrailingHeaders};
use seedbed_engine::object::ChunkSink;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::errors::s3_error;

/// Why a body could not be read: the S3 error to answer with instead of the engine's.
#[derive(Clone, Debug, Default)]
pub struct BodyFailure(Arc<Mutex<Option<(String, u16, String)>>>);

impl BodyFailure {
    fn set(&self, code: &str, status: u16, message: String) {
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some((code.to_string(), status, message));
        }
    }

    /// The error, if the body failed.
    pub fn take(&self) -> Option<S3Error> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|(c, s, m)| s3_error(&c, s, m))
    }
}

/// A checksum trailer the engine waits for: the trailer's name and the slot for its value.
pub type TrailerSlot = (String, Arc<OnceLock<String>>);

/// The request body as a blocking `Read` of exactly `declared` bytes.
pub struct BodyReader {
    stream: Option<StreamingBlob>,
    handle: Handle,
    buf: Bytes,
    declared: u64,
    remaining: u64,
    idle: Duration,
    trailers: Option<TrailingHeaders>,
    slot: Option<TrailerSlot>,
    failure: BodyFailure,
    counted: Arc<AtomicU64>,
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyReader")
            .field("declared", &self.declared)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl BodyReader {
    /// Read `declared` bytes of `stream` on a blocking thread of the runtime behind `handle`;
    /// wait at most `idle` for each chunk. `counted` adds up the bytes read (for metrics).
    pub fn new(
        stream: Option<StreamingBlob>,
        declared: u64,
        handle: Handle,
        idle: Duration,
        trailers: Option<TrailingHeaders>,
        slot: Option<TrailerSlot>,
        counted: Arc<AtomicU64>,
    ) -> (BodyReader, BodyFailure) {
        let failure = BodyFailure::default();
        (
            BodyReader {
                stream,
                handle,
                buf: Bytes::new(),
                declared,
                remaining: declared,
                idle,
                trailers,
                slot,
                failure: failure.clone(),
                counted,
            },
            failure,
        )
    }

    fn fail(&self, code: &str, status: u16, message: String) -> io::Error {
        self.failure.set(code, status, message.clone());
        io::Error::other(message)
    }

    /// The next chunk, or `None` at the end of the body.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(None);
        };
        let idle = self.idle;
        match self
            .handle
            .block_on(async { tokio::time::timeout(idle, stream.next()).await })
        {
            Ok(Some(Ok(b))) => Ok(Some(b)),
            Ok(Some(Err(e))) => {
                let (code, status, msg) = match e.downcast_ref::<S3Error>() {
                    Some(s) => (
                        s.code().as_str().to_string(),
                        s.status_code().map_or(400, |c| c.as_u16()),
                        s.message()
                            .unwrap_or("the request body is malformed")
                            .to_string(),
                    ),
                    None => (
                        "IncompleteBody".to_string(),
                        400,
                        format!("reading the request body failed: {e}"),
                    ),
                };
                Err(self.fail(&code, status, msg))
            }
            Ok(None) => {
                self.stream = None;
                Ok(None)
            }
            Err(_) => Err(self.fail(
                "RequestTimeout",
                400,
                format!(
                    "no body bytes arrived for {} s; {} of {} bytes were received",
                    idle.as_secs(),
                    self.declared - self.remaining,
                    self.declared
                ),
            )),
        }
    }

    /// After the last declared byte: the body must end there; then its trailer, if one was
    /// announced, fills the engine's slot.
    fn finish(&mut self) -> io::Result<()> {
        while let Some(extra) = self.next_chunk()? {
            if !extra.is_empty() {
                return Err(self.fail(
                    "IncompleteBody",
                    400,
                    format!(
                        "the request body is longer than the {} bytes declared",
                        self.declared
                    ),
                ));
            }
        }
        if let (Some(t), Some((name, slot))) = (&self.trailers, &self.slot) {
            let value = t.read(|h| {
                h.get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(String::from)
            });
            if let Some(Some(v)) = value {
                let _ = slot.set(v);
            }
        }
        Ok(())
    }
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.buf.is_empty() {
            if self.remaining == 0 {
                return Ok(0);
            }
            match self.next_chunk()? {
                Some(b) => self.buf = b,
                None => {
                    return Err(self.fail(
                        "IncompleteBody",
                        400,
                        format!(
                            "the request body ended after {} bytes; {} were declared",
                            self.declared - self.remaining,
                            self.declared
                        ),
                    ))
                }
            }
        }
        if self.buf.len() as u64 > self.remaining {
            return Err(self.fail(
                "IncompleteBody",
                400,
                format!(
                    "the request body is longer than the {} bytes declared",
                    self.declared
                ),
            ));
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        self.remaining -= n as u64;
        self.counted.fetch_add(n as u64, Ordering::Relaxed);
        if self.remaining == 0 && self.buf.is_empty() {
            self.finish()?;
        }
        Ok(n)
    }
}

/// Chunks of a response body, produced on a blocking thread.
pub type Chunk = Result<Bytes, io::Error>;

/// The engine's [`ChunkSink`] end of a response body.
#[derive(Debug)]
pub struct ChunkSender {
    tx: mpsc::Sender<Chunk>,
    handle: Handle,
    stall: Duration,
    sent: Arc<AtomicU64>,
}

/// A bounded channel for a response body: the writer for the engine, the stream for hyper.
pub fn response_channel(
    handle: Handle,
    stall: Duration,
    chunks: usize,
    sent: Arc<AtomicU64>,
) -> (ChunkSender, ChunkStream) {
    let (tx, rx) = mpsc::channel(chunks);
    (
        ChunkSender {
            tx,
            handle,
            stall,
            sent,
        },
        ChunkStream { rx },
    )
}

impl ChunkSender {
    fn send(&self, chunk: Chunk) -> io::Result<()> {
        let stall = self.stall;
        let tx = self.tx.clone();
        match self
            .handle
            .block_on(async move { tokio::time::timeout(stall, tx.send(chunk)).await })
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} s", stall.as_secs()),
            )),
        }
    }

    /// End the body with an error (the client sees the connection cut, not a short object
    /// presented as whole).
    pub fn abort(&self, why: String) {
        let _ = self.send(Err(io::Error::other(why)));
    }
}

/// The engine's shard buffer as a chunk of the body: `Bytes` takes over the `Vec`'s memory
/// (no copy) and the slice keeps only the wanted bytes in view.
fn owned_chunk(buf: Vec<u8>, range: Range<usize>) -> Bytes {
    Bytes::from(buf).slice(range)
}

impl ChunkSink for ChunkSender {
    fn chunk(&mut self, buf: Vec<u8>, range: Range<usize>) -> io::Result<Option<Vec<u8>>> {
        if range.is_empty() {
            return Ok(Some(buf));
        }
        let n = range.len() as u64;
        self.send(Ok(owned_chunk(buf, range)))?;
        self.sent.fetch_add(n, Ordering::Relaxed);
        Ok(None)
    }
}

/// A small body read whole before the response starts: the engine's buffers, kept as they
/// come (no copy), sent with the headers.
#[derive(Debug, Default)]
pub struct Collected {
    /// The chunks, in order.
    pub chunks: Vec<Bytes>,
    /// Their total length.
    pub len: u64,
}

/// Bodies up to this size go out as one buffer (a small copy is cheaper than a frame per
/// shard); larger ones as the engine's chunks.
const JOIN_MAX: u64 = 64 * 1024;

impl Collected {
    /// The response body: one chunk as it is, a few small ones joined into one buffer, more
    /// as a ready stream of the engine's chunks.
    pub fn into_blob(mut self) -> StreamingBlob {
        if self.chunks.len() <= 1 || self.len <= JOIN_MAX {
            let bytes = match self.chunks.len() {
                0 => Bytes::new(),
                1 => self.chunks.pop().expect("one chunk"),
                _ => {
                    let mut all = bytes::BytesMut::with_capacity(
                        usize::try_from(self.len).expect("at most JOIN_MAX bytes are joined"),
                    );
                    for c in &self.chunks {
                        all.extend_from_slice(c);
                    }
                    all.freeze()
                }
            };
            return StreamingBlob::from(s3s::Body::from(bytes));
        }
        StreamingBlob::wrap(futures_util::stream::iter(
            self.chunks.into_iter().map(Ok::<Bytes, io::Error>),
        ))
    }
}

impl ChunkSink for Collected {
    fn chunk(&mut self, buf: Vec<u8>, range: Range<usize>) -> io::Result<Option<Vec<u8>>> {
        if range.is_empty() {
            return Ok(Some(buf));
        }
        self.len += range.len() as u64;
        self.chunks.push(owned_chunk(buf, range));
        Ok(None)
    }
}

/// The response body side of [`response_channel`].
#[derive(Debug)]
pub struct ChunkStream {
    rx: mpsc::Receiver<Chunk>,
}

impl futures_util::Stream for ChunkStream {
    type Item = Chunk;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.rx.poll_recv(cx)
    }
}
