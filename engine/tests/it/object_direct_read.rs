//! GETs through the direct-I/O read path (#18): blobs with shard files of their own are read
//! with `O_DIRECT` into aligned windows of the shard buffers. With M disk directories gone, or
//! M shard files of every blob corrupt, every GET — whole, ranged at unaligned offsets, and
//! through a sink that keeps the engine's buffers — returns exact bytes; with M + 1, an error,
//! never wrong bytes. The same on the simulated disk (which checks every direct request's
//! alignment). (A file system that refuses `O_DIRECT`: `object_blob.rs`,
//! `large_blobs_on_a_file_system_without_direct_io`.)

use std::path::Path;
use std::sync::Arc;

use seedbed_engine::io::sim::{SimConfig, SimFs};
use seedbed_engine::io::{posix::PosixFs, Fs, FsHandle, OpenOptions};
use seedbed_engine::object::{ByteRange, ChunkSink, GetOptions, ObjectError, ObjectStore};
use seedbed_engine::rng::DetRng;

use crate::common::{put_random, real_store, sim_store};

/// Sizes around `stripe` (a full stripe's data): pack records below it, shard files of their
/// own from it on — one stripe exactly, several, and a last stripe whose blocks are not a
/// multiple of 4096 bytes (their direct read runs into the trailer).
fn sizes(stripe: usize) -> Vec<usize> {
    vec![
        100,
        stripe - 1,
        stripe,
        stripe + 1,
        3 * stripe + 1000,
        6 * stripe + 64 * 3 + 5,
        12 * stripe,
    ]
}

fn put_all(store: &ObjectStore, rng: &mut DetRng, stripe: usize) -> Vec<(String, Vec<u8>)> {
    store.create_bucket("data").unwrap();
    sizes(stripe)
        .into_iter()
        .enumerate()
        .map(|(i, size)| {
            let key = format!("obj-{i:02}");
            let data = put_random(store, "data", &key, size, rng);
            (key, data)
        })
        .collect()
}

fn get(store: &ObjectStore, key: &str, range: Option<ByteRange>) -> Result<Vec<u8>, ObjectError> {
    let mut out = Vec::new();
    store.get_object("data", key, None, range, &mut out)?;
    Ok(out)
}

/// A sink that keeps every buffer it is handed, as a response body does.
#[derive(Default)]
struct Keep(Vec<(Vec<u8>, std::ops::Range<usize>)>);

impl ChunkSink for Keep {
    fn chunk(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> std::io::Result<Option<Vec<u8>>> {
        self.0.push((buf, range));
        Ok(None)
    }
}

/// Every object, whole, in ranges at odd offsets, and through a keeping sink: exact.
fn check_exact(store: &ObjectStore, objects: &[(String, Vec<u8>)]) {
    for (key, data) in objects {
        assert_eq!(&get(store, key, None).unwrap(), data, "{key}");
        let n = data.len() as u64;
        for (a, b) in [(1, n / 2), (n / 3 + 7, n - 1), (n - 1, n - 1)] {
            if a > b {
                continue;
            }
            let part = get(store, key, Some(ByteRange::FromTo(a, b))).unwrap();
            assert_eq!(&part[..], &data[a as usize..=b as usize], "{key} {a}-{b}");
        }
        let reader = store
            .open_object("data", key, &GetOptions::default())
            .unwrap();
        let mut keep = Keep::default();
        reader.read_chunks_to(&mut keep).unwrap();
        let mut got = Vec::new();
        for (buf, range) in &keep.0 {
            got.extend_from_slice(&buf[range.clone()]);
        }
        assert_eq!(&got, data, "{key} through a keeping sink");
    }
}

/// Whether `dir`'s file system takes `O_DIRECT` (tmpfs does not).
fn takes_direct(dir: &Path) -> bool {
    let probe = dir.join("direct-probe");
    std::fs::write(&probe, [0u8; 4096]).unwrap();
    let ok = PosixFs::new()
        .open(&probe, OpenOptions::read_only().with_direct(true))
        .is_ok();
    std::fs::remove_file(&probe).unwrap();
    ok
}

/// Flip one byte of the first block of every shard file `shard` holds on its disk.
fn corrupt_shard_files(root: &Path, shard: usize) -> usize {
    let mut n = 0;
    let blobs = root.join(format!("disk{shard}/blobs"));
    for sub in std::fs::read_dir(&blobs).unwrap() {
        for file in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            // A blob of no data (a bucket's record, if it has files of its own) has no block.
            if bytes.len() > 4096 + 10 {
                bytes[4096 + 10] ^= 0x40;
                std::fs::write(&path, bytes).unwrap();
                n += 1;
            }
        }
    }
    n
}

fn tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

#[test]
fn direct_reads_are_exact_with_m_disks_gone() {
    let tmp = tempdir("object-direct-gone-");
    let root = tmp.path().join("store");
    let stripe = 4 * 4096;
    let objects = {
        let store = real_store(&root, true, 5);
        assert!(store.blobs().direct_reads(), "direct reads are the default");
        let objects = put_all(&store, &mut DetRng::new(8), stripe);
        check_exact(&store, &objects);
        objects
    };
    let direct = takes_direct(tmp.path());
    // Two data disks gone (K = 4, M = 2): every stripe of every object is rebuilt.
    for d in ["disk0", "disk2"] {
        std::fs::remove_dir_all(root.join(d)).unwrap();
    }
    let store = real_store(&root, false, 5);
    check_exact(&store, &objects);
    assert_eq!(
        store.blobs().direct_reads(),
        direct,
        "reads stay direct where the file system takes O_DIRECT"
    );
    // The same through the page cache.
    store.blobs().set_direct_reads(false);
    assert!(!store.blobs().direct_reads());
    check_exact(&store, &objects);
    store.blobs().set_direct_reads(true);
    drop(store);

    // One more disk is more than parity covers: an error for every object, never bytes.
    std::fs::remove_dir_all(root.join("disk5")).unwrap();
    let store = real_store(&root, false, 5);
    for (key, _) in &objects {
        let e = get(&store, key, None).unwrap_err().to_string();
        assert!(
            e.contains("cannot reconstruct") || e.contains("checksum"),
            "{key}: {e}"
        );
    }
}

#[test]
fn direct_reads_are_exact_with_m_shards_corrupt() {
    let tmp = tempdir("object-direct-rot-");
    let root = tmp.path().join("store");
    let stripe = 4 * 4096;
    let store = real_store(&root, true, 6);
    let objects = put_all(&store, &mut DetRng::new(9), stripe);
    // Shard 1 (data) and shard 5 (parity) of every blob with files of its own: stripe 0 has
    // two bad blocks, and the CRCs find both.
    let large = objects.iter().filter(|(_, d)| d.len() >= stripe).count();
    // (Each disk also holds the bucket's settings record, a small blob.)
    assert!(corrupt_shard_files(&root, 1) >= large);
    assert!(corrupt_shard_files(&root, 5) >= large);
    check_exact(&store, &objects);
    // A third corrupt shard in the same stripe: the error names it, no wrong bytes.
    corrupt_shard_files(&root, 3);
    for (key, data) in &objects {
        match get(&store, key, None) {
            Ok(got) => {
                assert!(
                    data.len() < stripe,
                    "{key}: a large object read despite 3 bad shards"
                );
                assert_eq!(&got, data, "{key}");
            }
            Err(e) => {
                assert!(data.len() >= stripe, "{key}: {e}");
                assert!(e.to_string().contains("stripe 0"), "{key}: {e}");
            }
        }
    }
}

#[test]
fn direct_reads_work_on_the_simulated_disk_with_a_disk_gone() {
    let sim = Arc::new(SimFs::new(17, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    let stripe = 2 * 4096;
    let store = sim_store(&fs, &sim, true).unwrap();
    assert!(store.blobs().direct_reads());
    let objects = put_all(&store, &mut DetRng::new(10), stripe);
    check_exact(&store, &objects);
    drop(store);
    // Every shard file of disk 0 (a data shard) gone.
    let blobs = Path::new("/store/disk0/blobs");
    for sub in fs.list(blobs).unwrap() {
        let dir = blobs.join(sub);
        for name in fs.list(&dir).unwrap() {
            fs.remove_file(&dir.join(name)).unwrap();
        }
    }
    let store = sim_store(&fs, &sim, false).unwrap();
    check_exact(&store, &objects);
    assert!(store.blobs().direct_reads());
}
