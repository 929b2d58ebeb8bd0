//! The manifest: the durable history of which tables make up each level.
//!
//! A manifest file `MANIFEST-NNNNNN` is a log (the [`super::wal`] record format, with its
//! CRCs and torn-tail rules) of [`VersionEdit`]s. Its first record is a snapshot of the whole
//! version; each later record is one flush or compaction. The file `CURRENT` names the live
//! manifest and is replaced atomically (write `CURRENT.tmp`, sync, rename, sync the
//! directory). An edit is synced before the engine acts on it, so after a crash the manifest
//! describes exactly the tables that were fully written; a torn last edit was never acted on.
//!
//! ```text
//! edit := field*
//! field := 1 log_number | 2 next_file_number | 3 last_sequence      (tag varint, value varint)
//!        | 4 level number                                           (delete table)
//!        | 5 level number size_bytes smallest largest               (add table; keys length-prefixed)
//! ```
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};

use crate::io::{Fs, OpenOptions};

use super::coding::{put_bytes, put_varint, Reader};
use super::error::{LsmError, Result};
use super::stats::NUM_LEVELS;
use super::wal::{read_log, WalWriter};

/// A table as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// File number (`NNNNNN.sst`).
    pub number: u64,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Smallest internal key.
    pub smallest: Vec<u8>,
    /// Largest internal key.
    pub largest: Vec<u8>,
}

/// One change to the version set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// Logs numbered below this are no longer needed.
    pub log_number: Option<u64>,
    /// The next unused file number.
    pub next_file_number: Option<u64>,
    /// The largest sequence number durable in tables.
    pub last_sequence: Option<u64>,
    /// Tables removed: (level, number).
    pub deleted: Vec<(u8, u64)>,
    /// Tables added: (level, metadata).
    pub added: Vec<(u8, FileMeta)>,
}

const TAG_LOG: u64 = 1;
const TAG_NEXT_FILE: u64 = 2;
const TAG_LAST_SEQ: u64 = 3;
const TAG_DELETE: u64 = 4;
const TAG_ADD: u64 = 5;

impl VersionEdit {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for (tag, v) in [
            (TAG_LOG, self.log_number),
            (TAG_NEXT_FILE, self.next_file_number),
            (TAG_LAST_SEQ, self.last_sequence),
        ] {
            if let Some(v) = v {
                put_varint(&mut b, tag);
                put_varint(&mut b, v);
            }
        }
        for &(level, number) in &self.deleted {
            put_varint(&mut b, TAG_DELETE);
            put_varint(&mut b, u64::from(level));
            put_varint(&mut b, number);
        }
        for (level, m) in &self.added {
            put_varint(&mut b, TAG_ADD);
            put_varint(&mut b, u64::from(*level));
            put_varint(&mut b, m.number);
            put_varint(&mut b, m.size_bytes);
            put_bytes(&mut b, &m.smallest);
            put_bytes(&mut b, &m.largest);
        }
        b
    }

    /// Decode; `Err` names what is malformed.
    pub fn decode(src: &[u8]) -> std::result::Result<Self, EditError> {
        let mut r = Reader::new(src);
        let mut e = VersionEdit::default();
        let level = |v: u64| -> std::result::Result<u8, EditError> {
            u8::try_from(v)
                .ok()
                .filter(|&l| usize::from(l) < NUM_LEVELS)
                .ok_or(EditError::Level(v))
        };
        while r.remaining() > 0 {
            let tag = r.varint().ok_or(EditError::Truncated("tag"))?;
            match tag {
                TAG_LOG => {
                    e.log_number = Some(r.varint().ok_or(EditError::Truncated("log number"))?)
                }
                TAG_NEXT_FILE => {
                    e.next_file_number = Some(r.varint().ok_or(EditError::Truncated("next file"))?)
                }
                TAG_LAST_SEQ => {
                    e.last_sequence = Some(r.varint().ok_or(EditError::Truncated("sequence"))?)
                }
                TAG_DELETE => {
                    let l = level(r.varint().ok_or(EditError::Truncated("delete"))?)?;
                    let n = r.varint().ok_or(EditError::Truncated("delete"))?;
                    e.deleted.push((l, n));
                }
                TAG_ADD => {
                    let l = level(r.varint().ok_or(EditError::Truncated("add"))?)?;
                    let number = r.varint().ok_or(EditError::Truncated("add"))?;
                    let size_bytes = r.varint().ok_or(EditError::Truncated("add"))?;
                    let smallest = r.bytes().ok_or(EditError::Truncated("add"))?.to_vec();
                    let largest = r.bytes().ok_or(EditError::Truncated("add"))?.to_vec();
                    if smallest.len() < 8 || largest.len() < 8 {
                        return Err(EditError::KeyRange);
                    }
                    e.added.push((
                        l,
                        FileMeta {
                            number,
                            size_bytes,
                            smallest,
                            largest,
                        },
                    ));
                }
                t => return Err(EditError::Tag(t)),
            }
        }
        Ok(e)
    }
}

/// Why a manifest edit does not decode or does not apply (wrapped in
/// [`LsmError::Corruption`] with the manifest's path and the record's offset).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The record ends inside a field (which one).
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A level number past the last level.
    #[error("level {0} out of range")]
    Level(u64),
    /// A table's smallest or largest key is shorter than an internal key.
    #[error("table key range malformed")]
    KeyRange,
    /// A field tag this format does not have.
    #[error("unknown field tag {0}")]
    Tag(u64),
    /// The edit deletes a table the state does not hold.
    #[error("edit deletes table {table} which is not in L{level}")]
    DeletesMissing {
        /// The table's number.
        table: u64,
        /// The level it was said to be in.
        level: u8,
    },
}

/// The manifest's view of the database after replaying every edit.
#[derive(Clone, Debug, Default)]
pub struct ManifestState {
    /// Tables per level, by number.
    pub levels: Vec<std::collections::BTreeMap<u64, FileMeta>>,
    /// Oldest log still needed.
    pub log_number: u64,
    /// Next unused file number.
    pub next_file_number: u64,
    /// Largest sequence number in tables.
    pub last_sequence: u64,
}

impl ManifestState {
    /// An empty database's state.
    pub fn new() -> Self {
        ManifestState {
            levels: vec![Default::default(); NUM_LEVELS],
            log_number: 0,
            next_file_number: 2,
            last_sequence: 0,
        }
    }

    /// Apply one edit.
    pub fn apply(&mut self, e: &VersionEdit) -> std::result::Result<(), EditError> {
        if let Some(v) = e.log_number {
            self.log_number = self.log_number.max(v);
        }
        if let Some(v) = e.next_file_number {
            self.next_file_number = self.next_file_number.max(v);
        }
        if let Some(v) = e.last_sequence {
            self.last_sequence = self.last_sequence.max(v);
        }
        for &(l, n) in &e.deleted {
            if self.levels[l as usize].remove(&n).is_none() {
                return Err(EditError::DeletesMissing { table: n, level: l });
            }
        }
        for (l, m) in &e.added {
            self.levels[*l as usize].insert(m.number, m.clone());
        }
        Ok(())
    }

    /// A single edit recreating this state (the first record of a new manifest).
    pub fn snapshot_edit(&self) -> VersionEdit {
        VersionEdit {
            log_number: Some(self.log_number),
            next_file_number: Some(self.next_file_number),
            last_sequence: Some(self.last_sequence),
            deleted: Vec::new(),
            added: self
                .levels
                .iter()
                .enumerate()
                .flat_map(|(l, m)| {
                    let l = u8::try_from(l).expect("NUM_LEVELS levels, fewer than 256");
                    m.values().map(move |f| (l, f.clone()))
                })
                .collect(),
        }
    }
}

/// `MANIFEST-NNNNNN`.
pub fn manifest_file_name(number: u64) -> String {
    format!("MANIFEST-{number:06}")
}

/// Read `CURRENT` and replay the manifest it names.
pub fn recover(fs: &dyn Fs, dir: &Path) -> Result<(ManifestState, u64)> {
    let current_path = dir.join("CURRENT");
    let current = crate::io::read_file(fs, &current_path)?;
    let name = std::str::from_utf8(&current)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .filter(|s| s.starts_with("MANIFEST-") && !s.contains('/'))
        .ok_or_else(|| {
            LsmError::corruption(&current_path, "CURRENT", 0, "does not name a manifest")
        })?;
    let number: u64 = name["MANIFEST-".len()..]
        .parse()
        .map_err(|_| LsmError::corruption(&current_path, "CURRENT", 0, "bad manifest number"))?;
    let path = dir.join(name);
    let data = crate::io::read_file(fs, &path)?;
    let log = read_log(&path, &data, true)?;
    if log.records.is_empty() {
        return Err(LsmError::corruption(
            &path,
            "manifest",
            0,
            "no snapshot record",
        ));
    }
    let mut state = ManifestState::new();
    for (offset, rec) in &log.records {
        let edit = VersionEdit::decode(rec)
            .map_err(|e| LsmError::corruption(&path, "manifest edit", *offset, e))?;
        state
            .apply(&edit)
            .map_err(|e| LsmError::corruption(&path, "manifest edit", *offset, e))?;
    }
    Ok((state, number))
}

/// Appends edits to the live manifest.
#[derive(Debug)]
pub struct ManifestWriter {
    writer: WalWriter,
    number: u64,
    path: PathBuf,
}

impl ManifestWriter {
    /// Create manifest `number` holding a snapshot of `state`, then point `CURRENT` at it.
    pub fn create(fs: &dyn Fs, dir: &Path, number: u64, state: &ManifestState) -> Result<Self> {
        let path = dir.join(manifest_file_name(number));
        let file = fs.open(&path, OpenOptions::create_truncate())?;
        let mut writer = WalWriter::new(file);
        writer.add_record(&state.snapshot_edit().encode())?;
        writer.sync()?;
        fs.sync_dir(dir)?;
        let tmp = dir.join("CURRENT.tmp");
        crate::io::write_file_durable(
            fs,
            &tmp,
            format!("{}\n", manifest_file_name(number)).as_bytes(),
        )?;
        fs.rename(&tmp, &dir.join("CURRENT"))?;
        fs.sync_dir(dir)?;
        Ok(ManifestWriter {
            writer,
            number,
            path,
        })
    }

    /// Append and sync one edit. When this returns `Ok`, the edit survives any crash.
    pub fn log_edit(&mut self, edit: &VersionEdit) -> Result<()> {
        self.writer.add_record(&edit.encode())?;
        self.writer.sync()
    }

    /// This manifest's number.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// This manifest's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes written so far (used to decide when to start a fresh manifest).
    pub fn len_bytes(&self) -> u64 {
        self.writer.len_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_round_trip() {
        let e = VersionEdit {
            log_number: Some(5),
            next_file_number: Some(9),
            last_sequence: Some(1000),
            deleted: vec![(0, 3), (1, 4)],
            added: vec![(
                1,
                FileMeta {
                    number: 8,
                    size_bytes: 4096,
                    smallest: b"aaaaaaaaa".to_vec(),
                    largest: b"zzzzzzzzz".to_vec(),
                },
            )],
        };
        let b = e.encode();
        assert_eq!(VersionEdit::decode(&b), Ok(e));
        for n in 0..b.len() {
            let _ = VersionEdit::decode(&b[..n]);
        }
        assert!(VersionEdit::decode(&[99]).is_err());
    }
}
