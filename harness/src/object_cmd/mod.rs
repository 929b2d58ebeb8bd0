//! `seedbed object --store DIR VERB ...`: the parity object store from the command line, with
//! the verbs a person knows from `aws s3api` and errors in S3's terms.
//!
//! One function per verb, grouped by what they touch:
//! - [`buckets`] — `init`, `mb`, `rb`, `versioning`;
//! - [`objects`] — `put`, `get`, `head`, `rm`, `cp`, `put-multipart`;
//! - [`listing`] — `ls`, `versions`;
//! - [`select`] — `select` (S3 Select: SQL over one object);
//! - [`lifecycle`] — `lifecycle put | get | rm | run` (rules that expire objects);
//! - [`upkeep`] — `scrub`, `repair`, `stats`, `compact`.
//!
//! This file holds the arguments, opening the store, and the dispatch.

mod buckets;
mod format;
mod lifecycle;
mod listing;
mod objects;
mod select;
mod upkeep;

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};
use seedbed_engine::io::{BackendKind, FsHandle};
use seedbed_engine::object::{on_disk, ObjectError, ObjectStore};

/// Options of `seedbed object`.
#[derive(Debug, Args)]
pub struct ObjectArgs {
    /// The store's directory (created by `init`).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// I/O backend for data and metadata: std, uring or mmap.
    #[arg(long, default_value = "std", global = true)]
    pub io: BackendKind,
    /// Print machine-readable JSON instead of text (before or after the verb).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub verb: Verb,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Create a store: K data + M parity shards, fixed for its lifetime.
    Init(buckets::InitArgs),
    /// Make a bucket.
    Mb {
        /// Bucket name (S3 naming rules).
        bucket: String,
    },
    /// Remove an empty bucket.
    Rb {
        /// Bucket name.
        bucket: String,
    },
    /// List buckets, or the objects of a bucket.
    Ls(listing::LsArgs),
    /// Upload a file (or stdin with '-') as an object.
    Put(objects::PutArgs),
    /// Download an object to a file, or stdout with '-' (the default).
    Get(objects::GetArgs),
    /// Show an object's metadata.
    Head(objects::HeadArgs),
    /// Restore an object in GLACIER or DEEP_ARCHIVE so that it can be read for --days days
    /// (S3's RestoreObject); `head` shows how far it is.
    Restore(objects::RestoreArgs),
    /// Run a SQL query over one CSV or JSON object (S3 Select) and print the records.
    Select(select::SelectArgs),
    /// Delete an object (a delete marker in a versioned bucket), or one version of it.
    Rm(objects::RmArgs),
    /// Copy an object.
    Cp(objects::CpArgs),
    /// List every version and delete marker in a bucket.
    Versions(listing::VersionsArgs),
    /// Turn a bucket's versioning on or off (off = Suspended).
    Versioning(buckets::VersioningArgs),
    /// Upload a file in parts (multipart upload), each part --part-mib MiB.
    PutMultipart(objects::PutMultipartArgs),
    /// A bucket's lifecycle rules (the aws cli's JSON), and one pass of them run by hand.
    Lifecycle(lifecycle::LifecycleArgs),
    /// Verify the metadata copies and every shard of every object; heal what parity and the
    /// other copies can, report what they cannot.
    Scrub(upkeep::ScrubArgs),
    /// Rebuild lost or corrupt copies of the metadata from a good one — or, when every copy
    /// is lost, from the descriptions in the shards — and say what cannot be brought back.
    Repair(upkeep::RepairArgs),
    /// Buckets, objects, bytes stored and bytes on the disks (space amplification).
    Stats,
    /// Rewrite the live records of packs that are mostly deleted records, then remove those
    /// packs.
    Compact(upkeep::CompactArgs),
}

/// Exit with S3's error code in the message; callers map it to a non-zero status.
fn s3(e: ObjectError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The I/O backend for a store on disk.
fn open_fs(io: BackendKind) -> anyhow::Result<FsHandle> {
    if io == BackendKind::Sim {
        bail!("--io sim keeps data in memory only; use std, uring or mmap for a store on disk");
    }
    Ok(seedbed_engine::io::open_backend(io)?)
}

/// Open an existing store, saying on stderr what opening its metadata copies (one per disk)
/// repaired and which are out of service.
pub fn open_store(fs: FsHandle, dir: &Path) -> anyhow::Result<ObjectStore> {
    let (store, report) = on_disk::open(fs, dir).map_err(s3)?;
    for d in &report.rolled_forward {
        eprintln!(
            "metadata: {} was one commit behind; rolled forward",
            d.display()
        );
    }
    for d in &report.rebuilt {
        eprintln!(
            "metadata: {} was behind or empty; rebuilt from a current copy (if its disk was \
             lost or replaced, `seedbed object --store {} scrub` rebuilds the disk's shards too)",
            d.display(),
            dir.display()
        );
    }
    for (d, why) in &report.down {
        eprintln!(
            "metadata: {} is out of service ({why}); `seedbed object --store {} repair` rebuilds it",
            d.display(),
            dir.display()
        );
    }
    Ok(store)
}

/// Run one `seedbed object` command.
pub fn run(args: ObjectArgs) -> anyhow::Result<()> {
    let fs = open_fs(args.io)?;
    match &args.verb {
        Verb::Init(init) => return buckets::init(fs, &args.store, init),
        Verb::Repair(r) => return upkeep::repair(fs, &args.store, args.json, r),
        _ => {}
    }
    let store = open_store(fs, &args.store)?;
    let json = args.json;
    match args.verb {
        Verb::Init(_) | Verb::Repair(_) => unreachable!("handled above"),
        Verb::Mb { bucket } => buckets::mb(&store, &bucket),
        Verb::Rb { bucket } => buckets::rb(&store, &bucket),
        Verb::Versioning(a) => buckets::versioning(&store, a),
        Verb::Ls(a) => listing::ls(&store, json, a),
        Verb::Versions(a) => listing::versions(&store, json, a),
        Verb::Put(a) => objects::put(&store, json, a),
        Verb::Get(a) => objects::get(&store, a),
        Verb::Head(a) => objects::head(&store, a),
        Verb::Restore(a) => objects::restore(&store, a),
        Verb::Select(a) => select::select(&store, a),
        Verb::Rm(a) => objects::rm(&store, json, a),
        Verb::Cp(a) => objects::cp(&store, a),
        Verb::PutMultipart(a) => objects::put_multipart(&store, a),
        Verb::Lifecycle(a) => lifecycle::lifecycle(&store, json, a),
        Verb::Scrub(a) => upkeep::scrub(&store, json, a),
        Verb::Stats => upkeep::stats(&store, json),
        Verb::Compact(a) => upkeep::compact(&store, json, a),
    }
}
