//! The object store on a full disk (every shard directory and every metadata copy on one
//! simulated disk, as in a store made on one file system): PUTs are refused with S3-style
//! `InsufficientStorage` (507) and nothing half-written; GETs and listings keep working
//! (the metadata copies are read-only, not gone); once space is freed the store takes PUTs
//! again by itself — no restart — and after a reopen every acknowledged object is there,
//! byte for byte, the metadata copies agree and scrub finds nothing wrong.
//!
//! The store keeps a space reserve (`object/space.rs`) so that its own PUTs stop short of a
//! full disk; the first test turns it off to drive the PUTs into ENOSPC itself, the second
//! checks the reserve.
//!
//! Before the copies were kept open on a full disk, the first metadata commit refused took
//! every copy out of service: every later request, GETs included, failed with "no metadata
//! copy could answer" until the server was restarted.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::common::wrap_open::WrapOpen;
use crate::common::{get_data as get, sim_store_with};
use rand::RngCore;
use seedbed_engine::io::sim::{SimConfig, SimFaults, SimFs};
use seedbed_engine::io::{Fs, FsHandle, FsSpace, OpenOptions};
use seedbed_engine::object::{
    ListOptions, ObjectError, ObjectStore, PutOptions, SpaceReserve, StoreOptions,
};
use seedbed_engine::rng::DetRng;

/// Space the test frees once the store is full.
const FILLER: &str = "/filler";
/// Takes whatever is left after the store's first refusal.
const REST: &str = "/rest";

fn fill(fs: &dyn Fs, path: &str, bytes: Option<usize>) {
    let f = fs.open(Path::new(path), OpenOptions::create_new()).unwrap();
    match bytes {
        Some(n) => f.write_at(&vec![7u8; n], 0).unwrap(),
        None => {
            let mut at = 0u64;
            for chunk in [4096usize, 256, 16, 1] {
                while f.write_at(&vec![9u8; chunk], at).is_ok() {
                    at += chunk as u64;
                }
            }
        }
    }
}

fn put(store: &ObjectStore, key: &str, data: &[u8]) -> Result<(), ObjectError> {
    let mut src = data;
    store
        .put_object(
            "data",
            key,
            &mut src,
            data.len() as u64,
            &PutOptions::default(),
        )
        .map(|_| ())
}

/// Random objects of 1 to 40,000 bytes — small ones packed, large ones striped — PUT under
/// `k0000`, `k0001`, ... (with `overwrite`, a quarter of them over an earlier key) until one is
/// refused: its key, its bytes and the error. The rest are in `acked`.
fn put_until_refused(
    store: &ObjectStore,
    rng: &mut DetRng,
    acked: &mut BTreeMap<String, Vec<u8>>,
    overwrite: bool,
    seed: u64,
) -> (String, Vec<u8>, ObjectError) {
    for i in 0..10_000u64 {
        let key = if overwrite && i > 4 && rng.below(4) == 0 {
            format!("k{:04}", rng.below(i))
        } else {
            format!("k{i:04}")
        };
        let mut data = vec![0u8; rng.below(40_000) as usize + 1];
        rng.fill_bytes(&mut data);
        match put(store, &key, &data) {
            Ok(()) => {
                acked.insert(key, data);
            }
            Err(e) => return (key, data, e),
        }
    }
    panic!("seed {seed}: 10,000 PUTs and the disk never filled");
}

/// Ten PUTs of up to `max` bytes (`after-0` ... `after-9`), each of which must go through:
/// space is back.
fn put_ten(
    store: &ObjectStore,
    rng: &mut DetRng,
    acked: &mut BTreeMap<String, Vec<u8>>,
    max: u64,
    seed: u64,
) {
    for n in 0..10 {
        let key = format!("after-{n}");
        let mut data = vec![0u8; rng.below(max) as usize + 1];
        rng.fill_bytes(&mut data);
        put(store, &key, &data)
            .unwrap_or_else(|e| panic!("seed {seed}: space is back but PUT {key}: {e}"));
        acked.insert(key, data);
    }
}

fn check_all(store: &ObjectStore, acked: &BTreeMap<String, Vec<u8>>, when: &str) {
    for (k, v) in acked {
        let got = get(store, k).unwrap_or_else(|e| panic!("{when}: GET {k}: {e}"));
        assert!(got == *v, "{when}: GET {k} returned other bytes");
    }
    let listed = store
        .list_objects("data", &ListOptions::default())
        .unwrap_or_else(|e| panic!("{when}: LIST: {e}"));
    for k in acked.keys() {
        assert!(
            listed.entries.iter().any(|o| &o.key == k),
            "{when}: {k} not listed"
        );
    }
}

/// The test stores' options with this reserve (every PUT synced, any part size).
fn with_reserve(bytes: u64) -> StoreOptions {
    StoreOptions {
        sync: true,
        min_part_size: 1,
        space_reserve: SpaceReserve::Bytes(bytes),
        ..StoreOptions::default()
    }
}

fn run(seed: u64) {
    let sim = Arc::new(SimFs::new(seed, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    fill(&*fs, FILLER, Some(700_000));
    let store = sim_store_with(&fs, &sim, true, with_reserve(0)).unwrap();
    store.create_bucket("data").unwrap();
    sim.set_faults(SimFaults {
        capacity_bytes: Some(1_400_000),
        ..SimFaults::none()
    });
    let mut rng = DetRng::new(seed).fork("objects");
    let mut acked: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // Objects small (packed) and large (striped), some overwritten, until the disk is full.
    let (refused_key, refused_data, e) =
        put_until_refused(&store, &mut rng, &mut acked, true, seed);
    assert!(e.is_no_space(), "seed {seed}: refused for {e}");
    assert_eq!(
        (e.code(), e.http_status()),
        ("InsufficientStorage", 507),
        "{e}"
    );
    // What the refused PUT's outcome may be: none, or (if only its description failed after
    // the commit) the object as sent.
    let before = acked.get(&refused_key).cloned();
    let refused_ok = |store: &ObjectStore| match get(store, &refused_key) {
        Ok(got) => got == refused_data || before.as_ref() == Some(&got),
        Err(_) => before.is_none(),
    };
    check_all(&store, &acked, "full");
    assert!(
        refused_ok(&store),
        "seed {seed}: the refused PUT left something else"
    );

    // Not one byte left: PUTs are refused, reads go on.
    fill(&*fs, REST, None);
    for n in 0..3 {
        let e = put(&store, &format!("still-full-{n}"), &[1u8; 5000]).unwrap_err();
        assert!(e.is_no_space(), "seed {seed}: {e}");
    }
    // A DELETE writes metadata only: every metadata copy refuses it, and is taken out of
    // service — yet reads go on from the copies, which hold every acknowledged commit.
    let victim = acked.keys().next().cloned().unwrap();
    for attempt in 0..2 {
        // The second finds every copy out already: still "no space", with each copy's refusal.
        let e = store.delete_object("data", &victim, None).unwrap_err();
        assert!(
            e.is_no_space(),
            "seed {seed}: DELETE {attempt} on a full disk: {e}"
        );
        assert_eq!(e.http_status(), 507);
        assert!(e.to_string().contains("no space left on device"), "{e}");
    }
    check_all(&store, &acked, "still full");

    fs.remove_file(Path::new(FILLER)).unwrap();
    fs.remove_file(Path::new(REST)).unwrap();
    store
        .delete_object("data", &victim, None)
        .unwrap_or_else(|e| panic!("seed {seed}: space is back but DELETE {victim}: {e}"));
    acked.remove(&victim);
    assert!(get(&store, &victim).is_err());
    put_ten(&store, &mut rng, &mut acked, 20_000, seed);
    check_all(&store, &acked, "space back");
    let still: Vec<String> = (0..3).map(|n| format!("still-full-{n}")).collect();
    drop(store);

    let store = sim_store_with(&fs, &sim, false, with_reserve(0)).unwrap();
    check_all(&store, &acked, "reopened");
    assert!(
        refused_ok(&store),
        "seed {seed}: after reopen, the refused PUT"
    );
    for k in &still {
        assert!(get(&store, k).is_err(), "seed {seed}: refused {k} is there");
    }
    let copies = store.verify_metadata(false).unwrap().unwrap();
    assert!(
        copies.bad.is_empty(),
        "seed {seed}: copies differ: {:?}",
        copies.bad
    );
    assert_eq!(store.remove_orphans().unwrap(), 0, "seed {seed}: orphans");
    let report = store.scrub(false, &mut |_, _| {}).unwrap();
    assert!(
        report.bad_blocks == 0 && report.failures.is_empty(),
        "seed {seed}: scrub: {report:?}"
    );
}

#[test]
fn a_full_disk_refuses_puts_keeps_serving_gets_and_recovers_when_space_is_freed() {
    for seed in 0..6 {
        run(seed);
    }
}

/// Free bytes on the simulated disk.
fn free(fs: &dyn Fs) -> u64 {
    fs.space(Path::new("/store")).unwrap().unwrap().available
}

/// PUTs stop at the reserve with a 507 that names it, not at ENOSPC: what is left is room for
/// the metadata and for deletes, which take it without a byte freed from outside — and once
/// they have freed space, PUTs go through again.
fn reserve_run(seed: u64) {
    const CAPACITY: u64 = 1_400_000;
    const RESERVE: u64 = 300_000;
    let sim = Arc::new(SimFs::new(seed, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let store = sim_store_with(&fs, &sim, true, with_reserve(RESERVE)).unwrap();
    store.create_bucket("data").unwrap();
    sim.set_faults(SimFaults {
        capacity_bytes: Some(CAPACITY),
        ..SimFaults::none()
    });
    let mut rng = DetRng::new(seed).fork("objects");
    let mut acked: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let (_, _, e) = put_until_refused(&store, &mut rng, &mut acked, false, seed);
    assert!(
        matches!(
            e,
            ObjectError::SpaceReserve {
                reserve: RESERVE,
                ..
            }
        ),
        "seed {seed}: the first refusal was not the reserve: {e}"
    );
    assert_eq!(
        (e.code(), e.http_status()),
        ("InsufficientStorage", 507),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("/store/disk0") && msg.contains("space reserve"),
        "seed {seed}: {msg}"
    );
    // The PUTs before it left the reserve (less what their metadata took since) free.
    let left = free(&*fs);
    assert!(
        left > RESERVE / 2,
        "seed {seed}: only {left} bytes free when the reserve stopped the PUTs"
    );
    check_all(&store, &acked, "at the reserve");

    // Metadata changes (tagging, as a client that keeps retagging would send) go on into the
    // reserve until half of it is left, where the store takes deletes only (the check an
    // authorized request passes, `AuthorizedStore::check`).
    let tagged = acked.keys().next().cloned().unwrap();
    let mut changes = 0u64;
    let stop = loop {
        assert!(
            changes < 100_000,
            "seed {seed}: metadata changes never stopped"
        );
        if let Err(e) = store.check_room_for("s3:PutObjectTagging") {
            break e;
        }
        let tags = vec![("n".repeat(100), format!("{changes:0>200}"))];
        store
            .put_object_tagging("data", &tagged, None, tags)
            .unwrap_or_else(|e| panic!("seed {seed}: tagging {changes} above the floor: {e}"));
        changes += 1;
    };
    assert!(
        matches!(stop, ObjectError::DeletesOnly { .. }) && stop.http_status() == 507,
        "seed {seed}: {stop}"
    );
    assert!(
        changes > 0,
        "seed {seed}: the PUTs left no room for any change"
    );
    assert!(
        store.check_room_for("s3:DeleteObject").is_ok()
            && store.check_room_for("s3:GetObject").is_ok(),
        "seed {seed}: deletes and reads must pass"
    );
    let left = free(&*fs);

    // Deletes take the reserve: every object goes, with no byte freed from outside.
    let keys: Vec<String> = acked.keys().cloned().collect();
    for (n, k) in keys.iter().enumerate() {
        store
            .delete_object("data", k, None)
            .unwrap_or_else(|e| panic!("seed {seed}: DELETE {k} ({n} of {}): {e}", keys.len()));
        acked.remove(k);
    }
    assert!(
        free(&*fs) > left,
        "seed {seed}: deleting every object freed nothing"
    );
    put_ten(&store, &mut rng, &mut acked, 40_000, seed);
    drop(store);
    let store = sim_store_with(&fs, &sim, false, with_reserve(RESERVE)).unwrap();
    check_all(&store, &acked, "reopened");
    for k in &keys {
        assert!(get(&store, k).is_err(), "seed {seed}: deleted {k} is back");
    }
    let copies = store.verify_metadata(false).unwrap().unwrap();
    assert!(copies.bad.is_empty(), "seed {seed}: copies differ");
    assert_eq!(store.remove_orphans().unwrap(), 0, "seed {seed}: orphans");
}

#[test]
fn the_space_reserve_stops_puts_short_of_a_full_disk_and_deletes_still_work() {
    for seed in 0..6 {
        reserve_run(seed);
    }
}

/// Disks on two file systems (made up over one simulated disk: `disk0` alone on one, `disk1`
/// and `disk2` on the other) are checked apart, each file system against its own reserve and
/// with the shards of every disk on it added up; the refusal names a disk of the file system
/// that is short.
#[test]
fn disks_on_separate_file_systems_are_checked_each_against_its_own_reserve() {
    use std::sync::atomic::{AtomicU64, Ordering};
    const MB: u64 = 1_000_000;
    const RESERVE: u64 = MB;
    let sim = Arc::new(SimFs::new(3, SimConfig::default()));
    let free: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(50 * MB), AtomicU64::new(50 * MB)]);
    let f = free.clone();
    let fs = WrapOpen::with_space(sim.clone(), move |path| {
        let i = usize::from(!path.starts_with("/store/disk0"));
        Some(FsSpace {
            id: i as u64 + 1,
            total: 100 * MB,
            available: f[i].load(Ordering::SeqCst),
        })
    });
    let store = sim_store_with(&fs, &sim, true, with_reserve(RESERVE)).unwrap();
    store.create_bucket("data").unwrap();
    let data = vec![5u8; 20_000];
    put(&store, "fits", &data).unwrap();
    // A 20 KB object puts 10 KB of data (and its headers) on each disk: disk0's file system
    // needs one disk's share, the other two.
    let short = |store: &ObjectStore, which: usize, avail: u64, disk: &str| {
        free[which].store(avail, Ordering::SeqCst);
        let e = put(store, "refused", &data).unwrap_err();
        assert!(
            matches!(&e, ObjectError::SpaceReserve { disk: d, reserve: RESERVE, .. } if d == Path::new(disk)),
            "{e}"
        );
        free[which].store(50 * MB, Ordering::SeqCst);
    };
    short(&store, 0, RESERVE + 20_000, "/store/disk0");
    // 40 KB above the reserve is room for one disk's share, not for two.
    short(&store, 1, RESERVE + 40_000, "/store/disk1");
    free[0].store(RESERVE + 40_000, Ordering::SeqCst);
    put(&store, "one-disk-share-fits", &data).unwrap();
    // Under half the reserve on either, additions stop, deletes do not.
    free[1].store(RESERVE / 2 - 1, Ordering::SeqCst);
    let e = store.check_room_for("s3:PutObjectTagging").unwrap_err();
    assert!(
        matches!(&e, ObjectError::DeletesOnly { disk, .. } if disk == Path::new("/store/disk1")),
        "{e}"
    );
    store.check_room_for("s3:DeleteObject").unwrap();
    store.delete_object("data", "fits", None).unwrap();
    free[1].store(RESERVE / 2, Ordering::SeqCst);
    store.check_room_for("s3:PutObjectTagging").unwrap();
    let e = put(&store, "still-short", &data).unwrap_err();
    assert!(matches!(e, ObjectError::SpaceReserve { .. }), "{e}");
}
