//! Streams across crashes on the simulated disk: after every power cut, replaying a table's
//! stream records in sequence order from an empty table gives exactly the table's items — no
//! change without its record, no record without its change — sequence numbers only grow, and
//! the records written after a restart continue the numbering. Each seed runs random puts,
//! updates, deletes, transactions and batches (with write and sync faults switched on now and
//! then, so writes fail part-way), crashes, reopens, three times.
//!
//! `SEEDBED_STREAM_CRASH_SEEDS=N` sets the number of seeds (default 200);
//! `SEEDBED_STREAM_CRASH_SEED=S` runs one seed. Every failure prints its one-line repro.

use std::collections::BTreeMap;
use std::sync::Arc;

use seedbed_engine::io::sim::{SimConfig, SimFs};

use super::common::sim_tables::{cut_power, open, start_faults};
use seedbed_engine::io::FsHandle;
use seedbed_engine::rng::DetRng;
use seedbed_engine::table::streams::Event;
use seedbed_engine::table::*;

fn key(i: u64) -> Item {
    [("id".to_string(), AttributeValue::s(format!("k{i:02}")))].into()
}

fn item(i: u64, v: u64) -> Item {
    let mut it = key(i);
    it.insert("v".into(), AttributeValue::n(v as i64));
    it
}

/// The table's items, by id.
fn items(t: &Tables) -> std::result::Result<BTreeMap<String, Item>, String> {
    let mut out = BTreeMap::new();
    t.scan_snapshot("orders", |i| {
        out.insert(i["id"].as_s().unwrap_or_default().to_string(), i);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The table as its stream records rebuild it, and the sequence numbers in the order read.
fn replay(t: &Tables) -> std::result::Result<(BTreeMap<String, Item>, Vec<u64>), String> {
    let (streams, _) = t
        .list_streams(Some("orders"), None, None)
        .map_err(|e| e.to_string())?;
    let mut model = BTreeMap::new();
    let mut seqs = Vec::new();
    for s in streams {
        let shard = s.stream.shard_id(&s.def);
        let mut it = t
            .get_shard_iterator(&s.arn, &shard, "TRIM_HORIZON", None)
            .map_err(|e| e.to_string())?;
        loop {
            let (page, next) = t.get_records(&it, None).map_err(|e| e.to_string())?;
            if page.is_empty() {
                break;
            }
            for r in page {
                seqs.push(r.seq);
                let id = r.keys["id"].as_s().unwrap_or_default().to_string();
                match r.event {
                    Event::Insert | Event::Modify => {
                        model.insert(id, r.new.ok_or("a record without its new image")?);
                    }
                    Event::Remove => {
                        model.remove(&id);
                    }
                }
            }
            match next {
                Some(n) => it = n,
                None => break,
            }
        }
    }
    Ok((model, seqs))
}

fn run_seed(seed: u64) -> std::result::Result<(), String> {
    let mut rng = DetRng::new(seed).fork("stream-crash-workload");
    let sim = Arc::new(SimFs::new(seed, SimConfig::default()));
    let fs: FsHandle = sim.clone();
    for cycle in 0..3 {
        let (t, db) = open(&fs, &sim).map_err(|e| format!("cycle {cycle}: reopen: {e}"))?;
        if t.describe_table("orders").is_err() {
            t.create_table(&CreateTableInput {
                name: "orders".into(),
                key_schema: vec![KeySchemaElement {
                    name: "id".into(),
                    key_type: "HASH".into(),
                }],
                attributes: vec![("id".into(), "S".into())],
                billing_mode: Some("PAY_PER_REQUEST".into()),
                stream: Some((true, "NEW_AND_OLD_IMAGES".into())),
                ..CreateTableInput::default()
            })
            .map_err(|e| format!("cycle {cycle}: create: {e}"))?;
        }
        let (model, seqs) = replay(&t).map_err(|e| format!("cycle {cycle}: replay: {e}"))?;
        let got = items(&t).map_err(|e| format!("cycle {cycle}: scan: {e}"))?;
        if model != got {
            return Err(format!(
                "cycle {cycle}: the stream rebuilds {} items, the table has {}: {:?} vs {:?}",
                model.len(),
                got.len(),
                model.keys().collect::<Vec<_>>(),
                got.keys().collect::<Vec<_>>()
            ));
        }
        if seqs.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!(
                "cycle {cycle}: sequence numbers out of order: {seqs:?}"
            ));
        }
        let steps = 30 + rng.below(120);
        let faulty_from = rng.chance(0.5).then(|| rng.below(steps));
        for step in 0..steps {
            if Some(step) == faulty_from {
                start_faults(&sim, &mut rng);
            }
            sim.clock().advance(rng.below(2_000_000));
            let i = rng.below(20);
            let r = rng.below(100);
            let res = if r < 45 {
                t.put_item(&PutItem {
                    table: "orders".into(),
                    item: item(i, rng.below(3)),
                    ..PutItem::default()
                })
                .map(|_| ())
            } else if r < 65 {
                t.delete_item(&DeleteItem {
                    table: "orders".into(),
                    key: key(i),
                    ..DeleteItem::default()
                })
                .map(|_| ())
            } else if r < 80 {
                let writes = (0..1 + rng.below(4))
                    .map(|j| {
                        TransactWrite::Put(PutItem {
                            table: "orders".into(),
                            item: item((i + j) % 20, rng.below(3)),
                            ..PutItem::default()
                        })
                    })
                    .collect::<Vec<_>>();
                t.transact_write_items(&writes, None, ReturnCapacity::None)
                    .map(|_| ())
            } else if r < 95 {
                let reqs = (0..1 + rng.below(5))
                    .map(|j| {
                        if rng.chance(0.3) {
                            WriteRequest::Delete(key((i + 2 * j) % 20))
                        } else {
                            WriteRequest::Put(item((i + 2 * j) % 20, rng.below(3)))
                        }
                    })
                    .collect();
                t.batch_write_item(&[("orders".to_string(), reqs)].into(), ReturnCapacity::None)
                    .map(|_| ())
            } else {
                db.flush()
                    .map_err(|e| DynamoError::validation(e.to_string()))
            };
            if res.is_err() && faulty_from.is_some_and(|f| step >= f) {
                break; // an injected fault: crash now
            }
            // Transactions may be refused for their own reasons (two writes of one item).
        }
        // After a restart the numbering goes on from where the records end.
        cut_power(&sim, t, db);
        let (t, _db) = open(&fs, &sim).map_err(|e| format!("cycle {cycle}: reopen: {e}"))?;
        if t.describe_table("orders").is_err() {
            // Its creation was never synced, and the crash took it: the next cycle makes it.
            drop(t);
            sim.crash();
            continue;
        }
        let (_, seqs) = replay(&t).map_err(|e| format!("cycle {cycle}: replay: {e}"))?;
        let before = seqs.last().copied().unwrap_or(0);
        t.put_item(&PutItem {
            table: "orders".into(),
            item: item(99, cycle),
            ..PutItem::default()
        })
        .map_err(|e| format!("cycle {cycle}: put after reopen: {e}"))?;
        let (_, seqs) = replay(&t).map_err(|e| format!("cycle {cycle}: replay: {e}"))?;
        let after = seqs.last().copied().unwrap_or(0);
        if after <= before {
            return Err(format!(
                "cycle {cycle}: the first record after a restart has number {after}, not above {before}"
            ));
        }
        drop(t);
        sim.crash();
    }
    Ok(())
}

#[test]
fn after_any_crash_the_stream_and_the_table_agree() {
    super::common::sweep::sweep("SEEDBED_STREAM_CRASH", 200, "table_streams_crash", run_seed);
}
