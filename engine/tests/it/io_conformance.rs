//! One conformance suite, run against every I/O backend: the contract in `engine/src/io/mod.rs`
//! checked the same way for `std`, `uring`, `mmap` and `sim`. A backend that differs from the
//! others in any observable way fails here, before an engine test trips over it.

use std::path::{Path, PathBuf};

use seedbed_engine::io::{
    self, AlignedBuf, BackendKind, FsHandle, IoError, IoOp, OpenOptions, DIRECT_IO_ALIGN,
};

/// A backend under test and the directory it works in.
struct Env {
    fs: FsHandle,
    root: PathBuf,
    // Keeps a real directory alive for the test's duration.
    _tmp: Option<tempfile::TempDir>,
}

impl Env {
    fn new(kind: BackendKind) -> Env {
        match kind {
            BackendKind::Sim => {
                let fs: FsHandle =
                    std::sync::Arc::new(io::sim::SimFs::new(7, io::sim::SimConfig::default()));
                let root = PathBuf::from("/conformance");
                fs.create_dir_all(&root).unwrap();
                Env {
                    fs,
                    root,
                    _tmp: None,
                }
            }
            real => {
                // Under the target directory, not /tmp: /tmp may be tmpfs, which has no O_DIRECT.
                let tmp = tempfile::Builder::new()
                    .prefix("io-conformance-")
                    .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                    .unwrap();
                let fs = match io::open_backend(real) {
                    Ok(fs) => fs,
                    Err(e) => panic!("{real} backend cannot be set up on this machine: {e}"),
                };
                Env {
                    fs,
                    root: tmp.path().to_path_buf(),
                    _tmp: Some(tmp),
                }
            }
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Create `name` holding `data`, synced.
    fn put(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        io::write_file_durable(&*self.fs, &p, data).unwrap();
        p
    }
}

fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

fn round_trip_sizes(kind: BackendKind) {
    let env = Env::new(kind);
    for (i, len) in [0usize, 1, 511, 512, 4095, 4096, 4097, 65_536, 1 << 20]
        .into_iter()
        .enumerate()
    {
        let data = pattern(len, i as u8);
        let p = env.put(&format!("f{i}"), &data);
        let f = env.fs.open(&p, OpenOptions::read_only()).unwrap();
        assert_eq!(
            f.len().unwrap(),
            len as u64,
            "{kind}: len after write of {len}"
        );
        let mut back = vec![0u8; len];
        f.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(back, data, "{kind}: round trip of {len} bytes");
        assert_eq!(io::read_file(&*env.fs, &p).unwrap(), data);
    }
}

fn reads_at_and_past_eof(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.put("eof", &pattern(100, 1));
    let f = env.fs.open(&p, OpenOptions::read_only()).unwrap();
    let mut buf = vec![0u8; 64];
    assert_eq!(
        f.read_at(&mut buf, 80).unwrap(),
        20,
        "{kind}: short read at EOF"
    );
    assert_eq!(&buf[..20], &pattern(100, 1)[80..]);
    assert_eq!(f.read_at(&mut buf, 100).unwrap(), 0, "{kind}: read at EOF");
    assert_eq!(
        f.read_at(&mut buf, 10_000).unwrap(),
        0,
        "{kind}: read past EOF"
    );
    match f.read_exact_at(&mut buf, 80) {
        Err(IoError::UnexpectedEof {
            offset,
            wanted,
            got,
            ..
        }) => assert_eq!((offset, wanted, got), (80, 64, 20)),
        other => panic!("{kind}: read_exact_at past EOF gave {other:?}"),
    }
}

fn writes_extend_and_zero_fill(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("gap");
    let f = env.fs.open(&p, OpenOptions::create_truncate()).unwrap();
    f.write_at(b"abc", 0).unwrap();
    f.write_at(b"xyz", 10).unwrap();
    f.write_at(b"B", 1).unwrap();
    f.sync_data().unwrap();
    assert_eq!(f.len().unwrap(), 13);
    let mut buf = vec![0xffu8; 13];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"aBc\0\0\0\0\0\0\0xyz", "{kind}: gap reads as zeros");
    drop(f);
    assert_eq!(
        io::read_file(&*env.fs, &p).unwrap(),
        b"aBc\0\0\0\0\0\0\0xyz"
    );
}

fn append_returns_offsets(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("log");
    let f = env.fs.open(&p, OpenOptions::create_truncate()).unwrap();
    assert_eq!(f.append(b"hello").unwrap(), 0);
    assert_eq!(f.append(b", ").unwrap(), 5);
    assert_eq!(f.append(b"world").unwrap(), 7);
    f.sync_all().unwrap();
    drop(f);
    // A reopened file appends after what is there.
    let f = env.fs.open(&p, OpenOptions::read_write()).unwrap();
    assert_eq!(f.append(b"!").unwrap(), 12);
    f.sync_data().unwrap();
    assert_eq!(io::read_file(&*env.fs, &p).unwrap(), b"hello, world!");
}

fn truncate_shrinks_and_extends(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("trunc");
    let f = env.fs.open(&p, OpenOptions::create_truncate()).unwrap();
    f.write_at(&pattern(1000, 3), 0).unwrap();
    f.truncate(10).unwrap();
    assert_eq!(f.len().unwrap(), 10);
    assert_eq!(f.append(b"Z").unwrap(), 10, "{kind}: append after truncate");
    f.truncate(20).unwrap();
    f.sync_all().unwrap();
    let mut want = pattern(10, 3);
    want.push(b'Z');
    want.resize(20, 0);
    assert_eq!(io::read_file(&*env.fs, &p).unwrap(), want);
    // Truncating on open.
    drop(f);
    let f = env.fs.open(&p, OpenOptions::create_truncate()).unwrap();
    assert_eq!(f.len().unwrap(), 0);
}

fn missing_and_existing_files(kind: BackendKind) {
    let env = Env::new(kind);
    let missing = env.path("nope");
    assert!(env
        .fs
        .open(&missing, OpenOptions::read_only())
        .unwrap_err()
        .is_not_found());
    assert!(env
        .fs
        .open(&missing, OpenOptions::read_write())
        .unwrap_err()
        .is_not_found());
    assert!(env.fs.remove_file(&missing).unwrap_err().is_not_found());
    assert!(env
        .fs
        .rename(&missing, &env.path("x"))
        .unwrap_err()
        .is_not_found());
    assert!(!env.fs.exists(&missing).unwrap());
    // A file in a directory that does not exist.
    let orphan = env.path("no-dir/file");
    assert!(env
        .fs
        .open(&orphan, OpenOptions::create_truncate())
        .unwrap_err()
        .is_not_found());
    assert!(env.fs.list(&env.path("no-dir")).unwrap_err().is_not_found());

    let p = env.put("here", b"1");
    assert!(env.fs.exists(&p).unwrap());
    assert!(matches!(
        env.fs.open(&p, OpenOptions::create_new()),
        Err(IoError::AlreadyExists { .. })
    ));
    // Nonsense options are refused before touching the disk.
    let bad = OpenOptions {
        create: true,
        ..OpenOptions::read_only()
    };
    assert!(matches!(
        env.fs.open(&p, bad),
        Err(IoError::InvalidInput { .. })
    ));
}

fn read_only_handles_refuse_writes(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.put("ro", b"data");
    let f = env.fs.open(&p, OpenOptions::read_only()).unwrap();
    assert!(matches!(
        f.write_at(b"x", 0),
        Err(IoError::InvalidInput { .. })
    ));
    assert!(matches!(f.append(b"x"), Err(IoError::InvalidInput { .. })));
    assert!(matches!(f.truncate(0), Err(IoError::InvalidInput { .. })));
    assert_eq!(io::read_file(&*env.fs, &p).unwrap(), b"data");
}

fn punched_holes_read_as_zeros(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("holes");
    let f = env.fs.open(&p, OpenOptions::create_truncate()).unwrap();
    let len = 64 << 10;
    f.write_at(&pattern(len, 9), 0).unwrap();
    f.punch_hole(8192, 16_384).unwrap();
    f.punch_hole(4096, 0).unwrap();
    f.sync_data().unwrap();
    assert_eq!(
        f.len().unwrap(),
        len as u64,
        "{kind}: a punch keeps the length"
    );
    let mut want = pattern(len, 9);
    want[8192..24_576].fill(0);
    assert_eq!(io::read_file(&*env.fs, &p).unwrap(), want, "{kind}");
    assert_eq!(f.next_data(0).unwrap(), Some(0));
    let after_hole = f.next_data(8192).unwrap();
    if kind == BackendKind::Sim {
        // The simulated disk writes zeros: no holes to skip, which the contract allows.
        assert_eq!(after_hole, Some(8192));
    } else {
        assert_eq!(after_hole, Some(24_576), "{kind}: SEEK_DATA skips the hole");
    }
    assert_eq!(
        f.next_data(len as u64).unwrap(),
        None,
        "{kind}: past the end"
    );
    if kind != BackendKind::Sim {
        f.punch_hole(0, len as u64).unwrap();
        assert_eq!(f.next_data(0).unwrap(), None, "{kind}: all holes");
    }
    drop(f);
    let ro = env.fs.open(&p, OpenOptions::read_only()).unwrap();
    assert!(matches!(
        ro.punch_hole(0, 4096),
        Err(IoError::InvalidInput { .. })
    ));
}

fn locks_are_exclusive_until_dropped(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("LOCK");
    let held = env.fs.lock(&p).unwrap();
    if kind == BackendKind::Sim {
        // One process, nothing to exclude: the simulated disk's lock always succeeds.
        env.fs.lock(&p).unwrap();
        return;
    }
    match env.fs.lock(&p) {
        Err(IoError::Locked { path, .. }) => assert_eq!(path, p),
        other => panic!("{kind}: a second lock must be refused, got {other:?}"),
    }
    drop(held);
    env.fs.lock(&p).unwrap();
}

fn directories(kind: BackendKind) {
    let env = Env::new(kind);
    let d = env.path("a/b/c");
    env.fs.create_dir_all(&d).unwrap();
    env.fs.create_dir_all(&d).unwrap(); // idempotent
    for name in ["zeta", "alpha", "mid"] {
        io::write_file_durable(&*env.fs, &d.join(name), name.as_bytes()).unwrap();
    }
    assert_eq!(env.fs.list(&d).unwrap(), vec!["alpha", "mid", "zeta"]);
    // rename replaces the target atomically
    env.fs.rename(&d.join("alpha"), &d.join("zeta")).unwrap();
    env.fs.sync_dir(&d).unwrap();
    assert_eq!(env.fs.list(&d).unwrap(), vec!["mid", "zeta"]);
    assert_eq!(io::read_file(&*env.fs, &d.join("zeta")).unwrap(), b"alpha");
    // a directory with entries cannot be removed
    assert!(env.fs.remove_dir(&d).is_err());
    env.fs.remove_file(&d.join("mid")).unwrap();
    env.fs.remove_file(&d.join("zeta")).unwrap();
    env.fs.remove_dir(&d).unwrap();
    assert!(!env.fs.exists(&d).unwrap());
    assert_eq!(env.fs.list(&env.path("a/b")).unwrap(), Vec::<String>::new());
}

fn batches_mix_files_and_kinds(kind: BackendKind) {
    let env = Env::new(kind);
    let a = env
        .fs
        .open(&env.path("batch-a"), OpenOptions::create_truncate())
        .unwrap();
    let b = env
        .fs
        .open(&env.path("batch-b"), OpenOptions::create_truncate())
        .unwrap();
    let chunks: Vec<Vec<u8>> = (0..64).map(|i| pattern(4096, i as u8)).collect();
    let mut ops: Vec<IoOp<'_>> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| IoOp::Write {
            file: if i % 2 == 0 { &*a } else { &*b },
            offset: (i / 2 * 4096) as u64,
            buf: c,
        })
        .collect();
    let results = env.fs.submit(&mut ops);
    assert_eq!(results.len(), 64);
    for r in results {
        assert_eq!(r.unwrap(), 4096);
    }
    a.sync_data().unwrap();
    b.sync_data().unwrap();

    // Read everything back in one batch, plus one read that runs past the end.
    let mut bufs: Vec<Vec<u8>> = (0..65).map(|_| vec![0u8; 4096]).collect();
    let mut ops: Vec<IoOp<'_>> = bufs
        .iter_mut()
        .enumerate()
        .map(|(i, buf)| IoOp::Read {
            file: if i % 2 == 0 { &*a } else { &*b },
            offset: if i == 64 {
                32 * 4096 - 100
            } else {
                (i / 2 * 4096) as u64
            },
            buf,
        })
        .collect();
    let results = env.fs.submit(&mut ops);
    for (i, r) in results.into_iter().enumerate() {
        let n = r.unwrap_or_else(|e| panic!("{kind}: batch read {i}: {e}"));
        if i == 64 {
            assert_eq!(n, 100, "{kind}: batch read past EOF is short");
        } else {
            assert_eq!(n, 4096);
            assert_eq!(bufs[i], chunks[i], "{kind}: batch read {i}");
        }
    }
    // Errors are per request: a write through a read-only handle fails alone.
    let ro = env
        .fs
        .open(&env.path("batch-a"), OpenOptions::read_only())
        .unwrap();
    let mut buf = vec![0u8; 10];
    let mut ops = vec![
        IoOp::Write {
            file: &*ro,
            offset: 0,
            buf: b"no",
        },
        IoOp::Read {
            file: &*ro,
            offset: 0,
            buf: &mut buf,
        },
    ];
    let results = env.fs.submit(&mut ops);
    assert!(
        results[0].is_err(),
        "{kind}: write through read-only handle in a batch"
    );
    assert_eq!(*results[1].as_ref().unwrap(), 10);
    assert_eq!(env.fs.submit(&mut []).len(), 0);
}

fn direct_io(kind: BackendKind) {
    let env = Env::new(kind);
    let p = env.path("direct");
    let f = env
        .fs
        .open(&p, OpenOptions::create_truncate().with_direct(true))
        .unwrap();
    assert!(f.is_direct());
    let block = AlignedBuf::from_slice(&pattern(2 * DIRECT_IO_ALIGN, 9));
    f.write_at(&block, 0).unwrap();
    f.sync_data().unwrap();
    // Misaligned offset, length and buffer are each refused with a message that says why.
    let err = f.write_at(&block, 100).unwrap_err();
    assert!(err.to_string().contains("aligned"), "{kind}: {err}");
    let err = f.write_at(&block[..100], 0).unwrap_err();
    assert!(matches!(err, IoError::InvalidInput { .. }), "{kind}: {err}");
    let mut unaligned = AlignedBuf::zeroed(DIRECT_IO_ALIGN + 1);
    let err = f.read_at(&mut unaligned[1..], 0).unwrap_err();
    assert!(matches!(err, IoError::InvalidInput { .. }), "{kind}: {err}");
    let mut back = AlignedBuf::zeroed(2 * DIRECT_IO_ALIGN);
    assert_eq!(f.read_at(&mut back, 0).unwrap(), 2 * DIRECT_IO_ALIGN);
    assert_eq!(&back[..], &block[..]);
    drop(f);
    // The same bytes through the page cache.
    assert_eq!(io::read_file(&*env.fs, &p).unwrap(), &block[..]);
}

/// Free space: real backends read it from the file system (one id for two directories on it,
/// room shrinking as a file grows); the simulated disk has none to report without a capacity.
/// A path that does not exist is an error naming it.
fn free_space(kind: BackendKind) {
    let env = Env::new(kind);
    let sub = env.path("sub");
    env.fs.create_dir_all(&sub).unwrap();
    let here = env.fs.space(&env.root).unwrap();
    if kind == BackendKind::Sim {
        assert_eq!(here, None, "sim without a capacity");
        return;
    }
    let here = here.unwrap();
    let there = env.fs.space(&sub).unwrap().unwrap();
    assert_eq!(here.id, there.id, "{kind}: one file system, two ids");
    assert!(
        here.available <= here.total && here.total > 0,
        "{kind}: {here:?}"
    );
    let missing = env.path("no-such-dir");
    let err = env.fs.space(&missing).unwrap_err();
    assert!(
        err.to_string().contains("no-such-dir"),
        "{kind}: the error names the path: {err}"
    );
}

/// Whether an open file still has a name: real descriptors tell (one `fstat`) — linked, then
/// not once removed or renamed over; a simulated file and a read-only mapping cannot, and say
/// so with `None` (the object store keeps open for reads only handles that can tell).
fn still_linked(kind: BackendKind) {
    let env = Env::new(kind);
    let a = env.put("linked-a", b"a");
    let b = env.put("linked-b", b"b");
    let fa = env.fs.open(&a, OpenOptions::read_only()).unwrap();
    let fb = env.fs.open(&b, OpenOptions::read_only()).unwrap();
    if matches!(kind, BackendKind::Sim | BackendKind::Mmap) {
        assert_eq!(fa.still_linked(), None, "{kind}");
        return;
    }
    assert_eq!(fa.still_linked(), Some(true), "{kind}");
    env.fs.remove_file(&a).unwrap();
    assert_eq!(fa.still_linked(), Some(false), "{kind}: removed");
    let c = env.put("linked-c", b"c");
    env.fs.rename(&c, &b).unwrap();
    assert_eq!(fb.still_linked(), Some(false), "{kind}: renamed over");
    let fresh = env.fs.open(&b, OpenOptions::read_only()).unwrap();
    assert_eq!(fresh.still_linked(), Some(true), "{kind}: the new file");
}

/// Reads served only from memory: a file just written is in the page cache, so a real
/// backend's `read_cached` fills the buffer with its bytes; past the end (a short read) it
/// says no. The simulated disk and a mapping never read this way.
fn read_cached(kind: BackendKind) {
    let env = Env::new(kind);
    let data = pattern(10_000, 5);
    let path = env.put("cached", &data);
    let f = env.fs.open(&path, OpenOptions::read_only()).unwrap();
    let mut buf = vec![0u8; 3000];
    if matches!(kind, BackendKind::Sim | BackendKind::Mmap) {
        assert!(!f.read_cached(&mut buf, 0), "{kind}");
        return;
    }
    assert!(f.read_cached(&mut buf, 5000), "{kind}: just written");
    assert_eq!(buf, data[5000..8000], "{kind}");
    assert!(!f.read_cached(&mut buf, 8000), "{kind}: runs past the end");
    assert!(!f.read_cached(&mut [], 0), "{kind}: nothing to read");
}

fn check_all(kind: BackendKind) {
    round_trip_sizes(kind);
    reads_at_and_past_eof(kind);
    writes_extend_and_zero_fill(kind);
    append_returns_offsets(kind);
    truncate_shrinks_and_extends(kind);
    missing_and_existing_files(kind);
    read_only_handles_refuse_writes(kind);
    punched_holes_read_as_zeros(kind);
    locks_are_exclusive_until_dropped(kind);
    directories(kind);
    batches_mix_files_and_kinds(kind);
    free_space(kind);
    still_linked(kind);
    read_cached(kind);
}

#[test]
fn conformance_std() {
    check_all(BackendKind::Std);
    direct_io(BackendKind::Std);
}

#[test]
fn conformance_mmap() {
    check_all(BackendKind::Mmap);
    // Writable handles are plain pwrite files, so direct writes work; direct read-only opens
    // are refused with an explanation (a map always goes through the page cache).
    direct_io_writes_only(BackendKind::Mmap);
}

#[test]
fn conformance_uring() {
    check_all(BackendKind::Uring);
    direct_io(BackendKind::Uring);
}

#[test]
fn conformance_sim() {
    check_all(BackendKind::Sim);
    direct_io(BackendKind::Sim);
}

fn direct_io_writes_only(kind: BackendKind) {
    let env = Env::new(kind);
    let p: &Path = &env.path("direct-w");
    let f = env
        .fs
        .open(p, OpenOptions::create_truncate().with_direct(true))
        .unwrap();
    let block = AlignedBuf::from_slice(&pattern(DIRECT_IO_ALIGN, 4));
    f.write_at(&block, 0).unwrap();
    assert!(f.write_at(&block[..7], 0).is_err());
    f.sync_data().unwrap();
    let err = env
        .fs
        .open(p, OpenOptions::read_only().with_direct(true))
        .unwrap_err();
    assert!(err.to_string().contains("page cache"), "{err}");
    assert_eq!(io::read_file(&*env.fs, p).unwrap(), &block[..]);
}
