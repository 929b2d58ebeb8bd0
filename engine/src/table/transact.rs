//! TransactWriteItems and TransactGetItems: all or nothing, across items and tables.
//!
//! A write transaction is prepared action by action (a malformed action fails the call with a
//! ValidationException before anything is read), then, under the store's write mutex, every
//! current item is read and every condition and update evaluated. If any action fails, nothing
//! is written and the error lists one cancellation reason per action, in order. Otherwise all
//! actions are staged into one LSM batch — one atomic write, so a crash leaves all or none.
//!
//! `ClientRequestToken` makes a transaction idempotent for ten minutes: the token's record
//! (the request's digest and time) is written in the same batch; a repeat with the same
//! parameters succeeds without writing again, and one with different parameters is refused.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::lsm::{WriteBatch, WriteOptions};

use super::capacity::{self, Meter};
use super::error::{CancellationReason, DynamoError, ErrorKind, Result};
use super::expr::{projection, Placeholders};
use super::keys;
use super::legacy;
use super::read::projection_paths;
use super::request::{
    ReturnCapacity, TransactGet, TransactGetOutput, TransactWrite, TransactWriteOutput,
    WriteCondition,
};
use super::store::{decode, lock, Tables};
use super::value::item_size;
use super::write::{self, Action, Prepared, ReturnValues};

/// Most actions in one transaction.
pub const MAX_ACTIONS: usize = 100;
/// How long an idempotency token is remembered, milliseconds.
pub const TOKEN_TTL_MS: u64 = 10 * 60 * 1000;

/// Most bytes of items and values one TransactWriteItems may carry.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// What an action carries (its item for a Put; its key and expression values otherwise), in
/// DynamoDB's item-size bytes. The 4 MB limit is on this, not on the items an action touches:
/// deleting 5 MB of items in one transaction is allowed (ScyllaDB's Alternator
/// test_transact_write_items_delete_5MB, run against DynamoDB).
fn payload(a: &TransactWrite) -> usize {
    let values = |v: &Option<super::request::Values>| {
        v.iter()
            .flat_map(|m| m.values())
            .map(|x| x.size_bytes())
            .sum::<usize>()
    };
    match a {
        TransactWrite::Put(r) => item_size(&r.item) + values(&r.values),
        TransactWrite::Update(r) => item_size(&r.key) + values(&r.values),
        TransactWrite::Delete(r) => item_size(&r.key) + values(&r.values),
        TransactWrite::Check(c) => item_size(&c.key) + values(&c.values),
    }
}

/// Whether a failed preparation is about an item's data (a key of the wrong type, an item or
/// key too large, nesting too deep), which DynamoDB reports as the action's `ValidationError`
/// cancellation reason; every other check (expressions, placeholders, an empty key string)
/// fails the whole request with a ValidationException (ScyllaDB's Alternator
/// test_transact_write_cancellation_reasons_validationerror and moto's AWS-verified
/// test_transaction_with_empty_key, both run against DynamoDB).
fn is_item_error(e: &DynamoError) -> bool {
    e.kind == ErrorKind::Validation
        && [
            "Type mismatch for key",
            "Item size has exceeded",
            // Both key sizes: "… the maximum size limit of2048 bytes", "… the size limit of
            // 1024 bytes".
            "size limit of",
            "Nesting Levels have exceeded",
        ]
        .iter()
        .any(|m| e.message.contains(m))
}

/// TransactionCanceledException for `n` actions of which the one at `at` failed with the
/// item-level validation error `e` (its `ValidationError` reason; `None` for the others).
fn cancelled_by(n: usize, at: usize, e: &DynamoError) -> DynamoError {
    cancelled(
        (0..n)
            .map(|i| {
                if i == at {
                    CancellationReason {
                        code: "ValidationError".into(),
                        message: Some(e.message.clone()),
                        item: None,
                    }
                } else {
                    CancellationReason::none()
                }
            })
            .collect(),
    )
}

/// TransactionCanceledException with one reason per action.
fn cancelled(reasons: Vec<CancellationReason>) -> DynamoError {
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    let message = format!(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
        codes.join(", ")
    );
    DynamoError {
        reasons,
        ..DynamoError::new(ErrorKind::TransactionCanceled, message)
    }
}

fn count_error(n: usize, what: &str) -> DynamoError {
    DynamoError::validation(format!(
        "1 validation error detected: Value '[{n} items]' at '{what}' failed to satisfy constraint: Member must have length {}",
        if n == 0 { "greater than or equal to 1" } else { "less than or equal to 100" }
    ))
}

impl Tables {
    fn prepare_transact(&self, a: &TransactWrite) -> Result<Prepared> {
        let mut p = match a {
            TransactWrite::Put(r) => self.prepare_put(r, &["NONE"])?,
            TransactWrite::Delete(r) => self.prepare_delete(r, &["NONE"])?,
            TransactWrite::Update(r) => self.prepare_update(r)?,
            TransactWrite::Check(c) => {
                let r = super::request::DeleteItem {
                    table: c.table.clone(),
                    key: c.key.clone(),
                    condition: WriteCondition {
                        expression: Some(c.condition.clone()),
                        ..WriteCondition::default()
                    },
                    names: c.names.clone(),
                    values: c.values.clone(),
                    return_values: None,
                    return_values_on_condition_check_failure: c
                        .return_values_on_condition_check_failure
                        .clone(),
                    capacity: ReturnCapacity::None,
                    collection_metrics: false,
                };
                let mut p = self.prepare_delete(&r, &["NONE"])?;
                p.action = Action::Check;
                p
            }
        };
        if let TransactWrite::Update(_) = a {
            if p.return_values != ReturnValues::None {
                return Err(DynamoError::validation(
                    "Return values set to invalid value",
                ));
            }
        }
        p.return_values = ReturnValues::None;
        Ok(p)
    }

    /// TransactWriteItems.
    pub fn transact_write_items(
        &self,
        actions: &[TransactWrite],
        token: Option<&str>,
        mode: ReturnCapacity,
    ) -> Result<TransactWriteOutput> {
        if actions.is_empty() || actions.len() > MAX_ACTIONS {
            return Err(count_error(actions.len(), "transactItems"));
        }
        if let Some(t) = token {
            if t.is_empty() || t.len() > 36 {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length {}",
                    if t.is_empty() { "greater than or equal to 1" } else { "less than or equal to 36" }
                )));
            }
        }
        if actions.iter().map(payload).sum::<usize>() > MAX_PAYLOAD {
            // The wording is ours; DynamoDB's names the transaction's payload and says its
            // size cannot exceed 4 MB.
            return Err(DynamoError::validation(
                "Transaction payload size cannot exceed 4 MB",
            ));
        }
        let mut plans: Vec<Prepared> = Vec::with_capacity(actions.len());
        let mut item_error: Option<(usize, DynamoError)> = None;
        for (i, a) in actions.iter().enumerate() {
            match self.prepare_transact(a) {
                Ok(p) => plans.push(p),
                Err(e) if is_item_error(&e) => {
                    // Only the first such action is named; the rest are not looked at.
                    item_error = Some((i, e));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if let Some((at, e)) = item_error {
            return Err(cancelled_by(actions.len(), at, &e));
        }
        let mut seen = BTreeSet::new();
        for p in &plans {
            if !seen.insert(p.key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
        }
        let digest = Sha256::digest(format!("{actions:?}").as_bytes());
        let now = self.clock.unix_millis();
        let _w = self.lock_writes();
        if let Some(t) = token {
            if let Some(rec) = self.db.get(&keys::txn_token_key(t))? {
                if rec.len() == 40 {
                    let at = u64::from_be_bytes(rec[32..40].try_into().unwrap_or([0; 8]));
                    if now.saturating_sub(at) < TOKEN_TTL_MS {
                        if rec[..32] == digest[..] {
                            let mut meters: BTreeMap<String, Meter> = BTreeMap::new();
                            for p in &plans {
                                let m = meters
                                    .entry(p.t.def.name.clone())
                                    .or_insert_with(|| Meter::new(&p.t.def.name));
                                m.table_write(capacity::write_units(0));
                            }
                            return Ok(TransactWriteOutput {
                                consumed: meters
                                    .into_values()
                                    .filter_map(|m| m.report(mode))
                                    .collect(),
                            });
                        }
                        return Err(DynamoError::new(
                            ErrorKind::IdempotentParameterMismatch,
                            "Request parameters did not match the parameters of the earlier request with the same idempotency token",
                        ));
                    }
                }
            }
        }
        for p in &mut plans {
            self.refresh(p)?;
        }
        let mut olds = Vec::with_capacity(plans.len());
        let mut news = Vec::with_capacity(plans.len());
        let mut reasons = Vec::with_capacity(plans.len());
        let mut failed = false;
        for p in &plans {
            let old = self.read_item(&p.key)?;
            match write::evaluate(p, old.as_ref()) {
                Ok((new, _)) => {
                    news.push(new);
                    reasons.push(CancellationReason::none());
                }
                Err(e) => {
                    failed = true;
                    news.push(None);
                    reasons.push(match e.kind {
                        ErrorKind::ConditionalCheckFailed => CancellationReason {
                            code: "ConditionalCheckFailed".into(),
                            message: Some(e.message),
                            item: e.item,
                        },
                        _ => CancellationReason {
                            code: "ValidationError".into(),
                            message: Some(e.message),
                            item: None,
                        },
                    });
                }
            }
            olds.push(old);
        }
        if failed {
            return Err(cancelled(reasons));
        }
        let mut b = WriteBatch::new();
        let mut meters: BTreeMap<String, Meter> = BTreeMap::new();
        let mut stats: BTreeMap<u64, Vec<super::codec::TableStats>> = BTreeMap::new();
        for ((p, old), new) in plans.iter().zip(&olds).zip(&news) {
            let meter = meters
                .entry(p.t.def.name.clone())
                .or_insert_with(|| Meter::new(&p.t.def.name));
            if matches!(p.action, Action::Check) {
                meter.table_read(capacity::read_units(
                    old.as_ref().map_or(0, item_size),
                    true,
                ));
                continue;
            }
            let s = stats.entry(p.t.def.id).or_insert_with(|| p.t.stats());
            write::stage(
                &p.t.def,
                s,
                write::Change {
                    key: &p.key,
                    old: old.as_ref(),
                    new: new.as_ref(),
                },
                &mut b,
                meter,
                &self.tap(false),
            )?;
        }
        if let Some(t) = token {
            let mut rec = digest.to_vec();
            rec.extend_from_slice(&now.to_be_bytes());
            b.put(&keys::txn_token_key(t), &rec);
        }
        self.db.write(b, WriteOptions::default())?;
        for p in &plans {
            if let Some(s) = stats.remove(&p.t.def.id) {
                *lock(&p.t.stats) = s;
            }
        }
        Ok(TransactWriteOutput {
            consumed: meters
                .into_values()
                .filter_map(|mut m| {
                    m.double();
                    m.report(mode)
                })
                .collect(),
        })
    }

    /// TransactGetItems: every item as of one snapshot.
    pub fn transact_get_items(
        &self,
        gets: &[TransactGet],
        mode: ReturnCapacity,
    ) -> Result<TransactGetOutput> {
        if gets.is_empty() || gets.len() > MAX_ACTIONS {
            return Err(count_error(gets.len(), "transactItems"));
        }
        let mut plans = Vec::with_capacity(gets.len());
        let mut seen = BTreeSet::new();
        for (i, g) in gets.iter().enumerate() {
            let t = self.item_table(&g.table)?;
            legacy::check_styles("TransactGetItems", |p| match p {
                "ProjectionExpression" => g.projection.is_some(),
                "ExpressionAttributeNames" => g.names.is_some(),
                _ => false,
            })?;
            legacy::check_placeholders(g.names.as_ref(), None)?;
            // A key that does not fit the table is the action's own fault: the transaction is
            // cancelled with its ValidationError reason (the DynamoDB Conformance Suite's
            // TransactGetItems with an empty Key, against DynamoDB); the actions after it are
            // not looked at.
            let (pk, sk) = match t.def.key_of(&g.key, true) {
                Ok(k) => k,
                Err(e)
                    if is_item_error(&e)
                        || e.message == "The provided key element does not match the schema" =>
                {
                    return Err(cancelled_by(gets.len(), i, &e));
                }
                Err(e) => return Err(e),
            };
            let key = keys::item_key(t.def.id, t.def.placement, pk, sk);
            if !seen.insert(key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            let mut ph = Placeholders::new(g.names.as_ref(), None);
            let paths = projection_paths(g.projection.as_deref(), None, &mut ph)?;
            ph.check_unused()?;
            plans.push((t, key, paths));
        }
        let snap = self.db.snapshot();
        let mut out = TransactGetOutput::default();
        let mut meters: BTreeMap<String, Meter> = BTreeMap::new();
        for (t, key, paths) in plans {
            let item = match self.db.get_opt(&key, snap.read_options())? {
                Some(v) => Some(decode(&key, &v)?),
                None => None,
            };
            let m = meters
                .entry(t.def.name.clone())
                .or_insert_with(|| Meter::new(&t.def.name));
            m.table_read(2.0 * capacity::read_units(item.as_ref().map_or(0, item_size), true));
            out.responses.push(match (item, &paths) {
                (Some(i), Some(p)) => Some(projection::project(&i, p)),
                (i, _) => i,
            });
        }
        out.consumed = meters
            .into_values()
            .filter_map(|m| m.report(mode))
            .collect();
        Ok(out)
    }
}
