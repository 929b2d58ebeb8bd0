//! `seedbed bench object --breakdown`: what each part of one PUT costs on its own, on this
//! machine, in the same run as the PUTs themselves — MD5, SHA-256, parity, CRCs, creating the
//! K + M shard files, writing their blocks, syncing them, and the metadata commit. Medians of
//! [`ROUNDS`] rounds.
//!
//! Set beside the PUT's own latency, this says what the write path could at best overlap: a
//! PUT can be no faster than its longest single chain (MD5), and no slower than the sum if
//! nothing overlapped. The pipeline's own busy times (`pipeline, …` lines) show what it does.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use md5::{Digest, Md5};
use seedbed_engine::io::{self, AlignedBuf, FsHandle, IoOp, OpenOptions};
use seedbed_engine::object::erasure::Codec;
use seedbed_engine::object::{lsm_meta, shard::crc32};
use sha2::Sha256;

use super::io::human_bytes;
use super::object::ObjectBenchArgs;

/// Rounds per part; the median is printed.
const ROUNDS: usize = 5;

/// Time `f` [`ROUNDS`] times; the median.
fn median(mut f: impl FnMut() -> anyhow::Result<Duration>) -> anyhow::Result<Duration> {
    let mut v = (0..ROUNDS)
        .map(|_| f())
        .collect::<anyhow::Result<Vec<_>>>()?;
    v.sort();
    Ok(v[ROUNDS / 2])
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Print the cost of each part of a PUT of `size` bytes, measured on its own.
pub fn print(fs: FsHandle, args: &ObjectBenchArgs, dir: &Path, size: u64) -> anyhow::Result<()> {
    let (k, m) = (args.k, args.m);
    let width = k + m;
    let shard = args.shard_size as usize;
    let stripe = k * shard;
    let data: Vec<u8> = (0..size)
        .map(|i| i.wrapping_mul(0x9E37_79B9) as u8)
        .collect();
    // The stripes' shards, zero-padded, as the store cuts them (full shards for simplicity).
    let stripes: Vec<Vec<AlignedBuf>> = data
        .chunks(stripe.max(1))
        .map(|s| {
            let mut shards: Vec<AlignedBuf> =
                (0..width).map(|_| AlignedBuf::zeroed(shard)).collect();
            for (i, piece) in s.chunks(shard).enumerate() {
                shards[i][..piece.len()].copy_from_slice(piece);
            }
            shards
        })
        .collect();
    let mut rows: Vec<(&str, Duration)> = Vec::new();
    rows.push((
        "MD5",
        median(|| {
            Ok(time(|| {
                std::hint::black_box(Md5::digest(&data));
            }))
        })?,
    ));
    rows.push((
        "SHA-256",
        median(|| {
            Ok(time(|| {
                std::hint::black_box(Sha256::digest(&data));
            }))
        })?,
    ));
    let mut codec = Codec::new(k, m);
    let mut encoded = stripes;
    rows.push((
        "parity (Reed-Solomon)",
        median(|| {
            let t = Instant::now();
            for s in encoded.iter_mut() {
                let (d, p) = s.split_at_mut(k);
                let d: Vec<&[u8]> = d.iter().map(|b| &b[..]).collect();
                let mut p: Vec<&mut [u8]> = p.iter_mut().map(|b| &mut b[..]).collect();
                codec.encode(&d, &mut p).map_err(anyhow::Error::msg)?;
            }
            Ok(t.elapsed())
        })?,
    ));
    rows.push((
        "CRC32 of every shard block",
        median(|| {
            Ok(time(|| {
                for s in &encoded {
                    for b in s {
                        std::hint::black_box(crc32(b));
                    }
                }
            }))
        })?,
    ));
    // The files: as the store makes them, O_DIRECT for objects of a full stripe or more.
    let direct = size >= stripe as u64;
    let scratch = dir.join("breakdown");
    let (mut create, mut write, mut sync) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let dirs: Vec<_> = (0..width)
            .map(|i| scratch.join(format!("r{round}-disk{i}")))
            .collect();
        for d in &dirs {
            io::create_dir_all_durable(&*fs, d)?;
        }
        let t = Instant::now();
        let files = dirs
            .iter()
            .map(|d| {
                let opts = OpenOptions {
                    direct,
                    ..OpenOptions::create_new()
                };
                fs.open(&d.join("blob.0"), opts)
                    .or_else(|_| fs.open(&d.join("blob.0"), OpenOptions::create_truncate()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        create.push(t.elapsed());
        let t = Instant::now();
        for (s, shards) in encoded.iter().enumerate() {
            let mut ops: Vec<IoOp<'_>> = files
                .iter()
                .zip(shards)
                .map(|(f, b)| IoOp::Write {
                    file: &**f,
                    offset: 4096 + (s * shard) as u64,
                    buf: b,
                })
                .collect();
            for r in fs.submit(&mut ops) {
                r?;
            }
        }
        write.push(t.elapsed());
        let t = Instant::now();
        let handles: Vec<&dyn io::File> = files.iter().map(|f| &**f).collect();
        io::sync_data_all(&*fs, &handles)?;
        io::sync_dirs(&*fs, &dirs)?;
        sync.push(t.elapsed());
    }
    let _ = std::fs::remove_dir_all(&scratch);
    for (name, mut v) in [
        ("create K+M files", create),
        ("write every shard block", write),
        ("fdatasync files + sync dirs", sync),
    ] {
        v.sort();
        rows.push((name, v[ROUNDS / 2]));
    }
    let meta_dir = dir.join("breakdown-meta");
    let meta = lsm_meta::open(fs.clone(), &meta_dir).map_err(anyhow::Error::msg)?;
    let record = vec![b'x'; 300];
    let mut n = 0u64;
    rows.push((
        "metadata commit (synced)",
        median(|| {
            n += 1;
            let t = Instant::now();
            meta.commit(
                vec![
                    (format!("Obench\0k{n}").into_bytes(), Some(record.clone())),
                    (b"#seq".to_vec(), Some(n.to_be_bytes().to_vec())),
                ],
                true,
            )
            .map_err(anyhow::Error::msg)?;
            Ok(t.elapsed())
        })?,
    ));
    drop(meta);
    std::fs::remove_dir_all(&meta_dir)
        .with_context(|| format!("removing {}", meta_dir.display()))?;
    let total: Duration = rows.iter().map(|r| r.1).sum();
    println!(
        "breakdown of one {} PUT, each part alone (median of {ROUNDS}), K={k} M={m}:",
        human_bytes(size)
    );
    for (name, d) in &rows {
        println!(
            "  {name:<30} {:>8.2} ms  {:>8.0} MB/s of object data",
            d.as_secs_f64() * 1e3,
            size as f64 / d.as_secs_f64() / 1e6
        );
    }
    println!(
        "  {:<30} {:>8.2} ms  (a PUT with nothing overlapped)",
        "sum",
        total.as_secs_f64() * 1e3
    );
    Ok(())
}
