//! Objects: `put`, `get`, `head`, `rm`, `cp`, `put-multipart`.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use seedbed_engine::object::sse::{CustomerKey, Encryption, SseRequest};
use seedbed_engine::object::{
    ByteRange, GetOptions, ObjectError, ObjectInfo, ObjectStore, PutOptions,
};

use super::format::{ms_to_iso, parse_meta, print_json};
use super::s3;
use crate::output::progress;

/// Arguments of `put`.
#[derive(Debug, Args)]
pub struct PutArgs {
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
    /// A tag, repeatable: --tag name=value (S3's rules: at most 10, no `aws:` names).
    #[arg(long = "tag", value_name = "NAME=VALUE")]
    tag: Vec<String>,
    /// Encrypt with SSE-S3: a data key sealed under the store's master key (sse-s3.key).
    #[arg(long, conflicts_with = "sse_c_key_file")]
    sse_s3: bool,
    /// Encrypt with SSE-C: the 32-byte key in FILE (e.g. `head -c 32 /dev/urandom > k`);
    /// the store keeps only its MD5, and every read needs the file again.
    #[arg(long, value_name = "FILE")]
    sse_c_key_file: Option<PathBuf>,
    /// Storage class (a label here: every class is kept alike, but GLACIER and DEEP_ARCHIVE
    /// objects need `restore` before `get`, as on S3).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(
        seedbed_engine::object::transition::STORAGE_CLASSES))]
    storage_class: Option<String>,
}

/// The SSE-C key in `file` (32 raw bytes).
fn customer_key(file: Option<&PathBuf>) -> anyhow::Result<Option<CustomerKey>> {
    file.map(|f| {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        CustomerKey::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {}", f.display(), e))
    })
    .transpose()
}

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
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
    /// The SSE-C key the object was written with (32 bytes in FILE).
    #[arg(long, value_name = "FILE")]
    sse_c_key_file: Option<PathBuf>,
}

/// Arguments of `head`.
#[derive(Debug, Args)]
pub struct HeadArgs {
    /// Bucket.
    bucket: String,
    /// Key.
    key: String,
    /// A specific version.
    #[arg(long)]
    version_id: Option<String>,
}

/// Arguments of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Bucket.
    bucket: String,
    /// Key.
    key: String,
    /// How many days the restored copy stays readable once the restore completes.
    #[arg(long)]
    days: u32,
    /// Retrieval tier: Expedited (GLACIER only), Standard or Bulk.
    #[arg(long, default_value = "Standard")]
    tier: String,
    /// A specific version.
    #[arg(long)]
    version_id: Option<String>,
    /// Complete the restore this many seconds after it is asked (0: at once) instead of S3's
    /// time for the class and tier (hours).
    #[arg(long, value_name = "SECS")]
    restore_secs: Option<u64>,
}

/// Arguments of `rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Bucket.
    bucket: String,
    /// Key.
    key: String,
    /// Remove exactly this version, for good.
    #[arg(long)]
    version_id: Option<String>,
}

/// Arguments of `cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
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
}

/// Arguments of `put-multipart`.
#[derive(Debug, Args)]
pub struct PutMultipartArgs {
    /// Bucket.
    bucket: String,
    /// Key.
    key: String,
    /// File to upload.
    file: PathBuf,
    /// Part size in MiB (at least 5, except the last part).
    #[arg(long, default_value_t = 8)]
    part_mib: u64,
}

/// `put`: upload a file or stdin.
pub fn put(store: &ObjectStore, json: bool, a: PutArgs) -> anyhow::Result<()> {
    let opts = PutOptions {
        content_type: a.content_type,
        user_meta: parse_meta(&a.meta)?,
        if_none_match_any: a.if_none_match,
        if_match: a.if_match,
        tags: a
            .tag
            .iter()
            .map(|t| {
                t.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--tag '{t}' is not NAME=VALUE"))
            })
            .collect::<anyhow::Result<_>>()?,
        sse: match customer_key(a.sse_c_key_file.as_ref())? {
            Some(k) => Some(SseRequest::Customer(k)),
            None => a.sse_s3.then_some(SseRequest::S3),
        },
        system: seedbed_engine::object::SystemMeta {
            storage_class: a.storage_class.filter(|c| c != "STANDARD"),
            ..Default::default()
        },
        ..PutOptions::default()
    };
    let (bucket, key, file) = (&a.bucket, &a.key, &a.file);
    let r = if file == "-" {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .context("reading stdin")?;
        let size = data.len() as u64;
        store
            .put_object(bucket, key, &mut data.as_slice(), size, &opts)
            .map_err(s3)?
    } else {
        let mut f = std::fs::File::open(file).with_context(|| format!("opening {file}"))?;
        let size = f
            .metadata()
            .with_context(|| format!("reading {file}"))?
            .len();
        store
            .put_object(bucket, key, &mut f, size, &opts)
            .map_err(s3)?
    };
    if json {
        print_json(
            serde_json::json!({"ETag": r.etag, "ChecksumSHA256": r.sha256, "VersionId": r.version_id}),
        );
    } else {
        println!(
            "upload: {file} to {bucket}/{key}  ETag {}  VersionId {}  SHA256 {}",
            r.etag, r.version_id, r.sha256
        );
    }
    Ok(())
}

/// `get`: download to stdout, or to a file by way of a temporary name (a failed GET leaves no
/// partial file).
pub fn get(store: &ObjectStore, a: GetArgs) -> anyhow::Result<()> {
    let range = a
        .range
        .map(|r| r.parse::<ByteRange>())
        .transpose()
        .map_err(s3)?;
    let (bucket, key) = (&a.bucket, &a.key);
    let read = GetOptions {
        version_id: a.version_id.clone(),
        range,
        sse_customer: customer_key(a.sse_c_key_file.as_ref())?,
        ..GetOptions::default()
    };
    let get = |out: &mut dyn Write| -> Result<ObjectInfo, ObjectError> {
        let r = store.open_object(bucket, key, &read)?;
        r.read_to(out)?;
        Ok(r.info().clone())
    };
    if a.file == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        get(&mut out).map_err(s3)?;
        out.flush().context("writing stdout")?;
        return Ok(());
    }
    let file = &a.file;
    let tmp = PathBuf::from(format!("{file}.seedbed-partial"));
    let f = std::fs::File::create(&tmp).with_context(|| format!("creating {file}"))?;
    let mut out = std::io::BufWriter::new(f);
    let info = match get(&mut out) {
        Ok(i) => i,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&tmp);
            return Err(s3(e));
        }
    };
    out.flush().with_context(|| format!("writing {file}"))?;
    std::fs::rename(&tmp, file).with_context(|| format!("writing {file}"))?;
    eprintln!(
        "download: {bucket}/{key} to {file}  ({} bytes, ETag {})",
        info.size, info.etag
    );
    Ok(())
}

/// `head`: an object's metadata, as JSON.
pub fn head(store: &ObjectStore, a: HeadArgs) -> anyhow::Result<()> {
    let i = store
        .head_object(&a.bucket, &a.key, a.version_id.as_deref())
        .map_err(s3)?;
    print_json(serde_json::json!({
        "ContentLength": i.size, "ETag": i.etag, "ChecksumSHA256": i.sha256,
        "VersionId": i.version_id, "ContentType": i.content_type,
        "Metadata": i.user_meta, "LastModified": ms_to_iso(i.last_modified_ms),
        "PartsCount": (i.parts > 0).then_some(i.parts),
        "TagSet": (!i.tags.is_empty()).then(|| i.tags.iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v})).collect::<Vec<_>>()),
        "ObjectLockMode": i.retention.map(|r| r.mode.name()),
        "ObjectLockRetainUntilDate": i.retention.map(|r| ms_to_iso(r.until_ms)),
        "ObjectLockLegalHoldStatus": i.legal_hold.then_some("ON"),
        "StorageClass": i.system.storage_class,
        "Restore": seedbed_engine::object::restore::header(
            i.system.storage_class.as_deref(), i.restore.as_ref(), store.clock_ms(), ms_to_iso),
        "ServerSideEncryption": matches!(i.encryption, Some(Encryption::S3)).then_some("AES256"),
        "SSECustomerKeyMD5": match &i.encryption {
            Some(Encryption::Customer { key_md5 }) => Some(key_md5),
            _ => None,
        },
    }));
    Ok(())
}

/// `restore`: S3's RestoreObject.
pub fn restore(store: &ObjectStore, a: RestoreArgs) -> anyhow::Result<()> {
    use seedbed_engine::object::restore::{RestoreOutcome, RestoreTiming, Tier};
    let tier = Tier::parse(Some(&a.tier)).map_err(s3)?;
    let timing = RestoreTiming {
        fixed_ms: a.restore_secs.map(|s| s.saturating_mul(1000)),
        ..RestoreTiming::default()
    };
    let (id, outcome) = store
        .restore_object(
            &a.bucket,
            &a.key,
            a.version_id.as_deref(),
            a.days,
            tier,
            timing,
        )
        .map_err(s3)?;
    let r = store
        .head_object(&a.bucket, &a.key, Some(&id))
        .map_err(s3)?
        .restore
        .ok_or_else(|| anyhow::anyhow!("the restore was not recorded"))?;
    println!(
        "restore: {}/{}  {}: readable from {} until {}",
        a.bucket,
        a.key,
        match outcome {
            RestoreOutcome::Started => "started",
            RestoreOutcome::Extended => "extended",
        },
        ms_to_iso(r.ready_ms),
        ms_to_iso(r.expiry_ms)
    );
    Ok(())
}

/// `rm`: delete an object, or one version of it.
pub fn rm(store: &ObjectStore, json: bool, a: RmArgs) -> anyhow::Result<()> {
    let r = store
        .delete_object(&a.bucket, &a.key, a.version_id.as_deref())
        .map_err(s3)?;
    if json {
        print_json(serde_json::json!({"VersionId": r.version_id, "DeleteMarker": r.delete_marker}));
        return Ok(());
    }
    println!(
        "delete: {}/{}{}{}",
        a.bucket,
        a.key,
        r.version_id
            .map(|v| format!("  VersionId {v}"))
            .unwrap_or_default(),
        if r.delete_marker {
            "  (delete marker)"
        } else {
            ""
        }
    );
    Ok(())
}

/// `cp`: copy an object (or one version of it).
pub fn cp(store: &ObjectStore, a: CpArgs) -> anyhow::Result<()> {
    let r = store
        .copy_object(
            &a.src_bucket,
            &a.src_key,
            a.version_id.as_deref(),
            &a.dst_bucket,
            &a.dst_key,
            &PutOptions::default(),
        )
        .map_err(s3)?;
    println!(
        "copy: {}/{} to {}/{}  ETag {}  VersionId {}",
        a.src_bucket, a.src_key, a.dst_bucket, a.dst_key, r.etag, r.version_id
    );
    Ok(())
}

/// `put-multipart`: upload a file part by part, then complete (or abort on a failed part).
pub fn put_multipart(store: &ObjectStore, a: PutMultipartArgs) -> anyhow::Result<()> {
    let (bucket, key) = (&a.bucket, &a.key);
    let mut f =
        std::fs::File::open(&a.file).with_context(|| format!("opening {}", a.file.display()))?;
    let size = f.metadata()?.len();
    let part = a.part_mib.max(1) * 1024 * 1024;
    let upload = store
        .create_multipart_upload(bucket, key, &PutOptions::default())
        .map_err(s3)?;
    let mut parts = Vec::new();
    let mut done = 0u64;
    let bar = progress(size.div_ceil(part).max(1), "upload");
    let mut n = 1u32;
    // Bounded: `done` grows by a whole part each round until it reaches `size`.
    while done < size || n == 1 {
        let len = part.min(size - done);
        let mut chunk = (&mut f).take(len);
        match store.upload_part(bucket, &upload, n, &mut chunk, len) {
            Ok(etag) => parts.push((n, etag)),
            Err(e) => {
                let _ = store.abort_multipart_upload(bucket, &upload);
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
        .complete_multipart_upload(bucket, &upload, &parts)
        .map_err(s3)?;
    println!(
        "upload: {} to {bucket}/{key} in {} parts  ETag {}  VersionId {}",
        a.file.display(),
        parts.len(),
        r.etag,
        r.version_id
    );
    Ok(())
}
