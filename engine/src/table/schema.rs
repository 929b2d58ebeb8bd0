//! Table definitions: the key schema, attribute definitions, local and global secondary indexes
//! with their projections, billing mode and TTL — validated the way CreateTable validates them,
//! and stored in the catalog as JSON.

use serde::{Deserialize, Serialize};

use super::error::{DynamoError, ErrorKind, Result};
use super::value::{AttributeValue, Item, ValueType};

/// Most local secondary indexes a table may have.
pub const MAX_LSI: usize = 5;
/// Most global secondary indexes a table may have.
pub const MAX_GSI: usize = 20;
/// Most non-key attributes all INCLUDE projections of a table may name together.
pub const MAX_PROJECTED_ATTRIBUTES: usize = 100;

/// A key attribute: name and type (`S`, `N` or `B`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    /// Attribute name.
    pub name: String,
    /// `S`, `N` or `B`.
    pub ty: String,
}

impl KeyAttr {
    /// The value type.
    pub fn value_type(&self) -> ValueType {
        ValueType::from_name(&self.ty).unwrap_or(ValueType::S)
    }
}

/// Which attributes an index copies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionType {
    /// Only the table's and the index's key attributes.
    KeysOnly,
    /// The keys plus the listed attributes.
    Include(Vec<String>),
    /// Every attribute.
    All,
}

impl ProjectionType {
    /// `KEYS_ONLY`, `INCLUDE` or `ALL`.
    pub fn name(&self) -> &'static str {
        match self {
            ProjectionType::KeysOnly => "KEYS_ONLY",
            ProjectionType::Include(_) => "INCLUDE",
            ProjectionType::All => "ALL",
        }
    }
}

/// Provisioned read and write capacity (echoed back; Seedbed does not throttle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Throughput {
    /// ReadCapacityUnits.
    pub read: u64,
    /// WriteCapacityUnits.
    pub write: u64,
}

/// A secondary index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDef {
    /// IndexName.
    pub name: String,
    /// Its number in the LSM key (1..=254; 0 is the table).
    pub number: u8,
    /// Local (same partition key as the table) or global.
    pub local: bool,
    /// Partition key (its first attribute, when a global index has several).
    pub hash: KeyAttr,
    /// Sort key (its first attribute, when a global index has several).
    pub range: Option<KeyAttr>,
    /// A global index's further partition-key attributes, in key-schema order (DynamoDB's
    /// multi-attribute keys: up to four in all). Use [`IndexDef::hash_attrs`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_hash: Vec<KeyAttr>,
    /// A global index's further sort-key attributes, in order (up to four in all). Use
    /// [`IndexDef::range_attrs`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_range: Vec<KeyAttr>,
    /// What it copies.
    pub projection: ProjectionType,
    /// Provisioned throughput of a global index in a PROVISIONED table.
    pub throughput: Option<Throughput>,
    /// Set while a global index added by UpdateTable is being filled from the table's items
    /// (DynamoDB's `IndexStatus: CREATING`, `Backfilling: true`); `None` once it is ACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill: Option<Backfill>,
}

/// How far an online index build has gone ([`super::online`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    /// The LSM key of the first table item not yet done: items below it have their index
    /// entries (or queue entries) and are kept up to date by every write; items from it on are
    /// the job's, and a build's writes leave their index entries to it.
    pub next: Vec<u8>,
}

impl Backfill {
    /// A cursor at LSM key `key`.
    pub fn at(key: &[u8]) -> Self {
        Backfill { next: key.to_vec() }
    }

    /// Whether a write of the item at LSM key `key` leaves its index entry to the build.
    pub fn is_ahead(&self, key: &[u8]) -> bool {
        key >= self.next.as_slice()
    }
}

impl IndexDef {
    /// Every partition-key attribute, in key-schema order.
    pub fn hash_attrs(&self) -> Vec<&KeyAttr> {
        std::iter::once(&self.hash).chain(&self.more_hash).collect()
    }

    /// Every sort-key attribute, in key-schema order (none for a hash-only index).
    pub fn range_attrs(&self) -> Vec<&KeyAttr> {
        self.range.iter().chain(&self.more_range).collect()
    }

    /// Every key attribute: the partition's, then the sort key's.
    pub fn key_attrs(&self) -> Vec<&KeyAttr> {
        let mut all = self.hash_attrs();
        all.extend(self.range_attrs());
        all
    }

    /// Whether `attr` is one of the index's key attributes.
    pub fn is_key_attr(&self, attr: &str) -> bool {
        self.key_attrs().iter().any(|k| k.name == attr)
    }
}

/// A table's TTL setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlSpec {
    /// The attribute holding the expiry (Unix seconds, a number).
    pub attribute: String,
    /// Whether expired items are being deleted.
    pub enabled: bool,
    /// Set while the expiry queue is being filled from the items already in the table, after
    /// TTL was enabled ([`super::online`]): the items from the cursor on may not be queued yet.
    /// DescribeTimeToLive says `ENABLING` meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Backfill>,
    /// Set while the expiry queue is being emptied, after TTL was disabled ([`super::online`]);
    /// DescribeTimeToLive says `DISABLING` meanwhile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub draining: bool,
}

impl TtlSpec {
    /// DynamoDB's TimeToLiveStatus for the setting.
    pub fn status(&self) -> &'static str {
        match (self.enabled, self.fill.is_some() || self.draining) {
            (true, false) => "ENABLED",
            (true, true) => "ENABLING",
            (false, true) => "DISABLING",
            (false, false) => "DISABLED",
        }
    }

    /// Whether an enabling or disabling is still being carried out.
    pub fn in_transition(&self) -> bool {
        self.fill.is_some() || self.draining
    }
}

/// A table as the catalog keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// TableName.
    pub name: String,
    /// Numeric id: the LSM key prefix of its data.
    pub id: u64,
    /// TableId as DynamoDB shows it (a UUID).
    pub uuid: String,
    /// Partition key.
    pub hash: KeyAttr,
    /// Sort key.
    pub range: Option<KeyAttr>,
    /// AttributeDefinitions, as given.
    pub attributes: Vec<KeyAttr>,
    /// Local secondary indexes.
    pub lsis: Vec<IndexDef>,
    /// Global secondary indexes.
    pub gsis: Vec<IndexDef>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    /// Provisioned throughput (zero for on-demand).
    pub throughput: Throughput,
    /// TTL, if it was ever set.
    pub ttl: Option<TtlSpec>,
    /// CreationDateTime, Unix milliseconds.
    pub created_unix_ms: u64,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// StreamSpecification as last set: enabled, and the view type.
    #[serde(default)]
    pub stream: Option<(bool, String)>,
    /// The table's streams, oldest first: the last is open while the stream is enabled
    /// ([`super::streams`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<super::streams::StreamDef>,
    /// The table's resource-based policy (PutResourcePolicy), if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<ResourcePolicy>,
    /// Point-in-time recovery: on since these Unix milliseconds (UpdateContinuousBackups).
    /// What it buys here is the right to export ([`super::backups`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitr_since_ms: Option<u64>,
    /// DeletionProtectionEnabled: DeleteTable is refused while it is on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deletion_protection: bool,
    /// TableClass, when one was chosen (CreateTable or UpdateTable): DynamoDB's storage price
    /// tier. It changes what AWS bills, nothing a request sees; here it is recorded and shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_class: Option<TableClass>,
    /// WarmThroughput raised above DynamoDB's defaults (read, write units a second; `None`:
    /// the defaults). Like provisioned throughput it is recorded and shown; nothing here is
    /// throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<(u64, u64)>,
    /// OnDemandThroughput: the most read and write request units a second an on-demand table
    /// may use (`-1`: no maximum). Recorded and shown; nothing here is throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<(i64, i64)>,
    /// Deleted global indexes whose entries are still being deleted ([`super::online`]):
    /// DescribeTable shows them `DELETING`, and no new index takes one of their numbers until
    /// the entries are gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purging: Vec<DeletedIndex>,
    /// How partition keys become key-space hashes ([`super::keys::Placement`]): DynamoDB's
    /// for every new table; a description written before the field existed reads as the
    /// CRC-32 placement its items were stored under.
    #[serde(default)]
    pub placement: super::keys::Placement,
}

/// A table's class (`TableClassSummary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableClass {
    /// STANDARD or STANDARD_INFREQUENT_ACCESS.
    pub class: String,
    /// When UpdateTable last changed it (Unix milliseconds); none if set at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_unix_ms: Option<u64>,
}

/// The warm throughput of a new on-demand table, read and write units a second (DynamoDB's
/// documented defaults; ScyllaDB's Alternator test_warm_throughput.py uses them as minimums).
pub const WARM_DEFAULT: (u64, u64) = (12_000, 4_000);

/// An OnDemandThroughput parameter (`(read, write)` maxima, either may be absent) over the
/// table's current one (`(-1, -1)`, no maxima, when it has none): each `-1` or at least 1.
pub fn on_demand_throughput(
    current: Option<(i64, i64)>,
    asked: (Option<i64>, Option<i64>),
) -> Result<(i64, i64)> {
    let mut out = current.unwrap_or((-1, -1));
    for (v, name, slot) in [
        (asked.0, "MaxReadRequestUnits", &mut out.0),
        (asked.1, "MaxWriteRequestUnits", &mut out.1),
    ] {
        let Some(v) = v else { continue };
        if v != -1 && v < 1 {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: OnDemandThroughput {name} must be -1 (no maximum) or at least 1, not {v}"
            )));
        }
        *slot = v;
    }
    Ok(out)
}

/// A WarmThroughput parameter (`(read, write)`, either may be absent) over the table's
/// current one: at least the defaults, and never lower than what the table has.
pub fn warm_throughput(
    current: (u64, u64),
    asked: (Option<u64>, Option<u64>),
) -> Result<(u64, u64)> {
    let mut out = current;
    for (v, min, cur, name, slot) in [
        (asked.0, WARM_DEFAULT.0, current.0, "ReadUnitsPerSecond", 0),
        (asked.1, WARM_DEFAULT.1, current.1, "WriteUnitsPerSecond", 1),
    ] {
        let Some(v) = v else { continue };
        if v < min {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: WarmThroughput {name} {v} is lower than the minimum of {min}"
            )));
        }
        if v < cur {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Requested {name} {v} is lower than current WarmThroughput {cur}"
            )));
        }
        if slot == 0 {
            out.0 = v;
        } else {
            out.1 = v;
        }
    }
    Ok(out)
}

/// The table classes DynamoDB has.
pub const TABLE_CLASSES: [&str; 2] = ["STANDARD_INFREQUENT_ACCESS", "STANDARD"];

/// A TableClass parameter checked against the API's values.
pub fn check_table_class(class: &str) -> Result<()> {
    if TABLE_CLASSES.contains(&class) {
        return Ok(());
    }
    // ScyllaDB's Alternator tests (run against DynamoDB) find "table class" in the message;
    // the rest of the wording is ours.
    Err(DynamoError::validation(format!(
        "One or more parameter values were invalid: {class} is not a table class; the table class is one of {}",
        TABLE_CLASSES.join(", ")
    )))
}

/// A deleted global index whose entries are being deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "DeletedIndexWire")]
pub struct DeletedIndex {
    /// Its number: the LSM key prefix of its entries.
    pub number: u8,
    /// Its definition as it was, for DescribeTable; `None` in catalogs written before it was
    /// kept (they held the number alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexDef>,
}

/// How a [`DeletedIndex`] is read: as written now, or as a bare number (the first catalogs).
#[derive(Deserialize)]
#[serde(untagged)]
enum DeletedIndexWire {
    Number(u8),
    Index {
        number: u8,
        // Boxed: the wire form lives only while it is read (and the enum stays small).
        #[serde(default)]
        index: Option<Box<IndexDef>>,
    },
}

impl From<DeletedIndexWire> for DeletedIndex {
    fn from(w: DeletedIndexWire) -> Self {
        match w {
            DeletedIndexWire::Number(number) => DeletedIndex {
                number,
                index: None,
            },
            DeletedIndexWire::Index { number, index } => DeletedIndex {
                number,
                index: index.map(|i| *i),
            },
        }
    }
}

/// A resource-based policy attached to a table, and the revision PutResourcePolicy gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    /// The policy document, as given.
    pub document: String,
    /// Its revision id: the milliseconds of the put (strictly increasing per table), so that
    /// revision ids compare in the order they were made, as DynamoDB's do.
    pub revision: String,
}

impl TableDef {
    /// All secondary indexes, local first.
    pub fn indexes(&self) -> impl Iterator<Item = &IndexDef> {
        self.lsis.iter().chain(&self.gsis)
    }

    /// The index called `name`.
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes().find(|i| i.name == name)
    }

    /// The key attribute names (partition, then sort).
    pub fn key_names(&self) -> Vec<&str> {
        std::iter::once(self.hash.name.as_str())
            .chain(self.range.as_ref().map(|r| r.name.as_str()))
            .collect()
    }

    /// Whether `attr` is one of the table's key attributes.
    pub fn is_key(&self, attr: &str) -> bool {
        self.hash.name == attr || self.range.as_ref().is_some_and(|r| r.name == attr)
    }

    /// The stream changes are recorded in, while the table's stream is enabled.
    pub fn open_stream(&self) -> Option<&super::streams::StreamDef> {
        self.streams.last().filter(|s| s.end_seq.is_none())
    }

    /// The enabled TTL attribute, if any.
    pub fn ttl_attribute(&self) -> Option<&str> {
        self.ttl
            .as_ref()
            .filter(|t| t.enabled)
            .map(|t| t.attribute.as_str())
    }

    /// The table ARN.
    pub fn arn(&self, region: &str, account: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{account}:table/{}", self.name)
    }

    /// The item's table key, validated against the schema: exactly the key attributes
    /// (`exact`, for a `Key` parameter) or at least them (an `Item`), of the declared types,
    /// within DynamoDB's size limits.
    pub fn key_of<'a>(
        &self,
        item: &'a Item,
        exact: bool,
    ) -> Result<(&'a AttributeValue, Option<&'a AttributeValue>)> {
        if exact && item.len() != 1 + usize::from(self.range.is_some()) {
            return Err(DynamoError::key_mismatch());
        }
        let get = |k: &KeyAttr, is_hash: bool| -> Result<&'a AttributeValue> {
            let Some(v) = item.get(&k.name) else {
                return Err(if exact {
                    DynamoError::key_mismatch()
                } else {
                    DynamoError::invalid_parameter(format!(
                        "Missing the key {} in the item",
                        k.name
                    ))
                });
            };
            if v.value_type() != k.value_type() {
                return Err(if exact {
                    DynamoError::key_mismatch()
                } else {
                    DynamoError::invalid_parameter(format!(
                        "Type mismatch for key {} expected: {} actual: {}",
                        k.name,
                        k.ty,
                        v.value_type().name()
                    ))
                });
            }
            check_key_value(&k.name, v, is_hash)?;
            Ok(v)
        };
        let pk = get(&self.hash, true)?;
        let sk = match &self.range {
            Some(r) => Some(get(r, false)?),
            None => None,
        };
        Ok((pk, sk))
    }
}

/// Key values: no empty strings or binaries, partition keys at most 2048 bytes and sort keys
/// at most 1024.
pub fn check_key_value(name: &str, v: &AttributeValue, is_hash: bool) -> Result<()> {
    let len = match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => return Ok(()),
    };
    if len == 0 {
        let what = if matches!(v, AttributeValue::S(_)) {
            "string"
        } else {
            "binary"
        };
        return Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
        )));
    }
    if is_hash && len > 2048 {
        return Err(DynamoError::invalid_parameter(
            "Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !is_hash && len > 1024 {
        return Err(DynamoError::invalid_parameter(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// The table name inside a table ARN, `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME` (None for
/// anything else, an index's ARN included). Region and account are not checked here:
/// [`super::store::Tables::table`] finds only its own.
pub fn arn_table_name(s: &str) -> Option<&str> {
    let mut parts = s.strip_prefix("arn:")?.splitn(5, ':');
    let (partition, service) = (parts.next()?, parts.next()?);
    let (_region, _account) = (parts.next()?, parts.next()?);
    let name = parts.next()?.strip_prefix("table/")?;
    (partition == "aws" && service == "dynamodb" && !name.contains('/')).then_some(name)
}

/// Check the TableName of a data-plane request: a table name, or a table's ARN (DynamoDB
/// accepts either there, an ARN of up to 1024 characters; moto's AWS-verified
/// test_batch_write_using_arn). The control-plane operations here take names only.
pub fn check_table_name_or_arn(name: &str, field: &str) -> Result<()> {
    match arn_table_name(name) {
        Some(short) if name.len() <= 1024 => check_table_name(short, field),
        _ => check_table_name(name, field),
    }
}

/// Check a table name: 3–255 characters from `[a-zA-Z0-9_.-]` (DynamoDB's constraint text).
pub fn check_table_name(name: &str, field: &str) -> Result<()> {
    let mut errors = Vec::new();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        errors.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        ));
    }
    if name.len() < 3 {
        errors.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must have length greater than or equal to 3"
        ));
    }
    if name.len() > 255 {
        errors.push(format!(
            "Value '{name}' at '{field}' failed to satisfy constraint: Member must have length less than or equal to 255"
        ));
    }
    constraint_errors(errors)
}

/// "N validation error(s) detected: …" from constraint messages (none: Ok).
pub fn constraint_errors(errors: Vec<String>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let n = errors.len();
    Err(DynamoError::validation(format!(
        "{n} validation error{} detected: {}",
        if n > 1 { "s" } else { "" },
        errors.join("; ")
    )))
}

/// One `KeySchema` element as a request gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchemaElement {
    /// AttributeName.
    pub name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// A secondary index as CreateTable gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexInput {
    /// IndexName.
    pub name: String,
    /// KeySchema.
    pub key_schema: Vec<KeySchemaElement>,
    /// Projection.ProjectionType (`ALL`, `KEYS_ONLY`, `INCLUDE`); `None` if missing.
    pub projection_type: Option<String>,
    /// Projection.NonKeyAttributes.
    pub non_key_attributes: Option<Vec<String>>,
    /// ProvisionedThroughput (global indexes).
    pub throughput: Option<Throughput>,
}

/// CreateTable's parameters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CreateTableInput {
    /// TableName.
    pub name: String,
    /// KeySchema.
    pub key_schema: Vec<KeySchemaElement>,
    /// AttributeDefinitions: (name, type).
    pub attributes: Vec<(String, String)>,
    /// LocalSecondaryIndexes.
    pub lsis: Vec<IndexInput>,
    /// GlobalSecondaryIndexes.
    pub gsis: Vec<IndexInput>,
    /// BillingMode (`PROVISIONED` when absent).
    pub billing_mode: Option<String>,
    /// ProvisionedThroughput.
    pub throughput: Option<Throughput>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// StreamSpecification: (enabled, view type).
    pub stream: Option<(bool, String)>,
    /// DeletionProtectionEnabled.
    pub deletion_protection: bool,
    /// TableClass.
    pub table_class: Option<String>,
    /// WarmThroughput: read and write units a second, either may be absent.
    pub warm: Option<(Option<u64>, Option<u64>)>,
    /// OnDemandThroughput: MaxReadRequestUnits and MaxWriteRequestUnits, either may be absent.
    pub on_demand: Option<(Option<i64>, Option<i64>)>,
}

/// Longest key attribute name, in bytes: the API model's limit on KeySchemaElement and
/// AttributeDefinition names, checked before the two are matched (ScyllaDB's Alternator
/// test_limit_attribute_length_key_bad*, run against DynamoDB).
pub const MAX_KEY_NAME_BYTES: usize = 255;

pub(crate) fn check_key_name(name: &str, field: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_KEY_NAME_BYTES {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must have length {}",
            if name.is_empty() { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_KEY_NAME_BYTES}") }
        )));
    }
    Ok(())
}

/// Every element's KeyType is HASH or RANGE; the error's path names the element, counting
/// from 1, as DynamoDB's validator does.
fn check_key_types(schema: &[KeySchemaElement], what: &str) -> Result<()> {
    for (i, k) in schema.iter().enumerate() {
        check_key_name(&k.name, &format!("{what}.{}.member.attributeName", i + 1))?;
        if k.key_type != "HASH" && k.key_type != "RANGE" {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at '{what}.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                k.key_type,
                i + 1
            )));
        }
    }
    Ok(())
}

fn key_attrs(
    schema: &[KeySchemaElement],
    defs: &[(String, String)],
    what: &str,
) -> Result<(KeyAttr, Option<KeyAttr>)> {
    if schema.is_empty() || schema.len() > 2 {
        return Err(DynamoError::validation(format!(
            "1 validation error detected: Value '[{}]' at '{what}' failed to satisfy constraint: Member must have length {}",
            schema.iter().map(|k| format!("KeySchemaElement(attributeName={}, keyType={})", k.name, k.key_type)).collect::<Vec<_>>().join(", "),
            if schema.is_empty() { "greater than or equal to 1" } else { "less than or equal to 2" }
        )));
    }
    check_key_types(schema, what)?;
    // Every element's definition is looked for before the elements' order is (dynalite's
    // tests, checked against DynamoDB: an index keyed on two undefined RANGE attributes is
    // refused for the definitions).
    let lookup = |name: &str| -> Result<KeyAttr> {
        defs.iter()
            .find(|(n, _)| n == name)
            .map(|(n, t)| KeyAttr { name: n.clone(), ty: t.clone() })
            .ok_or_else(|| {
                DynamoError::invalid_parameter(format!(
                    "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    schema.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", "),
                    defs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })
    };
    let attrs = schema
        .iter()
        .map(|k| lookup(&k.name))
        .collect::<Result<Vec<_>>>()?;
    if schema[0].key_type != "HASH" {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if schema.len() == 2 {
        // One name twice is reported as such, before the second element's type, and without
        // the "One or more parameter values were invalid" of the checks after it (dynalite's
        // tests, checked against DynamoDB).
        if schema[0].name == schema[1].name {
            return Err(DynamoError::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
        if schema[1].key_type != "RANGE" {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
    }
    let mut attrs = attrs.into_iter();
    let hash = attrs.next().expect("one element at least");
    Ok((hash, attrs.next()))
}

/// Most attributes in each of a global index's partition and sort keys.
pub const MAX_INDEX_KEY_ATTRIBUTES: usize = 4;

/// A global index's key schema, which may name up to four partition-key (HASH) attributes and
/// then up to four sort-key (RANGE) attributes (DynamoDB's multi-attribute keys, November
/// 2025). A schema of one or two elements is checked as a table's, with the same messages.
fn gsi_key_attrs(
    schema: &[KeySchemaElement],
    defs: &[(String, String)],
    what: &str,
) -> Result<(Vec<KeyAttr>, Vec<KeyAttr>)> {
    // One element, or a partition and a sort key: checked as a table's key. Two partition
    // attributes are a multi-attribute key (ScyllaDB's Alternator test_gsi_composite_create_2h).
    let two_hashes = schema.len() == 2
        && schema.iter().all(|k| k.key_type == "HASH")
        && schema[0].name != schema[1].name;
    if schema.len() <= 2 && !two_hashes {
        let (h, r) = key_attrs(schema, defs, what)?;
        return Ok((vec![h], r.into_iter().collect()));
    }
    check_key_types(schema, what)?;
    let hashes = schema.iter().take_while(|k| k.key_type == "HASH").count();
    let ranges = schema.len() - hashes;
    if hashes == 0 {
        return Err(DynamoError::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if schema[hashes..].iter().any(|k| k.key_type != "RANGE") {
        return Err(DynamoError::validation(
            "Invalid KeySchema: every HASH KeySchemaElement must come before the RANGE ones",
        ));
    }
    if hashes > MAX_INDEX_KEY_ATTRIBUTES || ranges > MAX_INDEX_KEY_ATTRIBUTES {
        return Err(DynamoError::validation(format!(
            "Invalid KeySchema: a global secondary index key has at most {MAX_INDEX_KEY_ATTRIBUTES} HASH and {MAX_INDEX_KEY_ATTRIBUTES} RANGE attributes; this one has {hashes} and {ranges}"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(k) = schema.iter().find(|k| !seen.insert(k.name.as_str())) {
        return Err(DynamoError::invalid_parameter(format!(
            "Invalid KeySchema: Duplicate attribute {} in the index key; an attribute appears once",
            k.name
        )));
    }
    let attrs = schema
        .iter()
        .map(|k| {
            defs.iter()
                .find(|(n, _)| *n == k.name)
                .map(|(n, t)| KeyAttr { name: n.clone(), ty: t.clone() })
                .ok_or_else(|| {
                    DynamoError::invalid_parameter(format!(
                        "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                        schema.iter().map(|k| k.name.as_str()).collect::<Vec<_>>().join(", "),
                        defs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let (h, r) = attrs.split_at(hashes);
    Ok((h.to_vec(), r.to_vec()))
}

fn projection(ix: &IndexInput) -> Result<ProjectionType> {
    let attrs = ix.non_key_attributes.clone();
    match ix.projection_type.as_deref() {
        Some("ALL") | Some("KEYS_ONLY") if attrs.is_some() => Err(DynamoError::invalid_parameter(format!(
            "ProjectionType is {}, but NonKeyAttributes is specified",
            ix.projection_type.as_deref().unwrap_or_default()
        ))),
        Some("ALL") => Ok(ProjectionType::All),
        Some("KEYS_ONLY") => Ok(ProjectionType::KeysOnly),
        Some("INCLUDE") => match attrs {
            Some(a) if !a.is_empty() => {
                if a.iter().any(|n| n.is_empty() || n.len() > MAX_KEY_NAME_BYTES) {
                    // Names projected by name are held to a key name's 255 bytes (DynamoDB's
                    // guide, for local indexes; global ones too, by ScyllaDB's Alternator
                    // test_limit_attribute_length_gsi_lsi_projection_bad).
                    return Err(DynamoError::validation(format!(
                        "1 validation error detected: Value at 'projection.nonKeyAttributes' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to {MAX_KEY_NAME_BYTES}, Member must have length greater than or equal to 1]"
                    )));
                }
                let mut seen = std::collections::BTreeSet::new();
                if let Some(d) = a.iter().find(|n| !seen.insert(n.as_str())) {
                    // ScyllaDB's Alternator test_gsi_projection_error_duplicate (run against
                    // DynamoDB) checks only that the message says "Duplicate".
                    return Err(DynamoError::invalid_parameter(format!(
                        "Duplicate attribute name in NonKeyAttributes: {d}"
                    )));
                }
                Ok(ProjectionType::Include(a))
            }
            _ => Err(DynamoError::invalid_parameter(
                "NonKeyAttributes must not be empty",
            )),
        },
        // NonKeyAttributes without a type is still "Unknown ProjectionType: null" (dynalite's
        // tests, checked against DynamoDB).
        None => Err(DynamoError::invalid_parameter("Unknown ProjectionType: null")),
        Some(other) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{other}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        ))),
    }
}

/// The most provisioned throughput DynamoDB's model takes for either units.
const MAX_CAPACITY_UNITS: u64 = 1_000_000_000_000;

/// Provisioned throughput within the model's bounds, read units first (DynamoDB's words).
pub fn check_throughput_bounds(t: &Throughput) -> Result<()> {
    for (v, what) in [
        (t.read, "ReadCapacityUnits"),
        (t.write, "WriteCapacityUnits"),
    ] {
        if v > MAX_CAPACITY_UNITS {
            return Err(DynamoError::validation(format!(
                "Given value {v} for {what} is out of bounds"
            )));
        }
    }
    Ok(())
}

/// Validate CreateTable's input into a table definition (id, uuid and time filled in by the
/// caller).
pub fn table_def(
    input: &CreateTableInput,
    id: u64,
    uuid: String,
    now_unix_ms: u64,
) -> Result<TableDef> {
    check_table_name(&input.name, "tableName")?;
    // Key types are request validation: checked for the table and every index before anything
    // else, with the element's path (moto's AWS-verified
    // test_create_table__specify_non_key_column: an index's SORT is reported before its
    // undeclared attributes).
    check_key_types(&input.key_schema, "keySchema")?;
    for (i, (n, _)) in input.attributes.iter().enumerate() {
        check_key_name(
            n,
            &format!("attributeDefinitions.{}.member.attributeName", i + 1),
        )?;
    }
    for (list, name) in [
        (&input.gsis, "globalSecondaryIndexes"),
        (&input.lsis, "localSecondaryIndexes"),
    ] {
        for (i, ix) in list.iter().enumerate() {
            check_key_types(
                &ix.key_schema,
                &format!("{name}.{}.member.keySchema", i + 1),
            )?;
        }
    }
    for (i, (_, t)) in input.attributes.iter().enumerate() {
        if !matches!(t.as_str(), "S" | "N" | "B") {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{t}' at 'attributeDefinitions.{}.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
                i + 1
            )));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (n, _) in &input.attributes {
        if !seen.insert(n) {
            return Err(DynamoError::invalid_parameter(format!(
                "Duplicate AttributeName {n} in AttributeDefinitions"
            )));
        }
    }
    // The billing mode and its throughput are checked before the key schema means anything
    // (dynalite's tests, checked against DynamoDB: a table with neither throughput nor key
    // definitions is refused for its throughput).
    let billing_mode = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| "PROVISIONED".into());
    let throughput = match (billing_mode.as_str(), input.throughput) {
        ("PROVISIONED", Some(t)) => {
            check_throughput_bounds(&t)?;
            t
        }
        ("PROVISIONED", None) => {
            return Err(DynamoError::invalid_parameter(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        ("PAY_PER_REQUEST", None) => Throughput::default(),
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(DynamoError::invalid_parameter(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (other, _) => {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )))
        }
    };
    // Fewer definitions than key elements: DynamoDB's message for it comes before the key
    // schema's own checks (dynalite's tests; moto's AWS-verified
    // test_create_table_with_missing_attributes).
    if input.attributes.len() < input.key_schema.len() {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    let (hash, range) = key_attrs(&input.key_schema, &input.attributes, "keySchema")?;
    super::tags::check_tags(&input.tags)?;
    if input.lsis.len() > MAX_LSI {
        return Err(DynamoError::new(
            ErrorKind::Validation,
            format!("One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSI}"),
        ));
    }
    if input.gsis.len() > MAX_GSI {
        // A ValidationException, worded unlike the local indexes' (dynalite's tests, checked
        // against DynamoDB).
        return Err(DynamoError::invalid_parameter(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSI}"
        )));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut number = 0u8;
    let mut make = |ix: &IndexInput, local: bool| -> Result<IndexDef> {
        check_table_name(&ix.name, "indexName")?;
        if !names.insert(ix.name.clone()) {
            return Err(DynamoError::invalid_parameter(format!(
                "Duplicate index name: {}",
                ix.name
            )));
        }
        if local && range.is_none() {
            return Err(DynamoError::invalid_parameter(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        let (ih, ir) = if local {
            let (h, r) = key_attrs(&ix.key_schema, &input.attributes, "keySchema")?;
            (vec![h], r.into_iter().collect::<Vec<_>>())
        } else {
            gsi_key_attrs(&ix.key_schema, &input.attributes, "keySchema")?
        };
        let mut ih = ih.into_iter();
        let mut ir = ir.into_iter();
        let (ih, more_hash) = (
            ih.next().expect("at least one HASH attribute"),
            ih.collect(),
        );
        let (ir, more_range) = (ir.next(), ir.collect());
        if local {
            // A missing range key is reported before a different partition key (dynalite's
            // tests, checked against DynamoDB).
            if ir.is_none() {
                return Err(DynamoError::invalid_parameter(format!(
                    "Index KeySchema does not have a range key for index: {}",
                    ix.name
                )));
            }
            if ih.name != hash.name {
                return Err(DynamoError::invalid_parameter(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    ix.name, ih.name, hash.name
                )));
            }
        }
        let throughput = match (billing_mode.as_str(), ix.throughput, local) {
            (_, _, true) => None,
            ("PROVISIONED", None, false) => {
                return Err(DynamoError::invalid_parameter(format!(
                    "ProvisionedThroughput is not specified for index: {}",
                    ix.name
                )))
            }
            ("PAY_PER_REQUEST", Some(_), false) => {
                return Err(DynamoError::invalid_parameter(format!(
                    "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                    ix.name
                )))
            }
            (_, t, false) => t,
        };
        number += 1;
        Ok(IndexDef {
            name: ix.name.clone(),
            number,
            local,
            hash: ih,
            range: ir,
            more_hash,
            more_range,
            projection: projection(ix)?,
            throughput,
            backfill: None,
        })
    };
    let lsis = input
        .lsis
        .iter()
        .map(|ix| make(ix, true))
        .collect::<Result<Vec<_>>>()?;
    let gsis = input
        .gsis
        .iter()
        .map(|ix| make(ix, false))
        .collect::<Result<Vec<_>>>()?;
    let projected: usize = lsis
        .iter()
        .chain(&gsis)
        .map(|i| match &i.projection {
            ProjectionType::Include(a) => a.len(),
            _ => 0,
        })
        .sum();
    if projected > MAX_PROJECTED_ATTRIBUTES {
        return Err(DynamoError::new(
            ErrorKind::LimitExceeded,
            format!("One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of {MAX_PROJECTED_ATTRIBUTES}"),
        ));
    }
    // Every defined attribute must be used by some key schema.
    let used = |n: &str| {
        hash.name == n
            || range.as_ref().is_some_and(|r| r.name == n)
            || lsis.iter().chain(&gsis).any(|i| i.is_key_attr(n))
    };
    if input.attributes.iter().any(|(n, _)| !used(n)) {
        return Err(DynamoError::invalid_parameter(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    Ok(TableDef {
        name: input.name.clone(),
        id,
        uuid,
        hash,
        range,
        attributes: input
            .attributes
            .iter()
            .map(|(n, t)| KeyAttr {
                name: n.clone(),
                ty: t.clone(),
            })
            .collect(),
        lsis,
        gsis,
        billing_mode,
        throughput,
        ttl: None,
        created_unix_ms: now_unix_ms,
        tags: input.tags.clone(),
        stream: match &input.stream {
            Some((true, view)) => {
                super::streams::check_view_type(Some(view))?;
                Some((true, view.clone()))
            }
            // A disabled stream has no view: naming one is refused (the DynamoDB Conformance
            // Suite's specValidation, against DynamoDB; these words are ours).
            Some((false, view)) if !view.is_empty() => {
                return Err(DynamoError::validation(format!(
                    "One or more parameter values were invalid: StreamViewType {view} cannot be specified when StreamEnabled is false"
                )))
            }
            other => other.clone(),
        },
        // A stream enabled at creation starts with sequence number 1.
        streams: match &input.stream {
            Some((true, view)) => vec![super::streams::StreamDef::new(1, view, now_unix_ms, 1)],
            _ => Vec::new(),
        },
        resource_policy: None,
        pitr_since_ms: None,
        placement: super::keys::Placement::Dynamo,
        deletion_protection: input.deletion_protection,
        table_class: match &input.table_class {
            Some(c) => {
                check_table_class(c)?;
                Some(TableClass {
                    class: c.clone(),
                    updated_unix_ms: None,
                })
            }
            None => None,
        },
        warm: match input.warm {
            Some(asked) => Some(warm_throughput(WARM_DEFAULT, asked)?),
            None => None,
        },
        on_demand: input
            .on_demand
            .map(|asked| on_demand_throughput(None, asked))
            .transpose()?,
        purging: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog written while a deleted index's number alone was kept still opens: the purge
    /// goes on, with nothing to show in DescribeTable; the kept definition round-trips.
    #[test]
    fn deleted_indexes_read_in_both_forms() {
        let old: Vec<DeletedIndex> = serde_json::from_str("[3]").unwrap();
        assert_eq!(
            old,
            [DeletedIndex {
                number: 3,
                index: None
            }]
        );
        let def = table_def(
            &CreateTableInput {
                name: "orders".into(),
                key_schema: ks(&[("id", "HASH")]),
                attributes: vec![("id".into(), "S".into()), ("g".into(), "S".into())],
                gsis: vec![IndexInput {
                    name: "by_g".into(),
                    key_schema: ks(&[("g", "HASH")]),
                    projection_type: Some("KEYS_ONLY".into()),
                    non_key_attributes: None,
                    throughput: None,
                }],
                billing_mode: Some("PAY_PER_REQUEST".into()),
                ..CreateTableInput::default()
            },
            1,
            String::new(),
            0,
        )
        .unwrap();
        let now = vec![DeletedIndex {
            number: def.gsis[0].number,
            index: def.gsis.first().cloned(),
        }];
        let back: Vec<DeletedIndex> =
            serde_json::from_slice(&serde_json::to_vec(&now).unwrap()).unwrap();
        assert_eq!(back, now);
    }

    fn ks(parts: &[(&str, &str)]) -> Vec<KeySchemaElement> {
        parts
            .iter()
            .map(|(n, t)| KeySchemaElement {
                name: n.to_string(),
                key_type: t.to_string(),
            })
            .collect()
    }

    fn input() -> CreateTableInput {
        CreateTableInput {
            name: "orders".into(),
            key_schema: ks(&[("pk", "HASH"), ("sk", "RANGE")]),
            attributes: vec![
                ("pk".into(), "S".into()),
                ("sk".into(), "N".into()),
                ("g".into(), "S".into()),
            ],
            gsis: vec![IndexInput {
                name: "by_g".into(),
                key_schema: ks(&[("g", "HASH")]),
                projection_type: Some("KEYS_ONLY".into()),
                non_key_attributes: None,
                throughput: None,
            }],
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..CreateTableInput::default()
        }
    }

    /// CreateTable's checks in DynamoDB's order (dynalite's tests, checked against DynamoDB):
    /// billing and throughput before the key schema, the number of definitions before the
    /// elements, definitions before the elements' order, one name twice before a second HASH.
    #[test]
    fn create_table_checks_come_in_dynamodbs_order() {
        let msg = |i: &CreateTableInput| table_def(i, 1, String::new(), 0).unwrap_err().message;
        let bare = |keys: &[(&str, &str)], defs: &[&str]| CreateTableInput {
            name: "abc".into(),
            key_schema: ks(keys),
            attributes: defs
                .iter()
                .map(|n| (n.to_string(), "S".to_string()))
                .collect(),
            throughput: Some(Throughput { read: 1, write: 1 }),
            ..CreateTableInput::default()
        };
        let mut i = bare(&[("a", "HASH")], &[]);
        i.throughput = None;
        assert!(msg(&i).ends_with("must both be specified when BillingMode is PROVISIONED"));
        i.throughput = Some(Throughput {
            read: 1_000_000_000_001,
            write: 1_000_000_000_001,
        });
        assert_eq!(
            msg(&i),
            "Given value 1000000000001 for ReadCapacityUnits is out of bounds"
        );
        i.throughput = Some(Throughput {
            read: 1,
            write: 1_000_000_000_001,
        });
        assert_eq!(
            msg(&i),
            "Given value 1000000000001 for WriteCapacityUnits is out of bounds"
        );
        let no_def = "Invalid KeySchema: Some index key attribute have no definition";
        assert_eq!(msg(&bare(&[("a", "HASH")], &[])), no_def);
        assert_eq!(msg(&bare(&[("a", "HASH"), ("a", "HASH")], &["a"])), no_def);
        assert_eq!(msg(&bare(&[("a", "HASH"), ("b", "RANGE")], &["b"])), no_def);
        assert!(
            msg(&bare(&[("a", "HASH")], &["b"])).ends_with("Keys: [a], AttributeDefinitions: [b]")
        );
        assert_eq!(
            msg(&bare(&[("a", "HASH"), ("a", "HASH")], &["a", "b"])),
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        );
        assert_eq!(
            msg(&bare(&[("a", "HASH"), ("b", "HASH")], &["a", "b"])),
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        );
        // An attribute type out of the enum is named by its position.
        let mut i = bare(&[("a", "HASH")], &["a", "b"]);
        i.attributes[1].1 = "SS".into();
        assert!(
            msg(&i).contains("at 'attributeDefinitions.2.member.attributeType'"),
            "{}",
            msg(&i)
        );
        // Local indexes: the table's range key, then the index's definitions, then its order,
        // then its range key before its partition key.
        let lsi = |keys: &[(&str, &str)]| IndexInput {
            name: "abc".into(),
            key_schema: ks(keys),
            projection_type: Some("ALL".into()),
            non_key_attributes: None,
            throughput: None,
        };
        let mut i = bare(&[("a", "HASH")], &["a", "b"]);
        i.lsis = vec![lsi(&[("c", "RANGE")])];
        assert!(msg(&i).ends_with("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"));
        let mut i = bare(&[("a", "HASH"), ("b", "RANGE")], &["a", "b"]);
        i.lsis = vec![lsi(&[("c", "RANGE"), ("d", "RANGE")])];
        assert!(
            msg(&i).contains("Some index key attributes are not defined"),
            "{}",
            msg(&i)
        );
        i.lsis = vec![lsi(&[("b", "HASH")])];
        assert!(msg(&i).ends_with("Index KeySchema does not have a range key for index: abc"));
        i.lsis = vec![IndexInput {
            projection_type: None,
            non_key_attributes: Some(vec!["a".into()]),
            ..lsi(&[("a", "HASH"), ("b", "RANGE")])
        }];
        assert!(msg(&i).ends_with("Unknown ProjectionType: null"));
        // Over twenty global indexes is a ValidationException.
        let mut i = bare(&[("a", "HASH")], &["a"]);
        i.gsis = (0..21)
            .map(|n| IndexInput {
                name: format!("abc{n}"),
                throughput: Some(Throughput { read: 1, write: 1 }),
                ..lsi(&[("a", "HASH")])
            })
            .collect();
        let e = table_def(&i, 1, String::new(), 0).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e
            .message
            .ends_with("GlobalSecondaryIndex count exceeds the per-table limit of 20"));
    }

    #[test]
    fn valid_definition() {
        let d = table_def(&input(), 7, "u".into(), 1).unwrap();
        assert_eq!(d.gsis[0].number, 1);
        assert_eq!(d.range.as_ref().unwrap().value_type(), ValueType::N);
    }

    #[test]
    fn dynamodb_messages() {
        let mut i = input();
        i.name = "ab".into();
        assert_eq!(
            table_def(&i, 1, "u".into(), 1).unwrap_err().message,
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
        let mut i = input();
        i.attributes.push(("unused".into(), "S".into()));
        assert_eq!(
            table_def(&i, 1, "u".into(), 1).unwrap_err().message,
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
        );
        let mut i = input();
        i.billing_mode = None;
        assert!(table_def(&i, 1, "u".into(), 1)
            .unwrap_err()
            .message
            .contains("must both be specified"));
        let mut i = input();
        i.key_schema = ks(&[("sk", "RANGE"), ("pk", "HASH")]);
        assert_eq!(
            table_def(&i, 1, "u".into(), 1).unwrap_err().message,
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        );
    }
}
