//! Losing whole disks, on real files: a store with small objects (pack records) and large ones
//! (shard files of their own) loses every file on M of its K + M disks. Every GET is still
//! exact, scrub rebuilds everything (pack files included), and a second scrub finds nothing.
//! Losing M + 1 disks fails GETs with an error naming the object, never with wrong bytes.

use crate::common::{get_data as get, put_random, real_store};
use seedbed_engine::object::blob::DISK_ID_FILE;
use seedbed_engine::object::ObjectError;
use seedbed_engine::rng::DetRng;

#[test]
fn losing_m_disks_loses_nothing_and_scrub_rebuilds_them() {
    let tmp = tempfile::Builder::new()
        .prefix("object-disk-loss-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(3);
    let mut objects = Vec::new();
    {
        let store = real_store(&root, true, 11);
        store.create_bucket("data").unwrap();
        // Sizes on both sides of a full stripe (16 KiB): pack records and shard files.
        for (i, size) in [0usize, 1, 100, 4096, 9000, 16_383, 16_384, 50_000, 200_000]
            .into_iter()
            .cycle()
            .take(27)
            .enumerate()
        {
            let key = format!("obj-{i:02}");
            let data = put_random(&store, "data", &key, size, &mut rng);
            objects.push((key, data));
        }
        // Some deletes, so that packs have holes.
        for i in [2, 7, 11] {
            store.delete_object("data", &objects[i].0, None).unwrap();
        }
    }
    let deleted = |key: &str| ["obj-02", "obj-07", "obj-11"].contains(&key);
    assert!(root.join("disk0/packs").exists() && root.join("disk0/blobs").exists());
    for d in ["disk1", "disk4"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    let store = real_store(&root, false, 11);
    for (key, data) in objects.iter().filter(|(k, _)| !deleted(k)) {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}");
    }
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.failures.is_empty(), "{healed:?}");
    assert_eq!(
        healed.files_healed,
        2 * 24 + 2,
        "two shards of each of 24 objects and of the bucket's settings record: {healed:?}"
    );
    let again = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(again.bad_blocks, 0, "{again:?}");
    assert!(root.join("disk1/packs").exists() && root.join("disk4/blobs").exists());
    drop(store);

    // Three disks gone is one more than parity covers.
    for d in ["disk0", "disk2", "disk5"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    let store = real_store(&root, false, 11);
    for (key, _) in objects.iter().filter(|(k, d)| !deleted(k) && !d.is_empty()) {
        match get(&store, key) {
            Err(e @ ObjectError::DataLoss { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(&format!("data/{key}")), "{msg}");
            }
            other => panic!("{key}: expected data loss, got {other:?}"),
        }
    }
}

/// PUT a 4-byte object (a pack record) under `key` in bucket `data`.
fn put_small(store: &seedbed_engine::object::ObjectStore, key: &str) -> Result<(), ObjectError> {
    let opts = seedbed_engine::object::PutOptions::default();
    store
        .put_object("data", key, &mut &b"tiny"[..], 4, &opts)
        .map(|_| ())
}

/// The same losses while the store is open and has just read every object: the pack files it
/// keeps open for reads must not go on serving a deleted disk's bytes. Losing M disks, GETs are
/// rebuilt from parity and scrub finds and heals every lost shard (and the GETs after it read
/// the healed pack files); losing one disk more, every GET fails as data loss.
#[test]
fn disks_lost_under_an_open_store_are_not_read_through_kept_handles() {
    let tmp = tempfile::Builder::new()
        .prefix("object-disk-loss-open-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(5);
    let store = real_store(&root, true, 13);
    store.create_bucket("data").unwrap();
    // Small objects only: every one a pack record, read through kept pack-file handles.
    let objects: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| {
            let key = format!("small-{i:02}");
            let data = put_random(&store, "data", &key, 100 + 1000 * i, &mut rng);
            (key, data)
        })
        .collect();
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}");
    }
    for d in ["disk0", "disk3"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}, two disks lost");
    }
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.failures.is_empty(), "{healed:?}");
    assert_eq!(
        healed.files_healed,
        2 * 12 + 2,
        "two shards of each object and of the bucket's settings record: {healed:?}"
    );
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}, healed");
    }
    // The healed disks hold the only copies of their shards now: lose two others and one of
    // the healed ones, and nothing is left to read but through stale handles.
    for d in ["disk0", "disk1", "disk2"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    for (key, _) in &objects {
        match get(&store, key) {
            Err(e @ ObjectError::DataLoss { .. }) => {
                assert!(e.to_string().contains(&format!("data/{key}")), "{e}");
            }
            other => panic!("{key}: expected data loss, got {other:?}"),
        }
    }
    // Three disks gone is more than a write may lose: a small PUT is refused, naming the
    // missing disks, with nothing acknowledged and no pack file left on the others.
    let packs_before = std::fs::read_dir(root.join("disk3/packs")).unwrap().count();
    let err = put_small(&store, "late").unwrap_err();
    assert!(err.is_too_few_disks(), "{err:?}");
    assert_eq!((err.code(), err.http_status()), ("ServiceUnavailable", 503));
    let msg = err.to_string();
    assert!(
        msg.starts_with("ServiceUnavailable: only 3 of the 6 disks")
            && ["disk0", "disk1", "disk2"].iter().all(|d| msg.contains(d)),
        "{msg}"
    );
    assert!(get(&store, "late").is_err(), "nothing acknowledged");
    // A large one (shard files of its own) too, leaving no shard file behind.
    let big = vec![7u8; 100_000];
    let opts = seedbed_engine::object::PutOptions::default();
    let err = store
        .put_object("data", "late-large", &mut &big[..], 100_000, &opts)
        .unwrap_err();
    assert!(err.is_too_few_disks(), "{err:?}");
    assert!(
        !root.join("disk3/blobs").exists() || walkdir_files(&root.join("disk3/blobs")) == 0,
        "no shard file left behind"
    );
    let packs_after = std::fs::read_dir(root.join("disk3/packs")).unwrap().count();
    assert_eq!(packs_after, packs_before, "no half-made pack left behind");
    assert!(
        !root.join("disk0").exists(),
        "a write does not make a lost disk again"
    );
}

/// A disk directory renamed away under an open store keeps its files' names, so the pack
/// handles the store keeps for reads still reach them (and GETs still return exact bytes, every
/// block CRC-checked); scrub looks at the disks as they are, opening every file afresh, and
/// finds and heals both disks' shards.
#[test]
fn scrub_sees_a_disk_renamed_away_that_kept_handles_do_not() {
    let tmp = tempfile::Builder::new()
        .prefix("object-disk-renamed-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(8);
    let store = real_store(&root, true, 17);
    store.create_bucket("data").unwrap();
    let objects: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| {
            let key = format!("small-{i}");
            (
                key.clone(),
                put_random(&store, "data", &key, 3000, &mut rng),
            )
        })
        .collect();
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}");
    }
    for d in ["disk1", "disk4"] {
        std::fs::rename(root.join(d), tmp.path().join(format!("{d}.gone"))).unwrap();
    }
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "{key}, disks renamed away"
        );
    }
    let report = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(
        report.files_healed,
        2 * 6 + 2,
        "two shards of each object and of the bucket's settings record: {report:?}"
    );
    assert!(root.join("disk1/packs").exists() && root.join("disk4/packs").exists());
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}, healed");
    }
}

/// A disk lost under an open store: writes go on without it (`blob/degraded.rs`) — small
/// objects into packs made on the five disks left, large ones into five shard files — and
/// read back exact. Losing a second disk (M = 2) they still go on (a third is refused: the
/// test above). Scrub rebuilds the shards they never had onto the disks as they are then, and PUTs after
/// that have every shard again: losing M = 2 other disks afterwards loses nothing.
#[test]
fn puts_go_on_past_lost_disks_and_scrub_completes_them() {
    let tmp = tempfile::Builder::new()
        .prefix("object-disk-degraded-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(9);
    let store = real_store(&root, true, 19);
    store.create_bucket("data").unwrap();
    let mut objects = vec![(
        "before".to_string(),
        put_random(&store, "data", "before", 2000, &mut rng),
    )];
    // Large objects have files of their own; make the store see disk1's fan-out directories
    // first, as a store that has run a while has (a known directory is not looked for again).
    objects.push((
        "large-before".to_string(),
        put_random(&store, "data", "large-before", 200_000, &mut rng),
    ));
    std::fs::remove_dir_all(root.join("disk1")).unwrap();
    // Sizes: pack records, one stripe, several stripes (the pipelined path), empty.
    for (i, size) in [3000usize, 16_384, 200_000, 0, 9000]
        .into_iter()
        .enumerate()
    {
        let key = format!("one-lost-{i}");
        let data = put_random(&store, "data", &key, size, &mut rng);
        objects.push((key, data));
    }
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}, disk1 lost");
    }
    assert!(
        !root.join("disk1").exists(),
        "a write does not make a lost disk again"
    );
    std::fs::remove_dir_all(root.join("disk3")).unwrap();
    for (i, size) in [100usize, 200_000].into_iter().enumerate() {
        let key = format!("two-lost-{i}");
        let data = put_random(&store, "data", &key, size, &mut rng);
        objects.push((key, data));
    }
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "{key}, disks 1 and 3 lost"
        );
    }
    // A scrub asked to stop (a server shutting down) stops at the next blob, says so, and
    // has healed nothing.
    let halted = store
        .scrub_until(
            true,
            &mut |_, _| {},
            &std::sync::atomic::AtomicBool::new(true),
        )
        .unwrap();
    assert!(
        halted.stopped && halted.blobs == 0 && halted.files_healed == 0,
        "{halted:?}"
    );
    assert!(!root.join("disk3").exists());
    // Scrub brings the two disks back and writes every shard the degraded PUTs skipped.
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.failures.is_empty() && !healed.stopped, "{healed:?}");
    assert_eq!(
        healed.files_healed,
        2 * 9 + 2,
        "two shards of each of 9 objects and of the bucket's settings record: {healed:?}"
    );
    let clean = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(clean.bad_blocks, 0, "every shard in place: {clean:?}");
    for size in [3000usize, 200_000] {
        let key = format!("after-{size}");
        let data = put_random(&store, "data", &key, size, &mut rng);
        objects.push((key, data));
    }
    drop(store);
    // M = 2 disks lost, none of them the ones lost before: every object must still read —
    // the degraded ones too, now that scrub completed them.
    for d in ["disk0", "disk4"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    let store = real_store(&root, false, 19);
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}, after the heal");
    }
    // Opening a store of plain directories makes a gone disk again, empty, and formats it
    // (`blob/disk_id.rs`); it is rebuilt by the next scrub.
    assert!(root.join("disk0").join(DISK_ID_FILE).exists());
    // Disk 0 holds the packs' lock: lost before this store's first small PUT, small objects
    // get shard files of their own on the other disks instead of being refused.
    std::fs::remove_dir_all(root.join("disk0")).unwrap();
    let late = put_random(&store, "data", "disk0-lost", 500, &mut rng);
    assert_eq!(get(&store, "disk0-lost").unwrap(), late);
    assert!(
        !root.join("disk0").exists(),
        "a write does not make a lost disk again"
    );
}

/// Files under `dir`, at any depth.
fn walkdir_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walkdir_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}
