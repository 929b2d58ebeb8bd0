//! SelectObjectContent (S3 Select): the request's serializations into the engine's
//! [`SelectRequest`], the object read as the caller (`s3:GetObject`, S3's 404s and 403s), the
//! query run on a blocking thread, and the result as S3's event stream — `Records` events (one
//! per chunk the engine cut), `Progress` if asked for, `Stats`, `End`.
//!
//! `ScanRange` takes the records that start in it (uncompressed objects only). The query is
//! parsed before the object is read, so a bad expression costs no I/O. Every
//! error comes before the stream starts, as an ordinary S3 error response with S3 Select's code
//! (`ParseUnexpectedToken`, `InvalidCompressionFormat`, …).

use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};
use seedbed_engine::object::select::{
    too_large, Compression, CsvInput, CsvOutput, FileHeader, InputFormat, OutputFormat,
    QuoteFields, Select, SelectError, SelectOutput, SelectRequest, MAX_INPUT_BYTES,
};
use seedbed_engine::object::GetOptions;

use super::endpoint::Endpoint;
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
            None | Some("DOCUMENT") | Some("LINES") => InputFormat::Json,
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

/// The result as S3's event stream.
fn events(out: SelectOutput, progress: bool) -> SelectObjectContentEventStream {
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (scanned, processed, returned) = (
        count(out.scanned),
        count(out.processed),
        count(out.returned),
    );
    let mut events: Vec<S3Result<SelectObjectContentEvent>> = out
        .chunks
        .into_iter()
        .map(|c| {
            Ok(SelectObjectContentEvent::Records(RecordsEvent {
                payload: Some(Bytes::from(c)),
            }))
        })
        .collect();
    if progress {
        events.push(Ok(SelectObjectContentEvent::Progress(ProgressEvent {
            details: Some(Progress {
                bytes_scanned: Some(scanned),
                bytes_processed: Some(processed),
                bytes_returned: Some(returned),
            }),
        })));
    }
    events.push(Ok(SelectObjectContentEvent::Stats(StatsEvent {
        details: Some(Stats {
            bytes_scanned: Some(scanned),
            bytes_processed: Some(processed),
            bytes_returned: Some(returned),
        }),
    })));
    events.push(Ok(SelectObjectContentEvent::End(EndEvent {})));
    SelectObjectContentEventStream::new(futures_util::stream::iter(events))
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
        let (bucket, key) = (input.bucket, input.key);
        let object = cx
            .run(Vec::new(), move |s| {
                let r = s.open_object(&bucket, &key, &GetOptions::default())?;
                if r.info().size > MAX_INPUT_BYTES {
                    return Ok(Err(too_large("object")));
                }
                let mut bytes = Vec::new();
                r.read_to(&mut bytes)?;
                Ok(Ok(bytes))
            })
            .await?
            .map_err(|e| cx.err(select_error(&e)))?;
        let out = tokio::task::spawn_blocking(move || select.run(&object))
            .await
            .map_err(|e| cx.err(internal(format!("the query failed: {e}"))))?
            .map_err(|e| cx.err(select_error(&e)))?;
        Ok(S3Response::new(SelectObjectContentOutput {
            payload: Some(events(out, progress)),
        }))
    }
}
