//! Opening a store (#18): one pass over the version records serves both the orphan sweep and
//! the records an older store lacks — it used to scan every version twice. The reopened store
//! is the one that was closed: buckets, every version and delete marker with its bytes, the
//! multipart uploads and their parts; only an orphaned blob is gone.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rand::RngCore;
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::blob::DataId;
use seedbed_engine::object::meta::Rows;
use seedbed_engine::object::{
    lsm_meta, ListOptions, MetaError, MetaStore, ObjectStore, PutOptions, StoreOptions,
};
use seedbed_engine::rng::DetRng;

use crate::common::real_store;

/// A metadata store that counts the scans starting at the first version key (`O`): one per
/// pass over every version.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn MetaStore>,
    version_passes: AtomicUsize,
}

impl MetaStore for Counting {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, MetaError> {
        self.inner.get(key)
    }

    fn commit(&self, ops: Vec<(Vec<u8>, Option<Vec<u8>>)>, sync: bool) -> Result<(), MetaError> {
        self.inner.commit(ops, sync)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Rows, MetaError> {
        if start == b"O" {
            self.version_passes.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.scan(start, end, limit)
    }
}

/// Everything a client can see of the store, as text.
fn snapshot(store: &ObjectStore) -> Vec<String> {
    let mut out = Vec::new();
    for b in store.list_buckets().unwrap() {
        out.push(format!("bucket {} {:?}", b.name, b.versioning));
        let versions = store
            .list_versions(&b.name, &ListOptions::default())
            .unwrap();
        assert!(!versions.is_truncated);
        for v in versions.entries {
            out.push(format!("{v:?}"));
            if !v.delete_marker {
                let mut data = Vec::new();
                store
                    .get_object(
                        &b.name,
                        &v.key,
                        Some(v.version_id.as_str()),
                        None,
                        &mut data,
                    )
                    .unwrap();
                out.push(format!(
                    "  {} bytes, first {:?}",
                    data.len(),
                    &data[..data.len().min(8)]
                ));
            }
        }
        for u in store.list_uploads(&b.name).unwrap() {
            out.push(format!("{u:?}"));
            for p in store.list_parts(&b.name, &u.upload_id).unwrap() {
                out.push(format!("  {p:?}"));
            }
        }
    }
    out
}

fn open_counting(root: &Path) -> (ObjectStore, Arc<Counting>) {
    let fs: FsHandle = Arc::new(PosixFs::new());
    let clock = Arc::new(VirtualClock::new());
    let inner = lsm_meta::open_with(
        fs.clone(),
        &root.join("meta"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap();
    let counting = Arc::new(Counting {
        inner,
        version_passes: AtomicUsize::new(0),
    });
    let opts = StoreOptions {
        sync: false,
        ..StoreOptions::default()
    };
    let store = ObjectStore::open(
        fs,
        root,
        counting.clone() as Arc<dyn MetaStore>,
        clock,
        DetRng::new(4),
        opts,
    )
    .unwrap();
    (store, counting)
}

#[test]
fn a_reopened_store_is_unchanged_and_open_reads_the_versions_once() {
    let tmp = tempfile::Builder::new()
        .prefix("object-reopen-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(2);
    let mut data = |n: usize| {
        let mut v = vec![0u8; n];
        rng.fill_bytes(&mut v);
        v
    };
    let put = |store: &ObjectStore, bucket: &str, key: &str, body: &[u8]| {
        store
            .put_object(
                bucket,
                key,
                &mut &body[..],
                body.len() as u64,
                &PutOptions::default(),
            )
            .unwrap();
    };
    let (before, orphan) = {
        let store = real_store(&root, true, 3);
        store.create_bucket("plain").unwrap();
        store.create_bucket("kept").unwrap();
        store.set_versioning("kept", true).unwrap();
        for (i, n) in [0usize, 10, 5000, 16_384, 70_000].into_iter().enumerate() {
            put(&store, "plain", &format!("p{i}"), &data(n));
            put(&store, "kept", &format!("k{i}"), &data(n));
            put(&store, "kept", &format!("k{i}"), &data(n + 1));
        }
        store.delete_object("kept", "k1", None).unwrap();
        store.delete_object("kept", "k3", None).unwrap();
        store.delete_object("plain", "p2", None).unwrap();
        let upload = store
            .create_multipart_upload("plain", "big", &PutOptions::default())
            .unwrap();
        for part in 1..=2u32 {
            let body = data(20_000);
            store
                .upload_part("plain", &upload, part, &mut &body[..], body.len() as u64)
                .unwrap();
        }
        // A blob nothing refers to, as a PUT cut short by a crash leaves one.
        let fresh = DataId(
            *uuid::Builder::from_unix_timestamp_millis(1, &[9; 10])
                .into_uuid()
                .as_bytes(),
        );
        let body = data(40_000);
        let (orphan, _) = store
            .blobs()
            .write(&fresh, &mut &body[..], body.len() as u64, false)
            .unwrap();
        assert!(store.blobs().list().unwrap().contains(&orphan));
        (snapshot(&store), orphan)
    };
    assert!(before.len() > 20, "{before:#?}");

    let (store, counting) = open_counting(&root);
    assert_eq!(
        counting.version_passes.load(Ordering::SeqCst),
        1,
        "open reads the version records once"
    );
    assert!(
        !store.blobs().list().unwrap().contains(&orphan),
        "the orphan is swept at open"
    );
    assert_eq!(snapshot(&store), before);
    let blobs = store.blobs().list().unwrap();
    // (The counter holds the metadata database, and with it its lock.)
    drop(store);
    drop(counting);

    // And again: nothing more to sweep, nothing to record, the same store.
    let (store, counting) = open_counting(&root);
    assert_eq!(counting.version_passes.load(Ordering::SeqCst), 1);
    assert_eq!(store.blobs().list().unwrap(), blobs);
    assert_eq!(snapshot(&store), before);
}

/// A copy of a store's directory is a store of its own: its disks are recorded relative to
/// the directory, so the copy reads and writes its own shards and metadata, never the
/// original's, and it opens from any working directory.
#[test]
fn a_copied_store_directory_is_a_store_of_its_own() {
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let t = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), &t).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    {
        let store = seedbed_engine::object::on_disk::create(
            std::sync::Arc::new(seedbed_engine::io::posix::PosixFs::new()),
            &a,
            2,
            1,
            4096,
            None,
        )
        .unwrap();
        store.create_bucket("bkt").unwrap();
        store
            .put_object("bkt", "k", &mut &b"original"[..], 8, &Default::default())
            .unwrap();
    }
    let layout = std::fs::read_to_string(a.join("store.json")).unwrap();
    assert!(layout.contains("\"disk0\""), "{layout}");
    copy_dir(&a, &b);
    {
        let (copy, _) = seedbed_engine::object::on_disk::open(
            std::sync::Arc::new(seedbed_engine::io::posix::PosixFs::new()),
            &b,
        )
        .unwrap();
        assert!(copy.layout().disks.iter().all(|d| d.starts_with(&b)));
        copy.delete_object("bkt", "k", None).unwrap();
    }
    let (original, _) = seedbed_engine::object::on_disk::open(
        std::sync::Arc::new(seedbed_engine::io::posix::PosixFs::new()),
        &a,
    )
    .unwrap();
    let mut out = Vec::new();
    original
        .get_object("bkt", "k", None, None, &mut out)
        .unwrap();
    assert_eq!(out, b"original");
}

/// A store made before format 2 (disks recorded as the paths `init` was given, here absolute)
/// still opens and reads.
#[test]
fn a_format_1_store_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("old");
    let fs = || -> seedbed_engine::io::FsHandle {
        std::sync::Arc::new(seedbed_engine::io::posix::PosixFs::new())
    };
    {
        let store = seedbed_engine::object::on_disk::create(fs(), &root, 2, 1, 4096, None).unwrap();
        store.create_bucket("bkt").unwrap();
        store
            .put_object("bkt", "k", &mut &b"kept"[..], 4, &Default::default())
            .unwrap();
    }
    let disks: Vec<String> = (0..3)
        .map(|i| format!("\"{}\"", root.join(format!("disk{i}")).display()))
        .collect();
    let v1 = format!(
        "{{\"format_version\": 1, \"k\": 2, \"m\": 1, \"shard_len_max\": 4096, \"disks\": [{}]}}",
        disks.join(", ")
    );
    std::fs::write(root.join("store.json"), v1).unwrap();
    let (store, _) = seedbed_engine::object::on_disk::open(fs(), &root).unwrap();
    let mut out = Vec::new();
    store.get_object("bkt", "k", None, None, &mut out).unwrap();
    assert_eq!(out, b"kept");
}

/// A store open in one place is refused a second open — another process's, or this one's by
/// mistake — with the lock's error said once (it used to be repeated for each of the six
/// metadata copies), and no copy opened beside the first; once the first closes, it opens.
#[test]
fn a_second_open_of_an_open_store_names_the_lock_once() {
    use seedbed_engine::object::on_disk;
    let tmp = tempfile::Builder::new()
        .prefix("object-lock-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let dir = tmp.path().join("store");
    let fs: FsHandle = Arc::new(PosixFs::new());
    let first = on_disk::create_with(
        fs.clone(),
        &dir,
        4,
        2,
        1 << 20,
        None,
        StoreOptions::default(),
    )
    .unwrap();
    first.create_bucket("kept").unwrap();
    let e = on_disk::open_with(fs.clone(), &dir, StoreOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert_eq!(msg.matches("locked by another process").count(), 1, "{msg}");
    assert!(
        msg.contains(&format!("(pid {})", std::process::id())),
        "{msg}"
    );
    drop(first);
    let (again, _) = on_disk::open_with(fs, &dir, StoreOptions::default()).unwrap();
    let names: Vec<String> = again
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["kept"]);
}
