//! `seedbed bench cluster`'s charts (what a quorum costs over the node's own LSM) and
//! `seedbed cluster compare`'s (the simulator's figures beside a real run's).

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

fn opt(r: &Record, field: &str) -> f64 {
    r.value
        .get(field)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// The simulator beside reality: staleness per (N, R, W), SWIM's detection and false
/// positives.
pub fn compare(results: &Results, out: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let recs = results.of(Kind::ClusterCompare);
    let command = results.command(Kind::ClusterCompare);
    let of = |section: &str| -> anyhow::Result<Vec<&Record>> {
        let mut v = Vec::new();
        for r in recs {
            if text(r, "section")? == section {
                v.push(r);
            }
        }
        Ok(v)
    };
    let stale = of("staleness")?;
    if !stale.is_empty() {
        let mut cats: Vec<String> = Vec::new();
        for r in &stale {
            let c = format!("N={} R={} W={}", num(r, "n")?, num(r, "r")?, num(r, "w")?);
            if !cats.contains(&c) {
                cats.push(c);
            }
        }
        let mut series = Vec::new();
        for source in ["sim", "real"] {
            let mut stale_pct = vec![f64::NAN; cats.len()];
            for r in &stale {
                if text(r, "source")? != source {
                    continue;
                }
                let c = format!("N={} R={} W={}", num(r, "n")?, num(r, "r")?, num(r, "w")?);
                let i = cats.iter().position(|x| *x == c).expect("listed");
                stale_pct[i] = (1.0 - num(r, "p_fresh")?) * 100.0;
            }
            series.push((format!("{source}: stale reads %"), stale_pct));
        }
        Bars {
            title: "Stale reads: simulator and real cluster",
            y_label: "% of reads missing the latest acknowledged write",
            categories: cats,
            series,
            log_y: false,
        }
        .draw(&out.join("cluster-compare-staleness.svg"))?;
        figures.push(Figure {
            file: "cluster-compare-staleness.svg".into(),
            title: "Simulator against reality: staleness".into(),
            caption: "The same staleness checker over the same operation mix: on the \
                      simulator's runs (0.1–1 ms links, a disk whose syncs take virtual time) \
                      and on a real loopback cluster under the nemesis. Where they differ, the \
                      simulator's timing model is what is being tested: docs/cluster.md says \
                      what it leaves out."
                .into(),
            command: command.clone(),
        });
    }
    let swim = of("swim")?;
    if !swim.is_empty() {
        let cats = vec![
            "first suspect (ms)".to_string(),
            "first failed (ms)".to_string(),
            "all failed (ms)".to_string(),
            "false positives per 1k member-periods".to_string(),
        ];
        let mut series = Vec::new();
        for r in &swim {
            series.push((
                text(r, "source")?.to_string(),
                vec![
                    opt(r, "first_suspect_ms"),
                    opt(r, "first_failed_ms"),
                    opt(r, "all_failed_ms"),
                    opt(r, "fp_per_1k_node_periods"),
                ],
            ));
        }
        Bars {
            title: "SWIM: crash detection and false positives, simulator and real",
            y_label: "milliseconds, or count (log)",
            categories: cats,
            series,
            log_y: true,
        }
        .draw(&out.join("cluster-compare-swim.svg"))?;
        figures.push(Figure {
            file: "cluster-compare-swim.svg".into(),
            title: "Simulator against reality: SWIM".into(),
            caption: "Time from a crash to the first member suspecting it, declaring it failed, \
                      and every member holding it failed; and `failed` declarations about \
                      members whose process was alive (paused or cut off counts as alive). \
                      Real figures come from views sampled every few milliseconds, so they are \
                      bounds: detection late by up to a sample, false positives refuted \
                      between samples missed."
                .into(),
            command,
        });
    }
    Ok(())
}
