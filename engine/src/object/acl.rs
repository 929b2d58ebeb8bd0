//! S3 access control lists: grants of READ, WRITE, READ_ACP, WRITE_ACP and FULL_CONTROL on a
//! bucket or an object to accounts (by canonical ID) and to the two public groups, and the
//! canned ACLs (`private`, `public-read`, ...) that name common sets of grants.
//!
//! ACLs predate IAM and AWS now recommends turning them off (object ownership
//! `BucketOwnerEnforced`), but clients and the conformance suite still use them. Seedbed
//! evaluates them *through* IAM: an ACL is turned into the resource-based policy it is
//! equivalent to ([`Acl::policy_json`]) — one Allow statement per grant, with S3's documented
//! mapping of ACL permissions to actions — and that policy joins the bucket policy in the one
//! IAM decision. So an explicit Deny in a bucket policy beats an ACL grant, a grant to another
//! account still needs that account's identity policies to allow (cross-account rules), and
//! `seedbed iam explain` can show which grant allowed a request.
//!
//! | ACL permission | on a bucket | on an object |
//! |---|---|---|
//! | READ | ListBucket, ListBucketVersions, ListBucketMultipartUploads | GetObject, GetObjectVersion, GetObjectAttributes |
//! | WRITE | PutObject, DeleteObject, DeleteObjectVersion (on its objects) | — |
//! | READ_ACP | GetBucketAcl | GetObjectAcl, GetObjectVersionAcl |
//! | WRITE_ACP | PutBucketAcl | PutObjectAcl, PutObjectVersionAcl |
//! | FULL_CONTROL | all of the above | all of the above |

use serde::{Deserialize, Serialize};

use super::error::ObjectError;
use super::owner::Owner;

/// An ACL permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Everything the other four allow.
    FullControl,
    /// List a bucket / read an object.
    Read,
    /// Create and delete objects in a bucket.
    Write,
    /// Read the ACL.
    ReadAcp,
    /// Write the ACL.
    WriteAcp,
}

impl Permission {
    /// S3's name.
    pub fn name(self) -> &'static str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
        }
    }

    /// Parse S3's name.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        Ok(match s {
            "FULL_CONTROL" => Permission::FullControl,
            "READ" => Permission::Read,
            "WRITE" => Permission::Write,
            "READ_ACP" => Permission::ReadAcp,
            "WRITE_ACP" => Permission::WriteAcp,
            _ => {
                return Err(ObjectError::MalformedAcl(format!(
                    "permission '{s}' is not one of FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP"
                )))
            }
        })
    }

    fn bucket_actions(self) -> &'static [&'static str] {
        match self {
            Permission::Read => &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            Permission::Write => &[],
            Permission::ReadAcp => &["s3:GetBucketAcl"],
            Permission::WriteAcp => &["s3:PutBucketAcl"],
            Permission::FullControl => &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
                "s3:GetBucketAcl",
                "s3:PutBucketAcl",
            ],
        }
    }

    /// Actions on the objects of a bucket that a *bucket* grant allows.
    fn bucket_object_actions(self) -> &'static [&'static str] {
        match self {
            Permission::Write | Permission::FullControl => &[
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            _ => &[],
        }
    }

    fn object_actions(self) -> &'static [&'static str] {
        match self {
            Permission::Read => &[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectAttributes",
                "s3:GetObjectVersionAttributes",
            ],
            Permission::Write => &[],
            Permission::ReadAcp => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
            Permission::WriteAcp => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
            Permission::FullControl => &[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectAttributes",
                "s3:GetObjectVersionAttributes",
                "s3:GetObjectAcl",
                "s3:GetObjectVersionAcl",
                "s3:PutObjectAcl",
                "s3:PutObjectVersionAcl",
            ],
        }
    }
}

/// One of S3's predefined groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Group {
    /// Everyone, signed or not.
    AllUsers,
    /// Every signed request, from any account.
    AuthenticatedUsers,
    /// S3's log delivery (accepted and stored; nothing delivers logs here).
    LogDelivery,
}

impl Group {
    /// The group's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Group::AllUsers => "http://acs.amazonaws.com/groups/global/AllUsers",
            Group::AuthenticatedUsers => {
                "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            }
            Group::LogDelivery => "http://acs.amazonaws.com/groups/s3/LogDelivery",
        }
    }

    /// The group a URI names.
    pub fn parse(uri: &str) -> Result<Self, ObjectError> {
        [
            Group::AllUsers,
            Group::AuthenticatedUsers,
            Group::LogDelivery,
        ]
        .into_iter()
        .find(|g| g.uri() == uri)
        .ok_or_else(|| ObjectError::InvalidArgument(format!("unknown ACL group URI '{uri}'")))
    }
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grantee {
    /// An account, by canonical ID (a grant by e-mail is stored as the account it resolves to).
    User(Owner),
    /// A predefined group.
    Group(Group),
}

/// One grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Who.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
}

/// An access control list: the owner and the grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    /// The resource's owner.
    pub owner: Owner,
    /// Grants, in the order S3 lists them.
    pub grants: Vec<Grant>,
}

/// S3's canned ACLs (`x-amz-acl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CannedAcl {
    /// The owner gets FULL_CONTROL; no one else has access (the default).
    Private,
    /// And AllUsers get READ.
    PublicRead,
    /// And AllUsers get READ and WRITE.
    PublicReadWrite,
    /// And AuthenticatedUsers get READ.
    AuthenticatedRead,
    /// Objects: the owner FULL_CONTROL, the bucket owner READ.
    BucketOwnerRead,
    /// Objects: both the owner and the bucket owner FULL_CONTROL.
    BucketOwnerFullControl,
    /// The owner FULL_CONTROL (EC2's read access is not modelled).
    AwsExecRead,
    /// Buckets: LogDelivery gets WRITE and READ_ACP.
    LogDeliveryWrite,
}

impl CannedAcl {
    /// The `x-amz-acl` value.
    pub fn name(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AuthenticatedRead => "authenticated-read",
            CannedAcl::BucketOwnerRead => "bucket-owner-read",
            CannedAcl::BucketOwnerFullControl => "bucket-owner-full-control",
            CannedAcl::AwsExecRead => "aws-exec-read",
            CannedAcl::LogDeliveryWrite => "log-delivery-write",
        }
    }

    /// Parse an `x-amz-acl` value.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        Ok(match s {
            "private" => CannedAcl::Private,
            "public-read" => CannedAcl::PublicRead,
            "public-read-write" => CannedAcl::PublicReadWrite,
            "authenticated-read" => CannedAcl::AuthenticatedRead,
            "bucket-owner-read" => CannedAcl::BucketOwnerRead,
            "bucket-owner-full-control" => CannedAcl::BucketOwnerFullControl,
            "aws-exec-read" => CannedAcl::AwsExecRead,
            "log-delivery-write" => CannedAcl::LogDeliveryWrite,
            _ => {
                return Err(ObjectError::InvalidArgument(format!(
                    "'{s}' is not a canned ACL (private, public-read, public-read-write, \
                     authenticated-read, bucket-owner-read, bucket-owner-full-control, \
                     aws-exec-read, log-delivery-write)"
                )))
            }
        })
    }

    /// The grants this canned ACL stands for, on a resource owned by `owner` in a bucket owned
    /// by `bucket_owner`. Group grants come first and the owner's FULL_CONTROL last, as S3's
    /// reference implementation lists them.
    pub fn expand(self, owner: &Owner, bucket_owner: &Owner) -> Acl {
        let g = |grantee, permission| Grant {
            grantee,
            permission,
        };
        let mut grants = match self {
            CannedAcl::Private | CannedAcl::AwsExecRead => vec![],
            CannedAcl::PublicRead => vec![g(Grantee::Group(Group::AllUsers), Permission::Read)],
            CannedAcl::PublicReadWrite => vec![
                g(Grantee::Group(Group::AllUsers), Permission::Read),
                g(Grantee::Group(Group::AllUsers), Permission::Write),
            ],
            CannedAcl::AuthenticatedRead => {
                vec![g(
                    Grantee::Group(Group::AuthenticatedUsers),
                    Permission::Read,
                )]
            }
            CannedAcl::LogDeliveryWrite => vec![
                g(Grantee::Group(Group::LogDelivery), Permission::Write),
                g(Grantee::Group(Group::LogDelivery), Permission::ReadAcp),
            ],
            CannedAcl::BucketOwnerRead | CannedAcl::BucketOwnerFullControl => vec![],
        };
        grants.push(g(Grantee::User(owner.clone()), Permission::FullControl));
        if owner.id != bucket_owner.id {
            match self {
                CannedAcl::BucketOwnerRead => {
                    grants.push(g(Grantee::User(bucket_owner.clone()), Permission::Read))
                }
                CannedAcl::BucketOwnerFullControl => grants.push(g(
                    Grantee::User(bucket_owner.clone()),
                    Permission::FullControl,
                )),
                _ => {}
            }
        }
        Acl {
            owner: owner.clone(),
            grants,
        }
    }
}

/// What an ACL is attached to.
#[derive(Clone, Copy, Debug)]
pub enum AclTarget<'a> {
    /// A bucket.
    Bucket(&'a str),
    /// An object.
    Object {
        /// Its bucket.
        bucket: &'a str,
        /// Its key.
        key: &'a str,
    },
}

impl Acl {
    /// The ACL a new resource gets without one given: its owner has FULL_CONTROL.
    pub fn private(owner: &Owner) -> Acl {
        CannedAcl::Private.expand(owner, owner)
    }

    /// Whether a grant reaches the public (AllUsers or AuthenticatedUsers): what S3's Block
    /// Public Access calls a public ACL.
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        })
    }

    /// Whether this is exactly the private ACL of `owner` (what BucketOwnerEnforced allows).
    pub fn is_private_to(&self, owner: &Owner) -> bool {
        self.owner.id == owner.id
            && self.grants.iter().all(|g| {
                matches!(&g.grantee, Grantee::User(u) if u.id == owner.id)
                    && g.permission == Permission::FullControl
            })
    }

    /// The resource-based policy (IAM JSON) equivalent to this ACL, or `None` when it grants
    /// nothing. `public` false leaves out grants to the public groups (Block Public Access's
    /// IgnorePublicAcls).
    pub fn policy_json(&self, target: AclTarget<'_>, public: bool) -> Option<String> {
        let mut statements = Vec::new();
        for (i, grant) in self.grants.iter().enumerate() {
            let (principal, condition) = match &grant.grantee {
                Grantee::User(u) => (serde_json::json!({ "AWS": u.account }), None),
                Grantee::Group(Group::AllUsers) if public => (serde_json::json!("*"), None),
                Grantee::Group(Group::AuthenticatedUsers) if public => (
                    serde_json::json!("*"),
                    // Signed requests carry a user id; anonymous ones do not.
                    Some(serde_json::json!({ "Null": { "aws:userid": "false" } })),
                ),
                Grantee::Group(_) => continue,
            };
            let mut add = |actions: &[&str], resource: String| {
                if actions.is_empty() {
                    return;
                }
                let mut st = serde_json::json!({
                    "Sid": format!("AclGrant{i}{}", grant.permission.name().replace('_', "")),
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": actions,
                    "Resource": resource,
                });
                if let Some(c) = &condition {
                    st["Condition"] = c.clone();
                }
                statements.push(st);
            };
            match target {
                AclTarget::Bucket(b) => {
                    add(
                        grant.permission.bucket_actions(),
                        format!("arn:aws:s3:::{b}"),
                    );
                    add(
                        grant.permission.bucket_object_actions(),
                        format!("arn:aws:s3:::{b}/*"),
                    );
                }
                AclTarget::Object { bucket, key } => add(
                    grant.permission.object_actions(),
                    format!("arn:aws:s3:::{bucket}/{key}"),
                ),
            }
        }
        if statements.is_empty() {
            return None;
        }
        Some(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::{Policy, PolicyKind};

    fn owner(account: &str) -> Owner {
        Owner {
            account: account.into(),
            id: format!("{account:0>64}"),
            display_name: account.into(),
        }
    }

    #[test]
    fn canned_acls_expand_like_s3() {
        let main = owner("111122223333");
        let alt = owner("444455556666");
        let prw = CannedAcl::PublicReadWrite.expand(&main, &main);
        assert_eq!(prw.grants.len(), 3);
        assert_eq!(prw.grants[2].permission, Permission::FullControl);
        assert!(prw.is_public());
        let bor = CannedAcl::BucketOwnerRead.expand(&alt, &main);
        assert_eq!(
            bor.grants,
            vec![
                Grant {
                    grantee: Grantee::User(alt.clone()),
                    permission: Permission::FullControl
                },
                Grant {
                    grantee: Grantee::User(main.clone()),
                    permission: Permission::Read
                },
            ]
        );
        assert!(!bor.is_public());
        assert!(Acl::private(&main).is_private_to(&main));
        assert!(!bor.is_private_to(&alt));
        assert!(CannedAcl::parse("public-read").is_ok());
        assert_eq!(
            CannedAcl::parse("public").unwrap_err().code(),
            "InvalidArgument"
        );
    }

    #[test]
    fn acl_policies_parse_and_leave_out_ignored_public_grants() {
        let main = owner("111122223333");
        let acl = CannedAcl::PublicRead.expand(&main, &main);
        for target in [
            AclTarget::Bucket("b"),
            AclTarget::Object {
                bucket: "b",
                key: "k",
            },
        ] {
            let text = acl.policy_json(target, true).unwrap();
            Policy::parse(&text, PolicyKind::Resource).unwrap();
            assert!(text.contains(r#""Principal":"*""#), "{text}");
            let private = acl.policy_json(target, false).unwrap();
            assert!(!private.contains(r#""Principal":"*""#), "{private}");
        }
        let none = Acl {
            owner: main,
            grants: vec![],
        };
        assert!(none.policy_json(AclTarget::Bucket("b"), true).is_none());
    }
}
