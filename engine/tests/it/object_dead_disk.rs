//! A disk that fails every request while its directory is still there — a dying drive, or a
//! file system gone read-only after errors — on the simulated disk (`SimFaults::dead_dirs`).
//! K = 2, M = 1: with one of the three disks dead, PUTs (pack records and shard files),
//! overwrites, deletes and multipart uploads go on on the other two, every GET is exact, a
//! crash and restart with the disk still dead lose nothing acknowledged, and once the disk
//! works again scrub puts its shards back and a second scrub finds nothing to do. With two
//! disks dead (more than M) a PUT fails with an error and leaves nothing listed. On real files
//! (the PUT pipeline's path), a disk that dies in the middle of a large PUT.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::common::wrap_open::{FileHooks, WrapOpen};
use crate::common::{get_data as get, put_random, sim_store};
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
use seedbed_engine::io::{FileHandle, FsHandle, IoError, Result as IoResult};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::blob::{BlobError, PROBE_FILE};
use seedbed_engine::object::{
    lsm_meta, ListOptions, ObjectError, ObjectStore, PutOptions, StoreOptions,
};
use seedbed_engine::rng::DetRng;

/// Pack records (under 8 KiB) and shard files of their own, empty included.
const SIZES: [usize; 8] = [0, 1, 100, 4096, 8191, 8192, 20_000, 50_000];

fn dead(disks: &[usize]) -> SimFaults {
    SimFaults {
        dead_dirs: disks
            .iter()
            .map(|d| PathBuf::from(format!("/store/disk{d}")))
            .collect(),
        ..SimFaults::default()
    }
}

/// Upload `parts` random parts of these sizes as `data/parts`; returns the whole.
fn multipart(store: &ObjectStore, sizes: &[usize], rng: &mut DetRng) -> Vec<u8> {
    let id = store
        .create_multipart_upload("data", "parts", &PutOptions::default())
        .unwrap();
    let mut whole = Vec::new();
    let mut parts = Vec::new();
    for (n, &size) in (1u32..).zip(sizes) {
        let mut d = vec![0u8; size];
        rand::RngCore::fill_bytes(rng, &mut d);
        let etag = store
            .upload_part("data", &id, n, &mut d.as_slice(), size as u64)
            .unwrap();
        whole.extend_from_slice(&d);
        parts.push((n, etag));
    }
    store
        .complete_multipart_upload("data", &id, &parts)
        .unwrap();
    whole
}

fn listed(store: &ObjectStore) -> Vec<String> {
    let opts = ListOptions {
        max_keys: Some(1000),
        ..ListOptions::default()
    };
    let list = store.list_objects("data", &opts).unwrap();
    list.entries.into_iter().map(|e| e.key).collect()
}

fn writes_go_on_past(disk: usize) {
    let sim = Arc::new(SimFs::new(40 + disk as u64, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let store = sim_store(&fs, &sim, true).unwrap();
    store.create_bucket("data").unwrap();
    let mut rng = DetRng::new(7);
    let mut objects = Vec::new();
    // Some objects from before the failure, in the pack the store then appends to.
    for (i, size) in SIZES.into_iter().enumerate() {
        let key = format!("before-{i}");
        objects.push((
            key.clone(),
            put_random(&store, "data", &key, size, &mut rng),
        ));
    }
    sim.set_faults(dead(&[disk]));
    let failing = sim.stats().faults.dead_disk_ops;
    for (i, size) in SIZES.into_iter().cycle().take(16).enumerate() {
        let key = format!("after-{i:02}");
        objects.push((
            key.clone(),
            put_random(&store, "data", &key, size, &mut rng),
        ));
    }
    // Overwrites and deletes of objects written before.
    for i in [1, 5] {
        let key = format!("before-{i}");
        let data = put_random(&store, "data", &key, 3000 + i * 4000, &mut rng);
        objects.iter_mut().find(|(k, _)| *k == key).unwrap().1 = data;
    }
    for key in ["before-3", "after-06"] {
        store.delete_object("data", key, None).unwrap();
        objects.retain(|(k, _)| k != key);
    }
    objects.push((
        "parts".into(),
        multipart(&store, &[6001, 6002, 6003], &mut rng),
    ));
    assert!(
        sim.stats().faults.dead_disk_ops > failing,
        "disk{disk}: the dead disk was never asked"
    );
    let failures = store.disk_failures();
    assert!(
        failures
            .iter()
            .any(|f| f.disk == Path::new(&format!("/store/disk{disk}")) && f.shards > 0),
        "disk{disk}: the failures are reported: {failures:?}"
    );
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "disk{disk}: {key}");
    }
    let probe = store.probe_disk(disk).unwrap_err();
    assert!(
        matches!(&probe, ObjectError::Blob(b) if matches!(&**b, BlobError::Io(e) if e.is_device_failure())),
        "disk{disk}: a dead disk fails its probe: {probe}"
    );

    // Power cut with the disk still dead: everything acknowledged is back.
    drop(store);
    sim.crash();
    let store = sim_store(&fs, &sim, false).unwrap();
    let mut keys: Vec<String> = objects.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    assert_eq!(listed(&store), keys, "disk{disk}");
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "disk{disk} after restart: {key}"
        );
    }

    // The disk works again (its probe says so, and leaves nothing): scrub puts back what
    // writes went on without.
    sim.set_faults(SimFaults::default());
    store.probe_disk(disk).unwrap();
    let probe_file = Path::new(&format!("/store/disk{disk}")).join(PROBE_FILE);
    assert!(!fs.exists(&probe_file).unwrap(), "disk{disk}");
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.failures.is_empty(), "disk{disk}: {healed:?}");
    assert!(
        healed.files_healed > 0,
        "disk{disk}: shards written without the disk are rebuilt: {healed:?}"
    );
    let again = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(again.bad_blocks, 0, "disk{disk}: {again:?}");
    assert!(again.failures.is_empty(), "disk{disk}: {again:?}");
    assert!(again.meta_copies_bad.is_empty(), "disk{disk}: {again:?}");
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "disk{disk} after scrub: {key}"
        );
    }
    // Every shard is back on the disk: with another disk dead now, GETs are still exact.
    sim.set_faults(dead(&[(disk + 1) % 3]));
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "disk{disk} healed: {key}");
    }
}

#[test]
fn writes_go_on_past_a_disk_that_fails_every_request() {
    // Disk 0 holds the packs' lock; each disk holds a metadata copy.
    for disk in 0..3 {
        writes_go_on_past(disk);
    }
}

#[test]
fn more_dead_disks_than_parity_fail_puts_and_list_nothing() {
    let sim = Arc::new(SimFs::new(9, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let store = sim_store(&fs, &sim, true).unwrap();
    store.create_bucket("data").unwrap();
    let mut rng = DetRng::new(1);
    let kept = put_random(&store, "data", "kept", 5000, &mut rng);
    sim.set_faults(dead(&[0, 2]));
    for (i, size) in [100usize, 20_000].into_iter().enumerate() {
        let data = vec![7u8; size];
        let err = store
            .put_object(
                "data",
                &format!("refused-{i}"),
                &mut data.as_slice(),
                size as u64,
                &PutOptions::default(),
            )
            .expect_err("two of three disks dead: no PUT can be acknowledged");
        assert!(err.to_string().contains("EIO"), "{size} bytes: {err}");
    }
    sim.set_faults(SimFaults::default());
    assert_eq!(listed(&store), ["kept"]);
    assert_eq!(get(&store, "kept").unwrap(), kept);
}

/// Fails every write to a file after the first `ok` writes to files of its disk.
#[derive(Debug)]
struct FailAfter {
    left: Arc<AtomicI64>,
}

impl FileHooks for FailAfter {
    fn write(&self, file: &FileHandle, _buf: &[u8], _offset: u64) -> Option<IoResult<()>> {
        (self.left.fetch_sub(1, Ordering::SeqCst) <= 0).then(|| {
            Err(IoError::eio(
                "write",
                file.path(),
                "injected: the disk died",
            ))
        })
    }
}

/// On real files, where objects of more than one stripe go through the three-thread PUT
/// pipeline (`blob/pipeline.rs`): disk 1 starts failing every write in the middle of a large
/// PUT. That PUT and every later one — large, small, multipart — are acknowledged from the
/// other five disks and read back exact; reopened on the healthy disk, scrub rebuilds what
/// disk 1 missed.
#[test]
fn a_disk_that_dies_mid_put_is_written_past_by_the_pipeline() {
    let tmp = tempfile::Builder::new()
        .prefix("object-dead-disk-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let disk1 = root.join("disk1");
    // Disk 1's first writes of the run: the bucket's record and the first blocks of the first
    // large object.
    let left = Arc::new(AtomicI64::new(6));
    let hooked = left.clone();
    let fs = WrapOpen::wrap(Arc::new(PosixFs::new()), move |path: &Path| {
        path.starts_with(&disk1).then(|| {
            Arc::new(FailAfter {
                left: hooked.clone(),
            }) as Arc<dyn FileHooks>
        })
    });
    let open = |fs: FsHandle, create: bool| {
        let clock = Arc::new(VirtualClock::new());
        let meta = lsm_meta::open_with(
            Arc::new(PosixFs::new()),
            &root.join("meta"),
            Options::small_for_tests(),
            clock.clone(),
        )
        .unwrap();
        let opts = StoreOptions {
            sync: true,
            min_part_size: 1,
            ..StoreOptions::default()
        };
        let rng = DetRng::new(5);
        match create {
            true => ObjectStore::create(fs, &root, 4, 2, 4096, None, meta, clock, rng, opts),
            false => ObjectStore::open(fs, &root, meta, clock, rng, opts),
        }
        .unwrap()
    };
    let mut rng = DetRng::new(11);
    let mut objects = Vec::new();
    {
        let store = open(fs, true);
        store.create_bucket("data").unwrap();
        // 16 KiB stripes: 200,000 bytes is 13 of them, 1 MiB 64; 3,000 bytes a pack record.
        for (i, size) in [200_000usize, 1 << 20, 3000, 200_000, 0, 70_000]
            .into_iter()
            .enumerate()
        {
            let key = format!("obj-{i}");
            objects.push((
                key.clone(),
                put_random(&store, "data", &key, size, &mut rng),
            ));
        }
        objects.push(("parts".into(), multipart(&store, &[100_000; 2], &mut rng)));
        assert!(left.load(Ordering::SeqCst) < 0, "disk 1 never failed");
        let failures = store.disk_failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].disk.ends_with("disk1"), "{failures:?}");
        assert!(
            failures[0].last_error.contains("the disk died"),
            "{failures:?}"
        );
        for (key, data) in &objects {
            assert_eq!(&get(&store, key).unwrap(), data, "{key}");
        }
    }
    let store = open(Arc::new(PosixFs::new()), false);
    let healed = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(healed.failures.is_empty(), "{healed:?}");
    assert!(healed.files_healed > 0, "{healed:?}");
    let again = store.scrub(false, &mut |_, _| {}).unwrap();
    assert_eq!(again.bad_blocks, 0, "{again:?}");
    // With disk 1 healed, two other disks may go: everything still reads.
    for d in ["disk0", "disk5"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    for (key, data) in &objects {
        assert_eq!(
            &get(&store, key).unwrap(),
            data,
            "healed, two others gone: {key}"
        );
    }
}
