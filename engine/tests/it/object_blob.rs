//! Fault tests of the object data path on real files: flip bytes on disk or delete shard files,
//! up to M per stripe → reads are exact and verify heals; M + 1 → a clear error, never wrong
//! bytes.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use rand::RngCore;
use std::path::Path;

use seedbed_engine::io::{
    posix::PosixFs, BackendKind, FileHandle, Fs, FsHandle, IoError, OpenOptions,
};
use seedbed_engine::object::blob::{BlobError, BlobStore, ChunkSink, DataId};
use seedbed_engine::object::layout::Layout;
use seedbed_engine::rng::DetRng;

struct Env {
    store: BlobStore,
    fs: FsHandle,
    _tmp: tempfile::TempDir,
}

fn env(k: usize, m: usize, shard_len_max: u64) -> Env {
    let tmp = tempfile::Builder::new()
        .prefix("object-blob-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let disks: Vec<PathBuf> = (0..k + m)
        .map(|i| tmp.path().join(format!("disk{i}")))
        .collect();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let layout = Layout::new(k, m, shard_len_max, disks).unwrap();
    let store = BlobStore::new(fs.clone(), layout);
    store.create_dirs("a-store").unwrap();
    Env {
        store,
        fs,
        _tmp: tmp,
    }
}

fn random(rng: &mut DetRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill_bytes(&mut v);
    v
}

fn read_all(e: &Env, id: &DataId, size: u64) -> Result<Vec<u8>, BlobError> {
    let mut out = Vec::new();
    e.store.read_range(id, size, 0, size, &mut out)?;
    Ok(out)
}

/// Flip one byte of shard `shard` of stripe `stripe`, on disk.
fn corrupt_block(e: &Env, id: &DataId, size: u64, stripe: u64, shard: usize) {
    let s = e.store.layout().stripe(size, stripe);
    let at = e.store.shard_location(id, shard);
    let f = e.fs.open(&at.path, OpenOptions::read_write()).unwrap();
    let at = at.frame.block(&s) + s.shard_len / 2;
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, at).unwrap();
    b[0] ^= 0x5a;
    f.write_at(&b, at).unwrap();
}

#[test]
fn round_trip_and_ranges() {
    let e = env(4, 2, 8192);
    let mut rng = DetRng::new(1);
    for (n, size) in [0usize, 1, 100, 8192, 32_768, 32_769, 100_003]
        .into_iter()
        .enumerate()
    {
        let data = random(&mut rng, size);
        let (id, digest) = e
            .store
            .write(
                &DataId([n as u8; 16]),
                &mut data.as_slice(),
                size as u64,
                true,
            )
            .unwrap();
        // Less than a full stripe (32 KiB here) goes to a pack; more gets shard files of its own.
        assert_eq!(id.pack_place().is_some(), size < 32_768, "size {size}");
        assert_eq!(digest.size, size as u64);
        assert_eq!(read_all(&e, &id, size as u64).unwrap(), data);
        for _ in 0..20 {
            if size == 0 {
                break;
            }
            let a = rng.below(size as u64);
            let b = a + rng.below(size as u64 - a + 1);
            let mut out = Vec::new();
            e.store
                .read_range(&id, size as u64, a, b, &mut out)
                .unwrap();
            assert_eq!(
                out,
                &data[a as usize..b as usize],
                "range {a}..{b} of {size}"
            );
        }
        let health = e.store.verify(&id, size as u64, false).unwrap();
        assert!(health.bad_blocks.is_empty(), "{health:?}");
    }
}

#[test]
fn input_of_the_wrong_length_is_refused_and_leaves_nothing() {
    let e = env(2, 1, 4096);
    let id = DataId([9; 16]);
    let err = e
        .store
        .write(&id, &mut &b"short"[..], 10, true)
        .unwrap_err();
    assert!(
        matches!(
            err,
            BlobError::SourceTooShort {
                expected: 10,
                got: 5
            }
        ),
        "{err}"
    );
    let err = e
        .store
        .write(&id, &mut &b"too long"[..], 3, true)
        .unwrap_err();
    assert!(err.to_string().contains("longer"), "{err}");
    assert!(e.store.list().unwrap().is_empty());
}

#[test]
fn up_to_m_bad_shards_per_stripe_read_exact_and_heal() {
    let mut rng = DetRng::new(2);
    for (k, m) in [(4, 2), (3, 1), (2, 3)] {
        let e = env(k, m, 4096);
        let size = 7 * k as u64 * 4096 + 1234;
        let data = random(&mut rng, size as usize);
        let (id, _) = e
            .store
            .write(&DataId([k as u8; 16]), &mut data.as_slice(), size, true)
            .unwrap();
        let stripes = e.store.layout().stripe_count(size);
        // Corrupt up to m distinct shards in random stripes.
        let mut damaged = 0;
        for s in 0..stripes {
            let bad = rng.below(m as u64 + 1) as usize;
            let mut shards: Vec<usize> = (0..k + m).collect();
            for i in 0..bad {
                let j = i + rng.below((shards.len() - i) as u64) as usize;
                shards.swap(i, j);
                corrupt_block(&e, &id, size, s, shards[i]);
                damaged += 1;
            }
        }
        assert_eq!(read_all(&e, &id, size).unwrap(), data, "k={k} m={m}");
        let found = e.store.verify(&id, size, true).unwrap();
        assert_eq!(found.bad_blocks.len(), damaged, "{found:?}");
        let after = e.store.verify(&id, size, false).unwrap();
        assert!(after.bad_blocks.is_empty(), "healed: {after:?}");
        assert_eq!(read_all(&e, &id, size).unwrap(), data);
    }
}

/// A sink that keeps every other buffer it is handed (as a response body that sends the
/// engine's buffers does) and hands the rest back for reuse. Each piece is what was in view:
/// a kept buffer is read only after the whole read, so a buffer the reader reused after
/// giving it away would show.
#[derive(Default)]
struct Keeper {
    pieces: Vec<Piece>,
}

enum Piece {
    Kept(Vec<u8>, std::ops::Range<usize>),
    Copied(Vec<u8>),
}

impl ChunkSink for Keeper {
    fn chunk(
        &mut self,
        buf: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> std::io::Result<Option<Vec<u8>>> {
        if self.pieces.len() % 2 == 1 {
            self.pieces.push(Piece::Copied(buf[range].to_vec()));
            return Ok(Some(buf));
        }
        self.pieces.push(Piece::Kept(buf, range));
        Ok(None)
    }
}

impl Keeper {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Kept(buf, range) => out.extend_from_slice(&buf[range.clone()]),
                Piece::Copied(b) => out.extend_from_slice(b),
            }
        }
        out
    }
}

#[test]
fn owned_chunks_are_exact_whether_kept_or_handed_back_even_with_bad_shards() {
    let e = env(4, 2, 4096);
    let mut rng = DetRng::new(12);
    let size = 5 * 4 * 4096 + 777;
    let data = random(&mut rng, size as usize);
    let (id, _) = e
        .store
        .write(&DataId([7; 16]), &mut data.as_slice(), size, true)
        .unwrap();
    // Two bad shards in stripe 1 (as many as the parity covers), one in stripe 3.
    corrupt_block(&e, &id, size, 1, 0);
    corrupt_block(&e, &id, size, 1, 3);
    corrupt_block(&e, &id, size, 3, 2);
    for round in 0..40 {
        let (a, b) = if round == 0 {
            (0, size)
        } else {
            let a = rng.below(size);
            (a, a + rng.below(size - a + 1))
        };
        let mut sink = Keeper::default();
        let health = e
            .store
            .read_range_chunks(&id, size, a, b, &mut sink)
            .unwrap();
        assert_eq!(
            sink.bytes(),
            &data[a as usize..b as usize],
            "range {a}..{b}"
        );
        if round == 0 {
            assert_eq!(health.stripes_degraded, 2, "{health:?}");
            assert!(sink.pieces.len() > 2, "one piece per wanted shard");
        }
    }
    // Three bad shards in one stripe: an error, and nothing handed over for that stripe.
    corrupt_block(&e, &id, size, 1, 1);
    let mut sink = Keeper::default();
    let err = e
        .store
        .read_range_chunks(&id, size, 0, size, &mut sink)
        .unwrap_err();
    assert!(
        matches!(err, BlobError::Unrecoverable { stripe: 1, .. }),
        "{err}"
    );
    assert_eq!(sink.bytes(), &data[..4 * 4096], "only stripe 0 went out");
}

#[test]
fn missing_shard_files_are_rebuilt() {
    let e = env(4, 2, 4096);
    let mut rng = DetRng::new(3);
    let size = 50_000;
    let data = random(&mut rng, size as usize);
    let (id, _) = e
        .store
        .write(&DataId([1; 16]), &mut data.as_slice(), size, true)
        .unwrap();
    e.fs.remove_file(&e.store.shard_location(&id, 0).path)
        .unwrap();
    e.fs.remove_file(&e.store.shard_location(&id, 5).path)
        .unwrap();
    assert_eq!(read_all(&e, &id, size).unwrap(), data);
    let health = e.store.verify(&id, size, true).unwrap();
    assert_eq!(health.files_healed, vec![0, 5]);
    assert!(e.fs.exists(&e.store.shard_location(&id, 0).path).unwrap());
    assert!(e
        .store
        .verify(&id, size, false)
        .unwrap()
        .bad_blocks
        .is_empty());
}

#[test]
fn more_than_m_bad_shards_is_an_error_naming_the_stripe() {
    let e = env(4, 2, 4096);
    let mut rng = DetRng::new(4);
    let size = 3 * 4 * 4096;
    let data = random(&mut rng, size as usize);
    let (id, _) = e
        .store
        .write(&DataId([2; 16]), &mut data.as_slice(), size, true)
        .unwrap();
    for shard in [0, 2, 4] {
        corrupt_block(&e, &id, size, 1, shard);
    }
    match read_all(&e, &id, size) {
        Err(BlobError::Unrecoverable { stripe, detail }) => {
            assert_eq!(stripe, 1);
            assert!(detail.contains("CRC32 mismatch"), "{detail}");
        }
        other => panic!("expected an unrecoverable stripe, got {other:?}"),
    }
    // Stripes 0 and 2 are still readable by range.
    let mut out = Vec::new();
    e.store
        .read_range(&id, size, 0, 4 * 4096, &mut out)
        .unwrap();
    assert_eq!(out, &data[..4 * 4096]);
    assert!(matches!(
        e.store.verify(&id, size, true),
        Err(BlobError::Unrecoverable { stripe: 1, .. })
    ));
}

#[test]
fn no_parity_still_detects_corruption() {
    let e = env(3, 0, 4096);
    let data = vec![7u8; 20_000];
    let (id, _) = e
        .store
        .write(&DataId([3; 16]), &mut data.as_slice(), 20_000, true)
        .unwrap();
    assert_eq!(read_all(&e, &id, 20_000).unwrap(), data);
    corrupt_block(&e, &id, 20_000, 0, 1);
    assert!(matches!(
        read_all(&e, &id, 20_000),
        Err(BlobError::Unrecoverable { stripe: 0, .. })
    ));
}

#[test]
fn list_and_delete() {
    let e = env(2, 1, 4096);
    let mut ids = Vec::new();
    for n in 0..3u8 {
        let (id, _) = e
            .store
            .write(&DataId([n; 16]), &mut &[n; 10][..], 10, false)
            .unwrap();
        ids.push(id);
    }
    // And one with shard files of its own.
    let (big, _) = e
        .store
        .write(&DataId([7; 16]), &mut &[7u8; 20_000][..], 20_000, false)
        .unwrap();
    assert_eq!(e.store.list().unwrap().len(), 4);
    for id in [ids[1], ids[1], big] {
        e.store.delete(&id).unwrap();
    }
    let left: Vec<DataId> = e.store.list().unwrap().into_iter().collect();
    assert_eq!(left, vec![ids[0], ids[2]]);
}

/// A real file system that refuses `O_DIRECT` the way tmpfs did before Linux 6.6 (and some FUSE
/// file systems still do): the open fails with EINVAL, which the I/O layer reports as invalid
/// input.
#[derive(Debug)]
struct NoDirectFs(PosixFs);

impl Fs for NoDirectFs {
    fn kind(&self) -> BackendKind {
        self.0.kind()
    }
    fn open(&self, path: &Path, opts: OpenOptions) -> seedbed_engine::io::Result<FileHandle> {
        if opts.direct {
            return Err(IoError::invalid(
                "open",
                path,
                "O_DIRECT is not supported here",
            ));
        }
        self.0.open(path, opts)
    }
    fn create_dir_all(&self, path: &Path) -> seedbed_engine::io::Result<()> {
        self.0.create_dir_all(path)
    }
    fn remove_file(&self, path: &Path) -> seedbed_engine::io::Result<()> {
        self.0.remove_file(path)
    }
    fn remove_dir(&self, path: &Path) -> seedbed_engine::io::Result<()> {
        self.0.remove_dir(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> seedbed_engine::io::Result<()> {
        self.0.rename(from, to)
    }
    fn list(&self, dir: &Path) -> seedbed_engine::io::Result<Vec<String>> {
        self.0.list(dir)
    }
    fn exists(&self, path: &Path) -> seedbed_engine::io::Result<bool> {
        self.0.exists(path)
    }
    fn sync_dir(&self, dir: &Path) -> seedbed_engine::io::Result<()> {
        self.0.sync_dir(dir)
    }
}

/// Large blobs go out with direct I/O; on a file system that refuses it the store must notice
/// and write through the page cache instead, leaving no stray file and reading back the same
/// bytes. Reads too: the first direct open that fails switches reads to the page cache.
#[test]
fn large_blobs_on_a_file_system_without_direct_io() {
    let tmp = tempfile::Builder::new()
        .prefix("object-nodirect-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let disks: Vec<PathBuf> = (0..3).map(|i| tmp.path().join(format!("d{i}"))).collect();
    let fs: FsHandle = Arc::new(NoDirectFs(PosixFs::new()));
    let store = BlobStore::new(fs, Layout::new(2, 1, 4096, disks).unwrap());
    store.create_dirs("a-store").unwrap();
    assert!(store.direct_reads(), "asked for, and not refused yet");
    let mut rng = DetRng::new(5);
    let mut ids = std::collections::BTreeSet::new();
    for (n, size) in [8192usize, 3 * 8192 + 17, 100, 5 * 8192]
        .into_iter()
        .enumerate()
    {
        let data = random(&mut rng, size);
        let (id, _) = store
            .write(
                &DataId([n as u8 + 1; 16]),
                &mut data.as_slice(),
                size as u64,
                true,
            )
            .unwrap();
        ids.insert(id);
        let mut out = Vec::new();
        store
            .read_range(&id, size as u64, 0, size as u64, &mut out)
            .unwrap();
        assert_eq!(out, data, "size {size}");
        assert!(store
            .verify(&id, size as u64, false)
            .unwrap()
            .bad_blocks
            .is_empty());
    }
    assert_eq!(store.list().unwrap(), ids);
    assert!(
        !store.direct_reads(),
        "the first direct open was refused: reads go through the page cache"
    );
}

/// An input that fails part-way through a multi-stripe blob — while the MD5 thread is working
/// on an earlier stripe — must end the PUT with the input's error, stop the thread, and leave no
/// shard file behind.
#[test]
fn input_failing_mid_blob_stops_cleanly() {
    struct Failing {
        left: usize,
    }
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("the network went away"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(0xab);
            self.left -= n;
            Ok(n)
        }
    }
    let e = env(4, 2, 4096);
    for fail_at in [1usize, 16_384, 16_385, 5 * 16_384 + 7] {
        let id = DataId([0x42; 16]);
        let err = e
            .store
            .write(&id, &mut Failing { left: fail_at }, 10 * 16_384, true)
            .unwrap_err();
        assert!(
            err.to_string().contains("the network went away"),
            "fail at {fail_at}: {err}"
        );
        assert!(e.store.list().unwrap().is_empty(), "fail at {fail_at}");
    }
}

/// Small blobs live as records of pack files: a corrupt record and a lost pack file are read
/// around through parity and healed in place, without disturbing the other records.
#[test]
fn packed_blobs_heal_in_place_and_survive_a_lost_pack_file() {
    let e = env(4, 2, 4096);
    let mut rng = DetRng::new(6);
    let mut blobs = Vec::new();
    for (n, size) in [1usize, 4000, 16_000, 0, 9000].into_iter().enumerate() {
        let data = random(&mut rng, size);
        let (id, _) = e
            .store
            .write(
                &DataId([n as u8; 16]),
                &mut data.as_slice(),
                size as u64,
                true,
            )
            .unwrap();
        assert!(id.pack_place().is_some(), "size {size} is packed");
        blobs.push((id, data));
    }
    // Every record of a pack sits at its own offset, the same in all six pack files.
    let offsets: BTreeSet<u64> = blobs
        .iter()
        .map(|(id, _)| e.store.shard_location(id, 3).frame.start)
        .collect();
    assert_eq!(offsets.len(), blobs.len());
    let (sick, _) = &blobs[2];
    corrupt_block(&e, sick, 16_000, 0, 1);
    let lost = e.store.shard_location(sick, 0).path;
    e.fs.remove_file(&lost).unwrap();
    for (id, data) in &blobs {
        assert_eq!(&read_all(&e, id, data.len() as u64).unwrap(), data);
    }
    for (id, data) in &blobs {
        let health = e.store.verify(id, data.len() as u64, true).unwrap();
        let want: Vec<usize> = if id == sick { vec![0, 1] } else { vec![0] };
        assert_eq!(health.files_healed, want, "{health:?}");
    }
    assert!(e.fs.exists(&lost).unwrap(), "the lost pack file is back");
    for (id, data) in &blobs {
        let health = e.store.verify(id, data.len() as u64, false).unwrap();
        assert!(health.bad_blocks.is_empty(), "{health:?}");
        assert_eq!(&read_all(&e, id, data.len() as u64).unwrap(), data);
    }
}

/// Deleting a packed blob punches its record out of every pack file (the space goes back to the
/// file system), and the orphan scan walks past the holes to every record still there — also
/// across packs written by a later process.
#[test]
fn deleted_records_free_their_space_and_the_scan_steps_over_holes() {
    use std::os::unix::fs::MetadataExt;
    let e = env(2, 1, 4096);
    let mut rng = DetRng::new(7);
    let mut live = BTreeSet::new();
    let mut all = Vec::new();
    for n in 0..120u8 {
        let data = random(&mut rng, 6000);
        let (id, _) = e
            .store
            .write(&DataId([n; 16]), &mut data.as_slice(), 6000, false)
            .unwrap();
        all.push((id, data));
        live.insert(id);
    }
    let pack = e.store.shard_location(&all[0].0, 0).path;
    let allocated = || std::fs::metadata(&pack).unwrap().blocks() * 512;
    let before = allocated();
    // Every third record, and a run of 20 in a row (a long hole).
    let doomed: Vec<usize> = (0..120)
        .filter(|i| i % 3 == 0 || (50..70).contains(i))
        .collect();
    for &i in &doomed {
        e.store.delete(&all[i].0).unwrap();
        live.remove(&all[i].0);
    }
    let freed = before - allocated();
    // A record is written to its end, description slot included (8 KiB here).
    let record = e.store.shard_location(&all[1].0, 0).frame.start
        - e.store.shard_location(&all[0].0, 0).frame.start;
    assert!(
        freed >= doomed.len() as u64 * record,
        "{freed} bytes freed for {} records of {record}",
        doomed.len()
    );
    assert_eq!(e.store.list().unwrap(), live);
    // While this store appends, a second one on the same disks does not: its small blobs get
    // shard files of their own.
    let layout = e.store.layout().clone();
    let second = BlobStore::new(e.fs.clone(), layout.clone());
    let (own, _) = second
        .write(&DataId([199; 16]), &mut &[4u8; 100][..], 100, false)
        .unwrap();
    assert!(own.pack_place().is_none(), "{own}");
    live.insert(own);
    drop(second);
    // Once the first store is gone, a later one continues its pack after the last record.
    let Env { store, fs, _tmp } = e;
    drop(store);
    let later = BlobStore::new(fs.clone(), layout.clone());
    let (id, _) = later
        .write(&DataId([200; 16]), &mut &[5u8; 100][..], 100, false)
        .unwrap();
    let (first_place, last_place) = (
        all[0].0.pack_place().unwrap(),
        all[119].0.pack_place().unwrap(),
    );
    let place = id.pack_place().unwrap();
    assert_eq!(place.pack, first_place.pack);
    assert_eq!(place.offset, last_place.offset + record);
    live.insert(id);
    assert_eq!(later.list().unwrap(), live);
    for (id, data) in all.iter().filter(|(id, _)| live.contains(id)) {
        let mut out = Vec::new();
        later
            .read_range(id, data.len() as u64, 0, data.len() as u64, &mut out)
            .unwrap();
        assert_eq!(&out, data);
    }
    drop(later);
    // With a 32 KiB limit a pack takes four of these 8 KiB records. Packs left with no record are
    // removed by the sweep; the one being appended to stays even when it holds nothing.
    let small = BlobStore::new(fs.clone(), layout).with_pack_limit(32 << 10);
    let mut fresh = Vec::new();
    for n in 0..8u8 {
        let (id, _) = small
            .write(&DataId([210 + n; 16]), &mut &[n; 6000][..], 6000, false)
            .unwrap();
        fresh.push(id);
    }
    let packs: Vec<u32> = fresh
        .iter()
        .map(|id| id.pack_place().unwrap().pack)
        .collect();
    assert_eq!(
        packs,
        [1, 1, 1, 1, 2, 2, 2, 2],
        "a new pack (the old one is over the limit)"
    );
    for id in live
        .iter()
        .filter(|id| id.pack_place().is_some())
        .chain(&fresh[..5])
    {
        small.delete(id).unwrap();
    }
    assert_eq!(small.remove_empty_packs().unwrap(), 2, "packs 0 and 1");
    assert!(!pack.exists());
    let left: BTreeSet<DataId> = fresh[5..].iter().copied().chain([own]).collect();
    assert_eq!(small.list().unwrap(), left);
    for id in &fresh[5..] {
        small.delete(id).unwrap();
    }
    assert_eq!(
        small.remove_empty_packs().unwrap(),
        0,
        "pack 2 is being appended to"
    );
}

/// Blobs of several stripes on a real disk go through the three-thread PUT pipeline
/// (`blob/pipeline.rs`): every size — a whole number of stripes, a short last stripe, a last
/// stripe of one byte, a last data shard left empty — reads back exact, with the MD5 and
/// SHA-256 of the bytes; an input too short or too long fails and leaves nothing; and the
/// pipeline's time accounting sees every pipelined PUT.
#[test]
fn pipelined_puts_are_exact_and_refuse_wrong_lengths() {
    use md5::{Digest as _, Md5};
    use sha2::Sha256;
    let e = env(3, 2, 4096);
    let stripe = 3 * 4096;
    let mut rng = DetRng::new(7);
    e.store.reset_pipeline_stats();
    let sizes = [
        2 * stripe,
        2 * stripe + 1,
        5 * stripe + 4096 + 17,
        3 * stripe + 2 * 4096,
    ];
    for (n, &size) in sizes.iter().enumerate() {
        let data = random(&mut rng, size);
        let fresh = DataId([0x10 + n as u8; 16]);
        let (id, digest) = e
            .store
            .write(&fresh, &mut data.as_slice(), size as u64, true)
            .unwrap();
        assert_eq!(
            digest.md5,
            <[u8; 16]>::from(Md5::digest(&data)),
            "size {size}"
        );
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(read_all(&e, &id, size as u64).unwrap(), data, "size {size}");
        let health = e.store.verify(&id, size as u64, false).unwrap();
        assert!(health.bad_blocks.is_empty(), "size {size}: {health:?}");
    }
    let stats = e.store.pipeline_stats();
    assert_eq!(stats.puts, sizes.len() as u64);
    assert_eq!(stats.bytes, sizes.iter().sum::<usize>() as u64);
    assert!(stats.md5 > std::time::Duration::ZERO && stats.wall >= stats.md5);
    let before = e.store.list().unwrap();
    let data = random(&mut rng, 4 * stripe);
    let err = e
        .store
        .write(
            &DataId([0x77; 16]),
            &mut &data[..3 * stripe + 5],
            4 * stripe as u64,
            true,
        )
        .unwrap_err();
    assert!(
        matches!(err, BlobError::SourceTooShort { got, .. } if got == 3 * stripe as u64 + 5),
        "{err}"
    );
    let err = e
        .store
        .write(
            &DataId([0x78; 16]),
            &mut data.as_slice(),
            3 * stripe as u64,
            true,
        )
        .unwrap_err();
    assert!(err.to_string().contains("longer"), "{err}");
    assert_eq!(e.store.list().unwrap(), before, "failed PUTs leave nothing");
    assert_eq!(e.store.pipeline_stats().puts, sizes.len() as u64);
}
