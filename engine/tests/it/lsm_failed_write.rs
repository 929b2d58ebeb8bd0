//! A write the database reported as failed must not become durable later: after the log's
//! write fails, the database refuses writes, and closing it (which syncs the log) must not
//! write the failed record after all — the requests answered since did not see it, and a
//! reopen would replay it.

use std::path::Path;
use std::sync::Arc;

use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, Options};

#[test]
fn a_failed_write_stays_failed_after_close_and_reopen() {
    let sim = Arc::new(SimFs::new(7, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let dir = Path::new("/db");
    let open = || Db::open(fs.clone(), dir, Options::small_for_tests(), sim.clock()).unwrap();
    let db = open();
    db.put(b"before", b"1").unwrap();
    sim.set_faults(SimFaults {
        write_eio: 1.0,
        ..SimFaults::default()
    });
    assert!(db.put(b"failed", b"2").is_err());
    sim.set_faults(SimFaults::default());
    // The database is read-only now; the earlier write is still readable.
    assert!(db.put(b"after", b"3").is_err());
    assert_eq!(db.get(b"failed").unwrap(), None);
    db.close().unwrap();
    drop(db);
    let db = open();
    assert_eq!(db.get(b"before").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(db.get(b"failed").unwrap(), None, "a failed write came back");
    assert_eq!(db.get(b"after").unwrap(), None);
}
