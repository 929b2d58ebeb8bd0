//! Many PUTs, overwrites, DELETEs and GETs at once on one store, on real files: small objects
//! share pack files (offsets reserved under a lock, written in parallel), large ones get shard
//! files. Every thread owns its keys, so the final state is known: each key holds what its
//! last acknowledged PUT wrote, or nothing after a DELETE. Then a reopen finds no orphans and
//! scrub finds nothing wrong.

use std::collections::BTreeMap;

use crate::common::real_store;
use rand::RngCore;
use seedbed_engine::object::{ObjectStore, PutOptions};
use seedbed_engine::rng::DetRng;

#[test]
fn concurrent_writers_leave_exactly_what_they_acknowledged() {
    let tmp = tempfile::Builder::new()
        .prefix("object-concurrency-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
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
    let store = real_store(&root, false, 17);
    check(&store);
    assert_eq!(store.remove_orphans().unwrap(), 0);
    let report = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(report.bad_blocks, 0, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
}
