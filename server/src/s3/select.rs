//! SelectObjectContent (S3 Select): the request's serializations into the engine's
//! [`SelectRequest`], the object read as the caller (`s3:GetObject`, S3's 404s and 403s) a
//! stripe at a time, the query run on a blocking thread, and the result as S3's event stream,
//! sent as it is produced — `Records` events (one per chunk the engine cut), `Progress` (if
//! asked for) or `Cont` about every second while a long scan has nothing else to send (so no
//! client's read timeout fires), then `Stats` and `End`.
//!
//! `ScanRange` takes the records that start in it (uncompressed objects only), reading from
//! the record boundary before it over CSV and JSON lines (a document from its start). The query is
//! parsed before the object is read, so a bad expression costs no I/O. An error before the
//! first event (the object, the compression, the first records) is an ordinary S3 error
//! response with S3 Select's code (`ParseUnexpectedToken`, `InvalidCompressionFormat`, …); one
//! after it ends the stream with an error event, as S3 does.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};
use seedbed_engine::object::select::{
    Compression, Counts, CsvInput, CsvOutput, FileHeader, InputFormat, OutputFormat, QuoteFields,
    Select, SelectError, SelectRequest, SelectSink,
};
use seedbed_engine::object::{GetOptions, ObjectError};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use super::endpoint::{with_requester, Endpoint};
use super::errors::{internal, s3_error};

fn refuse(code: &str, message: impl Into<String>) -> S3Error {
    s3_error(code, 400, message)
}

fn select_error(e: &SelectError) -> S3Error {
    refuse(e.code, e.message.clone())
}

/// One byte of a delimiter or quote option (`what` names it in the error).
fn one_byte(v: Option<&String>, default: u8, what: &str) -> S3Result<u8> {
    match v.map(String::as_bytes) {
        None | Some([]) => Ok(default),
        Some([b]) => Ok(*b),
        Some(_) => Err(refuse(
            "InvalidRequest",
            format!("{what} must be one character (Seedbed reads one-byte delimiters)"),
        )),
    }
}

fn one_char(v: Option<&String>, default: char, what: &str) -> S3Result<char> {
    match v.map(|s| s.chars().collect::<Vec<_>>()).as_deref() {
        None | Some([]) => Ok(default),
        Some([c]) => Ok(*c),
        Some(_) => Err(refuse(
            "InvalidRequest",
            format!("{what} must be one character"),
        )),
    }
}

/// The request in the engine's terms, or S3's error for what it cannot run.
fn request(r: &SelectObjectContentRequest) -> S3Result<SelectRequest> {
    if r.expression_type.as_str() != "SQL" {
        return Err(refuse(
            "InvalidExpressionType",
            format!("ExpressionType {} is not SQL", r.expression_type.as_str()),
        ));
    }
    let is = &r.input_serialization;
    let compression = match is.compression_type.as_ref().map(|c| c.as_str()) {
        None | Some("NONE") => Compression::None,
        Some("GZIP") => Compression::Gzip,
        Some("BZIP2") => Compression::Bzip2,
        Some(other) => {
            return Err(refuse(
                "InvalidCompressionFormat",
                format!("CompressionType {other}: NONE, GZIP or BZIP2"),
            ))
        }
    };
    let input = match (&is.csv, &is.json, &is.parquet) {
        (Some(c), None, None) => {
            let quote = one_byte(c.quote_character.as_ref(), b'"', "QuoteCharacter")?;
            // An escape character that is the quote itself means the doubled quote.
            let escape = c
                .quote_escape_character
                .as_ref()
                .map(|e| one_byte(Some(e), quote, "QuoteEscapeCharacter"))
                .transpose()?
                .filter(|e| *e != quote);
            InputFormat::Csv(CsvInput {
                header: match c.file_header_info.as_ref().map(|h| h.as_str()) {
                    None | Some("NONE") => FileHeader::None,
                    Some("USE") => FileHeader::Use,
                    Some("IGNORE") => FileHeader::Ignore,
                    Some(other) => {
                        return Err(refuse(
                            "InvalidFileHeaderInfo",
                            format!("FileHeaderInfo {other}: NONE, USE or IGNORE"),
                        ))
                    }
                },
                field: one_byte(c.field_delimiter.as_ref(), b',', "FieldDelimiter")?,
                record: one_byte(c.record_delimiter.as_ref(), b'\n', "RecordDelimiter")?,
                quote,
                escape,
                comment: c
                    .comments
                    .as_ref()
                    .map(|e| one_byte(Some(e), b'#', "Comments"))
                    .transpose()?,
            })
        }
        (None, Some(j), None) => match j.type_.as_ref().map(|t| t.as_str()) {
            None | Some("DOCUMENT") => InputFormat::Json,
            Some("LINES") => InputFormat::JsonLines,
            Some(other) => {
                return Err(refuse(
                    "InvalidJsonType",
                    format!("JSON Type {other}: DOCUMENT or LINES"),
                ))
            }
        },
        (None, None, Some(_)) => {
            return Err(refuse(
                "UnsupportedSerialization",
                "Parquet input is not supported by Seedbed's S3 Select: CSV or JSON",
            ))
        }
        _ => {
            return Err(refuse(
                "InvalidRequest",
                "InputSerialization names exactly one of CSV, JSON, Parquet",
            ))
        }
    };
    let os = &r.output_serialization;
    let output = match (&os.csv, &os.json) {
        (Some(c), None) => OutputFormat::Csv(CsvOutput {
            field: c
                .field_delimiter
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or(",".into()),
            record: c
                .record_delimiter
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or("\n".into()),
            quote: one_char(c.quote_character.as_ref(), '"', "QuoteCharacter")?,
            escape: one_char(
                c.quote_escape_character.as_ref(),
                '"',
                "QuoteEscapeCharacter",
            )?,
            quote_fields: match c.quote_fields.as_ref().map(|q| q.as_str()) {
                None | Some("ASNEEDED") => QuoteFields::AsNeeded,
                Some("ALWAYS") => QuoteFields::Always,
                Some(other) => {
                    return Err(refuse(
                        "InvalidQuoteFields",
                        format!("QuoteFields {other}: ALWAYS or ASNEEDED"),
                    ))
                }
            },
        }),
        (None, Some(j)) => OutputFormat::Json {
            record: j
                .record_delimiter
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or("\n".into()),
        },
        _ => {
            return Err(refuse(
                "InvalidRequest",
                "OutputSerialization names exactly one of CSV, JSON",
            ))
        }
    };
    let scan_range = r.scan_range.as_ref().map(|s| {
        let at = |v: Option<i64>| v.map(|n| u64::try_from(n).unwrap_or(0));
        (at(s.start), at(s.end))
    });
    Ok(SelectRequest {
        expression: r.expression.clone(),
        input,
        compression,
        output,
        scan_range,
    })
}

/// Events in flight between the query and the connection: 16 × 64 KiB of records at most.
const EVENTS_IN_FLIGHT: usize = 16;

/// How long a scan may send nothing before a `Progress` or `Cont` event goes out.
const KEEP_ALIVE: Duration = Duration::from_secs(1);

type Event = S3Result<SelectObjectContentEvent>;

/// Why a query ended before its first event: answered as an ordinary error response.
enum Early {
    Object(ObjectError),
    Select(SelectError),
}

fn stats(c: &Counts) -> (Option<i64>, Option<i64>, Option<i64>) {
    let count = |n: u64| Some(i64::try_from(n).unwrap_or(i64::MAX));
    (count(c.scanned), count(c.processed), count(c.returned))
}

fn progress_event(c: &Counts) -> SelectObjectContentEvent {
    let (bytes_scanned, bytes_processed, bytes_returned) = stats(c);
    SelectObjectContentEvent::Progress(ProgressEvent {
        details: Some(Progress {
            bytes_scanned,
            bytes_processed,
            bytes_returned,
        }),
    })
}

/// The query's end of the event stream, on the blocking thread: the first event also answers
/// the request (200 and the stream), so that until then an error is an error response.
struct Events {
    head: Option<oneshot::Sender<Result<(), Early>>>,
    tx: mpsc::Sender<Event>,
    handle: Handle,
    stall: Duration,
    progress: bool,
    last: Instant,
}

impl Events {
    fn send(&mut self, ev: Event) -> Result<(), SelectError> {
        let gone = || SelectError {
            code: "ClientGone",
            message: "the client closed the connection".into(),
        };
        if let Some(head) = self.head.take() {
            head.send(Ok(())).map_err(|_| gone())?;
        }
        let (tx, stall) = (self.tx.clone(), self.stall);
        match self
            .handle
            .block_on(async move { tokio::time::timeout(stall, tx.send(ev)).await })
        {
            Ok(Ok(())) => {
                self.last = Instant::now();
                Ok(())
            }
            Ok(Err(_)) => Err(gone()),
            Err(_) => Err(SelectError {
                code: "ClientGone",
                message: format!("the client read nothing for {} s", stall.as_secs()),
            }),
        }
    }

    /// The end: `Progress` if asked for, `Stats`, `End`.
    fn finish(mut self, c: &Counts) {
        let (bytes_scanned, bytes_processed, bytes_returned) = stats(c);
        let mut last = Vec::with_capacity(3);
        if self.progress {
            last.push(progress_event(c));
        }
        last.push(SelectObjectContentEvent::Stats(StatsEvent {
            details: Some(Stats {
                bytes_scanned,
                bytes_processed,
                bytes_returned,
            }),
        }));
        last.push(SelectObjectContentEvent::End(EndEvent {}));
        for ev in last {
            if self.send(Ok(ev)).is_err() {
                return;
            }
        }
    }

    /// The query failed: an error response if nothing was sent yet, else an error event.
    fn fail(mut self, e: SelectError) {
        match self.head.take() {
            Some(head) => {
                let _ = head.send(Err(Early::Select(e)));
            }
            None => {
                let _ = self.send(Err(select_error(&e)));
            }
        }
    }
}

impl SelectSink for Events {
    fn records(&mut self, chunk: Vec<u8>) -> Result<(), SelectError> {
        self.send(Ok(SelectObjectContentEvent::Records(RecordsEvent {
            payload: Some(Bytes::from(chunk)),
        })))
    }

    fn progress(&mut self, so_far: &Counts) -> Result<(), SelectError> {
        if self.last.elapsed() < KEEP_ALIVE {
            return Ok(());
        }
        let ev = if self.progress {
            progress_event(so_far)
        } else {
            SelectObjectContentEvent::Cont(ContinuationEvent {})
        };
        self.send(Ok(ev))
    }
}

/// The connection's end of the event stream.
struct EventStream(mpsc::Receiver<Event>);

impl futures_util::Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.0.poll_recv(cx)
    }
}

impl Endpoint {
    /// SelectObjectContent.
    pub(super) async fn select_object_content(
        &self,
        req: S3Request<SelectObjectContentInput>,
    ) -> S3Result<S3Response<SelectObjectContentOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let select = request(&input.request)
            .and_then(|r| Select::new(r).map_err(|e| select_error(&e)))
            .map_err(|e| cx.err(e))?;
        let progress = input
            .request
            .request_progress
            .as_ref()
            .and_then(|p| p.enabled)
            .unwrap_or(false);
        let read = GetOptions {
            sse_customer: super::sse::sse_key!(input).map_err(|e| cx.object_err(&e))?,
            ..GetOptions::default()
        };
        let (bucket, key) = (input.bucket, input.key);
        let (head_tx, head_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(EVENTS_IN_FLIGHT);
        let mut events = Events {
            head: Some(head_tx),
            tx,
            handle: self.handle.clone(),
            stall: self.limits.response_stall,
            progress,
            last: Instant::now(),
        };
        let keys = cx.context(Vec::new());
        let (store, guard, principal) = (
            cx.store.clone(),
            cx.guard.clone(),
            cx.caller.principal.clone(),
        );
        tokio::task::spawn_blocking(move || {
            with_requester(&principal, &keys, |r| {
                let s = guard.on(&store, r);
                let reader = match s.open_object(&bucket, &key, &read) {
                    Ok(reader) => reader,
                    Err(e) => {
                        if let Some(head) = events.head.take() {
                            let _ = head.send(Err(Early::Object(e)));
                        }
                        return;
                    }
                };
                let len = reader.info().size;
                match select.run_stream(&mut reader.chunks(), len, &mut events) {
                    Ok(counts) => events.finish(&counts),
                    Err(e) if e.code == "ClientGone" => {}
                    Err(e) => {
                        // The data or the query is the client's to fix; a store failure is ours.
                        if e.code == "InternalError" {
                            tracing::warn!(bucket = %bucket, key = %key, error = %e, "S3 Select ended early");
                        }
                        events.fail(e)
                    }
                }
            })
        });
        match head_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(Early::Object(e))) => return Err(cx.object_err(&e)),
            Ok(Err(Early::Select(e))) => return Err(cx.err(select_error(&e))),
            Err(_) => return Err(cx.err(internal("the query ended without an answer"))),
        }
        Ok(S3Response::new(SelectObjectContentOutput {
            payload: Some(SelectObjectContentEventStream::new(EventStream(rx))),
        }))
    }
}
