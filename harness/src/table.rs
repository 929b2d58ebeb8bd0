//! `seedbed table`: the DynamoDB-style table API on the LSM from the command line, with items
//! as JSON. One operation per call; the output is JSON (one line).
//!
//! ```sh
//! seedbed table --db /tmp/t --table orders --pk customer --sk order put '{"customer":"ann","order":"001","total":3}'
//! seedbed table --db /tmp/t --table orders --pk customer --sk order get ann 001
//! seedbed table --db /tmp/t --table orders --pk customer --sk order query ann --prefix 0 --limit 10
//! seedbed table --db /tmp/t --table orders --pk customer --sk order delete ann 001
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use seedbed_engine::clock::{ClockHandle, RealClock};
use seedbed_engine::io::{open_backend, BackendKind};
use seedbed_engine::lsm::{Db, Options, SyncPolicy};
use seedbed_engine::table::{
    Condition, Item, Query, SortRange, TableSchema, TableStore, TtlFilter,
};

/// Options of `seedbed table`.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// Database directory (created if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// Table name.
    #[arg(long, default_value = "items")]
    pub table: String,
    /// Partition key attribute.
    #[arg(long, default_value = "pk")]
    pub pk: String,
    /// Sort key attribute (omit for a table without sort keys).
    #[arg(long)]
    pub sk: Option<String>,
    /// TTL attribute (expiry in Unix seconds).
    #[arg(long)]
    pub ttl: Option<String>,
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
        /// Only if the item does not exist yet.
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
        /// Largest sort key (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Sort key prefix (instead of --from/--to).
        #[arg(long)]
        prefix: Option<String>,
        /// Descending order.
        #[arg(long)]
        reverse: bool,
        /// At most this many items.
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Continuation token from a previous page.
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

/// Run `seedbed table`; returns the exit code.
pub fn run(args: &TableArgs) -> Result<i32> {
    let clock: ClockHandle = Arc::new(RealClock::new());
    let mut opts = Options {
        sync: args.sync,
        ..Options::default()
    };
    if let Some(ttl) = &args.ttl {
        opts.compaction_filter = Some(Arc::new(TtlFilter::new(ttl, clock.clone())));
    }
    let db = Arc::new(
        Db::open(open_backend(args.io)?, &args.db, opts, clock.clone())
            .with_context(|| format!("opening {}", args.db.display()))?,
    );
    let schema = TableSchema {
        name: args.table.clone(),
        partition_key: args.pk.clone(),
        sort_key: args.sk.clone(),
        ttl_attribute: args.ttl.clone(),
    };
    let store = TableStore::new(db.clone(), schema, clock)?;
    let sort = |s: &Option<String>| -> Result<String> {
        match (s, &args.sk) {
            (Some(s), Some(_)) => Ok(s.clone()),
            (None, None) => Ok(String::new()),
            (None, Some(a)) => bail!("table has sort key '{a}': give its value"),
            (Some(_), None) => bail!("table has no sort key (pass --sk ATTR to declare one)"),
        }
    };
    let code = match &args.op {
        TableOp::Put {
            item,
            if_not_exists,
        } => {
            let item: Item =
                serde_json::from_str(item).context("the item must be a JSON object")?;
            let cond = if_not_exists.then(|| Condition::NotExists(args.pk.clone()));
            store.put(item, cond.as_ref())?;
            println!("{{\"ok\":true}}");
            0
        }
        TableOp::Get { partition, sort: s } => match store.get(partition, &sort(s)?)? {
            Some(item) => {
                println!("{}", serde_json::to_string(&item)?);
                0
            }
            None => {
                println!("null");
                1
            }
        },
        TableOp::Query {
            partition,
            from,
            to,
            prefix,
            reverse,
            limit,
            start_after,
        } => {
            let range = match prefix {
                Some(p) => SortRange::Prefix(p.clone()),
                None if from.is_some() || to.is_some() => {
                    SortRange::Between(from.clone(), to.clone())
                }
                None => SortRange::All,
            };
            let page = store.query(&Query {
                partition: partition.clone(),
                range,
                reverse: *reverse,
                limit: *limit,
                start_after: start_after.clone(),
            })?;
            println!(
                "{}",
                serde_json::json!({"items": page.items, "next_token": page.next_token})
            );
            0
        }
        TableOp::Delete { partition, sort: s } => {
            let old = store.delete(partition, &sort(s)?, None)?;
            println!("{}", serde_json::to_string(&old)?);
            0
        }
    };
    db.close()?;
    Ok(code)
}
