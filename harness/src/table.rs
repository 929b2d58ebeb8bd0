//! `seedbed table`: the DynamoDB table API on the LSM from the command line, one operation per
//! call, items as plain JSON documents (strings, numbers, booleans, null, arrays, objects) or,
//! with `--typed`, in DynamoDB's wire form. Output is one line of JSON.
//!
//! ```sh
//! seedbed table --db /tmp/t --table orders --pk customer --sk order put '{"customer":"ann","order":"001","total":3}'
//! seedbed table --db /tmp/t --table orders --pk customer --sk order get ann 001
//! seedbed table --db /tmp/t --table orders --pk customer --sk order query ann --prefix 0 --limit 10
//! seedbed table --db /tmp/t --table orders --pk customer --sk order delete ann 001
//! ```
//!
//! The table is created on first use (on-demand billing) with the key schema given by `--pk`
//! and `--sk` (`NAME` for a string key, `NAME:N` or `NAME:B` for number or binary keys). With
//! `--ttl ATTR` TTL is enabled on that attribute, and every call first deletes the items whose
//! time has passed — the maintenance step a server runs periodically — and an index build a
//! stopped server left unfinished is taken to its end.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use seedbed_dynamo::{document, wire};
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::io::{open_backend, BackendKind};
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::table::{
    AttributeValue, CreateTableInput, DeleteItem, DynamoError, ErrorKind, GetItem, Item,
    KeySchemaElement, Number, PutItem, Search, Tables, ValueType, WriteCondition,
};

/// Options of `seedbed table`.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// Database directory (created if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// Table name (3–255 characters of a-z A-Z 0-9 _ . -).
    #[arg(long, default_value = "items")]
    pub table: String,
    /// Partition key attribute: NAME (string), NAME:N (number) or NAME:B (binary).
    #[arg(long, default_value = "pk")]
    pub pk: String,
    /// Sort key attribute, same form (omit for a table without sort keys).
    #[arg(long)]
    pub sk: Option<String>,
    /// Enable TTL on this attribute (expiry in Unix seconds); expired items are deleted at
    /// the start of every call.
    #[arg(long)]
    pub ttl: Option<String>,
    /// Items and output in DynamoDB's typed JSON ({"S": "x"}) instead of plain documents.
    #[arg(long)]
    pub typed: bool,
    /// I/O backend.
    #[arg(long, default_value = "std")]
    pub io: BackendKind,
    /// WAL sync policy.
    #[arg(long, default_value = "always")]
    pub sync: SyncPolicy,
    /// What to do.
    #[command(subcommand)]
    pub op: TableOp,
}

/// One table operation.
#[derive(Debug, Clone, Subcommand)]
pub enum TableOp {
    /// Store an item given as a JSON object.
    Put {
        /// The item.
        item: String,
        /// Only if no item with this key exists yet.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// Print an item as JSON (exit status 1 if absent).
    Get {
        /// Partition key value.
        partition: String,
        /// Sort key value.
        sort: Option<String>,
    },
    /// Print items of one partition as a JSON page `{"items": [...], "next_token": ...}`.
    Query {
        /// Partition key value.
        partition: String,
        /// Smallest sort key (inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Largest sort key (inclusive, as DynamoDB's BETWEEN).
        #[arg(long)]
        to: Option<String>,
        /// Sort key prefix (string and binary sort keys; instead of --from/--to).
        #[arg(long)]
        prefix: Option<String>,
        /// Descending order.
        #[arg(long)]
        reverse: bool,
        /// At most this many items.
        #[arg(long)]
        limit: Option<u32>,
        /// Continuation token (`next_token`) from a previous page.
        #[arg(long)]
        start_after: Option<String>,
    },
    /// Delete an item; prints it (or null).
    Delete {
        /// Partition key value.
        partition: String,
        /// Sort key value.
        sort: Option<String>,
    },
}

fn key_spec(spec: &str) -> Result<(String, ValueType)> {
    let (name, ty) = match spec.rsplit_once(':') {
        Some((n, t)) => (n, t),
        None => (spec, "S"),
    };
    let ty = match ty {
        "S" => ValueType::S,
        "N" => ValueType::N,
        "B" => ValueType::B,
        other => bail!("key type '{other}' in '{spec}': expected S, N or B"),
    };
    if name.is_empty() {
        bail!("empty key attribute name in '{spec}'");
    }
    Ok((name.to_string(), ty))
}

fn key_value(text: &str, ty: ValueType) -> Result<AttributeValue> {
    Ok(match ty {
        ValueType::N => AttributeValue::N(
            Number::parse(text).map_err(|e| anyhow::anyhow!("key value '{text}': {e}"))?,
        ),
        ValueType::B => AttributeValue::B(text.as_bytes().to_vec()),
        _ => AttributeValue::S(text.to_string()),
    })
}

fn show(item: &Item, typed: bool) -> String {
    if typed {
        wire::item_to_json(item).to_string()
    } else {
        document::item_to_document(item)
    }
}

/// Exit code for a failed table operation: 2 for a request DynamoDB would refuse, 1 otherwise.
fn code_of(e: &DynamoError) -> i32 {
    match e.kind {
        ErrorKind::Validation | ErrorKind::ResourceNotFound => 2,
        _ => 1,
    }
}

/// Run `seedbed table`; returns the exit code.
pub fn run(args: &TableArgs) -> Result<i32> {
    let clock: ClockHandle = Arc::new(RealClock::new());
    let opts = Options {
        sync: args.sync,
        ..Options::default()
    };
    let db = Arc::new(
        Db::open(open_backend(args.io)?, &args.db, opts, clock.clone())
            .with_context(|| format!("opening {}", args.db.display()))?,
    );
    let tables = Tables::open(db.clone(), clock.clone())?;
    let code = match run_on(args, &tables, clock.unix_millis() / 1000) {
        Ok(code) => code,
        Err(e) => match e.downcast_ref::<DynamoError>() {
            Some(d) => {
                eprintln!("error: {d}");
                code_of(d)
            }
            // Everything else run_on refuses is bad input: a key spec, JSON, a schema mismatch.
            None => {
                eprintln!("error: {e:#}");
                2
            }
        },
    };
    db.close()?;
    Ok(code)
}

fn run_on(args: &TableArgs, tables: &Tables, now_secs: u64) -> Result<i32> {
    let (pk, pk_ty) = key_spec(&args.pk)?;
    let sk = args.sk.as_deref().map(key_spec).transpose()?;
    if tables.describe_table(&args.table).is_err() {
        let mut attributes = vec![(pk.clone(), pk_ty.name().to_string())];
        let mut key_schema = vec![KeySchemaElement {
            name: pk.clone(),
            key_type: "HASH".into(),
        }];
        if let Some((n, t)) = &sk {
            attributes.push((n.clone(), t.name().to_string()));
            key_schema.push(KeySchemaElement {
                name: n.clone(),
                key_type: "RANGE".into(),
            });
        }
        tables.create_table(&CreateTableInput {
            name: args.table.clone(),
            key_schema,
            attributes,
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..CreateTableInput::default()
        })?;
    }
    let def = tables.describe_table(&args.table)?.def;
    if def.hash.name != pk || def.range.as_ref().map(|r| &r.name) != sk.as_ref().map(|s| &s.0) {
        bail!(
            "table '{}' exists with key schema {}{}; pass the same --pk/--sk",
            def.name,
            def.hash.name,
            def.range
                .as_ref()
                .map(|r| format!(" / {}", r.name))
                .unwrap_or_default()
        );
    }
    if let Some(ttl) = &args.ttl {
        if def.ttl_attribute() != Some(ttl.as_str()) {
            // UpdateTimeToLive refuses a change while one is under way (ENABLING, DISABLING):
            // each ends here first, as `seedbed serve` would have ended it in the background.
            tables.finish_index_jobs()?;
            if def.ttl_attribute().is_some() {
                tables.update_ttl(&args.table, def.ttl_attribute().unwrap_or_default(), false)?;
                tables.finish_index_jobs()?;
            }
            tables.update_ttl(&args.table, ttl, true)?;
        }
    }
    // TTL just enabled queues the items already there, and an index build or purge (or TTL
    // fill) `seedbed serve` left unfinished goes on here to its end, as the server would have
    // taken it — before the TTL pass, which deletes what is queued.
    tables.finish_index_jobs()?;
    if args.ttl.is_some() {
        tables.expire_ttl(now_secs, usize::MAX)?;
    }
    let key = |partition: &str, sort: &Option<String>| -> Result<Item> {
        let mut k = Item::new();
        k.insert(
            def.hash.name.clone(),
            key_value(partition, def.hash.value_type())?,
        );
        match (sort, &def.range) {
            (Some(s), Some(r)) => {
                k.insert(r.name.clone(), key_value(s, r.value_type())?);
            }
            (None, None) => {}
            (None, Some(r)) => bail!("table has sort key '{}': give its value", r.name),
            (Some(_), None) => bail!("table has no sort key (pass --sk ATTR to declare one)"),
        }
        Ok(k)
    };
    Ok(match &args.op {
        TableOp::Put {
            item,
            if_not_exists,
        } => {
            let json: serde_json::Value =
                serde_json::from_str(item).context("the item must be JSON")?;
            let item = if args.typed {
                wire::item_from_value(&json).map_err(|e| anyhow::anyhow!("{e}"))?
            } else {
                document::item_from_document(&json)?
            };
            let condition = WriteCondition {
                expression: if_not_exists.then(|| "attribute_not_exists(#pk)".to_string()),
                ..WriteCondition::default()
            };
            let names = if_not_exists.then(|| [("#pk".to_string(), def.hash.name.clone())].into());
            tables.put_item(&PutItem {
                table: def.name.clone(),
                item,
                condition,
                names,
                ..PutItem::default()
            })?;
            println!("{{\"ok\":true}}");
            0
        }
        TableOp::Get { partition, sort } => {
            let out = tables.get_item(&GetItem {
                table: def.name.clone(),
                key: key(partition, sort)?,
                consistent_read: true,
                ..GetItem::default()
            })?;
            match out.item {
                Some(i) => {
                    println!("{}", show(&i, args.typed));
                    0
                }
                None => {
                    println!("null");
                    1
                }
            }
        }
        TableOp::Query {
            partition,
            from,
            to,
            prefix,
            reverse,
            limit,
            start_after,
        } => {
            let mut values = std::collections::BTreeMap::new();
            values.insert(
                ":p".to_string(),
                key_value(partition, def.hash.value_type())?,
            );
            let mut cond = "#pk = :p".to_string();
            let mut names = std::collections::BTreeMap::new();
            names.insert("#pk".to_string(), def.hash.name.clone());
            if let Some(r) = &def.range {
                let t = r.value_type();
                let sort_cond = match (prefix, from, to) {
                    (Some(p), None, None) => {
                        values.insert(":x".into(), key_value(p, t)?);
                        Some("begins_with(#sk, :x)")
                    }
                    (Some(_), _, _) => bail!("--prefix cannot be combined with --from/--to"),
                    (None, Some(a), Some(b)) => {
                        values.insert(":a".into(), key_value(a, t)?);
                        values.insert(":b".into(), key_value(b, t)?);
                        Some("#sk BETWEEN :a AND :b")
                    }
                    (None, Some(a), None) => {
                        values.insert(":a".into(), key_value(a, t)?);
                        Some("#sk >= :a")
                    }
                    (None, None, Some(b)) => {
                        values.insert(":b".into(), key_value(b, t)?);
                        Some("#sk <= :b")
                    }
                    (None, None, None) => None,
                };
                if let Some(c) = sort_cond {
                    cond.push_str(" AND ");
                    cond.push_str(c);
                    names.insert("#sk".to_string(), r.name.clone());
                }
            } else if prefix.is_some() || from.is_some() || to.is_some() {
                bail!("table has no sort key: --prefix/--from/--to do not apply");
            }
            let esk = match start_after {
                Some(tok) => {
                    let j: serde_json::Value = serde_json::from_str(tok)
                        .context("--start-after takes the next_token of a previous page")?;
                    Some(wire::item_from_value(&j).map_err(|e| anyhow::anyhow!("{e}"))?)
                }
                None => None,
            };
            let page = tables.query(&Search {
                table: def.name.clone(),
                key_condition: Some(cond),
                names: Some(names),
                values: Some(values),
                forward: !reverse,
                limit: *limit,
                exclusive_start_key: esk,
                consistent_read: true,
                ..Search::default()
            })?;
            let items: Vec<String> = page.items.iter().map(|i| show(i, args.typed)).collect();
            let token = match &page.last_evaluated_key {
                Some(k) => serde_json::to_string(&wire::item_to_json(k).to_string())?,
                None => "null".into(),
            };
            println!("{{\"items\":[{}],\"next_token\":{token}}}", items.join(","));
            0
        }
        TableOp::Delete { partition, sort } => {
            let out = tables.delete_item(&DeleteItem {
                table: def.name.clone(),
                key: key(partition, sort)?,
                return_values: Some("ALL_OLD".into()),
                ..DeleteItem::default()
            })?;
            match out.attributes {
                Some(i) => println!("{}", show(&i, args.typed)),
                None => println!("null"),
            }
            0
        }
    })
}
