//! The table API's requests and responses: DynamoDB's operations as Rust types, parameter for
//! parameter (legacy ones included), so the JSON layer only translates and the engine decides.

use std::collections::BTreeMap;

use super::value::{AttributeValue, Item};

/// `ExpressionAttributeNames`.
pub type Names = BTreeMap<String, String>;
/// `ExpressionAttributeValues`.
pub type Values = BTreeMap<String, AttributeValue>;

/// `ReturnConsumedCapacity`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnCapacity {
    /// `NONE` (or absent).
    #[default]
    None,
    /// `TOTAL`.
    Total,
    /// `INDEXES`.
    Indexes,
}

/// One condition of the legacy `Expected`, `KeyConditions`, `QueryFilter` and `ScanFilter`
/// parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LegacyCondition {
    /// `Exists` (Expected only).
    pub exists: Option<bool>,
    /// `Value` (Expected only).
    pub value: Option<AttributeValue>,
    /// `ComparisonOperator` (`EQ`, `NE`, `LE`, `LT`, `GE`, `GT`, `NOT_NULL`, `NULL`,
    /// `CONTAINS`, `NOT_CONTAINS`, `BEGINS_WITH`, `IN`, `BETWEEN`).
    pub operator: Option<String>,
    /// `AttributeValueList`.
    pub values: Option<Vec<AttributeValue>>,
}

/// Legacy conditions by attribute name.
pub type LegacyConditions = BTreeMap<String, LegacyCondition>;

/// One entry of the legacy `AttributeUpdates`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttributeUpdate {
    /// `PUT` (default), `DELETE` or `ADD`.
    pub action: Option<String>,
    /// The value.
    pub value: Option<AttributeValue>,
}

/// The condition parameters every write shares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteCondition {
    /// `ConditionExpression`.
    pub expression: Option<String>,
    /// Legacy `Expected`.
    pub expected: Option<LegacyConditions>,
    /// Legacy `ConditionalOperator` (`AND` / `OR`).
    pub conditional_operator: Option<String>,
}

/// GetItem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GetItem {
    /// TableName.
    pub table: String,
    /// Key.
    pub key: Item,
    /// ConsistentRead.
    pub consistent_read: bool,
    /// ProjectionExpression.
    pub projection: Option<String>,
    /// Legacy AttributesToGet.
    pub attributes_to_get: Option<Vec<String>>,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// Not on the wire: answer from memory only (the memtables and the block cache; see
    /// [`crate::lsm::ReadOptions::cache_only`]). A read that needs the device fails with an
    /// error whose [`DynamoError::needs_device`] is true, having read and written nothing.
    pub memory_only: bool,
}

/// PutItem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PutItem {
    /// TableName.
    pub table: String,
    /// Item.
    pub item: Item,
    /// ConditionExpression / Expected / ConditionalOperator.
    pub condition: WriteCondition,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ExpressionAttributeValues.
    pub values: Option<Values>,
    /// ReturnValues (`NONE`, `ALL_OLD`).
    pub return_values: Option<String>,
    /// ReturnValuesOnConditionCheckFailure (`NONE`, `ALL_OLD`).
    pub return_values_on_condition_check_failure: Option<String>,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// ReturnItemCollectionMetrics is `SIZE`.
    pub collection_metrics: bool,
}

/// UpdateItem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateItem {
    /// TableName.
    pub table: String,
    /// Key.
    pub key: Item,
    /// UpdateExpression.
    pub update: Option<String>,
    /// Legacy AttributeUpdates.
    pub attribute_updates: Option<BTreeMap<String, AttributeUpdate>>,
    /// ConditionExpression / Expected / ConditionalOperator.
    pub condition: WriteCondition,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ExpressionAttributeValues.
    pub values: Option<Values>,
    /// ReturnValues (`NONE`, `ALL_OLD`, `UPDATED_OLD`, `ALL_NEW`, `UPDATED_NEW`).
    pub return_values: Option<String>,
    /// ReturnValuesOnConditionCheckFailure.
    pub return_values_on_condition_check_failure: Option<String>,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// ReturnItemCollectionMetrics is `SIZE`.
    pub collection_metrics: bool,
}

/// DeleteItem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteItem {
    /// TableName.
    pub table: String,
    /// Key.
    pub key: Item,
    /// ConditionExpression / Expected / ConditionalOperator.
    pub condition: WriteCondition,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ExpressionAttributeValues.
    pub values: Option<Values>,
    /// ReturnValues (`NONE`, `ALL_OLD`).
    pub return_values: Option<String>,
    /// ReturnValuesOnConditionCheckFailure.
    pub return_values_on_condition_check_failure: Option<String>,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
    /// ReturnItemCollectionMetrics is `SIZE`.
    pub collection_metrics: bool,
}

/// ConditionCheck (TransactWriteItems only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConditionCheck {
    /// TableName.
    pub table: String,
    /// Key.
    pub key: Item,
    /// ConditionExpression (required).
    pub condition: String,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ExpressionAttributeValues.
    pub values: Option<Values>,
    /// ReturnValuesOnConditionCheckFailure.
    pub return_values_on_condition_check_failure: Option<String>,
}

/// Query and Scan parameters (Query's key conditions, Scan's segments).
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// TableName.
    pub table: String,
    /// IndexName.
    pub index: Option<String>,
    /// Query: KeyConditionExpression.
    pub key_condition: Option<String>,
    /// Query: legacy KeyConditions.
    pub key_conditions: Option<LegacyConditions>,
    /// FilterExpression.
    pub filter: Option<String>,
    /// Legacy QueryFilter / ScanFilter.
    pub legacy_filter: Option<LegacyConditions>,
    /// Legacy ConditionalOperator for the filter.
    pub conditional_operator: Option<String>,
    /// ProjectionExpression.
    pub projection: Option<String>,
    /// Legacy AttributesToGet.
    pub attributes_to_get: Option<Vec<String>>,
    /// Select (`ALL_ATTRIBUTES`, `ALL_PROJECTED_ATTRIBUTES`, `SPECIFIC_ATTRIBUTES`, `COUNT`).
    pub select: Option<String>,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
    /// ExpressionAttributeValues.
    pub values: Option<Values>,
    /// Query: ScanIndexForward.
    pub forward: bool,
    /// Limit (items evaluated).
    pub limit: Option<u32>,
    /// ExclusiveStartKey.
    pub exclusive_start_key: Option<Item>,
    /// Scan: Segment.
    pub segment: Option<u32>,
    /// Scan: TotalSegments.
    pub total_segments: Option<u32>,
    /// ConsistentRead.
    pub consistent_read: bool,
    /// ReturnConsumedCapacity.
    pub capacity: ReturnCapacity,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            table: String::new(),
            index: None,
            key_condition: None,
            key_conditions: None,
            filter: None,
            legacy_filter: None,
            conditional_operator: None,
            projection: None,
            attributes_to_get: None,
            select: None,
            names: None,
            values: None,
            forward: true,
            limit: None,
            exclusive_start_key: None,
            segment: None,
            total_segments: None,
            consistent_read: false,
            capacity: ReturnCapacity::None,
        }
    }
}

/// BatchGetItem's per-table request (`KeysAndAttributes`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeysAndAttributes {
    /// Keys.
    pub keys: Vec<Item>,
    /// ConsistentRead.
    pub consistent_read: bool,
    /// ProjectionExpression.
    pub projection: Option<String>,
    /// Legacy AttributesToGet.
    pub attributes_to_get: Option<Vec<String>>,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
}

/// One BatchWriteItem request.
#[derive(Clone, Debug, PartialEq)]
pub enum WriteRequest {
    /// PutRequest.Item.
    Put(Item),
    /// DeleteRequest.Key.
    Delete(Item),
}

/// One TransactWriteItems action.
#[derive(Clone, Debug, PartialEq)]
pub enum TransactWrite {
    /// ConditionCheck.
    Check(ConditionCheck),
    /// Put.
    Put(PutItem),
    /// Update.
    Update(UpdateItem),
    /// Delete.
    Delete(DeleteItem),
}

impl TransactWrite {
    /// The table it touches.
    pub fn table(&self) -> &str {
        match self {
            TransactWrite::Check(c) => &c.table,
            TransactWrite::Put(p) => &p.table,
            TransactWrite::Update(u) => &u.table,
            TransactWrite::Delete(d) => &d.table,
        }
    }
}

/// One TransactGetItems action (`Get`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactGet {
    /// TableName.
    pub table: String,
    /// Key.
    pub key: Item,
    /// ProjectionExpression.
    pub projection: Option<String>,
    /// ExpressionAttributeNames.
    pub names: Option<Names>,
}

/// Capacity one request consumed on one table (`ConsumedCapacity`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsumedCapacity {
    /// TableName.
    pub table: String,
    /// CapacityUnits (table and indexes).
    pub total: f64,
    /// ReadCapacityUnits.
    pub read: f64,
    /// WriteCapacityUnits.
    pub write: f64,
    /// With `INDEXES`: the table's own units.
    pub table_units: Option<f64>,
    /// With `INDEXES`: units per local secondary index.
    pub lsi: BTreeMap<String, f64>,
    /// With `INDEXES`: units per global secondary index.
    pub gsi: BTreeMap<String, f64>,
}

/// GetItem's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GetItemOutput {
    /// Item (absent when there is none).
    pub item: Option<Item>,
    /// ConsumedCapacity.
    pub consumed: Option<ConsumedCapacity>,
}

/// PutItem's, UpdateItem's and DeleteItem's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteOutput {
    /// Attributes (per ReturnValues).
    pub attributes: Option<Item>,
    /// ConsumedCapacity.
    pub consumed: Option<ConsumedCapacity>,
    /// ItemCollectionMetrics (asked for, and the table has local secondary indexes).
    pub item_collection: Option<ItemCollectionMetrics>,
}

/// The size of an item collection — the items of one partition key, in a table with local
/// secondary indexes, with their index entries — as a write reports it
/// (`ReturnItemCollectionMetrics: SIZE`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemCollectionMetrics {
    /// ItemCollectionKey: the partition key attribute and its value.
    pub key: Item,
    /// SizeEstimateRangeGB: a lower and an upper bound, in GB (2³⁰ bytes).
    pub size_estimate_gb: (f64, f64),
}

/// Query's and Scan's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchOutput {
    /// Items (empty with `Select: COUNT`).
    pub items: Vec<Item>,
    /// Count (items after the filter).
    pub count: usize,
    /// ScannedCount (items evaluated before the filter).
    pub scanned_count: usize,
    /// LastEvaluatedKey.
    pub last_evaluated_key: Option<Item>,
    /// ConsumedCapacity.
    pub consumed: Option<ConsumedCapacity>,
}

/// BatchGetItem's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchGetOutput {
    /// Responses by table.
    pub responses: BTreeMap<String, Vec<Item>>,
    /// UnprocessedKeys.
    pub unprocessed: BTreeMap<String, KeysAndAttributes>,
    /// ConsumedCapacity, one per table.
    pub consumed: Vec<ConsumedCapacity>,
}

/// BatchWriteItem's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchWriteOutput {
    /// UnprocessedItems.
    pub unprocessed: BTreeMap<String, Vec<WriteRequest>>,
    /// ConsumedCapacity, one per table.
    pub consumed: Vec<ConsumedCapacity>,
}

/// TransactGetItems' result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactGetOutput {
    /// Responses, one per action (`None`: no item).
    pub responses: Vec<Option<Item>>,
    /// ConsumedCapacity, one per table.
    pub consumed: Vec<ConsumedCapacity>,
}

/// TransactWriteItems' result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactWriteOutput {
    /// ConsumedCapacity, one per table.
    pub consumed: Vec<ConsumedCapacity>,
}

/// Every operation of the table API, one variant each (what the JSON layer parses into).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// CreateTable.
    CreateTable(super::schema::CreateTableInput),
    /// DescribeTable.
    DescribeTable(String),
    /// UpdateTable.
    UpdateTable(super::update::UpdateTableInput),
    /// TagResource: ResourceArn, Tags.
    TagResource(String, Vec<(String, String)>),
    /// UntagResource: ResourceArn, TagKeys.
    UntagResource(String, Vec<String>),
    /// ListTagsOfResource: ResourceArn.
    ListTagsOfResource(String),
    /// DescribeLimits.
    DescribeLimits,
    /// ListStreams (DynamoDB Streams): TableName, Limit, ExclusiveStartStreamArn.
    ListStreams(Option<String>, Option<u32>, Option<String>),
    /// DescribeStream: StreamArn, ExclusiveStartShardId.
    DescribeStream(String, Option<String>),
    /// GetShardIterator: StreamArn, ShardId, ShardIteratorType, SequenceNumber.
    GetShardIterator(String, String, String, Option<String>),
    /// GetRecords: ShardIterator, Limit.
    GetRecords(String, Option<u32>),
    /// ListTables: ExclusiveStartTableName, Limit.
    ListTables(Option<String>, Option<u32>),
    /// DeleteTable.
    DeleteTable(String),
    /// UpdateTimeToLive: table, attribute, enabled.
    UpdateTimeToLive(String, String, bool),
    /// DescribeTimeToLive.
    DescribeTimeToLive(String),
    /// UpdateContinuousBackups: table, point-in-time recovery on or off.
    UpdateContinuousBackups(String, bool),
    /// DescribeContinuousBackups.
    DescribeContinuousBackups(String),
    /// PutResourcePolicy: ResourceArn, Policy, ExpectedRevisionId.
    PutResourcePolicy(String, String, Option<String>),
    /// GetResourcePolicy: ResourceArn.
    GetResourcePolicy(String),
    /// DeleteResourcePolicy: ResourceArn, ExpectedRevisionId.
    DeleteResourcePolicy(String, Option<String>),
    /// ExecuteStatement (PartiQL).
    ExecuteStatement(super::partiql::Statement),
    /// BatchExecuteStatement: the statements.
    BatchExecuteStatement(Vec<super::partiql::Statement>),
    /// ExecuteTransaction: the statements, ClientRequestToken.
    ExecuteTransaction(Vec<super::partiql::Statement>, Option<String>),
    /// GetItem.
    GetItem(GetItem),
    /// PutItem.
    PutItem(PutItem),
    /// UpdateItem.
    UpdateItem(UpdateItem),
    /// DeleteItem.
    DeleteItem(DeleteItem),
    /// Query.
    Query(Search),
    /// Scan.
    Scan(Search),
    /// BatchGetItem.
    BatchGetItem(BTreeMap<String, KeysAndAttributes>, ReturnCapacity),
    /// BatchWriteItem.
    BatchWriteItem(BTreeMap<String, Vec<WriteRequest>>, ReturnCapacity),
    /// TransactWriteItems: actions, ClientRequestToken.
    TransactWriteItems(Vec<TransactWrite>, Option<String>, ReturnCapacity),
    /// TransactGetItems.
    TransactGetItems(Vec<TransactGet>, ReturnCapacity),
}

impl Request {
    /// Whether it adds to what the tables hold — an item, a table, a setting — as opposed to
    /// reading or deleting: what a server whose disks are nearly full refuses, so that deletes
    /// keep the room they need (`object/space.rs`). A batch or transaction adds if any of its
    /// writes does; a PartiQL statement that does not parse adds nothing (it fails anyway).
    pub fn adds(&self) -> bool {
        let statement_adds = |s: &super::partiql::Statement| {
            matches!(
                super::partiql::target(s),
                Some(("PartiQLInsert" | "PartiQLUpdate", ..))
            )
        };
        match self {
            Request::CreateTable(_)
            | Request::UpdateTable(_)
            | Request::TagResource(..)
            | Request::UpdateTimeToLive(..)
            | Request::UpdateContinuousBackups(..)
            | Request::PutResourcePolicy(..)
            | Request::PutItem(_)
            | Request::UpdateItem(_) => true,
            Request::BatchWriteItem(writes, _) => writes
                .values()
                .flatten()
                .any(|w| matches!(w, WriteRequest::Put(_))),
            Request::TransactWriteItems(writes, ..) => writes
                .iter()
                .any(|w| matches!(w, TransactWrite::Put(_) | TransactWrite::Update(_))),
            Request::ExecuteStatement(s) => statement_adds(s),
            Request::BatchExecuteStatement(all) | Request::ExecuteTransaction(all, _) => {
                all.iter().any(statement_adds)
            }
            _ => false,
        }
    }

    /// The operation's name (`GetItem`, …), as in `X-Amz-Target` and IAM actions.
    pub fn operation(&self) -> &'static str {
        match self {
            Request::CreateTable(_) => "CreateTable",
            Request::DescribeTable(_) => "DescribeTable",
            Request::UpdateTable(_) => "UpdateTable",
            Request::TagResource(..) => "TagResource",
            Request::UntagResource(..) => "UntagResource",
            Request::ListTagsOfResource(_) => "ListTagsOfResource",
            Request::DescribeLimits => "DescribeLimits",
            Request::ListStreams(..) => "ListStreams",
            Request::DescribeStream(..) => "DescribeStream",
            Request::GetShardIterator(..) => "GetShardIterator",
            Request::GetRecords(..) => "GetRecords",
            Request::ListTables(..) => "ListTables",
            Request::DeleteTable(_) => "DeleteTable",
            Request::UpdateTimeToLive(..) => "UpdateTimeToLive",
            Request::DescribeTimeToLive(_) => "DescribeTimeToLive",
            Request::UpdateContinuousBackups(..) => "UpdateContinuousBackups",
            Request::DescribeContinuousBackups(_) => "DescribeContinuousBackups",
            Request::PutResourcePolicy(..) => "PutResourcePolicy",
            Request::GetResourcePolicy(_) => "GetResourcePolicy",
            Request::DeleteResourcePolicy(..) => "DeleteResourcePolicy",
            Request::ExecuteStatement(_) => "ExecuteStatement",
            Request::BatchExecuteStatement(_) => "BatchExecuteStatement",
            Request::ExecuteTransaction(..) => "ExecuteTransaction",
            Request::GetItem(_) => "GetItem",
            Request::PutItem(_) => "PutItem",
            Request::UpdateItem(_) => "UpdateItem",
            Request::DeleteItem(_) => "DeleteItem",
            Request::Query(_) => "Query",
            Request::Scan(_) => "Scan",
            Request::BatchGetItem(..) => "BatchGetItem",
            Request::BatchWriteItem(..) => "BatchWriteItem",
            Request::TransactWriteItems(..) => "TransactWriteItems",
            Request::TransactGetItems(..) => "TransactGetItems",
        }
    }
}

/// The result of a [`Request`].
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// CreateTable, DescribeTable, DeleteTable.
    Table(Box<super::store::TableInfo>),
    /// ListTables: names and LastEvaluatedTableName.
    Tables(Vec<String>, Option<String>),
    /// TagResource, UntagResource: nothing to answer.
    Empty,
    /// ListTagsOfResource.
    Tags(Vec<(String, String)>),
    /// DescribeLimits: the account's and each table's capacity quotas.
    Limits(super::update::Limits),
    /// ListStreams: the streams and LastEvaluatedStreamArn.
    Streams(Vec<super::streams::StreamInfo>, Option<String>),
    /// DescribeStream: the stream, and whether its shard is listed (not when the request
    /// started after it).
    Stream(Box<super::streams::StreamInfo>, bool),
    /// GetShardIterator.
    ShardIterator(String),
    /// GetRecords: the records and NextShardIterator.
    Records(Vec<super::streams::StreamRecord>, Option<String>),
    /// UpdateTimeToLive, DescribeTimeToLive.
    Ttl(Option<super::schema::TtlSpec>),
    /// Update/DescribeContinuousBackups: point-in-time recovery on since (Unix ms), or off.
    ContinuousBackups(Option<u64>),
    /// Put/Get/DeleteResourcePolicy: the policy (GetResourcePolicy only) and its revision id.
    ResourcePolicy(Option<String>, String),
    /// ExecuteStatement.
    Statement(super::partiql::StatementOutput),
    /// BatchExecuteStatement: per statement, its table and the item read or the error.
    BatchStatement(Vec<(String, Result<Option<Item>, super::error::DynamoError>)>),
    /// ExecuteTransaction: the items read (none for writes).
    TransactionStatement(Vec<Option<Item>>),
    /// GetItem.
    Get(GetItemOutput),
    /// PutItem, UpdateItem, DeleteItem.
    Write(WriteOutput),
    /// Query, Scan.
    Search(SearchOutput),
    /// BatchGetItem.
    BatchGet(BatchGetOutput),
    /// BatchWriteItem.
    BatchWrite(BatchWriteOutput),
    /// TransactWriteItems.
    TransactWrite(TransactWriteOutput),
    /// TransactGetItems.
    TransactGet(TransactGetOutput),
}
