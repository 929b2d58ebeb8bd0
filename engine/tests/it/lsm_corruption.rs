//! Corruption: bytes flipped in a WAL, an SSTable or the manifest are reported on open or on
//! read, naming the file; wrong data is never returned; nothing panics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use seedbed_engine::clock::RealClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::{Db, LsmError, Options, ReadOptions, SyncPolicy};

fn opts() -> Options {
    Options {
        sync: SyncPolicy::Always,
        ..Options::small_for_tests()
    }
}

fn open(dir: &Path) -> Result<Db, LsmError> {
    let fs: FsHandle = Arc::new(PosixFs::new());
    Db::open(fs, dir, opts(), Arc::new(RealClock::new()))
}

fn kv(i: u32) -> (Vec<u8>, Vec<u8>) {
    (
        format!("key{i:05}").into_bytes(),
        format!("value-{i}-{}", "z".repeat((i % 50) as usize)).into_bytes(),
    )
}

/// Build a database; `flush` decides whether data ends in tables or stays in the WAL.
fn build(dir: &Path, n: u32, flush: bool) -> BTreeMap<Vec<u8>, Vec<u8>> {
    build_with(dir, n, flush, Compression::None)
}

/// [`build`] writing tables with `compression`.
fn build_with(
    dir: &Path,
    n: u32,
    flush: bool,
    compression: Compression,
) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let fs: FsHandle = Arc::new(PosixFs::new());
    let mut o = opts();
    o.table.compression = compression;
    let db = Db::open(fs, dir, o, Arc::new(RealClock::new())).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..n {
        let (k, v) = kv(i);
        db.put(&k, &v).unwrap();
        model.insert(k, v);
    }
    if flush {
        db.compact().unwrap();
    }
    db.close().unwrap();
    model
}

fn files_with(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| pred(p.file_name().unwrap().to_str().unwrap()))
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// What reading a damaged database gave.
enum Outcome {
    OpenFailed(LsmError),
    /// Every read either returned the right value or an error naming the damaged file.
    Read {
        errors: usize,
        missing: usize,
    },
}

/// A copy of the database in `base` with byte `off` of file `name` XORed with `mask`.
fn flipped_copy(base: &Path, name: &str, off: u64, mask: u8) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_dir(base, t.path());
    let p = t.path().join(name);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[off as usize] ^= mask;
    std::fs::write(&p, &bytes).unwrap();
    t
}

fn check(dir: &Path, model: &BTreeMap<Vec<u8>, Vec<u8>>, damaged: &str) -> Outcome {
    let db = match open(dir) {
        Ok(db) => db,
        Err(e) => return Outcome::OpenFailed(e),
    };
    let mut errors = 0;
    let mut missing = 0;
    for (k, v) in model {
        match db.get(k) {
            Ok(Some(got)) => assert_eq!(
                &got[..],
                &v[..],
                "wrong value for {:?} after damaging {damaged}",
                String::from_utf8_lossy(k)
            ),
            Ok(None) => missing += 1,
            Err(e) => {
                assert!(
                    e.to_string().contains(damaged),
                    "error {e} does not name {damaged}"
                );
                errors += 1;
            }
        }
    }
    let mut it = db.iter(ReadOptions::default(), None, None);
    match it.seek_to_first() {
        Ok(()) => loop {
            if !it.valid() {
                break;
            }
            assert_eq!(
                model.get(it.key()).map(|v| v.as_slice()),
                Some(it.value()),
                "scan returned wrong data after damaging {damaged}"
            );
            if let Err(e) = it.next() {
                assert!(e.to_string().contains(damaged), "{e}");
                errors += 1;
                break;
            }
        },
        Err(e) => {
            assert!(e.to_string().contains(damaged), "{e}");
            errors += 1;
        }
    }
    Outcome::Read { errors, missing }
}

#[test]
fn flipped_sstable_bytes_are_reported_never_misread() {
    for c in [Compression::None, Compression::Lz4, Compression::Zstd(3)] {
        flipped_sstable_bytes(c);
    }
}

/// Flip bytes across the tables of a database written with `compression`.
fn flipped_sstable_bytes(compression: Compression) {
    let base = tempfile::tempdir().unwrap();
    let model = build_with(base.path(), 3000, true, compression);
    let ssts = files_with(base.path(), |n| n.ends_with(".sst"));
    assert!(!ssts.is_empty());
    let mut detected = 0;
    let mut trials = 0;
    for sst in &ssts {
        let len = std::fs::metadata(sst).unwrap().len();
        let name = sst.file_name().unwrap().to_str().unwrap().to_string();
        // Sample offsets across the file, including the footer.
        let offsets: Vec<u64> = (0..24)
            .map(|i| i * len / 24)
            .chain([len - 1, len - 20, len - 52])
            .collect();
        for off in offsets {
            let t = flipped_copy(base.path(), &name, off, 0x5a);
            trials += 1;
            match check(t.path(), &model, &name) {
                Outcome::OpenFailed(e) => {
                    assert!(e.is_corruption(), "{e}");
                    assert!(e.to_string().contains(&name), "{e}");
                    detected += 1;
                }
                Outcome::Read { errors, missing } => {
                    assert_eq!(
                        missing, 0,
                        "damage at {name}:{off} hid keys without an error"
                    );
                    if errors > 0 {
                        detected += 1;
                    }
                }
            }
        }
    }
    // Every block has a CRC: every flip must be noticed.
    assert_eq!(detected, trials);
}

#[test]
fn flipped_wal_bytes_are_reported_or_cut_at_the_tail() {
    let base = tempfile::tempdir().unwrap();
    let model = build(base.path(), 150, false);
    // The newest log, the one a crash leaves a torn tail in (an older one was synced whole
    // before the next was created, so damage anywhere in it is reported, flips past its
    // records included). Logs are preallocated on a real file system: its records end where
    // its zeros begin.
    let log = files_with(base.path(), |n| n.ends_with(".log"))
        .into_iter()
        .max()
        .unwrap();
    let image = std::fs::read(&log).unwrap();
    let used = image
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i as u64 + 1);
    let name = log.file_name().unwrap().to_str().unwrap().to_string();
    let len = std::fs::metadata(&log).unwrap().len();
    assert!(used > 1000, "the WAL holds the data");
    let mut reported = 0;
    let mut trials = 0;
    for off in (0..len).step_by(97) {
        if off >= used {
            // A flip in the unused space after the last record damages no write: the bytes
            // there are cut as a torn tail, nothing is lost.
            let t = flipped_copy(base.path(), &name, off, 0x01);
            match check(t.path(), &model, &name) {
                Outcome::Read { missing, .. } => assert_eq!(missing, 0, "flip at {off}"),
                Outcome::OpenFailed(e) => panic!("a flip at {off}, past the records: {e}"),
            }
            continue;
        }
        trials += 1;
        let t = flipped_copy(base.path(), &name, off, 0x01);
        match check(t.path(), &model, &name) {
            Outcome::OpenFailed(e) => {
                assert!(e.is_corruption() && e.to_string().contains(&name), "{e}");
                reported += 1;
            }
            Outcome::Read { missing, .. } => {
                // Synced after every write: only damage in the very last record can pass as a
                // torn tail, and it loses only that record.
                assert!(
                    missing <= 1,
                    "damage at {off} of {len} silently lost {missing} writes"
                );
            }
        }
    }
    // Only flips inside the last record may pass as a torn tail.
    assert!(
        reported + 2 >= trials,
        "{reported} of {trials} flips reported"
    );
}

#[test]
fn flipped_manifest_bytes_are_reported() {
    let base = tempfile::tempdir().unwrap();
    let model = build(base.path(), 2000, true);
    let manifest = files_with(base.path(), |n| n.starts_with("MANIFEST-"))
        .pop()
        .unwrap();
    let name = manifest.file_name().unwrap().to_str().unwrap().to_string();
    let len = std::fs::metadata(&manifest).unwrap().len();
    for off in 0..len {
        let t = flipped_copy(base.path(), &name, off, 0x20);
        match check(t.path(), &model, &name) {
            Outcome::OpenFailed(e) => assert!(e.to_string().contains(&name), "{e}"),
            Outcome::Read { errors, missing } => panic!("damage at byte {off} of {name} went unnoticed ({errors} errors, {missing} missing)"),
        }
    }
}

#[test]
fn flipped_current_is_reported() {
    let base = tempfile::tempdir().unwrap();
    let _ = build(base.path(), 10, true);
    let p = base.path().join("CURRENT");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[3] ^= 0x01;
    std::fs::write(&p, &bytes).unwrap();
    let err = open(base.path()).unwrap_err();
    assert!(err.to_string().contains("CURRENT"), "{err}");
}
