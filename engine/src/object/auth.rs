//! Authorization of object store requests with Seedbed's IAM engine: who calls, with S3's action
//! names and condition keys, against the caller's identity policies and the bucket's policy.
//!
//! ```text
//! store.as_caller(&caller).get_object("photos", "cat.jpg", None, None, &mut out)
//!   1. authorize s3:GetObject on arn:aws:s3:::photos/cat.jpg
//!        identity policies (user, groups or role session), boundary, session policies, SCPs
//!        + the bucket policy as the resource-based policy
//!   2. Allow → run the operation; ExplicitDeny / ImplicitDeny → AccessDenied, no data touched
//! ```
//!
//! | operation | action | resource |
//! |---|---|---|
//! | ListBuckets | `s3:ListAllMyBuckets` | `*` |
//! | CreateBucket / DeleteBucket | `s3:CreateBucket` / `s3:DeleteBucket` | bucket |
//! | ListObjectsV2 | `s3:ListBucket` (+ `s3:prefix`, `s3:delimiter`, `s3:max-keys`) | bucket |
//! | ListObjectVersions | `s3:ListBucketVersions` (same keys) | bucket |
//! | PutBucketVersioning | `s3:PutBucketVersioning` | bucket |
//! | Put/Get/DeleteBucketPolicy | `s3:PutBucketPolicy` / `s3:GetBucketPolicy` / `s3:DeleteBucketPolicy` | bucket |
//! | PUT, multipart create/part/complete | `s3:PutObject` | object |
//! | GET, HEAD | `s3:GetObject`, or `s3:GetObjectVersion` with a version id | object |
//! | DELETE | `s3:DeleteObject`, or `s3:DeleteObjectVersion` with a version id | object |
//! | COPY | `s3:GetObject` on the source and `s3:PutObject` on the destination | both |
//! | AbortMultipartUpload / ListParts | `s3:AbortMultipartUpload` / `s3:ListMultipartUploadParts` | object |
//!
//! The bucket owner's account is the store's `owner_account`: S3 ARNs carry no account, and the
//! IAM engine needs it to tell same-account from cross-account requests.

use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use super::error::ObjectError;
use super::list::{ListOptions, ListPage, ObjectSummary, VersionSummary};
use super::meta::{self, BucketMeta};
use super::objects::{ByteRange, DeleteResult, ObjectInfo, PutOptions, PutResult};
use super::store::ObjectStore;
pub use crate::iam::authorizer::Requester;
use crate::iam::authorizer::{Access, Authorizer};
use crate::iam::{Policy, PolicyKind};

/// The IAM side of a store: identities, and the account that owns the buckets.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Users, groups, roles, SCPs. Shared so that policy changes apply to the next request.
    pub authorizer: Arc<RwLock<Authorizer>>,
    /// The 12-digit account that owns this store's buckets.
    pub owner_account: String,
}

fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

impl ObjectStore {
    /// Switch on authorization: every call through [`ObjectStore::as_caller`] is checked.
    pub fn set_guard(&mut self, guard: Guard) {
        self.guard = Some(guard);
    }

    /// The operations of this store as `caller` sees them: each is authorized first.
    pub fn as_caller<'a>(&'a self, caller: Requester<'a>) -> AuthorizedStore<'a> {
        AuthorizedStore {
            store: self,
            caller,
        }
    }

    /// Attach a bucket policy (JSON); it is checked as a resource-based policy first.
    pub fn put_bucket_policy(&self, bucket: &str, policy_json: &str) -> Result<(), ObjectError> {
        Policy::parse(policy_json, PolicyKind::Resource)
            .map_err(|e| ObjectError::InvalidArgument(format!("MalformedPolicy: {e}")))?;
        self.update_bucket(bucket, |b| b.policy = Some(policy_json.to_string()))
    }

    /// Remove a bucket's policy.
    pub fn delete_bucket_policy(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| b.policy = None)
    }

    /// A bucket's policy, if it has one.
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        Ok(self.bucket(bucket)?.policy)
    }

    fn update_bucket(
        &self,
        bucket: &str,
        change: impl FnOnce(&mut BucketMeta),
    ) -> Result<(), ObjectError> {
        let _g = self.lock_commit();
        let mut b = self.bucket(bucket)?;
        change(&mut b);
        self.meta_commit(vec![(meta::bucket_key(bucket), Some(meta::to_json(&b)))])
    }
}

/// An [`ObjectStore`] seen by one caller; see the module docs for the action of each method.
#[derive(Debug)]
pub struct AuthorizedStore<'a> {
    store: &'a ObjectStore,
    caller: Requester<'a>,
}

impl AuthorizedStore<'_> {
    /// Decide `action` on `resource`; the bucket's policy (if any) is the resource-based policy.
    fn check(
        &self,
        action: &str,
        bucket: Option<&str>,
        resource: &str,
        extra: &[(&str, &[&str])],
    ) -> Result<(), ObjectError> {
        let Some(guard) = &self.store.guard else {
            return Err(ObjectError::AccessDenied(
                "this store has no authorizer configured (set_guard); refusing to run unchecked"
                    .into(),
            ));
        };
        let policies = match bucket {
            // A missing bucket has no policy; the operation itself reports NoSuchBucket once
            // the caller is allowed to ask.
            Some(b) => match self.store.bucket(b) {
                Ok(meta) => match meta.policy {
                    Some(text) => vec![Arc::new(
                        Policy::parse(&text, PolicyKind::Resource).map_err(|e| {
                            ObjectError::Internal(format!(
                                "bucket {b}: stored policy unreadable: {e}"
                            ))
                        })?,
                    )],
                    None => Vec::new(),
                },
                Err(ObjectError::NoSuchBucket(_)) => Vec::new(),
                Err(e) => return Err(e),
            },
            None => Vec::new(),
        };
        let mut context: Vec<(&str, &[&str])> = self.caller.context.to_vec();
        context.extend_from_slice(extra);
        let access = Access {
            action,
            resource,
            resource_account: Some(&guard.owner_account),
            resource_policies: &policies,
            context: &context,
            now_unix_ms: self.store.now_ms(),
        };
        let auth = guard.authorizer.read().unwrap_or_else(|p| p.into_inner());
        auth.check(self.caller.principal, &access)
            .map_err(ObjectError::AccessDenied)
    }

    /// ListBuckets.
    pub fn list_buckets(&self) -> Result<Vec<BucketMeta>, ObjectError> {
        self.check("s3:ListAllMyBuckets", None, "*", &[])?;
        self.store.list_buckets()
    }

    /// CreateBucket.
    pub fn create_bucket(&self, bucket: &str) -> Result<BucketMeta, ObjectError> {
        self.check("s3:CreateBucket", None, &bucket_arn(bucket), &[])?;
        self.store.create_bucket(bucket)
    }

    /// DeleteBucket.
    pub fn delete_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check("s3:DeleteBucket", Some(bucket), &bucket_arn(bucket), &[])?;
        self.store.delete_bucket(bucket)
    }

    /// PutBucketVersioning.
    pub fn set_versioning(&self, bucket: &str, enabled: bool) -> Result<BucketMeta, ObjectError> {
        self.check(
            "s3:PutBucketVersioning",
            Some(bucket),
            &bucket_arn(bucket),
            &[],
        )?;
        self.store.set_versioning(bucket, enabled)
    }

    /// PutBucketPolicy.
    pub fn put_bucket_policy(&self, bucket: &str, policy_json: &str) -> Result<(), ObjectError> {
        self.check("s3:PutBucketPolicy", Some(bucket), &bucket_arn(bucket), &[])?;
        self.store.put_bucket_policy(bucket, policy_json)
    }

    /// GetBucketPolicy.
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        self.check("s3:GetBucketPolicy", Some(bucket), &bucket_arn(bucket), &[])?;
        self.store.bucket_policy(bucket)
    }

    /// DeleteBucketPolicy.
    pub fn delete_bucket_policy(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check(
            "s3:DeleteBucketPolicy",
            Some(bucket),
            &bucket_arn(bucket),
            &[],
        )?;
        self.store.delete_bucket_policy(bucket)
    }

    fn list_context(opts: &ListOptions) -> (String, String, String) {
        (
            opts.prefix.clone(),
            opts.delimiter.clone().unwrap_or_default(),
            opts.max_keys
                .unwrap_or(super::list::MAX_KEYS_DEFAULT)
                .to_string(),
        )
    }

    /// ListObjectsV2, with `s3:prefix`, `s3:delimiter` and `s3:max-keys` in the context.
    pub fn list_objects(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<ObjectSummary>, ObjectError> {
        let (p, d, m) = Self::list_context(opts);
        let (ps, ds, ms) = ([p.as_str()], [d.as_str()], [m.as_str()]);
        let mut keys: Vec<(&str, &[&str])> = vec![("s3:prefix", &ps)];
        if opts.delimiter.is_some() {
            keys.push(("s3:delimiter", &ds));
        }
        keys.push(("s3:max-keys", &ms));
        self.check("s3:ListBucket", Some(bucket), &bucket_arn(bucket), &keys)?;
        self.store.list_objects(bucket, opts)
    }

    /// ListObjectVersions.
    pub fn list_versions(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<VersionSummary>, ObjectError> {
        let (p, _, m) = Self::list_context(opts);
        let (ps, ms) = ([p.as_str()], [m.as_str()]);
        let keys: [(&str, &[&str]); 2] = [("s3:prefix", &ps), ("s3:max-keys", &ms)];
        self.check(
            "s3:ListBucketVersions",
            Some(bucket),
            &bucket_arn(bucket),
            &keys,
        )?;
        self.store.list_versions(bucket, opts)
    }

    /// PUT.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        src: &mut dyn Read,
        size: u64,
        opts: &PutOptions,
    ) -> Result<PutResult, ObjectError> {
        self.check("s3:PutObject", Some(bucket), &object_arn(bucket, key), &[])?;
        self.store.put_object(bucket, key, src, size, opts)
    }

    fn get_action(version_id: Option<&str>) -> &'static str {
        if version_id.is_some() {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        }
    }

    /// GET.
    pub fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<ByteRange>,
        out: &mut dyn Write,
    ) -> Result<ObjectInfo, ObjectError> {
        self.check(
            Self::get_action(version_id),
            Some(bucket),
            &object_arn(bucket, key),
            &[],
        )?;
        self.store.get_object(bucket, key, version_id, range, out)
    }

    /// HEAD (S3 authorizes it as GetObject).
    pub fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectInfo, ObjectError> {
        self.check(
            Self::get_action(version_id),
            Some(bucket),
            &object_arn(bucket, key),
            &[],
        )?;
        self.store.head_object(bucket, key, version_id)
    }

    /// DELETE.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<DeleteResult, ObjectError> {
        let action = if version_id.is_some() {
            "s3:DeleteObjectVersion"
        } else {
            "s3:DeleteObject"
        };
        self.check(action, Some(bucket), &object_arn(bucket, key), &[])?;
        self.store.delete_object(bucket, key, version_id)
    }

    /// COPY: read permission on the source, write permission on the destination.
    pub fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        src_version: Option<&str>,
        dst_bucket: &str,
        dst_key: &str,
        opts: &PutOptions,
    ) -> Result<PutResult, ObjectError> {
        self.check(
            Self::get_action(src_version),
            Some(src_bucket),
            &object_arn(src_bucket, src_key),
            &[],
        )?;
        self.check(
            "s3:PutObject",
            Some(dst_bucket),
            &object_arn(dst_bucket, dst_key),
            &[],
        )?;
        self.store
            .copy_object(src_bucket, src_key, src_version, dst_bucket, dst_key, opts)
    }

    /// CreateMultipartUpload.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &PutOptions,
    ) -> Result<String, ObjectError> {
        self.check("s3:PutObject", Some(bucket), &object_arn(bucket, key), &[])?;
        self.store.create_multipart_upload(bucket, key, opts)
    }

    /// The object ARN an upload writes to; NoSuchUpload answers only callers allowed to ask
    /// about the bucket at all.
    fn upload_arn(&self, bucket: &str, upload_id: &str) -> Result<String, ObjectError> {
        match self.store.upload(bucket, upload_id) {
            Ok(u) => Ok(object_arn(bucket, &u.key)),
            Err(ObjectError::NoSuchUpload(_)) => Ok(object_arn(bucket, "*")),
            Err(e) => Err(e),
        }
    }

    /// UploadPart.
    pub fn upload_part(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src: &mut dyn Read,
        size: u64,
    ) -> Result<String, ObjectError> {
        self.check(
            "s3:PutObject",
            Some(bucket),
            &self.upload_arn(bucket, upload_id)?,
            &[],
        )?;
        self.store
            .upload_part(bucket, upload_id, part_number, src, size)
    }

    /// CompleteMultipartUpload.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<PutResult, ObjectError> {
        self.check(
            "s3:PutObject",
            Some(bucket),
            &self.upload_arn(bucket, upload_id)?,
            &[],
        )?;
        self.store
            .complete_multipart_upload(bucket, upload_id, parts)
    }

    /// AbortMultipartUpload.
    pub fn abort_multipart_upload(&self, bucket: &str, upload_id: &str) -> Result<(), ObjectError> {
        let arn = self.upload_arn(bucket, upload_id)?;
        self.check("s3:AbortMultipartUpload", Some(bucket), &arn, &[])?;
        self.store.abort_multipart_upload(bucket, upload_id)
    }

    /// ListParts.
    pub fn list_parts(
        &self,
        bucket: &str,
        upload_id: &str,
    ) -> Result<Vec<meta::PartMeta>, ObjectError> {
        let arn = self.upload_arn(bucket, upload_id)?;
        self.check("s3:ListMultipartUploadParts", Some(bucket), &arn, &[])?;
        self.store.list_parts(bucket, upload_id)
    }
}
