//! Authorization of table requests with Seedbed's IAM engine, in DynamoDB's terms: the action
//! names (`dynamodb:GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`, `Query`), the table ARN
//! `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`, and the condition keys DynamoDB sets —
//! `dynamodb:LeadingKeys` (the partition key value: the fine-grained access control idiom
//! "users may only touch items whose partition key is their own id") and `dynamodb:Attributes`
//! (the attribute names a write sets).
//!
//! Every call through [`TableStore::as_caller`] is decided first; a denial is
//! [`TableError::AccessDenied`] and reads or writes nothing.

use std::sync::{Arc, RwLock};

use super::{Condition, Item, Page, Query, Result, TableError, TableStore};
pub use crate::iam::authorizer::Requester;
use crate::iam::authorizer::{Access, Authorizer};
use crate::iam::Policy;

/// The IAM side of a table: identities, where the table lives, and its resource-based policy.
#[derive(Debug, Clone)]
pub struct TableGuard {
    /// Users, groups, roles, SCPs; shared so that policy changes apply to the next request.
    pub authorizer: Arc<RwLock<Authorizer>>,
    /// The 12-digit account that owns the table.
    pub account: String,
    /// The region in the table's ARN.
    pub region: String,
    /// The table's resource-based policy, if any.
    pub resource_policy: Option<Arc<Policy>>,
}

impl TableStore {
    /// Switch on authorization for calls through [`TableStore::as_caller`].
    pub fn set_guard(&mut self, guard: TableGuard) {
        self.guard = Some(guard);
    }

    /// The table's ARN under `guard`.
    fn arn(&self, guard: &TableGuard) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            guard.region, guard.account, self.schema.name
        )
    }

    /// This table as `caller` sees it: every call is authorized first.
    pub fn as_caller<'a>(&'a self, caller: Requester<'a>) -> AuthorizedTable<'a> {
        AuthorizedTable {
            table: self,
            caller,
        }
    }
}

/// A [`TableStore`] seen by one caller.
#[derive(Debug)]
pub struct AuthorizedTable<'a> {
    table: &'a TableStore,
    caller: Requester<'a>,
}

impl AuthorizedTable<'_> {
    fn check(&self, action: &str, partition: &str, attributes: &[&str]) -> Result<()> {
        let Some(guard) = &self.table.guard else {
            return Err(TableError::AccessDenied(
                "this table has no authorizer configured (set_guard); refusing to run unchecked"
                    .into(),
            ));
        };
        let arn = self.table.arn(guard);
        let leading = [partition];
        let mut context: Vec<(&str, &[&str])> = self.caller.context.to_vec();
        context.push(("dynamodb:LeadingKeys", &leading));
        if !attributes.is_empty() {
            context.push(("dynamodb:Attributes", attributes));
        }
        let policies: Vec<Arc<Policy>> = guard.resource_policy.iter().cloned().collect();
        let access = Access {
            action,
            resource: &arn,
            resource_account: Some(&guard.account),
            resource_policies: &policies,
            context: &context,
            now_unix_ms: self.table.clock.unix_millis(),
        };
        let auth = guard.authorizer.read().unwrap_or_else(|p| p.into_inner());
        auth.check(self.caller.principal, &access)
            .map_err(|e| TableError::AccessDenied(format!("{e} (partition '{partition}')")))
    }

    /// GetItem.
    pub fn get(&self, partition: &str, sort: &str) -> Result<Option<Item>> {
        self.check("dynamodb:GetItem", partition, &[])?;
        self.table.get(partition, sort)
    }

    /// PutItem (`dynamodb:Attributes` = the item's attribute names).
    pub fn put(&self, item: Item, condition: Option<&Condition>) -> Result<()> {
        let partition = item
            .get(&self.table.schema.partition_key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                TableError::Invalid(format!(
                    "item needs a string attribute '{}'",
                    self.table.schema.partition_key
                ))
            })?
            .to_string();
        let names: Vec<&str> = item.keys().map(String::as_str).collect();
        self.check("dynamodb:PutItem", &partition, &names)?;
        self.table.put(item, condition)
    }

    /// DeleteItem.
    pub fn delete(
        &self,
        partition: &str,
        sort: &str,
        condition: Option<&Condition>,
    ) -> Result<Option<Item>> {
        self.check("dynamodb:DeleteItem", partition, &[])?;
        self.table.delete(partition, sort, condition)
    }

    /// UpdateItem (`dynamodb:Attributes` = the attributes set and removed).
    pub fn update(
        &self,
        partition: &str,
        sort: &str,
        set: Item,
        remove: &[String],
        condition: Option<&Condition>,
    ) -> Result<Item> {
        let names: Vec<&str> = set
            .keys()
            .map(String::as_str)
            .chain(remove.iter().map(String::as_str))
            .collect();
        self.check("dynamodb:UpdateItem", partition, &names)?;
        self.table.update(partition, sort, set, remove, condition)
    }

    /// Query one partition.
    pub fn query(&self, q: &Query) -> Result<Page> {
        self.check("dynamodb:Query", &q.partition, &[])?;
        self.table.query(q)
    }
}
