//! The metadata on every disk (`object/replicated.rs`), on real files: a store with K = 4,
//! M = 2 keeps a copy of its metadata in each of its six disk directories.
//! - Deleting the metadata of any two disks loses nothing: the store opens, every object reads
//!   back exact, and the lost copies are rebuilt at open.
//! - Rot in the copy that answers reads (every file's bytes flipped) loses nothing: reads come
//!   from the next copy, and scrub rebuilds the bad one.
//! - Deleting every copy is refused at open (the orphan sweep would delete every blob), and
//!   `repair` rebuilds the metadata from the shards' descriptions (more: `object_rebuild.rs`).
//! - A store made before the metadata was replicated (`STORE/meta` only) opens with its
//!   metadata copied onto every disk.

use std::path::Path;

use seedbed_engine::lsm::Options;
use seedbed_engine::object::{lsm_meta, repair, ObjectStore, PutOptions};
use seedbed_engine::rng::DetRng;

use crate::common::replicated_env::{data, options, Env};

fn env() -> Env {
    crate::common::replicated_env::env("object-meta-")
}

/// Objects small (pack records) and large (shard files), two versions of one, and a multipart
/// object; returns (key, content of the latest version).
fn fill(store: &ObjectStore) -> Vec<(String, Vec<u8>)> {
    store.create_bucket("bkt").unwrap();
    store.set_versioning("bkt", true).unwrap();
    let mut want = Vec::new();
    for (i, len) in [10usize, 3000, 20_000, 70_000].into_iter().enumerate() {
        let key = format!("k{i}");
        let d = data(len, i as u8);
        let mut opts = PutOptions::default();
        opts.user_meta.insert("n".into(), i.to_string());
        store
            .put_object("bkt", &key, &mut d.as_slice(), len as u64, &opts)
            .unwrap();
        want.push((key, d));
    }
    let v2 = data(5000, 99);
    store
        .put_object(
            "bkt",
            "k0",
            &mut v2.as_slice(),
            5000,
            &PutOptions::default(),
        )
        .unwrap();
    want[0].1 = v2;
    let id = store
        .create_multipart_upload("bkt", "multi", &PutOptions::default())
        .unwrap();
    let (p1, p2) = (data(9000, 7), data(100, 8));
    let e1 = store
        .upload_part("bkt", &id, 1, &mut p1.as_slice(), 9000)
        .unwrap();
    let e2 = store
        .upload_part("bkt", &id, 2, &mut p2.as_slice(), 100)
        .unwrap();
    store
        .complete_multipart_upload("bkt", &id, &[(1, e1), (2, e2)])
        .unwrap();
    want.push(("multi".into(), [p1, p2].concat()));
    want
}

fn check(store: &ObjectStore, want: &[(String, Vec<u8>)]) {
    for (key, d) in want {
        let mut out = Vec::new();
        store.get_object("bkt", key, None, None, &mut out).unwrap();
        assert!(out == *d, "{key}: wrong bytes");
    }
    let versions = store
        .list_versions("bkt", &Default::default())
        .unwrap()
        .entries;
    assert_eq!(versions.len(), want.len() + 1, "every version listed");
    assert_eq!(
        store.head_object("bkt", "k3", None).unwrap().user_meta["n"],
        "3"
    );
}

fn all_agree(store: &ObjectStore) {
    let r = store.verify_metadata(false).unwrap().expect("replicated");
    assert_eq!(r.copies, 6);
    assert!(r.bad.is_empty(), "{r:?}");
}

#[test]
fn losing_any_two_disks_metadata_loses_nothing() {
    for lost in [[0usize, 1], [4, 5], [1, 4]] {
        let e = env();
        let want = {
            let store = e.create();
            fill(&store)
        };
        for i in lost {
            std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
        }
        let store = e.open().unwrap();
        check(&store, &want);
        // The lost copies were rebuilt as the store opened.
        all_agree(&store);
        for i in lost {
            assert!(e.disk(i).join("meta").exists());
        }
    }
}

/// Flip a byte in every file of a directory (every WAL record and SSTable block of an LSM).
fn rot(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        if bytes.len() < 16 {
            continue;
        }
        for i in (8..bytes.len()).step_by(97) {
            bytes[i] ^= 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();
    }
}

#[test]
fn rot_in_the_copy_that_answers_reads_loses_nothing_and_scrub_heals_it() {
    let e = env();
    let want = {
        let store = e.create();
        fill(&store)
    };
    rot(&e.disk(0).join("meta"));
    let store = e.open().unwrap();
    check(&store, &want);
    let report = store.scrub(true, &mut |_, _| {}).unwrap();
    assert_eq!(report.meta_copies, 6);
    assert!(report.failures.is_empty(), "{report:?}");
    // Open already rebuilt a copy that lost commits; one that still reads but differs, or is
    // out of service, is healed here. Either way all six agree now.
    all_agree(&store);
    drop(store);
    let store = e.open().unwrap();
    check(&store, &want);
    all_agree(&store);
}

#[test]
fn losing_every_copy_is_refused_until_repair_rebuilds_it_from_the_shards() {
    let e = env();
    let want = {
        let store = e.create();
        fill(&store)
    };
    for i in 0..6 {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    let err = e.open().unwrap_err();
    assert!(err.contains("every copy of the metadata was lost"), "{err}");
    let report = repair::repair(
        e.fs.clone(),
        &e.root,
        Options::small_for_tests(),
        e.clock.clone(),
        false,
    )
    .unwrap();
    let rebuilt = report.rebuilt.as_ref().expect("rebuilt from the shards");
    assert!(report.whole(), "{report:?}");
    assert_eq!(rebuilt.versions(), want.len() as u64 + 1, "{report:?}");
    let store = e.open().unwrap();
    check(&store, &want);
    all_agree(&store);
}

#[test]
fn a_store_from_before_replication_gets_a_copy_on_every_disk() {
    let e = env();
    let want = {
        // The old way: one metadata database in STORE/meta.
        let meta = lsm_meta::open_with(
            e.fs.clone(),
            &e.root.join("meta"),
            Options::small_for_tests(),
            e.clock.clone(),
        )
        .unwrap();
        let store = ObjectStore::create(
            e.fs.clone(),
            &e.root,
            4,
            2,
            4096,
            None,
            meta,
            e.clock.clone(),
            DetRng::new(3),
            options(),
        )
        .unwrap();
        fill(&store)
    };
    let store = e.open().unwrap();
    check(&store, &want);
    let r = store.verify_metadata(false).unwrap().expect("replicated");
    assert_eq!(r.copies, 7, "six disks and the old STORE/meta");
    assert!(r.bad.is_empty(), "{r:?}");
    // The old copy can go now: the disks' copies hold everything.
    drop(store);
    std::fs::remove_dir_all(e.root.join("meta")).unwrap();
    check(&e.open().unwrap(), &want);
}

/// Two copies' directories deleted while the store runs: their databases still answer from
/// memory and open files, so comparing entries finds nothing — scrub must look at the disks,
/// report both copies and rebuild them, and after a restart every copy holds what was
/// written since.
#[test]
fn copies_deleted_under_a_running_store_are_found_and_rebuilt_by_scrub() {
    let e = env();
    let store = e.create();
    let mut want = fill(&store);
    for i in [1, 4] {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    let r = store.verify_metadata(true).unwrap().expect("replicated");
    let bad: Vec<String> = r.bad.iter().map(|(d, _)| d.display().to_string()).collect();
    assert!(
        bad.len() == 2 && bad[0].contains("disk1") && bad[1].contains("disk4"),
        "{r:?}"
    );
    assert_eq!(r.healed.len(), 2, "{r:?}");
    let late = data(2000, 42);
    store
        .put_object(
            "bkt",
            "late",
            &mut late.as_slice(),
            2000,
            &PutOptions::default(),
        )
        .unwrap();
    want.push(("late".into(), late));
    all_agree(&store);
    drop(store);
    // Two other copies lost: the rebuilt ones must carry everything.
    for i in [0, 2] {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    let store = e.open().unwrap();
    for (key, d) in &want {
        let mut out = Vec::new();
        store.get_object("bkt", key, None, None, &mut out).unwrap();
        assert!(out == *d, "{key}: wrong bytes");
    }
    all_agree(&store);
}

/// Copies whose directories are deleted under a running store are taken out of service by the
/// next commit, not counted toward its quorum: with three of six copies gone a commit reaches
/// three real copies, short of K = 4, and the PUT is refused — naming the copies and why —
/// where counting the deleted copies' open files would have acknowledged it.
#[test]
fn a_commit_does_not_count_copies_whose_directory_is_gone() {
    let e = env();
    let store = e.create();
    let want = fill(&store);
    let put = |key: &str| {
        let d = data(1500, 9);
        store.put_object("bkt", key, &mut d.as_slice(), 1500, &PutOptions::default())
    };
    for i in [1, 4] {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    put("two-gone").unwrap();
    std::fs::remove_dir_all(e.disk(0).join("meta")).unwrap();
    let err = put("three-gone").unwrap_err().to_string();
    assert!(
        err.contains("directory is gone") && err.contains("disk0") && err.contains("disk4"),
        "{err}"
    );
    // Reads go on, from a copy that is there (a commit short of its quorum may or may not be
    // visible, as after any failed write); scrub rebuilds the three and writes go on.
    for (key, d) in &want {
        let mut out = Vec::new();
        store.get_object("bkt", key, None, None, &mut out).unwrap();
        assert!(out == *d, "{key}: wrong bytes");
    }
    let r = store.verify_metadata(true).unwrap().expect("replicated");
    assert_eq!(r.healed.len(), 3, "{r:?}");
    put("after").unwrap();
    all_agree(&store);
}
