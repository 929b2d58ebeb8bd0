//! Many PUTs, overwrites, DELETEs and GETs at once on one store, on real files: small objects
//! share pack files (offsets reserved under a lock, written in parallel), large ones get shard
//! files. Every thread owns its keys, so the final state is known: each key holds what its
//! last acknowledged PUT wrote, or nothing after a DELETE. Then a reopen finds no orphans and
//! scrub finds nothing wrong.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::common::{real_store, real_store_wrapped};
use rand::RngCore;
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::object::meta::Rows;
use seedbed_engine::object::meta_error::MetaError;
use seedbed_engine::object::{MetaSnapshot, MetaStore, ObjectStore, PutOptions, StoreOptions};
use seedbed_engine::rng::DetRng;

/// Random bytes for a PUT: mostly small (pack records), some large (shard files).
fn random_body(rng: &mut DetRng) -> Vec<u8> {
    let size = match rng.below(4) {
        0 => rng.below(40_000) as usize,
        _ => rng.below(16_000) as usize,
    };
    let mut data = vec![0u8; size];
    rng.fill_bytes(&mut data);
    data
}

/// A directory for one test's store, removed when dropped.
fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// PUT `data` as `data/KEY`.
fn put(store: &ObjectStore, key: &str, data: &[u8]) {
    let opts = PutOptions::default();
    let size = data.len() as u64;
    let mut body = data;
    store
        .put_object("data", key, &mut body, size, &opts)
        .unwrap();
}

/// No orphan left for a sweep, and scrub finds nothing wrong.
fn assert_clean(store: &ObjectStore) {
    assert_eq!(store.remove_orphans().unwrap(), 0);
    let report = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(report.bad_blocks, 0, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
}

/// Every key holds what its last acknowledged write left: its bytes, or nothing.
fn check_finals(store: &ObjectStore, finals: &[BTreeMap<String, Option<Vec<u8>>>]) {
    for (key, want) in finals.iter().flatten() {
        let mut out = Vec::new();
        let got = store.get_object("data", key, None, None, &mut out);
        match want {
            Some(data) => {
                got.unwrap_or_else(|e| panic!("{key}: {e}"));
                assert_eq!(&out, data, "{key}");
            }
            None => assert!(got.is_err(), "{key} was deleted"),
        }
    }
}

#[test]
fn concurrent_writers_leave_exactly_what_they_acknowledged() {
    let tmp = tmp("object-concurrency-");
    let root = tmp.path().join("store");
    let store = real_store(&root, true, 17);
    store.create_bucket("data").unwrap();
    const THREADS: u64 = 4;
    const OPS: usize = 150;
    let finals: Vec<BTreeMap<String, Option<Vec<u8>>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = &store;
                s.spawn(move || {
                    let mut rng = DetRng::new(100 + t);
                    let mut mine: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
                    for _ in 0..OPS {
                        let key = format!("t{t}/k{}", rng.below(12));
                        match rng.below(10) {
                            0..=5 => {
                                let data = random_body(&mut rng);
                                put(store, &key, &data);
                                mine.insert(key, Some(data));
                            }
                            6 | 7 => {
                                if mine.get(&key).is_some_and(Option::is_some) {
                                    store.delete_object("data", &key, None).unwrap();
                                    mine.insert(key, None);
                                }
                            }
                            _ => {
                                if let Some(Some(want)) = mine.get(&key) {
                                    let mut out = Vec::new();
                                    store
                                        .get_object("data", &key, None, None, &mut out)
                                        .unwrap();
                                    assert_eq!(&out, want, "{key}");
                                }
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    check_finals(&store, &finals);
    drop(store);
    let store = real_store(&root, false, 17);
    check_finals(&store, &finals);
    assert_clean(&store);
}

/// The orphan sweep beside writers: it lists the disks without the GC lock and reads a
/// snapshot of the metadata taken under it (`scrub.rs`), so it must never take a blob a PUT is
/// writing or has just committed, nor a part that a completing upload moves from the upload's records to the
/// object's. Three threads PUT (pack records and shard files), overwrite (freeing the blobs
/// they replace), delete and complete one-part multipart uploads, while a fourth sweeps over
/// and over; every object reads back as its last acknowledged write left it, and a last sweep
/// finds nothing left behind.
#[test]
fn the_orphan_sweep_beside_writers_takes_nothing_live() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let tmp = tmp("object-sweep-");
    let root = tmp.path().join("store");
    let store = real_store(&root, true, 23);
    store.create_bucket("data").unwrap();
    let done = AtomicBool::new(false);
    let finals = std::thread::scope(|s| {
        // Sweeps until the writers are done, and once more after (however the threads were
        // scheduled, no count of sweeps is asserted: that would be a timed check).
        let sweeper = s.spawn(|| loop {
            let last = done.load(Ordering::Relaxed);
            store.remove_orphans().unwrap();
            if last {
                break;
            }
        });
        let writers: Vec<_> = (0..3u64)
            .map(|t| {
                let store = &store;
                s.spawn(move || {
                    let mut rng = DetRng::new(200 + t);
                    let mut mine: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
                    for _ in 0..120 {
                        let key = format!("t{t}/k{}", rng.below(8));
                        let data = random_body(&mut rng);
                        let size = data.len() as u64;
                        match rng.below(10) {
                            0..=5 => {
                                put(store, &key, &data);
                                mine.insert(key, Some(data));
                            }
                            6 => {
                                if mine.get(&key).is_some_and(Option::is_some) {
                                    store.delete_object("data", &key, None).unwrap();
                                    mine.insert(key, None);
                                }
                            }
                            _ => {
                                let id = store
                                    .create_multipart_upload("data", &key, &PutOptions::default())
                                    .unwrap();
                                let etag = store
                                    .upload_part("data", &id, 1, &mut data.as_slice(), size)
                                    .unwrap();
                                store
                                    .complete_multipart_upload("data", &id, &[(1, etag)])
                                    .unwrap();
                                mine.insert(key, Some(data));
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        // Every writer joined before the sweeper is told to stop, even one that failed (or
        // the sweeper would sweep forever).
        let finals: Vec<_> = writers.into_iter().map(|h| h.join()).collect();
        done.store(true, Ordering::Relaxed);
        let finals: Vec<_> = finals.into_iter().map(|r| r.unwrap()).collect();
        sweeper.join().unwrap();
        finals
    });
    check_finals(&store, &finals);
    assert_clean(&store);
}

/// A metadata store whose snapshots run `hook` once, the first time they are read for the
/// part records (`P`…): a write that lands while the orphan sweep reads, between its look at
/// the versions (`O`…) and at the parts.
struct HookedMeta {
    inner: Arc<dyn MetaStore>,
    hook: Hook,
}

type Hook = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

impl std::fmt::Debug for HookedMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookedMeta").finish_non_exhaustive()
    }
}

impl MetaStore for HookedMeta {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        self.inner.get(key)
    }

    fn commit(&self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>, sync: bool) -> Result<(), MetaError> {
        self.inner.commit(ops, sync)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError> {
        self.inner.scan(start, end, limit)
    }

    fn snapshot(&self) -> Option<Box<dyn MetaSnapshot>> {
        let inner = self.inner.snapshot()?;
        Some(Box::new(HookedView {
            inner,
            hook: self.hook.clone(),
        }))
    }
}

struct HookedView {
    inner: Box<dyn MetaSnapshot>,
    hook: Hook,
}

impl MetaSnapshot for HookedView {
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError> {
        if start.first() == Some(&b'P') {
            let hook = self.hook.lock().unwrap().take();
            if let Some(hook) = hook {
                hook();
            }
        }
        self.inner.scan(start, end, limit)
    }
}

/// The orphan sweep reads the metadata without holding writers off, so commits land while it
/// reads. A multipart upload completed in the middle of its read moves the part's blob from a
/// part record (`P`, not read yet) to a version record (`O`, read already): read live, the
/// blob would be referenced by neither and swept away under a finished object. Read from the
/// snapshot taken under the lock, the part record still names it.
#[test]
fn an_upload_completed_while_the_sweep_reads_keeps_its_data() {
    let tmp = tmp("object-sweep-snapshot-");
    let root = tmp.path().join("store");
    let hook: Hook = Arc::new(Mutex::new(None));
    let clock = Arc::new(VirtualClock::new());
    let store = Arc::new(real_store_wrapped(&root, true, 5, clock, |inner| {
        Arc::new(HookedMeta {
            inner,
            hook: hook.clone(),
        })
    }));
    store.create_bucket("data").unwrap();
    put(&store, "plain", &random_body(&mut DetRng::new(6)));
    let upload = store
        .create_multipart_upload("data", "mp", &PutOptions::default())
        .unwrap();
    let mut body = vec![0u8; 30_000];
    DetRng::new(7).fill_bytes(&mut body);
    let etag = store
        .upload_part("data", &upload, 1, &mut &body[..], body.len() as u64)
        .unwrap();
    let weak = Arc::downgrade(&store);
    let id = upload.clone();
    *hook.lock().unwrap() = Some(Box::new(move || {
        let store = weak.upgrade().unwrap();
        store
            .complete_multipart_upload("data", &id, &[(1, etag)])
            .unwrap();
    }));
    assert_eq!(store.remove_orphans().unwrap(), 0, "nothing was an orphan");
    assert!(
        hook.lock().unwrap().is_none(),
        "the upload completed mid-sweep"
    );
    let mut out = Vec::new();
    store
        .get_object("data", "mp", None, None, &mut out)
        .unwrap();
    assert_eq!(out, body);
    assert_clean(&store);
}

/// Writers of one key and writers of many at once, in a versioned bucket: a commit lets the
/// commit lock go before its sync so that commits of different keys share one (group commit,
/// `commit.rs`), and this checks what that must not change. Of racing `If-None-Match: *`
/// PUTs exactly one wins per key; every acknowledged version of a shared key is kept, each
/// thread's versions in the order it wrote them; and after a reopen the sequence counter
/// continues after every number committed, so the next PUT is the newest version.
#[test]
fn racing_writers_of_one_key_see_each_other_and_numbers_stay_in_order() {
    use seedbed_engine::object::{DeleteOptions, ListOptions, ObjectError};

    let tmp = tmp("object-racing-");
    let root = tmp.path().join("store");
    // As `seedbed object` and `seedbed serve` open a store: a metadata copy on every disk,
    // whose commits are the ones grouped.
    let fs = || -> seedbed_engine::io::FsHandle {
        std::sync::Arc::new(seedbed_engine::io::posix::PosixFs::new())
    };
    let store = seedbed_engine::object::on_disk::create(fs(), &root, 2, 1, 64 << 10, None).unwrap();
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    const THREADS: usize = 4;
    const KEYS: usize = 25;
    let create_only = PutOptions {
        if_none_match_any: true,
        ..PutOptions::default()
    };
    // Per thread: the keys it created, the version ids of its PUTs to "shared" in order, and
    // of the delete markers it made there.
    let results: Vec<(Vec<usize>, Vec<String>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, create_only) = (&store, &create_only);
                s.spawn(move || {
                    let mut created = Vec::new();
                    let mut shared = Vec::new();
                    let mut deleted = Vec::new();
                    for i in 0..KEYS {
                        let body = format!("thread {t}");
                        let key = format!("race/{i}");
                        match store.put_object(
                            "ver",
                            &key,
                            &mut body.as_bytes(),
                            body.len() as u64,
                            create_only,
                        ) {
                            Ok(_) => created.push(i),
                            Err(ObjectError::PreconditionFailed { .. }) => {}
                            Err(e) => panic!("{key}: {e}"),
                        }
                        // A conditional delete racing the PUTs: its marker is recorded
                        // before the commit lock, so a PUT may land in between and refuse it;
                        // its record must not be left behind (checked below).
                        if let Ok(h) = store.head_object("ver", "shared", None) {
                            let opts = DeleteOptions {
                                if_match: Some(h.etag),
                                ..DeleteOptions::default()
                            };
                            match store.delete_object_as("ver", "shared", None, &opts) {
                                Ok(d) => deleted.push(d.version_id.expect("a marker")),
                                Err(
                                    ObjectError::PreconditionFailed { .. }
                                    | ObjectError::NoSuchKey { .. },
                                ) => {}
                                Err(e) => panic!("conditional delete: {e}"),
                            }
                        }
                        let body = format!("{t}/{i}");
                        let put = store
                            .put_object(
                                "ver",
                                "shared",
                                &mut body.as_bytes(),
                                body.len() as u64,
                                &PutOptions::default(),
                            )
                            .unwrap();
                        shared.push(put.version_id);
                    }
                    (created, shared, deleted)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for i in 0..KEYS {
        let winners: Vec<usize> = (0..THREADS)
            .filter(|t| results[*t].0.contains(&i))
            .collect();
        assert_eq!(winners.len(), 1, "race/{i} was created by {winners:?}");
        let mut out = Vec::new();
        store
            .get_object("ver", &format!("race/{i}"), None, None, &mut out)
            .unwrap();
        assert_eq!(out, format!("thread {}", winners[0]).into_bytes());
    }
    let versions_of_shared = |store: &ObjectStore| -> Vec<String> {
        let page = store
            .list_versions(
                "ver",
                &ListOptions {
                    prefix: "shared".into(),
                    ..ListOptions::default()
                },
            )
            .unwrap();
        page.entries.into_iter().map(|e| e.version_id).collect()
    };
    let listed = versions_of_shared(&store);
    let markers: usize = results.iter().map(|r| r.2.len()).sum();
    assert_eq!(
        listed.len(),
        THREADS * KEYS + markers,
        "every acknowledged version and marker is kept"
    );
    for id in results.iter().flat_map(|r| &r.2) {
        assert!(listed.contains(id), "marker {id} is listed");
    }
    assert_eq!(store.remove_orphans().unwrap(), 0, "no record left behind");
    for (_, mine, _) in &results {
        let positions: Vec<usize> = mine
            .iter()
            .map(|id| listed.iter().position(|l| l == id).expect("acknowledged"))
            .collect();
        // Newest first: a thread's later PUT lists before its earlier one.
        assert!(
            positions.windows(2).all(|w| w[0] > w[1]),
            "a thread's versions out of order: {positions:?}"
        );
    }
    drop(store);
    let (store, _) = seedbed_engine::object::on_disk::open(fs(), &root).unwrap();
    assert_eq!(versions_of_shared(&store), listed);
    let after = store
        .put_object(
            "ver",
            "shared",
            &mut &b"after"[..],
            5,
            &PutOptions::default(),
        )
        .unwrap();
    assert_eq!(
        versions_of_shared(&store)[0],
        after.version_id,
        "a PUT after the reopen is the newest version"
    );
    let mut out = Vec::new();
    store
        .get_object("ver", "shared", None, None, &mut out)
        .unwrap();
    assert_eq!(out, b"after");
}

/// A store as `seedbed serve` and `seedbed object` keep it: K = 4, M = 2, the metadata
/// replicated on every disk with the server's LSM options (background maintenance), every
/// PUT synced if `sync`.
fn served_store(root: &std::path::Path, create: bool, sync: bool) -> ObjectStore {
    use seedbed_engine::object::on_disk;
    let fs: FsHandle = Arc::new(PosixFs::new());
    let opts = StoreOptions {
        sync,
        ..StoreOptions::default()
    };
    if create {
        on_disk::create_with(fs, root, 4, 2, 4096, None, opts).unwrap()
    } else {
        on_disk::open_with(fs, root, opts).unwrap().0
    }
}

/// Figures, not a check (no timed assertion belongs in a test): how long PUTs wait while the
/// orphan sweep runs, on a store of many objects, opened as the server opens it (filled
/// without syncs, then reopened with every PUT synced for the measurement). Run in release:
/// `SEEDBED_SWEEP_OBJECTS=40000 cargo test --release -p seedbed-engine --test it
/// orphan_sweep_hold_figures -- --ignored --nocapture`.
#[test]
#[ignore = "figures for docs/benchmarks.md; run by hand in release"]
fn orphan_sweep_hold_figures() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let objects: usize = std::env::var("SEEDBED_SWEEP_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let tmp = tmp("object-sweep-figures-");
    let root = tmp.path().join("store");
    let store = served_store(&root, true, false);
    store.create_bucket("data").unwrap();
    let mut rng = DetRng::new(29);
    // Nine in ten small (pack records), one in ten 40 KB (six shard files each).
    for i in 0..objects {
        let size = if i % 10 == 0 { 40_000 } else { 2_000 };
        let mut data = vec![0u8; size];
        rng.fill_bytes(&mut data);
        let opts = PutOptions::default();
        let key = format!("fill/{i:07}");
        (store.put_object("data", &key, &mut data.as_slice(), size as u64, &opts)).unwrap();
    }
    drop(store);
    // The fill's writes out of the page cache, so that the first synced PUT does not pay
    // for them (ext4's journal commit writes them first).
    std::process::Command::new("sync").status().unwrap();
    let store = served_store(&root, false, true);
    let sweep_alone = {
        let t = Instant::now();
        store.remove_orphans().unwrap();
        t.elapsed()
    };
    let done = AtomicBool::new(false);
    let (sweeps, mut lat): (Vec<Duration>, Vec<Duration>) = std::thread::scope(|s| {
        let sweeper = s.spawn(|| {
            let mut took = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                store.remove_orphans().unwrap();
                took.push(t.elapsed());
            }
            done.store(true, Ordering::Relaxed);
            took
        });
        let mut lat = Vec::new();
        let data = vec![7u8; 4096];
        let mut n = 0u64;
        while !done.load(Ordering::Relaxed) {
            let t = Instant::now();
            let key = format!("during/{}", n % 64);
            (store.put_object(
                "data",
                &key,
                &mut data.as_slice(),
                4096,
                &PutOptions::default(),
            ))
            .unwrap();
            lat.push(t.elapsed());
            n += 1;
        }
        (sweeper.join().unwrap(), lat)
    });
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(lat[((lat.len() - 1) as f64 * q) as usize]);
    println!(
        "{objects} objects: sweep alone {:.0} ms; 5 sweeps beside PUTs {:?} ms; {} 4 KiB PUTs \
         meanwhile: p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        ms(sweep_alone),
        sweeps.iter().map(|d| ms(*d).round()).collect::<Vec<_>>(),
        lat.len(),
        p(0.5),
        p(0.99),
        ms(*lat.last().unwrap())
    );
}
