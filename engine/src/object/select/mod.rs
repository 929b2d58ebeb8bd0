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
//! The whole object is read into memory first (S3 Select's objects are its input files, not
//! terabytes). A `ScanRange` takes the records whose first byte is in it: the reader still
//! parses from byte 0 (a quote opened before the range changes what follows) and skips the
//! records that start before it.

pub mod eval;
mod input;
mod output;
pub mod sql;
pub mod value;

#[cfg(test)]
mod tests;

use eval::{Aggregates, Row};
pub use input::too_large;
use input::{csv_records, decompress, json_records, Range};
use output::Output;
use sql::{Expr, Projection, Query, Step};
use value::Value;

/// Output bytes per `Records` event, at most (cut at the record boundary before it).
pub const CHUNK_BYTES: usize = 64 << 10;

/// The largest object a query reads, stored and after decompression: the object is held in
/// memory whole, so a bigger one (or a decompression bomb) is refused, not read.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

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
    /// JSON, DOCUMENT or LINES (read the same way: each top-level value a record).
    Json,
}

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

/// What a query returned.
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
        Ok(Select { req, query })
    }

    /// Run the query over an object's bytes.
    pub fn run(&self, object: &[u8]) -> Result<SelectOutput, SelectError> {
        if self.req.scan_range.is_some() && self.req.compression != Compression::None {
            return Err(SelectError::input(
                "UnsupportedScanRangeInput",
                "ScanRange is supported for uncompressed CSV and JSON objects only",
            ));
        }
        let range = Range::of(self.req.scan_range, object.len() as u64)?;
        let plain = decompress(self.req.compression, object)?;
        let mut out = Output::new(&self.req.output);
        let mut aggregates = Aggregates::of(&self.query)?;
        let mut emitted = 0u64;
        // Records are evaluated as they are read, one at a time: memory holds the object and
        // the output, never the object's records all at once.
        let mut one_row = |v: &Value| -> Result<bool, SelectError> {
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
            out.push(&self.project(&row)?);
            emitted += 1;
            Ok(true)
        };
        let mut each = |record: Value| -> Result<bool, SelectError> {
            if self.query.from.is_empty() {
                return one_row(&record);
            }
            for v in eval::from_values(record, &self.query.from) {
                if !one_row(&v)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match &self.req.input {
            InputFormat::Csv(c) => csv_records(&plain, c, range, &mut each)?,
            InputFormat::Json => json_records(&plain, range, &mut each)?,
        }
        if let Some(a) = aggregates {
            let Projection::Items(items) = &self.query.projection else {
                return Err(SelectError::eval("aggregates without a SELECT list"));
            };
            let names = items
                .iter()
                .enumerate()
                .map(|(i, (e, n))| name_of(i, e, n.as_deref()));
            out.push(&Value::Object(names.zip(a.finish()).collect()));
        }
        // With a ScanRange, what was scanned is the range (and the record that runs past it),
        // as far as this reader can tell: the range itself.
        let scanned = if self.req.scan_range.is_some() {
            (range.hi.min(object.len() as u64) + 1).saturating_sub(range.lo)
        } else {
            object.len() as u64
        };
        let processed = if self.req.scan_range.is_some() {
            scanned
        } else {
            plain.len() as u64
        };
        Ok(out.finish(scanned, processed))
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
