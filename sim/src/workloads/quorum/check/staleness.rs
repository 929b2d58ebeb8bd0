//! Staleness: how often a read returns the latest acknowledged write, and how far behind it is
//! when it does not — probabilistically bounded staleness (Bailis et al., *PBS*, VLDB 2012),
//! measured rather than modelled.
//!
//! For a get of key `k` invoked at `t`, take the writes of `k` acknowledged before `t`, in
//! acknowledgement order `w1 … wm`. The read is **fresh** when what it returns covers `wm`
//! (contains it or a causal successor). Otherwise it is **k-stale** with `k = m − j + 1`,
//! where `wj` is the newest write it covers (`k = m + 1` when it covers none): a 2-stale read
//! missed only the latest write. Reads of keys with no acknowledged write are not counted.
//!
//! Counters per run, under the configuration's prefix: `reads`, `fresh`, `k2`, `k3`,
//! `k_more`, `runs`. [`table`] turns counters summed over a sweep's seeds
//! ([`super::super::summary`]) into rows.

use std::collections::BTreeMap;

use serde::Serialize;

use super::order;
use crate::check::Checker;
use crate::metrics::{Metrics, Traffic};
use crate::node::{NodeId, OpId};
use crate::workloads::quorum::msg::{Op, Reply};
use crate::workloads::quorum::node::QuorumNode;
use crate::workloads::quorum::version::{Mode, Version};

/// The staleness meter (it never fails a run).
#[derive(Debug)]
pub struct Staleness {
    mode: Mode,
    prefix: String,
    invoked: BTreeMap<OpId, (u64, Op)>,
    acked: BTreeMap<u32, Vec<(u64, Version)>>,
    reads: u64,
    /// `by_k[0]` fresh, `[1]` 2-stale, `[2]` 3-stale, `[3]` more.
    by_k: [u64; 4],
    /// Gets answered with more than one sibling (concurrent writes the client reconciles).
    sibling_reads: u64,
}

impl Staleness {
    /// A meter for a run in `mode`, counting under `prefix`.
    pub fn new(mode: Mode, prefix: String) -> Staleness {
        Staleness {
            mode,
            prefix,
            invoked: BTreeMap::new(),
            acked: BTreeMap::new(),
            reads: 0,
            by_k: [0; 4],
            sibling_reads: 0,
        }
    }
}

impl Checker<QuorumNode> for Staleness {
    fn name(&self) -> &'static str {
        "quorum-staleness"
    }

    fn invoke(&mut self, t_ns: u64, op_id: OpId, _node: NodeId, op: &Op) -> Result<(), String> {
        self.invoked.insert(op_id, (t_ns, op.clone()));
        Ok(())
    }

    fn complete(&mut self, t_ns: u64, op_id: OpId, reply: &Reply) -> Result<(), String> {
        let Some((inv_ns, op)) = self.invoked.remove(&op_id) else {
            return Ok(());
        };
        match (op, reply) {
            (Op::Put { key, .. } | Op::Delete { key }, Reply::Written(v, _)) => {
                self.acked.entry(key).or_default().push((t_ns, v.clone()));
            }
            (Op::Get { key, all: false }, Reply::Got(s, _)) => {
                self.sibling_reads += u64::from(s.versions().len() > 1);
                let ws = self.acked.get(&key).map_or(&[][..], |v| &v[..]);
                let m = ws.iter().take_while(|(t, _)| *t < inv_ns).count();
                if m == 0 {
                    return Ok(());
                }
                let newest_covered = (0..m)
                    .rev()
                    .find(|&j| order::set_covers(s, &ws[j].1, self.mode));
                let k = match newest_covered {
                    Some(j) => m - j,
                    None => m + 1,
                };
                self.reads += 1;
                self.by_k[(k - 1).min(3)] += 1;
            }
            _ => {}
        }
        Ok(())
    }

    fn lost(&mut self, _t_ns: u64, op_id: OpId) {
        self.invoked.remove(&op_id);
    }

    fn metrics(&self, _traffic: &Traffic, out: &mut Metrics) {
        let p = &self.prefix;
        out.scalar(format!("{p}/runs"), 1.0);
        out.scalar(format!("{p}/reads"), self.reads as f64);
        out.scalar(format!("{p}/fresh"), self.by_k[0] as f64);
        out.scalar(format!("{p}/k2"), self.by_k[1] as f64);
        out.scalar(format!("{p}/k3"), self.by_k[2] as f64);
        out.scalar(format!("{p}/k_more"), self.by_k[3] as f64);
        out.scalar(format!("{p}/sibling_reads"), self.sibling_reads as f64);
    }
}

/// One row of the staleness table: a configuration's reads over a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Replicas.
    pub n: u32,
    /// Read quorum.
    pub r: u32,
    /// Write quorum.
    pub w: u32,
    /// `vclock` or `lww`.
    pub mode: &'static str,
    /// Seeds that ran this configuration.
    pub runs: u64,
    /// Reads measured.
    pub reads: u64,
    /// P(a read returns the latest acknowledged write).
    pub p_fresh: f64,
    /// `k_staleness[i]` = P(a read is at most (i+1)-stale), for i = 0, 1, 2.
    pub k_staleness: [f64; 3],
    /// Fraction of runs where some key's history was not linearizable.
    pub p_nonlinearizable_run: f64,
    /// Gets answered with siblings (concurrent writes), of all gets measured or not.
    pub sibling_reads: u64,
}

/// Rows from counters summed over a sweep's seeds (by metric name), one per configuration,
/// ordered by (mode, n, r, w).
pub fn table(counts: &BTreeMap<String, u64>) -> Vec<Row> {
    table_of_counts(&counts.iter().map(|(k, v)| (k, *v)).collect())
}

/// The staleness table of one run, from its scalars ([`crate::RunOutcome::metrics`]).
pub fn table_of_run(metrics: &BTreeMap<String, f64>) -> Vec<Row> {
    table_of_counts(&metrics.iter().map(|(k, v)| (k, *v as u64)).collect())
}

fn table_of_counts(metrics: &BTreeMap<&String, u64>) -> Vec<Row> {
    let mut rows = Vec::new();
    for (k, &runs) in metrics {
        let Some(prefix) = k.strip_suffix("/runs") else {
            continue;
        };
        let (nrw, mode) = match prefix.strip_suffix("-lww") {
            Some(p) => (p, "lww"),
            None => (prefix, "vclock"),
        };
        let Some((n, r, w)) = parse_nrw(nrw) else {
            continue;
        };
        let get = |name: &str| {
            metrics
                .get(&format!("{prefix}/{name}"))
                .copied()
                .unwrap_or(0)
        };
        let reads = get("reads");
        let frac = |x: u64, of: u64| if of == 0 { 0.0 } else { x as f64 / of as f64 };
        let (f, k2, k3) = (get("fresh"), get("k2"), get("k3"));
        rows.push(Row {
            n,
            r,
            w,
            mode,
            runs,
            reads,
            p_fresh: frac(f, reads),
            k_staleness: [
                frac(f, reads),
                frac(f + k2, reads),
                frac(f + k2 + k3, reads),
            ],
            p_nonlinearizable_run: frac(get("lin_bad_runs"), runs),
            sibling_reads: get("sibling_reads"),
        });
    }
    rows.sort_by_key(|r| (r.mode, r.n, r.r, r.w));
    rows
}

fn parse_nrw(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.strip_prefix('n')?;
    let (n, s) = s.split_once('r')?;
    let (r, w) = s.split_once('w')?;
    Some((n.parse().ok()?, r.parse().ok()?, w.parse().ok()?))
}

/// The table as text, one line per configuration.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::from(
        "  staleness per (N,R,W) — P(fresh), P(k<=2), P(k<=3), runs not linearizable, reads with siblings\n  config          runs    reads  p_fresh  k<=2    k<=3    nonlin  siblings\n",
    );
    for r in rows {
        s.push_str(&format!(
            "  N={} R={} W={} {:6} {:5} {:8} {:7.4}  {:6.4}  {:6.4}  {:6.3}  {:8}{}\n",
            r.n,
            r.r,
            r.w,
            r.mode,
            r.runs,
            r.reads,
            r.p_fresh,
            r.k_staleness[1],
            r.k_staleness[2],
            r.p_nonlinearizable_run,
            r.sibling_reads,
            if r.r + r.w > r.n { "  R+W>N" } else { "" }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reads_prefixed_counters() {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("n3r1w1/runs", 2),
            ("n3r1w1/reads", 10),
            ("n3r1w1/fresh", 7),
            ("n3r1w1/k2", 2),
            ("n3r1w1/k3", 1),
            ("n3r1w1/lin_bad_runs", 1),
            ("n3r2w2-lww/runs", 1),
        ] {
            m.insert(k.to_string(), f64::from(v));
        }
        let t = table_of_run(&m);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].n, t[0].r, t[0].w, t[0].mode), (3, 2, 2, "lww"));
        assert_eq!(t[1].p_fresh, 0.7);
        assert_eq!(t[1].k_staleness, [0.7, 0.9, 1.0]);
        assert_eq!(t[1].p_nonlinearizable_run, 0.5);
        assert!(render(&t).contains("N=3 R=1 W=1"));
    }
}
