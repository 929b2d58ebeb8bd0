//! The store's disks while the server runs: a lost disk is said once, and its shards are
//! rebuilt when it is back — without stopping the server.
//!
//! A disk whose directory disappears (pulled, deleted), or whose mount point is left empty (the
//! disk not mounted: the store tells by the disk's identity file, `blob/disk_id.rs`), costs no
//! request: GETs read around it through parity and PUTs are written past it, a shard short
//! (`engine/src/object/blob/degraded.rs`). What it costs is redundancy, until a scrub rebuilds
//! the missing shards onto the disk that is at that path again. So the server looks at its disk
//! directories every `--disk-check` seconds, and:
//!
//! - a disk that has gone or is not mounted is logged (a warning, once), with what to do;
//! - so is a disk whose path holds another disk (another store's, or another of this store's:
//!   its identity file says so): nothing is written to it, its metadata copy is out of service,
//!   and scrub refuses to run until the store's own disk is back (`blob/disk_id.rs`);
//! - a disk that is there but failed writes since the last look (EIO, a file system gone
//!   read-only: the PUTs went on without it, as for a lost disk) is logged, with the shards it
//!   cost and its last error — once per look, for as long as it keeps failing — as is, once, a
//!   disk whose identity file cannot be read;
//! - a disk that failed is probed (`ObjectStore::probe_disk`: a small file written, synced,
//!   read back and removed) until it works again — a cable reseated, a controller reset, a file
//!   system remounted read-write — and then a scrub rebuilds what the writes went on without,
//!   as for a disk that comes back ([`FailingDisks`] says how often it is probed);
//! - a disk that is back (mounted again, or the directory made again), or a new disk in its
//!   place (a mount point without the store's identity file), starts a scrub with healing —
//!   which formats a new disk first — as does a store whose metadata copies were rebuilt when
//!   it opened (a disk lost or replaced while the server was stopped);
//! - with `--scrub-every`, a scrub also runs on that schedule, for the rot no request reads.
//!
//! A scrub runs beside requests (each blob is pinned while checked; the engine's `scrub_until`)
//! on a blocking thread, one at a time, and a stopping server ends it at its next blob.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seedbed_engine::object::blob::DiskState;
use seedbed_engine::object::ObjectStore;

/// When the watcher looks, and when it scrubs.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// How often the watcher wakes: to look at the disk directories if `disks`, and to see
    /// whether a scrub is due.
    pub check: Duration,
    /// Whether the disk directories are looked at.
    pub disks: bool,
    /// How often a whole scrub runs regardless (`None`: only when a disk comes back).
    pub scrub_every: Option<Duration>,
    /// Scrub once at start (the store's metadata copies were rebuilt when it opened).
    pub scrub_at_start: bool,
}

/// The longest wait between two probes of a failing disk.
const PROBE_WAIT_MAX: Duration = Duration::from_secs(300);

/// How long a disk must have worked for its next failure to count as a new one (probed a look
/// later again), not as a flaky disk failing again (probed after twice its last wait).
const CALM_AFTER: Duration = Duration::from_secs(3600);

/// The disks that failed their I/O, each probed until it works. The first probe comes a look
/// after the failure; each failed probe doubles the wait before the next (up to
/// [`PROBE_WAIT_MAX`]), and so does a disk that fails again after a probe found it working —
/// so that a flaky disk which passes probes but fails writes starts scrubs ever more rarely,
/// not one a look — unless it worked for [`CALM_AFTER`]: then it is a new failure. A disk that
/// fails writes again before its probe has the probe put off: it is not working yet.
#[derive(Debug, Default)]
struct FailingDisks {
    disks: BTreeMap<usize, Failing>,
}

/// One disk that failed, in [`FailingDisks`].
#[derive(Debug)]
struct Failing {
    /// Still failing (`false`: a probe found it working; kept for its wait).
    failing: bool,
    /// When it is probed next.
    next_probe: Instant,
    /// How long the next failure puts the probe off.
    wait: Duration,
    /// Since when it has not been failing (a probe passed, or it went absent).
    calm_since: Option<Instant>,
}

impl FailingDisks {
    /// Disk `i` failed at `now` (`first_wait`: the watcher's period). True if it was not
    /// failing before (a new failure, to be said).
    fn failed(&mut self, i: usize, now: Instant, first_wait: Duration) -> bool {
        let Some(f) = self.disks.get_mut(&i) else {
            self.disks.insert(
                i,
                Failing {
                    failing: true,
                    next_probe: now + first_wait,
                    wait: first_wait,
                    calm_since: None,
                },
            );
            return true;
        };
        if f.failing {
            f.next_probe = f.next_probe.max(now + f.wait);
            return false;
        }
        f.failing = true;
        let calm = f.calm_since.take();
        f.wait = if calm.is_some_and(|t| now.saturating_duration_since(t) >= CALM_AFTER) {
            first_wait
        } else {
            (f.wait * 2).min(PROBE_WAIT_MAX)
        };
        f.next_probe = now + f.wait;
        true
    }

    /// The failing disks due a probe at `now`.
    fn due(&self, now: Instant) -> Vec<usize> {
        (self.disks.iter())
            .filter(|(_, f)| f.failing && f.next_probe <= now)
            .map(|(&i, _)| i)
            .collect()
    }

    /// Disk `i` was probed at `now`: true if it works again.
    fn probed(&mut self, i: usize, works: bool, now: Instant) -> bool {
        let Some(f) = self.disks.get_mut(&i).filter(|f| f.failing) else {
            return false;
        };
        if works {
            f.failing = false;
            f.calm_since = Some(now);
        } else {
            f.wait = (f.wait * 2).min(PROBE_WAIT_MAX);
            f.next_probe = now + f.wait;
        }
        works
    }

    /// Disk `i` is gone or not mounted: its return is looked for as such (and scrubbed then),
    /// not probed for.
    fn absent(&mut self, i: usize, now: Instant) {
        if let Some(f) = self.disks.get_mut(&i).filter(|f| f.failing) {
            f.failing = false;
            f.calm_since = Some(now);
        }
    }
}

/// Watch the disks until `stop`.
pub async fn watch(store: Arc<ObjectStore>, schedule: Schedule, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(schedule.check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut missing: BTreeSet<PathBuf> = BTreeSet::new();
    // Disks waiting to be formatted (new ones in place): a scrub when one appears.
    let mut new: BTreeSet<PathBuf> = BTreeSet::new();
    let mut failing = FailingDisks::default();
    let mut last_scrub = Instant::now();
    let mut pending = schedule
        .scrub_at_start
        .then_some("metadata copies were rebuilt when the store opened");
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let s = store.clone();
        // One look at every disk: gone or not mounted (said once), or new (scrubbed).
        let states = if schedule.disks {
            match tokio::task::spawn_blocking(move || s.disk_states()).await {
                Ok(Ok(states)) => states,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot look at the disks");
                    continue;
                }
                Err(_) => continue,
            }
        } else {
            Vec::new()
        };
        let now = Instant::now();
        let (k, width) = (store.layout().k, store.layout().width());
        for (i, (disk, state)) in states.iter().enumerate() {
            match state {
                DiskState::Failing(why) if failing.failed(i, now, schedule.check) => {
                    tracing::warn!(
                        disk = %disk.display(),
                        error = %why,
                        "disk fails its I/O (its identity file cannot be read): GETs read \
                         around it through parity, and PUTs are written past it (a shard \
                         short) while at least {k} of the {width} disks take theirs; it is \
                         probed, and rebuilt once it works again"
                    );
                }
                s if s.is_absent() => failing.absent(i, now),
                _ => {}
            }
        }
        let (now_new, now_missing): (Vec<_>, Vec<_>) = states
            .into_iter()
            .filter(|(_, s)| s.is_absent())
            .partition(|(_, s)| *s == DiskState::New);
        for (gone, state) in &now_missing {
            if missing.contains(gone) {
                continue;
            }
            if let DiskState::Foreign(what) = state {
                tracing::warn!(
                    disk = %gone.display(),
                    found = %what,
                    "another disk is at this disk's path: nothing is written to it — GETs read \
                     around it through parity, PUTs are written past it (a shard short) while \
                     at least {k} of the {width} disks take theirs, and its metadata copy is \
                     out of service; scrub refuses to run until the store's own disk is back \
                     at its path"
                );
                continue;
            }
            let why = state.why_absent().unwrap_or("absent");
            tracing::warn!(
                disk = %gone.display(),
                missing = now_missing.len(),
                "disk is missing ({why}): GETs read around it through parity, and PUTs are \
                 written past it (a shard short) while at least {k} of the {width} disks are \
                 there; mount it again, or put a new disk in its place, and its shards are \
                 rebuilt"
            );
        }
        let now_missing: BTreeSet<PathBuf> = now_missing.into_iter().map(|(d, _)| d).collect();
        let arrived: Vec<&PathBuf> = now_new
            .iter()
            .map(|(d, _)| d)
            .filter(|d| !new.contains(*d))
            .collect();
        for disk in &arrived {
            tracing::info!(disk = %disk.display(), "a new disk is in place: formatting it and rebuilding its shards");
        }
        if !arrived.is_empty() {
            pending = Some("a new disk is in place");
        }
        new = now_new.into_iter().map(|(d, _)| d).collect();
        // Cheap (a lock and a swap): no blocking thread needed.
        for f in store.disk_failures() {
            tracing::warn!(
                disk = %f.disk.display(),
                shards = f.shards,
                last_error = %f.last_error,
                "disk failed writes: PUTs went on without it (a shard short each) while at \
                 least {k} of the {width} disks took theirs; it is probed, and once it works \
                 again (or is replaced) a scrub rebuilds the shards"
            );
            if let Some(i) = store.layout().disks.iter().position(|d| *d == f.disk) {
                failing.failed(i, now, schedule.check);
            }
        }
        // Probes of the failing disks that are due (only when the disks are looked at: a
        // probe writes).
        let due = if schedule.disks {
            failing.due(now)
        } else {
            Vec::new()
        };
        for i in due {
            let s = store.clone();
            let Ok(probe) = tokio::task::spawn_blocking(move || s.probe_disk(i)).await else {
                continue;
            };
            let disk = store.layout().disks[i].display();
            match probe {
                Ok(()) => {
                    failing.probed(i, true, now);
                    tracing::info!(
                        disk = %disk,
                        "disk works again: rebuilding the shards writes went on without"
                    );
                    pending = Some("a failing disk works again");
                }
                Err(e) => {
                    failing.probed(i, false, now);
                    tracing::debug!(disk = %disk, error = %e, "disk probed: still failing");
                }
            }
        }
        let back: Vec<&PathBuf> = missing.difference(&now_missing).collect();
        for disk in &back {
            tracing::info!(disk = %disk.display(), "disk is back: rebuilding its shards");
        }
        if !back.is_empty() {
            pending = Some("a disk came back");
        }
        missing = now_missing;
        if pending.is_none()
            && schedule
                .scrub_every
                .is_some_and(|every| last_scrub.elapsed() >= every)
        {
            pending = Some("--scrub-every");
        }
        let Some(why) = pending.take() else {
            continue;
        };
        last_scrub = Instant::now();
        if !scrub(&store, why, &mut stop).await {
            return;
        }
    }
}

/// One scrub with healing, logged; `false` if the server is stopping.
async fn scrub(store: &Arc<ObjectStore>, why: &'static str, stop: &mut crate::http::Stop) -> bool {
    let s = store.clone();
    let started = Instant::now();
    let Some(done) =
        crate::http::halting_pass(stop, move |halt| s.scrub_until(true, &mut |_, _| {}, halt))
            .await
    else {
        return false;
    };
    let secs = started.elapsed().as_secs_f64();
    match done {
        Ok(Ok(r)) if r.failures.is_empty() => tracing::info!(
            why,
            objects = r.objects,
            blobs = r.blobs,
            bytes = r.bytes,
            bad_blocks = r.bad_blocks,
            shards_healed = r.files_healed,
            disks_formatted = ?r.disks_formatted,
            disks_absent = ?r.disks_absent,
            shards_absent = r.shards_absent,
            orphans_removed = r.orphans_removed,
            metadata_copies_healed = r.meta_copies_healed,
            secs,
            "scrub"
        ),
        Ok(Ok(r)) => tracing::error!(
            why,
            objects = r.objects,
            blobs = r.blobs,
            bad_blocks = r.bad_blocks,
            shards_healed = r.files_healed,
            unrecoverable = r.failures.len(),
            failures = ?r.failures,
            secs,
            "scrub: objects that parity cannot rebuild"
        ),
        Ok(Err(e)) => tracing::warn!(why, error = %e, "scrub failed"),
        Err(e) => tracing::warn!(why, error = %e, "scrub did not finish"),
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
    use seedbed_engine::io::{FsHandle, OpenOptions};
    use seedbed_engine::lsm::{MaintenanceMode, Options};
    use seedbed_engine::object::blob::PROBE_FILE;
    use seedbed_engine::object::layout::Layout;
    use seedbed_engine::object::{lsm_meta, MetaStore, PutOptions, StoreOptions};
    use seedbed_engine::rng::DetRng;

    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_failing_disk_is_probed_ever_less_often_while_it_keeps_failing() {
        let (t, look) = (Instant::now(), 10 * S);
        let mut f = FailingDisks::default();
        assert!(f.failed(2, t, look), "a new failure is said");
        assert!(!f.failed(2, t, look), "once");
        assert!(f.due(t + 9 * S).is_empty());
        assert_eq!(f.due(t + look), vec![2], "probed a look later");
        // Failed probes: 20 s, then 40 s.
        assert!(!f.probed(2, false, t + 10 * S));
        assert!(f.due(t + 29 * S).is_empty());
        assert_eq!(f.due(t + 30 * S), vec![2]);
        assert!(!f.probed(2, false, t + 30 * S));
        assert!(f.due(t + 69 * S).is_empty());
        // Writes failing again before the probe put it off.
        assert!(!f.failed(2, t + 60 * S, look));
        assert!(f.due(t + 99 * S).is_empty());
        assert_eq!(f.due(t + 100 * S), vec![2]);
        // It works: no more probes.
        assert!(f.probed(2, true, t + 100 * S));
        assert!(f.due(t + 10_000 * S).is_empty());
        // Failing again after it was found working: said again, and probed twice as late.
        assert!(f.failed(2, t + 200 * S, look));
        assert!(f.due(t + 279 * S).is_empty());
        assert_eq!(f.due(t + 280 * S), vec![2]);
        // The wait stops growing.
        let mut now = t + 280 * S;
        for _ in 0..20 {
            f.probed(2, false, now);
            now += PROBE_WAIT_MAX;
        }
        assert_eq!(f.due(now), vec![2]);
        // Gone or not mounted: its return is looked for, not probed for.
        f.absent(2, now);
        assert!(f.due(now + 10_000 * S).is_empty());
        // Failing again within the hour: a flaky disk, probed after twice its last wait.
        assert!(f.failed(2, now + 1000 * S, look));
        assert!(f.due(now + 1000 * S + PROBE_WAIT_MAX - S).is_empty());
        assert_eq!(f.due(now + 1000 * S + PROBE_WAIT_MAX), vec![2]);
        // Working for an hour and more, then failing: a new failure, probed a look later.
        assert!(f.probed(2, true, now + 2000 * S));
        let later = now + 2000 * S + CALM_AFTER;
        assert!(f.failed(2, later, look));
        assert_eq!(f.due(later + look), vec![2]);
        // Another disk is its own.
        assert!(f.failed(0, now, look));
        assert_eq!(f.due(now + look), vec![0]);
    }

    /// Files under a directory of the simulated disk, recursively.
    fn files_under(fs: &FsHandle, dir: &Path) -> usize {
        let Ok(names) = fs.list(dir) else {
            return 0;
        };
        names
            .iter()
            .map(|n| {
                let p = dir.join(n);
                match fs.list(&p) {
                    Ok(_) => files_under(fs, &p),
                    Err(_) => 1,
                }
            })
            .sum()
    }

    /// The disk watcher on `store`, looking every 20 ms, on a runtime of its own: stopped by
    /// sending `true`, and then awaited.
    fn start_watcher(
        store: &Arc<ObjectStore>,
    ) -> (
        tokio::runtime::Runtime,
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let schedule = Schedule {
            check: Duration::from_millis(20),
            disks: true,
            scrub_every: None,
            scrub_at_start: false,
        };
        let watcher = rt.spawn(watch(store.clone(), schedule, stop_rx));
        (rt, stop_tx, watcher)
    }

    /// A disk that fails every request (the simulated disk's `dead_dirs`) while PUTs go on past
    /// it, then works again without anyone touching the server: the watcher's probes find it
    /// working and its scrub rebuilds every shard the PUTs went without, so that with another
    /// disk dead afterwards every object still reads. While the disk fails, the probes write
    /// nothing that stays.
    #[test]
    fn a_disk_that_works_again_is_rebuilt_by_the_watcher() {
        let sim = Arc::new(SimFs::new(11, SimConfig::default()));
        let fs: FsHandle = sim.clone();
        let disks: Vec<PathBuf> = (0..3).map(|i| format!("/store/disk{i}").into()).collect();
        let layout = Layout::new(2, 1, 4096, disks.clone()).unwrap();
        let meta_opts = Options {
            maintenance: MaintenanceMode::Manual,
            write_buffer_bytes: 8 << 10,
            ..Options::small_for_tests()
        };
        let root = Path::new("/store");
        let (meta, _) =
            lsm_meta::open_replicated(fs.clone(), root, &layout, meta_opts, sim.clock()).unwrap();
        let opts = StoreOptions {
            sync: true,
            ..StoreOptions::default()
        };
        let store = ObjectStore::create(
            fs.clone(),
            root,
            2,
            1,
            4096,
            None,
            meta as Arc<dyn MetaStore>,
            sim.clock(),
            DetRng::new(11),
            opts,
        )
        .unwrap();
        let store = Arc::new(store);
        store.create_bucket("data").unwrap();
        let dead = |i: usize| SimFaults {
            dead_dirs: vec![disks[i].clone()],
            ..SimFaults::default()
        };
        sim.set_faults(dead(1));
        // Shard files of their own (8 KiB and more at K = 2, 4 KiB shards) and pack records.
        let mut objects = Vec::new();
        for (n, size) in [20_000usize, 100, 50_000, 4096, 9000]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + n * 13) as u8).collect();
            let key = format!("obj-{n}");
            (store.put_object(
                "data",
                &key,
                &mut data.as_slice(),
                size as u64,
                &PutOptions::default(),
            ))
            .unwrap();
            objects.push((key, data));
        }
        let on_disk0 = files_under(&fs, &disks[0].join("blobs"));
        assert!(on_disk0 >= 3, "{on_disk0}");

        let (rt, stop_tx, watcher) = start_watcher(&store);
        let healed = |fs: &FsHandle| files_under(fs, &disks[1].join("blobs")) == on_disk0;
        // Some looks with the disk still failing (its probes fail), then it works again: the
        // watcher finds out by itself (its probes back off from 20 ms: well under a second).
        std::thread::sleep(Duration::from_millis(300));
        sim.set_faults(SimFaults::default());
        let deadline = Instant::now() + Duration::from_secs(60);
        while !healed(&fs) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            healed(&fs),
            "the shards were not rebuilt onto the disk that works again"
        );
        stop_tx.send(true).unwrap();
        rt.block_on(watcher).unwrap();
        assert!(
            !fs.exists(&disks[1].join(PROBE_FILE)).unwrap(),
            "the probe's file stays"
        );
        let check = store.scrub(false, &mut |_, _| {}).unwrap();
        assert_eq!(check.bad_blocks, 0, "{check:?}");
        assert!(check.failures.is_empty(), "{check:?}");
        assert!(check.meta_copies_bad.is_empty(), "{check:?}");
        // Every shard back: with disk 0 dead now, every object reads exact.
        sim.set_faults(dead(0));
        for (key, data) in &objects {
            let mut out = Vec::new();
            store.get_object("data", key, None, None, &mut out).unwrap();
            assert_eq!(&out, data, "{key}");
        }
    }

    /// Every file under `dir`, with its length, by its path below `dir` (the other store's
    /// disk, to see it untouched).
    fn listing(fs: &FsHandle, dir: &Path) -> Vec<(PathBuf, u64)> {
        fn walk(fs: &FsHandle, root: &Path, dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
            for n in fs.list(dir).unwrap() {
                let p = dir.join(n);
                if fs.list(&p).is_ok() {
                    walk(fs, root, &p, out);
                } else {
                    let len = fs
                        .open(&p, OpenOptions::read_only())
                        .unwrap()
                        .len()
                        .unwrap();
                    out.push((p.strip_prefix(root).unwrap().to_path_buf(), len));
                }
            }
        }
        let mut out = Vec::new();
        walk(fs, dir, dir, &mut out);
        out.sort();
        out
    }

    /// Store A's disk2 and store B's swapped while A's server runs: A's watcher sees B's disk
    /// for what it is (it used to fail its every look, blind to all the disks), A's PUTs go on
    /// past it without touching it, and when A's own disk is back the watcher takes it for a
    /// disk come back and rebuilds what the PUTs went on without.
    #[test]
    fn another_disk_at_a_disks_path_takes_nothing_and_the_disks_return_is_healed() {
        use seedbed_engine::io::posix::PosixFs;
        use seedbed_engine::object::on_disk;

        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let fs: FsHandle = Arc::new(PosixFs::new());
        let opts = StoreOptions {
            sync: false,
            ..StoreOptions::default()
        };
        let put = |store: &ObjectStore, key: &str, size: usize| {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 + key.len()) as u8).collect();
            let len = size as u64;
            let put = PutOptions::default();
            store
                .put_object("data", key, &mut data.as_slice(), len, &put)
                .unwrap();
            (key.to_owned(), data)
        };
        let store = on_disk::create_with(fs.clone(), &a, 2, 1, 4096, None, opts.clone()).unwrap();
        store.create_bucket("data").unwrap();
        let mut objects = vec![put(&store, "before", 20_000)];
        {
            let other = on_disk::create_with(fs.clone(), &b, 2, 1, 4096, None, opts).unwrap();
            other.create_bucket("data").unwrap();
            put(&other, "theirs", 20_000);
        }
        let swap = || {
            let (mine, theirs, aside) = (a.join("disk2"), b.join("disk2"), a.join("aside"));
            std::fs::rename(&mine, &aside).unwrap();
            std::fs::rename(&theirs, &mine).unwrap();
            std::fs::rename(&aside, &theirs).unwrap();
        };
        let store = Arc::new(store);
        let (rt, stop_tx, watcher) = start_watcher(&store);
        let theirs = listing(&fs, &b.join("disk2"));
        swap();
        // Looks at the disks while B's disk is in place, and PUTs past it.
        std::thread::sleep(Duration::from_millis(200));
        for n in 0..4 {
            objects.push(put(&store, &format!("during-{n}"), 20_000 + n));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            listing(&fs, &a.join("disk2")),
            theirs,
            "A wrote to B's disk"
        );
        swap();
        let blobs = |d: usize| files_under(&fs, &a.join(format!("disk{d}")).join("blobs"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while blobs(2) != blobs(0) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            blobs(2),
            blobs(0),
            "the shards were not rebuilt onto the disk back"
        );
        stop_tx.send(true).unwrap();
        rt.block_on(watcher).unwrap();
        // Every shard back: with disk 0 gone, every object reads exact.
        std::fs::remove_dir_all(a.join("disk0")).unwrap();
        for (key, data) in &objects {
            let mut out = Vec::new();
            store.get_object("data", key, None, None, &mut out).unwrap();
            assert_eq!(&out, data, "{key}");
        }
    }
}
