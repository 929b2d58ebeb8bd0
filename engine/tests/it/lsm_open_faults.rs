//! What an open that meets a disk fault must not lose. Both tests are the engine-level form of
//! a failure the simulator found in the quorum workload (`seedbed sim run --workload quorum
//! --seed 6414` and `--seed 2207`, before their fixes).

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::common::wrap_open::{FileHooks, WrapOpen};
use seedbed_engine::io::sim::{SimConfig, SimCrash, SimFaults, SimFs};
use seedbed_engine::io::{Fs, FsHandle};
use seedbed_engine::lsm::{Db, Options, WriteBatch, WriteOptions};

fn put_synced(db: &Db, key: &[u8], value: &[u8]) {
    let mut b = WriteBatch::new();
    b.put(key, value);
    db.write(b, WriteOptions { sync: Some(true) }).unwrap();
}

/// Seed 6414: the first open created the database directory, then failed to sync its parent
/// (EIO). The node retried; the retry found the directory and took its entry for durable, so
/// it never synced the parent again, and a crash that lost the unsynced `mkdir` took every
/// synced write with it.
#[test]
fn a_retried_open_makes_the_directory_entry_durable() {
    let sim = Arc::new(SimFs::new(11, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let dir = Path::new("/db");
    sim.set_faults(SimFaults {
        sync_eio: 1.0,
        ..SimFaults::none()
    });
    assert!(
        Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).is_err(),
        "every sync fails, so the first open must fail"
    );
    assert!(sim.exists(dir).unwrap(), "the directory was created");
    // Faults stop; a crash will lose every directory change that was not synced.
    sim.set_faults(SimFaults {
        crash: SimCrash {
            keep_write: 0.0,
            tear_write: 0.0,
            lose_dir_change: 1.0,
        },
        ..SimFaults::none()
    });
    let db = Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).unwrap();
    put_synced(&db, b"acknowledged", b"1");
    db.abandon();
    sim.crash();
    let db = Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).unwrap();
    assert_eq!(
        db.get(b"acknowledged").unwrap().as_deref(),
        Some(&b"1"[..]),
        "a synced write vanished with its directory"
    );
}

/// The next `flips` reads of `.log` files return one flipped bit: a transient read fault,
/// which is not on the medium and does not repeat.
#[derive(Debug)]
struct FlakyLogReads(AtomicU32);

impl FileHooks for FlakyLogReads {
    fn after_read(&self, buf: &mut [u8], n: usize) {
        let armed = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
            .is_ok();
        if n > 0 && armed {
            buf[n - 1] ^= 0x10; // in the last record read: a checksum mismatch at the tail
        }
    }
}

/// Seed 2207: a replica reopened its store (after a checksum error elsewhere) and the read of
/// its log returned one flipped bit in the last record, the one a synced, acknowledged write
/// had just put there. A damaged last record looks like a torn append, so recovery cut it and
/// then deleted the log: the write was gone for good, with no crash at all.
#[test]
fn a_flipped_bit_in_one_read_of_the_log_loses_no_synced_write() {
    let sim = Arc::new(SimFs::new(12, SimConfig::default()));
    let flips = Arc::new(FlakyLogReads(AtomicU32::new(0)));
    let hooks = flips.clone();
    let fs = WrapOpen::wrap(sim.clone(), move |path| {
        let log = path.extension().is_some_and(|e| e == "log");
        log.then(|| hooks.clone() as Arc<dyn FileHooks>)
    });
    let dir = Path::new("/db");
    let db = Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).unwrap();
    put_synced(&db, b"first", b"1");
    put_synced(&db, b"acknowledged", b"2");
    db.abandon();
    flips.0.store(1, Ordering::SeqCst);
    let db = Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).unwrap();
    assert_eq!(flips.0.load(Ordering::SeqCst), 0, "the flip happened");
    assert_eq!(db.get(b"first").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(
        db.get(b"acknowledged").unwrap().as_deref(),
        Some(&b"2"[..]),
        "a synced write was cut as a torn tail"
    );
    db.abandon();
    // And after yet another reopen (the first one rewrote the log): still there.
    let db = Db::open(fs, dir, Options::small_for_tests(), sim.clock()).unwrap();
    assert_eq!(db.get(b"acknowledged").unwrap().as_deref(), Some(&b"2"[..]));
}
