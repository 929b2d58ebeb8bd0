//! The S3 and DynamoDB action names and condition keys that Seedbed's object store and table
//! API put in a [`crate::iam::RequestContext`] when they call the
//! [`crate::iam::authorizer::Authorizer`].
//!
//! Names follow AWS's Service Authorization Reference so that real-world policies work
//! unchanged. Each entry gives the action, the resource ARN form it is authorized against and
//! the service-specific condition keys the service sets (global `aws:` keys — `aws:SourceIp`,
//! `aws:CurrentTime`, `aws:EpochTime`, `aws:SecureTransport`, `aws:PrincipalTag/*`,
//! `aws:RequestTag/*`, `aws:TagKeys`, `aws:username`, `aws:userid`, `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalType` — are set for every request where known).

/// One action a service authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    /// `service:ActionName`.
    pub action: &'static str,
    /// The resource ARN the request is authorized against.
    pub resource: &'static str,
    /// Service-specific condition keys the service puts in the context.
    pub condition_keys: &'static [&'static str],
}

/// S3 resource ARN forms: `arn:aws:s3:::BUCKET` and `arn:aws:s3:::BUCKET/KEY`. S3 ARNs carry
/// no account; the bucket owner's account goes in
/// [`crate::iam::RequestContext::set_resource_account`].
pub const S3_ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        action: "s3:ListAllMyBuckets",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:CreateBucket",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &["s3:x-amz-acl", "s3:LocationConstraint"],
    },
    ActionSpec {
        action: "s3:DeleteBucket",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &["s3:prefix", "s3:delimiter", "s3:max-keys"],
    },
    ActionSpec {
        action: "s3:ListBucketVersions",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &["s3:prefix", "s3:delimiter", "s3:max-keys"],
    },
    ActionSpec {
        action: "s3:ListBucketMultipartUploads",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetBucketPolicy",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:PutBucketPolicy",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:DeleteBucketPolicy",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetBucketVersioning",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:PutBucketVersioning",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &["s3:ExistingObjectTag/<key>"],
    },
    ActionSpec {
        action: "s3:GetObjectVersion",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &["s3:versionid", "s3:ExistingObjectTag/<key>"],
    },
    ActionSpec {
        action: "s3:PutObject",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &[
            "s3:x-amz-acl",
            "s3:x-amz-server-side-encryption",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
            "s3:x-amz-storage-class",
            "s3:RequestObjectTag/<key>",
            "s3:RequestObjectTagKeys",
            "s3:x-amz-content-sha256",
        ],
    },
    ActionSpec {
        action: "s3:DeleteObject",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:DeleteObjectVersion",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &["s3:versionid"],
    },
    ActionSpec {
        action: "s3:AbortMultipartUpload",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:ListMultipartUploadParts",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:PutBucketLogging",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetBucketLogging",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetBucketNotification",
        resource: "arn:aws:s3:::BUCKET",
        condition_keys: &[],
    },
    ActionSpec {
        action: "s3:GetObjectTagging",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &["s3:ExistingObjectTag/<key>"],
    },
    ActionSpec {
        action: "s3:PutObjectTagging",
        resource: "arn:aws:s3:::BUCKET/KEY",
        condition_keys: &["s3:RequestObjectTag/<key>", "s3:RequestObjectTagKeys"],
    },
];

/// DynamoDB resource ARN forms: `arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE` and
/// `.../table/TABLE/index/INDEX`.
pub const DYNAMODB_ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        action: "dynamodb:CreateTable",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DeleteTable",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DescribeTable",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ListTables",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:GetItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[
            "dynamodb:LeadingKeys",
            "dynamodb:Attributes",
            "dynamodb:Select",
            "dynamodb:ReturnConsumedCapacity",
        ],
    },
    ActionSpec {
        action: "dynamodb:BatchGetItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[
            "dynamodb:LeadingKeys",
            "dynamodb:Attributes",
            "dynamodb:Select",
        ],
    },
    ActionSpec {
        action: "dynamodb:PutItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[
            "dynamodb:LeadingKeys",
            "dynamodb:Attributes",
            "dynamodb:ReturnValues",
        ],
    },
    ActionSpec {
        action: "dynamodb:UpdateItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[
            "dynamodb:LeadingKeys",
            "dynamodb:Attributes",
            "dynamodb:ReturnValues",
        ],
    },
    ActionSpec {
        action: "dynamodb:DeleteItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["dynamodb:LeadingKeys", "dynamodb:ReturnValues"],
    },
    ActionSpec {
        action: "dynamodb:BatchWriteItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["dynamodb:LeadingKeys", "dynamodb:Attributes"],
    },
    ActionSpec {
        action: "dynamodb:Query",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE (or .../index/INDEX)",
        condition_keys: &[
            "dynamodb:LeadingKeys",
            "dynamodb:Attributes",
            "dynamodb:Select",
        ],
    },
    ActionSpec {
        action: "dynamodb:Scan",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE (or .../index/INDEX)",
        condition_keys: &["dynamodb:Attributes", "dynamodb:Select"],
    },
    ActionSpec {
        action: "dynamodb:ConditionCheckItem",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["dynamodb:LeadingKeys", "dynamodb:Attributes"],
    },
    ActionSpec {
        action: "dynamodb:UpdateTimeToLive",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:GetResourcePolicy",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:PutResourcePolicy",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:UpdateContinuousBackups",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DescribeContinuousBackups",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ImportTable",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DescribeImport",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/import/ID",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ListImports",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ExportTableToPointInTime",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DescribeExport",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/export/ID",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ListExports",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:UpdateTable",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["aws:ResourceTag/<key>"],
    },
    ActionSpec {
        action: "dynamodb:TagResource",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &[
            "aws:ResourceTag/<key>",
            "aws:RequestTag/<key>",
            "aws:TagKeys",
        ],
    },
    ActionSpec {
        action: "dynamodb:UntagResource",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["aws:ResourceTag/<key>", "aws:TagKeys"],
    },
    ActionSpec {
        action: "dynamodb:ListTagsOfResource",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE",
        condition_keys: &["aws:ResourceTag/<key>"],
    },
    ActionSpec {
        action: "dynamodb:DescribeLimits",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:ListStreams",
        resource: "*",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:DescribeStream",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:GetShardIterator",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL",
        condition_keys: &[],
    },
    ActionSpec {
        action: "dynamodb:GetRecords",
        resource: "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL",
        condition_keys: &[],
    },
];

/// The spec of an action name (case-insensitive), if Seedbed's services authorize it.
pub fn lookup(action: &str) -> Option<&'static ActionSpec> {
    S3_ACTIONS
        .iter()
        .chain(DYNAMODB_ACTIONS.iter())
        .find(|a| a.action.eq_ignore_ascii_case(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_service_colon_name_and_unique() {
        let all: Vec<_> = S3_ACTIONS.iter().chain(DYNAMODB_ACTIONS).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(a.action.starts_with("s3:") || a.action.starts_with("dynamodb:"));
            assert!(all[i + 1..]
                .iter()
                .all(|b| !b.action.eq_ignore_ascii_case(a.action)));
        }
        assert_eq!(lookup("S3:GETOBJECT").unwrap().action, "s3:GetObject");
    }
}
