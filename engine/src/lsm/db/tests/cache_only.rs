//! `ReadOptions::cache_only` (RocksDB's `kBlockCacheTier`): a point lookup answers from the
//! memtables and the block cache, or says it needs the device — never reads it, and never
//! answers wrongly (an absent key the filter rules out is absent, without the device).

use std::path::Path;
use std::sync::Arc;

use super::super::Db;
use crate::io::sim::{SimConfig, SimFs};
use crate::io::FsHandle;
use crate::lsm::{LsmError, Options, ReadOptions};

fn open(sim: &Arc<SimFs>) -> Db {
    let fs: FsHandle = sim.clone();
    Db::open(
        fs,
        Path::new("/db"),
        Options::small_for_tests(),
        sim.clock(),
    )
    .expect("open")
}

const MEMORY: ReadOptions = ReadOptions {
    snapshot_seq: None,
    cache_only: true,
};

#[test]
fn a_cache_only_get_reads_memory_or_says_it_needs_the_device() {
    let sim = Arc::new(SimFs::new(11, SimConfig::default()));
    let db = open(&sim);
    for i in 0..50 {
        db.put(format!("key{i:03}").as_bytes(), b"on disk").unwrap();
    }
    db.flush().unwrap();
    drop(db);

    // Reopened: a cold block cache, the keys in a table on the device.
    let db = open(&sim);
    db.put(b"key007", b"in the memtable").unwrap();
    let misses = db.stats().cache_misses;
    assert_eq!(
        db.get_opt(b"key007", MEMORY).unwrap().as_deref(),
        Some(&b"in the memtable"[..]),
        "the memtable answers, whatever the tables hold"
    );
    match db.get_opt(b"key020", MEMORY) {
        Err(LsmError::NotInCache { .. }) => {}
        other => panic!("a key in an uncached block must need the device: {other:?}"),
    }
    let block_reads = db.stats().block_reads;
    assert_eq!(
        db.get(b"key020").unwrap().as_deref(),
        Some(&b"on disk"[..]),
        "an ordinary get reads the block"
    );
    assert_eq!(db.stats().block_reads, block_reads + 1);
    // The block is cached now: the same lookup, and its neighbours, answer from memory.
    for k in ["key020", "key021"] {
        assert_eq!(
            db.get_opt(k.as_bytes(), MEMORY).unwrap().as_deref(),
            Some(&b"on disk"[..]),
            "{k}"
        );
    }
    assert_eq!(
        db.stats().block_reads,
        block_reads + 1,
        "cache-only lookups read nothing"
    );
    assert!(db.stats().cache_misses > misses);
}
