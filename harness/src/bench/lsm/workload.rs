//! The workloads, named as in LevelDB/RocksDB `db_bench` and YCSB, and the loop that runs one.
//!
//! `fillseq` and `fillrandom` start from an empty database (with `--threads T`, as in db_bench,
//! every thread runs the whole workload: T sequential fills write the same keys); the others run on whatever the
//! previous workload left. `readseq` is one scan from the first key; `scan` is `reads / 100`
//! range scans of 100 entries from random keys, reported in entries per second. The YCSB mixes
//! are Cooper et al.'s core workloads A–F over a scrambled Zipfian (D: reads favour the newest
//! inserts; E: short scans).

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Result;

use super::engines::Engine;
use super::keys::{Gen, KeyChooser, KeyDist};
use super::{LsmArgs, WorkloadResult};
use crate::output::progress;

/// What a YCSB operation that is not a read does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YcsbWrite {
    /// Overwrite an existing (Zipfian) key.
    Update,
    /// Insert the next new key.
    Insert,
    /// Read a (Zipfian) key, then write it.
    ReadModifyWrite,
}

/// What a YCSB read does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YcsbRead {
    /// A point lookup.
    Get,
    /// A scan of 1..=100 entries.
    Scan,
}

/// One YCSB core workload: the share of reads, and what reads and writes do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YcsbMix {
    /// The letter, `a`..`f`.
    pub letter: char,
    /// Fraction of operations that read.
    pub read_fraction: f64,
    /// What a read is.
    pub read: YcsbRead,
    /// Which keys reads pick.
    pub read_keys: KeyDist,
    /// What the other operations are.
    pub write: YcsbWrite,
}

impl YcsbMix {
    /// The six core workloads.
    pub const ALL: [YcsbMix; 6] = [
        YcsbMix::new('a', 0.5, YcsbRead::Get, KeyDist::Zipfian, YcsbWrite::Update),
        YcsbMix::new(
            'b',
            0.95,
            YcsbRead::Get,
            KeyDist::Zipfian,
            YcsbWrite::Update,
        ),
        YcsbMix::new('c', 1.0, YcsbRead::Get, KeyDist::Zipfian, YcsbWrite::Update),
        YcsbMix::new('d', 0.95, YcsbRead::Get, KeyDist::Latest, YcsbWrite::Insert),
        YcsbMix::new(
            'e',
            0.95,
            YcsbRead::Scan,
            KeyDist::Zipfian,
            YcsbWrite::Insert,
        ),
        YcsbMix::new(
            'f',
            0.5,
            YcsbRead::Get,
            KeyDist::Zipfian,
            YcsbWrite::ReadModifyWrite,
        ),
    ];

    const fn new(
        letter: char,
        read_fraction: f64,
        read: YcsbRead,
        read_keys: KeyDist,
        write: YcsbWrite,
    ) -> Self {
        YcsbMix {
            letter,
            read_fraction,
            read,
            read_keys,
            write,
        }
    }
}

/// One benchmark workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Workload {
    /// Write `num` keys in order into an empty database.
    FillSeq,
    /// Write `num` random keys into an empty database.
    FillRandom,
    /// Write `num` random keys over what is there.
    Overwrite,
    /// `reads` point lookups of random keys.
    ReadRandom,
    /// One forward scan of up to `reads` entries from the first key.
    ReadSeq,
    /// `reads` seeks to random keys (a fresh iterator each, as db_bench does).
    SeekRandom,
    /// `reads / 100` scans of 100 entries from random keys.
    Scan,
    /// A YCSB core workload.
    Ycsb(YcsbMix),
}

impl Workload {
    /// Every workload, in the order `--benchmarks all` runs them.
    pub fn all() -> Vec<Workload> {
        let mut v = vec![
            Workload::FillSeq,
            Workload::FillRandom,
            Workload::Overwrite,
            Workload::ReadRandom,
            Workload::ReadSeq,
            Workload::SeekRandom,
            Workload::Scan,
        ];
        v.extend(YcsbMix::ALL.iter().map(|m| Workload::Ycsb(*m)));
        v
    }

    /// The db_bench / YCSB name.
    pub fn name(&self) -> String {
        match self {
            Workload::FillSeq => "fillseq".into(),
            Workload::FillRandom => "fillrandom".into(),
            Workload::Overwrite => "overwrite".into(),
            Workload::ReadRandom => "readrandom".into(),
            Workload::ReadSeq => "readseq".into(),
            Workload::SeekRandom => "seekrandom".into(),
            Workload::Scan => "scan".into(),
            Workload::Ycsb(m) => format!("ycsb-{}", m.letter),
        }
    }

    /// Whether it writes.
    pub fn writes(&self) -> bool {
        match self {
            Workload::FillSeq | Workload::FillRandom | Workload::Overwrite => true,
            Workload::Ycsb(m) => m.read_fraction < 1.0,
            _ => false,
        }
    }

    /// Whether it starts from an empty database.
    pub fn starts_empty(&self) -> bool {
        matches!(self, Workload::FillSeq | Workload::FillRandom)
    }

    /// Operations it runs (for `scan`, the number of scans).
    fn ops(&self, num: u64, reads: u64) -> u64 {
        match self {
            Workload::FillSeq | Workload::FillRandom | Workload::Overwrite => num,
            Workload::Scan => (reads / 100).max(1),
            _ => reads,
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Workload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Workload::all()
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                let names: Vec<String> = Workload::all().iter().map(Workload::name).collect();
                format!(
                    "unknown workload '{s}': expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Latency samples (nanoseconds) of one workload.
struct Lat(Vec<u32>);

impl Lat {
    fn pct(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let i = ((self.0.len() as f64 - 1.0) * p) as usize;
        f64::from(self.0[i]) / 1000.0
    }
}

/// What one client thread did.
struct ThreadOutcome {
    /// Operations (entries for `scan` and `readseq`).
    counted: u64,
    found: u64,
    lat: Vec<u32>,
}

/// What every client thread shares while running one workload.
struct Shared<'a> {
    db: &'a dyn Engine,
    w: Workload,
    args: &'a LsmArgs,
    /// Operations per thread.
    ops: u64,
    /// Keys in the database so far (YCSB's inserts add to it; all threads draw new keys here).
    inserted: AtomicU64,
    keys: KeyChooser,
    /// YCSB's updates pick Zipfian keys whatever its reads pick.
    zipf_keys: Option<KeyChooser>,
    bar: &'a indicatif::ProgressBar,
}

/// Run `w` against `db` with one client thread per generator in `gens` (db_bench's
/// `--threads`: every thread runs the workload's whole operation count, with its own random
/// stream; throughput is all threads' operations over the wall time).
pub fn run_one(
    db: &dyn Engine,
    w: Workload,
    args: &LsmArgs,
    gens: &mut [Gen],
) -> Result<WorkloadResult> {
    let num = args.num;
    let reads = args.reads.unwrap_or(num);
    let ops = w.ops(num, reads);
    let name = w.name();
    let threads = gens.len() as u64;
    let bar = progress(ops * threads, &name);
    let shared = Shared {
        db,
        w,
        args,
        ops,
        inserted: AtomicU64::new(num),
        keys: KeyChooser::new(
            match w {
                Workload::FillSeq => KeyDist::Sequential,
                Workload::Ycsb(m) => m.read_keys,
                _ => KeyDist::Uniform,
            },
            num,
        ),
        zipf_keys: matches!(w, Workload::Ycsb(_)).then(|| KeyChooser::new(KeyDist::Zipfian, num)),
        bar: &bar,
    };
    let start = Instant::now();
    let outcomes: Vec<Result<ThreadOutcome>> = if gens.len() == 1 {
        vec![run_thread(&shared, &mut gens[0])]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = gens
                .iter_mut()
                .map(|gen| {
                    let shared = &shared;
                    s.spawn(move || run_thread(shared, gen))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a client thread panicked")))
                })
                .collect()
        })
    };
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    bar.finish_and_clear();
    let mut counted = 0;
    let mut found = 0;
    let mut lat = Lat(Vec::new());
    for o in outcomes {
        let o = o?;
        counted += o.counted;
        found += o.found;
        lat.0.extend(o.lat);
    }
    let entry_bytes = (args.key_size + args.value_size) as f64;
    Ok(WorkloadResult {
        name,
        threads,
        ops: counted,
        secs,
        ops_per_sec: counted as f64 / secs,
        mb_per_sec: counted as f64 * entry_bytes / secs / 1e6,
        latency_us_p50: lat.pct(0.5),
        latency_us_p99: lat.pct(0.99),
        found,
        fsync_probe: None,
        sync: None,
    })
}

/// One client thread's loop.
fn run_thread(sh: &Shared<'_>, gen: &mut Gen) -> Result<ThreadOutcome> {
    let db = sh.db;
    let mut key = Vec::with_capacity(sh.args.key_size);
    let mut lat = Vec::with_capacity(sh.ops as usize);
    let mut found = 0u64;
    let mut counted = 0u64;
    if sh.w == Workload::ReadSeq {
        let start = Instant::now();
        counted = db.scan_from_first(sh.ops)?;
        found = counted;
        lat.push((start.elapsed().as_nanos() / u128::from(counted.max(1))) as u32);
        return Ok(ThreadOutcome {
            counted,
            found,
            lat,
        });
    }
    for i in 0..sh.ops {
        let t = Instant::now();
        let inserted = sh.inserted.load(Ordering::Relaxed);
        match sh.w {
            Workload::FillSeq | Workload::FillRandom | Workload::Overwrite => {
                let k = sh.keys.next(i, inserted, &mut gen.rng);
                gen.key(k, &mut key);
                let v = gen.value();
                db.put(&key, v)?;
            }
            Workload::ReadRandom => {
                let k = sh.keys.next(i, inserted, &mut gen.rng);
                gen.key(k, &mut key);
                found += u64::from(db.get(&key)?);
            }
            Workload::SeekRandom => {
                let k = sh.keys.next(i, inserted, &mut gen.rng);
                gen.key(k, &mut key);
                found += u64::from(db.seek_next(&key, 0)?.0);
            }
            Workload::Scan => {
                let k = sh.keys.next(i, inserted, &mut gen.rng);
                gen.key(k, &mut key);
                let (_, n) = db.seek_next(&key, 100)?;
                found += n;
                counted += n;
            }
            Workload::ReadSeq => unreachable!("handled above"),
            Workload::Ycsb(m) => {
                if gen.rng.unit() < m.read_fraction {
                    let k = sh.keys.next(i, inserted, &mut gen.rng);
                    gen.key(k, &mut key);
                    match m.read {
                        YcsbRead::Scan => {
                            let len = 1 + gen.rng.below(100) as usize;
                            found += u64::from(db.seek_next(&key, len)?.1 > 0);
                        }
                        YcsbRead::Get => found += u64::from(db.get(&key)?),
                    }
                } else {
                    let k = match m.write {
                        YcsbWrite::Insert => sh.inserted.fetch_add(1, Ordering::Relaxed),
                        YcsbWrite::Update | YcsbWrite::ReadModifyWrite => {
                            let z = sh.zipf_keys.as_ref().expect("ycsb");
                            z.next(i, inserted, &mut gen.rng)
                        }
                    };
                    gen.key(k, &mut key);
                    if m.write == YcsbWrite::ReadModifyWrite {
                        let _ = db.get(&key)?;
                    }
                    let v = gen.value();
                    db.put(&key, v)?;
                }
            }
        }
        lat.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
        if (i + 1) % 4096 == 0 {
            sh.bar.inc(4096);
        }
    }
    if sh.w != Workload::Scan {
        counted = sh.ops;
    }
    Ok(ThreadOutcome {
        counted,
        found,
        lat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_named() {
        for w in Workload::all() {
            assert_eq!(w.name().parse::<Workload>(), Ok(w));
        }
        let e = "ycsb-g".parse::<Workload>().unwrap_err();
        assert!(e.contains("unknown workload 'ycsb-g'"), "{e}");
    }
}
