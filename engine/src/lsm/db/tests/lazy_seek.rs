//! A seek to a key that exists reads only the sources down to the newest one holding it
//! (`MergingIterator::newest_first`); the sources it skipped are positioned on the first step,
//! so every walk after a seek — forward, backward, over tombstones and older versions — sees
//! exactly what a fully positioned merge would.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::super::Db;
use crate::io::sim::{SimConfig, SimFs};
use crate::io::FsHandle;
use crate::lsm::{Options, ReadOptions};

/// The tree, newest first: a memtable (`key005` new, `key080` deleted), L0 table B
/// (`key050..=059`), L0 table A (`key010..=019`), and L1 (`key000..=099`, all older).
/// Returns the database and what a reader must see.
fn layered(sim: &Arc<SimFs>) -> (Db, BTreeMap<Vec<u8>, Vec<u8>>) {
    let fs: FsHandle = sim.clone();
    let db = Db::open(
        fs,
        Path::new("/db"),
        Options::small_for_tests(),
        sim.clock(),
    )
    .expect("open");
    let mut model = BTreeMap::new();
    let mut put = |k: String, v: &str| {
        db.put(k.as_bytes(), v.as_bytes()).unwrap();
        model.insert(k.into_bytes(), v.as_bytes().to_vec());
    };
    for i in 0..100 {
        put(format!("key{i:03}"), "l1");
    }
    db.compact_all().unwrap();
    for i in 10..20 {
        put(format!("key{i:03}"), "l0a");
    }
    db.flush().unwrap();
    for i in 50..60 {
        put(format!("key{i:03}"), "l0b");
    }
    db.flush().unwrap();
    put("key005".into(), "mem");
    db.delete(b"key080").unwrap();
    model.remove(b"key080".as_slice());
    let files = db.stats().level_files;
    assert_eq!(files[0], 2, "two L0 tables: {files:?}");
    assert!(files[1] >= 1, "L1 holds the old keys: {files:?}");
    (db, model)
}

/// Block lookups so far (cache hits and misses alike).
fn block_lookups(db: &Db) -> u64 {
    let s = db.stats();
    s.cache_hits + s.cache_misses
}

#[test]
fn a_seek_to_a_key_in_l0_reads_no_block_of_older_or_unrelated_tables() {
    let sim = Arc::new(SimFs::new(7, SimConfig::default()));
    let (db, model) = layered(&sim);
    let mut it = db.iter(ReadOptions::default(), None, None);
    let before = block_lookups(&db);
    it.seek(b"key015").unwrap();
    assert!(it.valid());
    assert_eq!((it.key(), it.value()), (&b"key015"[..], &b"l0a"[..]));
    // Table A's data block only: table B's range lacks the key, and L1's older version
    // cannot come first.
    assert_eq!(block_lookups(&db) - before, 1);
    // The first step positions the rest: the walk is the model's.
    let got = it.collect_forward(usize::MAX).unwrap();
    let want: Vec<_> = model
        .range(b"key015".to_vec()..)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn every_walk_after_a_seek_sees_what_the_model_holds() {
    let sim = Arc::new(SimFs::new(8, SimConfig::default()));
    let (db, model) = layered(&sim);
    // Keys in each source, between keys, past the end, and the deleted one.
    let targets = [
        "key000", "key005", "key0055", "key010", "key015", "key019", "key020", "key050", "key059",
        "key079", "key080", "key099", "key100", "a", "z",
    ];
    for t in targets {
        let t = t.as_bytes();
        // Forward: the seek's entry and ten steps.
        let mut it = db.iter(ReadOptions::default(), None, None);
        it.seek(t).unwrap();
        let mut got = Vec::new();
        while it.valid() && got.len() < 11 {
            got.push((it.key().to_vec(), it.value().to_vec()));
            it.next().unwrap();
        }
        let want: Vec<_> = model
            .range(t.to_vec()..)
            .take(11)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "forward from {}", String::from_utf8_lossy(t));
        // Backward right after the seek: the entries before the target, newest first.
        let mut it = db.iter(ReadOptions::default(), None, None);
        it.seek(t).unwrap();
        let mut got = Vec::new();
        if it.valid() {
            it.prev().unwrap();
            while it.valid() && got.len() < 6 {
                got.push((it.key().to_vec(), it.value().to_vec()));
                it.prev().unwrap();
            }
        }
        let want: Vec<_> = if model.range(t.to_vec()..).next().is_some() {
            model
                .range(..t.to_vec())
                .rev()
                .take(6)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            Vec::new()
        };
        assert_eq!(got, want, "backward from {}", String::from_utf8_lossy(t));
    }
}
