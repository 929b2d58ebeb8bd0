//! AWS-managed policies a user, group or role may attach by ARN (`AttachUserPolicy` with
//! `arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess`): the ones about the services this server
//! speaks (S3, DynamoDB, IAM, STS), with the statements AWS publishes for those services. AWS's
//! own versions also grant actions of services that are not here (CloudWatch, KMS, ...);
//! those statements are left out, since nothing here could be allowed by them.

use serde_json::{json, Value};

/// The ARN prefix of AWS-managed policies.
pub const AWS_MANAGED: &str = "arn:aws:iam::aws:policy/";

/// The policies served, by name.
const POLICIES: &[(&str, &[&str])] = &[
    ("AdministratorAccess", &["*"]),
    ("AmazonS3FullAccess", &["s3:*", "s3-object-lambda:*"]),
    (
        "AmazonS3ReadOnlyAccess",
        &[
            "s3:Get*",
            "s3:List*",
            "s3:Describe*",
            "s3-object-lambda:Get*",
            "s3-object-lambda:List*",
        ],
    ),
    ("AmazonDynamoDBFullAccess", &["dynamodb:*"]),
    (
        "AmazonDynamoDBReadOnlyAccess",
        &[
            "dynamodb:BatchGetItem",
            "dynamodb:Describe*",
            "dynamodb:List*",
            "dynamodb:GetItem",
            "dynamodb:GetResourcePolicy",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:PartiQLSelect",
        ],
    ),
    ("IAMFullAccess", &["iam:*"]),
    (
        "IAMReadOnlyAccess",
        &[
            "iam:GenerateCredentialReport",
            "iam:GenerateServiceLastAccessedDetails",
            "iam:Get*",
            "iam:List*",
            "iam:SimulateCustomPolicy",
            "iam:SimulatePrincipalPolicy",
        ],
    ),
];

/// The document of the AWS-managed policy `arn`, if this server has it.
pub fn document(arn: &str) -> Option<Value> {
    let name = arn.strip_prefix(AWS_MANAGED)?;
    let (_, actions) = POLICIES.iter().find(|(n, _)| *n == name)?;
    Some(json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    }))
}

/// The policy's name (`AmazonS3FullAccess`) from its ARN.
pub fn name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The names of every policy served (for messages).
pub fn names() -> Vec<&'static str> {
    POLICIES.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::iam::{Policy, PolicyKind};

    #[test]
    fn every_managed_policy_is_a_valid_identity_policy_and_others_are_unknown() {
        for n in names() {
            let doc = document(&format!("{AWS_MANAGED}{n}")).unwrap();
            Policy::from_value(&doc, PolicyKind::Identity).unwrap();
        }
        assert_eq!(
            document("arn:aws:iam::aws:policy/AmazonEC2FullAccess"),
            None
        );
        assert_eq!(document("arn:aws:iam::123456789012:policy/Mine"), None);
        assert_eq!(
            name("arn:aws:iam::aws:policy/IAMFullAccess"),
            "IAMFullAccess"
        );
    }
}
