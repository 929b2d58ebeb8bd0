//! Authorization of object store requests with Seedbed's IAM engine: who calls, with S3's action
//! names and condition keys, against the caller's identity policies, the bucket's policy and the
//! ACLs.
//!
//! IAM sits *above* the store: an [`AuthorizedStore`] is the pair (store, [`Guard`]) seen by one
//! caller, and the store itself knows nothing of callers. Every operation is decided first and
//! run only on Allow:
//!
//! ```text
//! AuthorizedStore::new(&store, &guard, caller).get_object("photos", "cat.jpg", None, None, &mut out)
//!   1. authorize s3:GetObject on arn:aws:s3:::photos/cat.jpg
//!        identity policies (user, groups or role session), boundary, session policies, SCPs
//!        + resource-based: the bucket policy, the bucket's ACL, the object's ACL (as policies,
//!          see [`super::acl`])
//!   2. Allow → run the operation; ExplicitDeny / ImplicitDeny → AccessDenied, no data touched
//! ```
//!
//! | operation | action | resource |
//! |---|---|---|
//! | ListBuckets | `s3:ListAllMyBuckets` (lists the caller's account's buckets) | `*` |
//! | CreateBucket / DeleteBucket | `s3:CreateBucket` / `s3:DeleteBucket` | bucket |
//! | ListObjects(V2) | `s3:ListBucket` (+ `s3:prefix`, `s3:delimiter`, `s3:max-keys`) | bucket |
//! | ListObjectVersions | `s3:ListBucketVersions` (same keys) | bucket |
//! | ListMultipartUploads | `s3:ListBucketMultipartUploads` | bucket |
//! | Put/GetBucketVersioning | `s3:PutBucketVersioning` / `s3:GetBucketVersioning` | bucket |
//! | Put/Get/DeleteBucketPolicy | `s3:PutBucketPolicy` / `s3:GetBucketPolicy` / `s3:DeleteBucketPolicy` | bucket |
//! | Put/GetBucketAcl | `s3:PutBucketAcl` / `s3:GetBucketAcl` | bucket |
//! | Put/GetBucketLogging | `s3:PutBucketLogging` / `s3:GetBucketLogging` | bucket |
//! | GetBucketNotificationConfiguration (server; always empty) | `s3:GetBucketNotification` | bucket |
//! | SelectObjectContent (server) | `s3:GetObject`, as GET | object |
//! | Put/Get/DeleteBucketCors | `s3:PutBucketCORS` / `s3:GetBucketCORS` / `s3:PutBucketCORS` (a preflight needs none) | bucket |
//! | Put/Get/DeleteBucketLifecycle(Configuration) | `s3:PutLifecycleConfiguration` / `s3:GetLifecycleConfiguration` / `s3:PutLifecycleConfiguration` | bucket |
//! | Put/Get/DeleteBucketTagging | `s3:PutBucketTagging` / `s3:GetBucketTagging` / `s3:PutBucketTagging` | bucket |
//! | Put/Get/DeleteBucketOwnershipControls | `s3:PutBucketOwnershipControls` / `s3:GetBucketOwnershipControls` | bucket |
//! | Put/Get/DeletePublicAccessBlock | `s3:PutBucketPublicAccessBlock` / `s3:GetBucketPublicAccessBlock` | bucket |
//! | PUT, multipart create/part/complete | `s3:PutObject` (+ `s3:x-amz-acl`, `s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`); with tags also `s3:PutObjectTagging` | object |
//! | GET, HEAD | `s3:GetObject`, or `s3:GetObjectVersion` with a version id | object |
//! | GET/HEAD of a missing key | `s3:ListBucket` decides 404 (allowed) or 403 | bucket |
//! | DELETE | `s3:DeleteObject`, or `s3:DeleteObjectVersion` with a version id | object |
//! | COPY, UploadPartCopy | `s3:GetObject(Version)` on the source, `s3:PutObject` on the destination | both |
//! | Put/GetObjectAcl | `s3:PutObjectAcl` / `s3:GetObjectAcl` (`...VersionAcl` with a version id) | object |
//! | Put/Get/DeleteObjectTagging | `s3:PutObjectTagging` / `s3:GetObjectTagging` / `s3:DeleteObjectTagging` (`...VersionTagging` with a version id) | object |
//! | Put/GetObjectLockConfiguration | `s3:PutBucketObjectLockConfiguration` / `s3:GetBucketObjectLockConfiguration` | bucket |
//! | Put/GetObjectRetention, Put/GetObjectLegalHold | `s3:PutObjectRetention` / `s3:GetObjectRetention`, `s3:PutObjectLegalHold` / `s3:GetObjectLegalHold` (a write with them needs them too) | object |
//! | bypassing GOVERNANCE retention (DELETE, PutObjectRetention) | `s3:BypassGovernanceRetention` besides the operation's own | object |
//! | RestoreObject | `s3:RestoreObject` | object |
//! | AbortMultipartUpload / ListParts | `s3:AbortMultipartUpload` / `s3:ListMultipartUploadParts` | object |
//!
//! Every check on an existing object (GET, HEAD, its ACL, its tags, a copy's source) has the
//! object's tags as `s3:ExistingObjectTag/<key>`.
//!
//! A bucket belongs to the account that created it; its owner account is the resource account
//! IAM uses to tell same-account from cross-account requests. Buckets created before owners were
//! recorded belong to the guard's `owner_account`.

use std::io::{Read, Write};
use std::sync::{Arc, RwLock};

use super::acl::{Acl, AclTarget};
use super::bucket_config::{policy_is_public, ObjectOwnership, PublicAccessBlock};
use super::conditions::Conditions;
use super::error::ObjectError;
use super::list::{ListOptions, ListPage, ObjectSummary, VersionSummary};
use super::meta::{BucketMeta, PartMeta, UploadMeta};
use super::multipart::{CompleteOptions, CompletePart, PartOptions, PartResult};
use super::objects::{
    ByteRange, CopyOptions, CopyResult, DeleteResult, ObjectInfo, PutOptions, PutResult,
};
use super::owner::{Accounts, Owner};
use super::read::{GetOptions, ObjectReader};
use super::store::{NewBucket, ObjectStore};
pub use crate::iam::authorizer::Requester;
use crate::iam::authorizer::{Access, Authorizer, Principal};
use crate::iam::{Decision, Policy, PolicyKind};

/// The IAM side of a store: identities, and the accounts that own buckets and objects.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Users, groups, roles, SCPs. Shared so that policy changes apply to the next request.
    pub authorizer: Arc<RwLock<Authorizer>>,
    /// Canonical IDs and display names of accounts.
    pub accounts: Arc<RwLock<Accounts>>,
    /// The account that owns buckets created before owners were recorded.
    pub owner_account: String,
}

impl Guard {
    /// A guard with no registered accounts (every account gets a derived canonical ID).
    pub fn new(authorizer: Authorizer, owner_account: &str) -> Self {
        Guard {
            authorizer: Arc::new(RwLock::new(authorizer)),
            accounts: Arc::new(RwLock::new(Accounts::new())),
            owner_account: owner_account.to_string(),
        }
    }

    /// The account a principal belongs to (`None` for anonymous callers and services).
    pub fn account_of(principal: &Principal) -> Option<String> {
        let arn = match principal {
            Principal::Anonymous | Principal::Service(_) => return None,
            Principal::Root(account) => return Some(account.clone()),
            Principal::User(arn) => arn.as_str(),
            Principal::Session(s) => s.arn.as_str(),
        };
        arn.split(':').nth(4).map(String::from)
    }

    /// The owner identity of an account.
    pub fn owner(&self, account: &str) -> Owner {
        self.accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .owner(account)
    }

    /// The owner of a bucket (its recorded one, or the store's owner account).
    pub fn bucket_owner(&self, b: &BucketMeta) -> Owner {
        b.owner
            .clone()
            .unwrap_or_else(|| self.owner(&self.owner_account))
    }

    /// The operations of `store` as `caller` sees them.
    pub fn on<'a>(&'a self, store: &'a ObjectStore, caller: Requester<'a>) -> AuthorizedStore<'a> {
        AuthorizedStore {
            store,
            guard: self,
            caller,
        }
    }
}

fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

pub(super) fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// Condition keys of one check: `(key, values)`.
type Keys<'k> = [(&'k str, &'k [&'k str])];

/// The policy without its public Allow statements (RestrictPublicBuckets, for callers outside
/// the bucket owner's account).
fn without_public_statements(policy_json: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(policy_json) else {
        return policy_json.to_string();
    };
    let statements = match doc["Statement"].take() {
        serde_json::Value::Array(v) => v,
        s => vec![s],
    };
    let kept: Vec<serde_json::Value> = statements
        .into_iter()
        .filter(|st| {
            let one = serde_json::json!({ "Version": "2012-10-17", "Statement": [st] });
            !policy_is_public(&one.to_string())
        })
        .collect();
    doc["Statement"] = serde_json::Value::Array(kept);
    doc.to_string()
}

/// An [`ObjectStore`] seen by one caller; see the module docs for the action of each method.
#[derive(Debug)]
pub struct AuthorizedStore<'a> {
    store: &'a ObjectStore,
    guard: &'a Guard,
    caller: Requester<'a>,
}

/// The tags a request sets, as IAM's condition keys: `s3:RequestObjectTag/<key>` (its value)
/// and `s3:RequestObjectTagKeys` (every key). None when the request sets none.
pub(super) struct RequestTags<'x> {
    each: Vec<(String, [&'x str; 1])>,
    keys: Vec<&'x str>,
}

impl<'x> RequestTags<'x> {
    pub(super) fn of(tags: &'x [(String, String)]) -> Self {
        RequestTags {
            each: tags
                .iter()
                .map(|(k, v)| (format!("s3:RequestObjectTag/{k}"), [v.as_str()]))
                .collect(),
            keys: tags.iter().map(|(k, _)| k.as_str()).collect(),
        }
    }

    pub(super) fn keys(&self) -> Vec<(&str, &[&str])> {
        let mut keys: Vec<(&str, &[&str])> = self
            .each
            .iter()
            .map(|(k, v)| (k.as_str(), &v[..]))
            .collect();
        if !self.keys.is_empty() {
            keys.push(("s3:RequestObjectTagKeys", &self.keys));
        }
        keys
    }
}

/// What an object-level check knows of the object: its ACL (an extra resource policy), its
/// owner, and its tags (the `s3:ExistingObjectTag/<key>` condition keys). An object another
/// account wrote into the bucket (object ownership ObjectWriter) is that account's: reading it
/// or its ACL is decided in its owner's account, so the bucket owner needs a grant too, as on
/// S3.
pub(super) struct ObjectCtx<'x> {
    pub(super) key: &'x str,
    pub(super) acl: Option<&'x Acl>,
    pub(super) owner: Option<&'x Owner>,
    pub(super) tags: &'x [(String, String)],
}

impl<'x> ObjectCtx<'x> {
    /// What a check knows of version `info` of `key`.
    pub(super) fn of(key: &'x str, info: &'x ObjectInfo) -> Self {
        ObjectCtx {
            key,
            acl: info.acl.as_ref(),
            owner: info.owner.as_ref(),
            tags: &info.tags,
        }
    }
}

impl<'a> AuthorizedStore<'a> {
    /// `store` as `caller` sees it, decided by `guard`.
    pub fn new(store: &'a ObjectStore, guard: &'a Guard, caller: Requester<'a>) -> Self {
        guard.on(store, caller)
    }

    /// The store underneath (for reads that need no decision, such as following a reader).
    pub fn store(&self) -> &'a ObjectStore {
        self.store
    }

    /// The caller's account, as the owner it would be of what it creates.
    pub fn caller_owner(&self) -> Option<Owner> {
        Guard::account_of(self.caller.principal).map(|a| self.guard.owner(&a))
    }

    /// A bucket's record, for checks. A bucket that does not exist is NoSuchBucket for every
    /// caller, as on S3 (bucket names are global and public).
    pub(super) fn bucket_meta(&self, bucket: &str) -> Result<Option<BucketMeta>, ObjectError> {
        self.store.bucket(bucket).map(Some)
    }

    /// The resource-based policies of a bucket for this caller: the bucket policy (less its
    /// public statements when RestrictPublicBuckets applies) and the bucket's ACL.
    fn bucket_policies(&self, b: &BucketMeta) -> Result<Vec<Arc<Policy>>, ObjectError> {
        let block = b.public_access_block.unwrap_or_default();
        let owner_account = self.guard.bucket_owner(b).account;
        let same_account =
            Guard::account_of(self.caller.principal).as_deref() == Some(owner_account.as_str());
        let mut texts = Vec::new();
        if let Some(text) = &b.policy {
            if block.restrict_public_buckets && !same_account && policy_is_public(text) {
                texts.push(without_public_statements(text));
            } else {
                texts.push(text.clone());
            }
        }
        if b.ownership != Some(ObjectOwnership::BucketOwnerEnforced) {
            if let Some(acl) = &b.acl {
                texts
                    .extend(acl.policy_json(AclTarget::Bucket(&b.name), !block.ignore_public_acls));
            }
        }
        texts
            .iter()
            .map(|t| {
                Policy::parse(t, PolicyKind::Resource)
                    .map(Arc::new)
                    .map_err(|source| ObjectError::StoredPolicy {
                        what: format!("bucket {}: stored policy or ACL unreadable", b.name),
                        source,
                    })
            })
            .collect()
    }

    /// Decide `action` on `resource`. Resource-based policies: the bucket's (policy, ACL); if
    /// those leave it an implicit deny and the object has an ACL, the object's ACL too (an
    /// ACL only ever allows, so it cannot undo a deny).
    pub(super) fn check(
        &self,
        action: &str,
        bucket: Option<&BucketMeta>,
        resource: &str,
        extra: &Keys<'_>,
        object: Option<ObjectCtx<'_>>,
    ) -> Result<(), ObjectError> {
        let mut policies = match bucket {
            Some(b) => self.bucket_policies(b)?,
            None => Vec::new(),
        };
        let resource_account = match bucket {
            Some(b) => {
                let bucket_account = self.guard.bucket_owner(b).account;
                // An object another account owns is decided in that account (see ObjectCtx),
                // while ACLs count (BucketOwnerEnforced gives the bucket owner everything).
                let acls_on = b.ownership != Some(ObjectOwnership::BucketOwnerEnforced);
                match object.as_ref().and_then(|o| o.owner) {
                    Some(o) if acls_on && o.account != bucket_account => o.account.clone(),
                    _ => bucket_account,
                }
            }
            None => Guard::account_of(self.caller.principal)
                .unwrap_or_else(|| self.guard.owner_account.clone()),
        };
        // The object's tags as `s3:ExistingObjectTag/<key>`, one value each.
        let existing: Vec<(String, [&str; 1])> = object
            .as_ref()
            .map(|o| {
                o.tags
                    .iter()
                    .map(|(k, v)| (format!("s3:ExistingObjectTag/{k}"), [v.as_str()]))
                    .collect()
            })
            .unwrap_or_default();
        let mut context: Vec<(&str, &[&str])> = self.caller.context.to_vec();
        context.extend_from_slice(extra);
        context.extend(existing.iter().map(|(k, v)| (k.as_str(), &v[..])));
        let auth = self
            .guard
            .authorizer
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let now_unix_ms = self.store.now_ms();
        fn access<'x>(
            action: &'x str,
            resource: &'x str,
            resource_account: &'x str,
            policies: &'x [Arc<Policy>],
            context: &'x [(&'x str, &'x [&'x str])],
            now_unix_ms: u64,
        ) -> Access<'x> {
            Access {
                action,
                resource,
                resource_account: Some(resource_account),
                resource_policies: policies,
                context,
                now_unix_ms,
            }
        }
        let decide = |policies: &[Arc<Policy>]| {
            let a = access(
                action,
                resource,
                &resource_account,
                policies,
                &context,
                now_unix_ms,
            );
            auth.authorize(self.caller.principal, &a)
                .map(|(d, _)| d)
                .map_err(|e| ObjectError::AccessDenied(format!("{action} on {resource}: {e}")))
        };
        let mut decision = decide(&policies)?;
        if decision == Decision::ImplicitDeny {
            let block = bucket
                .and_then(|b| b.public_access_block)
                .unwrap_or_default();
            let acls_on =
                bucket.is_none_or(|b| b.ownership != Some(ObjectOwnership::BucketOwnerEnforced));
            if let (Some(o), Some(acl), true) =
                (&object, object.as_ref().and_then(|o| o.acl), acls_on)
            {
                let target = AclTarget::Object {
                    bucket: bucket.map(|b| b.name.as_str()).unwrap_or_default(),
                    key: o.key,
                };
                if let Some(text) = acl.policy_json(target, !block.ignore_public_acls) {
                    let p = Policy::parse(&text, PolicyKind::Resource).map_err(|source| {
                        ObjectError::StoredPolicy {
                            what: "object ACL unreadable".into(),
                            source,
                        }
                    })?;
                    policies.push(Arc::new(p));
                    decision = decide(&policies)?;
                }
            }
        }
        if decision == Decision::Allow {
            // Allowed, and the disks have room for it (`space.rs`: deletes only near full).
            return self.store.check_room_for(action);
        }
        // The explanation of the denial, in IAM's words.
        Err(ObjectError::AccessDenied(
            auth.check(
                self.caller.principal,
                &access(
                    action,
                    resource,
                    &resource_account,
                    &policies,
                    &context,
                    now_unix_ms,
                ),
            )
            .err()
            .map_or_else(
                || format!("{action} on {resource}: {}", decision.name()),
                |r| r.to_string(),
            ),
        ))
    }

    /// Check a bucket-level action.
    pub(super) fn check_bucket(
        &self,
        action: &str,
        bucket: &str,
        extra: &Keys<'_>,
    ) -> Result<Option<BucketMeta>, ObjectError> {
        let b = self.bucket_meta(bucket)?;
        self.check(action, b.as_ref(), &bucket_arn(bucket), extra, None)?;
        Ok(b)
    }

    /// Check an object-level action (without an object ACL).
    pub(super) fn check_object(
        &self,
        action: &str,
        bucket: &str,
        key: &str,
        extra: &Keys<'_>,
    ) -> Result<Option<BucketMeta>, ObjectError> {
        let b = self.bucket_meta(bucket)?;
        self.check(action, b.as_ref(), &object_arn(bucket, key), extra, None)?;
        Ok(b)
    }

    /// The version a request names, as far as its check needs it: absent (or unreadable) is
    /// none, and the operation itself then answers why.
    pub(super) fn existing(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Option<ObjectInfo> {
        self.store
            .open_version(bucket, key, version_id)
            .ok()
            .map(|r| r.info().clone())
    }

    /// The caller as writer of what it creates.
    fn with_writer(&self, opts: &PutOptions) -> PutOptions {
        let mut opts = opts.clone();
        opts.writer = self.caller_owner();
        opts
    }

    /// PutBucketCors: `s3:PutBucketCORS`.
    pub fn put_bucket_cors(
        &self,
        bucket: &str,
        rules: Vec<super::cors::CorsRule>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketCORS", bucket, &[])?;
        self.store.put_bucket_cors(bucket, rules)
    }

    /// GetBucketCors: `s3:GetBucketCORS`.
    pub fn bucket_cors(&self, bucket: &str) -> Result<Vec<super::cors::CorsRule>, ObjectError> {
        self.check_bucket("s3:GetBucketCORS", bucket, &[])?;
        self.store.bucket_cors(bucket)
    }

    /// PutBucketLogging (`None`: logging off).
    pub fn put_bucket_logging(
        &self,
        bucket: &str,
        config: Option<super::access_log::LoggingConfig>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketLogging", bucket, &[])?;
        self.store.put_bucket_logging(bucket, config)
    }

    /// GetBucketLogging.
    pub fn bucket_logging(
        &self,
        bucket: &str,
    ) -> Result<Option<super::access_log::LoggingConfig>, ObjectError> {
        self.check_bucket("s3:GetBucketLogging", bucket, &[])?;
        Ok(self.store.bucket(bucket)?.logging)
    }

    /// PutBucketEncryption: `s3:PutEncryptionConfiguration`.
    pub fn put_bucket_encryption(
        &self,
        bucket: &str,
        default: super::sse::Encryption,
        block_sse_c: Option<bool>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutEncryptionConfiguration", bucket, &[])?;
        self.store
            .put_bucket_encryption(bucket, default, block_sse_c)
    }

    /// GetBucketEncryption: `s3:GetEncryptionConfiguration`.
    pub fn bucket_encryption(
        &self,
        bucket: &str,
    ) -> Result<(super::sse::Encryption, bool), ObjectError> {
        self.check_bucket("s3:GetEncryptionConfiguration", bucket, &[])?;
        self.store.bucket_encryption(bucket)
    }

    /// DeleteBucketEncryption: `s3:PutEncryptionConfiguration`, as S3 asks.
    pub fn delete_bucket_encryption(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutEncryptionConfiguration", bucket, &[])?;
        self.store.delete_bucket_encryption(bucket)
    }

    /// PutBucketLifecycleConfiguration: `s3:PutLifecycleConfiguration`.
    pub fn put_bucket_lifecycle(
        &self,
        bucket: &str,
        rules: Vec<super::lifecycle::LifecycleRule>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutLifecycleConfiguration", bucket, &[])?;
        self.store.put_bucket_lifecycle(bucket, rules)
    }

    /// GetBucketLifecycleConfiguration: `s3:GetLifecycleConfiguration`.
    pub fn bucket_lifecycle(
        &self,
        bucket: &str,
    ) -> Result<Vec<super::lifecycle::LifecycleRule>, ObjectError> {
        self.check_bucket("s3:GetLifecycleConfiguration", bucket, &[])?;
        self.store.bucket_lifecycle(bucket)
    }

    /// DeleteBucketLifecycle: `s3:PutLifecycleConfiguration`, as S3 asks.
    pub fn delete_bucket_lifecycle(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutLifecycleConfiguration", bucket, &[])?;
        self.store.delete_bucket_lifecycle(bucket)
    }

    /// DeleteBucketCors: `s3:PutBucketCORS`, as S3 asks.
    pub fn delete_bucket_cors(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketCORS", bucket, &[])?;
        self.store.delete_bucket_cors(bucket)
    }

    /// ListBuckets: the buckets of the caller's account.
    pub fn list_buckets(&self) -> Result<Vec<BucketMeta>, ObjectError> {
        self.check("s3:ListAllMyBuckets", None, "*", &[], None)?;
        let mine = Guard::account_of(self.caller.principal);
        Ok(self
            .store
            .list_buckets()?
            .into_iter()
            .filter(|b| Some(self.guard.bucket_owner(b).account) == mine)
            .collect())
    }

    /// CreateBucket, owned by the caller's account.
    pub fn create_bucket(&self, bucket: &str) -> Result<BucketMeta, ObjectError> {
        self.create_bucket_with(bucket, NewBucket::default())
    }

    /// CreateBucket with an ACL (expanded against the caller), object ownership and location;
    /// the owner is always the caller's account.
    pub fn create_bucket_with(
        &self,
        bucket: &str,
        new: NewBucket,
    ) -> Result<BucketMeta, ObjectError> {
        self.check("s3:CreateBucket", None, &bucket_arn(bucket), &[], None)?;
        self.store.create_bucket_with(
            bucket,
            &NewBucket {
                owner: self.caller_owner(),
                ..new
            },
        )
    }

    /// HeadBucket: S3 authorizes it as ListBucket.
    pub fn head_bucket(&self, bucket: &str) -> Result<BucketMeta, ObjectError> {
        self.check_bucket("s3:ListBucket", bucket, &[])?;
        self.store.bucket(bucket)
    }

    /// A bucket's record (location, owner, versioning) for a caller allowed `action` on it.
    pub fn bucket_for(&self, action: &str, bucket: &str) -> Result<BucketMeta, ObjectError> {
        self.check_bucket(action, bucket, &[])?;
        self.store.bucket(bucket)
    }

    /// DeleteBucket.
    pub fn delete_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:DeleteBucket", bucket, &[])?;
        self.store.delete_bucket(bucket)
    }

    /// PutBucketVersioning.
    pub fn set_versioning(&self, bucket: &str, enabled: bool) -> Result<BucketMeta, ObjectError> {
        self.check_bucket("s3:PutBucketVersioning", bucket, &[])?;
        self.store.set_versioning(bucket, enabled)
    }

    /// PutBucketPolicy.
    pub fn put_bucket_policy(&self, bucket: &str, policy_json: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketPolicy", bucket, &[])?;
        self.store.put_bucket_policy(bucket, policy_json)
    }

    /// GetBucketPolicy.
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        self.check_bucket("s3:GetBucketPolicy", bucket, &[])?;
        self.store.bucket_policy(bucket)
    }

    /// DeleteBucketPolicy.
    pub fn delete_bucket_policy(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:DeleteBucketPolicy", bucket, &[])?;
        self.store.delete_bucket_policy(bucket)
    }

    /// PutBucketTagging.
    pub fn put_bucket_tagging(
        &self,
        bucket: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketTagging", bucket, &[])?;
        self.store.put_bucket_tagging(bucket, tags)
    }

    /// GetBucketTagging.
    pub fn bucket_tagging(&self, bucket: &str) -> Result<Vec<(String, String)>, ObjectError> {
        self.check_bucket("s3:GetBucketTagging", bucket, &[])?;
        self.store.bucket_tagging(bucket)
    }

    /// DeleteBucketTagging: IAM has no action of its own for it; S3 asks for
    /// `s3:PutBucketTagging`.
    pub fn delete_bucket_tagging(&self, bucket: &str) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketTagging", bucket, &[])?;
        self.store.delete_bucket_tagging(bucket)
    }

    /// GetBucketAcl: the stored ACL, or the owner's private one.
    pub fn bucket_acl(&self, bucket: &str) -> Result<Acl, ObjectError> {
        let b = self.check_bucket("s3:GetBucketAcl", bucket, &[])?;
        let b = b.ok_or_else(|| ObjectError::NoSuchBucket(bucket.into()))?;
        let owner = self.guard.bucket_owner(&b);
        Ok(b.acl.unwrap_or_else(|| Acl::private(&owner)))
    }

    /// PutBucketAcl.
    pub fn put_bucket_acl(&self, bucket: &str, acl: Acl) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketAcl", bucket, &[])?;
        self.store.put_bucket_acl(bucket, acl)
    }

    /// GetBucketOwnershipControls.
    pub fn object_ownership(&self, bucket: &str) -> Result<Option<ObjectOwnership>, ObjectError> {
        self.check_bucket("s3:GetBucketOwnershipControls", bucket, &[])?;
        Ok(self.store.bucket(bucket)?.ownership)
    }

    /// PutBucketOwnershipControls (`None`: DeleteBucketOwnershipControls).
    pub fn set_object_ownership(
        &self,
        bucket: &str,
        ownership: Option<ObjectOwnership>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketOwnershipControls", bucket, &[])?;
        self.store.set_object_ownership(bucket, ownership)
    }

    /// GetPublicAccessBlock.
    pub fn public_access_block(
        &self,
        bucket: &str,
    ) -> Result<Option<PublicAccessBlock>, ObjectError> {
        self.check_bucket("s3:GetBucketPublicAccessBlock", bucket, &[])?;
        Ok(self.store.bucket(bucket)?.public_access_block)
    }

    /// PutPublicAccessBlock (`None`: DeletePublicAccessBlock).
    pub fn set_public_access_block(
        &self,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), ObjectError> {
        self.check_bucket("s3:PutBucketPublicAccessBlock", bucket, &[])?;
        self.store.set_public_access_block(bucket, block)
    }

    /// GetBucketPolicyStatus: whether the bucket is public, through its policy or (while ACLs
    /// count) its ACL.
    pub fn bucket_policy_is_public(&self, bucket: &str) -> Result<bool, ObjectError> {
        let b = self.check_bucket("s3:GetBucketPolicyStatus", bucket, &[])?;
        let b = b.ok_or_else(|| ObjectError::NoSuchBucket(bucket.into()))?;
        let acl_public = b.ownership != Some(ObjectOwnership::BucketOwnerEnforced)
            && b.acl.as_ref().is_some_and(|a| a.is_public());
        Ok(b.policy.as_deref().is_some_and(policy_is_public) || acl_public)
    }

    fn list_keys(opts: &ListOptions) -> (String, String, String) {
        (
            opts.prefix.clone(),
            opts.delimiter.clone().unwrap_or_default(),
            opts.max_keys
                .unwrap_or(super::list::MAX_KEYS_DEFAULT)
                .to_string(),
        )
    }

    /// ListObjects(V2), with `s3:prefix`, `s3:delimiter` and `s3:max-keys` in the context.
    pub fn list_objects(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<ObjectSummary>, ObjectError> {
        let (p, d, m) = Self::list_keys(opts);
        let (ps, ds, ms) = ([p.as_str()], [d.as_str()], [m.as_str()]);
        let mut keys: Vec<(&str, &[&str])> = vec![("s3:prefix", &ps)];
        if opts.delimiter.is_some() {
            keys.push(("s3:delimiter", &ds));
        }
        keys.push(("s3:max-keys", &ms));
        self.check_bucket("s3:ListBucket", bucket, &keys)?;
        self.store.list_objects(bucket, opts)
    }

    /// ListObjectVersions.
    pub fn list_versions(
        &self,
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage<VersionSummary>, ObjectError> {
        let (p, d, m) = Self::list_keys(opts);
        let (ps, ds, ms) = ([p.as_str()], [d.as_str()], [m.as_str()]);
        let mut keys: Vec<(&str, &[&str])> = vec![("s3:prefix", &ps)];
        if opts.delimiter.is_some() {
            keys.push(("s3:delimiter", &ds));
        }
        keys.push(("s3:max-keys", &ms));
        self.check_bucket("s3:ListBucketVersions", bucket, &keys)?;
        self.store.list_versions(bucket, opts)
    }

    /// ListMultipartUploads (every upload of the bucket, by key then upload id).
    pub fn list_uploads(&self, bucket: &str) -> Result<Vec<UploadMeta>, ObjectError> {
        self.check_bucket("s3:ListBucketMultipartUploads", bucket, &[])?;
        self.store.list_uploads(bucket)
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
        self.check_put(bucket, key, opts)?;
        self.store
            .put_object(bucket, key, src, size, &self.with_writer(opts))
    }

    /// Authorize a PUT with `opts` (what [`Self::put_object`] checks before writing): a
    /// front end that refuses a request for its headers does so after this, so that a bucket
    /// policy's Deny is what the caller sees, as on S3.
    pub fn check_put(&self, bucket: &str, key: &str, opts: &PutOptions) -> Result<(), ObjectError> {
        let canned = match &opts.acl {
            Some(super::objects::AclRequest::Canned(c)) => Some(c.name()),
            _ => None,
        };
        let vals = [canned.unwrap_or_default()];
        let mut keys: Vec<(&str, &[&str])> = if canned.is_some() {
            vec![("s3:x-amz-acl", &vals)]
        } else {
            Vec::new()
        };
        let tags = RequestTags::of(&opts.tags);
        keys.extend(tags.keys());
        self.check_object("s3:PutObject", bucket, key, &keys)?;
        // Tags, a retention or a legal hold given with a write need their own permission too,
        // as on S3.
        if !opts.tags.is_empty() {
            self.check_object("s3:PutObjectTagging", bucket, key, &tags.keys())?;
        }
        if opts.retention.is_some() {
            self.check_object("s3:PutObjectRetention", bucket, key, &[])?;
        }
        if opts.legal_hold {
            self.check_object("s3:PutObjectLegalHold", bucket, key, &[])?;
        }
        Ok(())
    }

    fn get_action(version_id: Option<&str>) -> &'static str {
        if version_id.is_some() {
            "s3:GetObjectVersion"
        } else {
            "s3:GetObject"
        }
    }

    /// Open an object for GET or HEAD, in S3's order: find the version; a missing key is 404
    /// for callers allowed to list it (`s3:ListBucket` with `s3:prefix` = the key) and 403 for
    /// others; then authorize the read (the object's ACL counts); then the conditions; then
    /// the range or part.
    pub fn open_object(
        &self,
        bucket: &str,
        key: &str,
        opts: &GetOptions,
    ) -> Result<ObjectReader<'a>, ObjectError> {
        let mut reader = self.open_authorized(bucket, key, opts.version_id.as_deref())?;
        reader.narrow(opts)?;
        Ok(reader)
    }

    /// Find the version a read names and authorize the read: the first steps of
    /// [`Self::open_object`], all that reading metadata needs (an SSE-C object's metadata is
    /// read without its key). A caller that reads data goes on with [`ObjectReader::narrow`]
    /// (or its three steps).
    pub fn open_authorized(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectReader<'a>, ObjectError> {
        let b = self.bucket_meta(bucket)?;
        let reader = match self.store.open_version(bucket, key, version_id) {
            Ok(r) => r,
            Err(
                e @ (ObjectError::NoSuchKey { .. }
                | ObjectError::NoSuchVersion { .. }
                | ObjectError::MethodNotAllowed { .. }),
            ) => {
                let action = Self::get_action(version_id);
                if self
                    .check(action, b.as_ref(), &object_arn(bucket, key), &[], None)
                    .is_ok()
                {
                    return Err(e);
                }
                let prefix = [key];
                let keys: [(&str, &[&str]); 1] = [("s3:prefix", &prefix)];
                self.check(
                    "s3:ListBucket",
                    b.as_ref(),
                    &bucket_arn(bucket),
                    &keys,
                    None,
                )?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let info = reader.info().clone();
        self.check(
            Self::get_action(version_id),
            b.as_ref(),
            &object_arn(bucket, key),
            &[],
            Some(ObjectCtx::of(key, &info)),
        )?;
        Ok(reader)
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
        let r = self.open_object(
            bucket,
            key,
            &GetOptions {
                version_id: version_id.map(String::from),
                range,
                ..GetOptions::default()
            },
        )?;
        r.read_to(out)?;
        Ok(r.info().clone())
    }

    /// HEAD (S3 authorizes it as GetObject).
    pub fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectInfo, ObjectError> {
        Ok(self
            .open_authorized(bucket, key, version_id)?
            .info()
            .clone())
    }

    /// GetObjectAcl: the version's ACL, or its owner's private one.
    pub fn object_acl(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(Acl, String), ObjectError> {
        let b = self.bucket_meta(bucket)?;
        let r = self.store.open_version(bucket, key, version_id)?;
        let info = r.info();
        let action = if version_id.is_some() {
            "s3:GetObjectVersionAcl"
        } else {
            "s3:GetObjectAcl"
        };
        self.check(
            action,
            b.as_ref(),
            &object_arn(bucket, key),
            &[],
            Some(ObjectCtx::of(key, info)),
        )?;
        let owner = info.owner.clone().unwrap_or_else(|| match &b {
            Some(b) => self.guard.bucket_owner(b),
            None => self.guard.owner(&self.guard.owner_account),
        });
        let acl = match b.as_ref().and_then(|b| b.ownership) {
            Some(ObjectOwnership::BucketOwnerEnforced) => Acl::private(&owner),
            _ => info.acl.clone().unwrap_or_else(|| Acl::private(&owner)),
        };
        Ok((acl, info.version_id.clone()))
    }

    /// The owner of a version (for building an ACL document against it).
    pub fn object_owner(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Owner, ObjectError> {
        let b = self.store.bucket(bucket)?;
        let r = self.store.open_version(bucket, key, version_id)?;
        Ok(r.info()
            .owner
            .clone()
            .unwrap_or_else(|| self.guard.bucket_owner(&b)))
    }

    /// PutObjectAcl.
    pub fn put_object_acl(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        acl: Acl,
    ) -> Result<String, ObjectError> {
        let b = self.bucket_meta(bucket)?;
        let current = self.existing(bucket, key, version_id);
        let action = if version_id.is_some() {
            "s3:PutObjectVersionAcl"
        } else {
            "s3:PutObjectAcl"
        };
        self.check(
            action,
            b.as_ref(),
            &object_arn(bucket, key),
            &[],
            current.as_ref().map(|info| ObjectCtx::of(key, info)),
        )?;
        self.store.put_object_acl(bucket, key, version_id, acl)
    }

    /// DELETE.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<DeleteResult, ObjectError> {
        self.delete_object_if(bucket, key, version_id, None)
    }

    /// DELETE only if the version concerned has ETag `if_match` (S3's conditional delete).
    pub fn delete_object_if(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<DeleteResult, ObjectError> {
        self.delete_checked(bucket, key, version_id, if_match, false)
    }

    /// DELETE, `bypass_governance` already authorized (`object_lock.rs`).
    pub(super) fn delete_checked(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        if_match: Option<&str>,
        bypass_governance: bool,
    ) -> Result<DeleteResult, ObjectError> {
        let action = if version_id.is_some() {
            "s3:DeleteObjectVersion"
        } else {
            "s3:DeleteObject"
        };
        self.check_object(action, bucket, key, &[])?;
        self.store.delete_object_as(
            bucket,
            key,
            version_id,
            &super::objects::DeleteOptions {
                writer: self.caller_owner(),
                if_match: if_match.map(String::from),
                bypass_governance,
            },
        )
    }

    /// COPY: read permission on the source (its ACL counts), write permission on the
    /// destination.
    #[allow(clippy::too_many_arguments)]
    pub fn copy_object(
        &self,
        src_bucket: &str,
        src_key: &str,
        src: &GetOptions,
        dst_bucket: &str,
        dst_key: &str,
        opts: &PutOptions,
        copy: &CopyOptions,
    ) -> Result<CopyResult, ObjectError> {
        self.check_source(src_bucket, src_key, src.version_id.as_deref())?;
        self.check_put(dst_bucket, dst_key, opts)?;
        self.store.copy_object_with(
            src_bucket,
            src_key,
            src,
            dst_bucket,
            dst_key,
            &self.with_writer(opts),
            copy,
        )
    }

    fn check_source(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(), ObjectError> {
        let b = self.bucket_meta(bucket)?;
        let current = self.existing(bucket, key, version_id);
        self.check(
            Self::get_action(version_id),
            b.as_ref(),
            &object_arn(bucket, key),
            &[],
            current.as_ref().map(|info| ObjectCtx::of(key, info)),
        )
    }

    /// CreateMultipartUpload.
    pub fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &PutOptions,
    ) -> Result<String, ObjectError> {
        Ok(self.create_multipart_upload_with(bucket, key, opts)?.0)
    }

    /// CreateMultipartUpload, with the encryption the upload gets.
    pub fn create_multipart_upload_with(
        &self,
        bucket: &str,
        key: &str,
        opts: &PutOptions,
    ) -> Result<(String, Option<super::sse::Encryption>), ObjectError> {
        self.check_put(bucket, key, opts)?;
        self.store
            .create_multipart_upload_with(bucket, key, &self.with_writer(opts))
    }

    /// The object ARN an upload writes to; NoSuchUpload answers only callers allowed to ask
    /// about the bucket at all.
    fn upload_arn(
        &self,
        bucket: &str,
        upload_id: &str,
    ) -> Result<(String, Option<UploadMeta>), ObjectError> {
        match self.store.upload(bucket, upload_id) {
            Ok(u) => Ok((object_arn(bucket, &u.key), Some(u))),
            Err(ObjectError::NoSuchUpload(_) | ObjectError::NoSuchBucket(_)) => {
                Ok((object_arn(bucket, "*"), None))
            }
            Err(e) => Err(e),
        }
    }

    fn check_upload(
        &self,
        action: &str,
        bucket: &str,
        upload_id: &str,
    ) -> Result<Option<UploadMeta>, ObjectError> {
        let (arn, upload) = self.upload_arn(bucket, upload_id)?;
        let b = self.bucket_meta(bucket)?;
        self.check(action, b.as_ref(), &arn, &[], None)?;
        Ok(upload)
    }

    /// The upload's record (ListParts shows its owner and initiator).
    pub fn upload(&self, bucket: &str, upload_id: &str) -> Result<UploadMeta, ObjectError> {
        self.check_upload("s3:ListMultipartUploadParts", bucket, upload_id)?;
        self.store.upload(bucket, upload_id)
    }

    /// UploadPart.
    pub fn upload_part(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src: &mut dyn Read,
        size: u64,
        opts: &PartOptions,
    ) -> Result<PartResult, ObjectError> {
        self.check_upload("s3:PutObject", bucket, upload_id)?;
        self.store
            .upload_part_with(bucket, upload_id, part_number, src, size, opts)
    }

    /// UploadPartCopy.
    #[allow(clippy::too_many_arguments)]
    pub fn upload_part_copy(
        &self,
        bucket: &str,
        upload_id: &str,
        part_number: u32,
        src_bucket: &str,
        src_key: &str,
        src: &GetOptions,
        conditions: &Conditions,
        part: &PartOptions,
    ) -> Result<PartResult, ObjectError> {
        self.check_source(src_bucket, src_key, src.version_id.as_deref())?;
        self.check_upload("s3:PutObject", bucket, upload_id)?;
        self.store.upload_part_copy(
            bucket,
            upload_id,
            part_number,
            src_bucket,
            src_key,
            src,
            conditions,
            part,
        )
    }

    /// CompleteMultipartUpload.
    pub fn complete_multipart_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        parts: &[CompletePart],
        opts: &CompleteOptions,
    ) -> Result<PutResult, ObjectError> {
        self.check_upload("s3:PutObject", bucket, upload_id)?;
        self.store
            .complete_multipart_upload_with(bucket, upload_id, parts, opts)
    }

    /// AbortMultipartUpload.
    pub fn abort_multipart_upload(&self, bucket: &str, upload_id: &str) -> Result<(), ObjectError> {
        self.check_upload("s3:AbortMultipartUpload", bucket, upload_id)?;
        self.store.abort_multipart_upload(bucket, upload_id)
    }

    /// ListParts.
    pub fn list_parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartMeta>, ObjectError> {
        self.check_upload("s3:ListMultipartUploadParts", bucket, upload_id)?;
        self.store.list_parts(bucket, upload_id)
    }
}
