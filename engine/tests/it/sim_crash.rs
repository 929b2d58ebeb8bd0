//! Property tests of the simulated disk's crash semantics, over thousands of seeds.
//!
//! Each case builds a random workload from its seed, mirrors it in a tiny model (durable bytes
//! plus every version a file passed through since its last sync), crashes the disk, and checks
//! what survived against the model:
//!
//! - synced data always survives, byte for byte;
//! - every byte after the crash is the old durable byte, a byte some version of the file held
//!   at that offset, or zero (a gap whose data never landed) — nothing else ever appears;
//! - stronger, the sector rule: each 512-byte sector holds the content that sector had at one
//!   moment since the last sync, never a mix of two moments (a surviving truncate may have
//!   zeroed its tail);
//! - every unsynced write is kept, dropped or torn at a sector boundary, as the report says;
//! - the same seed gives the same outcome;
//! - directory entries synced with `sync_dir` always survive; no file ever shows up under two
//!   names; an entry changed since its last sync holds one of the values it had.
//!
//! A failure prints the seed; rerun one case with `SIM_CRASH_SEED=<seed> cargo test -p
//! seedbed-engine --test it sim_crash::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use seedbed_engine::io::sim::{
    CrashReport, Fate, SimConfig, SimCrash, SimFaults, SimFs, SimLatency,
};
use seedbed_engine::io::{read_file, write_file_durable, FileHandle, Fs, OpenOptions};
use seedbed_engine::rng::DetRng;

const SECTOR: usize = 512;

/// Seeds per property (debug build): a few thousand, a few seconds each.
const FILE_SEEDS: u64 = 3_000;
const DIR_SEEDS: u64 = 3_000;

/// The seeds to run: all of them, or just `SIM_CRASH_SEED` when set (to replay a failure).
fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("SIM_CRASH_SEED") {
        Ok(s) => vec![s.parse().expect("SIM_CRASH_SEED must be a number")],
        Err(_) => (0..count).collect(),
    }
}

fn quiet(crash: SimCrash) -> SimConfig {
    SimConfig {
        faults: SimFaults {
            crash,
            ..SimFaults::none()
        },
        latency: SimLatency::zero(),
    }
}

/// A crash policy drawn from the seed, so the whole space (keep-all to lose-all) gets visited.
fn random_policy(rng: &mut DetRng) -> SimCrash {
    match rng.below(4) {
        0 => SimCrash::default(),
        1 => SimCrash::keep_all(),
        2 => SimCrash::lose_all(),
        _ => {
            let keep = rng.unit();
            let tear = rng.unit() * (1.0 - keep);
            SimCrash {
                keep_write: keep,
                tear_write: tear,
                lose_dir_change: rng.unit(),
            }
        }
    }
}

fn random_bytes(rng: &mut DetRng, len: usize) -> Vec<u8> {
    // Never zero, so a zero after a crash is unambiguously "nothing landed here".
    (0..len).map(|_| 1 + rng.below(255) as u8).collect()
}

// ---------------------------------------------------------------------------------------------
// File contents
// ---------------------------------------------------------------------------------------------

/// One file as the model sees it.
#[derive(Clone, Debug, Default)]
struct ModelFile {
    /// Content at the last successful sync.
    durable: Vec<u8>,
    /// Content after each unsynced operation, in order (empty when everything is synced).
    versions: Vec<Vec<u8>>,
}

impl ModelFile {
    fn current(&self) -> &[u8] {
        self.versions.last().unwrap_or(&self.durable)
    }

    fn push(&mut self, next: Vec<u8>) {
        self.versions.push(next);
    }
}

/// Run the file workload of `seed`; returns the crash report, the model before the crash, and
/// every file's content after it.
///
/// With `write_faults`, writes and appends may fail with EIO or tear (a sector-aligned prefix
/// lands); the model then reads back what the disk shows and records that as the next version.
fn file_case(seed: u64, write_faults: bool) -> (CrashReport, Vec<ModelFile>, Vec<Vec<u8>>) {
    let mut rng = DetRng::new(seed).fork("workload");
    let policy = random_policy(&mut rng);
    let fs = SimFs::new(seed, quiet(policy.clone()));
    let files = 1 + rng.below(3) as usize;
    let paths: Vec<PathBuf> = (0..files)
        .map(|i| PathBuf::from(format!("/f{i}")))
        .collect();
    let mut model = vec![ModelFile::default(); files];
    let mut handles: Vec<FileHandle> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let len = rng.below(3000) as usize;
        let init = random_bytes(&mut rng, len);
        write_file_durable(&fs, path, &init).unwrap();
        model[i].durable = init;
        handles.push(fs.open(path, OpenOptions::read_write()).unwrap());
    }
    if write_faults {
        fs.set_faults(SimFaults {
            torn_write: 0.2,
            write_eio: 0.1,
            crash: policy,
            ..SimFaults::none()
        });
    }
    let read_back = |f: &FileHandle| {
        let mut all = vec![0u8; f.len().unwrap() as usize];
        f.read_exact_at(&mut all, 0).unwrap();
        all
    };
    let ops = rng.below(25);
    for _ in 0..ops {
        let i = rng.below(files as u64) as usize;
        let (f, m) = (&handles[i], &mut model[i]);
        let mut next = m.current().to_vec();
        match rng.below(10) {
            0..=4 => {
                let offset = rng.below(4000) as usize;
                let len = 1 + rng.below(1500) as usize;
                let data = random_bytes(&mut rng, len);
                if f.write_at(&data, offset as u64).is_err() {
                    assert!(write_faults, "seed {seed}: write failed without faults");
                    let seen = read_back(f);
                    // Whatever landed is a prefix of the write.
                    assert!(seen.len() >= next.len().min(offset), "seed {seed}");
                    m.push(seen);
                    continue;
                }
                if next.len() < offset + data.len() {
                    next.resize(offset + data.len(), 0);
                }
                next[offset..offset + data.len()].copy_from_slice(&data);
                m.push(next);
            }
            5..=6 => {
                let len = 1 + rng.below(700) as usize;
                let data = random_bytes(&mut rng, len);
                let Ok(at) = f.append(&data) else {
                    assert!(write_faults, "seed {seed}: append failed without faults");
                    m.push(read_back(f));
                    continue;
                };
                assert_eq!(at as usize, next.len(), "seed {seed}: append offset");
                next.extend_from_slice(&data);
                m.push(next);
            }
            7 => {
                let len = rng.below(4000) as usize;
                f.truncate(len as u64).unwrap();
                next.resize(len, 0);
                m.push(next);
            }
            _ => {
                f.sync_data().unwrap();
                m.durable = next;
                m.versions.clear();
            }
        }
    }
    for (f, m) in handles.iter().zip(&model) {
        assert_eq!(
            f.len().unwrap() as usize,
            m.current().len(),
            "seed {seed}: length"
        );
    }
    let report = fs.crash();
    let after = paths.iter().map(|p| read_file(&fs, p).unwrap()).collect();
    (report, model, after)
}

/// Check one file's post-crash content against the model.
fn check_file(seed: u64, idx: usize, m: &ModelFile, got: &[u8]) {
    let ctx = || format!("seed {seed}, file f{idx}");
    if m.versions.is_empty() {
        assert_eq!(
            got,
            &m.durable[..],
            "{}: synced data must survive exactly",
            ctx()
        );
        return;
    }
    let max_len = m
        .versions
        .iter()
        .chain([&m.durable])
        .map(Vec::len)
        .max()
        .unwrap();
    assert!(
        got.len() <= max_len,
        "{}: length {} > any version",
        ctx(),
        got.len()
    );
    let all_versions: Vec<&Vec<u8>> = std::iter::once(&m.durable).chain(&m.versions).collect();
    // Byte rule.
    for (o, &b) in got.iter().enumerate() {
        let ok = b == 0 || all_versions.iter().any(|v| v.get(o) == Some(&b));
        assert!(ok, "{}: byte {b:#x} at {o} was never written there", ctx());
    }
    // Sector rule: the visible part of each sector is the content it had at one moment (one
    // version, zero padded past that version's end), except that a surviving truncate may
    // have zeroed its tail: got[start..c] == version[start..c] and got[c..end] == 0.
    for start in (0..got.len()).step_by(SECTOR) {
        let end = (start + SECTOR).min(got.len());
        let zeros_from = (start..end)
            .rev()
            .take_while(|&o| got[o] == 0)
            .last()
            .unwrap_or(end);
        let matches = all_versions
            .iter()
            .any(|v| (start..zeros_from).all(|o| v.get(o).copied().unwrap_or(0) == got[o]));
        assert!(
            matches,
            "{}: sector at {start} mixes bytes from different moments",
            ctx()
        );
    }
}

#[test]
fn unsynced_writes_survive_whole_vanish_or_tear_and_nothing_else() {
    let mut fates = BTreeMap::<&str, u64>::new();
    for seed in seeds(FILE_SEEDS) {
        let (report, model, after) = file_case(seed, false);
        for (i, (m, got)) in model.iter().zip(&after).enumerate() {
            check_file(seed, i, m, got);
        }
        // The report accounts for exactly the unsynced operations of the model.
        let pending: usize = model.iter().map(|m| m.versions.len()).sum();
        let reported: usize = report.files.iter().map(|f| f.ops.len()).sum();
        assert_eq!(
            pending, reported,
            "seed {seed}: report covers every unsynced op"
        );
        for file in &report.files {
            for op in &file.ops {
                let name = match op.fate {
                    Fate::Kept => "kept",
                    Fate::Dropped => "dropped",
                    Fate::Torn { kept_bytes } => {
                        assert!(kept_bytes > 0 && kept_bytes % SECTOR as u64 == 0);
                        "torn"
                    }
                };
                *fates.entry(name).or_default() += 1;
            }
        }
    }
    if std::env::var("SIM_CRASH_SEED").is_err() {
        for fate in ["kept", "dropped", "torn"] {
            assert!(
                fates.get(fate).copied().unwrap_or(0) > 100,
                "too few {fate}: {fates:?}"
            );
        }
    }
}

#[test]
fn writes_torn_or_failed_at_run_time_obey_the_same_crash_rules() {
    for seed in seeds(FILE_SEEDS / 2) {
        let (_, model, after) = file_case(seed, true);
        for (i, (m, got)) in model.iter().zip(&after).enumerate() {
            check_file(seed, i, m, got);
        }
    }
}

#[test]
fn same_seed_same_crash_outcome() {
    for seed in seeds(FILE_SEEDS).into_iter().step_by(10) {
        let (ra, _, a) = file_case(seed, true);
        let (rb, _, b) = file_case(seed, true);
        assert_eq!(ra, rb, "seed {seed}: crash report differs between runs");
        assert_eq!(a, b, "seed {seed}: content differs between runs");
    }
}

// ---------------------------------------------------------------------------------------------
// Directory entries
// ---------------------------------------------------------------------------------------------

const DIRS: [&str; 2] = ["/", "/sub"];
const NAMES: [&str; 4] = ["a", "b", "c", "d"];

fn entry_path(dir: &str, name: &str) -> PathBuf {
    Path::new(dir).join(name)
}

/// The namespace model: each entry holds a file id (`None` = absent). File `id`'s content is
/// `"file-<id>"`, synced before any rename, so a name after the crash tells which file it is.
#[derive(Default)]
struct NsModel {
    current: BTreeMap<(usize, usize), Option<u64>>,
    /// The value at the dir's last `sync_dir`, for entries untouched since.
    synced_clean: BTreeMap<(usize, usize), Option<u64>>,
    /// Every value an entry held since its dir's last sync (for entries touched since).
    history: BTreeMap<(usize, usize), BTreeSet<Option<u64>>>,
}

impl NsModel {
    fn get(&self, k: (usize, usize)) -> Option<u64> {
        self.current.get(&k).copied().flatten()
    }

    fn set(&mut self, k: (usize, usize), v: Option<u64>) {
        let old = self.get(k);
        if let Some(synced) = self.synced_clean.remove(&k) {
            self.history.entry(k).or_default().insert(synced);
        }
        self.history.entry(k).or_default().insert(old);
        self.history.entry(k).or_default().insert(v);
        self.current.insert(k, v);
    }

    fn sync(&mut self, dir: usize) {
        for name in 0..NAMES.len() {
            let k = (dir, name);
            self.history.remove(&k);
            self.synced_clean.insert(k, self.get(k));
        }
    }
}

fn content_id(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes)
        .ok()?
        .strip_prefix("file-")?
        .parse()
        .ok()
}

fn dir_case(seed: u64) -> (CrashReport, BTreeMap<(usize, usize), Option<u64>>) {
    let mut rng = DetRng::new(seed).fork("workload");
    let policy = random_policy(&mut rng);
    let fs = SimFs::new(seed, quiet(policy));
    fs.create_dir_all(Path::new("/sub")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let mut model = NsModel::default();
    model.sync(0);
    model.sync(1);
    let mut next_id = 0u64;
    for _ in 0..rng.below(30) {
        let k = (rng.below(2) as usize, rng.below(4) as usize);
        let path = entry_path(DIRS[k.0], NAMES[k.1]);
        match rng.below(10) {
            0..=3 => {
                // Create (or replace through create_truncate) with synced data, entry unsynced.
                if model.get(k).is_some() {
                    continue; // replacing content in place is the file test's business
                }
                let f = fs.open(&path, OpenOptions::create_new()).unwrap();
                f.write_at(format!("file-{next_id}").as_bytes(), 0).unwrap();
                f.sync_all().unwrap();
                model.set(k, Some(next_id));
                next_id += 1;
            }
            4..=5 => {
                let to = (rng.below(2) as usize, rng.below(4) as usize);
                let to_path = entry_path(DIRS[to.0], NAMES[to.1]);
                let Some(id) = model.get(k) else {
                    assert!(fs.rename(&path, &to_path).unwrap_err().is_not_found());
                    continue;
                };
                fs.rename(&path, &to_path).unwrap();
                if to != k {
                    model.set(k, None);
                    model.set(to, Some(id));
                }
            }
            6 => {
                if model.get(k).is_some() {
                    fs.remove_file(&path).unwrap();
                    model.set(k, None);
                }
            }
            _ => {
                fs.sync_dir(Path::new(DIRS[k.0])).unwrap();
                model.sync(k.0);
            }
        }
    }
    // sync_dir may have made more durable than the model's clean set (dependencies), never less.
    let report = fs.crash();
    let mut after = BTreeMap::new();
    for (d, dir) in DIRS.iter().enumerate() {
        for (n, name) in NAMES.iter().enumerate() {
            let path = entry_path(dir, name);
            let v =
                if fs.exists(&path).unwrap() {
                    let bytes = read_file(&fs, &path).unwrap();
                    Some(content_id(&bytes).unwrap_or_else(|| {
                        panic!("seed {seed}: {} holds {bytes:?}", path.display())
                    }))
                } else {
                    None
                };
            after.insert((d, n), v);
        }
    }
    let mut seen = BTreeSet::new();
    for (&k, &v) in &after {
        if let Some(id) = v {
            assert!(seen.insert(id), "seed {seed}: file {id} under two names");
        }
        if let Some(&synced) = model.synced_clean.get(&k) {
            assert_eq!(
                v,
                synced,
                "seed {seed}: entry {} was synced with sync_dir and untouched since",
                entry_path(DIRS[k.0], NAMES[k.1]).display()
            );
        } else {
            let hist = &model.history[&k];
            assert!(
                hist.contains(&v),
                "seed {seed}: entry {} holds {v:?}, never one of its values {hist:?}",
                entry_path(DIRS[k.0], NAMES[k.1]).display()
            );
        }
    }
    assert!(
        fs.exists(Path::new("/sub")).unwrap(),
        "seed {seed}: synced mkdir"
    );
    (report, after)
}

#[test]
fn synced_directory_entries_survive_and_unsynced_ones_stay_consistent() {
    let (mut kept, mut lost) = (0u64, 0u64);
    for seed in seeds(DIR_SEEDS) {
        let (report, _) = dir_case(seed);
        kept += report.dir_changes_kept;
        lost += report.dir_changes_lost;
    }
    if std::env::var("SIM_CRASH_SEED").is_err() {
        assert!(kept > 100 && lost > 100, "kept {kept}, lost {lost}");
    }
}

#[test]
fn same_seed_same_namespace_outcome() {
    for seed in seeds(DIR_SEEDS).into_iter().step_by(10) {
        assert_eq!(dir_case(seed), dir_case(seed), "seed {seed}");
    }
}

#[test]
fn handles_opened_before_a_crash_are_refused_not_panicking() {
    for seed in seeds(200) {
        let fs = SimFs::new(seed, quiet(SimCrash::default()));
        let f = fs.open(Path::new("/x"), OpenOptions::create_new()).unwrap();
        f.append(b"abc").unwrap();
        fs.crash();
        let err = f.append(b"more").unwrap_err();
        assert!(
            err.to_string().contains("predates a crash"),
            "seed {seed}: {err}"
        );
    }
}
