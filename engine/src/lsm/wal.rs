//! The write-ahead log: every write batch is appended here before it reaches the memtable, so
//! a crash loses at most the writes that were never synced.
//!
//! ## Format (also in `docs/formats/wal.md`)
//! The file is a sequence of [`BLOCK_BYTES`] blocks. A *logical record* (one write batch) is
//! cut into *fragments* that never cross a block boundary; each fragment has a 7-byte header:
//!
//! ```text
//! crc32(type || payload): u32 LE | payload length: u16 LE | type: u8 | payload
//! ```
//! `type` is FULL (1), FIRST (2), MIDDLE (3) or LAST (4). When fewer than 7 bytes remain in a
//! block they are zero padding. The logical record's first 8 bytes are `durable_upto: u64 LE`:
//! the length of the log prefix that had been synced when this record was written.
//!
//! ## Why blocks and `durable_upto`
//! Fixed blocks let a reader resynchronise after a bad fragment: the next block starts a fresh
//! header. `durable_upto` is how recovery tells a torn tail from real corruption. A bad record at
//! offset `x` is a *torn tail* (cut silently, never misread) unless a later valid record claims
//! that the log was synced past `x` — then synced bytes were damaged and recovery reports
//! [`LsmError::Corruption`] naming the file and offset instead of silently dropping
//! acknowledged writes.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};

use crate::io::{FileHandle, Fs, OpenOptions};

use super::coding::get_u64;
use super::error::{LsmError, Result};

/// Size of a log block in bytes (LevelDB's 32 KiB).
pub const BLOCK_BYTES: usize = 32 * 1024;
/// Bytes of a fragment header: CRC (4), length (2), type (1).
pub const HEADER_BYTES: usize = 7;
/// Largest logical record accepted (a bound on memory during recovery).
pub const RECORD_BYTES_MAX: usize = 256 * 1024 * 1024;
/// Devices persist whole sectors: a torn append ends the file at a multiple of this.
pub const TORN_WRITE_ALIGN_BYTES: usize = 512;
/// Buffered bytes that trigger a write to the file even without a sync.
const BUFFER_FLUSH_BYTES: usize = 64 * 1024;

// The format's sizes, checked when the crate compiles: a header is CRC + length + type; a
// fragment's length must fit the header's u16; a torn write ends inside one block, never
// across two, so blocks are whole sectors; a record's length is carried in u32 arithmetic.
const _: () = assert!(HEADER_BYTES == 4 + 2 + 1);
const _: () = assert!(BLOCK_BYTES - HEADER_BYTES <= u16::MAX as usize);
const _: () = assert!(BLOCK_BYTES.is_multiple_of(TORN_WRITE_ALIGN_BYTES));
const _: () = assert!(RECORD_BYTES_MAX <= u32::MAX as usize);
const _: () = assert!(BUFFER_FLUSH_BYTES >= BLOCK_BYTES);
/// How far ahead of its records a preallocated log is filled with written zeros.
const ZERO_AHEAD_BYTES: usize = 1024 * 1024;
const _: () = assert!(ZERO_AHEAD_BYTES.is_multiple_of(BLOCK_BYTES));
/// The zeros written ahead (static: no allocation per chunk).
static ZEROS: [u8; ZERO_AHEAD_BYTES] = [0; ZERO_AHEAD_BYTES];

/// Fragment types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FragmentType {
    /// A whole record in one fragment.
    Full = 1,
    /// The first fragment of a record.
    First = 2,
    /// A fragment in the middle.
    Middle = 3,
    /// The last fragment.
    Last = 4,
}

impl FragmentType {
    fn from_u8(b: u8) -> Option<Self> {
        match b {
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            _ => None,
        }
    }
}

fn fragment_crc(ty: u8, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&[ty]);
    h.update(payload);
    h.finalize()
}

/// Appends records to one log file. Records are buffered in memory and written to the file
/// when the buffer fills, on [`WalWriter::flush`] and on [`WalWriter::sync`]; only `sync`
/// makes them durable.
#[derive(Debug)]
pub struct WalWriter {
    file: FileHandle,
    /// Encoded bytes not yet written to the file.
    buf: Vec<u8>,
    /// Bytes already written to the file.
    file_bytes: u64,
    /// Offset inside the current block of the next fragment.
    block_offset: usize,
    /// Length of the prefix made durable by the last sync.
    synced_bytes: u64,
    /// The file's preallocated length ([`create_log`]; 0: none).
    preallocated: u64,
    /// Where the written zeros ahead of the records end (see [`WalWriter::preallocated`]).
    zeroed_to: u64,
}

impl WalWriter {
    /// A writer appending to a new, empty file.
    pub fn new(file: FileHandle) -> Self {
        WalWriter {
            file,
            buf: Vec::with_capacity(BUFFER_FLUSH_BYTES * 2),
            file_bytes: 0,
            block_offset: 0,
            synced_bytes: 0,
            preallocated: 0,
            zeroed_to: 0,
        }
    }

    /// A writer for a log [`create_log`] preallocated to `len` bytes. When it syncs, it keeps
    /// the next [`ZERO_AHEAD_BYTES`] past its records filled with *written* zeros: the preallocated
    /// length is a hole, and writing into a hole allocates blocks, which an `fdatasync` must
    /// make durable as well — on a file system without a journal it costs as much as an
    /// append (docs/benchmarks.md, "What is left is the flush"). Writes into blocks already
    /// written need only their data flushed, so one sync per MiB of log pays for the
    /// allocation and the others do not. The zeros are what a preallocated log reads as past
    /// its last record anyway, so the format does not change.
    pub fn preallocated(file: FileHandle, len: u64) -> Self {
        WalWriter {
            preallocated: len,
            ..WalWriter::new(file)
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Logical length: bytes written plus bytes buffered.
    pub fn len_bytes(&self) -> u64 {
        self.file_bytes + self.buf.len() as u64
    }

    /// Bytes appended since the last sync.
    pub fn unsynced_bytes(&self) -> u64 {
        self.len_bytes() - self.synced_bytes
    }

    /// Append one logical record; returns its start offset.
    pub fn add_record(&mut self, payload: &[u8]) -> Result<u64> {
        if payload.len() + 8 > RECORD_BYTES_MAX {
            return Err(LsmError::InvalidArgument(format!(
                "write batch of {} bytes exceeds the WAL record limit of {RECORD_BYTES_MAX}",
                payload.len()
            )));
        }
        let start = self.len_bytes();
        let prefix = self.synced_bytes.to_le_bytes();
        let total = prefix.len() + payload.len();
        let mut written = 0usize;
        let mut first = true;
        // Each pass emits one fragment; a fragment carries at least one byte unless the
        // record is empty, so the loop runs at most total / (BLOCK_BYTES - HEADER_BYTES) + 2 times.
        loop {
            let left_in_block = BLOCK_BYTES - self.block_offset;
            if left_in_block < HEADER_BYTES {
                self.buf.resize(self.buf.len() + left_in_block, 0);
                self.block_offset = 0;
                continue;
            }
            let avail = left_in_block - HEADER_BYTES;
            let frag_len = avail.min(total - written);
            let last = written + frag_len == total;
            let ty = match (first, last) {
                (true, true) => FragmentType::Full,
                (true, false) => FragmentType::First,
                (false, false) => FragmentType::Middle,
                (false, true) => FragmentType::Last,
            } as u8;
            self.emit_fragment(ty, &prefix, payload, written, frag_len);
            written += frag_len;
            first = false;
            if last {
                break;
            }
        }
        if self.buf.len() >= BUFFER_FLUSH_BYTES {
            self.flush()?;
        }
        Ok(start)
    }

    /// Emit one fragment covering `[from, from+len)` of `prefix ++ payload`.
    fn emit_fragment(&mut self, ty: u8, prefix: &[u8; 8], payload: &[u8], from: usize, len: usize) {
        let mut h = crc32fast::Hasher::new();
        h.update(&[ty]);
        let end = from + len;
        let p_lo = from.min(8);
        let p_hi = end.min(8);
        let q_lo = from.max(8) - 8;
        let q_hi = end.max(8) - 8;
        h.update(&prefix[p_lo..p_hi]);
        h.update(&payload[q_lo..q_hi]);
        let crc = h.finalize();
        self.buf.extend_from_slice(&crc.to_le_bytes());
        let len16 = u16::try_from(len).expect("a fragment fits in its 32 KiB block");
        self.buf.extend_from_slice(&len16.to_le_bytes());
        self.buf.push(ty);
        self.buf.extend_from_slice(&prefix[p_lo..p_hi]);
        self.buf.extend_from_slice(&payload[q_lo..q_hi]);
        self.block_offset += HEADER_BYTES + len;
        debug_assert!(self.block_offset <= BLOCK_BYTES);
    }

    /// Write buffered bytes to the file (not durable yet).
    pub fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file.write_at(&self.buf, self.file_bytes)?;
        self.file_bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Forget the encoded bytes not yet written (after a failed write). The writer must not
    /// append again: its block position no longer matches the file. The database stops
    /// accepting writes after a failed one, so nothing does.
    pub fn discard_unwritten(&mut self) {
        self.buf.clear();
    }

    /// Write buffered bytes and make everything appended so far durable.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        if self.synced_bytes == self.file_bytes {
            return Ok(());
        }
        let end = self.file_bytes;
        if end >= self.zeroed_to && end < self.preallocated {
            // The records have reached the end of the zeros: write the next chunk, so that
            // this sync allocates the blocks the next syncs write into. Only a log that is
            // synced pays for it (a log never synced never zeroes).
            let to = (end + ZERO_AHEAD_BYTES as u64).min(self.preallocated);
            let len = usize::try_from(to - end).expect("at most ZERO_AHEAD_BYTES");
            self.file.write_at(&ZEROS[..len], end)?;
            self.zeroed_to = to;
        }
        self.file.sync_data()?;
        self.synced_bytes = self.file_bytes;
        Ok(())
    }
}

/// Create the log file at `path` (truncating one that exists) and, if `preallocate` is not
/// zero, extend it to that many bytes before the first record — a hole, no blocks allocated —
/// and make the length durable. Records are then written *inside* the file's length, so the
/// `fdatasync` after each synced write has data to flush but no file size to commit; on ext4
/// that skips a journal commit for most syncs (1.4× the durable writes of one writer,
/// docs/benchmarks.md). Reading a log stops at the zeros after its last record
/// ([`read_log`]). The caller syncs the directory. The length is a hole: a writer made with
/// [`WalWriter::preallocated`] fills it with written zeros a chunk ahead of its records, so
/// that file systems which must also make a hole's new blocks durable (no journal) get the
/// same cheap syncs.
pub fn create_log(fs: &dyn Fs, path: &Path, preallocate: u64) -> Result<FileHandle> {
    let file = fs.open(path, OpenOptions::create_truncate())?;
    if preallocate > 0 {
        file.truncate(preallocate)?;
        file.sync_data()?;
    }
    Ok(file)
}

/// What recovery read from one log file.
#[derive(Debug, Default)]
pub struct WalContents {
    /// Each valid logical record (without the `durable_upto` prefix) with its start offset.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Where the valid prefix ends; bytes after it were a torn tail and are ignored.
    pub valid_bytes: u64,
    /// If the tail was cut: the offset and reason, for reports.
    pub cut: Option<(u64, String)>,
}

/// One parse step's outcome.
enum Step {
    Fragment {
        ty: FragmentType,
        start: usize,
        payload_start: usize,
        len: usize,
        next: usize,
    },
    End,
    /// `complete`: the whole fragment is present in the file but fails its checks (as
    /// opposed to running past the end of the file, which is what a torn append looks like).
    Bad {
        at: usize,
        why: String,
        complete: bool,
    },
}

fn parse_fragment(data: &[u8], pos: usize) -> Step {
    let block_left = BLOCK_BYTES - pos % BLOCK_BYTES;
    if block_left < HEADER_BYTES {
        // Padding: skip to the next block.
        let next = pos + block_left;
        if next >= data.len() {
            return Step::End;
        }
        return parse_fragment(data, next);
    }
    if pos >= data.len() {
        return Step::End;
    }
    if pos + HEADER_BYTES > data.len() {
        return Step::Bad {
            at: pos,
            why: "truncated fragment header".into(),
            complete: false,
        };
    }
    let crc = u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes"));
    let len = usize::from(u16::from_le_bytes(
        data[pos + 4..pos + 6].try_into().expect("2 bytes"),
    ));
    let ty_byte = data[pos + 6];
    let payload_start = pos + HEADER_BYTES;
    if HEADER_BYTES + len > block_left {
        return Step::Bad {
            at: pos,
            why: format!("fragment length {len} crosses the block end"),
            complete: true,
        };
    }
    if payload_start + len > data.len() {
        return Step::Bad {
            at: pos,
            why: "truncated fragment payload".into(),
            complete: false,
        };
    }
    let Some(ty) = FragmentType::from_u8(ty_byte) else {
        return Step::Bad {
            at: pos,
            why: format!("unknown fragment type {ty_byte}"),
            complete: true,
        };
    };
    if fragment_crc(ty_byte, &data[payload_start..payload_start + len]) != crc {
        return Step::Bad {
            at: pos,
            why: "fragment checksum mismatch".into(),
            complete: true,
        };
    }
    Step::Fragment {
        ty,
        start: pos,
        payload_start,
        len,
        next: payload_start + len,
    }
}

/// Parse a whole log file image. A bad record is cut as a torn tail unless a later valid
/// record proves the bad bytes were synced; then this returns [`LsmError::Corruption`].
///
/// `strict` is for logs whose every record is one write followed by a sync before the next
/// (the manifest): there, the only way a crash damages a record is by cutting it short, so a
/// record that is all there but fails its checksum is corruption even at the tail.
pub fn read_log(path: &Path, data: &[u8], strict: bool) -> Result<WalContents> {
    let mut out = WalContents::default();
    let mut pos = 0usize;
    let mut record: Vec<u8> = Vec::new();
    let mut record_start: Option<usize> = None;
    let bad: Option<(usize, String)>;
    // Bound: every step advances `pos` by at least one header.
    loop {
        match parse_fragment(data, pos) {
            Step::End => {
                bad = record_start.map(|s| (s, "record ends before its LAST fragment".to_string()));
                break;
            }
            Step::Bad { at, .. } if !strict && data[at..].iter().all(|&b| b == 0) => {
                // Nothing was ever written from here on: the zeros of a preallocated log
                // ([`create_log`]), where the file ends as far as records go.
                bad = record_start.map(|s| (s, "record ends before its LAST fragment".to_string()));
                break;
            }
            Step::Bad { at, why, complete } => {
                // A torn append ends the file at a sector boundary (devices persist whole
                // sectors), or — on file systems that commit the new length before the data —
                // leaves whole zero sectors up to the end of the file. A strict log's damaged
                // record of any other shape was damaged after it was written.
                let torn_shape = (!complete && data.len().is_multiple_of(TORN_WRITE_ALIGN_BYTES))
                    || zero_sectors_to_end(data, at);
                if strict && !torn_shape {
                    return Err(LsmError::corruption(
                        path,
                        "log record",
                        at as u64,
                        format!("{why} (not the shape of a torn append)"),
                    ));
                }
                bad = Some((record_start.unwrap_or(at), why));
                break;
            }
            Step::Fragment {
                ty,
                start,
                payload_start,
                len,
                next,
            } => {
                let payload = &data[payload_start..payload_start + len];
                match ty {
                    FragmentType::Full | FragmentType::First => {
                        if record_start.is_some() {
                            bad = Some((
                                record_start.unwrap_or(start),
                                "record missing its LAST fragment".into(),
                            ));
                            break;
                        }
                        record.clear();
                        record.extend_from_slice(payload);
                        record_start = Some(start);
                    }
                    FragmentType::Middle | FragmentType::Last => {
                        if record_start.is_none() {
                            bad = Some((start, "fragment without a FIRST".into()));
                            break;
                        }
                        record.extend_from_slice(payload);
                    }
                }
                if record.len() > RECORD_BYTES_MAX {
                    bad = Some((record_start.unwrap_or(start), "record too large".into()));
                    break;
                }
                pos = next;
                if matches!(ty, FragmentType::Full | FragmentType::Last) {
                    if record.len() < 8 {
                        bad = Some((
                            record_start.unwrap_or(start),
                            "record shorter than its 8-byte prefix".into(),
                        ));
                        break;
                    }
                    let rs = record_start.take().unwrap_or(start);
                    out.records.push((rs as u64, record[8..].to_vec()));
                    out.valid_bytes = pos as u64;
                }
            }
        }
    }
    if let Some((at, why)) = bad {
        // Look past the damage for any valid record whose prefix says the log was synced
        // beyond `at`: then the damaged bytes were durable, which a crash cannot explain.
        let claimed = max_durable_claim_after(data, at);
        if claimed > at as u64 {
            return Err(LsmError::corruption(
                path,
                "wal record",
                at as u64,
                format!("{why}; a later record shows the log was synced up to byte {claimed}"),
            ));
        }
        out.cut = Some((at as u64, why));
        out.valid_bytes = at as u64;
    }
    Ok(out)
}

/// Reads of one log file, at most, while looking for two that agree (see [`read_log_file`]).
pub const LOG_READS_MAX: usize = 4;

/// Read and parse the log at `path` for recovery (not strict: see [`read_log`]).
///
/// A parse that ends early — a cut tail or a corruption error — is believed only once a second
/// read of the file returns the same bytes. A read can return a flipped bit that is not on the
/// medium (a transient fault between the device and memory); parsed as it came, a flip in the
/// last record looks exactly like a torn append, and recovery would cut a synced,
/// acknowledged write and then delete the log that held it (simulator seed `quorum 2207` lost
/// a write that way). A log that parses cleanly is read once, as before; one with a real torn
/// tail or real damage is read twice and the two reads agree.
pub fn read_log_file(fs: &dyn Fs, path: &Path) -> Result<WalContents> {
    let mut data = crate::io::read_file(fs, path)?;
    let mut parsed = read_log(path, &data, false);
    // Bound: LOG_READS_MAX reads in all.
    for _ in 1..LOG_READS_MAX {
        if matches!(&parsed, Ok(c) if c.cut.is_none()) {
            break;
        }
        let again = crate::io::read_file(fs, path)?;
        if again == data {
            break; // what the medium holds: the cut or the damage is real
        }
        data = again;
        parsed = read_log(path, &data, false);
    }
    parsed
}

/// Whether the file ends in at least one whole zero sector, starting at a sector boundary
/// inside (or just before) the damaged record at `at`: what an append looks like when the file
/// system committed the new length but not the data. Records never end in a whole sector of
/// zeros (a record's own trailing zeros are a few bytes of key trailer at most).
fn zero_sectors_to_end(data: &[u8], at: usize) -> bool {
    let last_nonzero = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let zeros_from = last_nonzero.next_multiple_of(TORN_WRITE_ALIGN_BYTES);
    zeros_from + TORN_WRITE_ALIGN_BYTES <= data.len()
        && zeros_from + TORN_WRITE_ALIGN_BYTES > at
        && zeros_from <= at + BLOCK_BYTES
}

/// The largest `durable_upto` claimed by any valid FULL or FIRST fragment found after
/// `bad_at`. The scan resynchronises byte by byte (a damaged length field hides where the next
/// fragment starts): a position counts only if its header is plausible and its CRC matches,
/// which random bytes pass with probability 2^-32.
fn max_durable_claim_after(data: &[u8], bad_at: usize) -> u64 {
    let mut best = 0u64;
    let mut pos = bad_at + 1;
    // Bound: one pass over the rest of the file.
    while pos + HEADER_BYTES + 8 <= data.len() {
        let block_left = BLOCK_BYTES - pos % BLOCK_BYTES;
        let ty = data[pos + 6];
        let len = usize::from(u16::from_le_bytes([data[pos + 4], data[pos + 5]]));
        let plausible = (ty == FragmentType::Full as u8 || ty == FragmentType::First as u8)
            && len >= 8
            && HEADER_BYTES + len <= block_left
            && pos + HEADER_BYTES + len <= data.len();
        if plausible {
            if let Step::Fragment { payload_start, .. } = parse_fragment(data, pos) {
                if let Some(v) = get_u64(data, payload_start) {
                    best = best.max(v);
                }
            }
        }
        pos += 1;
    }
    best
}

/// A log file's name: `NNNNNN.log`.
pub fn log_file_name(number: u64) -> String {
    format!("{number:06}.log")
}

/// The path of log `number` in `dir`.
pub fn log_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(log_file_name(number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{posix::PosixFs, Fs, OpenOptions};
    use std::sync::Arc;

    fn write_records(
        records: &[Vec<u8>],
        sync_each: bool,
    ) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000001.log");
        let fs = Arc::new(PosixFs::new());
        let file = fs.open(&path, OpenOptions::create_truncate()).unwrap();
        let mut w = WalWriter::new(file);
        for r in records {
            w.add_record(r).unwrap();
            if sync_each {
                w.sync().unwrap();
            }
        }
        w.flush().unwrap();
        let data = std::fs::read(&path).unwrap();
        (dir, path, data)
    }

    fn sample() -> Vec<Vec<u8>> {
        vec![
            b"hello".to_vec(),
            vec![7u8; BLOCK_BYTES * 2 + 100],
            Vec::new(),
            vec![9u8; BLOCK_BYTES - HEADER_BYTES - 8 - 3],
            b"tail".to_vec(),
        ]
    }

    #[test]
    fn round_trip_across_blocks() {
        let recs = sample();
        let (_d, path, data) = write_records(&recs, false);
        let got = read_log(&path, &data, false).unwrap();
        assert!(got.cut.is_none());
        assert_eq!(
            got.records.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            recs
        );
        assert_eq!(got.valid_bytes, data.len() as u64);
    }

    #[test]
    fn every_truncation_is_a_clean_prefix() {
        let recs = sample();
        let (_d, path, data) = write_records(&recs, false);
        for cut in (0..data.len()).step_by(97).chain([data.len() - 1, 1, 7, 8]) {
            let got = read_log(&path, &data[..cut], false).unwrap();
            let n = got.records.len();
            assert!(n <= recs.len());
            for (i, r) in got.records.iter().enumerate() {
                assert_eq!(r.1, recs[i], "cut {cut}");
            }
        }
    }

    #[test]
    fn strict_logs_cut_torn_shapes_and_report_flips() {
        let recs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i + 1; 300]).collect();
        let (_d, path, data) = write_records(&recs, true);
        // Cut at a sector boundary inside the last record: torn, cut.
        let last_start = 4 * (300 + 8 + HEADER_BYTES);
        let cut = (last_start / 512 + 1) * 512;
        assert!(cut < data.len());
        assert_eq!(
            read_log(&path, &data[..cut], true).unwrap().records.len(),
            4
        );
        // Same length, but the tail zeroed from that boundary (length committed, data not).
        let mut zeroed = data.clone();
        zeroed[cut..].iter_mut().for_each(|b| *b = 0);
        zeroed.resize(cut + 512, 0);
        assert_eq!(read_log(&path, &zeroed, true).unwrap().records.len(), 4);
        // A flipped byte in the complete last record: corruption.
        let mut flipped = data.clone();
        flipped[last_start + 20] ^= 1;
        assert!(read_log(&path, &flipped, true).unwrap_err().is_corruption());
        // Cut mid-sector: not a torn shape, corruption.
        assert!(read_log(&path, &data[..cut - 3], true)
            .unwrap_err()
            .is_corruption());
    }

    #[test]
    fn unsynced_garbage_tail_is_cut_but_synced_damage_is_reported() {
        let recs: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 3000]).collect();
        // Not synced: flipping a byte in record 5 cuts the log there.
        let (_d, path, mut data) = write_records(&recs, false);
        data[5 * 3015 + 20] ^= 0x40;
        let got = read_log(&path, &data, false).unwrap();
        assert_eq!(got.records.len(), 5);
        assert!(got.cut.is_some());
        // Synced after every record: the same damage is corruption, named with the offset.
        let (_d2, path2, mut data2) = write_records(&recs, true);
        data2[5 * 3015 + 20] ^= 0x40;
        let err = read_log(&path2, &data2, false).unwrap_err();
        assert!(err.is_corruption(), "{err}");
        assert!(err.to_string().contains("000001.log"), "{err}");
    }

    /// A preallocated log that syncs keeps written zeros (allocated blocks, not a hole) a
    /// chunk ahead of its records, so that the syncs of the next records flush data only; what
    /// it holds reads back as before, and the zeros end it.
    #[test]
    fn a_preallocated_log_writes_zeros_ahead_of_its_records() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("000001.log");
        let fs = PosixFs::new();
        let len = 4 * ZERO_AHEAD_BYTES as u64;
        let mut w = WalWriter::preallocated(create_log(&fs, &path, len).unwrap(), len);
        let allocated = || std::fs::metadata(&path).unwrap().blocks() * 512;
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        assert!(allocated() < 64 * 1024, "a fresh log is a hole");
        // A file system that stores written zeros as holes (ZFS or btrfs with compression)
        // shows no allocation to check; the zeros still read back as the end of the log.
        let probe = dir.path().join("probe");
        std::fs::write(&probe, vec![0u8; 256 * 1024]).unwrap();
        std::fs::File::open(&probe).unwrap().sync_all().unwrap();
        let zeros_allocate = std::fs::metadata(&probe).unwrap().blocks() * 512 >= 256 * 1024;
        if !zeros_allocate {
            eprintln!("written zeros take no blocks here: allocation not checked");
        }
        let recs: Vec<Vec<u8>> = (0..500u32)
            .map(|i| vec![(i % 250) as u8 + 1; 9000])
            .collect();
        let mut ahead_seen = 0;
        for r in &recs {
            w.add_record(r).unwrap();
            w.sync().unwrap();
            // Everything up to the zeroed frontier is allocated (the file system may
            // allocate a little more, never less).
            assert!(
                w.zeroed_to >= w.len_bytes().min(len),
                "{} {}",
                w.zeroed_to,
                w.len_bytes()
            );
            assert!(
                !zeros_allocate || allocated() >= w.zeroed_to,
                "{} < {}",
                allocated(),
                w.zeroed_to
            );
            ahead_seen = ahead_seen.max(w.zeroed_to - w.len_bytes().min(w.zeroed_to));
        }
        assert!(ahead_seen > ZERO_AHEAD_BYTES as u64 / 2, "{ahead_seen}");
        // 500 records of 9 KB run past the preallocated 4 MiB: the log grows as before.
        assert!(w.len_bytes() > len);
        assert_eq!(w.zeroed_to, len);
        let data = std::fs::read(&path).unwrap();
        let got = read_log(&path, &data, false).unwrap();
        assert_eq!(got.records.len(), recs.len());
        assert!(got.records.iter().zip(&recs).all(|((_, a), b)| a == b));

        // A shorter log: its zeros past the last record end it, nothing cut.
        let path2 = dir.path().join("000002.log");
        let mut w2 = WalWriter::preallocated(create_log(&fs, &path2, len).unwrap(), len);
        for r in &recs[..10] {
            w2.add_record(r).unwrap();
        }
        w2.sync().unwrap();
        assert!(w2.zeroed_to > w2.len_bytes());
        assert!(w2.zeroed_to <= w2.len_bytes() + ZERO_AHEAD_BYTES as u64);
        // A log that is never synced writes no zeros (nothing would gain from them).
        let path3 = dir.path().join("000003.log");
        let mut w3 = WalWriter::preallocated(create_log(&fs, &path3, len).unwrap(), len);
        for r in &recs[..50] {
            w3.add_record(r).unwrap();
        }
        w3.flush().unwrap();
        assert_eq!(w3.zeroed_to, 0);
        let data2 = std::fs::read(&path2).unwrap();
        assert_eq!(data2.len() as u64, len);
        let got2 = read_log(&path2, &data2, false).unwrap();
        assert_eq!((got2.records.len(), got2.cut), (10, None));
    }

    #[test]
    fn a_preallocated_logs_zeros_end_it_and_a_torn_record_before_them_is_cut() {
        let recs: Vec<Vec<u8>> = (0..12u8).map(|i| vec![i + 1; 3000]).collect();
        let (_d, path, mut data) = write_records(&recs, false);
        let used = data.len();
        // The zeros a preallocated log holds past its last record: the end, not damage.
        data.resize(used + 5 * BLOCK_BYTES + 123, 0);
        let got = read_log(&path, &data, false).unwrap();
        assert_eq!(got.records.len(), 12);
        assert_eq!(got.cut, None);
        assert_eq!(got.valid_bytes, used as u64);
        // A record torn inside the file's length (its end never written): cut there, as a
        // torn append at the end of a file is.
        let torn_at = 10 * 3015;
        data[torn_at + 1500..used].fill(0);
        let got = read_log(&path, &data, false).unwrap();
        assert_eq!(got.records.len(), 10);
        assert_eq!(got.cut.map(|(at, _)| at), Some(torn_at as u64));
        // A strict log (the manifest, never preallocated) keeps its rule: the zeros are cut
        // and reported.
        let (_d2, path2, mut data2) = write_records(&recs, true);
        data2.resize(data2.len() + BLOCK_BYTES, 0);
        let got = read_log(&path2, &data2, true).unwrap();
        assert_eq!(got.records.len(), 12);
        assert!(got.cut.is_some());
    }
}
