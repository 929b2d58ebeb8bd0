//! Per-request overhead of the I/O backends on a cached file: what a backend adds on top of
//! the page cache, with the device out of the picture.
//!
//! - `read_4k/{std,uring}`: one 4 KiB `read_at` (a `pread` vs one ring round trip);
//! - `batch32_4k/{std,uring}`: 32 reads through `Fs::submit` (32 `pread`s vs one submission);
//! - `queue32_4k/{std,uring}`: 32 reads pushed into a depth-32 `IoQueue` and reaped.
//!
//! Run: `cargo bench -p seedbed-benches --bench io`. The file lives under the target
//! directory (not /tmp, which may be tmpfs) and is read once before measuring, so every read is
//! a page-cache hit.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seedbed_engine::io::{
    self, AlignedBuf, BackendKind, FileHandle, FsHandle, IoOp, OpenOptions, QueueCompletion,
    QueueOp, QueueRequest,
};

const FILE_BYTES: u64 = 16 << 20;
const BLOCK_BYTES: usize = 4096;
const BATCH: usize = 32;

fn open_cached(fs: &FsHandle, path: &Path) -> FileHandle {
    let file = fs
        .open(path, OpenOptions::read_only())
        .expect("open bench file");
    let mut buf = vec![0u8; 1 << 20];
    for off in (0..FILE_BYTES).step_by(buf.len()) {
        file.read_exact_at(&mut buf, off).expect("warm the cache");
    }
    file
}

/// Offsets spread over the file, the same sequence for every backend.
fn offsets() -> Vec<u64> {
    let blocks = FILE_BYTES / BLOCK_BYTES as u64;
    (0..1024u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) % blocks) * BLOCK_BYTES as u64)
        .collect()
}

fn bench_io(c: &mut Criterion) {
    let dir = tempfile::Builder::new()
        .prefix("seedbed-bench-io-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("temp dir");
    let path = dir.path().join("cached.dat");
    let data: Vec<u8> = (0..FILE_BYTES).map(|i| (i * 31 % 251) as u8).collect();
    io::write_file_durable(&io::posix::PosixFs::new(), &path, &data).expect("write bench file");
    let offsets = offsets();

    let mut backends: Vec<(BackendKind, FsHandle)> = vec![(
        BackendKind::Std,
        io::open_backend(BackendKind::Std).expect("std"),
    )];
    match io::open_backend(BackendKind::Uring) {
        Ok(fs) => backends.push((BackendKind::Uring, fs)),
        Err(e) => eprintln!("skipping uring: {e}"),
    }

    let mut group = c.benchmark_group("read_4k");
    group.throughput(Throughput::Elements(1));
    for (kind, fs) in &backends {
        let file = open_cached(fs, &path);
        let mut buf = vec![0u8; BLOCK_BYTES];
        let mut i = 0usize;
        group.bench_function(kind.name(), |b| {
            b.iter(|| {
                i = (i + 1) % offsets.len();
                black_box(file.read_at(&mut buf, offsets[i]).expect("read"))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("batch32_4k");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (kind, fs) in &backends {
        let file = open_cached(fs, &path);
        let mut bufs = vec![vec![0u8; BLOCK_BYTES]; BATCH];
        let mut round = 0usize;
        group.bench_function(kind.name(), |b| {
            b.iter(|| {
                round = (round + BATCH) % (offsets.len() - BATCH);
                let mut ops: Vec<IoOp<'_>> = bufs
                    .iter_mut()
                    .enumerate()
                    .map(|(j, buf)| IoOp::Read {
                        file: &*file,
                        offset: offsets[round + j],
                        buf,
                    })
                    .collect();
                let results = fs.submit(&mut ops);
                black_box(results.len())
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("queue32_4k");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (kind, fs) in &backends {
        let file = open_cached(fs, &path);
        let mut queue = fs.queue(BATCH).expect("queue");
        let mut free: Vec<AlignedBuf> = (0..BATCH)
            .map(|_| AlignedBuf::zeroed(BLOCK_BYTES))
            .collect();
        let mut done: Vec<QueueCompletion> = Vec::with_capacity(BATCH);
        let mut round = 0usize;
        group.bench_function(kind.name(), |b| {
            b.iter(|| {
                round = (round + BATCH) % (offsets.len() - BATCH);
                for j in 0..BATCH {
                    let buf = free.pop().expect("a buffer per slot");
                    let req = QueueRequest {
                        file: Arc::clone(&file),
                        op: QueueOp::Read,
                        offset: offsets[round + j],
                        buf,
                        tag: j as u64,
                    };
                    queue.push(req).expect("room in the queue");
                }
                done.clear();
                queue.reap(BATCH, &mut done).expect("reap");
                for c in done.drain(..) {
                    black_box(c.result.expect("read"));
                    free.push(c.request.buf);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_io);
criterion_main!(benches);
