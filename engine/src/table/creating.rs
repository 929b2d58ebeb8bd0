//! Tables an import is creating. DynamoDB's ImportTable makes its table `CREATING` until the
//! import ends: DescribeTable and ListTables show it, everything else is refused — a change
//! to it (DeleteTable, UpdateTable, …) with `ResourceInUseException`, a read or write of its
//! items with `ResourceNotFoundException`, as for a table that does not exist yet. The
//! import's own writes go around the check (they call [`Tables::execute`] directly; a
//! client's request passes [`Tables::check_created`] first).

use super::error::{DynamoError, ErrorKind, Result};
use super::request::Request;
use super::store::{lock, Tables};

/// What a client may do with a table that is being created.
enum WhileCreating {
    /// Look at it.
    Allowed,
    /// Change it: ResourceInUse.
    InUse,
    /// Read or write its items: ResourceNotFound.
    NotYet,
}

fn while_creating(action: &str) -> WhileCreating {
    match action.strip_prefix("dynamodb:").unwrap_or(action) {
        // CreateTable of the same name is refused by CreateTable itself: the table exists.
        "DescribeTable"
        | "ListTables"
        | "DescribeTimeToLive"
        | "DescribeContinuousBackups"
        | "GetResourcePolicy"
        | "ListTagsOfResource"
        | "ListStreams"
        | "DescribeStream"
        | "CreateTable" => WhileCreating::Allowed,
        "DeleteTable"
        | "UpdateTable"
        | "UpdateTimeToLive"
        | "UpdateContinuousBackups"
        | "PutResourcePolicy"
        | "TagResource"
        | "UntagResource"
        | "DeleteResourcePolicy" => WhileCreating::InUse,
        _ => WhileCreating::NotYet,
    }
}

/// The table an authorization resource names (`…:table/NAME`, or one of its indexes).
fn table_of(resource: &str) -> Option<&str> {
    let rest = &resource[resource.find(":table/")? + ":table/".len()..];
    Some(rest.split('/').next().unwrap_or(rest))
}

impl Tables {
    /// Mark `name` as being created (before the import creates it).
    pub fn begin_creating(&self, name: &str) {
        lock(&self.creating).insert(name.to_string());
    }

    /// The import that created `name` has ended: the table is `ACTIVE`.
    pub fn end_creating(&self, name: &str) {
        lock(&self.creating).remove(name);
    }

    /// Whether an import is creating `name`.
    pub fn is_creating(&self, name: &str) -> bool {
        let creating = lock(&self.creating);
        !creating.is_empty() && creating.contains(name)
    }

    /// Refuse a client's `req` if it touches a table being created, in DynamoDB's words.
    pub fn check_created(&self, req: &Request) -> Result<()> {
        if lock(&self.creating).is_empty() {
            return Ok(());
        }
        for c in self.checks(req) {
            let Some(name) = table_of(&c.resource).filter(|n| self.is_creating(n)) else {
                continue;
            };
            match while_creating(&c.action) {
                WhileCreating::Allowed => {}
                WhileCreating::InUse => {
                    return Err(DynamoError::new(
                        ErrorKind::ResourceInUse,
                        format!(
                            "Attempt to change a resource which is still in use: Table is being \
                             created: {name}"
                        ),
                    ))
                }
                WhileCreating::NotYet => return Err(DynamoError::item_table_not_found()),
            }
        }
        Ok(())
    }
}
