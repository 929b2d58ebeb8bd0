//! UpdateTable: billing mode and provisioned throughput, the stream ([`super::streams`]), deletion
//! protection, and global secondary indexes added and removed on a table that has items.
//!
//! Adding an index is the interesting part. DynamoDB builds it online ("backfilling") while the
//! table keeps taking writes, and so does this server: UpdateTable writes the new definition
//! with the index `CREATING` and a build cursor at the table's first item, and returns; the
//! build then fills the index a step at a time ([`super::online`]), every write from that
//! moment keeping up the entries of the items the build has passed. One index may be created or
//! deleted at a time per table, as on DynamoDB. Removing an index takes it out of the
//! definition at once and leaves its entries to a background purge (`online.rs`), the index
//! shown `DELETING` until they are gone; its number goes to no new index meanwhile.
//!
//! The new index is checked by building the table's definition as if CreateTable had been
//! given it ([`super::schema::table_def`]): the same rules, limits and messages as at creation.

use crate::lsm::WriteBatch;

use super::codec::TableStats;
use super::error::{DynamoError, ErrorKind, Result};
use super::keys;
use super::schema::{
    self, CreateTableInput, DeletedIndex, IndexDef, IndexInput, KeySchemaElement, ProjectionType,
    TableDef, Throughput,
};
use super::store::{TableInfo, Tables};

/// UpdateTable's parameters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UpdateTableInput {
    /// TableName (or its ARN).
    pub name: String,
    /// AttributeDefinitions: those a new index's key schema needs (the table's own may be
    /// repeated).
    pub attributes: Vec<(String, String)>,
    /// BillingMode.
    pub billing_mode: Option<String>,
    /// ProvisionedThroughput.
    pub throughput: Option<Throughput>,
    /// StreamSpecification: StreamEnabled and StreamViewType.
    pub stream: Option<(bool, Option<String>)>,
    /// DeletionProtectionEnabled.
    pub deletion_protection: Option<bool>,
    /// TableClass.
    pub table_class: Option<String>,
    /// WarmThroughput: read and write units a second, either may be absent.
    pub warm: Option<(Option<u64>, Option<u64>)>,
    /// OnDemandThroughput: MaxReadRequestUnits and MaxWriteRequestUnits, either may be absent.
    pub on_demand: Option<(Option<i64>, Option<i64>)>,
    /// GlobalSecondaryIndexUpdates.
    pub gsi_updates: Vec<GsiUpdate>,
    /// Members given that this server does not serve (ReplicaUpdates, SSESpecification …):
    /// refused by name rather than ignored.
    pub unsupported: Vec<String>,
}

/// One of GlobalSecondaryIndexUpdates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GsiUpdate {
    /// Create: a new index, filled from the table's items.
    Create(IndexInput),
    /// Update: an index's provisioned throughput.
    Update(String, Option<Throughput>),
    /// Delete: the index and its entries.
    Delete(String),
}

/// DescribeLimits' answer: capacity quotas, in capacity units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// AccountMaxReadCapacityUnits.
    pub account_read: u64,
    /// AccountMaxWriteCapacityUnits.
    pub account_write: u64,
    /// TableMaxReadCapacityUnits.
    pub table_read: u64,
    /// TableMaxWriteCapacityUnits.
    pub table_write: u64,
}

impl Limits {
    /// DynamoDB's default quotas per Region (its "Service, account, and table quotas" page):
    /// 80,000 read and write capacity units an account, 40,000 a table. Nothing here is
    /// throttled, so they are what a client planning capacity reads, not a limit enforced.
    pub const DYNAMODB: Limits = Limits {
        account_read: 80_000,
        account_write: 80_000,
        table_read: 40_000,
        table_write: 40_000,
    };
}

/// The index `def` as CreateTable's input, so a table can be re-checked with one more.
fn index_input(ix: &IndexDef) -> IndexInput {
    let element = |name: &str, key_type: &str| KeySchemaElement {
        name: name.to_string(),
        key_type: key_type.to_string(),
    };
    let key_schema = ix
        .hash_attrs()
        .iter()
        .map(|k| element(&k.name, "HASH"))
        .chain(ix.range_attrs().iter().map(|k| element(&k.name, "RANGE")))
        .collect();
    IndexInput {
        name: ix.name.clone(),
        key_schema,
        projection_type: Some(ix.projection.name().to_string()),
        non_key_attributes: match &ix.projection {
            ProjectionType::Include(a) => Some(a.clone()),
            _ => None,
        },
        throughput: ix.throughput,
    }
}

/// `def` as the CreateTable input that would make it, with `extra` global indexes and
/// attribute definitions.
fn as_created(
    def: &TableDef,
    extra: &[IndexInput],
    attributes: Vec<(String, String)>,
) -> CreateTableInput {
    let mut key_schema = vec![KeySchemaElement {
        name: def.hash.name.clone(),
        key_type: "HASH".into(),
    }];
    if let Some(r) = &def.range {
        key_schema.push(KeySchemaElement {
            name: r.name.clone(),
            key_type: "RANGE".into(),
        });
    }
    CreateTableInput {
        name: def.name.clone(),
        key_schema,
        attributes,
        lsis: def.lsis.iter().map(index_input).collect(),
        gsis: def
            .gsis
            .iter()
            .map(index_input)
            .chain(extra.iter().cloned())
            .collect(),
        billing_mode: Some(def.billing_mode.clone()),
        throughput: (def.billing_mode == "PROVISIONED").then_some(def.throughput),
        tags: Vec::new(),
        stream: None,
        deletion_protection: false,
        table_class: None,
        warm: None,
        on_demand: None,
    }
}

/// The attribute definitions some key schema of `def` still uses, in their order.
fn used_attributes(def: &TableDef) -> Vec<schema::KeyAttr> {
    def.attributes
        .iter()
        .filter(|a| def.is_key(&a.name) || def.indexes().any(|i| i.is_key_attr(&a.name)))
        .cloned()
        .collect()
}

fn index_not_found(table: &str, index: &str) -> DynamoError {
    DynamoError::new(
        ErrorKind::ResourceNotFound,
        format!("Requested resource not found: Table: {table} Index: {index} not found"),
    )
}

/// The provisioned-throughput rule for the table after the change.
fn billing(
    def: &mut TableDef,
    input: &UpdateTableInput,
    provisioned_gsis: &[String],
) -> Result<()> {
    let mode = input
        .billing_mode
        .clone()
        .unwrap_or_else(|| def.billing_mode.clone());
    match mode.as_str() {
        "PAY_PER_REQUEST" => {
            if input.throughput.is_some() {
                return Err(DynamoError::invalid_parameter(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            def.throughput = Throughput::default();
            for g in &mut def.gsis {
                g.throughput = None;
            }
        }
        "PROVISIONED" => {
            let switching = def.billing_mode != "PROVISIONED";
            match input.throughput {
                // A change to the same numbers is refused, in DynamoDB's words (dynalite's
                // updateTable tests and the DynamoDB Conformance Suite, both against DynamoDB).
                Some(t) if !switching && t == def.throughput => {
                    return Err(DynamoError::validation(format!(
                        "The provisioned throughput for the table will not change. The requested value equals the current value. \
                         Current ReadCapacityUnits provisioned for the table: {r}. Requested ReadCapacityUnits: {r}. \
                         Current WriteCapacityUnits provisioned for the table: {w}. Requested WriteCapacityUnits: {w}. \
                         Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                        r = t.read,
                        w = t.write
                    )))
                }
                Some(t) => def.throughput = t,
                // UpdateTable's words for it, unlike CreateTable's (dynalite's tests, checked
                // against DynamoDB).
                None if switching => {
                    return Err(DynamoError::invalid_parameter(
                        "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                    ))
                }
                None => {}
            }
            if switching {
                if let Some(g) = def.gsis.iter().find(|g| !provisioned_gsis.contains(&g.name)) {
                    return Err(DynamoError::invalid_parameter(format!(
                        "ProvisionedThroughput is not specified for index: {}",
                        g.name
                    )));
                }
            }
        }
        other => {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )))
        }
    }
    def.billing_mode = mode;
    Ok(())
}

impl Tables {
    /// UpdateTable. Returns the table as it now is.
    pub fn update_table(&self, input: &UpdateTableInput) -> Result<TableInfo> {
        schema::check_table_name_or_arn(&input.name, "tableName")?;
        if let Some(m) = input.unsupported.first() {
            return Err(DynamoError::validation(format!(
                "UpdateTable's {m} is not served by this server (no replicas, \
                 customer-managed encryption or capacity modes beyond BillingMode); nothing was changed"
            )));
        }
        if input.billing_mode.is_none()
            && input.throughput.is_none()
            && input.stream.is_none()
            && input.deletion_protection.is_none()
            && input.table_class.is_none()
            && input.warm.is_none()
            && input.on_demand.is_none()
            && input.gsi_updates.is_empty()
        {
            return Err(DynamoError::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
            ));
        }
        if let Some(t) = &input.throughput {
            schema::check_throughput_bounds(t)?;
        }
        // The API model's limits on names come before any other check.
        for (i, (n, _)) in input.attributes.iter().enumerate() {
            schema::check_key_name(
                n,
                &format!("attributeDefinitions.{}.member.attributeName", i + 1),
            )?;
        }
        for (j, u) in input.gsi_updates.iter().enumerate() {
            if let GsiUpdate::Create(ix) = u {
                for (i, k) in ix.key_schema.iter().enumerate() {
                    schema::check_key_name(
                        &k.name,
                        &format!(
                            "globalSecondaryIndexUpdates.{}.member.create.keySchema.{}.member.attributeName",
                            j + 1,
                            i + 1
                        ),
                    )?;
                }
            }
        }
        // One update per index, before the count of online changes (dynalite's tests, checked
        // against DynamoDB).
        let mut named = std::collections::BTreeSet::new();
        for u in &input.gsi_updates {
            let name = match u {
                GsiUpdate::Create(ix) => &ix.name,
                GsiUpdate::Delete(name) | GsiUpdate::Update(name, _) => name,
            };
            if !named.insert(name) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
                )));
            }
        }
        let online = input
            .gsi_updates
            .iter()
            .filter(|u| !matches!(u, GsiUpdate::Update(..)))
            .count();
        if online > 1 {
            return Err(DynamoError::new(
                ErrorKind::LimitExceeded,
                "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
            ));
        }
        let _w = self.lock_writes();
        let t = self.table(&input.name)?;
        let building = t.def.gsis.iter().find(|g| g.backfill.is_some());
        if building.is_some() || !t.def.purging.is_empty() {
            // The index being built may be deleted (it stops the build); no other may come or
            // go until it is ACTIVE, or while a deleted one is still DELETING.
            let other = input.gsi_updates.iter().any(|u| match u {
                GsiUpdate::Create(_) => true,
                GsiUpdate::Delete(name) => building.is_none_or(|b| name != &b.name),
                GsiUpdate::Update(..) => false,
            });
            if other {
                return Err(DynamoError::new(
                    ErrorKind::LimitExceeded,
                    "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
                ));
            }
        }
        let mut def = t.def.clone();
        let mut stats = t.stats();

        // Index throughput first: switching to PROVISIONED needs every index's.
        let on_demand =
            input.billing_mode.as_deref().unwrap_or(&def.billing_mode) == "PAY_PER_REQUEST";
        let mut provisioned = Vec::new();
        for u in &input.gsi_updates {
            if let GsiUpdate::Update(name, tp) = u {
                if on_demand && tp.is_some() {
                    return Err(DynamoError::invalid_parameter(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    )));
                }
                let g = def
                    .gsis
                    .iter_mut()
                    .find(|g| &g.name == name)
                    .ok_or_else(|| index_not_found(&def.name, name))?;
                g.throughput = *tp;
                provisioned.push(name.clone());
            }
        }
        billing(&mut def, input, &provisioned)?;
        if let Some((enabled, view)) = &input.stream {
            self.set_stream(&mut def, *enabled, view.as_deref())?;
        }
        if let Some(p) = input.deletion_protection {
            def.deletion_protection = p;
        }
        if let Some(asked) = input.on_demand {
            def.on_demand = Some(schema::on_demand_throughput(def.on_demand, asked)?);
        }
        if let Some(asked) = input.warm {
            def.warm = Some(schema::warm_throughput(
                def.warm.unwrap_or(schema::WARM_DEFAULT),
                asked,
            )?);
        }
        if let Some(c) = &input.table_class {
            schema::check_table_class(c)?;
            def.table_class = Some(schema::TableClass {
                class: c.clone(),
                updated_unix_ms: Some(self.clock.unix_millis()),
            });
        }
        for u in &input.gsi_updates {
            match u {
                GsiUpdate::Update(..) => {}
                GsiUpdate::Delete(name) => {
                    let at = def
                        .gsis
                        .iter()
                        .position(|g| &g.name == name)
                        .ok_or_else(|| index_not_found(&def.name, name))?;
                    let gone = def.gsis.remove(at);
                    def.attributes = used_attributes(&def);
                    // Its entries go in the background (`online.rs`), the index shown
                    // DELETING meanwhile; its number is kept from new indexes until they are
                    // gone.
                    if let Some(s) = stats.get_mut(gone.number as usize) {
                        *s = TableStats::default();
                    }
                    def.purging.push(DeletedIndex {
                        number: gone.number,
                        index: Some(IndexDef {
                            backfill: None,
                            ..gone
                        }),
                    });
                }
                GsiUpdate::Create(ix) => {
                    let mut ix = self.new_index(&def, ix, &input.attributes)?;
                    def.attributes = merged_attributes(&def, &input.attributes)?;
                    // Empty, with the build's cursor before the first item: the build
                    // (`online.rs`) fills it; writes keep up what it has passed. On a table
                    // without items there is nothing to build: ACTIVE at once.
                    ix.backfill = self.fill_start(def.id)?;
                    let n = ix.number as usize;
                    if stats.len() <= n {
                        stats.resize(n + 1, TableStats::default());
                    }
                    stats[n] = TableStats::default();
                    def.gsis.push(ix);
                    def.attributes = used_attributes(&def);
                }
            }
        }
        self.commit_definition(WriteBatch::new(), def.clone(), stats.clone())?;
        Ok(TableInfo {
            def,
            stats,
            status: "ACTIVE",
        })
    }

    /// A new global index for `def`, checked as CreateTable would check it, with the lowest
    /// index number no index of the table has.
    fn new_index(
        &self,
        def: &TableDef,
        ix: &IndexInput,
        attributes: &[(String, String)],
    ) -> Result<IndexDef> {
        if def.index(&ix.name).is_some() {
            return Err(DynamoError::validation(format!(
                "Attempting to create an index which already exists: {}",
                ix.name
            )));
        }
        // The new index's key attributes must be in this request's AttributeDefinitions, even
        // one the table already defines (ScyllaDB's Alternator test_gsi_backfill_with_lsi, run
        // against DynamoDB).
        let missing: Vec<&str> = ix
            .key_schema
            .iter()
            .map(|k| k.name.as_str())
            .filter(|n| !attributes.iter().any(|(a, _)| a == n))
            .collect();
        if !missing.is_empty() {
            return Err(DynamoError::invalid_parameter(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                missing.join(", "),
                attributes
                    .iter()
                    .map(|(a, _)| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let attrs = merged_attributes(def, attributes)?;
        let with = as_created(
            def,
            std::slice::from_ref(ix),
            attrs
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        );
        let checked = schema::table_def(&with, def.id, def.uuid.clone(), def.created_unix_ms)?;
        let mut new = checked
            .gsis
            .into_iter()
            .find(|g| g.name == ix.name)
            .ok_or_else(|| DynamoError::validation(format!("index {} was not made", ix.name)))?;
        new.number = (1..keys::STREAM_INDEX)
            .find(|n| {
                !def.indexes().any(|i| i.number == *n)
                    && !def.purging.iter().any(|p| p.number == *n)
            })
            .ok_or_else(|| {
                DynamoError::new(
                    ErrorKind::LimitExceeded,
                    "no index number is free on this table",
                )
            })?;
        Ok(new)
    }
}

/// The table's attribute definitions with `new` ones added; a new type for a defined
/// attribute is refused.
fn merged_attributes(def: &TableDef, new: &[(String, String)]) -> Result<Vec<schema::KeyAttr>> {
    let mut out = def.attributes.clone();
    for (name, ty) in new {
        match out.iter().find(|a| &a.name == name) {
            Some(a) if &a.ty != ty => {
                // DynamoDB's first two sentences (ScyllaDB's Alternator
                // test_gsi_key_type_conflict_on_update quotes them); it goes on to print both
                // schemas, here the attribute's two types.
                return Err(DynamoError::invalid_parameter(format!(
                    "Attributes cannot be redefined. Please check that your attribute has the same type as previously defined. Attribute {name}: defined as {}, given as {ty}",
                    a.ty
                )));
            }
            Some(_) => {}
            None => out.push(schema::KeyAttr {
                name: name.clone(),
                ty: ty.clone(),
            }),
        }
    }
    Ok(out)
}
