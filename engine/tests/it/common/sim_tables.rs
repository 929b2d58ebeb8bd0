//! DynamoDB tables on the simulated disk, the way the table crash tests open them, fault them
//! and cut their power.

use std::path::Path;
use std::sync::Arc;

use seedbed_engine::io::sim::{SimFaults, SimFs};
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::{Db, Options};
use seedbed_engine::rng::DetRng;
use seedbed_engine::table::Tables;

/// Open (or create) the tables' database at `/db` on the simulated disk.
pub fn open(fs: &FsHandle, sim: &SimFs) -> Result<(Tables, Arc<Db>), String> {
    let db = Db::open(
        fs.clone(),
        Path::new("/db"),
        Options::small_for_tests(),
        sim.clock(),
    )
    .map_err(|e| e.to_string())?;
    let db = Arc::new(db);
    let t = Tables::open(db.clone(), sim.clock()).map_err(|e| e.to_string())?;
    Ok((t, db))
}

/// Switch on write, torn-write and sync faults at one of three rates, so writes from now on
/// fail part-way now and then.
pub fn start_faults(sim: &SimFs, rng: &mut DetRng) {
    let p = [0.01, 0.05, 0.2][rng.below(3) as usize];
    sim.set_faults(SimFaults {
        write_eio: p,
        torn_write: p,
        sync_eio: p,
        ..SimFaults::none()
    });
}

/// Cut the power: faults off, every unsynced write lost, the tables and their database dropped
/// without a clean close.
pub fn cut_power(sim: &SimFs, t: Tables, db: Arc<Db>) {
    sim.set_faults(SimFaults::none());
    sim.crash();
    drop(t);
    if let Ok(db) = Arc::try_unwrap(db) {
        db.abandon();
    }
}
