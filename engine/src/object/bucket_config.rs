//! A bucket's sub-resources: its policy, its ACL, its object-ownership setting and its Block
//! Public Access configuration. Each is stored in the bucket's record and changed with one
//! metadata commit; the rules S3 attaches to them (a public policy under BlockPublicPolicy, an
//! ACL under BucketOwnerEnforced, ...) are checked here, so every front end gets them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::acl::Acl;
use super::error::ObjectError;
use super::meta::BucketMeta;
use super::store::ObjectStore;
use crate::iam::{Policy, PolicyKind};

/// Who owns new objects, and whether ACLs count (S3 Object Ownership).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectOwnership {
    /// ACLs are off; the bucket owner owns every object.
    BucketOwnerEnforced,
    /// The writer owns an object, unless it is written with `bucket-owner-full-control`.
    BucketOwnerPreferred,
    /// The writer owns every object it writes (what a bucket without the setting does here).
    ObjectWriter,
}

impl ObjectOwnership {
    /// S3's name.
    pub fn name(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    /// Parse S3's name.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        Ok(match s {
            "BucketOwnerEnforced" => ObjectOwnership::BucketOwnerEnforced,
            "BucketOwnerPreferred" => ObjectOwnership::BucketOwnerPreferred,
            "ObjectWriter" => ObjectOwnership::ObjectWriter,
            _ => {
                return Err(ObjectError::InvalidArgument(format!(
                    "object ownership '{s}' is not BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter"
                )))
            }
        })
    }
}

/// S3 Block Public Access, per bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    /// Refuse PUTs of public ACLs (bucket or object) with AccessDenied.
    pub block_public_acls: bool,
    /// Let public ACL grants count for nothing.
    pub ignore_public_acls: bool,
    /// Refuse a public bucket policy with AccessDenied.
    pub block_public_policy: bool,
    /// With a public policy, only the bucket owner's account gets access through it.
    pub restrict_public_buckets: bool,
}

/// Condition keys whose fixed value narrows a wildcard principal to someone in particular, so a
/// statement that tests one of them is not public (after S3's definition of "public").
const NARROWING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

fn is_wildcard_principal(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(m) => m.get("AWS").is_some_and(|a| match a {
            Value::String(s) => s == "*",
            Value::Array(v) => v.iter().any(|x| x.as_str() == Some("*")),
            _ => false,
        }),
        _ => false,
    }
}

/// Whether a bucket policy is public: some Allow statement names every principal (`*`, or
/// NotPrincipal) and no condition narrows it to a fixed source, account or principal.
pub fn policy_is_public(policy_json: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy_json) else {
        return false;
    };
    let statements = match &doc["Statement"] {
        Value::Array(v) => v.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => return false,
    };
    statements.iter().any(|st| {
        let allow = st["Effect"].as_str() == Some("Allow");
        let everyone = st.get("NotPrincipal").is_some()
            || st.get("Principal").is_some_and(is_wildcard_principal);
        let narrowed = st["Condition"].as_object().is_some_and(|ops| {
            ops.values().any(|keys| {
                keys.as_object().is_some_and(|k| {
                    k.keys()
                        .any(|key| NARROWING_KEYS.contains(&key.to_ascii_lowercase().as_str()))
                })
            })
        });
        allow && everyone && !narrowed
    })
}

impl ObjectStore {
    /// Change a bucket's record under the commit lock.
    pub(super) fn update_bucket(
        &self,
        bucket: &str,
        change: impl FnOnce(&mut BucketMeta) -> Result<(), ObjectError>,
    ) -> Result<BucketMeta, ObjectError> {
        let _gc = self.gc_lock.read().unwrap_or_else(|p| p.into_inner());
        let _g = self.lock_commit();
        let mut b = self.bucket(bucket)?;
        change(&mut b)?;
        self.commit_bucket(&mut b, Vec::new())?;
        Ok(b)
    }

    /// Attach a bucket policy (JSON); it is checked as a resource-based policy first, and
    /// refused when Block Public Access blocks public policies and this one is public.
    pub fn put_bucket_policy(&self, bucket: &str, policy_json: &str) -> Result<(), ObjectError> {
        Policy::parse(policy_json, PolicyKind::Resource)
            .map_err(|e| ObjectError::MalformedPolicy(e.to_string()))?;
        let public = policy_is_public(policy_json);
        self.update_bucket(bucket, |b| {
            if public && b.public_access_block.is_some_and(|p| p.block_public_policy) {
                return Err(ObjectError::AccessDenied(format!(
                    "bucket {bucket} blocks public policies (BlockPublicPolicy) and this policy grants access to everyone"
                )));
            }
            b.policy = Some(policy_json.to_string());
            Ok(())
        })
        .map(|_| ())
    }

    /// Remove a bucket's policy.
    pub fn delete_bucket_policy(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.policy = None;
            Ok(())
        })
        .map(|_| ())
    }

    /// A bucket's policy, if it has one.
    pub fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, ObjectError> {
        Ok(self.bucket(bucket)?.policy)
    }

    /// Replace a bucket's ACL, under S3's rules: no ACLs but the owner's private one when the
    /// bucket enforces bucket-owner ownership, no public ACL when Block Public Access blocks
    /// them.
    pub fn put_bucket_acl(&self, bucket: &str, acl: Acl) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            check_acl_allowed(b, &acl)?;
            b.acl = Some(acl);
            Ok(())
        })
        .map(|_| ())
    }

    /// Set a bucket's object ownership; `None` removes the setting (ObjectWriter behaviour).
    /// BucketOwnerEnforced is refused while the bucket's ACL grants anyone but its owner.
    pub fn set_object_ownership(
        &self,
        bucket: &str,
        ownership: Option<ObjectOwnership>,
    ) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            if ownership == Some(ObjectOwnership::BucketOwnerEnforced) {
                if let (Some(acl), Some(owner)) = (&b.acl, &b.owner) {
                    if !acl.is_private_to(owner) {
                        return Err(ObjectError::InvalidBucketAclWithObjectOwnership(format!(
                            "bucket {bucket} has an ACL that grants access to others; make it private before enforcing bucket-owner ownership"
                        )));
                    }
                }
            }
            b.ownership = ownership;
            Ok(())
        })
        .map(|_| ())
    }

    /// Set (or with `None` remove) a bucket's Block Public Access configuration.
    pub fn set_public_access_block(
        &self,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.public_access_block = block;
            Ok(())
        })
        .map(|_| ())
    }
}

/// Most tags on a bucket (S3's limit).
pub const MAX_BUCKET_TAGS: usize = 50;

/// Check a bucket's tag set against S3's rules: at most [`MAX_BUCKET_TAGS`], and each tag as
/// [`check_tag_rules`] says. The messages S3 words exactly (moto's AWS-verified tests) are S3's.
pub fn check_tags(tags: &[(String, String)]) -> Result<(), ObjectError> {
    if tags.len() > MAX_BUCKET_TAGS {
        return Err(ObjectError::InvalidTag(format!(
            "Bucket tag count cannot be greater than {MAX_BUCKET_TAGS} ({} given)",
            tags.len()
        )));
    }
    check_tag_rules(tags, "System tags cannot be added/updated by requester")
}

/// The rules every tag set follows, a bucket's or an object's: keys of 1–128 and values of at
/// most 256 characters, no key twice, no key in the reserved `aws:` prefix (refused with
/// `aws_prefix_message`: S3 words it differently for buckets and objects).
pub fn check_tag_rules(
    tags: &[(String, String)],
    aws_prefix_message: &str,
) -> Result<(), ObjectError> {
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in tags {
        let key_chars = k.chars().count();
        if key_chars == 0 || key_chars > 128 {
            return Err(ObjectError::InvalidTag(format!(
                "The TagKey you have provided is invalid: '{k}' has {key_chars} characters (1 to 128 allowed)"
            )));
        }
        if v.chars().count() > 256 {
            return Err(ObjectError::InvalidTag(format!(
                "The TagValue you have provided is invalid: the value of '{k}' has more than 256 characters"
            )));
        }
        if k.starts_with("aws:") {
            return Err(ObjectError::InvalidTag(aws_prefix_message.into()));
        }
        if !seen.insert(k.as_str()) {
            return Err(ObjectError::InvalidTag(
                "Cannot provide multiple Tags with the same key".into(),
            ));
        }
    }
    Ok(())
}

impl ObjectStore {
    /// Replace a bucket's tags (PutBucketTagging); an empty set removes them, as S3 does.
    pub fn put_bucket_tagging(
        &self,
        bucket: &str,
        tags: Vec<(String, String)>,
    ) -> Result<(), ObjectError> {
        check_tags(&tags)?;
        self.update_bucket(bucket, |b| {
            b.tags = tags;
            Ok(())
        })
        .map(|_| ())
    }

    /// A bucket's tags (GetBucketTagging): NoSuchTagSet when it has none.
    pub fn bucket_tagging(&self, bucket: &str) -> Result<Vec<(String, String)>, ObjectError> {
        let tags = self.bucket(bucket)?.tags;
        if tags.is_empty() {
            return Err(ObjectError::NoSuchTagSet(
                "The TagSet does not exist".into(),
            ));
        }
        Ok(tags)
    }

    /// Remove a bucket's tags (DeleteBucketTagging; nothing to remove is no error).
    pub fn delete_bucket_tagging(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.tags.clear();
            Ok(())
        })
        .map(|_| ())
    }
}

/// Whether `acl` may be set on a resource of bucket `b` (bucket ACL or object ACL).
pub fn check_acl_allowed(b: &BucketMeta, acl: &Acl) -> Result<(), ObjectError> {
    if b.ownership == Some(ObjectOwnership::BucketOwnerEnforced) {
        return Err(ObjectError::AccessControlListNotSupported(format!(
            "bucket {} enforces bucket-owner ownership: ACLs are disabled",
            b.name
        )));
    }
    if acl.is_public() && b.public_access_block.is_some_and(|p| p.block_public_acls) {
        return Err(ObjectError::AccessDenied(format!(
            "bucket {} blocks public ACLs (BlockPublicAcls)",
            b.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_sets_follow_s3_rules() {
        let t = |k: &str, v: &str| (k.to_string(), v.to_string());
        check_tags(&[
            t("team", "storage"),
            t("empty", ""),
            t("something:aws:x", "ok"),
        ])
        .unwrap();
        check_tags(&[]).unwrap();
        let refused = |tags: &[(String, String)]| match check_tags(tags) {
            Err(ObjectError::InvalidTag(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(&[t("a", "1"), t("a", "2")]),
            "Cannot provide multiple Tags with the same key"
        );
        assert_eq!(
            refused(&[t("aws:x", "1")]),
            "System tags cannot be added/updated by requester"
        );
        assert!(refused(&[t("", "1")]).contains("TagKey"));
        assert!(refused(&[t(&"k".repeat(129), "1")]).contains("129 characters"));
        assert!(refused(&[t("k", &"v".repeat(257))]).contains("TagValue"));
        // 128 characters of key and 256 of value are allowed, counted as characters.
        check_tags(&[t(&"é".repeat(128), &"ü".repeat(256))]).unwrap();
        let many: Vec<_> = (0..=MAX_BUCKET_TAGS)
            .map(|i| t(&format!("k{i}"), ""))
            .collect();
        assert!(refused(&many).contains("greater than 50"));
    }

    #[test]
    fn public_policies_are_told_apart() {
        let p = |principal: &str, cond: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"{cond}}}]}}"#
            )
        };
        assert!(policy_is_public(&p(r#""*""#, "")));
        assert!(policy_is_public(&p(r#"{"AWS":"*"}"#, "")));
        assert!(policy_is_public(&p(
            r#"{"AWS":"*"}"#,
            r#","Condition":{"StringEquals":{"s3:prefix":"x"}}"#
        )));
        assert!(!policy_is_public(&p(
            r#"{"AWS":"*"}"#,
            r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/32"}}"#
        )));
        assert!(!policy_is_public(&p(
            r#"{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ""
        )));
        assert!(!policy_is_public(&p(r#""*""#, "").replace("Allow", "Deny")));
    }
}
