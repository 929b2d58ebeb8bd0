//! Reading the object as a stream: decompression, the ScanRange, CSV and JSON records, each
//! handed on as soon as it is read. Memory holds the record being read and the readers'
//! buffers, never the object: a query runs over an object of any size.

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, Read, SeekFrom};

use crate::records::{self, RecordError};

use super::columns::Columns;
use super::value::Value;
use super::{Compression, CsvInput, FileHeader, SelectError, Source};

/// The records a ScanRange takes: those whose first byte is in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Range {
    pub(super) lo: u64,
    pub(super) hi: u64,
}

impl Range {
    /// The range of an object of `len` bytes, by S3's rules (RFC 9110's byte ranges).
    pub(super) fn of(
        given: Option<(Option<u64>, Option<u64>)>,
        len: u64,
    ) -> Result<Range, SelectError> {
        let last = len.saturating_sub(1);
        let r = match given {
            None | Some((None, None)) => {
                return Ok(Range {
                    lo: 0,
                    hi: u64::MAX,
                })
            }
            Some((Some(s), Some(e))) => Range {
                lo: s,
                hi: e.min(last),
            },
            Some((Some(s), None)) => Range { lo: s, hi: last },
            Some((None, Some(n))) => Range {
                lo: len.saturating_sub(n),
                hi: last,
            },
        };
        if let Some((Some(s), Some(e))) = given {
            if s > e {
                return Err(SelectError::input(
                    "InvalidScanRange",
                    format!("ScanRange Start {s} is after End {e}"),
                ));
            }
        }
        Ok(r)
    }

    /// Hand `record` (starting at `at`) to `each` if it is in the range; `Ok(false)` once past
    /// the range (stop reading), `Ok(true)` to read on.
    fn offer(
        &self,
        at: u64,
        record: impl FnOnce() -> Value,
        each: &mut Each<'_>,
    ) -> Result<bool, SelectError> {
        if at > self.hi {
            Ok(false)
        } else if at < self.lo {
            Ok(true)
        } else {
            each(record())
        }
    }
}

/// What the readers saw: bytes as stored (`BytesScanned`) and after decompression
/// (`BytesProcessed`), and why a read failed when the data is not to blame — so that a
/// decompressor's or parser's error about a cut stream is reported as what it is.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// The longest record read ([`super::MAX_RECORD_BYTES`] unless a test says less).
    pub(super) max_record: usize,
    /// Bytes read at a time while looking for JSON values ([`JSON_READ`]; tests cut it small
    /// to put window boundaries everywhere).
    pub(super) json_read: usize,
    pub(super) scanned: Cell<u64>,
    pub(super) processed: Cell<u64>,
    /// The object itself could not be read (a store error, passed through the decoder).
    source_failed: RefCell<Option<String>>,
}

impl Counters {
    pub(super) fn new(max_record: usize) -> Self {
        Counters {
            max_record,
            json_read: JSON_READ,
            ..Counters::default()
        }
    }

    /// The query's error for a failed read: the store's, the compression, or else what the
    /// parser says (`parse`).
    fn read_error(&self, c: Compression, e: &io::Error, parse: SelectError) -> SelectError {
        if let Some(why) = self.source_failed.borrow().as_ref() {
            return SelectError::input(
                "InternalError",
                format!("reading the object failed: {why}"),
            );
        }
        match c {
            Compression::None => parse,
            c => SelectError::input(
                "InvalidCompressionFormat",
                format!("the object is not {:?}-compressed: {e}", c).to_uppercase(),
            ),
        }
    }

    pub(super) fn too_long(&self) -> SelectError {
        SelectError::input(
            "OverMaxRecordSize",
            format!(
                "a record is longer than {} bytes, the most Seedbed's S3 Select reads as one",
                self.max_record
            ),
        )
    }
}

/// A reader that counts what it hands on (and notes a failure of its source).
struct Counting<'a, R> {
    inner: R,
    n: &'a Cell<u64>,
    failed: Option<&'a RefCell<Option<String>>>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(k) => {
                self.n.set(self.n.get() + k as u64);
                Ok(k)
            }
            Err(e) => {
                if let Some(f) = self.failed {
                    *f.borrow_mut() = Some(e.to_string());
                }
                Err(e)
            }
        }
    }
}

/// The object's bytes as the query reads them: counted, decompressed, counted again.
pub(super) fn plain_reader<'a>(
    src: &'a mut dyn Read,
    c: Compression,
    counters: &'a Counters,
) -> Box<dyn Read + 'a> {
    let raw = Counting {
        inner: src,
        n: &counters.scanned,
        failed: Some(&counters.source_failed),
    };
    let plain: Box<dyn Read + 'a> = match c {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
    };
    Box::new(Counting {
        inner: plain,
        n: &counters.processed,
        failed: None,
    })
}

/// What is done with each record; `false` stops the reading (LIMIT reached).
pub(super) type Each<'a> = dyn FnMut(Value) -> Result<bool, SelectError> + 'a;

impl Counters {
    /// The query's error for a reader's.
    fn record_error(
        &self,
        c: Compression,
        e: RecordError<SelectError>,
        parse: impl FnOnce(u64, String) -> SelectError,
    ) -> SelectError {
        match e {
            RecordError::Stopped(e) => e,
            RecordError::TooLong { .. } => self.too_long(),
            RecordError::Syntax {
                record, message, ..
            } => parse(record, message),
            RecordError::Read(io) => {
                let parse = parse(0, format!("the object could not be read: {io}"));
                self.read_error(c, &io, parse)
            }
        }
    }
}

/// Where the records are read from: `offset` in the object, and the CSV header when it was
/// read apart (a ScanRange that starts after it).
pub(super) struct Start<'a> {
    pub(super) offset: u64,
    pub(super) header: Option<Vec<String>>,
    /// The CSV columns the query reads (`None`: all).
    pub(super) columns: Option<&'a Columns>,
}

/// The CSV reader the input options describe.
fn csv_builder(c: &CsvInput) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(true)
        .delimiter(c.field)
        .quote(c.quote)
        .escape(c.escape)
        .double_quote(c.escape.is_none())
        .comment(c.comment)
        .terminator(if c.record == b'\n' {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(c.record)
        });
    builder
}

/// An I/O failure while positioning the reader: the store's.
fn seek_failed(counters: &Counters, e: &io::Error) -> SelectError {
    let why = SelectError::input("InternalError", format!("reading the object failed: {e}"));
    counters.read_error(Compression::None, e, why)
}

/// The column names of a CSV object with a `USE` header (its first record, read from byte 0),
/// for a ScanRange that starts after it; `None` for other headers.
pub(super) fn csv_header(
    src: &mut dyn Source,
    c: &CsvInput,
    counters: &Counters,
) -> Result<Option<Vec<String>>, SelectError> {
    if c.header != FileHeader::Use {
        return Ok(None);
    }
    src.seek(SeekFrom::Start(0))
        .map_err(|e| seek_failed(counters, &e))?;
    let mut names = Vec::new();
    let read = records::csv_records(&csv_builder(c), src, counters.max_record, |_, _, rec| {
        names = rec.iter().map(String::from).collect();
        Ok(false)
    });
    read.map_err(|e| counters.record_error(Compression::None, e, csv_error))?;
    Ok(Some(names))
}

/// The offset of the first record starting at or after `lo` (> 0) in a stream of records
/// ended by `delim`: `lo` itself when the byte before it ends a record, else the byte after
/// the next `delim`; `None` when no record starts there (the stream ends first).
pub(super) fn first_record_from(
    src: &mut dyn Source,
    lo: u64,
    delim: u8,
    counters: &Counters,
) -> Result<Option<u64>, SelectError> {
    src.seek(SeekFrom::Start(lo - 1))
        .map_err(|e| seek_failed(counters, &e))?;
    // The rest of the record the byte before the range belongs to, at most one record long.
    let mut skipped = Vec::new();
    let limit = counters.max_record as u64 + 1;
    let rest: &mut dyn Source = &mut *src;
    let n = io::BufReader::new(rest.take(limit))
        .read_until(delim, &mut skipped)
        .map_err(|e| seek_failed(counters, &e))?;
    match skipped.last() {
        Some(&b) if b == delim => Ok(Some(lo - 1 + n as u64)),
        _ if n as u64 >= limit => Err(counters.too_long()),
        _ => Ok(None),
    }
}

pub(super) fn csv_records(
    src: &mut dyn Read,
    c: &CsvInput,
    compression: Compression,
    counters: &Counters,
    range: Range,
    start: Start<'_>,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
    let builder = csv_builder(c);
    // From byte 0 the header is the first record; from within the object it was read apart.
    let header_first = start.offset == 0 && c.header != FileHeader::None;
    let mut names = start.header;
    // Which of the header's columns the query reads: decided once per object, not per row.
    let header_wanted = |names: &Option<Vec<String>>| -> Vec<bool> {
        match (start.columns, names) {
            (Some(cols), Some(n)) => n
                .iter()
                .enumerate()
                .map(|(k, m)| cols.wants(k, m))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut wanted = header_wanted(&names);
    let read = records::csv_records(&builder, src, counters.max_record, |n, at, rec| {
        if n == 1 && header_first {
            if c.header == FileHeader::Use {
                names = Some(rec.iter().map(String::from).collect());
                wanted = header_wanted(&names);
            }
            return Ok(true);
        }
        let fields = || {
            let named = rec.iter().enumerate().map(|(k, f)| {
                let header = names.as_ref().and_then(|n| n.get(k));
                // A column past the header (or with none) is named `_k`: only `_N` finds it.
                let keep = start.columns.is_none_or(|cols| {
                    wanted
                        .get(k)
                        .copied()
                        .unwrap_or_else(|| cols.wants_position(k))
                });
                if !keep {
                    // Kept in its place (for `_N`), empty: the query never reads it.
                    return (String::new(), Value::Missing);
                }
                let name = header.cloned().unwrap_or_else(|| format!("_{}", k + 1));
                (name, Value::Str(f.to_string()))
            });
            Value::Object(named.collect())
        };
        range.offer(start.offset + at, fields, each)
    });
    read.map_err(|e| counters.record_error(compression, e, csv_error))
}

fn csv_error(record: u64, message: String) -> SelectError {
    SelectError::input("CSVParsingError", format!("CSV record {record}: {message}"))
}

/// Bytes read from the object at a time while looking for JSON values.
pub(super) const JSON_READ: usize = 1 << 20;

/// Each top-level JSON value is a record (one that is not an object is `{"_1": value}`).
pub(super) fn json_records(
    src: &mut dyn Read,
    compression: Compression,
    counters: &Counters,
    range: Range,
    offset: u64,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
    let read = records::json_values(src, counters.json_read, counters.max_record, |at, v| {
        let record = || match v {
            Value::Object(_) => v,
            other => Value::Object(vec![("_1".into(), other)]),
        };
        range.offer(offset + at, record, each)
    });
    read.map_err(|e| {
        counters.record_error(compression, e, |n, message| {
            SelectError::input(
                "JSONParsingError",
                format!("the JSON does not parse (value {n}): {message}"),
            )
        })
    })
}
