//! S3 Select: a SQL query run over one object where it is stored, so only the rows and
//! columns asked for cross the network — "push the filter down to the storage node", the idea
//! behind S3 Select, Redshift Spectrum and every smart-storage design since.
//!
//! ```text
//! object bytes ──decompress (GZIP, BZIP2)──▶ records ──FROM path──▶ rows ──WHERE──▶
//!     ──SELECT list (or aggregates)──▶ output records (CSV or JSON) ──▶ chunks for the wire
//! ```
//!
//! * Input: CSV (`FileHeaderInfo` NONE / USE / IGNORE, delimiters, quote, escape, comments) or
//!   JSON (`DOCUMENT` or `LINES`: either way each top-level value is a record; a value that
//!   is not an object is the record `{"_1": value}`, as S3 does). Parquet is refused.
//! * Query: [`sql`] (what it accepts) and [`eval`] (what it means).
//! * Output: CSV (`QuoteFields` ASNEEDED / ALWAYS, delimiters) or JSON lines with a record
//!   delimiter; records are cut into chunks at record boundaries, each one `Records` event of
//!   the response's event stream (the S3 front end frames them).
//!
//! The object is read as a stream ([`Select::run_stream`]): each record is evaluated as it is
//! read and the output is handed on a chunk at a time, so memory holds one record and one
//! chunk whatever the object's size, and a `LIMIT` stops the reading. A record longer than
//! [`MAX_RECORD_BYTES`] is refused (`OverMaxRecordSize`). A `ScanRange` takes the records
//! whose first byte is in it, as S3 does: over CSV and JSON lines the reader seeks to the
//! byte before the range and starts after the first record delimiter from there (a quoted
//! field holding a record delimiter across the range's start is not told apart, on S3
//! either), and stops after the last record that starts in it; so N parallel ranges over an
//! object read it about once, not N times. A JSON document is parsed from its first byte.

mod columns;
pub mod eval;
mod input;
mod output;
pub mod sql;
pub mod value;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek, SeekFrom};

use columns::Columns;
use eval::{Aggregates, Row};
use input::{csv_records, json_records, plain_reader, Counters, Range};
use output::Output;
use sql::{Expr, Projection, Query, Step};
use value::Value;

/// Output bytes per `Records` event, at most (cut at the record boundary before it).
pub const CHUNK_BYTES: usize = 64 << 10;

/// The longest record a query reads (a CSV line, a top-level JSON value): the one thing held
/// whole. S3 allows 1 MiB; a JSON document is one record, so this is more generous.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Input records between two calls of [`SelectSink::progress`].
pub const PROGRESS_RECORDS: u64 = 4096;

/// A refused or failed query, with S3 Select's error code.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SelectError {
    /// `ParseUnexpectedToken`, `UnsupportedSyntax`, `EvaluatorInvalidArguments`, …
    pub code: &'static str,
    /// What is wrong, and where.
    pub message: String,
}

impl SelectError {
    /// The query does not parse.
    pub fn parse(message: impl Into<String>) -> Self {
        SelectError {
            code: "ParseUnexpectedToken",
            message: message.into(),
        }
    }
    /// A value the query cannot work with.
    pub fn eval(message: impl Into<String>) -> Self {
        SelectError {
            code: "EvaluatorInvalidArguments",
            message: message.into(),
        }
    }
    /// SQL Seedbed does not run.
    pub fn unsupported(what: impl Into<String>) -> Self {
        SelectError {
            code: "UnsupportedSyntax",
            message: format!("{} is not supported by Seedbed's S3 Select", what.into()),
        }
    }
    fn input(code: &'static str, message: impl Into<String>) -> Self {
        SelectError {
            code,
            message: message.into(),
        }
    }
}

/// How the object is compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Not.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// bzip2.
    Bzip2,
}

/// CSV's `FileHeaderInfo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FileHeader {
    /// Every line is a record; columns are `_1`, `_2`, ….
    #[default]
    None,
    /// The first line names the columns.
    Use,
    /// The first line is skipped; columns are positional.
    Ignore,
}

/// CSV input options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvInput {
    /// FileHeaderInfo.
    pub header: FileHeader,
    /// FieldDelimiter (one byte).
    pub field: u8,
    /// RecordDelimiter (one byte; `\n` also ends a `\r\n` line).
    pub record: u8,
    /// QuoteCharacter.
    pub quote: u8,
    /// QuoteEscapeCharacter, if not the doubled quote.
    pub escape: Option<u8>,
    /// Comments: lines starting with it are skipped.
    pub comment: Option<u8>,
}

impl Default for CsvInput {
    fn default() -> Self {
        CsvInput {
            header: FileHeader::None,
            field: b',',
            record: b'\n',
            quote: b'"',
            escape: None,
            comment: None,
        }
    }
}

/// The object's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV.
    Csv(CsvInput),
    /// JSON `DOCUMENT`: each top-level value a record, however it is laid out.
    Json,
    /// JSON `LINES`: read as `DOCUMENT` is, but a ScanRange may start at a line (one value per
    /// line), where a document's would have to be parsed from its first byte.
    JsonLines,
}

/// What a query reads: any [`Read`] that can also [`Seek`] (a ScanRange starts where its range
/// does), such as [`crate::object::VersionReader`] or a `Cursor` over bytes in memory.
pub trait Source: Read + Seek {}

impl<T: Read + Seek> Source for T {}

/// CSV output's `QuoteFields`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuoteFields {
    /// Only fields that need it.
    #[default]
    AsNeeded,
    /// Every field.
    Always,
}

/// CSV output options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOutput {
    /// FieldDelimiter.
    pub field: String,
    /// RecordDelimiter.
    pub record: String,
    /// QuoteCharacter.
    pub quote: char,
    /// QuoteEscapeCharacter.
    pub escape: char,
    /// QuoteFields.
    pub quote_fields: QuoteFields,
}

impl Default for CsvOutput {
    fn default() -> Self {
        CsvOutput {
            field: ",".into(),
            record: "\n".into(),
            quote: '"',
            escape: '"',
            quote_fields: QuoteFields::AsNeeded,
        }
    }
}

/// The result's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV.
    Csv(CsvOutput),
    /// JSON, each record followed by the delimiter.
    Json {
        /// RecordDelimiter (default `\n`).
        record: String,
    },
}

/// One SelectObjectContent request, as the store runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectRequest {
    /// The SQL.
    pub expression: String,
    /// The object's format.
    pub input: InputFormat,
    /// Its compression.
    pub compression: Compression,
    /// The result's format.
    pub output: OutputFormat,
    /// ScanRange: `(Start, End)` as given (`End` alone: the last `End` bytes).
    pub scan_range: Option<(Option<u64>, Option<u64>)>,
}

/// Where a running query's output goes, as it is produced.
pub trait SelectSink {
    /// Output records, at most [`CHUNK_BYTES`] of them (unless one record is longer), cut at a
    /// record boundary. An error stops the query (the client went away, say).
    fn records(&mut self, chunk: Vec<u8>) -> Result<(), SelectError>;

    /// Called every [`PROGRESS_RECORDS`] input records with the counts so far: a front end
    /// reports progress or keeps its connection alive through a long scan that returns
    /// little. The default does nothing.
    fn progress(&mut self, _so_far: &Counts) -> Result<(), SelectError> {
        Ok(())
    }
}

/// Bytes a query has read and written (S3 Select's `Stats` and `Progress`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bytes of the object read (`BytesScanned`).
    pub scanned: u64,
    /// Bytes after decompression (`BytesProcessed`).
    pub processed: u64,
    /// Bytes of output (`BytesReturned`).
    pub returned: u64,
}

/// A sink that keeps every chunk ([`Select::run`]).
#[derive(Default)]
struct Collect(Vec<Vec<u8>>);

impl SelectSink for Collect {
    fn records(&mut self, chunk: Vec<u8>) -> Result<(), SelectError> {
        self.0.push(chunk);
        Ok(())
    }
}

/// What a query returned, collected ([`Select::run`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectOutput {
    /// The output records, in chunks of at most [`CHUNK_BYTES`] (unless one record is
    /// longer), each cut at a record boundary.
    pub chunks: Vec<Vec<u8>>,
    /// Bytes of the object read (`BytesScanned`).
    pub scanned: u64,
    /// Bytes after decompression (`BytesProcessed`).
    pub processed: u64,
    /// Bytes of output (`BytesReturned`).
    pub returned: u64,
}

/// A checked query, ready to run over objects.
#[derive(Debug)]
pub struct Select {
    req: SelectRequest,
    query: Query,
    max_record: usize,
    json_read: usize,
    /// Read only the CSV columns the query names (tests turn it off to compare).
    prune: bool,
}

impl Select {
    /// Parse and check `req` (before any object is read).
    pub fn new(req: SelectRequest) -> Result<Select, SelectError> {
        let query = sql::parse(&req.expression)?;
        Aggregates::of(&query)?;
        if let Some(f) = &query.filter {
            if f.has_aggregate() {
                return Err(SelectError::eval("an aggregate is not allowed in WHERE"));
            }
        }
        Ok(Select {
            req,
            query,
            max_record: MAX_RECORD_BYTES,
            json_read: input::JSON_READ,
            prune: true,
        })
    }

    /// Build every CSV column of every record (tests: the same answers as reading only the
    /// columns the query names).
    #[cfg(test)]
    fn without_pruning(mut self) -> Self {
        self.prune = false;
        self
    }

    /// Read JSON `bytes` at a time (tests: window boundaries inside every kind of value).
    #[cfg(test)]
    fn with_json_read(mut self, bytes: usize) -> Self {
        self.json_read = bytes.max(1);
        self
    }

    /// Refuse records longer than `bytes` (default [`MAX_RECORD_BYTES`]).
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// Run the query over an object held in memory, collecting the output.
    pub fn run(&self, object: &[u8]) -> Result<SelectOutput, SelectError> {
        let mut collect = Collect::default();
        let mut src = std::io::Cursor::new(object);
        let counts = self.run_stream(&mut src, object.len() as u64, &mut collect)?;
        Ok(SelectOutput {
            chunks: collect.0,
            scanned: counts.scanned,
            processed: counts.processed,
            returned: counts.returned,
        })
    }

    /// Run the query over an object of `len` bytes read from `src` (from its first byte), handing
    /// the output to `sink` as it is produced. Returns the counts for `Stats`.
    pub fn run_stream(
        &self,
        src: &mut dyn Source,
        len: u64,
        sink: &mut dyn SelectSink,
    ) -> Result<Counts, SelectError> {
        if self.req.scan_range.is_some() && self.req.compression != Compression::None {
            return Err(SelectError::input(
                "UnsupportedScanRangeInput",
                "ScanRange is supported for uncompressed CSV and JSON objects only",
            ));
        }
        let range = Range::of(self.req.scan_range, len)?;
        let mut counters = Counters::new(self.max_record);
        counters.json_read = self.json_read;
        // Where the records are read from: byte 0, or, for a ScanRange over CSV or JSON lines,
        // the first record boundary in the range (the CSV header read first).
        let seek = match &self.req.input {
            InputFormat::Csv(c) if range.lo > 0 => {
                Some((c.record, input::csv_header(src, c, &counters)?))
            }
            InputFormat::JsonLines if range.lo > 0 => Some((b'\n', None)),
            _ => None,
        };
        let (offset, header) = match seek {
            None => (0, None),
            Some((delim, header)) => {
                match input::first_record_from(src, range.lo, delim, &counters)? {
                    Some(at) if at <= range.hi => (at, header),
                    // No record starts in the range.
                    _ => (len, header),
                }
            }
        };
        src.seek(SeekFrom::Start(offset)).map_err(|e| {
            SelectError::input("InternalError", format!("reading the object failed: {e}"))
        })?;
        let mut plain = plain_reader(src, self.req.compression, &counters);
        let mut out = Output::new(&self.req.output, sink);
        let mut aggregates = Aggregates::of(&self.query)?;
        let mut emitted = 0u64;
        let mut records = 0u64;
        // Records are evaluated as they are read, one at a time: memory holds one record and
        // one chunk of output, never the object.
        let mut one_row = |v: &Value, out: &mut Output<'_>| -> Result<bool, SelectError> {
            let row = Row {
                value: v,
                alias: self.query.alias.as_deref(),
            };
            if let Some(f) = &self.query.filter {
                if eval::truth(&*row.value_of(f)?) != Some(true) {
                    return Ok(true);
                }
            }
            if let Some(a) = &mut aggregates {
                a.add(&row)?;
                return Ok(true);
            }
            if self.query.limit.is_some_and(|l| emitted >= l) {
                return Ok(false);
            }
            out.push(&self.project(&row)?)?;
            emitted += 1;
            Ok(true)
        };
        let mut each = |record: Value| -> Result<bool, SelectError> {
            records += 1;
            if records.is_multiple_of(PROGRESS_RECORDS) {
                let so_far = Counts {
                    scanned: counters.scanned.get(),
                    processed: counters.processed.get(),
                    returned: out.returned(),
                };
                out.sink().progress(&so_far)?;
            }
            if self.query.from.is_empty() {
                return one_row(&record, &mut out);
            }
            for v in eval::from_values(record, &self.query.from) {
                if !one_row(&v, &mut out)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let c = self.req.compression;
        let columns = if self.prune {
            Columns::of(&self.query)
        } else {
            None
        };
        let at = input::Start {
            offset,
            header,
            columns: columns.as_ref(),
        };
        match &self.req.input {
            InputFormat::Csv(csv) => {
                csv_records(&mut plain, csv, c, &counters, range, at, &mut each)?
            }
            InputFormat::Json | InputFormat::JsonLines => {
                json_records(&mut plain, c, &counters, range, offset, &mut each)?
            }
        }
        if let Some(a) = aggregates {
            let Projection::Items(items) = &self.query.projection else {
                return Err(SelectError::eval("aggregates without a SELECT list"));
            };
            let names = items
                .iter()
                .enumerate()
                .map(|(i, (e, n))| name_of(i, e, n.as_deref()));
            out.push(&Value::Object(names.zip(a.finish()).collect()))?;
        }
        let returned = out.finish()?;
        // With a ScanRange, what was scanned is the range (and the record that runs past it),
        // as far as this reader can tell: the range itself.
        let (scanned, processed) = if self.req.scan_range.is_some() {
            let r = (range.hi.min(len) + 1).saturating_sub(range.lo);
            (r, r)
        } else {
            (counters.scanned.get(), counters.processed.get())
        };
        Ok(Counts {
            scanned,
            processed,
            returned,
        })
    }

    fn project(&self, row: &Row<'_>) -> Result<Value, SelectError> {
        match &self.query.projection {
            Projection::Star => Ok(eval::star(row.value.clone())),
            Projection::Items(items) => {
                let mut fields = Vec::with_capacity(items.len());
                for (i, (e, n)) in items.iter().enumerate() {
                    fields.push((name_of(i, e, n.as_deref()), row.eval(e)?));
                }
                Ok(Value::Object(fields))
            }
        }
    }
}

/// The name of SELECT's `i`th item: its alias, else a path's last name, else `_i+1`.
fn name_of(i: usize, e: &Expr, alias: Option<&str>) -> String {
    if let Some(a) = alias {
        return a.to_string();
    }
    match e {
        Expr::Path(steps) if steps.len() > 1 || !is_positional(steps) => match steps.last() {
            Some(Step::Member(n, _)) => n.clone(),
            _ => format!("_{}", i + 1),
        },
        _ => format!("_{}", i + 1),
    }
}

fn is_positional(steps: &[Step]) -> bool {
    matches!(steps, [Step::Member(n, _)] if n.starts_with('_') && n[1..].parse::<usize>().is_ok())
}
