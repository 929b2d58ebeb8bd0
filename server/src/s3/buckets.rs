//! Bucket operations: list, create, delete, head, location, versioning, and the bucket
//! sub-resources (policy, ACL, object ownership, Block Public Access).

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};
use seedbed_engine::object::{
    Acl, CannedAcl, NewBucket, ObjectError, ObjectOwnership as Ownership, Permission,
    PublicAccessBlock as Pab,
};

use super::convert::{grants, grants_from_headers, grants_from_policy, owner, ts};
use super::endpoint::{Cx, Endpoint};
use super::errors::{invalid_request, s3_error, with_element};

/// A bucket ACL from a request: canned, `x-amz-grant-*` headers or an AccessControlPolicy
/// body, resolved against `owner` (the bucket's owner). `None` when the request names none.
#[allow(clippy::too_many_arguments)]
fn bucket_acl(
    cx: &Cx,
    owner: &seedbed_engine::object::Owner,
    canned: Option<&BucketCannedACL>,
    policy: Option<&AccessControlPolicy>,
    headers: &[(Permission, Option<&String>)],
) -> S3Result<Option<Acl>> {
    let accounts = cx
        .guard
        .accounts
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let has_headers = headers.iter().any(|(_, v)| v.is_some());
    if usize::from(canned.is_some()) + usize::from(policy.is_some()) + usize::from(has_headers) > 1
    {
        return Err(cx.err(invalid_request(
            "give an ACL one way: x-amz-acl, x-amz-grant-* headers, or an AccessControlPolicy body",
        )));
    }
    if let Some(c) = canned {
        let c = CannedAcl::parse(c.as_str()).map_err(|e| cx.object_err(&e))?;
        return Ok(Some(c.expand(owner, owner)));
    }
    if let Some(p) = policy {
        let g = grants_from_policy(p, &accounts).map_err(|e| cx.err(e))?;
        return Ok(Some(Acl {
            owner: owner.clone(),
            grants: g,
        }));
    }
    if has_headers {
        let g = grants_from_headers(headers, &accounts).map_err(|e| cx.err(e))?;
        return Ok(Some(Acl {
            owner: owner.clone(),
            grants: g,
        }));
    }
    Ok(None)
}

fn ownership_of(o: &ObjectOwnership) -> Result<Ownership, ObjectError> {
    Ownership::parse(o.as_str())
}

/// Whether `s` looks like an AWS region name (`us-east-1`, `eu-central-1`, `us-gov-east-2`).
fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Where CreateBucket puts a bucket, by S3's rules for the endpoint it was sent to
/// (moto's AWS-verified location tests): a regional endpoint creates buckets in its own region
/// only, and says so for any other constraint — or none; us-east-1's endpoint creates a bucket
/// in the region the constraint names, or in us-east-1 without one. `None` is us-east-1 (S3's
/// empty LocationConstraint). One leniency, written down in docs/s3-compatibility.md: an
/// explicit `us-east-1` sent to us-east-1 is accepted (S3 refuses it as
/// InvalidLocationConstraint; Ceph RGW accepts it, and ceph/s3-tests' test_bucket_get_location
/// expects it).
fn bucket_location(endpoint: &str, constraint: Option<String>) -> Result<Option<String>, S3Error> {
    let incompatible = |c: &str| {
        s3_error(
            "IllegalLocationConstraintException",
            400,
            format!(
                "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
            ),
        )
    };
    match (endpoint, constraint) {
        ("us-east-1", None) => Ok(None),
        ("us-east-1", Some(c)) if is_region_name(&c) => Ok(Some(c)),
        ("us-east-1", Some(_)) => Err(s3_error(
            "InvalidLocationConstraint",
            400,
            "The specified location-constraint is not valid",
        )),
        (_, None) => Err(incompatible("unspecified")),
        (e, Some(c)) if c == e => Ok(Some(c)),
        (_, Some(c)) => Err(incompatible(&c)),
    }
}

impl Endpoint {
    pub(super) async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let me = cx.caller_owner();
        let mut buckets = cx.run(vec![], |s| s.list_buckets()).await?;
        if let Some(p) = &input.prefix {
            buckets.retain(|b| b.name.starts_with(p.as_str()));
        }
        if let Some(t) = &input.continuation_token {
            buckets.retain(|b| b.name.as_str() > t.as_str());
        }
        let max = input
            .max_buckets
            .map(|m| m.max(1) as usize)
            .unwrap_or(usize::MAX);
        let more = buckets.len() > max;
        buckets.truncate(max);
        Ok(S3Response::new(ListBucketsOutput {
            continuation_token: if more {
                buckets.last().map(|b| b.name.clone())
            } else {
                None
            },
            buckets: Some(
                buckets
                    .iter()
                    .map(|b| Bucket {
                        name: Some(b.name.clone()),
                        creation_date: Some(ts(b.created_ms)),
                        bucket_region: None,
                    })
                    .collect(),
            ),
            owner: me.as_ref().map(owner),
            prefix: input.prefix,
        }))
    }

    pub(super) async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let cx = self.cx(&req);
        // The region the request was sent to: the one it is signed for (a client configured
        // for a region signs for it), else the server's.
        let endpoint_region = req
            .region
            .as_ref()
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|| self.region.clone());
        let input = req.input;
        let constraint = input
            .create_bucket_configuration
            .as_ref()
            .and_then(|c| c.location_constraint.as_ref())
            .map(|l| l.as_str().to_string())
            .filter(|l| !l.is_empty());
        let location = bucket_location(&endpoint_region, constraint).map_err(|e| cx.err(e))?;
        let me = cx.caller_owner().ok_or_else(|| {
            cx.err(s3_error(
                "AccessDenied",
                403,
                "anonymous callers cannot create buckets",
            ))
        })?;
        let acl = bucket_acl(
            &cx,
            &me,
            input.acl.as_ref(),
            None,
            &[
                (Permission::FullControl, input.grant_full_control.as_ref()),
                (Permission::Read, input.grant_read.as_ref()),
                (Permission::ReadAcp, input.grant_read_acp.as_ref()),
                (Permission::Write, input.grant_write.as_ref()),
                (Permission::WriteAcp, input.grant_write_acp.as_ref()),
            ],
        )?;
        let ownership = match &input.object_ownership {
            Some(o) => Some(ownership_of(o).map_err(|e| cx.object_err(&e))?),
            None => None,
        };
        let bucket = input.bucket.clone();
        let wanted = acl.clone().unwrap_or_else(|| Acl::private(&me));
        let new = NewBucket {
            owner: None,
            acl,
            ownership,
            location,
            object_lock: input.object_lock_enabled_for_bucket.unwrap_or(false),
        };
        let result = cx
            .run(vec![], move |s| match s.create_bucket_with(&bucket, new) {
                // us-east-1 lets an owner "create" its bucket again, unchanged — unless the
                // request asks for another ACL.
                Err(ObjectError::BucketAlreadyExists(name)) => {
                    let b = s.store().bucket(&name)?;
                    let have = b.acl.clone().unwrap_or_else(|| Acl::private(&wanted.owner));
                    if have == wanted {
                        Ok(b)
                    } else {
                        Err(ObjectError::BucketAlreadyExistsElsewhere(name))
                    }
                }
                other => other,
            })
            .await?;
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", result.name)),
        }))
    }

    pub(super) async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let b = bucket.clone();
        cx.run(vec![], move |s| s.delete_bucket(&b)).await?;
        self.forget_logging(&bucket);
        Ok(S3Response::with_status(
            DeleteBucketOutput {},
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let b = cx.run(vec![], move |s| s.head_bucket(&bucket)).await?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(b.location.unwrap_or_else(|| self.region.clone())),
            ..HeadBucketOutput::default()
        }))
    }

    pub(super) async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let b = cx
            .run(vec![], move |s| {
                s.bucket_for("s3:GetBucketLocation", &bucket)
            })
            .await?;
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: b.location.map(BucketLocationConstraint::from),
        }))
    }

    pub(super) async fn get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let b = cx
            .run(vec![], move |s| {
                s.bucket_for("s3:GetBucketVersioning", &bucket)
            })
            .await?;
        use seedbed_engine::object::Versioning;
        let status = match b.versioning {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some(BucketVersioningStatus::ENABLED),
            Versioning::Suspended => Some(BucketVersioningStatus::SUSPENDED),
        };
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: status.map(|s| BucketVersioningStatus::from(s.to_string())),
            mfa_delete: None,
        }))
    }

    pub(super) async fn put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let enabled = match req
            .input
            .versioning_configuration
            .status
            .as_ref()
            .map(|s| s.as_str())
        {
            Some(BucketVersioningStatus::ENABLED) => true,
            Some(BucketVersioningStatus::SUSPENDED) => false,
            other => {
                return Err(cx.err(s3_error(
                    "MalformedXML",
                    400,
                    format!("versioning Status must be Enabled or Suspended, not {other:?}"),
                )))
            }
        };
        cx.run(vec![], move |s| s.set_versioning(&bucket, enabled))
            .await?;
        Ok(S3Response::new(PutBucketVersioningOutput {}))
    }

    pub(super) async fn get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let name = bucket.clone();
        let p = cx.run(vec![], move |s| s.bucket_policy(&bucket)).await?;
        match p {
            Some(p) => Ok(S3Response::new(GetBucketPolicyOutput { policy: Some(p) })),
            None => Err(cx.err(s3_error(
                "NoSuchBucketPolicy",
                404,
                format!("the bucket {name} has no policy"),
            ))),
        }
    }

    pub(super) async fn put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let policy = req.input.policy;
        cx.run(vec![], move |s| s.put_bucket_policy(&bucket, &policy))
            .await?;
        Ok(S3Response::with_status(
            PutBucketPolicyOutput {},
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(vec![], move |s| s.delete_bucket_policy(&bucket))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketPolicyOutput {},
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn put_bucket_tagging(
        &self,
        req: S3Request<PutBucketTaggingInput>,
    ) -> S3Result<S3Response<PutBucketTaggingOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let tags: Vec<(String, String)> = req
            .input
            .tagging
            .tag_set
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
            .collect();
        cx.run(vec![], move |s| s.put_bucket_tagging(&bucket, tags))
            .await?;
        // s3s writes 200 whatever the status here; `handle` in mod.rs makes it S3's 204.
        Ok(S3Response::new(PutBucketTaggingOutput {}))
    }

    pub(super) async fn get_bucket_tagging(
        &self,
        req: S3Request<GetBucketTaggingInput>,
    ) -> S3Result<S3Response<GetBucketTaggingOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let name = bucket.clone();
        let tags = cx
            .run(vec![], move |s| s.bucket_tagging(&bucket))
            .await
            // S3's NoSuchTagSet names the bucket (moto's AWS-verified test_get_bucket_tagging).
            .map_err(|e| match e.code().as_str() {
                "NoSuchTagSet" => with_element(e, "BucketName", &name),
                _ => e,
            })?;
        Ok(S3Response::new(GetBucketTaggingOutput {
            tag_set: tags
                .into_iter()
                .map(|(k, v)| Tag {
                    key: Some(k),
                    value: Some(v),
                })
                .collect(),
        }))
    }

    pub(super) async fn delete_bucket_tagging(
        &self,
        req: S3Request<DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<DeleteBucketTaggingOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(vec![], move |s| s.delete_bucket_tagging(&bucket))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketTaggingOutput {},
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let public = cx
            .run(vec![], move |s| s.bucket_policy_is_public(&bucket))
            .await?;
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(public),
            }),
        }))
    }

    /// GetBucketNotificationConfiguration: no bucket here has notifications (putting a
    /// configuration is not served), so the answer is S3's for a bucket without one, an empty
    /// `<NotificationConfiguration/>`, after the bucket is found and the caller allowed
    /// `s3:GetBucketNotification`. Tools that read it before anything else (minio-py, the aws
    /// cli's `get-bucket-notification-configuration`) get the truth instead of an error.
    pub(super) async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(vec![], move |s| {
            s.bucket_for("s3:GetBucketNotification", &bucket)
        })
        .await?;
        Ok(S3Response::new(
            GetBucketNotificationConfigurationOutput::default(),
        ))
    }

    pub(super) async fn get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let acl = cx.run(vec![], move |s| s.bucket_acl(&bucket)).await?;
        Ok(S3Response::new(GetBucketAclOutput {
            owner: Some(owner(&acl.owner)),
            grants: Some(grants(&acl)),
        }))
    }

    pub(super) async fn put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let bucket = input.bucket.clone();
        // The ACL's owner is the bucket's owner.
        let b = cx.run(vec![], move |s| s.store().bucket(&bucket)).await?;
        let bucket_owner = cx.guard.bucket_owner(&b);
        let acl = bucket_acl(
            &cx,
            &bucket_owner,
            input.acl.as_ref(),
            input.access_control_policy.as_ref(),
            &[
                (Permission::FullControl, input.grant_full_control.as_ref()),
                (Permission::Read, input.grant_read.as_ref()),
                (Permission::ReadAcp, input.grant_read_acp.as_ref()),
                (Permission::Write, input.grant_write.as_ref()),
                (Permission::WriteAcp, input.grant_write_acp.as_ref()),
            ],
        )?
        .ok_or_else(|| {
            cx.err(s3_error(
                "MissingSecurityHeader",
                400,
                "PutBucketAcl needs x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body",
            ))
        })?;
        let bucket = input.bucket;
        cx.run(vec![], move |s| s.put_bucket_acl(&bucket, acl))
            .await?;
        Ok(S3Response::new(PutBucketAclOutput {}))
    }

    pub(super) async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let name = bucket.clone();
        match cx.run(vec![], move |s| s.object_ownership(&bucket)).await? {
            Some(o) => Ok(S3Response::new(GetBucketOwnershipControlsOutput {
                ownership_controls: Some(OwnershipControls {
                    rules: vec![OwnershipControlsRule {
                        object_ownership: ObjectOwnership::from(o.name().to_string()),
                    }],
                }),
            })),
            None => Err(cx.err(s3_error(
                "OwnershipControlsNotFoundError",
                404,
                format!("the bucket {name} has no ownership controls"),
            ))),
        }
    }

    pub(super) async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let rules = req.input.ownership_controls.rules;
        let [rule] = rules.as_slice() else {
            return Err(cx.err(s3_error(
                "MalformedXML",
                400,
                "OwnershipControls needs exactly one rule",
            )));
        };
        let o = ownership_of(&rule.object_ownership).map_err(|e| cx.object_err(&e))?;
        cx.run(vec![], move |s| s.set_object_ownership(&bucket, Some(o)))
            .await?;
        Ok(S3Response::new(PutBucketOwnershipControlsOutput {}))
    }

    pub(super) async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(vec![], move |s| s.set_object_ownership(&bucket, None))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketOwnershipControlsOutput {},
            StatusCode::NO_CONTENT,
        ))
    }

    pub(super) async fn get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let name = bucket.clone();
        match cx
            .run(vec![], move |s| s.public_access_block(&bucket))
            .await?
        {
            Some(p) => Ok(S3Response::new(GetPublicAccessBlockOutput {
                public_access_block_configuration: Some(PublicAccessBlockConfiguration {
                    block_public_acls: Some(p.block_public_acls),
                    ignore_public_acls: Some(p.ignore_public_acls),
                    block_public_policy: Some(p.block_public_policy),
                    restrict_public_buckets: Some(p.restrict_public_buckets),
                }),
            })),
            None => Err(cx.err(s3_error(
                "NoSuchPublicAccessBlockConfiguration",
                404,
                format!("the bucket {name} has no Block Public Access configuration"),
            ))),
        }
    }

    pub(super) async fn put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let c = req.input.public_access_block_configuration;
        let p = Pab {
            block_public_acls: c.block_public_acls.unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
            block_public_policy: c.block_public_policy.unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
        };
        cx.run(vec![], move |s| s.set_public_access_block(&bucket, Some(p)))
            .await?;
        Ok(S3Response::new(PutPublicAccessBlockOutput {}))
    }

    pub(super) async fn delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(vec![], move |s| s.set_public_access_block(&bucket, None))
            .await?;
        Ok(S3Response::with_status(
            DeletePublicAccessBlockOutput {},
            StatusCode::NO_CONTENT,
        ))
    }
}

impl Cx {
    /// The caller's account as an owner (`None` for anonymous callers).
    pub fn caller_owner(&self) -> Option<seedbed_engine::object::Owner> {
        seedbed_engine::object::Guard::account_of(&self.caller.principal)
            .map(|a| self.guard.owner(&a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_go_where_s3_puts_them() {
        let at = |e: &str, c: Option<&str>| bucket_location(e, c.map(String::from));
        assert_eq!(at("us-east-1", None).unwrap(), None);
        assert_eq!(
            at("us-east-1", Some("eu-central-1")).unwrap().as_deref(),
            Some("eu-central-1")
        );
        assert_eq!(
            at("us-west-2", Some("us-west-2")).unwrap().as_deref(),
            Some("us-west-2")
        );
        let code_message = |r: Result<Option<String>, S3Error>| {
            let e = r.unwrap_err();
            (
                e.code().as_str().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        };
        assert_eq!(
            code_message(at("us-west-2", Some("us-east-1"))),
            (
                "IllegalLocationConstraintException".into(),
                "The us-east-1 location constraint is incompatible for the region specific endpoint this request was sent to.".into()
            )
        );
        assert!(code_message(at("us-east-2", None))
            .1
            .starts_with("The unspecified"));
        assert_eq!(
            code_message(at("us-east-1", Some("not a region"))).0,
            "InvalidLocationConstraint"
        );
        assert!(
            is_region_name("us-gov-east-2")
                && !is_region_name("us-east")
                && !is_region_name("US-east-1")
        );
    }
}
