//! Reading the object: decompression, the ScanRange, CSV and JSON records, each handed on as
//! soon as it is read.

use std::io::Read;

use super::value::Value;
use super::{Compression, CsvInput, FileHeader, SelectError, MAX_INPUT_BYTES};

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

    /// Whether a record starting at `at` is in the range; `None`: past it (stop reading).
    fn takes(&self, at: u64) -> Option<bool> {
        if at > self.hi {
            None
        } else {
            Some(at >= self.lo)
        }
    }
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

pub(super) fn decompress(c: Compression, bytes: &[u8]) -> Result<Vec<u8>, SelectError> {
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
pub(super) type Each<'a> = dyn FnMut(Value) -> Result<bool, SelectError> + 'a;

pub(super) fn csv_records(
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

pub(super) fn json_records(
    bytes: &[u8],
    range: Range,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
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
