//! Crash tests on the simulated disk. Each seed runs a random workload (puts, deletes,
//! batches, syncs, flushes, compactions, with faults switched on now and then so operations
//! fail part-way through: mid-write, mid-flush, mid-compaction, mid-manifest-update), crashes
//! the disk, reopens, and checks that the database equals the model's state at some point
//! between the last synced write and the crash: no synced write lost, nothing invented.
//! Three crash cycles per seed, so recovery itself is crashed into too.
//!
//! `SEEDBED_LSM_CRASH_SEEDS=N` sets the number of seeds (default 1000);
//! `SEEDBED_LSM_CRASH_SEED=S` runs one seed. Every failure prints its one-line repro.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
use seedbed_engine::io::FsHandle;
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::{Db, Options, ReadOptions, SyncPolicy, WriteBatch, WriteOptions};
use seedbed_engine::rng::DetRng;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// One write as the model sees it: a set of (key, value-or-delete).
type Write = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn apply(m: &mut Model, w: &Write) {
    for (k, v) in w {
        match v {
            Some(v) => {
                m.insert(k.clone(), v.clone());
            }
            None => {
                m.remove(k);
            }
        }
    }
}

fn dump(db: &Db) -> Result<Model, String> {
    let mut it = db.iter(ReadOptions::default(), None, None);
    it.seek_to_first().map_err(|e| e.to_string())?;
    Ok(it
        .collect_forward(usize::MAX)
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect())
}

fn options(rng: &mut DetRng) -> Options {
    let mut o = Options::small_for_tests();
    o.write_buffer_bytes = [2048, 4096, 16384][rng.below(3) as usize];
    o.sync = match rng.below(3) {
        0 => SyncPolicy::Always,
        1 => SyncPolicy::Never,
        _ => SyncPolicy::Group {
            interval_ms: 1 + rng.below(5),
            bytes: 512 + rng.below(4096),
        },
    };
    // Tables of every kind, so flushes and compactions crash mid-way through compressed ones.
    o.table.compression =
        [Compression::None, Compression::Lz4, Compression::Zstd(1)][rng.below(3) as usize];
    // Logs created at full length half of the time: a crash then leaves zeros, torn records
    // or both inside the file's length rather than past it.
    o.wal_preallocate = Some(rng.below(2) == 0);
    o
}

fn open(fs: &FsHandle, sim: &SimFs, dir: &Path, o: &Options) -> Result<Db, String> {
    Db::open(fs.clone(), dir, o.clone(), sim.clock()).map_err(|e| e.to_string())
}

/// Run one seed; `Err` describes the violation.
fn run_seed(seed: u64) -> Result<(), String> {
    let mut rng = DetRng::new(seed).fork("lsm-crash-workload");
    let sim = Arc::new(SimFs::new(seed, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let dir = Path::new("/db");
    let opts = options(&mut rng);
    // The writes so far; the recovered state must be the state after some prefix of them.
    let mut history: Vec<Write> = Vec::new();
    let mut durable_prefix = 0usize;
    for cycle in 0..3 {
        let db = match open(&fs, &sim, dir, &opts) {
            Ok(db) => db,
            Err(e) => return Err(format!("cycle {cycle}: reopen failed: {e}")),
        };
        // Recovery check: find the prefix the database equals.
        let got =
            dump(&db).map_err(|e| format!("cycle {cycle}: scan after recovery failed: {e}"))?;
        let mut model = Model::new();
        let mut matched = None;
        for (i, w) in history.iter().enumerate() {
            if i >= durable_prefix && model == got {
                matched = Some(i);
            }
            apply(&mut model, w);
        }
        if model == got {
            matched = Some(history.len());
        }
        if durable_prefix == 0 && got.is_empty() {
            matched = matched.or(Some(0));
        }
        let Some(upto) = matched else {
            return Err(format!(
                "cycle {cycle}: recovered state ({} keys) matches no prefix of the {} writes at or after the {} durable ones",
                got.len(),
                history.len(),
                durable_prefix
            ));
        };
        // Writes after the recovered point never happened; forget them.
        history.truncate(upto);
        durable_prefix = upto;
        // Point reads agree with the scan.
        for (k, v) in got.iter().take(20) {
            let g = db
                .get(k)
                .map_err(|e| format!("cycle {cycle}: get failed: {e}"))?;
            if g.as_deref() != Some(v.as_slice()) {
                return Err(format!(
                    "cycle {cycle}: get {:?} disagrees with scan",
                    String::from_utf8_lossy(k)
                ));
            }
        }
        // Workload.
        let steps = 50 + rng.below(250);
        let faulty_from = if rng.chance(0.5) {
            Some(rng.below(steps))
        } else {
            None
        };
        for step in 0..steps {
            if Some(step) == faulty_from {
                let p = [0.01, 0.05, 0.2][rng.below(3) as usize];
                sim.set_faults(SimFaults {
                    write_eio: p,
                    torn_write: p,
                    sync_eio: p,
                    ..SimFaults::none()
                });
            }
            sim.clock().advance(rng.below(2_000_000));
            let r = rng.below(100);
            let res: Result<(), String> = if r < 70 {
                let mut w: Write = Vec::new();
                let mut b = WriteBatch::new();
                for _ in 0..1 + rng.below(if r < 60 { 1 } else { 8 }) {
                    let k = format!("k{:03}", rng.below(120)).into_bytes();
                    if rng.chance(0.2) {
                        b.delete(&k);
                        w.push((k, None));
                    } else {
                        let v = format!(
                            "v{seed}-{cycle}-{step}-{}",
                            "x".repeat(rng.below(200) as usize)
                        )
                        .into_bytes();
                        b.put(&k, &v);
                        w.push((k, Some(v)));
                    }
                }
                let sync = if rng.chance(0.1) { Some(true) } else { None };
                // Until acknowledged, the write may or may not survive: record it first.
                history.push(w);
                match db.write(b, WriteOptions { sync }) {
                    Ok(()) => {
                        if sync == Some(true) || opts.sync == SyncPolicy::Always {
                            durable_prefix = history.len();
                        }
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            } else if r < 80 {
                db.maintenance().map(|_| ()).map_err(|e| e.to_string())
            } else if r < 84 {
                db.flush().map_err(|e| e.to_string())
            } else if r < 86 {
                db.compact().map_err(|e| e.to_string())
            } else if r < 90 {
                let n = history.len();
                db.sync_wal()
                    .map(|()| durable_prefix = n)
                    .map_err(|e| e.to_string())
            } else {
                let k = format!("k{:03}", rng.below(120)).into_bytes();
                db.get(&k).map(|_| ()).map_err(|e| e.to_string())
            };
            if res.is_err() {
                // An injected fault: the database may refuse further work. Crash now.
                break;
            }
        }
        sim.set_faults(SimFaults::none());
        sim.crash();
        db.abandon();
    }
    Ok(())
}

#[test]
fn crash_recovery_keeps_a_prefix_with_every_synced_write() {
    super::common::sweep::sweep("SEEDBED_LSM_CRASH", 1000, "lsm_crash", run_seed);
}
