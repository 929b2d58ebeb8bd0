//! Criterion micro-benchmarks for the LSM's hot paths: memtable insert, block build and seek,
//! bloom filter probe, SSTable point get (cached blocks).

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::{Fs, OpenOptions};
use seedbed_engine::lsm::cache::BlockCache;
use seedbed_engine::lsm::key::{internal_key, ValueKind, KIND_FOR_SEEK};
use seedbed_engine::lsm::memtable::MemTable;
use seedbed_engine::lsm::sstable::block::{Block, BlockBuilder, BlockIter};
use seedbed_engine::lsm::sstable::filter::{build_filter, key_hash, BloomFilter};
use seedbed_engine::lsm::sstable::{TableBuilder, TableOptions, TableReader};
use seedbed_engine::lsm::stats::Stats;

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
    let block = Arc::new(Block::from_contents(&out).unwrap());
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
    let f = BloomFilter::parse(&build_filter(&hashes, 10)).unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let fs = PosixFs::new();
    let path = dir.path().join("000001.sst");
    let file = fs.open(&path, OpenOptions::create_truncate()).unwrap();
    let mut keys: Vec<Vec<u8>> = (0..KEYS).map(key).collect();
    keys.sort();
    keys.dedup();
    let mut tb = TableBuilder::new(file, TableOptions::default());
    for k in &keys {
        tb.add(&internal_key(k, 1, ValueKind::Put), &[3u8; 100])
            .unwrap();
    }
    tb.finish().unwrap();
    let cache = Arc::new(BlockCache::new(64 << 20));
    let t = TableReader::open(&fs, &path, 1, cache, Arc::new(Stats::default())).unwrap();
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
            black_box(t.get(&lookups[i], hashes[i]).unwrap().is_some())
        })
    });
}

criterion_group!(
    lsm,
    memtable_insert,
    block_build_and_seek,
    bloom_probe,
    sstable_point_get
);
criterion_main!(lsm);
