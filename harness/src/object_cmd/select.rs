//! `select`: S3 Select from the command line — a SQL query run over one object in the store,
//! the records printed, what it read and returned on standard error (the engine's
//! `object/select/`, with no server in between).

use std::io::Write;

use clap::{Args, ValueEnum};
use seedbed_engine::object::select::{
    Compression, CsvInput, CsvOutput, FileHeader, InputFormat, OutputFormat, Select, SelectError,
    SelectRequest, SelectSink,
};
use seedbed_engine::object::{GetOptions, ObjectStore};

use super::s3;

/// The object's format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Input {
    /// CSV whose first line names the columns.
    CsvHeader,
    /// CSV without a header line (columns `_1`, `_2`, …).
    Csv,
    /// JSON: any sequence of top-level values, however laid out (S3's `DOCUMENT`).
    Json,
    /// JSON, one value per line (S3's `LINES`: a --scan-range starts at a line).
    JsonLines,
}

/// Arguments of `select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Bucket.
    bucket: String,
    /// Key.
    key: String,
    /// The query, e.g. "SELECT s.name FROM S3Object s WHERE CAST(s.age AS INT) > 30".
    #[arg(long)]
    sql: String,
    /// The object's format.
    #[arg(long, value_enum, default_value = "csv-header")]
    input: Input,
    /// The object is gzip- or bzip2-compressed.
    #[arg(long, value_parser = ["none", "gzip", "bzip2"], default_value = "none")]
    compression: String,
    /// Print the records as CSV (default: JSON lines).
    #[arg(long)]
    csv_out: bool,
    /// Only the records whose first byte is in this byte range, as S3 Select's ScanRange:
    /// START-END (inclusive), START- (to the end) or -N (the last N bytes). Ranges that tile
    /// an object take each record exactly once: try two halves of a CSV.
    #[arg(long, value_name = "RANGE", value_parser = parse_scan_range, allow_hyphen_values = true)]
    scan_range: Option<(Option<u64>, Option<u64>)>,
}

/// `START-END`, `START-` or `-N`, as an HTTP byte range.
fn parse_scan_range(s: &str) -> Result<(Option<u64>, Option<u64>), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("'{s}' is not a range: START-END, START- or -N"))?;
    let num = |t: &str| -> Result<Option<u64>, String> {
        if t.is_empty() {
            Ok(None)
        } else {
            t.parse()
                .map(Some)
                .map_err(|_| format!("'{t}' in '{s}' is not a byte offset"))
        }
    };
    match (num(a)?, num(b)?) {
        (None, None) => Err(format!("'{s}' names no byte: START-END, START- or -N")),
        r => Ok(r),
    }
}

/// `select`.
pub fn select(store: &ObjectStore, a: SelectArgs) -> anyhow::Result<()> {
    let req = SelectRequest {
        expression: a.sql,
        input: match a.input {
            Input::Json => InputFormat::Json,
            Input::JsonLines => InputFormat::JsonLines,
            Input::Csv => InputFormat::Csv(CsvInput::default()),
            Input::CsvHeader => InputFormat::Csv(CsvInput {
                header: FileHeader::Use,
                ..CsvInput::default()
            }),
        },
        compression: match a.compression.as_str() {
            "gzip" => Compression::Gzip,
            "bzip2" => Compression::Bzip2,
            _ => Compression::None,
        },
        output: if a.csv_out {
            OutputFormat::Csv(CsvOutput::default())
        } else {
            OutputFormat::Json {
                record: "\n".into(),
            }
        },
        scan_range: a.scan_range,
    };
    let query = Select::new(req).map_err(|e| anyhow::anyhow!("{e}"))?;
    let reader = store
        .open_object(&a.bucket, &a.key, &GetOptions::default())
        .map_err(s3)?;
    // The records go to stdout as the query produces them: memory holds one record and one
    // chunk whatever the object's size.
    let mut out = Stdout(std::io::stdout().lock());
    let counts = query
        .run_stream(&mut reader.chunks(), reader.info().size, &mut out)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    out.0.flush()?;
    eprintln!(
        "scanned {} B, processed {} B, returned {} B",
        counts.scanned, counts.processed, counts.returned
    );
    Ok(())
}

/// Output records straight to stdout.
struct Stdout<'a>(std::io::StdoutLock<'a>);

impl SelectSink for Stdout<'_> {
    fn records(&mut self, chunk: Vec<u8>) -> Result<(), SelectError> {
        self.0.write_all(&chunk).map_err(|e| SelectError {
            code: "InternalError",
            message: format!("writing to stdout: {e}"),
        })
    }
}
