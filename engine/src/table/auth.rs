//! Authorization of table requests with Seedbed's IAM engine, in DynamoDB's terms: the action
//! names (`dynamodb:GetItem`, …), the table ARN `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`
//! (an index's `…/index/NAME`), and the condition keys DynamoDB sets:
//!
//! * `dynamodb:LeadingKeys` — the partition key values the request touches (the fine-grained
//!   access idiom "users may only touch items whose partition key is their own id");
//! * `dynamodb:Attributes` — the top-level attribute names the request reads or writes;
//! * `dynamodb:Select` — the Select parameter of Query and Scan;
//! * `dynamodb:ReturnValues` — the ReturnValues parameter of writes;
//! * `aws:ResourceTag/<key>` — the table's tags (attribute-based access control), and
//!   `aws:RequestTag/<key>` and `aws:TagKeys` — the tags CreateTable, TagResource and
//!   UntagResource set or remove.
//!
//! A request is allowed only if every check [`checks`] derives from it is allowed; a denial
//! reads and writes nothing. Transactions need the individual actions (`dynamodb:PutItem`, …)
//! on each table they touch, as in DynamoDB.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::error::{DynamoError, ErrorKind, Result};
use super::expr::ast::{Clause, Elem};
use super::expr::{self};
use super::request::{Request, TransactWrite};
use super::schema;
use super::store::Tables;
use super::value::{AttributeValue, Item};
pub use crate::iam::authorizer::Requester;
use crate::iam::authorizer::{Access, Authorizer};
use crate::iam::Policy;

/// One authorization question a request asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `dynamodb:Action`.
    pub action: String,
    /// Table (or index) ARN.
    pub resource: String,
    /// dynamodb:LeadingKeys values.
    pub leading_keys: Vec<String>,
    /// dynamodb:Attributes values.
    pub attributes: Vec<String>,
    /// dynamodb:Select.
    pub select: Option<String>,
    /// dynamodb:ReturnValues.
    pub return_values: Option<String>,
    /// The tags a request sets (CreateTable, TagResource): `aws:RequestTag/<key>`, and their
    /// keys in `aws:TagKeys`.
    pub request_tags: Vec<(String, String)>,
    /// The tag keys a request removes (UntagResource): `aws:TagKeys`.
    pub tag_keys: Vec<String>,
}

impl Check {
    /// A check of `action` (`dynamodb:…`) on `resource`, with no condition keys.
    pub fn new(action: &str, resource: &str) -> Check {
        Check {
            action: action.to_string(),
            resource: resource.to_string(),
            leading_keys: Vec::new(),
            attributes: Vec::new(),
            select: None,
            return_values: None,
            request_tags: Vec::new(),
            tag_keys: Vec::new(),
        }
    }
}

/// A key value as IAM sees it: strings and numbers as text, binaries as lowercase hex.
fn key_text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        other => format!("{other:?}"),
    }
}

fn top_names_of_projection(
    src: Option<&str>,
    names: Option<&super::request::Names>,
) -> Vec<String> {
    let Some(src) = src else { return Vec::new() };
    let Ok(paths) = expr::parser::parse_projection(src) else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(|p| match p.first() {
            Some(Elem::Name(n)) if n.is_ref => names.and_then(|m| m.get(&n.text)).cloned(),
            Some(Elem::Name(n)) => Some(n.text.clone()),
            _ => None,
        })
        .collect()
}

fn update_names(src: Option<&str>, names: Option<&super::request::Names>) -> Vec<String> {
    let Some(src) = src else { return Vec::new() };
    let Ok(u) = expr::parser::parse_update(src) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |p: &expr::ast::RawPath| {
        if let Some(Elem::Name(n)) = p.first() {
            if n.is_ref {
                if let Some(v) = names.and_then(|m| m.get(&n.text)) {
                    out.push(v.clone());
                }
            } else {
                out.push(n.text.clone());
            }
        }
    };
    for c in &u.clauses {
        match c {
            Clause::Set(a) => a.iter().for_each(|(p, _)| push(p)),
            Clause::Remove(ps) => ps.iter().for_each(&mut push),
            Clause::Add(a) | Clause::Delete(a) => a.iter().for_each(|(p, _)| push(p)),
        }
    }
    out
}

impl Tables {
    /// The resource a request on `table` (a name, or already an ARN) is authorized against.
    fn arn(&self, table: &str) -> String {
        match schema::arn_table_name(table) {
            Some(_) => table.to_string(),
            None => self.table_arn(table),
        }
    }

    fn leading(&self, table: &str, key: &Item) -> Vec<String> {
        match self.table(table) {
            Ok(t) => key
                .get(&t.def.hash.name)
                .map(key_text)
                .into_iter()
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn key_attr_names(&self, table: &str) -> Vec<String> {
        self.table(table)
            .map(|t| t.def.key_names().into_iter().map(String::from).collect())
            .unwrap_or_default()
    }

    /// The authorization checks a request needs.
    pub fn checks(&self, req: &Request) -> Vec<Check> {
        let check =
            |action: &str, table: &str| Check::new(&format!("dynamodb:{action}"), &self.arn(table));
        let tagging = |action: &str, table: &str, tags: &[(String, String)], keys: &[String]| {
            let mut c = check(action, table);
            c.request_tags = tags.to_vec();
            c.tag_keys = keys.to_vec();
            c
        };
        let with_keys = |mut c: Check, names: Vec<String>, extra: Vec<String>| {
            let mut set: BTreeSet<String> = names.into_iter().collect();
            set.extend(extra);
            c.attributes = set.into_iter().collect();
            c
        };
        match req {
            Request::CreateTable(i) => vec![tagging("CreateTable", &i.name, &i.tags, &[])],
            Request::DescribeTable(n) => vec![check("DescribeTable", n)],
            Request::ListTables(..) => vec![Check {
                resource: "*".into(),
                ..check("ListTables", "*")
            }],
            Request::DeleteTable(n) => vec![check("DeleteTable", n)],
            Request::UpdateTable(i) => vec![check("UpdateTable", &i.name)],
            Request::TagResource(arn, tags) => vec![tagging("TagResource", arn, tags, &[])],
            Request::UntagResource(arn, keys) => vec![tagging("UntagResource", arn, &[], keys)],
            Request::ListTagsOfResource(arn) => vec![check("ListTagsOfResource", arn)],
            Request::DescribeLimits => vec![Check {
                resource: "*".into(),
                ..check("DescribeLimits", "*")
            }],
            // Streams: on the stream's ARN (a table's resource policy does not cover its
            // streams, as in DynamoDB); GetRecords on the stream its iterator reads.
            Request::ListStreams(..) => vec![Check::new("dynamodb:ListStreams", "*")],
            Request::DescribeStream(arn, _) => vec![Check::new("dynamodb:DescribeStream", arn)],
            Request::GetShardIterator(arn, ..) => {
                vec![Check::new("dynamodb:GetShardIterator", arn)]
            }
            Request::GetRecords(it, _) => vec![Check::new(
                "dynamodb:GetRecords",
                &super::streams::iterator_arn(it).unwrap_or_default(),
            )],
            Request::UpdateTimeToLive(n, ..) => vec![check("UpdateTimeToLive", n)],
            Request::DescribeTimeToLive(n) => vec![check("DescribeTimeToLive", n)],
            Request::UpdateContinuousBackups(n, _) => vec![check("UpdateContinuousBackups", n)],
            Request::DescribeContinuousBackups(n) => vec![check("DescribeContinuousBackups", n)],
            Request::ExecuteStatement(st) => self.statement_checks(std::slice::from_ref(st)),
            Request::BatchExecuteStatement(sts) | Request::ExecuteTransaction(sts, _) => {
                self.statement_checks(sts)
            }
            Request::PutResourcePolicy(arn, ..) => vec![check("PutResourcePolicy", arn)],
            Request::GetResourcePolicy(arn) => vec![check("GetResourcePolicy", arn)],
            Request::DeleteResourcePolicy(arn, _) => vec![check("DeleteResourcePolicy", arn)],
            Request::GetItem(r) => {
                let mut c = check("GetItem", &r.table);
                c.leading_keys = self.leading(&r.table, &r.key);
                let mut attrs = top_names_of_projection(r.projection.as_deref(), r.names.as_ref());
                attrs.extend(r.attributes_to_get.clone().unwrap_or_default());
                let extra = if attrs.is_empty() {
                    Vec::new()
                } else {
                    self.key_attr_names(&r.table)
                };
                vec![with_keys(c, attrs, extra)]
            }
            Request::PutItem(r) => {
                let mut c = check("PutItem", &r.table);
                c.leading_keys = self.leading(&r.table, &r.item);
                c.return_values = Some(r.return_values.clone().unwrap_or_else(|| "NONE".into()));
                vec![with_keys(c, r.item.keys().cloned().collect(), Vec::new())]
            }
            Request::UpdateItem(r) => {
                let mut c = check("UpdateItem", &r.table);
                c.leading_keys = self.leading(&r.table, &r.key);
                c.return_values = Some(r.return_values.clone().unwrap_or_else(|| "NONE".into()));
                let mut attrs = update_names(r.update.as_deref(), r.names.as_ref());
                attrs.extend(
                    r.attribute_updates
                        .as_ref()
                        .map(|a| a.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default(),
                );
                vec![with_keys(c, attrs, self.key_attr_names(&r.table))]
            }
            Request::DeleteItem(r) => {
                let mut c = check("DeleteItem", &r.table);
                c.leading_keys = self.leading(&r.table, &r.key);
                c.return_values = Some(r.return_values.clone().unwrap_or_else(|| "NONE".into()));
                vec![c]
            }
            Request::Query(q) | Request::Scan(q) => {
                let op = req.operation();
                let mut c = check(op, &q.table);
                if let Some(ix) = &q.index {
                    c.resource = format!("{}/index/{ix}", self.arn(&q.table));
                }
                if op == "Query" {
                    if let Ok(t) = self.table(&q.table) {
                        let hash = match q.index.as_deref().and_then(|i| t.def.index(i)) {
                            Some(ix) => ix.hash.name.clone(),
                            None => t.def.hash.name.clone(),
                        };
                        c.leading_keys = query_partition(q, &hash)
                            .map(|v| key_text(&v))
                            .into_iter()
                            .collect();
                    }
                }
                c.select = Some(q.select.clone().unwrap_or_else(|| {
                    if q.projection.is_some() || q.attributes_to_get.is_some() {
                        "SPECIFIC_ATTRIBUTES".into()
                    } else if q.index.is_some() {
                        "ALL_PROJECTED_ATTRIBUTES".into()
                    } else {
                        "ALL_ATTRIBUTES".into()
                    }
                }));
                let mut attrs = top_names_of_projection(q.projection.as_deref(), q.names.as_ref());
                attrs.extend(q.attributes_to_get.clone().unwrap_or_default());
                let extra = if attrs.is_empty() {
                    Vec::new()
                } else {
                    self.key_attr_names(&q.table)
                };
                vec![with_keys(c, attrs, extra)]
            }
            Request::BatchGetItem(r, _) => r
                .iter()
                .map(|(table, ka)| {
                    let mut c = check("BatchGetItem", table);
                    c.leading_keys = ka
                        .keys
                        .iter()
                        .flat_map(|k| self.leading(table, k))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let mut attrs =
                        top_names_of_projection(ka.projection.as_deref(), ka.names.as_ref());
                    attrs.extend(ka.attributes_to_get.clone().unwrap_or_default());
                    let extra = if attrs.is_empty() {
                        Vec::new()
                    } else {
                        self.key_attr_names(table)
                    };
                    with_keys(c, attrs, extra)
                })
                .collect(),
            Request::BatchWriteItem(r, _) => r
                .iter()
                .map(|(table, reqs)| {
                    let mut c = check("BatchWriteItem", table);
                    let mut lk = BTreeSet::new();
                    let mut attrs = BTreeSet::new();
                    for w in reqs {
                        match w {
                            super::request::WriteRequest::Put(i) => {
                                lk.extend(self.leading(table, i));
                                attrs.extend(i.keys().cloned());
                            }
                            super::request::WriteRequest::Delete(k) => {
                                lk.extend(self.leading(table, k))
                            }
                        }
                    }
                    c.leading_keys = lk.into_iter().collect();
                    c.attributes = attrs.into_iter().collect();
                    c
                })
                .collect(),
            Request::TransactWriteItems(actions, ..) => actions
                .iter()
                .flat_map(|a| match a {
                    TransactWrite::Put(p) => self.checks(&Request::PutItem(p.clone())),
                    TransactWrite::Update(u) => self.checks(&Request::UpdateItem(u.clone())),
                    TransactWrite::Delete(d) => self.checks(&Request::DeleteItem(d.clone())),
                    TransactWrite::Check(k) => {
                        let mut c = check("ConditionCheckItem", &k.table);
                        c.leading_keys = self.leading(&k.table, &k.key);
                        vec![c]
                    }
                })
                .collect(),
            Request::TransactGetItems(gets, _) => gets
                .iter()
                .flat_map(|g| {
                    self.checks(&Request::GetItem(super::request::GetItem {
                        table: g.table.clone(),
                        key: g.key.clone(),
                        projection: g.projection.clone(),
                        names: g.names.clone(),
                        ..Default::default()
                    }))
                })
                .collect(),
        }
    }

    /// What PartiQL statements ask: `dynamodb:PartiQL*` on the table or index each names (one
    /// that does not parse asks nothing; it fails when run, having touched nothing).
    fn statement_checks(&self, statements: &[super::partiql::Statement]) -> Vec<Check> {
        statements
            .iter()
            .filter_map(super::partiql::target)
            .map(|(action, table, index)| {
                let mut c = Check::new(&format!("dynamodb:{action}"), &self.arn(&table));
                if let Some(ix) = index {
                    c.resource = format!("{}/index/{ix}", self.arn(&table));
                }
                c
            })
            .collect()
    }

    /// The resource-based policy of the table a check's resource (a table or index ARN) names.
    /// The table `resource` is, or is an index of: whose resource-based policy and tags the
    /// check is decided with. None for anything else — a stream is a resource of its own,
    /// covered by neither, as in DynamoDB.
    fn resource_table(&self, resource: &str) -> Option<Arc<super::store::TableState>> {
        if resource.contains("/stream/") {
            return None;
        }
        let table_arn = resource.split_once("/index/").map_or(resource, |(t, _)| t);
        schema::arn_table_name(table_arn)?;
        self.table(table_arn).ok()
    }

    /// Decide `req` for `caller` under `authorizer`, with the resource-based policy of each
    /// table the request touches (PutResourcePolicy) and `resource_policy`, if given (one for
    /// every table: the simulator's IAM workloads). `Ok` only if every check is allowed; the
    /// error is DynamoDB's AccessDeniedException.
    pub fn authorize(
        &self,
        authorizer: &Authorizer,
        caller: &Requester<'_>,
        resource_policy: Option<&Arc<Policy>>,
        req: &Request,
    ) -> Result<()> {
        self.authorize_checks(authorizer, caller, resource_policy, &self.checks(req))
    }

    /// Decide `checks` as [`Tables::authorize`] decides a request's: for operations whose
    /// checks are made outside this module (import and export, in the endpoint).
    pub fn authorize_checks(
        &self,
        authorizer: &Authorizer,
        caller: &Requester<'_>,
        resource_policy: Option<&Arc<Policy>>,
        checks: &[Check],
    ) -> Result<()> {
        for c in checks {
            // One catalog look-up per check: the table's policy and its tags.
            let table = self.resource_table(&c.resource);
            let policies: Vec<Arc<Policy>> = resource_policy
                .cloned()
                .into_iter()
                .chain(table.as_ref().and_then(|t| t.policy.clone()))
                .collect();
            let lk: Vec<&str> = c.leading_keys.iter().map(String::as_str).collect();
            let attrs: Vec<&str> = c.attributes.iter().map(String::as_str).collect();
            let select: Vec<&str> = c.select.iter().map(String::as_str).collect();
            let rv: Vec<&str> = c.return_values.iter().map(String::as_str).collect();
            // Attribute-based access control: the table's tags as `aws:ResourceTag/<key>`
            // (on the table and its indexes; a stream is a resource of its own), the tags a
            // request sets as `aws:RequestTag/<key>`, and the keys it sets or removes as
            // `aws:TagKeys`.
            let resource_tags: Vec<(String, [&str; 1])> = table
                .iter()
                .flat_map(|t| t.def.tags.iter())
                .map(|(k, v)| (format!("aws:ResourceTag/{k}"), [v.as_str()]))
                .collect();
            let request_tags: Vec<(String, [&str; 1])> = c
                .request_tags
                .iter()
                .map(|(k, v)| (format!("aws:RequestTag/{k}"), [v.as_str()]))
                .collect();
            let tag_keys: Vec<&str> = c
                .request_tags
                .iter()
                .map(|(k, _)| k.as_str())
                .chain(c.tag_keys.iter().map(String::as_str))
                .collect();
            let mut context: Vec<(&str, &[&str])> = caller.context.to_vec();
            context.extend(resource_tags.iter().map(|(k, v)| (k.as_str(), &v[..])));
            context.extend(request_tags.iter().map(|(k, v)| (k.as_str(), &v[..])));
            if !tag_keys.is_empty() {
                context.push(("aws:TagKeys", &tag_keys));
            }
            if !lk.is_empty() {
                context.push(("dynamodb:LeadingKeys", &lk));
            }
            if !attrs.is_empty() {
                context.push(("dynamodb:Attributes", &attrs));
            }
            if !select.is_empty() {
                context.push(("dynamodb:Select", &select));
            }
            if !rv.is_empty() {
                context.push(("dynamodb:ReturnValues", &rv));
            }
            // The account the resource's ARN names: a table of another account is not this
            // store's, and the caller's own policies cannot grant it (IAM's cross-account
            // rule: only a policy of that account could), so such a request is denied before
            // anything looks for the table — DynamoDB's AccessDeniedException for a
            // well-formed ARN of another account (the DynamoDB Conformance Suite, against
            // DynamoDB).
            // An ARN without an account id is this store's (never the caller's: a table named
            // so must not become another account's own resource).
            let resource_account =
                crate::iam::authorizer::account_of(&c.resource).unwrap_or(&self.account);
            let access = Access {
                action: &c.action,
                resource: &c.resource,
                resource_account: Some(resource_account),
                resource_policies: &policies,
                context: &context,
                now_unix_ms: self.clock.unix_millis(),
            };
            authorizer.check(caller.principal, &access).map_err(|e| {
                let message = format!(
                    "User: {} is not authorized to perform: {} on resource: {} ({e})",
                    caller.principal.display_name(),
                    c.action,
                    c.resource
                );
                DynamoError {
                    cause: Some(std::sync::Arc::new(e)),
                    ..DynamoError::new(ErrorKind::AccessDenied, message)
                }
            })?;
        }
        Ok(())
    }
}

impl Tables {
    /// Authorize, then run: a denied request reads and writes nothing.
    pub fn execute_as(
        &self,
        authorizer: &Authorizer,
        caller: &Requester<'_>,
        resource_policy: Option<&Arc<Policy>>,
        req: &Request,
    ) -> Result<super::request::Response> {
        self.authorize(authorizer, caller, resource_policy, req)?;
        self.execute(req)
    }
}

/// The partition key value a Query names (from the key condition), if it can be told.
fn query_partition(q: &super::request::Search, hash: &str) -> Option<AttributeValue> {
    if let Some(kc) = &q.key_conditions {
        return kc
            .get(hash)
            .and_then(|c| c.values.as_ref()?.first().cloned());
    }
    let src = q.key_condition.as_deref()?;
    let raw = expr::parser::parse_condition(src).ok()?;
    let mut ph = expr::Placeholders::new(q.names.as_ref(), q.values.as_ref());
    let c = expr::resolve::condition(&raw, &mut ph).ok()?;
    let attrs = super::schema::KeyAttr {
        name: hash.to_string(),
        ty: "S".into(),
    };
    // Type-independent: find `hash = :v` among the AND-ed parts.
    fn find(c: &expr::CondExpr, hash: &str) -> Option<AttributeValue> {
        use expr::ast::{CmpOp, Cond, Operand};
        match c {
            Cond::And(a, b) => find(a, hash).or_else(|| find(b, hash)),
            Cond::Cmp(CmpOp::Eq, Operand::Path(p), Operand::Value(v))
            | Cond::Cmp(CmpOp::Eq, Operand::Value(v), Operand::Path(p))
                if p.len() == 1 && p[0] == Elem::Name(hash.to_string()) =>
            {
                Some(v.clone())
            }
            _ => None,
        }
    }
    let _ = attrs;
    find(&c, hash)
}
