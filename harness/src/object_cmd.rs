//! `seedbed object --store DIR VERB ...`: the parity object store from the command line, with
//! the verbs a person knows from `aws s3api` and errors in S3's terms.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::{BackendKind, FsHandle};
use seedbed_engine::object::{
    ByteRange, ListOptions, ObjectError, ObjectStore, PutOptions, StoreOptions,
};
use seedbed_engine::rng::DetRng;

use crate::output::progress;

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
    Init {
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
    },
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
    Ls {
        /// Bucket; omit to list buckets.
        bucket: Option<String>,
        /// Only keys that begin with this.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Group keys by this delimiter (common prefixes), e.g. '/'.
        #[arg(long)]
        delimiter: Option<String>,
        /// At most this many keys and prefixes (1 to 1000).
        #[arg(long)]
        max_keys: Option<usize>,
        /// Resume from a previous listing's NextContinuationToken.
        #[arg(long)]
        continuation_token: Option<String>,
    },
    /// Upload a file (or stdin with '-') as an object.
    Put {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// File to upload, or '-' for stdin.
        file: String,
        /// Content-Type.
        #[arg(long)]
        content_type: Option<String>,
        /// User metadata, repeatable: --meta name=value.
        #[arg(long = "meta", value_name = "NAME=VALUE")]
        meta: Vec<String>,
        /// Only create: fail with PreconditionFailed if the key exists (If-None-Match: *).
        #[arg(long)]
        if_none_match: bool,
        /// Only replace the object whose ETag is this (If-Match).
        #[arg(long)]
        if_match: Option<String>,
    },
    /// Download an object to a file, or stdout with '-' (the default).
    Get {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Output file, or '-' for stdout.
        #[arg(default_value = "-")]
        file: String,
        /// A specific version.
        #[arg(long)]
        version_id: Option<String>,
        /// Byte range A-B (inclusive), A- or -N.
        #[arg(long)]
        range: Option<String>,
    },
    /// Show an object's metadata.
    Head {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// A specific version.
        #[arg(long)]
        version_id: Option<String>,
    },
    /// Delete an object (a delete marker in a versioned bucket), or one version of it.
    Rm {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Remove exactly this version, for good.
        #[arg(long)]
        version_id: Option<String>,
    },
    /// Copy an object.
    Cp {
        /// Source bucket.
        src_bucket: String,
        /// Source key.
        src_key: String,
        /// Destination bucket.
        dst_bucket: String,
        /// Destination key.
        dst_key: String,
        /// Copy this version of the source.
        #[arg(long)]
        version_id: Option<String>,
    },
    /// List every version and delete marker in a bucket.
    Versions {
        /// Bucket.
        bucket: String,
        /// Only keys that begin with this.
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Turn a bucket's versioning on or off (off = Suspended).
    Versioning {
        /// Bucket.
        bucket: String,
        /// on or off.
        state: OnOff,
    },
    /// Upload a file in parts (multipart upload), each part --part-mib MiB.
    PutMultipart {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// File to upload.
        file: PathBuf,
        /// Part size in MiB (at least 5, except the last part).
        #[arg(long, default_value_t = 8)]
        part_mib: u64,
    },
    /// Verify every shard of every object; heal what parity can, report what it cannot.
    Scrub {
        /// Only report; rewrite nothing.
        #[arg(long)]
        no_heal: bool,
    },
}

/// `on` / `off`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Suspended.
    Off,
}

/// Exit with S3's error code in the message; callers map it to a non-zero status.
fn s3(e: ObjectError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Open (or create) the metadata engine and the store.
fn open_fs(io: BackendKind) -> anyhow::Result<FsHandle> {
    if io == BackendKind::Sim {
        bail!("--io sim keeps data in memory only; use std, uring or mmap for a store on disk");
    }
    Ok(seedbed_engine::io::open_backend(io)?)
}

/// Open an existing store.
pub fn open_store(fs: FsHandle, dir: &Path) -> anyhow::Result<ObjectStore> {
    let meta =
        seedbed_engine::object::lsm_meta::open(fs.clone(), &dir.join("meta")).map_err(|e| {
            anyhow::anyhow!(
                "opening the metadata engine in {}: {e}",
                dir.join("meta").display()
            )
        })?;
    ObjectStore::open(
        fs,
        dir,
        meta,
        Arc::new(RealClock::new()),
        DetRng::new(os_seed()),
        StoreOptions::default(),
    )
    .map_err(s3)
}

/// A seed for version ids on a real disk (the harness is not the simulator).
fn os_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

fn parse_meta(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("--meta '{s}' is not NAME=VALUE"))
        })
        .collect()
}

fn ms_to_iso(ms: u64) -> String {
    // Days since epoch → civil date (Howard Hinnant's algorithm), enough for display.
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn print_json(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}

/// Run one `seedbed object` command.
pub fn run(args: ObjectArgs) -> anyhow::Result<()> {
    let fs = open_fs(args.io)?;
    if let Verb::Init {
        k,
        m,
        shard_kib,
        disks,
    } = &args.verb
    {
        if args
            .store
            .join(seedbed_engine::object::store::LAYOUT_FILE)
            .exists()
        {
            bail!(
                "{} already holds a store (its layout is fixed at creation)",
                args.store.display()
            );
        }
        let meta = seedbed_engine::object::lsm_meta::open(fs.clone(), &args.store.join("meta"))
            .map_err(|e| anyhow::anyhow!("creating the metadata engine: {e}"))?;
        let store = ObjectStore::create(
            fs,
            &args.store,
            *k,
            *m,
            shard_kib * 1024,
            (!disks.is_empty()).then(|| disks.clone()),
            meta,
            Arc::new(RealClock::new()),
            DetRng::new(os_seed()),
            StoreOptions::default(),
        )
        .map_err(s3)?;
        let l = store.layout();
        println!(
            "created store {} with K={} data + M={} parity shards of up to {} KiB over:",
            args.store.display(),
            l.k,
            l.m,
            l.shard_len_max / 1024
        );
        for (i, d) in l.disks.iter().enumerate() {
            println!("  shard {i}: {}", d.display());
        }
        return Ok(());
    }
    let store = open_store(fs, &args.store)?;
    match args.verb {
        Verb::Init { .. } => unreachable!("handled above"),
        Verb::Mb { bucket } => {
            store.create_bucket(&bucket).map_err(s3)?;
            println!("make_bucket: {bucket}");
        }
        Verb::Rb { bucket } => {
            store.delete_bucket(&bucket).map_err(s3)?;
            println!("remove_bucket: {bucket}");
        }
        Verb::Ls { bucket: None, .. } => {
            let buckets = store.list_buckets().map_err(s3)?;
            if args.json {
                print_json(
                    serde_json::json!({"Buckets": buckets.iter().map(|b| serde_json::json!({
                    "Name": b.name, "CreationDate": ms_to_iso(b.created_ms),
                    "Versioning": format!("{:?}", b.versioning)})).collect::<Vec<_>>()}),
                );
            } else {
                for b in buckets {
                    println!("{}  {}", ms_to_iso(b.created_ms), b.name);
                }
            }
        }
        Verb::Ls {
            bucket: Some(bucket),
            prefix,
            delimiter,
            max_keys,
            continuation_token,
        } => {
            let page = store
                .list_objects(
                    &bucket,
                    &ListOptions {
                        prefix,
                        delimiter,
                        max_keys,
                        continuation_token,
                        ..ListOptions::default()
                    },
                )
                .map_err(s3)?;
            if args.json {
                print_json(serde_json::json!({
                    "Contents": page.entries.iter().map(|o| serde_json::json!({
                        "Key": o.key, "Size": o.size, "ETag": o.etag,
                        "LastModified": ms_to_iso(o.last_modified_ms)})).collect::<Vec<_>>(),
                    "CommonPrefixes": page.common_prefixes.iter().map(|p| serde_json::json!({"Prefix": p})).collect::<Vec<_>>(),
                    "IsTruncated": page.is_truncated,
                    "NextContinuationToken": page.next_token,
                }));
            } else {
                for p in &page.common_prefixes {
                    println!("{:>20}  {:>12}  {p}", "", "PRE");
                }
                for o in &page.entries {
                    println!(
                        "{}  {:>12}  {}",
                        ms_to_iso(o.last_modified_ms),
                        o.size,
                        o.key
                    );
                }
                if let Some(t) = page.next_token {
                    println!("(truncated; next page: --continuation-token {t})");
                }
            }
        }
        Verb::Put {
            bucket,
            key,
            file,
            content_type,
            meta,
            if_none_match,
            if_match,
        } => {
            let opts = PutOptions {
                content_type,
                user_meta: parse_meta(&meta)?,
                if_none_match_any: if_none_match,
                if_match,
                ..PutOptions::default()
            };
            let r = if file == "-" {
                let mut data = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut data)
                    .context("reading stdin")?;
                store
                    .put_object(
                        &bucket,
                        &key,
                        &mut data.as_slice(),
                        data.len() as u64,
                        &opts,
                    )
                    .map_err(s3)?
            } else {
                let mut f =
                    std::fs::File::open(&file).with_context(|| format!("opening {file}"))?;
                let size = f
                    .metadata()
                    .with_context(|| format!("reading {file}"))?
                    .len();
                store
                    .put_object(&bucket, &key, &mut f, size, &opts)
                    .map_err(s3)?
            };
            if args.json {
                print_json(
                    serde_json::json!({"ETag": r.etag, "ChecksumSHA256": r.sha256, "VersionId": r.version_id}),
                );
            } else {
                println!(
                    "upload: {file} to {bucket}/{key}  ETag {}  VersionId {}  SHA256 {}",
                    r.etag, r.version_id, r.sha256
                );
            }
        }
        Verb::Get {
            bucket,
            key,
            file,
            version_id,
            range,
        } => {
            let range = range
                .map(|r| r.parse::<ByteRange>())
                .transpose()
                .map_err(s3)?;
            let info = if file == "-" {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let info = store
                    .get_object(&bucket, &key, version_id.as_deref(), range, &mut out)
                    .map_err(s3)?;
                out.flush().context("writing stdout")?;
                info
            } else {
                // Write to a temporary name and rename, so a failed GET leaves no partial file.
                let tmp = PathBuf::from(format!("{file}.seedbed-partial"));
                let f = std::fs::File::create(&tmp).with_context(|| format!("creating {file}"))?;
                let mut out = std::io::BufWriter::new(f);
                let result =
                    store.get_object(&bucket, &key, version_id.as_deref(), range, &mut out);
                let info = match result {
                    Ok(i) => i,
                    Err(e) => {
                        drop(out);
                        let _ = std::fs::remove_file(&tmp);
                        return Err(s3(e));
                    }
                };
                out.flush().with_context(|| format!("writing {file}"))?;
                std::fs::rename(&tmp, &file).with_context(|| format!("writing {file}"))?;
                eprintln!(
                    "download: {bucket}/{key} to {file}  ({} bytes, ETag {})",
                    info.size, info.etag
                );
                info
            };
            let _ = info;
        }
        Verb::Head {
            bucket,
            key,
            version_id,
        } => {
            let i = store
                .head_object(&bucket, &key, version_id.as_deref())
                .map_err(s3)?;
            print_json(serde_json::json!({
                "ContentLength": i.size, "ETag": i.etag, "ChecksumSHA256": i.sha256,
                "VersionId": i.version_id, "ContentType": i.content_type,
                "Metadata": i.user_meta, "LastModified": ms_to_iso(i.last_modified_ms),
                "PartsCount": (i.parts > 0).then_some(i.parts),
            }));
        }
        Verb::Rm {
            bucket,
            key,
            version_id,
        } => {
            let r = store
                .delete_object(&bucket, &key, version_id.as_deref())
                .map_err(s3)?;
            if args.json {
                print_json(
                    serde_json::json!({"VersionId": r.version_id, "DeleteMarker": r.delete_marker}),
                );
            } else {
                println!(
                    "delete: {bucket}/{key}{}{}",
                    r.version_id
                        .map(|v| format!("  VersionId {v}"))
                        .unwrap_or_default(),
                    if r.delete_marker {
                        "  (delete marker)"
                    } else {
                        ""
                    }
                );
            }
        }
        Verb::Cp {
            src_bucket,
            src_key,
            dst_bucket,
            dst_key,
            version_id,
        } => {
            let r = store
                .copy_object(
                    &src_bucket,
                    &src_key,
                    version_id.as_deref(),
                    &dst_bucket,
                    &dst_key,
                    &PutOptions::default(),
                )
                .map_err(s3)?;
            println!(
                "copy: {src_bucket}/{src_key} to {dst_bucket}/{dst_key}  ETag {}  VersionId {}",
                r.etag, r.version_id
            );
        }
        Verb::Versions { bucket, prefix } => {
            let mut opts = ListOptions {
                prefix,
                ..ListOptions::default()
            };
            let mut all = Vec::new();
            // Bounded: each page is at most 1000 keys, and a store holds finitely many.
            loop {
                let page = store.list_versions(&bucket, &opts).map_err(s3)?;
                all.extend(page.entries);
                match page.next_token {
                    Some(t) if page.is_truncated => opts.continuation_token = Some(t),
                    _ => break,
                }
            }
            if args.json {
                print_json(
                    serde_json::json!({"Versions": all.iter().map(|v| serde_json::json!({
                    "Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
                    "DeleteMarker": v.delete_marker, "Size": v.size, "ETag": v.etag,
                    "LastModified": ms_to_iso(v.last_modified_ms)})).collect::<Vec<_>>()}),
                );
            } else {
                for v in all {
                    println!(
                        "{}  {:>12}  {:<36}  {}{}{}",
                        ms_to_iso(v.last_modified_ms),
                        v.size,
                        v.version_id,
                        v.key,
                        if v.is_latest { "  (latest)" } else { "" },
                        if v.delete_marker {
                            "  (delete marker)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        Verb::Versioning { bucket, state } => {
            let b = store
                .set_versioning(&bucket, matches!(state, OnOff::On))
                .map_err(s3)?;
            println!("{bucket}: versioning {:?}", b.versioning);
        }
        Verb::PutMultipart {
            bucket,
            key,
            file,
            part_mib,
        } => {
            let mut f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let size = f.metadata()?.len();
            let part = part_mib.max(1) * 1024 * 1024;
            let upload = store
                .create_multipart_upload(&bucket, &key, &PutOptions::default())
                .map_err(s3)?;
            let mut parts = Vec::new();
            let mut done = 0u64;
            let bar = progress(size.div_ceil(part).max(1), "upload");
            let mut n = 1u32;
            while done < size || n == 1 {
                let len = part.min(size - done);
                let mut chunk = (&mut f).take(len);
                match store.upload_part(&bucket, &upload, n, &mut chunk, len) {
                    Ok(etag) => parts.push((n, etag)),
                    Err(e) => {
                        let _ = store.abort_multipart_upload(&bucket, &upload);
                        return Err(s3(e));
                    }
                }
                done += len;
                n += 1;
                bar.inc(1);
                if size == 0 {
                    break;
                }
            }
            bar.finish_and_clear();
            let r = store
                .complete_multipart_upload(&bucket, &upload, &parts)
                .map_err(s3)?;
            println!(
                "upload: {} to {bucket}/{key} in {} parts  ETag {}  VersionId {}",
                file.display(),
                parts.len(),
                r.etag,
                r.version_id
            );
        }
        Verb::Scrub { no_heal } => {
            let total = store.total_bytes().map_err(s3)?;
            let bar = progress(total, "scrub");
            let report = store
                .scrub(!no_heal, &mut |_, bytes| bar.set_position(bytes))
                .map_err(s3)?;
            bar.finish_and_clear();
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "scrub: {} objects, {} blobs, {} bytes checked; {} bad blocks, {} shards healed, {} orphans removed, {} unrecoverable",
                    report.objects, report.blobs, report.bytes, report.bad_blocks,
                    report.files_healed, report.orphans_removed, report.failures.len()
                );
                for f in &report.failures {
                    println!(
                        "  UNRECOVERABLE {}/{} version {}: {}",
                        f.bucket, f.key, f.version_id, f.error
                    );
                }
            }
            if !report.failures.is_empty() {
                bail!(
                    "{} object(s) could not be reconstructed",
                    report.failures.len()
                );
            }
        }
    }
    Ok(())
}
