//! DynamoDB's data model on the LSM: typed items ([`value`], with exact 38-digit numbers in
//! [`number`]), tables with partition and sort keys of type S, N or B whose values sort in
//! DynamoDB's order through order-preserving key encodings ([`keys`]), local and global
//! secondary indexes kept in the same write batch as their items, the expression language
//! ([`expr`]), and every operation — GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan,
//! BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems, the table catalog and
//! TTL — as a synchronous API on [`Tables`] that speaks DynamoDB's parameters and errors.
//!
//! How the parts fit:
//! * [`request`] — the operations' parameters and results as Rust types; [`Tables::execute`]
//!   runs any of them.
//! * [`store`] — the catalog and [`Tables`]; [`write`] — item writes and how one becomes one
//!   atomic LSM batch (item, index entries, TTL queue entry, statistics); [`read`] — GetItem,
//!   Query and Scan with DynamoDB's paging; [`batch`] and [`transact`] — the multi-item calls.
//! * [`legacy`] — the pre-expression parameters, translated into expression trees.
//! * [`capacity`] — consumed capacity units; [`auth`] — IAM with DynamoDB's condition keys.
//! * [`codec`] — the binary item format in LSM values; [`schema`] — table definitions;
//!   [`update`] — UpdateTable, and [`online`] — an index added to a table with items built,
//!   and a deleted one's entries removed, while writes go on; [`tags`] — table tags;
//!   [`streams`] — DynamoDB Streams, each change's record written in the change's own batch.
//!
//! The JSON wire protocol is not here: the `seedbed-dynamo` crate translates JSON to and from
//! these types, so the engine knows DynamoDB's semantics but not its encoding.

pub mod auth;
pub mod backups;
pub mod batch;
pub mod capacity;
pub mod codec;
pub mod creating;
pub mod error;
pub mod expr;
mod groups;
pub mod keys;
pub mod legacy;
pub mod number;
pub mod online;
pub mod ops;
pub mod partiql;
pub mod read;
pub mod request;
pub mod resource_policy;
pub mod schema;
pub mod store;
pub mod streams;
pub mod tags;
pub mod transact;
pub mod update;
pub mod value;
pub mod value_rules;
pub mod write;

pub use error::{CancellationReason, DynamoError, ErrorKind, Result, ValidationError};
pub use number::Number;
pub use request::*;
pub use schema::{
    CreateTableInput, IndexInput, KeySchemaElement, ResourcePolicy, TableDef, Throughput,
};
pub use store::{TableInfo, Tables};
pub use value::{AttributeValue, Item, ValueType};
