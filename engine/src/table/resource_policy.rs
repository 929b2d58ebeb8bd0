//! Resource-based policies on tables: PutResourcePolicy, GetResourcePolicy and
//! DeleteResourcePolicy, with DynamoDB's revision ids and its words for a revision that does
//! not match (moto's AWS-verified tests). The policy is kept in the table's catalog record
//! (`TableDef::resource_policy`), and [`TableState`](super::store::TableState) holds it parsed:
//! every request on the table is decided with it as the resource-based policy, beside the
//! caller's identity policies (`auth.rs`) — which is how another account's principals get in,
//! as with S3's bucket policies.

use std::sync::Arc;

use super::error::{DynamoError, ErrorKind, Result};
use super::schema::{self, ResourcePolicy};
use super::store::Tables;
use crate::iam::{Policy, PolicyKind};

/// `ExpectedRevisionId` meaning "only if the table has no policy yet".
pub const NO_POLICY: &str = "NO_POLICY";

/// Most bytes in a resource-based policy (DynamoDB's limit).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

fn not_found(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::new(
        ErrorKind::PolicyNotFound,
        format!("Resource-based policy not found for the provided ResourceArn: {detail}"),
    )
}

/// Parse a table's policy document as a resource-based policy.
pub fn parse_policy(document: &str) -> Result<Arc<Policy>> {
    Policy::parse(document, PolicyKind::Resource)
        .map(Arc::new)
        .map_err(|e| DynamoError::validation(format!("Invalid policy document: {e}")))
}

impl Tables {
    /// The table a `ResourceArn` names (its name part; an unknown one is the ResourceNotFound
    /// DynamoDB words with the name).
    fn policy_table(&self, arn: &str) -> Result<Arc<super::store::TableState>> {
        let name = schema::arn_table_name(arn).unwrap_or(arn);
        self.table(arn)
            .map_err(|_| DynamoError::table_not_found(name))
    }

    /// PutResourcePolicy: attach `document` to the table `arn` names, if the table's current
    /// revision is `expected` (`NO_POLICY`: none) when one is given. Putting the policy the
    /// table has is a no-op that answers its revision. Returns the new revision id.
    pub fn put_resource_policy(
        &self,
        arn: &str,
        document: &str,
        expected: Option<&str>,
    ) -> Result<String> {
        if document.len() > MAX_POLICY_BYTES {
            return Err(DynamoError::validation(format!(
                "Policy document is {} bytes; a resource-based policy has at most {MAX_POLICY_BYTES}",
                document.len()
            )));
        }
        parse_policy(document)?;
        let _w = self.lock_writes();
        let t = self.policy_table(arn)?;
        let current = t.def.resource_policy.as_ref();
        check_revision(&t.def.name, current, expected)?;
        if let Some(c) = current.filter(|c| c.document == document) {
            return Ok(c.revision.clone());
        }
        // Milliseconds of the put, kept above the last revision so that ids only grow.
        let last: u64 = current.and_then(|c| c.revision.parse().ok()).unwrap_or(0);
        let revision = self.clock.unix_millis().max(last + 1).to_string();
        let mut def = t.def.clone();
        def.resource_policy = Some(ResourcePolicy {
            document: document.to_string(),
            revision: revision.clone(),
        });
        self.replace_definition(def, t.stats())?;
        Ok(revision)
    }

    /// GetResourcePolicy: the document and its revision.
    pub fn get_resource_policy(&self, arn: &str) -> Result<ResourcePolicy> {
        let t = self.policy_table(arn)?;
        t.def.resource_policy.clone().ok_or_else(|| not_found(arn))
    }

    /// DeleteResourcePolicy: remove the policy, if its revision is `expected` when one is
    /// given. Returns the revision removed.
    pub fn delete_resource_policy(&self, arn: &str, expected: Option<&str>) -> Result<String> {
        let _w = self.lock_writes();
        let t = self.policy_table(arn)?;
        let Some(current) = t.def.resource_policy.clone() else {
            return Err(not_found(arn));
        };
        check_revision(&t.def.name, Some(&current), expected)?;
        let mut def = t.def.clone();
        def.resource_policy = None;
        self.replace_definition(def, t.stats())?;
        Ok(current.revision)
    }
}

/// Whether a request expecting revision `expected` may change a table whose policy is
/// `current`, in DynamoDB's words when not.
fn check_revision(
    table: &str,
    current: Option<&ResourcePolicy>,
    expected: Option<&str>,
) -> Result<()> {
    match (expected, current) {
        (None, _) | (Some(NO_POLICY), None) => Ok(()),
        (Some(NO_POLICY), Some(c)) => Err(not_found(format!(
            "Requested policy update expecting none to be present for table {table}, but a policy exists with revision id {}.",
            c.revision
        ))),
        (Some(want), Some(c)) if want == c.revision => Ok(()),
        (Some(want), Some(c)) => Err(not_found(format!(
            "Requested update for policy with revision id {want}, but the policy associated to target table {table} has revision id {}.",
            c.revision
        ))),
        (Some(want), None) => Err(not_found(format!(
            "Requested update for policy with revision id {want}, but target table {table} has no policy."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rev: &str) -> ResourcePolicy {
        ResourcePolicy {
            document: "{}".into(),
            revision: rev.into(),
        }
    }

    #[test]
    fn revisions_are_checked_in_dynamodb_s_words() {
        assert!(check_revision("t", None, None).is_ok());
        assert!(check_revision("t", None, Some(NO_POLICY)).is_ok());
        assert!(check_revision("t", Some(&policy("5")), Some("5")).is_ok());
        let e = check_revision("t", Some(&policy("5")), Some(NO_POLICY)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PolicyNotFound);
        assert_eq!(
            e.message,
            "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table t, but a policy exists with revision id 5."
        );
        let e = check_revision("t", Some(&policy("6")), Some("5")).unwrap_err();
        assert!(e.message.ends_with(
            "revision id 5, but the policy associated to target table t has revision id 6."
        ));
        assert!(check_revision("t", None, Some("5")).is_err());
    }
}
