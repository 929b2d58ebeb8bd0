//! Reading the object as a stream: decompression, the ScanRange, CSV and JSON records, each
//! handed on as soon as it is read. Memory holds the record being read and the readers'
//! buffers, never the object: a query runs over an object of any size.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};

use super::value::Value;
use super::{Compression, CsvInput, FileHeader, SelectError};

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
    /// A record ran past `max_record`.
    too_long: Cell<bool>,
}

impl Counters {
    pub(super) fn new(max_record: usize) -> Self {
        Counters {
            max_record,
            json_read: JSON_READ,
            ..Counters::default()
        }
    }

    /// The query's error for a failed read: the store's, a record too long, the compression,
    /// or else what the parser says (`parse`).
    fn read_error(&self, c: Compression, e: &io::Error, parse: SelectError) -> SelectError {
        if let Some(why) = self.source_failed.borrow().as_ref() {
            return SelectError::input(
                "InternalError",
                format!("reading the object failed: {why}"),
            );
        }
        if self.too_long.get() {
            return self.too_long();
        }
        match c {
            Compression::None => parse,
            c => SelectError::input(
                "InvalidCompressionFormat",
                format!("the object is not {:?}-compressed: {e}", c).to_uppercase(),
            ),
        }
    }

    fn too_long(&self) -> SelectError {
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

/// Refuses to hand on more than `limit` bytes past the last record boundary the CSV
/// parser reported: a record without an end (an unclosed quote) is refused, not held whole.
struct Bounded<'a, R> {
    inner: R,
    limit: u64,
    handed: u64,
    boundary: &'a Cell<u64>,
    too_long: &'a Cell<bool>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.handed.saturating_sub(self.boundary.get()) > self.limit {
            self.too_long.set(true);
            return Err(io::Error::other("record too long"));
        }
        let k = self.inner.read(buf)?;
        self.handed += k as u64;
        Ok(k)
    }
}

pub(super) fn csv_records(
    src: &mut dyn Read,
    c: &CsvInput,
    compression: Compression,
    counters: &Counters,
    range: Range,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
    let boundary = Cell::new(0u64);
    let bounded = Bounded {
        inner: src,
        limit: counters.max_record as u64,
        handed: 0,
        boundary: &boundary,
        too_long: &counters.too_long,
    };
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
        .from_reader(bounded);
    let mut names: Option<Vec<String>> = None;
    let mut rec = csv::StringRecord::new();
    for i in 0u64.. {
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let parse =
                    SelectError::input("CSVParsingError", format!("CSV record {}: {e}", i + 1));
                return Err(match e.kind() {
                    csv::ErrorKind::Io(io) => counters.read_error(compression, io, parse),
                    _ => parse,
                });
            }
        }
        boundary.set(r.position().byte());
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

/// Bytes read from the object at a time while looking for JSON values (more when one value
/// is longer: the window doubles, so a long record is parsed a bounded number of times).
pub(super) const JSON_READ: usize = 1 << 20;

/// Each top-level JSON value, read through a window: the values the window holds whole are
/// parsed in place (serde_json is fastest on a slice), the rest is kept for the next read.
pub(super) fn json_records(
    src: &mut dyn Read,
    compression: Compression,
    counters: &Counters,
    range: Range,
    each: &mut Each<'_>,
) -> Result<(), SelectError> {
    let mut window: Vec<u8> = Vec::new();
    // The stream offset of `window[0]`.
    let mut base = 0u64;
    let mut eof = false;
    let mut want = counters.json_read;
    loop {
        // Fill: at least `want` more bytes, or to the end.
        let mut got = 0;
        while !eof && got < want {
            let at = window.len();
            window.resize(at + (want - got), 0);
            let k = match src.read(&mut window[at..]) {
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    window.truncate(at);
                    continue;
                }
                Err(e) => {
                    let parse = SelectError::input(
                        "JSONParsingError",
                        format!("the JSON could not be read: {e}"),
                    );
                    return Err(counters.read_error(compression, &e, parse));
                }
            };
            window.truncate(at + k);
            got += k;
            eof = k == 0;
        }
        let mut stream = serde_json::Deserializer::from_slice(&window).into_iter::<Value>();
        let mut used = 0;
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => {
                    used = window.len();
                    break;
                }
                // A value that reaches the window's end may go on (a number, or a value
                // cut short): it is parsed again once more is read, unless this is the end.
                Some(Ok(_)) if !eof && stream.byte_offset() == window.len() => break,
                Some(Err(e)) if e.is_eof() && !eof => break,
                Some(Err(e)) => {
                    let at = base + before as u64;
                    return Err(SelectError::input(
                        "JSONParsingError",
                        format!("the JSON does not parse (after byte {at}): {e}"),
                    ));
                }
                Some(Ok(v)) => {
                    used = stream.byte_offset();
                    // The value starts at the first byte that is not white space.
                    let start = window[before..]
                        .iter()
                        .position(|b| !b.is_ascii_whitespace())
                        .map_or(before, |k| before + k);
                    match range.takes(base + start as u64) {
                        None => return Ok(()),
                        Some(false) => continue,
                        Some(true) => {}
                    }
                    let record = match v {
                        Value::Object(_) => v,
                        other => Value::Object(vec![("_1".into(), other)]),
                    };
                    if !each(record)? {
                        return Ok(());
                    }
                }
            }
        }
        if eof && used == window.len() {
            return Ok(());
        }
        window.drain(..used);
        base += used as u64;
        if window.len() > counters.max_record {
            return Err(counters.too_long());
        }
        // Nothing whole in the window: read as much again as it holds.
        want = if used == 0 {
            window.len().max(counters.json_read)
        } else {
            counters.json_read
        };
    }
}
