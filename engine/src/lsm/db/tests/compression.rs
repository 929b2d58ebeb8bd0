//! Compressed tables in a database: a format-1 database (written before compression existed,
//! kept as a fixture) still opens and reads; tables written with LZ4, zstd and no compression
//! sit side by side in one tree; compaction rewrites them with the current setting.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::super::Db;
use crate::clock::RealClock;
use crate::io::posix::PosixFs;
use crate::io::FsHandle;
use crate::lsm::sstable::compression::BlockType;
use crate::lsm::sstable::Compression;
use crate::lsm::{Options, ReadOptions};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lsm-format-v1")
}

fn open(dir: &Path, compression: Compression) -> Db {
    let fs: FsHandle = Arc::new(PosixFs::new());
    let mut o = Options::small_for_tests();
    o.table.compression = compression;
    Db::open(fs, dir, o, Arc::new(RealClock::new())).expect("open")
}

fn fixture_value(i: u32) -> Vec<u8> {
    format!("value-{i:03}-abcdefghijabcdefghij").into_bytes()
}

/// The fixture: `seedbed kv put key000..key299 value-NNN-...`, then `delete key050`, written by
/// the format-1 engine and flushed to one table on reopen.
fn check_fixture_keys(db: &Db) {
    for i in 0..300u32 {
        let k = format!("key{i:03}");
        let want = (i != 50).then(|| fixture_value(i));
        assert_eq!(
            db.get(k.as_bytes()).unwrap().map(|b| b.to_vec()),
            want,
            "{k}"
        );
    }
}

fn table_types(db: &Db) -> Vec<(u32, BlockType)> {
    let st = db.state();
    st.version
        .levels
        .iter()
        .flatten()
        .map(|t| {
            (
                t.reader.footer().format_version,
                t.reader.properties().compression,
            )
        })
        .collect()
}

#[test]
fn a_format_1_database_opens_reads_and_takes_compressed_tables_beside_its_own() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("db");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(fixture_dir()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let db = open(&dir, Compression::Lz4);
    assert_eq!(table_types(&db), vec![(1, BlockType::None)]);
    check_fixture_keys(&db);
    // New tables in other formats and settings beside the old one.
    let big = |i: u32| format!("{i:05}-").repeat(40).into_bytes();
    for i in 0..200u32 {
        db.put(format!("lz4-{i:04}").as_bytes(), &big(i)).unwrap();
    }
    db.flush().unwrap();
    drop(db);
    let db = open(&dir, Compression::Zstd(3));
    for i in 0..200u32 {
        db.put(format!("zstd-{i:04}").as_bytes(), &big(i)).unwrap();
    }
    db.flush().unwrap();
    let types = table_types(&db);
    for want in [
        (1, BlockType::None),
        (2, BlockType::Lz4),
        (2, BlockType::Zstd),
    ] {
        assert!(types.contains(&want), "{want:?} in {types:?}");
    }
    let compressed: u64 = db
        .state()
        .version
        .levels
        .iter()
        .flatten()
        .map(|t| t.reader.properties().compressed_data_blocks)
        .sum();
    assert!(compressed > 0, "repetitive values compress");
    check_fixture_keys(&db);
    for i in 0..200u32 {
        for p in ["lz4", "zstd"] {
            let k = format!("{p}-{i:04}");
            assert_eq!(
                db.get(k.as_bytes()).unwrap().as_deref(),
                Some(&big(i)[..]),
                "{k}"
            );
        }
    }
    // A scan merges all three kinds of table.
    let mut it = db.iter(ReadOptions::default(), None, None);
    it.seek_to_first().unwrap();
    assert_eq!(it.collect_forward(usize::MAX).unwrap().len(), 299 + 400);
    // Compaction rewrites everything with the current setting.
    db.compact_all().unwrap();
    assert!(table_types(&db)
        .iter()
        .all(|&(v, t)| v == 2 && t == BlockType::Zstd));
    check_fixture_keys(&db);
}
