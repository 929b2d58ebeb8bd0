//! Criterion micro-benchmarks for the LSM's hot paths: memtable insert (single entries, and
//! the write path's encoded one-put batches in key order, as `fillseq` does), WAL record
//! encoding, block build and seek, block compression and decompression (LZ4, zstd), bloom
//! filter probe, SSTable point get (cached blocks), a whole put through `Db::write`, and
//! `seekrandom`'s operation: a fresh iterator and one seek on a database of several tables.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::{Fs, OpenOptions};
use seedbed_engine::lsm::cache::BlockCache;
use seedbed_engine::lsm::key::{internal_key, ValueKind, KIND_FOR_SEEK};
use seedbed_engine::lsm::memtable::MemTable;
use seedbed_engine::lsm::sstable::block::{Block, BlockBuilder, BlockIter};
use seedbed_engine::lsm::sstable::compression::{decompress, Compression, Compressor};
use seedbed_engine::lsm::sstable::filter::{build_filter, key_hash, BloomFilter};
use seedbed_engine::lsm::sstable::{TableBuilder, TableOptions, TableReader};
use seedbed_engine::lsm::stats::Stats;
use seedbed_engine::lsm::wal::WalWriter;
use seedbed_engine::lsm::{Db, MaintenanceMode, Options, WriteBatch};

const KEYS: u64 = 100_000;

fn key(i: u64) -> Vec<u8> {
    format!(
        "{:016}",
        i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1_000_000_000
    )
    .into_bytes()
}

fn memtable_insert(c: &mut Criterion) {
    let keys: Vec<Bytes> = (0..KEYS).map(|i| Bytes::from(key(i))).collect();
    let value = Bytes::from(vec![7u8; 100]);
    let mut g = c.benchmark_group("memtable");
    g.throughput(Throughput::Elements(KEYS));
    g.bench_function("insert_100k_random", |b| {
        b.iter(|| {
            let m = MemTable::new(1);
            for (i, k) in keys.iter().enumerate() {
                m.insert(k.clone(), i as u64 + 1, ValueKind::Put, value.clone());
            }
            black_box(m.entries())
        })
    });
    g.finish();
}

/// The write path's memtable insert: one-put batches, keys in order (fillseq), each batch's
/// encoding a `Bytes` the memtable slices.
fn memtable_insert_batch_seq(c: &mut Criterion) {
    let value = vec![7u8; 100];
    let reps: Vec<Bytes> = (0..KEYS)
        .map(|i| {
            let mut b = WriteBatch::new();
            b.put(format!("{i:016}").as_bytes(), &value);
            Bytes::from(b.into_rep(i + 1))
        })
        .collect();
    let mut g = c.benchmark_group("memtable");
    g.throughput(Throughput::Elements(KEYS));
    g.bench_function("insert_batch_100k_seq", |b| {
        b.iter(|| {
            let m = MemTable::new(1);
            for r in &reps {
                m.insert_batch(r).expect("the batch is well formed");
            }
            black_box(m.entries())
        })
    });
    g.finish();
}

/// What the write path does since the memtable arena: each one-put batch (keys in order) is a
/// fresh buffer handed over whole, copied into the arena and freed; the clone stands in for
/// the client's own buffer.
fn memtable_insert_owned_seq(c: &mut Criterion) {
    let value = vec![7u8; 100];
    let reps: Vec<Vec<u8>> = (0..KEYS)
        .map(|i| {
            let mut b = WriteBatch::new();
            b.put(format!("{i:016}").as_bytes(), &value);
            b.into_rep(i + 1)
        })
        .collect();
    let mut g = c.benchmark_group("memtable");
    g.throughput(Throughput::Elements(KEYS));
    g.bench_function("insert_owned_100k_seq", |b| {
        b.iter(|| {
            let m = MemTable::new(1);
            for r in &reps {
                m.insert_owned(r.clone()).expect("the batch is well formed");
            }
            black_box(m.entries())
        })
    });
    g.finish();
}

/// WAL record encoding: fragments, CRCs and the buffer, for 128-byte records (one put each);
/// the file write happens once per 64 KiB of records.
fn wal_add_record(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("bench setup: a temporary directory");
    let fs = PosixFs::new();
    let record = vec![5u8; 128];
    let mut g = c.benchmark_group("wal");
    g.throughput(Throughput::Bytes(record.len() as u64 * 1000));
    let mut n = 0;
    g.bench_function("add_record_128b_x1000", |b| {
        b.iter(|| {
            n += 1;
            let path = dir.path().join(format!("{n:06}.log"));
            let mut w = WalWriter::new(
                fs.open(&path, OpenOptions::create_truncate())
                    .expect("bench setup: create the file"),
            );
            for _ in 0..1000 {
                black_box(w.add_record(&record).expect("a WAL append"));
            }
            w.flush().expect("a WAL flush");
            drop(w);
            std::fs::remove_file(&path).expect("remove the bench WAL");
        })
    });
    g.finish();
}

/// One data block of 4 KiB, values as `seedbed bench lsm` makes them (half compressible).
fn compressible_block() -> Vec<u8> {
    let mut bb = BlockBuilder::new(16);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut i = 0u64;
    while bb.size_estimate() < 4096 {
        let mut v = Vec::with_capacity(100);
        for _ in 0..50 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(x as u8);
        }
        let half = v.clone();
        v.extend_from_slice(&half);
        bb.add(
            &internal_key(format!("{i:016}").as_bytes(), 1, ValueKind::Put),
            &v,
        );
        i += 1;
    }
    let mut out = Vec::new();
    bb.finish_into(&mut out);
    out
}

fn block_compression(c: &mut Criterion) {
    let raw = compressible_block();
    let mut g = c.benchmark_group("compression");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    for setting in [Compression::Lz4, Compression::Zstd(3)] {
        let mut z = Compressor::new(setting);
        let mut out = Vec::new();
        g.bench_function(format!("compress_4k_{setting}"), |b| {
            b.iter(|| black_box(z.compress(black_box(&raw), &mut out)))
        });
        let ty = z.compress(&raw, &mut out).expect("compressible");
        let stored = out.clone();
        g.bench_function(format!("decompress_4k_{setting}"), |b| {
            b.iter(|| {
                black_box(
                    decompress(ty, black_box(&stored))
                        .expect("the block just compressed decompresses"),
                )
            })
        });
    }
    g.finish();
}

/// A whole put: batch, writer queue, WAL (handed to the OS), memtable — the path `fillseq`
/// times, without the harness.
fn db_put_seq(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("bench setup: a temporary directory");
    let opts = Options {
        maintenance: MaintenanceMode::Manual,
        write_buffer_bytes: 256 << 20,
        ..Options::default()
    };
    let db = Db::open(
        Arc::new(PosixFs::new()),
        dir.path(),
        opts,
        Arc::new(RealClock::new()),
    )
    .expect("bench setup: open the database");
    let value = vec![7u8; 100];
    let mut i = 0u64;
    let mut key = Vec::with_capacity(16);
    c.bench_function("db/put_seq", |b| {
        b.iter(|| {
            i += 1;
            key.clear();
            key.extend_from_slice(format!("{i:016}").as_bytes());
            db.put(&key, &value).expect("a put to the bench database")
        })
    });
}

fn block_build_and_seek(c: &mut Criterion) {
    let mut sorted: Vec<Vec<u8>> = (0..30)
        .map(|i| internal_key(format!("{:016}", i * 7).as_bytes(), 5, ValueKind::Put))
        .collect();
    sorted.sort();
    let value = vec![1u8; 100];
    let mut g = c.benchmark_group("block");
    g.bench_function("build_4k", |b| {
        let mut bb = BlockBuilder::new(16);
        let mut out = Vec::with_capacity(8192);
        b.iter(|| {
            for k in &sorted {
                bb.add(k, &value);
            }
            out.clear();
            black_box(bb.finish_into(&mut out))
        })
    });
    let mut bb = BlockBuilder::new(16);
    for k in &sorted {
        bb.add(k, &value);
    }
    let mut out = Vec::new();
    bb.finish_into(&mut out);
    let block = Arc::new(Block::from_contents(&out).expect("the block just built parses"));
    let target = internal_key(format!("{:016}", 17 * 7).as_bytes(), 9, KIND_FOR_SEEK);
    g.bench_function("seek", |b| {
        b.iter(|| {
            let mut it = BlockIter::new(block.clone());
            it.seek(black_box(&target));
            black_box(it.valid())
        })
    });
    g.finish();
}

fn bloom_probe(c: &mut Criterion) {
    let hashes: Vec<u64> = (0..KEYS).map(|i| key_hash(&key(i))).collect();
    let f = BloomFilter::parse(&build_filter(&hashes, 10)).expect("the filter just built parses");
    let probe = key(KEYS + 12345);
    c.bench_function("bloom/probe_miss", |b| {
        b.iter(|| black_box(f.may_contain(black_box(&probe))))
    });
    let hit = key(777);
    c.bench_function("bloom/probe_hit", |b| {
        b.iter(|| black_box(f.may_contain(black_box(&hit))))
    });
}

fn sstable_point_get(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("bench setup: a temporary directory");
    let fs = PosixFs::new();
    let path = dir.path().join("000001.sst");
    let file = fs
        .open(&path, OpenOptions::create_truncate())
        .expect("bench setup: create the file");
    let mut keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();
    keys.sort();
    keys.dedup();
    let mut tb = TableBuilder::new(file, TableOptions::default());
    for k in &keys {
        tb.add(&internal_key(k, 1, ValueKind::Put), &[3u8; 100])
            .expect("keys are added in order");
    }
    tb.finish().expect("bench setup: write the table");
    let cache = Arc::new(BlockCache::new(64 << 20));
    let t = TableReader::open(&fs, &path, 1, cache, Arc::new(Stats::default()))
        .expect("bench setup: open the table just written");
    let lookups: Vec<Vec<u8>> = keys
        .iter()
        .step_by(97)
        .map(|k| internal_key(k, 10, KIND_FOR_SEEK))
        .collect();
    let hashes: Vec<u64> = keys.iter().step_by(97).map(|k| key_hash(k)).collect();
    let mut i = 0;
    c.bench_function("sstable/point_get_cached", |b| {
        b.iter(|| {
            i = (i + 1) % lookups.len();
            black_box(
                t.get(&lookups[i], hashes[i])
                    .expect("a point get")
                    .is_some(),
            )
        })
    });
}

/// `seekrandom` without the harness: a fresh `Db::iter` and one seek to a random present key,
/// on a tree shaped like `fillseq`'s (sequential keys, so tables cover disjoint ranges): three
/// L0 tables (half, a quarter and an eighth of the keys) and a memtable holding the last
/// eighth, every block cached. (Printed at setup: `tables per level [3, 0, ...]`.)
fn db_seek_random(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("bench setup: a temporary directory");
    let opts = Options {
        maintenance: MaintenanceMode::Manual,
        write_buffer_bytes: 256 << 20,
        block_cache_bytes: 256 << 20,
        ..Options::default()
    };
    let db = Db::open(
        Arc::new(PosixFs::new()),
        dir.path(),
        opts,
        Arc::new(RealClock::new()),
    )
    .expect("bench setup: open the database");
    let value = vec![7u8; 100];
    let seq_key = |i: u64| format!("{i:016}").into_bytes();
    let n = 4 * KEYS;
    for i in 0..n {
        db.put(&seq_key(i), &value).expect("bench setup: a put");
        if i + 1 == KEYS * 2 || i + 1 == KEYS * 3 || i + 1 == KEYS * 7 / 2 {
            db.flush().expect("bench setup: flush to L0");
        }
    }
    eprintln!(
        "db/seek_random_fresh_iter: tables per level {:?}",
        db.stats().level_files
    );
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut found = 0u64;
    c.bench_function("db/seek_random_fresh_iter", |b| {
        b.iter(|| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = seq_key(x % n);
            let mut it = db.iter(Default::default(), None, None);
            it.seek(&k).expect("a seek");
            found += u64::from(it.valid() && it.key() == k.as_slice());
        })
    });
    assert!(found > 0, "the seeks found their keys");
}

criterion_group!(
    lsm,
    memtable_insert,
    memtable_insert_batch_seq,
    memtable_insert_owned_seq,
    wal_add_record,
    block_build_and_seek,
    block_compression,
    bloom_probe,
    sstable_point_get,
    db_put_seq,
    db_seek_random
);
criterion_main!(lsm);
