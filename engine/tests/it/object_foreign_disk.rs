//! Another disk put at one of a running store's disk paths (`engine/src/object/blob/disk_id.rs`,
//! "A disk can also change under a store that is running"), on real files: store A's disk2
//! and store B's disk2 swapped while A runs.
//!
//! - A sees B's disk as foreign, not as an error that blinds it to its other disks.
//! - A writes nothing to B's disk: no shard file of a large PUT, no new pack file for small
//!   PUTs, no file of A's metadata copy — B's disk reads byte for byte as B left it.
//! - A's PUTs go on past the disk (a shard short) and read back exact; its probe refuses the
//!   disk, and so does scrub, naming it.
//! - With its own disk back, A's next open rebuilds the metadata copy that missed commits, and
//!   scrub rebuilds the shards: A then loses two other disks and reads every object exact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::common::{get_data as get, put_random};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::FsHandle;
use seedbed_engine::object::blob::DiskState;
use seedbed_engine::object::{on_disk, ObjectStore, StoreOptions};
use seedbed_engine::rng::DetRng;

fn options() -> StoreOptions {
    StoreOptions {
        sync: false,
        ..StoreOptions::default()
    }
}

fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// Every file under `dir`, at any depth, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Swap disk `d` of the stores in `a` and `b`.
fn swap(a: &Path, b: &Path, d: usize) {
    let (da, db) = (a.join(format!("disk{d}")), b.join(format!("disk{d}")));
    let aside = a.join("aside");
    std::fs::rename(&da, &aside).unwrap();
    std::fs::rename(&db, &da).unwrap();
    std::fs::rename(&aside, &db).unwrap();
}

/// Large objects (shard files of their own: a stripe is 4 × 4 KiB) and small ones (packed).
fn put_some(store: &ObjectStore, tag: &str, seed: u64, objects: &mut Vec<(String, Vec<u8>)>) {
    let mut rng = DetRng::new(seed);
    for n in 0..12 {
        let (key, size) = match n % 3 {
            0 => (format!("{tag}-small-{n}"), 1_000 + n * 37),
            _ => (format!("{tag}-large-{n}"), 40_000 + n * 1_001),
        };
        let data = put_random(store, "data", &key, size, &mut rng);
        objects.push((key, data));
    }
}

fn read_all(store: &ObjectStore, objects: &[(String, Vec<u8>)], when: &str) {
    for (key, data) in objects {
        assert_eq!(&get(store, key).unwrap(), data, "{key}, {when}");
    }
}

#[test]
fn a_disk_of_another_store_put_in_place_takes_nothing_from_the_running_store() {
    let dir = tmp("foreign-disk-");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let fs: FsHandle = Arc::new(PosixFs::new());
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    let store_a = on_disk::create_with(fs.clone(), &a, 4, 2, 4096, None, options()).unwrap();
    store_a.create_bucket("data").unwrap();
    put_some(&store_a, "before", 1, &mut mine);
    {
        let store_b = on_disk::create_with(fs.clone(), &b, 4, 2, 4096, None, options()).unwrap();
        store_b.create_bucket("data").unwrap();
        put_some(&store_b, "b", 2, &mut theirs);
    }
    let b_disk = tree(&b.join("disk2"));

    swap(&a, &b, 2);
    // A sees the disk at its disk2's path for what it is, and its other disks as they are.
    let states = store_a.disk_states().unwrap();
    for (i, (disk, state)) in states.iter().enumerate() {
        match (i, state) {
            (2, DiskState::Foreign(what)) => assert!(what.contains("belongs to store"), "{what}"),
            (2, s) => panic!("{}: {s:?}", disk.display()),
            (_, s) => assert_eq!(*s, DiskState::Formatted, "{}", disk.display()),
        }
    }
    // A's PUTs go on, a shard short, and read back exact.
    put_some(&store_a, "during", 3, &mut mine);
    read_all(&store_a, &mine, "another disk at disk2");
    // Nothing of A's reached B's disk: not a shard file, a pack file, a metadata file.
    assert!(
        tree(&a.join("disk2")) == b_disk,
        "store A wrote to store B's disk"
    );
    // Nothing brings the disk back into A's service while it is B's.
    let probe = store_a.probe_disk(2).unwrap_err().to_string();
    assert!(probe.contains("another disk is at its path"), "{probe}");
    let scrub = store_a.scrub(true, &mut |_, _| {}).unwrap_err().to_string();
    assert!(scrub.contains("disk2 belongs to store"), "{scrub}");
    assert!(
        tree(&a.join("disk2")) == b_disk,
        "store A wrote to store B's disk"
    );
    drop(store_a);

    swap(&a, &b, 2);
    // B's disk, back in B, serves B as before.
    {
        let store_b = on_disk::open_with(fs.clone(), &b, options()).unwrap().0;
        read_all(&store_b, &theirs, "B's disk back");
    }
    // A's own disk back: the metadata copy that was taken out is rebuilt when A opens, and
    // scrub rebuilds the shards the PUTs went on without.
    let (store_a, report) = on_disk::open_with(fs.clone(), &a, options()).unwrap();
    let copy = a.join("disk2").join("meta");
    assert!(report.rebuilt.contains(&copy), "{report:?}");
    let healed = store_a.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.files_healed >= 1, "{healed:?}");
    drop(store_a);
    for d in [0, 1] {
        std::fs::remove_dir_all(a.join(format!("disk{d}"))).unwrap();
    }
    let store_a = on_disk::open_with(fs.clone(), &a, options()).unwrap().0;
    read_all(&store_a, &mine, "disks 0 and 1 lost after the rebuild");
}
