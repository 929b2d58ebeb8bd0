//! Many PUTs, overwrites, DELETEs and GETs at once on one store, on real files: small objects
//! share pack files (offsets reserved under a lock, written in parallel), large ones get shard
//! files. Every thread owns its keys, so the final state is known: each key holds what its
//! last acknowledged PUT wrote, or nothing after a DELETE. Then a reopen finds no orphans and
//! scrub finds nothing wrong.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rand::RngCore;
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::{lsm_meta, ObjectStore, PutOptions, StoreOptions};
use seedbed_engine::rng::DetRng;

fn open(root: &Path, create: bool) -> ObjectStore {
    let fs: FsHandle = Arc::new(PosixFs::new());
    let clock = Arc::new(VirtualClock::new());
    let meta = lsm_meta::open_with(
        fs.clone(),
        &root.join("meta"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let opts = StoreOptions {
        sync: false,
        ..StoreOptions::default()
    };
    let rng = DetRng::new(17);
    if create {
        // K = 4, M = 2, 4 KiB shards: objects under 16 KiB are pack records.
        ObjectStore::create(fs, root, 4, 2, 4096, None, meta, clock, rng, opts).unwrap()
    } else {
        ObjectStore::open(fs, root, meta, clock, rng, opts).unwrap()
    }
}

#[test]
fn concurrent_writers_leave_exactly_what_they_acknowledged() {
    let tmp = tempfile::Builder::new()
        .prefix("object-concurrency-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let store = open(&root, true);
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
                                // Mostly small (pack records), some large (shard files).
                                let size = match rng.below(4) {
                                    0 => rng.below(40_000) as usize,
                                    _ => rng.below(16_000) as usize,
                                };
                                let mut data = vec![0u8; size];
                                rng.fill_bytes(&mut data);
                                store
                                    .put_object(
                                        "data",
                                        &key,
                                        &mut data.as_slice(),
                                        size as u64,
                                        &PutOptions::default(),
                                    )
                                    .unwrap();
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
    let check = |store: &ObjectStore| {
        for (key, want) in finals.iter().flatten() {
            let mut out = Vec::new();
            let got = store.get_object("data", key, None, None, &mut out);
            match want {
                Some(data) => {
                    got.unwrap();
                    assert_eq!(&out, data, "{key}");
                }
                None => assert!(got.is_err(), "{key} was deleted"),
            }
        }
    };
    check(&store);
    drop(store);
    let store = open(&root, false);
    check(&store);
    assert_eq!(store.remove_orphans().unwrap(), 0);
    let report = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(report.bad_blocks, 0, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
}
