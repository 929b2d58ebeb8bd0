//! Which directories are the store's disks (`engine/src/object/blob/disk_id.rs`), on real
//! files. The disks are made-up mount points: a file system wrapper answers `statvfs` with a
//! file system of their own for each disk while it is "mounted", and with its parent's once it
//! is "unmounted" (its directory moved aside and an empty one left, as a mount point is).
//!
//! - A disk not mounted takes nothing: not its metadata copy at open, not a shard of a PUT,
//!   not a healed shard in scrub; the PUTs go on past it and read back exact. Mounted again,
//!   scrub rebuilds it, and the store then survives losing two other disks.
//! - A store where only one disk is a mount point, mounted after the store was made, knows it
//!   from the other disks' identity files when that disk is not mounted.
//! - A disk mounted above its directory (`mntN/data`) is not made again when not mounted.
//! - A new disk mounted in place of a dead one is formatted by scrub and rebuilt.
//! - A store refuses to open with two disks swapped, or a disk of another store in place; a
//!   new store refuses another store's disks; a store made before identity files gets them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::common::wrap_open::WrapOpen;
use crate::common::{get_data as get, put_random};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::{FsHandle, FsSpace};
use seedbed_engine::object::blob::{DiskState, DISK_ID_FILE};
use seedbed_engine::object::{on_disk, ObjectStore, StoreOptions};
use seedbed_engine::rng::DetRng;

const WIDTH: usize = 6;

/// Disk directories `root/disk0 ..` that are mount points while their bit in `mounted` is
/// set: each then answers as a file system of its own, else as its parent's.
fn mount_points(root: &Path, mounted: Arc<AtomicU32>) -> FsHandle {
    mounts_at(root, "disk", mounted)
}

/// Directories `root/{prefix}0 ..` that are mount points while their bit in `mounted` is set,
/// with everything below them.
fn mounts_at(root: &Path, prefix: &'static str, mounted: Arc<AtomicU32>) -> FsHandle {
    let root = root.to_path_buf();
    WrapOpen::with_space(Arc::new(PosixFs::new()), move |path| {
        let disk = path
            .strip_prefix(&root)
            .ok()
            .and_then(|rel| rel.components().next())
            .and_then(|c| {
                c.as_os_str()
                    .to_str()?
                    .strip_prefix(prefix)?
                    .parse::<u64>()
                    .ok()
            });
        let id = match disk {
            Some(d) if mounted.load(Ordering::SeqCst) & (1 << d) != 0 => 100 + d,
            _ => 1,
        };
        Some(FsSpace {
            id,
            total: 1 << 40,
            available: 1 << 39,
        })
    })
}

fn options() -> StoreOptions {
    StoreOptions {
        sync: false,
        ..StoreOptions::default()
    }
}

fn open(fs: &FsHandle, root: &Path) -> ObjectStore {
    on_disk::open_with(fs.clone(), root, options()).unwrap().0
}

/// Files under `dir`, at any depth (0 for a directory that is not there).
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                files_under(&e.path())
            } else {
                1
            }
        })
        .sum()
}

/// Take disk `d` off its mount point: its directory moved aside, an empty one left.
fn unmount(root: &Path, mounted: &AtomicU32, d: usize) -> PathBuf {
    let disk = root.join(format!("disk{d}"));
    let aside = root.join(format!("aside{d}"));
    std::fs::rename(&disk, &aside).unwrap();
    std::fs::create_dir(&disk).unwrap();
    mounted.fetch_and(!(1 << d), Ordering::SeqCst);
    aside
}

/// Put disk `d` back on its mount point.
fn mount(root: &Path, mounted: &AtomicU32, d: usize, aside: &Path) {
    let disk = root.join(format!("disk{d}"));
    std::fs::remove_dir(&disk).expect("the mount point is empty");
    std::fs::rename(aside, &disk).unwrap();
    mounted.fetch_or(1 << d, Ordering::SeqCst);
}

fn tmp(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// A store of K = 4, M = 2 on six mount points, with a bucket `data`.
fn mounted_store(root: &Path) -> (FsHandle, Arc<AtomicU32>) {
    mounted_store_of(root, (1 << WIDTH) - 1)
}

/// [`mounted_store`] with the disks of mask `mounts` mount points, the others plain
/// directories.
fn mounted_store_of(root: &Path, mounts: u32) -> (FsHandle, Arc<AtomicU32>) {
    let mounted = Arc::new(AtomicU32::new(mounts));
    let fs = mount_points(root, mounted.clone());
    for d in 0..WIDTH {
        std::fs::create_dir_all(root.join(format!("disk{d}"))).unwrap();
    }
    let store = on_disk::create_with(fs.clone(), root, 4, 2, 4096, None, options()).unwrap();
    store.create_bucket("data").unwrap();
    (fs, mounted)
}

#[test]
fn a_disk_not_mounted_takes_nothing_and_is_rebuilt_once_mounted() {
    let dir = tmp("disk-id-");
    let root = dir.path();
    let (fs, mounted) = mounted_store(root);
    let mut rng = DetRng::new(41);
    let mut objects = Vec::new();
    let store = open(&fs, root);
    for (n, size) in [3000usize, 200_000].into_iter().enumerate() {
        objects.push((
            format!("before-{n}"),
            put_random(&store, "data", &format!("before-{n}"), size, &mut rng),
        ));
    }
    for d in 0..WIDTH {
        assert!(root.join(format!("disk{d}")).join(DISK_ID_FILE).exists());
    }
    drop(store);

    // Disk 2 does not come up: its mount point is an empty directory on the parent's file
    // system. Opening leaves it empty (its metadata copy is out of service, not made there).
    let aside = unmount(root, &mounted, 2);
    let (store, report) = on_disk::open_with(fs.clone(), root, options()).unwrap();
    assert!(
        report
            .down
            .iter()
            .any(|(d, why)| d.starts_with(root.join("disk2")) && why.contains(DISK_ID_FILE)),
        "{report:?}"
    );
    let disk2 = root.join("disk2");
    assert_eq!(
        files_under(&disk2),
        0,
        "nothing made on the empty mount point at open"
    );
    let missing = store.missing_disks().unwrap();
    assert_eq!(missing, vec![(disk2.clone(), DiskState::NotMounted)]);
    assert!(store.new_disks().unwrap().is_empty());
    // PUTs go on past it, pack records and shard files alike, and read back exact.
    for (n, size) in [0usize, 100, 3000, 200_000, 1 << 20]
        .into_iter()
        .enumerate()
    {
        let key = format!("while-{n}");
        objects.push((
            key.clone(),
            put_random(&store, "data", &key, size, &mut rng),
        ));
    }
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "{key}, disk 2 not mounted"
        );
    }
    // A probe (what a server asks of a failing disk) writes nothing there either.
    let probe = store.probe_disk(2).unwrap_err().to_string();
    assert!(probe.contains(DISK_ID_FILE), "{probe}");
    // Scrub heals nothing onto it, and says why.
    let scrub = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(scrub.failures.is_empty(), "{scrub:?}");
    assert!(scrub.disks_formatted.is_empty(), "{scrub:?}");
    assert_eq!(scrub.disks_absent.len(), 1, "{scrub:?}");
    assert!(scrub.disks_absent[0].1.contains("not mounted"), "{scrub:?}");
    assert!(scrub.shards_absent >= objects.len() as u64, "{scrub:?}");
    assert_eq!(
        files_under(&disk2),
        0,
        "nothing written on the empty mount point"
    );

    // Mounted again under the running store: scrub puts back every shard it missed, and the
    // metadata copy.
    mount(root, &mounted, 2, &aside);
    assert!(store.missing_disks().unwrap().is_empty());
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(
        healed.failures.is_empty() && healed.disks_absent.is_empty(),
        "{healed:?}"
    );
    assert!(
        healed.files_healed >= 5,
        "the five objects PUT without disk 2: {healed:?}"
    );
    assert_eq!(healed.meta_copies_healed, 1, "{healed:?}");
    let clean = store.scrub(true, &mut |_, _| {}).unwrap();
    assert_eq!((clean.bad_blocks, clean.files_healed), (0, 0), "{clean:?}");
    drop(store);

    // Two other disks lost whole: everything reads from the four left, disk 2 among them. A
    // gone mount point is not made again by opening.
    lose_two_and_read_all(&fs, root, [0, 5], &objects);
    assert!(!root.join("disk0").exists() && !root.join("disk5").exists());
}

/// Delete disks `lost` whole (M = 2 of them), open the store and read every object exact.
fn lose_two_and_read_all(
    fs: &FsHandle,
    root: &Path,
    lost: [usize; 2],
    objects: &[(String, Vec<u8>)],
) {
    for d in lost {
        std::fs::remove_dir_all(root.join(format!("disk{d}"))).unwrap();
    }
    let store = open(fs, root);
    for (key, data) in objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "{key}, disks {lost:?} lost"
        );
    }
}

#[test]
fn a_new_disk_in_place_of_a_dead_one_is_formatted_and_rebuilt() {
    let dir = tmp("disk-id-new-");
    let root = dir.path();
    let (fs, _mounted) = mounted_store(root);
    let mut rng = DetRng::new(43);
    let store = open(&fs, root);
    let mut objects = Vec::new();
    for (n, size) in [100usize, 5000, 300_000].into_iter().enumerate() {
        let key = format!("o{n}");
        objects.push((
            key.clone(),
            put_random(&store, "data", &key, size, &mut rng),
        ));
    }
    // Disk 3 dies; a new, empty one is mounted in its place while the store runs.
    let disk3 = root.join("disk3");
    std::fs::remove_dir_all(&disk3).unwrap();
    assert_eq!(
        store.missing_disks().unwrap(),
        vec![(disk3.clone(), DiskState::Gone)]
    );
    std::fs::create_dir(&disk3).unwrap();
    assert!(store.missing_disks().unwrap().is_empty());
    assert_eq!(store.new_disks().unwrap(), vec![disk3.clone()]);
    // Until scrub formats it, writes go on past it.
    let key = "before-format";
    objects.push((
        key.into(),
        put_random(&store, "data", key, 20_000, &mut rng),
    ));
    assert_eq!(files_under(&disk3), 0);
    let scrub = store.scrub(true, &mut |_, _| {}).unwrap();
    assert_eq!(
        scrub.disks_formatted,
        vec![disk3.display().to_string()],
        "{scrub:?}"
    );
    assert!(
        scrub.failures.is_empty() && scrub.files_healed >= 4,
        "{scrub:?}"
    );
    assert!(disk3.join(DISK_ID_FILE).exists());
    assert!(store.new_disks().unwrap().is_empty());
    drop(store);
    lose_two_and_read_all(&fs, root, [1, 4], &objects);
}

#[test]
fn the_one_disk_mounted_since_creation_is_known_when_it_is_not_mounted() {
    // Only disk 0 is a mount point, and only since after the store was made (its files
    // said no disk was one; opening records it): with it unmounted, no other disk is one, and
    // only what the others' identity files recorded tells its empty directory from a plain
    // one.
    let dir = tmp("disk-id-one-");
    let root = dir.path();
    let (fs, mounted) = mounted_store_of(root, 0);
    mounted.fetch_or(1, Ordering::SeqCst);
    let store = open(&fs, root);
    for d in 0..WIDTH {
        let id: serde_json::Value = serde_json::from_slice(
            &std::fs::read(root.join(format!("disk{d}")).join(DISK_ID_FILE)).unwrap(),
        )
        .unwrap();
        assert_eq!(id["mount_points"][0], true, "disk{d}: {id}");
        assert_eq!(id["mount_points"][1], false, "disk{d}: {id}");
    }
    let data = put_random(&store, "data", "k", 3000, &mut DetRng::new(7));
    drop(store);
    let aside = unmount(root, &mounted, 0);
    let store = open(&fs, root);
    let disk0 = root.join("disk0");
    assert_eq!(
        store.missing_disks().unwrap(),
        vec![(disk0.clone(), DiskState::NotMounted)]
    );
    let more = put_random(&store, "data", "more", 3000, &mut DetRng::new(8));
    let scrub = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(
        scrub.disks_formatted.is_empty() && scrub.failures.is_empty(),
        "{scrub:?}"
    );
    assert_eq!(files_under(&disk0), 0);
    drop(store);
    mount(root, &mounted, 0, &aside);
    let store = open(&fs, root);
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.files_healed >= 1, "{healed:?}");
    assert_eq!(get(&store, "k").unwrap(), data);
    assert_eq!(get(&store, "more").unwrap(), more);
}

#[test]
fn a_disk_mounted_above_its_directory_is_not_made_again_when_not_mounted() {
    // Each disk is `mntN/data`, on a file system mounted at `mntN`: unmounted, `mntN` is an
    // empty directory and the disk's directory is gone — gone from a mount point, which the
    // store must not make again on the file system below.
    let dir = tmp("disk-id-above-");
    let base = dir.path();
    let mounted = Arc::new(AtomicU32::new((1 << WIDTH) - 1));
    let fs = mounts_at(base, "mnt", mounted.clone());
    let disks: Vec<PathBuf> = (0..WIDTH)
        .map(|d| base.join(format!("mnt{d}")).join("data"))
        .collect();
    let root = base.join("store");
    let store = on_disk::create_with(
        fs.clone(),
        &root,
        4,
        2,
        4096,
        Some(disks.clone()),
        options(),
    )
    .unwrap();
    store.create_bucket("data").unwrap();
    let mut rng = DetRng::new(5);
    let mut objects = vec![(
        "a".to_string(),
        put_random(&store, "data", "a", 3000, &mut rng),
    )];
    drop(store);
    let mnt3 = base.join("mnt3");
    let aside = base.join("aside3");
    std::fs::rename(&mnt3, &aside).unwrap();
    std::fs::create_dir(&mnt3).unwrap();
    mounted.fetch_and(!(1 << 3), Ordering::SeqCst);
    let store = open(&fs, &root);
    assert_eq!(
        store.missing_disks().unwrap(),
        vec![(disks[3].clone(), DiskState::Gone)]
    );
    objects.push((
        "b".into(),
        put_random(&store, "data", "b", 200_000, &mut rng),
    ));
    let scrub = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(
        scrub.disks_formatted.is_empty() && scrub.failures.is_empty(),
        "{scrub:?}"
    );
    assert!(!disks[3].exists(), "made again below the mount point");
    drop(store);
    std::fs::remove_dir(&mnt3).unwrap();
    std::fs::rename(&aside, &mnt3).unwrap();
    mounted.fetch_or(1 << 3, Ordering::SeqCst);
    let store = open(&fs, &root);
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.files_healed >= 1, "{healed:?}");
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}");
    }
}

/// The error opening the store in `root` gives, as text.
fn open_error(root: &Path) -> String {
    match on_disk::open_with(Arc::new(PosixFs::new()), root, options()) {
        Ok(_) => panic!("{} opened", root.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn disks_out_of_place_or_of_another_store_refuse_to_open() {
    let dir = tmp("disk-id-swap-");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let fs: FsHandle = Arc::new(PosixFs::new());
    for root in [&a, &b] {
        let store = on_disk::create_with(fs.clone(), root, 2, 1, 4096, None, options()).unwrap();
        store.create_bucket("data").unwrap();
        put_random(&store, "data", "k", 10_000, &mut DetRng::new(1));
    }
    // Two disks swapped.
    std::fs::rename(a.join("disk1"), a.join("x")).unwrap();
    std::fs::rename(a.join("disk2"), a.join("disk1")).unwrap();
    std::fs::rename(a.join("x"), a.join("disk2")).unwrap();
    let e = open_error(&a);
    assert!(
        e.contains("disk1 holds disk 2 of 3") && e.contains("disk2 holds disk 1 of 3"),
        "{e}"
    );
    std::fs::rename(a.join("disk1"), a.join("x")).unwrap();
    std::fs::rename(a.join("disk2"), a.join("disk1")).unwrap();
    std::fs::rename(a.join("x"), a.join("disk2")).unwrap();
    drop(on_disk::open_with(fs.clone(), &a, options()).unwrap());
    // Another store's disk in place of one of ours.
    std::fs::rename(a.join("disk0"), a.join("mine")).unwrap();
    std::fs::rename(b.join("disk0"), a.join("disk0")).unwrap();
    let e = open_error(&a);
    assert!(e.contains("disk0 belongs to store"), "{e}");
    std::fs::rename(a.join("disk0"), b.join("disk0")).unwrap();
    std::fs::rename(a.join("mine"), a.join("disk0")).unwrap();
    // A new store on another store's disks is refused, and leaves them as they were.
    let disks: Vec<PathBuf> = (0..3).map(|i| a.join(format!("disk{i}"))).collect();
    let before: Vec<Vec<u8>> = disks
        .iter()
        .map(|d| std::fs::read(d.join(DISK_ID_FILE)).unwrap())
        .collect();
    let c = dir.path().join("c");
    let e = match on_disk::create_with(fs.clone(), &c, 2, 1, 4096, Some(disks.clone()), options()) {
        Ok(_) => panic!("a store made on another's disks"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("already"), "{e}");
    for (d, id) in disks.iter().zip(&before) {
        assert_eq!(&std::fs::read(d.join(DISK_ID_FILE)).unwrap(), id);
    }
    // A store made before identity files gets them when it opens, one store id on all, and
    // reads as before.
    for d in &disks {
        std::fs::remove_file(d.join(DISK_ID_FILE)).unwrap();
    }
    let store = on_disk::open_with(fs.clone(), &a, options()).unwrap().0;
    assert_eq!(get(&store, "k").unwrap().len(), 10_000);
    let ids: Vec<serde_json::Value> = disks
        .iter()
        .map(|d| serde_json::from_slice(&std::fs::read(d.join(DISK_ID_FILE)).unwrap()).unwrap())
        .collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id["disk"], i);
        assert_eq!(id["store"], ids[0]["store"]);
    }
    assert_ne!(
        ids[0]["store"],
        serde_json::from_slice::<serde_json::Value>(&before[0]).unwrap()["store"],
        "a fresh id"
    );
}
