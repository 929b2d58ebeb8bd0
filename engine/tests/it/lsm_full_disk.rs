//! A full disk: the database turns read-only (reads still served, no acknowledged write lost),
//! and carries on by itself once space is freed — no restart — with nothing of the failed
//! writes left behind: no partial table, no stale log, and after a reopen exactly the
//! acknowledged writes. The disk's capacity is swept so that the first refusal lands on every
//! kind of write in turn: a log append, a memtable rotation's new log, a flush's table, a
//! compaction's tables, a manifest edit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::common::wrap_open::{FileHooks, WrapOpen};
use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
use seedbed_engine::io::{FileHandle, Fs, FsHandle, IoError, OpenOptions, Result};
use seedbed_engine::lsm::{Db, MaintenanceMode, Options};

const DIR: &str = "/db";
/// A file beside the database that takes the space the test later frees.
const FILLER: &str = "/filler";

/// Where the first refusal comes from.
#[derive(Clone, Copy)]
struct How {
    /// Logs take their full length when created.
    preallocate: bool,
    /// Take all free space after this many writes (else the database fills the disk itself).
    squeeze_at: Option<u32>,
}

const DEFAULT: How = How {
    preallocate: true,
    squeeze_at: None,
};

/// A file that takes the free space at `How::squeeze_at`.
const SQUEEZE: &str = "/squeeze";

/// A file that takes whatever space is left once the database is refused.
const REST: &str = "/rest";

/// Write to a new file at `path` until not one more byte fits.
fn fill_rest(fs: &dyn Fs, path: &str) {
    let f = fs.open(Path::new(path), OpenOptions::create_new()).unwrap();
    let mut at = 0u64;
    for chunk in [4096usize, 256, 16, 1] {
        while f.write_at(&vec![9u8; chunk], at).is_ok() {
            at += chunk as u64;
        }
    }
}

fn key(i: u32) -> Vec<u8> {
    // Spread over the key space, so that compactions overlap.
    format!("k{:08}", i.wrapping_mul(2_654_435_761) % 1_000_000).into_bytes()
}

fn value(i: u32) -> Vec<u8> {
    let mut v = format!("v{i}:").into_bytes();
    v.resize(300, b'a' + (i % 26) as u8);
    v
}

/// The table and log files in the directory, by extension.
fn files(fs: &dyn Fs, ext: &str) -> BTreeSet<String> {
    fs.list(Path::new(DIR))
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(ext))
        .collect()
}

/// The file names of the tables in the database's tree.
fn tree_tables(db: &Db) -> BTreeSet<String> {
    db.state()
        .version
        .levels
        .iter()
        .flatten()
        .map(|t| format!("{:06}.sst", t.meta.number))
        .collect()
}

struct Outcome {
    /// The database's first refusal, as the caller saw it.
    refusal: String,
    resumes: u64,
}

/// Fill a disk of `capacity` bytes (with `filler` of it taken by another file, freed later:
/// enough that the database's next compactions fit) until a write is refused for lack of space; check the database is read-only and readable; free the
/// filler; check the next write goes through and more follow; close, reopen, compare.
fn run(seed: u64, capacity: u64, filler: usize, mode: MaintenanceMode, how: How) -> Outcome {
    let sim = Arc::new(SimFs::new(seed, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let opts = Options {
        maintenance: mode,
        // As on a real disk (the simulator's default is off): a rotation's new log then
        // needs its whole length at once.
        wal_preallocate: Some(how.preallocate),
        ..Options::small_for_tests()
    };
    let open = || Db::open(fs.clone(), Path::new(DIR), opts.clone(), sim.clock()).unwrap();
    let f = fs
        .open(Path::new(FILLER), OpenOptions::create_new())
        .unwrap();
    f.write_at(&vec![7u8; filler], 0).unwrap();
    drop(f);
    sim.set_faults(SimFaults {
        capacity_bytes: Some(capacity),
        ..SimFaults::none()
    });
    let db = open();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut i = 0u32;
    let refused = loop {
        assert!(i < 100_000, "capacity {capacity}: the disk never filled");
        if how.squeeze_at == Some(i) {
            // Fill the disk now: the next log append is the write refused.
            fill_rest(&*fs, SQUEEZE);
        }
        let (k, v) = (key(i), value(i));
        i += 1;
        match db.put(&k, &v) {
            Ok(()) => {
                model.insert(k, v);
            }
            Err(e) => break (k, e),
        }
    };
    let (failed_key, e) = refused;
    assert!(e.is_no_space(), "capacity {capacity}: refused for {e}");
    let refusal = e.to_string();
    // Read-only: every acknowledged write still reads back.
    for (k, v) in &model {
        assert_eq!(
            db.get(k).unwrap().as_deref(),
            Some(&v[..]),
            "capacity {capacity}"
        );
    }
    // What the refused write freed (its partial table) may let the next one through; with
    // that taken too, the disk is full and writes are refused, each trying to resume.
    fill_rest(&*fs, REST);
    for _ in 0..3 {
        let again = db.put(b"still-full", b"x").unwrap_err();
        assert!(again.is_no_space(), "{again}");
        let said = again.to_string();
        assert!(
            said.contains("taking writes again needs more free space"),
            "{said}"
        );
    }
    for (k, v) in &model {
        assert_eq!(
            db.get(k).unwrap().as_deref(),
            Some(&v[..]),
            "capacity {capacity}"
        );
    }
    if !model.contains_key(&failed_key) {
        assert_eq!(
            db.get(&failed_key).unwrap(),
            None,
            "a refused write is visible"
        );
    }

    fs.remove_file(Path::new(FILLER)).unwrap();
    fs.remove_file(Path::new(REST)).unwrap();
    // (The database may have filled the disk before the squeeze was due.)
    let _ = fs.remove_file(Path::new(SQUEEZE));
    for _ in 0..100 {
        let (k, v) = (key(i), value(i));
        i += 1;
        db.put(&k, &v)
            .unwrap_or_else(|e| panic!("capacity {capacity}: space is back but {e}"));
        model.insert(k, v);
    }
    let resumes = db.stats().resumes;
    db.maintenance_until_idle().unwrap();
    // Nothing of the failed writes is left: every table is in the tree, one log.
    assert_eq!(
        files(&*fs, ".sst"),
        tree_tables(&db),
        "capacity {capacity}: stray tables"
    );
    assert_eq!(
        files(&*fs, ".log").len(),
        1,
        "capacity {capacity}: stale logs"
    );
    db.close().unwrap();
    drop(db);

    let db = open();
    let mut got = BTreeMap::new();
    let mut it = db.iter(Default::default(), None, None);
    it.seek_to_first().unwrap();
    for (k, v) in it.collect_forward(usize::MAX).unwrap() {
        got.insert(k, v);
    }
    assert_eq!(
        got.len(),
        model.len(),
        "capacity {capacity}: entries after reopen"
    );
    assert!(got == model, "capacity {capacity}: contents after reopen");
    if !model.contains_key(&failed_key) {
        assert_eq!(
            db.get(&failed_key).unwrap(),
            None,
            "a refused write came back"
        );
    }
    assert_eq!(db.get(b"still-full").unwrap(), None);
    Outcome { refusal, resumes }
}

#[test]
fn a_full_disk_refuses_writes_serves_reads_and_recovers_when_space_is_freed() {
    let o = run(1, 300_000, 210_000, MaintenanceMode::Manual, DEFAULT);
    assert_eq!(
        o.resumes, 1,
        "one resume, at the first write after the space came back"
    );
    assert!(
        o.refusal.contains("no space left on device"),
        "{}",
        o.refusal
    );
}

#[test]
fn the_refusal_lands_on_every_kind_of_write_and_each_recovers() {
    let mut refusals = BTreeSet::new();
    for step in 0..40u64 {
        let capacity = 250_000 + step * 7_919;
        let how = How {
            preallocate: step % 2 == 0,
            squeeze_at: (step % 3 == 0).then_some(40 + step as u32 * 7),
        };
        let o = run(
            step,
            capacity,
            capacity as usize * 7 / 10,
            MaintenanceMode::Manual,
            how,
        );
        assert_eq!(o.resumes, 1);
        // "put FILE: no space left" — which file tells the kind of write.
        let what = [".log", ".sst", "MANIFEST", "CURRENT"]
            .into_iter()
            .find(|w| o.refusal.contains(w))
            .unwrap_or("other");
        refusals.insert(what);
    }
    assert!(
        refusals.contains(".log") && refusals.contains(".sst"),
        "the sweep should hit log appends and table writes: {refusals:?}"
    );
}

#[test]
fn with_background_maintenance_the_thread_survives_the_full_disk() {
    for step in 0..6u64 {
        let capacity = 250_000 + step * 13_001;
        let how = How {
            preallocate: true,
            squeeze_at: (step % 2 == 0).then_some(100),
        };
        let o = run(
            100 + step,
            capacity,
            capacity as usize * 7 / 10,
            MaintenanceMode::Background,
            how,
        );
        assert!(o.resumes >= 1);
    }
}

/// Manifest files run out of space while this is set: a write lands half and fails with
/// ENOSPC — a torn edit at the manifest's end, the worst a full disk can leave there
/// (appending after it would hide every later edit from recovery).
#[derive(Debug, Default)]
struct FullManifest(AtomicBool);

impl FileHooks for FullManifest {
    fn write(&self, file: &FileHandle, buf: &[u8], offset: u64) -> Option<Result<()>> {
        if !self.0.load(Ordering::SeqCst) {
            return None;
        }
        Some(file.write_at(&buf[..buf.len() / 2], offset).and_then(|()| {
            Err(IoError::NoSpace {
                op: "write",
                path: file.path().to_path_buf(),
            })
        }))
    }
}

#[test]
fn a_manifest_edit_torn_by_a_full_disk_is_replaced_not_appended_to() {
    let sim = Arc::new(SimFs::new(5, SimConfig::default()));
    let full = Arc::new(FullManifest::default());
    let hooks = full.clone();
    let fs = WrapOpen::wrap(sim.clone(), move |path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        name.starts_with("MANIFEST-")
            .then(|| hooks.clone() as Arc<dyn FileHooks>)
    });
    let open = || {
        Db::open(
            fs.clone(),
            Path::new(DIR),
            Options::small_for_tests(),
            sim.clock(),
        )
        .unwrap()
    };
    let db = open();
    let mut model = BTreeMap::new();
    let mut i = 0u32;
    let put = |db: &Db, i: &mut u32| {
        let (k, v) = (key(*i), value(*i));
        *i += 1;
        db.put(&k, &v).map(|()| (k, v))
    };
    for _ in 0..200 {
        let (k, v) = put(&db, &mut i).unwrap();
        model.insert(k, v);
    }
    full.0.store(true, Ordering::SeqCst);
    // Writes go on until a flush must record its table in the manifest.
    let refusal = loop {
        assert!(i < 10_000, "no flush came");
        match put(&db, &mut i) {
            Ok((k, v)) => {
                model.insert(k, v);
            }
            Err(e) => break e,
        }
    };
    assert!(refusal.is_no_space(), "{refusal}");
    assert!(refusal.to_string().contains("MANIFEST-"), "{refusal}");
    // Still full: each write tries to resume, and the fresh manifest cannot be written either.
    assert!(db.put(b"still-full", b"x").unwrap_err().is_no_space());
    full.0.store(false, Ordering::SeqCst);
    for _ in 0..300 {
        let (k, v) = put(&db, &mut i).unwrap();
        model.insert(k, v);
    }
    assert_eq!(db.stats().resumes, 1);
    db.maintenance_until_idle().unwrap();
    assert_eq!(
        files(&*fs, ".sst"),
        tree_tables(&db),
        "the refused edit's table is left over"
    );
    let manifests = fs.list(Path::new(DIR)).unwrap();
    let manifests: Vec<&String> = manifests
        .iter()
        .filter(|n| n.starts_with("MANIFEST-"))
        .collect();
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    db.close().unwrap();
    drop(db);
    let db = open();
    let mut it = db.iter(Default::default(), None, None);
    it.seek_to_first().unwrap();
    let got: BTreeMap<Vec<u8>, Vec<u8>> = it
        .collect_forward(usize::MAX)
        .unwrap()
        .into_iter()
        .collect();
    assert!(
        got == model,
        "{} entries after reopen, {} acknowledged",
        got.len(),
        model.len()
    );
    assert_eq!(db.get(b"still-full").unwrap(), None);
}
