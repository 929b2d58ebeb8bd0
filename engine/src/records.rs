//! Records read from a stream in bounded memory: the top-level values of a JSON stream, and the
//! records of a CSV file. S3 Select and DynamoDB's ImportTable read objects of any size this
//! way — one record at a time, never the object whole — so both share these two readers and
//! their one guard: a record longer than a limit (a value that never closes, a quote opened
//! and never closed) is refused, not held.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, Read};

use serde::de::DeserializeOwned;

/// Why reading records stopped.
#[derive(Debug)]
pub enum RecordError<E> {
    /// The source could not be read (the store, or a decompressor in front of it).
    Read(io::Error),
    /// Record `record` (1-based), starting at byte `at`, is not JSON / CSV.
    Syntax {
        /// Which record.
        record: u64,
        /// Its first byte's offset in the stream.
        at: u64,
        /// What the parser said.
        message: String,
    },
    /// A record ran past `limit` bytes.
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// The caller's function failed.
    Stopped(E),
}

/// Call `each(offset, value)` for every top-level JSON value in `src` (any white space
/// between them, or none where a value closes itself), with the offset of its first byte;
/// `each` returns `false` to stop. The stream is read `read_size` bytes at a time into a
/// window: the values the window holds whole are parsed in place (serde_json is fastest on
/// a slice), and the rest waits for the next read. A value longer than the window doubles
/// it, so a long value is parsed a bounded number of times; one over `max_value` bytes is
/// [`RecordError::TooLong`].
pub fn json_values<T: DeserializeOwned, E>(
    src: &mut dyn Read,
    read_size: usize,
    max_value: usize,
    mut each: impl FnMut(u64, T) -> Result<bool, E>,
) -> Result<(), RecordError<E>> {
    let read_size = read_size.max(1);
    let mut window: Vec<u8> = Vec::new();
    // The stream offset of `window[0]`, and how many values came before it.
    let mut base = 0u64;
    let mut count = 0u64;
    let mut eof = false;
    let mut want = read_size;
    loop {
        fill(src, &mut window, want, &mut eof).map_err(RecordError::Read)?;
        let mut stream = serde_json::Deserializer::from_slice(&window).into_iter::<T>();
        let mut used = 0;
        loop {
            let before = stream.byte_offset();
            match stream.next() {
                None => {
                    used = window.len();
                    break;
                }
                // A value that reaches the window's end may go on (a number, or a value cut
                // short): it is parsed again once more is read, unless this is the end.
                Some(Ok(_)) if !eof && stream.byte_offset() == window.len() => break,
                Some(Err(e)) if e.is_eof() && !eof => break,
                Some(Err(e)) => {
                    return Err(RecordError::Syntax {
                        record: count + 1,
                        at: base + start_of(&window, before) as u64,
                        message: e.to_string(),
                    })
                }
                Some(Ok(v)) => {
                    used = stream.byte_offset();
                    count += 1;
                    let at = base + start_of(&window, before) as u64;
                    if !each(at, v).map_err(RecordError::Stopped)? {
                        return Ok(());
                    }
                }
            }
        }
        if eof {
            // Every arm above that keeps the loop going needs more input; at the end there is
            // none, so the window was read to its end.
            return Ok(());
        }
        window.drain(..used);
        base += used as u64;
        if window.len() > max_value {
            return Err(RecordError::TooLong { limit: max_value });
        }
        // Nothing whole in the window: read as much again as it holds.
        want = if used == 0 {
            window.len().max(read_size)
        } else {
            read_size
        };
    }
}

/// Append at least `want` bytes of `src` to `window`, or up to its end (`eof` set).
fn fill(src: &mut dyn Read, window: &mut Vec<u8>, want: usize, eof: &mut bool) -> io::Result<()> {
    let mut got = 0;
    while !*eof && got < want {
        let at = window.len();
        window.resize(at + (want - got), 0);
        match src.read(&mut window[at..]) {
            Ok(k) => {
                window.truncate(at + k);
                got += k;
                *eof = k == 0;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => window.truncate(at),
            Err(e) => {
                window.truncate(at);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The first byte at or after `from` that is not white space: where a value starts.
fn start_of(window: &[u8], from: usize) -> usize {
    window[from..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(from, |k| from + k)
}

/// Call `each(record number, offset, record)` for every record of the CSV file in `src`, as
/// `builder` reads CSV (its delimiter, quote, headers off: the header row is a record like
/// any other); `each` returns `false` to stop. A record running past `max_record` bytes (an
/// unclosed quote makes the rest of a file one field) is [`RecordError::TooLong`].
pub fn csv_records<E>(
    builder: &csv::ReaderBuilder,
    src: &mut dyn Read,
    max_record: usize,
    mut each: impl FnMut(u64, u64, &csv::StringRecord) -> Result<bool, E>,
) -> Result<(), RecordError<E>> {
    let boundary = Cell::new(0u64);
    let too_long = Cell::new(false);
    let crlf = RefCell::new(VecDeque::new());
    let mut r = builder.from_reader(Bounded {
        inner: src,
        limit: max_record as u64,
        handed: 0,
        boundary: &boundary,
        too_long: &too_long,
        last_cr: false,
        crlf: &crlf,
    });
    let mut rec = csv::StringRecord::new();
    for n in 1u64.. {
        let at = r.position().byte();
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) if too_long.get() => return Err(RecordError::TooLong { limit: max_record }),
            Err(e) => {
                let message = e.to_string();
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(io) => RecordError::Read(io),
                    _ => RecordError::Syntax {
                        record: n,
                        at,
                        message,
                    },
                });
            }
        }
        boundary.set(r.position().byte());
        let mut start = rec.position().map_or(at, |p| p.byte());
        // The CSV reader ends a record at the `\r` of a `\r\n` and counts the `\n` into the
        // next one; its first byte is after the `\n` (where a ScanRange that seeks finds it).
        let mut ends = crlf.borrow_mut();
        while ends.front().is_some_and(|&e| e < start) {
            ends.pop_front();
        }
        if ends.front() == Some(&start) {
            start += 1;
        }
        drop(ends);
        if !each(n, start, &rec).map_err(RecordError::Stopped)? {
            break;
        }
    }
    Ok(())
}

/// Hands on no more than `limit` bytes past the last record boundary the CSV reader reported,
/// and notes where each `\n` of a `\r\n` is (a few KiB of them at most: the reader's
/// look-ahead; those behind the last record are dropped).
struct Bounded<'a, R> {
    inner: R,
    limit: u64,
    handed: u64,
    boundary: &'a Cell<u64>,
    too_long: &'a Cell<bool>,
    last_cr: bool,
    crlf: &'a RefCell<VecDeque<u64>>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.handed.saturating_sub(self.boundary.get()) > self.limit {
            self.too_long.set(true);
            return Err(io::Error::other("record too long"));
        }
        let k = self.inner.read(buf)?;
        let mut ends = self.crlf.borrow_mut();
        for (i, &b) in buf[..k].iter().enumerate() {
            if b == b'\n' && self.last_cr {
                ends.push_back(self.handed + i as u64);
            }
            self.last_cr = b == b'\r';
        }
        self.handed += k as u64;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_through_a_small_window() {
        let doc = b" {\"a\":[1,2]} 12345\n\"s\"[3]{\"b\":{}}";
        let mut got = Vec::new();
        json_values::<serde_json::Value, ()>(&mut &doc[..], 3, 1 << 10, |at, v| {
            got.push((at, v.to_string()));
            Ok(true)
        })
        .unwrap();
        assert_eq!(
            got,
            [
                (1, r#"{"a":[1,2]}"#.to_string()),
                (13, "12345".into()),
                (19, "\"s\"".into()),
                (22, "[3]".into()),
                (25, r#"{"b":{}}"#.into())
            ]
        );
        let bad = json_values::<serde_json::Value, ()>(&mut &b"1 2 {x"[..], 2, 64, |_, _| Ok(true));
        assert!(
            matches!(
                bad,
                Err(RecordError::Syntax {
                    record: 3,
                    at: 4,
                    ..
                })
            ),
            "{bad:?}"
        );
        let long =
            json_values::<serde_json::Value, ()>(&mut &b"[1,2,3,4,5,6,7,8,9]"[..], 2, 8, |_, _| {
                Ok(true)
            });
        assert!(
            matches!(long, Err(RecordError::TooLong { limit: 8 })),
            "{long:?}"
        );
    }

    #[test]
    fn csv_records_with_their_offsets_and_a_cap() {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false);
        let mut got = Vec::new();
        csv_records::<()>(&b, &mut &b"a,b\n\"x,y\",z\n"[..], 64, |n, at, r| {
            got.push((n, at, r.iter().collect::<Vec<_>>().join("|")));
            Ok(true)
        })
        .unwrap();
        assert_eq!(got, [(1, 0, "a|b".to_string()), (2, 4, "x,y|z".into())]);
        // A `\r\n` ends a record where the reader does; the next starts after the `\n`.
        b.terminator(csv::Terminator::CRLF);
        let mut starts = Vec::new();
        csv_records::<()>(&b, &mut &b"a\r\nb\r\n\"c\"\r\nd\re"[..], 64, |_, at, _| {
            starts.push(at);
            Ok(true)
        })
        .unwrap();
        assert_eq!(starts, [0, 3, 6, 11, 13]);
        let mut open = b"a\n\"".to_vec();
        open.extend([b'x'; 50_000]);
        let r = csv_records::<()>(&b, &mut &open[..], 1000, |_, _, _| Ok(true));
        assert!(
            matches!(r, Err(RecordError::TooLong { limit: 1000 })),
            "{r:?}"
        );
    }
}
