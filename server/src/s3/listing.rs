//! Listings: ListObjects (v1, with `marker`), ListObjectsV2 (continuation tokens, start-after,
//! fetch-owner), ListObjectVersions (key and version-id markers) and ListMultipartUploads, with
//! `encoding-type=url`.

use super::xml_count;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::{ListOptions, Owner};

use super::convert::{algorithm, etag, owner, ts};
use super::endpoint::{Cx, Endpoint};
use super::errors::invalid_argument;

/// URL-encode a key for `encoding-type=url`: every byte but unreserved characters and `/`
/// becomes `%XX`, which clients decode with `unquote_plus` (so `+` must be encoded too).
fn url_encode(s: &str) -> String {
    seedbed_sigv4::uri_encode(s, true)
}

/// Encodes names when the request asked for `encoding-type=url`.
#[derive(Clone, Copy)]
struct Enc(bool);

impl Enc {
    fn of(e: Option<&EncodingType>, cx: &Cx) -> S3Result<Enc> {
        match e.map(|e| e.as_str()) {
            None => Ok(Enc(false)),
            Some(v) if v.eq_ignore_ascii_case("url") => Ok(Enc(true)),
            Some(v) => Err(cx.err(invalid_argument(format!("encoding-type '{v}' is not url")))),
        }
    }

    fn s(self, v: &str) -> String {
        if self.0 {
            url_encode(v)
        } else {
            v.to_string()
        }
    }

    fn o(self, v: Option<&String>) -> Option<String> {
        v.map(|v| self.s(v))
    }

    fn echo(self) -> Option<EncodingType> {
        self.0.then(|| EncodingType::from("url".to_string()))
    }
}

fn max_keys(m: Option<i32>, cx: &Cx) -> S3Result<usize> {
    match m {
        None => Ok(1000),
        Some(n) if n < 0 => Err(cx.err(invalid_argument(format!(
            "max-keys {n} must not be negative"
        )))),
        Some(n) => Ok((n as usize).min(1000)),
    }
}

fn delimiter(d: Option<&String>) -> Option<String> {
    d.filter(|d| !d.is_empty()).cloned()
}

/// Whether a listing asks for `RestoreStatus` (`x-amz-optional-object-attributes`).
fn asks_restore_status(attrs: Option<&OptionalObjectAttributesList>) -> bool {
    attrs.is_some_and(|a| {
        a.iter()
            .any(|x| x.as_str() == OptionalObjectAttributes::RESTORE_STATUS)
    })
}

/// An entry's `RestoreStatus`, as S3 lists it: only for an archived object whose restore is
/// running or whose copy is readable.
fn restore_status(
    class: &Option<String>,
    restore: Option<&seedbed_engine::object::restore::Restore>,
    now_ms: u64,
) -> Option<RestoreStatus> {
    use seedbed_engine::object::restore::{state_of, RestoreState};
    match state_of(&class_of(class), restore, now_ms)? {
        RestoreState::Archived => None,
        RestoreState::InProgress => Some(RestoreStatus {
            is_restore_in_progress: Some(true),
            restore_expiry_date: None,
        }),
        RestoreState::Restored { expiry_ms } => Some(RestoreStatus {
            is_restore_in_progress: Some(false),
            restore_expiry_date: Some(ts(expiry_ms)),
        }),
    }
}

impl Endpoint {
    pub(super) async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let enc = Enc::of(input.encoding_type.as_ref(), &cx)?;
        let max = max_keys(input.max_keys, &cx)?;
        let opts = ListOptions {
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: delimiter(input.delimiter.as_ref()),
            max_keys: Some(max),
            start_after: input.marker.clone().filter(|m| !m.is_empty()),
            ..ListOptions::default()
        };
        let bucket = input.bucket.clone();
        let (page, bucket_owner) = cx
            .run(vec![], move |s| {
                let page = s.list_objects(&bucket, &opts)?;
                let b = s.store().bucket(&bucket)?;
                Ok((page, b.owner))
            })
            .await?;
        let fallback = self.owner_or_store(bucket_owner);
        let restore_asked = asks_restore_status(input.optional_object_attributes.as_ref());
        let now = cx.store.clock_ms();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            // ListObjects (v1) never encodes Prefix (clients do not decode it).
            prefix: Some(input.prefix.clone().unwrap_or_default()),
            marker: Some(enc.s(input.marker.as_deref().unwrap_or_default())),
            max_keys: Some(xml_count(max)),
            is_truncated: Some(page.is_truncated),
            next_marker: if page.is_truncated && input.delimiter.is_some() {
                enc.o(page.next_marker.as_ref())
            } else {
                None
            },
            delimiter: enc.o(delimiter(input.delimiter.as_ref()).as_ref()),
            encoding_type: enc.echo(),
            contents: Some(
                page.entries
                    .iter()
                    .map(|o| Object {
                        key: Some(enc.s(&o.key)),
                        size: Some(o.size as i64),
                        e_tag: Some(etag(&o.etag)),
                        last_modified: Some(ts(o.last_modified_ms)),
                        storage_class: Some(ObjectStorageClass::from(class_of(&o.storage_class))),
                        owner: Some(owner(o.owner.as_ref().unwrap_or(&fallback))),
                        checksum_algorithm: o.checksum_algorithm.map(|a| vec![algorithm(a)]),
                        restore_status: restore_asked
                            .then(|| restore_status(&o.storage_class, o.restore.as_ref(), now))
                            .flatten(),
                        ..Object::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(
                page.common_prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc.s(p)),
                    })
                    .collect(),
            ),
            request_charged: None,
        }))
    }

    pub(super) async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let cx = self.cx(&req);
        let input = req.input;
        let enc = Enc::of(input.encoding_type.as_ref(), &cx)?;
        let max = max_keys(input.max_keys, &cx)?;
        let opts = ListOptions {
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: delimiter(input.delimiter.as_ref()),
            max_keys: Some(max),
            // An empty token starts at the beginning (and is echoed back, as S3 does).
            continuation_token: input.continuation_token.clone().filter(|t| !t.is_empty()),
            start_after: input.start_after.clone().filter(|m| !m.is_empty()),
            ..ListOptions::default()
        };
        let bucket = input.bucket.clone();
        let (page, bucket_owner) = cx
            .run(vec![], move |s| {
                let page = s.list_objects(&bucket, &opts)?;
                let b = s.store().bucket(&bucket)?;
                Ok((page, b.owner))
            })
            .await?;
        let fallback = self.owner_or_store(bucket_owner);
        let fetch_owner = input.fetch_owner.unwrap_or(false);
        let restore_asked = asks_restore_status(input.optional_object_attributes.as_ref());
        let now = cx.store.clock_ms();
        let count = page.entries.len() + page.common_prefixes.len();
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc.s(input.prefix.as_deref().unwrap_or_default())),
            max_keys: Some(xml_count(max)),
            key_count: Some(xml_count(count)),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.is_truncated),
            next_continuation_token: page.next_token,
            delimiter: enc.o(delimiter(input.delimiter.as_ref()).as_ref()),
            encoding_type: enc.echo(),
            start_after: enc.o(input.start_after.as_ref()),
            contents: Some(
                page.entries
                    .iter()
                    .map(|o| Object {
                        key: Some(enc.s(&o.key)),
                        size: Some(o.size as i64),
                        e_tag: Some(etag(&o.etag)),
                        last_modified: Some(ts(o.last_modified_ms)),
                        storage_class: Some(ObjectStorageClass::from(class_of(&o.storage_class))),
                        owner: fetch_owner.then(|| owner(o.owner.as_ref().unwrap_or(&fallback))),
                        checksum_algorithm: o.checksum_algorithm.map(|a| vec![algorithm(a)]),
                        restore_status: restore_asked
                            .then(|| restore_status(&o.storage_class, o.restore.as_ref(), now))
                            .flatten(),
                        ..Object::default()
                    })
                    .collect(),
            ),
            common_prefixes: Some(
                page.common_prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc.s(p)),
                    })
                    .collect(),
            ),
            request_charged: None,
        }))
    }

    pub(super) async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let enc = Enc::of(input.encoding_type.as_ref(), &cx)?;
        let max = max_keys(input.max_keys, &cx)?;
        if input.version_id_marker.is_some() && input.key_marker.is_none() {
            return Err(cx.err(invalid_argument(
                "a version-id-marker cannot be given without a key-marker",
            )));
        }
        let opts = ListOptions {
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: delimiter(input.delimiter.as_ref()),
            max_keys: Some(max),
            start_after: input.key_marker.clone().filter(|m| !m.is_empty()),
            version_id_marker: input.version_id_marker.clone(),
            ..ListOptions::default()
        };
        let bucket = input.bucket.clone();
        let (page, bucket_owner) = cx
            .run(vec![], move |s| {
                let page = s.list_versions(&bucket, &opts)?;
                let b = s.store().bucket(&bucket)?;
                Ok((page, b.owner))
            })
            .await?;
        let fallback = self.owner_or_store(bucket_owner);
        let restore_asked = asks_restore_status(input.optional_object_attributes.as_ref());
        let now = cx.store.clock_ms();
        let mut versions = Vec::new();
        let mut markers = Vec::new();
        for v in &page.entries {
            let o = Some(owner(v.owner.as_ref().unwrap_or(&fallback)));
            if v.delete_marker {
                markers.push(DeleteMarkerEntry {
                    key: Some(enc.s(&v.key)),
                    version_id: Some(v.version_id.clone()),
                    is_latest: Some(v.is_latest),
                    last_modified: Some(ts(v.last_modified_ms)),
                    owner: o,
                });
            } else {
                versions.push(ObjectVersion {
                    key: Some(enc.s(&v.key)),
                    version_id: Some(v.version_id.clone()),
                    is_latest: Some(v.is_latest),
                    last_modified: Some(ts(v.last_modified_ms)),
                    e_tag: Some(etag(&v.etag)),
                    size: Some(v.size as i64),
                    storage_class: Some(ObjectVersionStorageClass::from(class_of(
                        &v.storage_class,
                    ))),
                    owner: o,
                    checksum_algorithm: v.checksum_algorithm.map(|a| vec![algorithm(a)]),
                    restore_status: restore_asked
                        .then(|| restore_status(&v.storage_class, v.restore.as_ref(), now))
                        .flatten(),
                    ..ObjectVersion::default()
                });
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(enc.s(input.prefix.as_deref().unwrap_or_default())),
            key_marker: Some(enc.s(input.key_marker.as_deref().unwrap_or_default())),
            version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
            max_keys: Some(xml_count(max)),
            is_truncated: Some(page.is_truncated),
            next_key_marker: if page.is_truncated {
                enc.o(page.next_marker.as_ref())
            } else {
                None
            },
            next_version_id_marker: if page.is_truncated {
                page.next_version_id_marker
            } else {
                None
            },
            delimiter: enc.o(delimiter(input.delimiter.as_ref()).as_ref()),
            encoding_type: enc.echo(),
            versions: Some(versions),
            delete_markers: Some(markers),
            common_prefixes: Some(
                page.common_prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc.s(p)),
                    })
                    .collect(),
            ),
            request_charged: None,
        }))
    }

    pub(super) async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let enc = Enc::of(input.encoding_type.as_ref(), &cx)?;
        let max = match input.max_uploads {
            Some(n) if n < 0 => {
                return Err(cx.err(invalid_argument("max-uploads must not be negative")))
            }
            Some(n) => (n as usize).min(1000),
            None => 1000,
        };
        let bucket = input.bucket.clone();
        let (mut uploads, bucket_owner) = cx
            .run(vec![], move |s| {
                let u = s.list_uploads(&bucket)?;
                let b = s.store().bucket(&bucket)?;
                Ok((u, b.owner))
            })
            .await?;
        let fallback = self.owner_or_store(bucket_owner);
        uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
        let prefix = input.prefix.clone().unwrap_or_default();
        let delim = delimiter(input.delimiter.as_ref());
        let key_marker = input.key_marker.clone().unwrap_or_default();
        let id_marker = input.upload_id_marker.clone();
        let mut out = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut truncated = false;
        let mut next: Option<(String, String)> = None;
        for u in uploads.iter().filter(|u| u.key.starts_with(&prefix)) {
            let after = match &id_marker {
                Some(id) if !key_marker.is_empty() => {
                    u.key > key_marker || (u.key == key_marker && u.upload_id > *id)
                }
                _ => key_marker.is_empty() || u.key > key_marker,
            };
            if !after {
                continue;
            }
            let cp = delim.as_ref().and_then(|d| {
                u.key[prefix.len()..]
                    .find(d.as_str())
                    .map(|p| u.key[..prefix.len() + p + d.len()].to_string())
            });
            if let Some(cp) = &cp {
                if prefixes.last() == Some(cp) {
                    continue;
                }
            }
            if out.len() + prefixes.len() == max {
                truncated = true;
                break;
            }
            match cp {
                Some(cp) => {
                    next = Some((cp.clone(), String::new()));
                    prefixes.push(cp);
                }
                None => {
                    next = Some((u.key.clone(), u.upload_id.clone()));
                    out.push(MultipartUpload {
                        key: Some(enc.s(&u.key)),
                        upload_id: Some(u.upload_id.clone()),
                        initiated: Some(ts(u.initiated_ms)),
                        owner: Some(owner(u.owner.as_ref().unwrap_or(&fallback))),
                        initiator: Some({
                            let i = u
                                .initiator
                                .as_ref()
                                .or(u.owner.as_ref())
                                .unwrap_or(&fallback);
                            Initiator {
                                display_name: Some(i.display_name.clone()),
                                id: Some(i.id.clone()),
                            }
                        }),
                        storage_class: Some(StorageClass::from(class_of(&u.system.storage_class))),
                        checksum_algorithm: u.checksum.map(|(a, _)| algorithm(a)),
                        checksum_type: u.checksum.map(|(_, k)| super::convert::checksum_type(k)),
                    });
                }
            }
        }
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: Some(enc.s(&prefix)),
            delimiter: enc.o(delimiter(input.delimiter.as_ref()).as_ref()),
            key_marker: Some(enc.s(&key_marker)),
            upload_id_marker: Some(id_marker.unwrap_or_default()),
            max_uploads: Some(xml_count(max)),
            is_truncated: Some(truncated),
            next_key_marker: truncated
                .then(|| next.as_ref().map(|n| enc.s(&n.0)))
                .flatten(),
            next_upload_id_marker: truncated
                .then(|| next.as_ref().map(|n| n.1.clone()))
                .flatten(),
            encoding_type: enc.echo(),
            uploads: Some(out),
            common_prefixes: Some(
                prefixes
                    .iter()
                    .map(|p| CommonPrefix {
                        prefix: Some(enc.s(p)),
                    })
                    .collect(),
            ),
            request_charged: None,
        }))
    }

    /// An owner recorded with a bucket, or the store's owner account.
    pub(super) fn owner_or_store(&self, o: Option<Owner>) -> Owner {
        o.unwrap_or_else(|| {
            let g = self.identity.guard();
            g.owner(&g.owner_account)
        })
    }
}

/// A listing's `<StorageClass>`: the label written with the object (STANDARD when none was).
pub(super) fn class_of(label: &Option<String>) -> String {
    label.as_deref().unwrap_or("STANDARD").to_string()
}
