//! Tests of the `uring` backend beyond the shared conformance suite: batches, direct-I/O
//! errors, end-of-file, read-only handles, threads, and the streaming queue.

use std::path::Path;
use std::sync::Arc;

use super::UringFs;
use crate::io::posix::PosixFs;
use crate::io::{
    AlignedBuf, FileHandle, Fs, IoError, IoOp, OpenOptions, QueueOp, QueueRequest, DIRECT_IO_ALIGN,
};

/// The backend, or a failed test: io_uring is expected on every machine the tests run on. Set
/// SEEDBED_ALLOW_NO_URING=1 to skip instead (e.g. inside a container that blocks io_uring).
fn uring() -> Option<UringFs> {
    match UringFs::new() {
        Ok(fs) => Some(fs),
        Err(e) if std::env::var_os("SEEDBED_ALLOW_NO_URING").is_some() => {
            eprintln!("skipping: {e}");
            None
        }
        Err(e) => panic!("{e} (set SEEDBED_ALLOW_NO_URING=1 to skip uring tests)"),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn create(fs: &dyn Fs, path: &Path, data: &[u8]) -> FileHandle {
    let f = fs.open(path, OpenOptions::create_new()).unwrap();
    f.write_at(data, 0).unwrap();
    f
}

#[test]
fn single_calls_round_trip_and_extend_with_zeros() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = fs
        .open(&dir.path().join("a"), OpenOptions::create_new())
        .unwrap();
    f.write_at(b"hello", 0).unwrap();
    f.write_at(b"world", 10).unwrap();
    assert_eq!(f.len().unwrap(), 15);
    let mut buf = [0xffu8; 15];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 15);
    assert_eq!(&buf, b"hello\0\0\0\0\0world");
    assert_eq!(f.append(b"!").unwrap(), 15);
    f.sync_data().unwrap();
    f.sync_all().unwrap();
    // What uring wrote, std reads.
    let again = PosixFs::new()
        .open(&dir.path().join("a"), OpenOptions::read_only())
        .unwrap();
    let mut buf = [0u8; 16];
    again.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"hello\0\0\0\0\0world!");
}

#[test]
fn short_read_at_end_of_file() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(5000, 7);
    let f = create(&fs, &dir.path().join("f"), &data);
    let mut buf = vec![0u8; 8192];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 5000);
    assert_eq!(&buf[..5000], &data[..]);
    assert_eq!(f.read_at(&mut buf, 4000).unwrap(), 1000);
    assert_eq!(f.read_at(&mut buf, 5000).unwrap(), 0);
    assert_eq!(f.read_at(&mut buf, 1 << 40).unwrap(), 0);
    let err = f.read_exact_at(&mut buf, 0).unwrap_err();
    assert!(
        matches!(err, IoError::UnexpectedEof { got: 5000, .. }),
        "{err}"
    );
    // The same in a batch.
    let (mut a, mut b) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut ops = [
        IoOp::Read {
            file: &*f,
            offset: 4096,
            buf: &mut a,
        },
        IoOp::Read {
            file: &*f,
            offset: 9000,
            buf: &mut b,
        },
    ];
    let results = fs.submit(&mut ops);
    assert_eq!(results[0].as_ref().unwrap(), &(5000 - 4096));
    assert_eq!(results[1].as_ref().unwrap(), &0);
    assert_eq!(&a[..5000 - 4096], &data[4096..]);
}

#[test]
fn batch_of_mixed_reads_and_writes_across_files_larger_than_the_ring() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let block = 512usize;
    // More requests than a pooled ring holds, so the batch refills the ring as it drains.
    let blocks = super::ring::POOL_RING_ENTRIES as usize * 2 + 17;
    let src_data = pattern(block * blocks, 3);
    let src = create(&fs, &dir.path().join("src"), &src_data);
    let dst = fs
        .open(&dir.path().join("dst"), OpenOptions::create_new())
        .unwrap();
    let new_data = pattern(block * blocks, 99);
    let mut read_bufs: Vec<Vec<u8>> = (0..blocks).map(|_| vec![0u8; block]).collect();
    let mut ops: Vec<IoOp<'_>> = Vec::new();
    for (i, buf) in read_bufs.iter_mut().enumerate() {
        ops.push(IoOp::Read {
            file: &*src,
            offset: (i * block) as u64,
            buf,
        });
        let chunk = &new_data[i * block..(i + 1) * block];
        ops.push(IoOp::Write {
            file: &*dst,
            offset: (i * block) as u64,
            buf: chunk,
        });
    }
    let results = fs.submit(&mut ops);
    drop(ops);
    assert_eq!(results.len(), 2 * blocks);
    for r in &results {
        assert_eq!(r.as_ref().unwrap(), &block);
    }
    assert_eq!(read_bufs.concat(), src_data);
    assert_eq!(dst.len().unwrap(), (block * blocks) as u64);
    let mut back = vec![0u8; block * blocks];
    dst.read_exact_at(&mut back, 0).unwrap();
    assert_eq!(back, new_data);
    // Appends continue after what the batch wrote.
    assert_eq!(dst.append(b"x").unwrap(), (block * blocks) as u64);
}

#[test]
fn one_bad_request_fails_alone_and_files_of_other_backends_run_synchronously() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ro = {
        create(&fs, &dir.path().join("ro"), &pattern(4096, 1));
        fs.open(&dir.path().join("ro"), OpenOptions::read_only())
            .unwrap()
    };
    let std_file = create(&PosixFs::new(), &dir.path().join("std"), &pattern(4096, 2));
    let mut a = vec![0u8; 4096];
    let mut b = vec![0u8; 4096];
    let mut ops = [
        IoOp::Write {
            file: &*ro,
            offset: 0,
            buf: b"nope",
        },
        IoOp::Read {
            file: &*ro,
            offset: 0,
            buf: &mut a,
        },
        IoOp::Read {
            file: &*std_file,
            offset: 0,
            buf: &mut b,
        },
    ];
    let results = fs.submit(&mut ops);
    let err = results[0].as_ref().unwrap_err().to_string();
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(results[1].as_ref().unwrap(), &4096);
    assert_eq!(results[2].as_ref().unwrap(), &4096);
    assert_eq!(a, pattern(4096, 1));
    assert_eq!(b, pattern(4096, 2));
}

#[test]
fn read_only_handle_refuses_writes() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    create(&fs, &path, b"data");
    let f = fs.open(&path, OpenOptions::read_only()).unwrap();
    for err in [
        f.write_at(b"x", 0).unwrap_err(),
        f.append(b"x").map(|_| ()).unwrap_err(),
        f.truncate(0).unwrap_err(),
    ] {
        assert!(matches!(err, IoError::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("read-only"), "{err}");
    }
    let mut queue = fs.queue(4).unwrap();
    queue
        .push(QueueRequest {
            file: Arc::clone(&f),
            op: QueueOp::Write,
            offset: 0,
            buf: AlignedBuf::from_slice(b"x"),
            tag: 1,
        })
        .unwrap();
    let mut out = Vec::new();
    queue.reap(1, &mut out).unwrap();
    let err = out[0].result.as_ref().unwrap_err().to_string();
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(f.len().unwrap(), 4, "nothing was written");
}

#[test]
fn direct_io_alignment_errors_match_the_std_backend() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d");
    let opts = OpenOptions::create_new().with_direct(true);
    let f = match fs.open(&path, opts) {
        Ok(f) => f,
        Err(e) if e.to_string().contains("does not support O_DIRECT") => {
            eprintln!("skipping: temp dir is on a file system without O_DIRECT: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(f.is_direct());
    let posix = PosixFs::new()
        .open(&path, OpenOptions::read_write().with_direct(true))
        .unwrap();
    let mut aligned = AlignedBuf::zeroed(2 * DIRECT_IO_ALIGN);
    aligned.copy_from_slice(&pattern(2 * DIRECT_IO_ALIGN, 5));
    f.write_at(&aligned, 0).unwrap();

    // Misaligned length, offset and address: same errors, word for word, as `std`.
    let cases: [(usize, usize, u64); 3] = [
        (0, 100, 0),
        (0, DIRECT_IO_ALIGN, 512),
        (1, DIRECT_IO_ALIGN, 0),
    ];
    for (start, len, offset) in cases {
        let buf = &mut aligned[start..start + len];
        let ours = f.read_at(buf, offset).unwrap_err();
        let theirs = posix.read_at(buf, offset).unwrap_err();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert!(ours.to_string().contains("aligned to 4096"), "{ours}");
        let ours = f.write_at(buf, offset).unwrap_err();
        let theirs = posix.write_at(buf, offset).unwrap_err();
        assert_eq!(ours.to_string(), theirs.to_string());
    }
    // In a batch, the misaligned request fails and the aligned one succeeds.
    let mut good = AlignedBuf::zeroed(DIRECT_IO_ALIGN);
    let mut bad = vec![0u8; 100];
    let mut ops = [
        IoOp::Read {
            file: &*f,
            offset: 0,
            buf: &mut bad,
        },
        IoOp::Read {
            file: &*f,
            offset: DIRECT_IO_ALIGN as u64,
            buf: &mut good,
        },
    ];
    let results = fs.submit(&mut ops);
    assert!(results[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("aligned to 4096"));
    assert_eq!(results[1].as_ref().unwrap(), &DIRECT_IO_ALIGN);
    assert_eq!(&good[..], &aligned[DIRECT_IO_ALIGN..]);
    // And in a queue.
    let mut queue = fs.queue(2).unwrap();
    let req = QueueRequest {
        file: Arc::clone(&f),
        op: QueueOp::Read,
        offset: 100,
        buf: AlignedBuf::zeroed(DIRECT_IO_ALIGN),
        tag: 0,
    };
    queue.push(req).unwrap();
    let mut out = Vec::new();
    queue.reap(1, &mut out).unwrap();
    assert!(out[0]
        .result
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("aligned to 4096"));
}

#[test]
fn queue_keeps_requests_in_flight_and_returns_every_buffer() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let block = 4096usize;
    let blocks = 200usize;
    let data = pattern(block * blocks, 11);
    let f = create(&fs, &dir.path().join("q"), &data);
    let mut queue = fs.queue(32).unwrap();
    assert_eq!(queue.depth(), 32);
    let mut next = 0usize;
    let mut seen = vec![false; blocks];
    let mut out = Vec::new();
    let mut rounds = 0;
    while seen.iter().any(|s| !s) {
        rounds += 1;
        assert!(rounds < 10_000, "queue made no progress");
        while next < blocks && queue.in_flight() < queue.depth() {
            // Reverse order, so completions are not simply sequential.
            let block_index = blocks - 1 - next;
            queue
                .push(QueueRequest {
                    file: Arc::clone(&f),
                    op: QueueOp::Read,
                    offset: (block_index * block) as u64,
                    buf: AlignedBuf::zeroed(block),
                    tag: block_index as u64,
                })
                .unwrap();
            next += 1;
        }
        assert!(queue.in_flight() <= 32);
        out.clear();
        let n = queue.reap(1, &mut out).unwrap();
        assert!(n >= 1 && n == out.len());
        for c in &out {
            let i = c.request.tag as usize;
            assert_eq!(c.result.as_ref().unwrap(), &block);
            assert_eq!(&c.request.buf[..], &data[i * block..(i + 1) * block]);
            assert!(!seen[i]);
            seen[i] = true;
        }
    }
    assert_eq!(queue.in_flight(), 0);
}

#[test]
fn queue_writes_then_reads_back_and_drop_waits_for_in_flight_requests() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = fs
        .open(&dir.path().join("w"), OpenOptions::create_new())
        .unwrap();
    let mut queue = fs.queue(8).unwrap();
    for i in 0..8u64 {
        let buf = AlignedBuf::from_slice(&[i as u8; 4096]);
        queue
            .push(QueueRequest {
                file: Arc::clone(&f),
                op: QueueOp::Write,
                offset: i * 4096,
                buf,
                tag: i,
            })
            .unwrap();
    }
    let mut out = Vec::new();
    queue.reap(8, &mut out).unwrap();
    assert_eq!(out.len(), 8);
    assert!(out.iter().all(|c| matches!(c.result, Ok(4096))));
    assert_eq!(f.len().unwrap(), 8 * 4096);
    // Reads past the end complete short (0), like read_at.
    queue
        .push(QueueRequest {
            file: Arc::clone(&f),
            op: QueueOp::Read,
            offset: 7 * 4096 + 96,
            buf: AlignedBuf::zeroed(4096),
            tag: 0,
        })
        .unwrap();
    out.clear();
    queue.reap(1, &mut out).unwrap();
    assert_eq!(out[0].result.as_ref().unwrap(), &4000);
    // Dropping a queue with requests at the kernel waits for them (no use-after-free).
    for i in 0..8u64 {
        queue
            .push(QueueRequest {
                file: Arc::clone(&f),
                op: QueueOp::Read,
                offset: i * 4096,
                buf: AlignedBuf::zeroed(4096),
                tag: i,
            })
            .unwrap();
    }
    out.clear();
    queue.reap(0, &mut out).unwrap(); // submits without waiting
    drop(queue);
}

#[test]
fn threads_share_files_through_the_ring_pool() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(64 * 1024, 42);
    let f = create(&fs, &dir.path().join("t"), &data);
    std::thread::scope(|s| {
        for t in 0..4usize {
            let f = Arc::clone(&f);
            let data = &data;
            s.spawn(move || {
                let mut buf = vec![0u8; 1024];
                for i in 0..200usize {
                    let off = ((i * 7 + t * 13) % 64) * 1024;
                    assert_eq!(f.read_at(&mut buf, off as u64).unwrap(), 1024);
                    assert_eq!(&buf[..], &data[off..off + 1024]);
                }
            });
        }
    });
    assert!(fs.rings.created() >= 1 && fs.rings.created() <= super::ring::RINGS_MAX);
}

#[test]
fn missing_files_and_bad_options_are_typed_errors() {
    let Some(fs) = uring() else { return };
    let dir = tempfile::tempdir().unwrap();
    let err = fs
        .open(&dir.path().join("none"), OpenOptions::read_only())
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let bad = OpenOptions {
        create: true,
        ..OpenOptions::default()
    };
    assert!(matches!(
        fs.open(&dir.path().join("x"), bad),
        Err(IoError::InvalidInput { .. })
    ));
    assert!(fs.queue(0).is_err());
}
