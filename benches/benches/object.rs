//! Object store hot paths: Reed-Solomon encode and reconstruct of one stripe; CRC32, SHA-256 and
//! MD5 of shard-sized blocks; a whole GET of a small object whose bytes are in the page cache.
//! Goal (issue): encode and reconstruct at least 4 GB/s per core for K = 4, M = 2. Throughput
//! is reported in bytes of object data per second.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use md5::Md5;
use seedbed_engine::object::erasure::Codec;
use seedbed_engine::object::shard::crc32;
use sha2::{Digest, Sha256};
use std::hint::black_box;

fn stripe(k: usize, shard_len: usize) -> Vec<Vec<u8>> {
    (0..k)
        .map(|i| {
            (0..shard_len)
                .map(|j| (j as u8).wrapping_mul(31).wrapping_add(i as u8))
                .collect()
        })
        .collect()
}

fn erasure(c: &mut Criterion) {
    let mut g = c.benchmark_group("erasure");
    for (k, m) in [(4usize, 2usize), (6, 3), (10, 4)] {
        for shard_len in [64 << 10, 1 << 20] {
            let data = stripe(k, shard_len);
            g.throughput(Throughput::Bytes((k * shard_len) as u64));
            let id = format!("k{k}m{m}/{}KiB", shard_len >> 10);
            let mut codec = Codec::new(k, m);
            let mut parity = vec![vec![0u8; shard_len]; m];
            g.bench_function(BenchmarkId::new("encode", &id), |b| {
                b.iter(|| {
                    let d: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                    let mut p: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
                    codec
                        .encode(black_box(&d), &mut p)
                        .expect("shards of equal length");
                })
            });
            // Reconstruct with the first M data shards lost: the worst case (all parity used).
            let full: Vec<Vec<u8>> = data.iter().chain(parity.iter()).cloned().collect();
            // The rebuilt buffers are handed back for reuse, as a reader with a buffer pool
            // does; `reconstruct_fresh` allocates them anew every time (page faults included).
            let mut spare: Vec<Vec<u8>> = Vec::new();
            g.bench_function(BenchmarkId::new("reconstruct", &id), |b| {
                b.iter_batched_ref(
                    || {
                        full.iter()
                            .enumerate()
                            .map(|(i, s)| (i >= m).then(|| s.clone()))
                            .collect::<Vec<Option<Vec<u8>>>>()
                    },
                    |shards| {
                        codec
                            .reconstruct_reusing(black_box(shards), &mut spare)
                            .expect("enough shards survive");
                        spare.extend(shards[..m].iter_mut().filter_map(Option::take));
                    },
                    BatchSize::LargeInput,
                )
            });
            if k == 4 {
                g.bench_function(BenchmarkId::new("reconstruct_fresh", &id), |b| {
                    b.iter_batched(
                        || {
                            full.iter()
                                .enumerate()
                                .map(|(i, s)| (i >= m).then(|| s.clone()))
                                .collect::<Vec<Option<Vec<u8>>>>()
                        },
                        |mut shards| {
                            codec
                                .reconstruct(black_box(&mut shards))
                                .expect("enough shards survive");
                            shards
                        },
                        BatchSize::LargeInput,
                    )
                });
            }
        }
    }
    g.finish();
}

fn checksums(c: &mut Criterion) {
    let mut g = c.benchmark_group("checksum");
    let block = stripe(1, 1 << 20).remove(0);
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function("crc32/1MiB", |b| b.iter(|| crc32(black_box(&block))));
    g.bench_function("sha256/1MiB", |b| {
        b.iter(|| Sha256::digest(black_box(&block)))
    });
    // MD5 (the ETag) is the one PUT hash that is a single sequential chain: it bounds a PUT.
    g.bench_function("md5/1MiB", |b| b.iter(|| Md5::digest(black_box(&block))));
    g.finish();
}

/// Server-side encryption's per-byte work (`object/sse.rs`): the AES-256-CTR key stream in
/// place (what a GET of an encrypted object adds), and the copy and key stream a PUT's
/// pipeline adds per data block (MD5 still reads the plaintext), beside MD5, the ceiling of a
/// PUT.
fn sse(c: &mut Criterion) {
    use seedbed_engine::object::sse::Key;
    let mut g = c.benchmark_group("sse");
    let block = vec![0x5au8; 1 << 20];
    g.throughput(Throughput::Bytes(block.len() as u64));
    let key = Key::random().expect("the OS generator");
    g.bench_function("aes256ctr/1MiB", |b| {
        let mut buf = block.clone();
        b.iter(|| key.apply(black_box(4096), black_box(&mut buf)))
    });
    g.bench_function("copy+aes256ctr/1MiB", |b| {
        let mut out = vec![0u8; block.len()];
        b.iter(|| {
            out.copy_from_slice(black_box(&block));
            key.apply(4096, &mut out);
        })
    });
    g.bench_function("md5/1MiB", |b| b.iter(|| Md5::digest(black_box(&block))));
    g.finish();
}

/// A whole GET of a 4 KiB object, hot: a real store (K = 4, M = 2, the `std` backend, the
/// metadata on every disk) in the target directory, 64 objects — each a pack record — read in
/// turn, so the metadata lookup, the K pack-file reads through the handles the store keeps
/// (`blob/pack_readers.rs`), the CRC checks and the copy out are what is timed, not the device.
fn small_get(c: &mut Criterion) {
    use seedbed_engine::io::{open_backend, BackendKind};
    use seedbed_engine::object::{on_disk, PutOptions, StoreOptions};
    let dir = tempfile::Builder::new()
        .prefix("bench-small-get-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a directory under target/");
    let fs = open_backend(BackendKind::Std).expect("the std backend");
    let options = StoreOptions {
        sync: false,
        ..StoreOptions::default()
    };
    let store =
        on_disk::create_with(fs, dir.path(), 4, 2, 1 << 20, None, options).expect("a fresh store");
    store.create_bucket("bench").expect("a bucket");
    let body: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let keys: Vec<String> = (0..64).map(|i| format!("obj-{i:02}")).collect();
    for key in &keys {
        store
            .put_object(
                "bench",
                key,
                &mut body.as_slice(),
                4096,
                &PutOptions::default(),
            )
            .expect("a PUT");
    }
    let mut g = c.benchmark_group("object");
    g.throughput(Throughput::Bytes(4096));
    let mut out = Vec::with_capacity(4096);
    let mut next = 0;
    g.bench_function("get_4KiB_hot", |b| {
        b.iter(|| {
            out.clear();
            store
                .get_object("bench", &keys[next % keys.len()], None, None, &mut out)
                .expect("a GET");
            next += 1;
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, erasure, checksums, sse, small_get);
criterion_main!(benches);
