//! Object stores the way the object tests open them, and the crash tests' seed sweep.

pub mod fail_stop;
pub mod replicated_env;
pub mod sim_tables;
pub mod sweep;
pub mod wrap_open;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::sim::SimFs;
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::{MaintenanceMode, Options};
use seedbed_engine::object::layout::Layout;
use seedbed_engine::object::replicated::OpenReport;
use seedbed_engine::object::{lsm_meta, MetaStore, ObjectStore, PutOptions, StoreOptions};
use seedbed_engine::rng::DetRng;

/// The layout `sim_store` makes: K = 2, M = 1, 4 KiB shards under `/store/disk{0,1,2}`.
pub fn sim_layout() -> Layout {
    let disks = (0..3)
        .map(|i| PathBuf::from(format!("/store/disk{i}")))
        .collect();
    Layout::new(2, 1, 4096, disks).expect("a valid layout")
}

/// A store at `/store` on a simulated disk reached through `fs` (which may wrap `sim`):
/// K = 2, M = 1, 4 KiB shards (objects under 8 KiB are pack records), every PUT synced, any
/// part size allowed; the metadata replicated on the three disks (`diskN/meta`), each copy in
/// manual maintenance with small memtables.
pub fn sim_store(fs: &FsHandle, sim: &SimFs, create: bool) -> Result<ObjectStore, String> {
    sim_store_reporting(fs, sim, create).map(|(store, _)| store)
}

/// [`sim_store`] with these options in place of its own (every PUT synced, any part size).
pub fn sim_store_with(
    fs: &FsHandle,
    sim: &SimFs,
    create: bool,
    opts: StoreOptions,
) -> Result<ObjectStore, String> {
    open_sim_store(fs, sim, create, opts).map(|(store, _)| store)
}

/// [`sim_store`], and what opening the metadata copies found (copies rolled forward, rebuilt).
pub fn sim_store_reporting(
    fs: &FsHandle,
    sim: &SimFs,
    create: bool,
) -> Result<(ObjectStore, OpenReport), String> {
    let opts = StoreOptions {
        sync: true,
        min_part_size: 1,
        ..StoreOptions::default()
    };
    open_sim_store(fs, sim, create, opts)
}

fn open_sim_store(
    fs: &FsHandle,
    sim: &SimFs,
    create: bool,
    opts: StoreOptions,
) -> Result<(ObjectStore, OpenReport), String> {
    let root = Path::new("/store");
    let meta_opts = Options {
        maintenance: MaintenanceMode::Manual,
        write_buffer_bytes: 8 << 10,
        ..Options::small_for_tests()
    };
    let (meta, report) =
        lsm_meta::open_replicated(fs.clone(), root, &sim_layout(), meta_opts, sim.clock())
            .map_err(|e| e.to_string())?;
    let rng = DetRng::new(sim.seed()).fork("store");
    if create {
        ObjectStore::create(
            fs.clone(),
            root,
            2,
            1,
            4096,
            None,
            meta as Arc<dyn MetaStore>,
            sim.clock(),
            rng,
            opts,
        )
    } else {
        ObjectStore::open(fs.clone(), root, meta, sim.clock(), rng, opts)
    }
    .map(|store| (store, report))
    .map_err(|e| e.to_string())
}

/// A store in `root` on real files: K = 4, M = 2, 4 KiB shards (objects under 16 KiB are pack
/// records), sync off, ids from `seed`.
pub fn real_store(root: &Path, create: bool, seed: u64) -> ObjectStore {
    real_store_at(root, create, seed, Arc::new(VirtualClock::new()))
}

/// [`real_store`] on a clock the test moves.
pub fn real_store_at(
    root: &Path,
    create: bool,
    seed: u64,
    clock: Arc<VirtualClock>,
) -> ObjectStore {
    real_store_wrapped(root, create, seed, clock, |meta| meta)
}

/// [`real_store_at`] with its metadata store seen through `wrap` (a test's hooks).
pub fn real_store_wrapped(
    root: &Path,
    create: bool,
    seed: u64,
    clock: Arc<VirtualClock>,
    wrap: impl FnOnce(Arc<dyn MetaStore>) -> Arc<dyn MetaStore>,
) -> ObjectStore {
    let fs: FsHandle = Arc::new(PosixFs::new());
    let meta = wrap(
        lsm_meta::open_with(
            fs.clone(),
            &root.join("meta"),
            Options::small_for_tests(),
            clock.clone(),
        )
        .unwrap(),
    );
    let opts = StoreOptions {
        sync: false,
        ..StoreOptions::default()
    };
    let rng = DetRng::new(seed);
    if create {
        ObjectStore::create(fs, root, 4, 2, 4096, None, meta, clock, rng, opts).unwrap()
    } else {
        ObjectStore::open(fs, root, meta, clock, rng, opts).unwrap()
    }
}

/// The whole of object `key` in bucket `data` (the bucket the real-disk tests use).
pub fn get_data(
    store: &ObjectStore,
    key: &str,
) -> Result<Vec<u8>, seedbed_engine::object::ObjectError> {
    let mut out = Vec::new();
    store.get_object("data", key, None, None, &mut out)?;
    Ok(out)
}

/// PUT `size` bytes drawn from `rng` as `bucket/key` with default options; returns the bytes.
pub fn put_random(
    store: &ObjectStore,
    bucket: &str,
    key: &str,
    size: usize,
    rng: &mut DetRng,
) -> Vec<u8> {
    use rand::RngCore;
    let mut data = vec![0u8; size];
    rng.fill_bytes(&mut data);
    store
        .put_object(
            bucket,
            key,
            &mut data.as_slice(),
            size as u64,
            &PutOptions::default(),
        )
        .unwrap();
    data
}
