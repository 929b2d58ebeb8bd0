//! Shrinking: cut a failing run down while the same checker still fails.
//!
//! The shrinker first *pins* the run: the fault plan drawn by swarm becomes an explicit plan, and
//! the discrete faults become an explicit schedule, so that each edit changes one thing and
//! leaves every other choice where it was (each component has its own random stream). Then it
//! repeats passes until one makes no progress or the run budget is spent:
//! 1. fewer scheduled faults — delta debugging: remove halves, then quarters, ... then singles;
//! 2. fewer fault kinds — switch off each continuous kind (loss, duplication, reordering, slow
//!    links, clock skew, disk faults, buggify) in turn;
//! 3. fewer nodes — the fewest that still fail;
//! 4. fewer operations — first a shorter prefix (the smallest of `0, n/4, n/2, 3n/4, n-1` that
//!    still fails), then delta debugging over which operations are issued at all;
//! 5. an earlier stop — end the fault period just after the violation.
//!
//! Removing a message-sending operation shifts the network's later random draws, so the
//! shrunk run is a *different* run that fails the same checker — not a sub-run of the
//! original. That is the usual deal of seed-based shrinking (Hypothesis, proptest); the
//! faults and operations that remain keep their times and targets.
//!
//! A candidate is kept only if it fails *with the same checker*; a different failure is a
//! different bug. The result is a config that reproduces the failure (write it with
//! [`RunConfig::to_toml`] and rerun with `seedbed sim run --config FILE`).

use serde::Serialize;

use crate::config::{FaultSource, RunConfig};
use crate::error::SimError;
use crate::faults::{ClockFaults, DiskFaults, FaultPlan};
use crate::registry;
use crate::time::NANOS_PER_MS;
use crate::world::{RunOutcome, RunSize};

/// Runs the shrinker may spend by default.
pub const RUNS_MAX_DEFAULT: u32 = 400;
/// Passes over all strategies, at most.
pub const PASSES_MAX: u32 = 16;

/// What shrinking achieved.
#[derive(Clone, Debug, Serialize)]
pub struct ShrinkReport {
    /// The checker that fails, before and after.
    pub checker: String,
    /// Size of the original failing run.
    pub size_before: RunSize,
    /// Size of the smallest failing run found.
    pub size_after: RunSize,
    /// Its config (pinned plan and schedule).
    pub config: RunConfig,
    /// Its outcome.
    pub outcome: RunOutcome,
    /// Runs spent.
    pub runs: u32,
}

struct Shrinker {
    checker: String,
    best: RunConfig,
    best_outcome: RunOutcome,
    runs: u32,
    runs_max: u32,
}

impl Shrinker {
    /// Run `candidate`; keep it if it fails the same way. Errors (a candidate the workload
    /// rejects, say too few nodes) count as "does not fail".
    fn attempt(&mut self, candidate: RunConfig) -> bool {
        if self.runs >= self.runs_max || candidate == self.best {
            return false;
        }
        self.runs += 1;
        match registry::run(&candidate, None) {
            Ok(o)
                if o.violation
                    .as_ref()
                    .is_some_and(|v| v.checker == self.checker) =>
            {
                self.best = candidate;
                self.best_outcome = o;
                true
            }
            _ => false,
        }
    }

    fn plan(&self) -> FaultPlan {
        match &self.best.faults {
            FaultSource::Plan(p) => (**p).clone(),
            _ => FaultPlan::none(),
        }
    }

    fn earlier_stop(&mut self) -> bool {
        let v = self
            .best_outcome
            .violation
            .as_ref()
            .expect("best always fails");
        let fault_ms = self.best_outcome.size.fault_ms;
        let stop_ms = v.at_ns / NANOS_PER_MS + 1;
        if stop_ms >= fault_ms {
            return false;
        }
        let mut c = self.best.clone();
        c.fault_ms = Some(stop_ms);
        self.attempt(c)
    }

    fn fewer_ops(&mut self) -> bool {
        let n = self.best_outcome.size.ops;
        let mut candidates = vec![0, n / 4, n / 2, 3 * n / 4, n.saturating_sub(1)];
        candidates.dedup();
        for ops in candidates.into_iter().filter(|&o| o < n) {
            let mut c = self.best.clone();
            c.ops = Some(ops);
            if let Some(only) = &mut c.only_ops {
                only.retain(|&i| i < ops);
            }
            if self.attempt(c) {
                return true;
            }
        }
        false
    }

    /// Delta debugging over the issued operations: drop halves, quarters, ..., single ones.
    fn fewer_ops_anywhere(&mut self) -> bool {
        let mut kept: Vec<u64> = match &self.best.only_ops {
            Some(k) => k.clone(),
            None => (0..self.best_outcome.size.ops).collect(),
        };
        let mut progress = false;
        let mut chunk = kept.len().div_ceil(2);
        while chunk >= 1 && self.runs < self.runs_max {
            let mut start = 0;
            while start < kept.len() && self.runs < self.runs_max {
                let mut k = kept.clone();
                let end = (start + chunk).min(k.len());
                k.drain(start..end);
                let mut c = self.best.clone();
                c.ops = Some(k.last().map_or(0, |&last| last + 1));
                c.only_ops = Some(k.clone());
                if self.attempt(c) {
                    kept = k;
                    progress = true;
                } else {
                    start += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        progress
    }

    fn fewer_nodes(&mut self) -> bool {
        let n = self.best_outcome.size.nodes;
        for nodes in 1..n {
            let mut c = self.best.clone();
            c.nodes = Some(nodes);
            if self.attempt(c) {
                return true;
            }
        }
        false
    }

    fn fewer_scheduled(&mut self) -> bool {
        let mut progress = false;
        let mut chunk = self.best_outcome.schedule.len().div_ceil(2);
        while chunk >= 1 && self.runs < self.runs_max {
            let mut start = 0;
            while start < self.best_outcome.schedule.len() && self.runs < self.runs_max {
                let mut s = self.best_outcome.schedule.clone();
                let end = (start + chunk).min(s.len());
                s.drain(start..end);
                let mut c = self.best.clone();
                c.schedule = Some(s);
                if self.attempt(c) {
                    progress = true;
                } else {
                    start += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        progress
    }

    fn fewer_kinds(&mut self) -> bool {
        let edits: [fn(&mut FaultPlan); 7] = [
            |p| p.net.drop = 0.0,
            |p| p.net.duplicate = 0.0,
            |p| p.net.reorder = 0.0,
            |p| p.net.slow_link_factor_max = 0,
            |p| p.clock = ClockFaults::default(),
            |p| {
                p.disk = DiskFaults {
                    crash_keep: p.disk.crash_keep,
                    crash_tear: p.disk.crash_tear,
                    crash_lose_dir: p.disk.crash_lose_dir,
                    ..DiskFaults::default()
                }
            },
            |p| p.buggify = false,
        ];
        let mut progress = false;
        for edit in edits {
            let mut p = self.plan();
            let before = p.continuous_kinds();
            edit(&mut p);
            if p.continuous_kinds() == before {
                continue;
            }
            let mut c = self.best.clone();
            c.faults = FaultSource::Plan(Box::new(p));
            progress |= self.attempt(c);
        }
        progress
    }
}

/// Shrink the failing run `config`, spending at most `runs_max` runs.
pub fn shrink(config: &RunConfig, runs_max: u32) -> Result<ShrinkReport, SimError> {
    let first = registry::run(config, None)?;
    let Some(violation) = first.violation.clone() else {
        return Err(SimError::NothingToShrink {
            workload: config.workload.clone(),
            seed: config.seed,
        });
    };
    let mut pinned = config.clone();
    let mut plan = first.plan.clone();
    // The schedule is explicit from here on; the periodic settings that drew it are unused.
    plan.partitions = None;
    plan.crashes = None;
    plan.pauses = None;
    plan.clock_jumps = None;
    pinned.faults = FaultSource::Plan(Box::new(plan));
    pinned.schedule = Some(first.schedule.clone());
    pinned.nodes = Some(first.size.nodes);
    pinned.fault_ms = Some(first.size.fault_ms);
    pinned.ops = Some(first.size.ops);
    let mut s = Shrinker {
        checker: violation.checker.clone(),
        best: config.clone(),
        best_outcome: first.clone(),
        runs: 0,
        runs_max,
    };
    // Pinning must not change the run; if it does (it should not), shrink from the unpinned one.
    if !s.attempt(pinned) {
        return Ok(ShrinkReport {
            checker: violation.checker,
            size_before: first.size,
            size_after: first.size,
            config: config.clone(),
            outcome: first,
            runs: s.runs,
        });
    }
    for _ in 0..PASSES_MAX {
        // Operations go before the earlier stop: with a long horizon left, a smaller set of
        // operations has more chances to trip the same checker.
        let mut progress = s.fewer_scheduled();
        progress |= s.fewer_kinds();
        progress |= s.fewer_nodes();
        progress |= s.fewer_ops();
        progress |= s.fewer_ops_anywhere();
        progress |= s.earlier_stop();
        if !progress || s.runs >= s.runs_max {
            break;
        }
    }
    Ok(ShrinkReport {
        checker: s.checker,
        size_before: first.size,
        size_after: s.best_outcome.size,
        config: s.best,
        outcome: s.best_outcome,
        runs: s.runs,
    })
}
