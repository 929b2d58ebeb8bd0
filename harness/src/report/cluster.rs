//! `seedbed bench cluster`'s charts: what a quorum costs over the node's own LSM.

use std::path::Path;

use super::charts::Bars;
use super::load::{num, text, Kind, Record, Results};
use super::Figure;

fn label(r: &Record) -> anyhow::Result<String> {
    Ok(if text(r, "target")? == "lsm" {
        format!("LSM {}", text(r, "sync")?)
    } else {
        format!(
            "{}/{}/{} {}",
            num(r, "n")?,
            num(r, "r")?,
            num(r, "w")?,
            text(r, "sync")?
        )
    })
}

/// Throughput per (target, sync) and client count, for puts and for gets; and the latency
/// percentiles of puts at the largest client count.
pub fn bench(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::BenchCluster);
    let command = results.command(Kind::BenchCluster);
    let mut cats: Vec<String> = Vec::new();
    let mut clients: Vec<u64> = Vec::new();
    for r in recs {
        let l = label(r)?;
        if !cats.contains(&l) {
            cats.push(l);
        }
        let c = num(r, "concurrency")? as u64;
        if !clients.contains(&c) {
            clients.push(c);
        }
    }
    clients.sort_unstable();
    for op in ["put", "get"] {
        let mut series = Vec::new();
        for &c in &clients {
            let mut v = vec![f64::NAN; cats.len()];
            for r in recs {
                if text(r, "op")? == op && num(r, "concurrency")? as u64 == c {
                    let l = label(r)?;
                    let i = cats.iter().position(|x| *x == l).expect("listed");
                    v[i] = num(r, "ops_per_s")?;
                }
            }
            series.push((format!("{c} clients"), v));
        }
        let file = format!("cluster-{op}-throughput.svg");
        let title = format!("Quorum {op}s: operations per second (N/R/W and sync policy)");
        Bars {
            title: &title,
            y_label: "successful operations/s (log)",
            categories: cats.clone(),
            series,
            log_y: true,
        }
        .draw(&out.join(&file))?;
        figures.push(Figure {
            file,
            title: format!("Replicated store: {op} throughput against the node's own LSM"),
            caption: if op == "put" {
                "Each bar is one time-bounded cell of `seedbed bench cluster`: real node \
                 processes on loopback, each replica's write synced before it is acknowledged. \
                 The LSM bars are the same store in one process with the same sync policy. \
                 With sync=always a node syncs each write on its own; with sync=group the writes \
                 a node takes in one event-loop turn share one sync, so puts scale with clients \
                 until the disk's sync rate, not the write count, is the limit."
                    .into()
            } else {
                "Gets read R replicas' LSMs through the page cache: no sync on the path, so the \
                 cost over the in-process LSM is the network hops and the event loops, and the \
                 sync policy barely matters."
                    .into()
            },
            command: command.clone(),
        });
    }
    let top = *clients.last().unwrap_or(&1);
    let (mut p50, mut p99, mut p999) = (Vec::new(), Vec::new(), Vec::new());
    let mut lat_cats = Vec::new();
    for r in recs {
        if text(r, "op")? != "put" || num(r, "concurrency")? as u64 != top {
            continue;
        }
        let lat = r.value.get("latency_ms");
        let q = |k: &str| {
            lat.and_then(|l| l.get(k))
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN)
        };
        lat_cats.push(label(r)?);
        p50.push(q("p50"));
        p99.push(q("p99"));
        p999.push(q("p999"));
    }
    let title = format!("Quorum puts at {top} clients: latency");
    Bars {
        title: &title,
        y_label: "milliseconds (log)",
        categories: lat_cats,
        series: vec![
            ("p50".into(), p50),
            ("p99".into(), p99),
            ("p99.9".into(), p999),
        ],
        log_y: true,
    }
    .draw(&out.join("cluster-put-latency.svg"))?;
    figures.push(Figure {
        file: "cluster-put-latency.svg".into(),
        title: "Replicated store: put latency percentiles".into(),
        caption: "A put waits for the W-th fastest replica's durable acknowledgement, so its \
                  latency is a W-th order statistic of N replicas' sync times plus the hops; \
                  the tail is where a node's event loop waits behind its own syncs and \
                  maintenance. p99.9 of a short cell rests on a handful of operations."
            .into(),
        command,
    });
    Ok(())
}
