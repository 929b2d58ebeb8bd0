//! The store and its buckets: `init`, `mb`, `rb`, `versioning`.

use std::path::{Path, PathBuf};

use clap::Args;
use seedbed_engine::io::FsHandle;
use seedbed_engine::object::{on_disk, ObjectStore};

use super::s3;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Data shards per stripe.
    #[arg(long, default_value_t = 4)]
    k: usize,
    /// Parity shards per stripe (0 = no redundancy).
    #[arg(long, default_value_t = 2)]
    m: usize,
    /// Largest shard in KiB (a multiple of 4).
    #[arg(long, default_value_t = 1024)]
    shard_kib: u64,
    /// Shard directories, one per shard (K + M of them; default: DIR/disk0 ..).
    #[arg(long = "disk", value_name = "DIR")]
    disks: Vec<PathBuf>,
}

/// Arguments of `versioning`.
#[derive(Debug, Args)]
pub struct VersioningArgs {
    /// Bucket.
    bucket: String,
    /// on or off.
    state: OnOff,
}

/// `on` / `off`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Suspended.
    Off,
}

/// `init`: create a store in `dir`.
pub fn init(fs: FsHandle, dir: &Path, a: &InitArgs) -> anyhow::Result<()> {
    // Disks given relative to here are recorded as absolute paths: the store is opened from
    // other directories later. (The default disks, inside DIR, are recorded relative to it.)
    let here = std::env::current_dir()?;
    let disks = (!a.disks.is_empty()).then(|| a.disks.iter().map(|d| here.join(d)).collect());
    let store = on_disk::create(fs, dir, a.k, a.m, a.shard_kib * 1024, disks).map_err(s3)?;
    let l = store.layout();
    println!(
        "created store {} with K={} data + M={} parity shards of up to {} KiB over:",
        dir.display(),
        l.k,
        l.m,
        l.shard_len_max / 1024
    );
    for (i, d) in l.disks.iter().enumerate() {
        println!("  shard {i}: {}", d.display());
    }
    println!(
        "metadata: a copy on each of them (DISK/meta), any {} may be lost",
        l.m
    );
    Ok(())
}

/// `mb`: make a bucket.
pub fn mb(store: &ObjectStore, bucket: &str) -> anyhow::Result<()> {
    store.create_bucket(bucket).map_err(s3)?;
    println!("make_bucket: {bucket}");
    Ok(())
}

/// `rb`: remove an empty bucket.
pub fn rb(store: &ObjectStore, bucket: &str) -> anyhow::Result<()> {
    store.delete_bucket(bucket).map_err(s3)?;
    println!("remove_bucket: {bucket}");
    Ok(())
}

/// `versioning`: turn a bucket's versioning on or off.
pub fn versioning(store: &ObjectStore, a: VersioningArgs) -> anyhow::Result<()> {
    let b = store
        .set_versioning(&a.bucket, matches!(a.state, OnOff::On))
        .map_err(s3)?;
    println!("{}: versioning {:?}", a.bucket, b.versioning);
    Ok(())
}
