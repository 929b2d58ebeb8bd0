//! LIST: objects (S3 ListObjectsV2) and versions (ListObjectVersions), in key order, with
//! prefix, delimiter (common prefixes), max-keys and continuation.
//!
//! Both walk the `O` entries of the bucket in key order — the metadata layout puts every version
//! of a key together, newest first — in bounded chunks. A common prefix is reported once and the
//! walk then jumps past every key under it, so a "directory" of a million keys costs one seek.

use super::error::ObjectError;
use super::meta::{self, VersionMeta};
use super::store::ObjectStore;

/// Options of a listing.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// Only keys that begin with this.
    pub prefix: String,
    /// Group keys that contain this after the prefix into common prefixes.
    pub delimiter: Option<String>,
    /// At most this many keys + common prefixes (S3's default and maximum: 1000).
    pub max_keys: Option<usize>,
    /// Resume after this point (from a previous result's `next_token`).
    pub continuation_token: Option<String>,
    /// Start after this key (ListObjectsV2 `start-after`).
    pub start_after: Option<String>,
}

/// One key in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Key.
    pub key: String,
    /// Size of the current version.
    pub size: u64,
    /// ETag of the current version.
    pub etag: String,
    /// Last-Modified, Unix milliseconds.
    pub last_modified_ms: u64,
}

/// One version (or delete marker) in a versions listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionSummary {
    /// Key.
    pub key: String,
    /// Version id.
    pub version_id: String,
    /// True for the newest version of its key.
    pub is_latest: bool,
    /// True for a delete marker.
    pub delete_marker: bool,
    /// Size (0 for a marker).
    pub size: u64,
    /// ETag (empty for a marker).
    pub etag: String,
    /// Last-Modified, Unix milliseconds.
    pub last_modified_ms: u64,
}

/// A page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage<T> {
    /// Entries, in key order.
    pub entries: Vec<T>,
    /// Common prefixes (with a delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// Pass as `continuation_token` for the next page.
    pub next_token: Option<String>,
}

/// The default and largest page, as in S3.
pub const MAX_KEYS_DEFAULT: usize = 1000;
const SCAN_CHUNK: usize = 256;

/// Continuation tokens are the hex of the last key (or prefix) returned: opaque to callers,
/// exact for us.
fn encode_token(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(t: &str) -> Result<String, ObjectError> {
    let bad = || ObjectError::InvalidArgument(format!("continuation token '{t}' is not valid"));
    if t.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Where a walk stands: the next encoded key to read from.
struct Walk {
    next: Vec<u8>,
    end: Vec<u8>,
}

impl ObjectStore {
    /// ListObjectsV2: the current version of each key (keys whose latest version is a delete
    /// marker are left out).
    pub fn list_objects(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<ObjectSummary>, ObjectError> {
        self.walk_keys(bucket, opts, |versions, out: &mut Vec<ObjectSummary>| {
            let latest = &versions[0];
            if !latest.delete_marker {
                out.push(ObjectSummary {
                    key: latest.key.clone(),
                    size: latest.size,
                    etag: latest.etag.clone(),
                    last_modified_ms: latest.last_modified_ms,
                });
                true
            } else {
                false
            }
        })
    }

    /// ListObjectVersions: every version and delete marker, keys in order, newest first within
    /// a key. `max_keys` bounds the number of keys (with all their versions) per page.
    pub fn list_versions(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<VersionSummary>, ObjectError> {
        self.walk_keys(bucket, opts, |versions, out: &mut Vec<VersionSummary>| {
            for (i, v) in versions.iter().enumerate() {
                out.push(VersionSummary {
                    key: v.key.clone(),
                    version_id: v.version_id.clone(),
                    is_latest: i == 0,
                    delete_marker: v.delete_marker,
                    size: v.size,
                    etag: v.etag.clone(),
                    last_modified_ms: v.last_modified_ms,
                });
            }
            true
        })
    }

    /// Walk keys under the prefix, group by delimiter, and let `emit` turn each key's versions
    /// (newest first) into entries; `emit` returns whether the key counted toward max-keys.
    fn walk_keys<T>(
        &self,
        bucket: &str,
        opts: &ListOptions,
        mut emit: impl FnMut(&[VersionMeta], &mut Vec<T>) -> bool,
    ) -> Result<ListPage<T>, ObjectError> {
        self.bucket(bucket)?;
        let max_keys = opts.max_keys.unwrap_or(MAX_KEYS_DEFAULT).min(MAX_KEYS_DEFAULT);
        let mut page = ListPage {
            entries: Vec::new(),
            common_prefixes: Vec::new(),
            is_truncated: false,
            next_token: None,
        };
        if max_keys == 0 {
            return Ok(page);
        }
        let mut walk = Walk {
            next: meta::object_prefix(bucket, &opts.prefix),
            end: meta::object_prefix_end(bucket, &opts.prefix),
        };
        // Resume after the token (a key or a common prefix) or start-after key.
        let resume = match &opts.continuation_token {
            Some(t) => Some(decode_token(t)?),
            None => opts.start_after.clone(),
        };
        if let Some(after) = resume {
            let past = if opts
                .delimiter
                .as_deref()
                .is_some_and(|d| !d.is_empty() && after.ends_with(d) && after.starts_with(&opts.prefix))
            {
                meta::object_prefix_end(bucket, &after)
            } else {
                meta::key_versions_end(bucket, &after)
            };
            if past > walk.next {
                walk.next = past;
            }
        }
        let mut count = 0usize;
        let mut last_returned: Option<String> = None;
        let mut pending: Vec<VersionMeta> = Vec::new();
        loop {
            let rows = self.meta_scan(&walk.next, &walk.end, SCAN_CHUNK)?;
            let exhausted = rows.len() < SCAN_CHUNK;
            let mut jumped = false;
            for (k, v) in rows {
                let vm: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::Internal)?;
                if let Some(first) = pending.first() {
                    if first.key != vm.key {
                        // A key's versions are complete: emit them.
                        if count == max_keys {
                            page.is_truncated = true;
                            page.next_token = last_returned.as_deref().map(encode_token);
                            return Ok(page);
                        }
                        let key = first.key.clone();
                        if emit(&pending, &mut page.entries) {
                            count += 1;
                            last_returned = Some(key);
                        }
                        pending.clear();
                    }
                }
                // Common prefix?
                if let Some(d) = opts.delimiter.as_deref().filter(|d| !d.is_empty()) {
                    let rest = &vm.key[opts.prefix.len()..];
                    if let Some(pos) = rest.find(d) {
                        let cp = format!("{}{}", opts.prefix, &rest[..pos + d.len()]);
                        if count == max_keys {
                            page.is_truncated = true;
                            page.next_token = last_returned.as_deref().map(encode_token);
                            return Ok(page);
                        }
                        walk.next = meta::object_prefix_end(bucket, &cp);
                        page.common_prefixes.push(cp.clone());
                        count += 1;
                        last_returned = Some(cp);
                        jumped = true;
                        break;
                    }
                }
                walk.next = k;
                walk.next.push(0); // the smallest key after this one
                pending.push(vm);
            }
            if !jumped && exhausted {
                break;
            }
        }
        if !pending.is_empty() {
            if count == max_keys {
                page.is_truncated = true;
                page.next_token = last_returned.as_deref().map(encode_token);
                return Ok(page);
            }
            emit(&pending, &mut page.entries);
        }
        Ok(page)
    }
}
