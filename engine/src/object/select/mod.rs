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
pub mod sql;
pub mod value;

use std::io::Read;

use eval::{Aggregates, Row};
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

/// The records a ScanRange takes: those whose first byte is in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    lo: u64,
    hi: u64,
}

impl Range {
    /// The range of an object of `len` bytes, by S3's rules (RFC 9110's byte ranges).
    fn of(given: Option<(Option<u64>, Option<u64>)>, len: u64) -> Result<Range, SelectError> {
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

    /// Whether a record starting at `at` is in the range; `None`: past it (stop reading).
    fn takes(&self, at: u64) -> Option<bool> {
        if at > self.hi {
            None
        } else {
            Some(at >= self.lo)
        }
    }
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

/// The refusal of an input over [`MAX_INPUT_BYTES`].
pub fn too_large(what: &str) -> SelectError {
    SelectError::input(
        "EntityTooLarge",
        format!(
            "the {what} is over {} MiB, the most Seedbed's S3 Select holds in memory",
            MAX_INPUT_BYTES >> 20
        ),
    )
}

fn decompress(c: Compression, bytes: &[u8]) -> Result<Vec<u8>, SelectError> {
    let mut out = Vec::new();
    let limit = MAX_INPUT_BYTES + 1;
    let r = match c {
        Compression::None => return Ok(bytes.to_vec()),
        Compression::Gzip => flate2::read::MultiGzDecoder::new(bytes)
            .take(limit)
            .read_to_end(&mut out),
        Compression::Bzip2 => bzip2::read::MultiBzDecoder::new(bytes)
            .take(limit)
            .read_to_end(&mut out),
    };
    r.map_err(|e| {
        SelectError::input(
            "InvalidCompressionFormat",
            format!("the object is not {:?}-compressed: {e}", c).to_uppercase(),
        )
    })?;
    if out.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large("decompressed object"));
    }
    Ok(out)
}

/// What is done with each record; `false` stops the reading (LIMIT reached).
type Each<'a> = dyn FnMut(Value) -> Result<bool, SelectError> + 'a;

fn csv_records(
    bytes: &[u8],
    c: &CsvInput,
    range: Range,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
    let mut r = csv::ReaderBuilder::new()
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
        })
        .from_reader(bytes);
    let mut names: Option<Vec<String>> = None;
    let mut rec = csv::StringRecord::new();
    for i in 0u64.. {
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(SelectError::input(
                    "CSVParsingError",
                    format!("CSV record {}: {e}", i + 1),
                ))
            }
        }
        // The header is the object's first line, whatever the range; the parser always starts
        // at byte 0 so that quotes are read right, and records outside the range are skipped.
        if i == 0 && c.header != FileHeader::None {
            if c.header == FileHeader::Use {
                names = Some(rec.iter().map(String::from).collect());
            }
            continue;
        }
        match range.takes(rec.position().map_or(0, |p| p.byte())) {
            None => break,
            Some(false) => continue,
            Some(true) => {}
        }
        let fields = rec
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let name = names
                    .as_ref()
                    .and_then(|n| n.get(k).cloned())
                    .unwrap_or_else(|| format!("_{}", k + 1));
                (name, Value::Str(f.to_string()))
            })
            .collect();
        if !each(Value::Object(fields))? {
            break;
        }
    }
    Ok(())
}

fn json_records(bytes: &[u8], range: Range, each: &mut Each<'_>) -> Result<(), SelectError> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    loop {
        let before = stream.byte_offset();
        let Some(v) = stream.next() else { break };
        let v = v.map_err(|e| {
            SelectError::input("JSONParsingError", format!("the JSON does not parse: {e}"))
        })?;
        // The value starts at the first byte that is not white space.
        let start = bytes[before..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(before, |k| before + k);
        match range.takes(start as u64) {
            None => break,
            Some(false) => continue,
            Some(true) => {}
        }
        let record = match v {
            Value::Object(_) => v,
            other => Value::Object(vec![("_1".into(), other)]),
        };
        if !each(record)? {
            break;
        }
    }
    Ok(())
}

/// Output records, written and cut into chunks.
struct Output<'a> {
    format: &'a OutputFormat,
    chunks: Vec<Vec<u8>>,
    current: Vec<u8>,
    returned: u64,
}

impl<'a> Output<'a> {
    fn new(format: &'a OutputFormat) -> Self {
        Output {
            format,
            chunks: Vec::new(),
            current: Vec::new(),
            returned: 0,
        }
    }

    fn push(&mut self, record: &Value) {
        let text = match self.format {
            OutputFormat::Json { record: delim } => record.to_json() + delim,
            OutputFormat::Csv(c) => {
                let fields: Vec<String> = match record {
                    Value::Object(m) => {
                        m.iter().map(|(_, v)| csv_field(&v.to_field(), c)).collect()
                    }
                    v => vec![csv_field(&v.to_field(), c)],
                };
                fields.join(&c.field) + &c.record
            }
        };
        if !self.current.is_empty() && self.current.len() + text.len() > CHUNK_BYTES {
            self.chunks.push(std::mem::take(&mut self.current));
        }
        self.returned += text.len() as u64;
        self.current.extend_from_slice(text.as_bytes());
    }

    fn finish(mut self, scanned: u64, processed: u64) -> SelectOutput {
        if !self.current.is_empty() {
            self.chunks.push(self.current);
        }
        SelectOutput {
            chunks: self.chunks,
            scanned,
            processed,
            returned: self.returned,
        }
    }
}

/// A CSV field, quoted when asked or needed.
fn csv_field(s: &str, c: &CsvOutput) -> String {
    let needs = c.quote_fields == QuoteFields::Always
        || s.contains(c.field.as_str())
        || s.contains(c.record.as_str())
        || s.contains(c.quote)
        || s.contains('\n')
        || s.contains('\r');
    if !needs {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push(c.quote);
    for ch in s.chars() {
        if ch == c.quote {
            out.push(c.escape);
        }
        out.push(ch);
    }
    out.push(c.quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sql: &str, input: InputFormat, output: OutputFormat, object: &[u8]) -> String {
        run_range(sql, input, output, object, None)
    }

    fn run_range(
        sql: &str,
        input: InputFormat,
        output: OutputFormat,
        object: &[u8],
        scan_range: Option<(Option<u64>, Option<u64>)>,
    ) -> String {
        let s = Select::new(SelectRequest {
            expression: sql.into(),
            input,
            compression: Compression::None,
            output,
            scan_range,
        })
        .unwrap();
        String::from_utf8(s.run(object).unwrap().chunks.concat()).unwrap()
    }

    #[test]
    fn a_scan_range_takes_the_records_that_start_in_it() {
        // Records start at byte 14 (ann), 29 ("bob, jr", quoted) and 49 (cat).
        let q = "SELECT s.name FROM S3Object s";
        let names = |r| run_range(q, csv_use(), json(","), CSV, Some(r));
        assert_eq!(names((Some(0), Some(14))), "{\"name\":\"ann\"},");
        assert_eq!(names((Some(15), Some(29))), "{\"name\":\"bob, jr\"},");
        assert_eq!(names((Some(30), None)), "{\"name\":\"cat\"},");
        assert_eq!(names((None, Some(16))), "{\"name\":\"cat\"},");
        assert_eq!(names((Some(15), Some(28))), "");
        let lines = b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
        assert_eq!(
            run_range(
                "SELECT * FROM S3Object",
                InputFormat::Json,
                json(","),
                lines,
                Some((Some(8), Some(8)))
            ),
            "{\"a\":2},"
        );
        let bad = Select::new(SelectRequest {
            expression: q.into(),
            input: csv_use(),
            compression: Compression::None,
            output: json(","),
            scan_range: Some((Some(9), Some(3))),
        })
        .unwrap();
        assert_eq!(bad.run(CSV).unwrap_err().code, "InvalidScanRange");
    }

    fn json(delim: &str) -> OutputFormat {
        OutputFormat::Json {
            record: delim.into(),
        }
    }

    const CSV: &[u8] = b"name,city,age\nann,Seattle,31\n\"bob, jr\",Chicago,7\ncat,Seattle,45\n";

    fn csv_use() -> InputFormat {
        InputFormat::Csv(CsvInput {
            header: FileHeader::Use,
            ..CsvInput::default()
        })
    }

    #[test]
    fn csv_filters_projects_and_aggregates() {
        assert_eq!(
            run(
                "SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Seattle'",
                csv_use(),
                json("\n"),
                CSV
            ),
            "{\"name\":\"ann\",\"age\":\"31\"}\n{\"name\":\"cat\",\"age\":\"45\"}\n"
        );
        assert_eq!(
            run(
                "SELECT count(*), sum(CAST(age AS INT)) AS total, max(s._3) FROM S3Object s WHERE CAST(s.age AS INT) > 10",
                csv_use(),
                json(","),
                CSV
            ),
            "{\"_1\":2,\"total\":76,\"_3\":\"45\"},"
        );
        // SELECT * back to CSV: fields quoted only where needed; positional columns without
        // a header (NONE: the header line is a record too).
        let out = OutputFormat::Csv(CsvOutput::default());
        assert_eq!(
            run("SELECT * FROM S3Object", csv_use(), out.clone(), CSV),
            "ann,Seattle,31\n\"bob, jr\",Chicago,7\ncat,Seattle,45\n"
        );
        assert_eq!(
            run(
                "SELECT _1 FROM S3Object WHERE _2 LIKE 'Ch%'",
                InputFormat::Csv(CsvInput::default()),
                out.clone(),
                CSV
            ),
            "\"bob, jr\"\n"
        );
        assert_eq!(
            run(
                "SELECT count(*) FROM S3Object",
                InputFormat::Csv(CsvInput::default()),
                out.clone(),
                CSV
            ),
            "4\n"
        );
        // Ceph RGW's dialect, as far as it costs nothing: a closing `;`, INT() for CAST.
        assert_eq!(
            run(
                "select sum(int(_3)) from s3object where _3 <> 'age';",
                InputFormat::Csv(CsvInput::default()),
                out,
                CSV
            ),
            "83\n"
        );
        assert_eq!(
            run(
                "SELECT s.name FROM S3Object s LIMIT 1",
                csv_use(),
                json("\n"),
                CSV
            ),
            "{\"name\":\"ann\"}\n"
        );
    }

    #[test]
    fn json_paths_missing_values_and_non_object_records() {
        let doc = br#"{"a":{"b0":"s"},"c":"d0"}{"a":{"b1":"s"},"c":"d1","n":[1,2]} [1,2]"#;
        assert_eq!(
            run(
                "select * from s3object[*].a",
                InputFormat::Json,
                json(","),
                doc
            ),
            "{\"b0\":\"s\"},{\"b1\":\"s\"},{},"
        );
        assert_eq!(
            run(
                "select s.c, s.n[1] as second from s3object s where s.c is not missing",
                InputFormat::Json,
                json("\n"),
                doc
            ),
            "{\"c\":\"d0\"}\n{\"c\":\"d1\",\"second\":2}\n"
        );
        // Precedence: * before + and -, left to right; || joins text.
        assert_eq!(
            run(
                "select 1 + 2 * 3 - 4 as x, 7 - 2 - 1 as y, s.c || '!' as z from s3object s limit 1",
                InputFormat::Json,
                json("\n"),
                doc
            ),
            "{\"x\":3,\"y\":4,\"z\":\"d0!\"}\n"
        );
        assert_eq!(
            run(
                "select * from s3object s where s._1[0] = 1",
                InputFormat::Json,
                json("\n"),
                doc
            ),
            "{\"_1\":[1,2]}\n"
        );
    }

    const WORDS: &[&str] = &[
        "SELECT",
        "select",
        "*",
        "count(*)",
        "sum(",
        "CAST(",
        "AS",
        "INT",
        ")",
        "(",
        ",",
        "FROM",
        "S3Object",
        "s3object[*]",
        "[*]",
        "[0]",
        ".a",
        "s",
        "s.a",
        "s._1",
        "_2",
        "WHERE",
        "=",
        "<>",
        "<",
        ">=",
        "AND",
        "OR",
        "NOT",
        "IS",
        "NULL",
        "MISSING",
        "LIKE",
        "'%x_'",
        "ESCAPE",
        "'!'",
        "BETWEEN",
        "IN",
        "1",
        "-2.5",
        "1e400",
        "'a''b'",
        "\"q\"",
        "||",
        "+",
        "/",
        "0",
        "%",
        "LIMIT",
        "LOWER(",
        "TRIM(",
        "9223372036854775807",
    ];

    proptest::proptest! {
        /// Whatever the query and the object, the answer is records or an error: never a
        /// panic (the query comes from the network, the object from anyone who could write it).
        #[test]
        fn any_query_over_any_object_answers(
            words in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 0..16),
            tail in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 0..12),
            framed in proptest::bool::ANY,
            object in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "[", "]", "\"a\"", ":", ",", "1", "-0.5", "null", "true", "\"x\"",
                "\n", "a,b", "\"q,\"\"\"", "\r\n",
            ]), 0..24),
            csv in proptest::bool::ANY,
        ) {
            let input = if csv {
                InputFormat::Csv(CsvInput { header: FileHeader::Use, ..CsvInput::default() })
            } else {
                InputFormat::Json
            };
            let req = SelectRequest {
                // Half the time a query's frame, so the evaluator is reached, not only the parser.
                expression: if framed {
                    format!("SELECT {} FROM S3Object s WHERE {}", words.join(" "), tail.join(" "))
                } else {
                    words.join(" ")
                },
                input,
                compression: Compression::None,
                output: OutputFormat::Csv(CsvOutput::default()),
                scan_range: None,
            };
            if let Ok(s) = Select::new(req) {
                let _ = s.run(object.concat().as_bytes());
            }
        }
    }

    #[test]
    fn errors_are_s3s_words() {
        let bad = |sql: &str| {
            Select::new(SelectRequest {
                expression: sql.into(),
                input: InputFormat::Json,
                compression: Compression::None,
                output: json("\n"),
                scan_range: None,
            })
            .unwrap_err()
            .code
        };
        assert_eq!(bad("SELECT FROM S3Object"), "ParseUnexpectedToken");
        assert_eq!(
            bad("SELECT count(*), s.a FROM S3Object s"),
            "UnsupportedSyntax"
        );
        assert_eq!(
            bad("SELECT * FROM S3Object WHERE count(*) > 1"),
            "EvaluatorInvalidArguments"
        );
        let s = Select::new(SelectRequest {
            expression: "SELECT * FROM S3Object".into(),
            input: InputFormat::Json,
            compression: Compression::Gzip,
            output: json("\n"),
            scan_range: None,
        })
        .unwrap();
        assert_eq!(
            s.run(b"not gzip").unwrap_err().code,
            "InvalidCompressionFormat"
        );
    }
}
