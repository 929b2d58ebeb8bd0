//! LIST: objects (S3 ListObjectsV2) and versions (ListObjectVersions), in key order, with
//! prefix, delimiter (common prefixes), max-keys and continuation.
//!
//! Both walk the `O` entries of the bucket in key order — the metadata layout puts every version
//! of a key together, newest first — in bounded chunks. A common prefix is reported once and the
//! walk then jumps past every key under it, so a "directory" of a million keys costs one seek.

use super::checksum::ChecksumAlgorithm;
use super::error::ObjectError;
use super::meta::{self, VersionMeta};
use super::owner::Owner;
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
    /// Start after this key (ListObjectsV2 `start-after`, ListObjects `marker`,
    /// ListObjectVersions `key-marker`).
    pub start_after: Option<String>,
    /// ListObjectVersions `version-id-marker`: with `start_after` as the key marker, resume
    /// after this version of that key.
    pub version_id_marker: Option<String>,
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
    /// Its owner (`None`: written before owners were recorded).
    pub owner: Option<Owner>,
    /// The algorithm of its additional checksum, if it has one.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Its storage class label (`None`: STANDARD; see [`super::meta::SystemMeta`]).
    pub storage_class: Option<String>,
    /// The restore asked of it, for an archived version (`RestoreStatus` in a listing).
    pub restore: Option<super::restore::Restore>,
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
    /// Its owner (`None`: written before owners were recorded).
    pub owner: Option<Owner>,
    /// The algorithm of its additional checksum, if it has one.
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    /// Its storage class label (`None`: STANDARD; see [`super::meta::SystemMeta`]).
    pub storage_class: Option<String>,
    /// The restore asked of it, for an archived version (`RestoreStatus` in a listing).
    pub restore: Option<super::restore::Restore>,
}

/// A page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage<T> {
    /// Entries, in key order.
    pub entries: Vec<T>,
    /// Common prefixes (with a delimiter), in order.
    pub common_prefixes: Vec<String>,
    /// More entries follow.
    pub is_truncated: bool,
    /// Pass as `continuation_token` for the next page.
    pub next_token: Option<String>,
    /// The last key or common prefix of the page, when truncated (ListObjects `NextMarker`,
    /// ListObjectVersions `NextKeyMarker`).
    pub next_marker: Option<String>,
    /// ListObjectVersions `NextVersionIdMarker`, when truncated inside a key's versions.
    pub next_version_id_marker: Option<String>,
}

impl<T> Default for ListPage<T> {
    fn default() -> Self {
        ListPage {
            entries: Vec::new(),
            common_prefixes: Vec::new(),
            is_truncated: false,
            next_token: None,
            next_marker: None,
            next_version_id_marker: None,
        }
    }
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
    if !t.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

impl ObjectStore {
    /// ListObjectsV2: the current version of each key (keys whose latest version is a delete
    /// marker are left out).
    pub fn list_objects(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<ObjectSummary>, ObjectError> {
        self.walk_keys(
            bucket,
            opts,
            |versions| !versions[0].delete_marker,
            |versions, out: &mut Vec<ObjectSummary>| {
                let latest = &versions[0];
                out.push(ObjectSummary {
                    key: latest.key.clone(),
                    size: latest.size,
                    etag: latest.etag.clone(),
                    last_modified_ms: latest.last_modified_ms,
                    owner: latest.owner.clone(),
                    checksum_algorithm: latest.checksum.as_ref().map(|c| c.algorithm),
                    storage_class: latest.system.storage_class.clone(),
                    restore: latest.restore,
                });
            },
        )
    }

    /// ListObjectVersions: every version and delete marker, keys in order, newest first within
    /// a key. `max_keys` bounds the versions (and common prefixes) per page, as in S3; a page
    /// may end inside a key's versions, and `next_version_id_marker` resumes there.
    pub fn list_versions(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<VersionSummary>, ObjectError> {
        self.bucket(bucket)?;
        let max = opts
            .max_keys
            .unwrap_or(MAX_KEYS_DEFAULT)
            .min(MAX_KEYS_DEFAULT);
        let mut page = ListPage::default();
        if max == 0 {
            return Ok(page);
        }
        let delimiter = opts.delimiter.as_deref().filter(|d| !d.is_empty());
        let end = meta::object_prefix_end(bucket, &opts.prefix);
        let mut next = meta::object_prefix(bucket, &opts.prefix);
        // Resume: inside a key's versions (after one of them), or after a key or prefix.
        let mut skip_through: Option<(String, String)> = None;
        if let Some(after) = opts.start_after.as_deref().filter(|a| !a.is_empty()) {
            match opts.version_id_marker.as_deref().filter(|v| !v.is_empty()) {
                Some(v) => {
                    next = next.max(meta::key_versions_start(bucket, after));
                    skip_through = Some((after.to_string(), v.to_string()));
                }
                None => {
                    let is_prefix = delimiter.is_some_and(|d| after.ends_with(d));
                    next = next.max(if is_prefix {
                        meta::object_prefix_end(bucket, after)
                    } else {
                        meta::key_versions_end(bucket, after)
                    });
                }
            }
        }
        let mut count = 0usize;
        let mut current_key: Option<String> = None;
        'scan: loop {
            let rows = self.meta_scan(&next, &end, SCAN_CHUNK)?;
            let exhausted = rows.len() < SCAN_CHUNK;
            for (k, v) in rows {
                let vm: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::from)?;
                next = k;
                next.push(0);
                if let Some((key, vid)) = &skip_through {
                    if vm.key == *key {
                        if vm.version_id == *vid {
                            skip_through = None;
                        }
                        // Versions up to and including the marker were on earlier pages;
                        // the next one is not the latest.
                        current_key = Some(vm.key.clone());
                        continue;
                    }
                    skip_through = None;
                }
                let is_latest = current_key.as_deref() != Some(vm.key.as_str());
                current_key = Some(vm.key.clone());
                let rest = &vm.key[opts.prefix.len()..];
                if let Some(pos) = delimiter.and_then(|d| rest.find(d).map(|p| p + d.len())) {
                    let cp = format!("{}{}", opts.prefix, &rest[..pos]);
                    if count == max {
                        page.is_truncated = true;
                        return Ok(page);
                    }
                    count += 1;
                    page.common_prefixes.push(cp.clone());
                    page.next_marker = Some(cp.clone());
                    page.next_version_id_marker = None;
                    next = meta::object_prefix_end(bucket, &cp);
                    current_key = None;
                    continue 'scan;
                }
                if count == max {
                    page.is_truncated = true;
                    return Ok(page);
                }
                count += 1;
                page.next_marker = Some(vm.key.clone());
                page.next_version_id_marker = Some(vm.version_id.clone());
                page.entries.push(VersionSummary {
                    key: vm.key.clone(),
                    version_id: vm.version_id.clone(),
                    is_latest,
                    delete_marker: vm.delete_marker,
                    size: vm.size,
                    etag: vm.etag.clone(),
                    last_modified_ms: vm.last_modified_ms,
                    owner: vm.owner.clone(),
                    checksum_algorithm: vm.checksum.as_ref().map(|c| c.algorithm),
                    storage_class: vm.system.storage_class.clone(),
                    restore: vm.restore,
                });
            }
            if exhausted {
                break;
            }
        }
        page.next_marker = None;
        page.next_version_id_marker = None;
        Ok(page)
    }

    /// Walk keys under the prefix, group by delimiter, and let `emit` turn each key's versions
    /// (newest first) into entries. `live` says whether a key exists for this listing (for
    /// ListObjectsV2: its latest version is not a delete marker); a common prefix is reported
    /// only when some live key is under it.
    fn walk_keys<T>(
        &self,
        bucket: &str,
        opts: &ListOptions,
        live: impl Fn(&[VersionMeta]) -> bool,
        mut emit: impl FnMut(&[VersionMeta], &mut Vec<T>),
    ) -> Result<ListPage<T>, ObjectError> {
        self.bucket(bucket)?;
        let max_keys = opts
            .max_keys
            .unwrap_or(MAX_KEYS_DEFAULT)
            .min(MAX_KEYS_DEFAULT);
        let mut page = ListPage::default();
        if max_keys == 0 {
            return Ok(page);
        }
        let delimiter = opts.delimiter.as_deref().filter(|d| !d.is_empty());
        let end = meta::object_prefix_end(bucket, &opts.prefix);
        let mut next = meta::object_prefix(bucket, &opts.prefix);
        // Resume after the token (a key or a common prefix) or the start-after key.
        let resume = match &opts.continuation_token {
            Some(t) => Some(decode_token(t)?),
            None => opts.start_after.clone(),
        };
        if let Some(after) = resume {
            let is_prefix = delimiter.is_some_and(|d| after.ends_with(d));
            let past = if is_prefix {
                meta::object_prefix_end(bucket, &after)
            } else {
                meta::key_versions_end(bucket, &after)
            };
            next = next.max(past);
        }
        let mut walk = Walk {
            page: &mut page,
            count: 0,
            max_keys,
            last: None,
        };
        let mut group: Vec<VersionMeta> = Vec::new();
        // Each pass reads one bounded chunk; a common prefix restarts the scan past itself.
        'scan: loop {
            let rows = self.meta_scan(&next, &end, SCAN_CHUNK)?;
            let exhausted = rows.len() < SCAN_CHUNK;
            for (k, v) in rows {
                let vm: VersionMeta = meta::from_json(&k, &v).map_err(ObjectError::from)?;
                if group.first().is_some_and(|g| g.key != vm.key) {
                    match walk.finish(bucket, &opts.prefix, delimiter, &group, &live, &mut emit) {
                        Step::Full => {
                            walk.mark_truncated();
                            return Ok(page);
                        }
                        Step::Next => group.clear(),
                        Step::Jump(to) => {
                            group.clear();
                            next = to;
                            continue 'scan;
                        }
                    }
                }
                next = k;
                next.push(0); // the smallest encoded key after this one
                group.push(vm);
            }
            if exhausted {
                break;
            }
        }
        if !group.is_empty()
            && matches!(
                walk.finish(bucket, &opts.prefix, delimiter, &group, &live, &mut emit),
                Step::Full
            )
        {
            walk.mark_truncated();
        }
        Ok(page)
    }
}

/// What to do after a key's versions are complete.
enum Step {
    /// Go on with the next key.
    Next,
    /// A common prefix was reported: continue the scan from this encoded key.
    Jump(Vec<u8>),
    /// The page is full and more follows.
    Full,
}

/// The page being filled.
struct Walk<'a, T> {
    page: &'a mut ListPage<T>,
    count: usize,
    max_keys: usize,
    last: Option<String>,
}

impl<T> Walk<'_, T> {
    fn finish(
        &mut self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        group: &[VersionMeta],
        live: &impl Fn(&[VersionMeta]) -> bool,
        emit: &mut impl FnMut(&[VersionMeta], &mut Vec<T>),
    ) -> Step {
        if !live(group) {
            return Step::Next;
        }
        if self.count == self.max_keys {
            return Step::Full;
        }
        self.count += 1;
        let key = &group[0].key;
        let rest = &key[prefix.len()..];
        if let Some(pos) = delimiter.and_then(|d| rest.find(d).map(|p| p + d.len())) {
            let cp = format!("{prefix}{}", &rest[..pos]);
            self.page.common_prefixes.push(cp.clone());
            let jump = meta::object_prefix_end(bucket, &cp);
            self.last = Some(cp);
            return Step::Jump(jump);
        }
        emit(group, &mut self.page.entries);
        self.last = Some(key.clone());
        Step::Next
    }

    fn mark_truncated(&mut self) {
        self.page.is_truncated = true;
        self.page.next_token = self.last.as_deref().map(encode_token);
        self.page.next_marker = self.last.clone();
    }
}
