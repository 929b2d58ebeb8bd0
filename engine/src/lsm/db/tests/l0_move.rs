//! L0 tables that share no user key move down to L1 unread when a compaction picked by score
//! finds nothing in L1 under them (a sequential load); overlapping ones are merged as before,
//! and a forced compaction (`compact_all`) still rewrites, dropping tombstones.

use std::path::Path;
use std::sync::Arc;

use super::super::Db;
use crate::io::sim::{SimConfig, SimFs};
use crate::io::FsHandle;
use crate::lsm::{Options, ReadOptions};

fn open(sim: &Arc<SimFs>) -> Db {
    let fs: FsHandle = sim.clone();
    let opts = Options::small_for_tests();
    Db::open(fs, Path::new("/db"), opts, sim.clock()).expect("open")
}

/// Four flushed tables: keys `t*stride + i` for table `t`, `i < per_table`.
fn four_tables(db: &Db, stride: u32, per_table: u32) {
    for t in 0..4 {
        for i in 0..per_table {
            let k = format!("key{:06}", t * stride + i);
            db.put(k.as_bytes(), format!("v{t}-{i}").as_bytes())
                .unwrap();
        }
        db.flush().unwrap();
    }
}

fn all(db: &Db) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = db.iter(ReadOptions::default(), None, None);
    it.seek_to_first().unwrap();
    it.collect_forward(usize::MAX).unwrap()
}

#[test]
fn disjoint_l0_tables_move_down_unread() {
    let sim = Arc::new(SimFs::new(1, SimConfig::default()));
    let db = open(&sim);
    four_tables(&db, 100, 20);
    let before = all(&db);
    assert_eq!(db.stats().level_files[0], 4);
    assert!(db.maintenance().unwrap(), "L0 at its trigger compacts");
    let st = db.stats();
    assert_eq!(st.level_files[..2], [0, 4], "{st:?}");
    assert_eq!(st.trivial_moves, 1);
    assert!(
        st.compaction_written_bytes.iter().all(|&b| b == 0),
        "{st:?}"
    );
    assert_eq!(all(&db), before);
    // And the tree survives a reopen as it is.
    drop(db);
    let db = open(&sim);
    assert_eq!(db.stats().level_files[..2], [0, 4]);
    assert_eq!(all(&db), before);
}

#[test]
fn overlapping_l0_tables_are_merged() {
    let sim = Arc::new(SimFs::new(2, SimConfig::default()));
    let db = open(&sim);
    // Each table's keys interleave with the next one's.
    four_tables(&db, 10, 20);
    let before = all(&db);
    assert!(db.maintenance().unwrap());
    let st = db.stats();
    assert_eq!(st.level_files[0], 0);
    assert_eq!(st.trivial_moves, 0);
    assert!(st.compaction_written_bytes[1] > 0, "{st:?}");
    assert_eq!(all(&db), before);
}

#[test]
fn compact_all_still_rewrites_disjoint_l0_and_drops_tombstones() {
    let sim = Arc::new(SimFs::new(3, SimConfig::default()));
    let db = open(&sim);
    four_tables(&db, 100, 20);
    // Tombstones in a fifth table of their own, disjoint from the others: were L0 moved down
    // unread, they would stay in the bottom level.
    for i in 0..10u32 {
        db.delete(format!("key{:06}", 900 + i).as_bytes()).unwrap();
    }
    db.compact_all().unwrap();
    let st = db.stats();
    assert_eq!(st.level_files[0], 0, "{st:?}");
    assert!(st.compaction_written_bytes[1] > 0, "{st:?}");
    let tombstones: u64 = db
        .state()
        .version
        .levels
        .iter()
        .flatten()
        .map(|t| t.reader.properties().tombstones)
        .sum();
    assert_eq!(tombstones, 0, "the bottom level keeps no tombstone");
    assert_eq!(all(&db).len(), 4 * 20);
}
