//! Listings: `ls` (buckets, or a bucket's objects) and `versions`.

use clap::Args;
use seedbed_engine::object::{ListOptions, ObjectStore};

use super::format::{ms_to_iso, print_json};
use super::s3;

/// Arguments of `ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
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
}

/// Arguments of `versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    /// Bucket.
    bucket: String,
    /// Only keys that begin with this.
    #[arg(long, default_value = "")]
    prefix: String,
}

/// `ls`: the buckets, or one page of a bucket's objects.
pub fn ls(store: &ObjectStore, json: bool, a: LsArgs) -> anyhow::Result<()> {
    let Some(bucket) = a.bucket else {
        return ls_buckets(store, json);
    };
    let opts = ListOptions {
        prefix: a.prefix,
        delimiter: a.delimiter,
        max_keys: a.max_keys,
        continuation_token: a.continuation_token,
        ..ListOptions::default()
    };
    let page = store.list_objects(&bucket, &opts).map_err(s3)?;
    if json {
        print_json(serde_json::json!({
            "Contents": page.entries.iter().map(|o| serde_json::json!({
                "Key": o.key, "Size": o.size, "ETag": o.etag,
                "LastModified": ms_to_iso(o.last_modified_ms)})).collect::<Vec<_>>(),
            "CommonPrefixes": page.common_prefixes.iter()
                .map(|p| serde_json::json!({"Prefix": p})).collect::<Vec<_>>(),
            "IsTruncated": page.is_truncated,
            "NextContinuationToken": page.next_token,
        }));
        return Ok(());
    }
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
    Ok(())
}

/// `ls` without a bucket: every bucket.
fn ls_buckets(store: &ObjectStore, json: bool) -> anyhow::Result<()> {
    let buckets = store.list_buckets().map_err(s3)?;
    if json {
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
    Ok(())
}

/// `versions`: every version and delete marker under a prefix, all pages.
pub fn versions(store: &ObjectStore, json: bool, a: VersionsArgs) -> anyhow::Result<()> {
    let mut opts = ListOptions {
        prefix: a.prefix,
        ..ListOptions::default()
    };
    let mut all = Vec::new();
    // Bounded: each page is at most 1000 keys, and a store holds finitely many.
    loop {
        let page = store.list_versions(&a.bucket, &opts).map_err(s3)?;
        all.extend(page.entries);
        match page.next_token {
            Some(t) if page.is_truncated => opts.continuation_token = Some(t),
            _ => break,
        }
    }
    if json {
        print_json(
            serde_json::json!({"Versions": all.iter().map(|v| serde_json::json!({
            "Key": v.key, "VersionId": v.version_id, "IsLatest": v.is_latest,
            "DeleteMarker": v.delete_marker, "Size": v.size, "ETag": v.etag,
            "LastModified": ms_to_iso(v.last_modified_ms)})).collect::<Vec<_>>()}),
        );
        return Ok(());
    }
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
    Ok(())
}
