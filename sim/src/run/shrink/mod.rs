//! Shrinking: cut a failing run down while the same checker still fails.
//!
//! **Shrink the choices, not the seed.** The shrinker first records every random draw the run
//! makes, per named stream and per [`Span`](crate::span::Span) — the client operation, the
//! scheduled fault or the node boot each event descends from (see
//! [`seedbed_engine::rng::tape`]). From then on every candidate run *replays* the record,
//! edited: removing client operation 17 leaves the network's draws for operation 18's
//! messages where they were, because they are filed under operation 18, not at "the 4,000th
//! draw of the network stream". That is what the old seed-based shrinker lacked: every
//! removal shifted every later draw, so most candidates stopped failing and it gave up at a
//! few hundred operations. The idea is Hypothesis' (MacIver & Donaldson, "Test-Case
//! Reduction via Test-Case Generation: Insights from the Hypothesis Reducer", ECOOP 2020):
//! reduce the sequence of choices and regenerate the test from it.
//!
//! It *pins* the run (the swarm plan and the fault schedule become explicit, the record is
//! attached), then repeats passes until one round makes no progress or the budget is spent:
//! 1. fewer scheduled faults — delta debugging: remove halves, then quarters, ... then singles;
//! 2. fewer fault kinds — switch off each continuous kind, and each kind of disk fault;
//! 3. fewer operations — a shorter prefix, an earlier end of the fault period, then delta
//!    debugging over which operations are issued at all;
//! 4. fewer nodes — the fewest that still fail, with the record or, failing that, with
//!    fresh draws;
//! 5. fewer fired faults — delta debugging over the draws that made a fault fire (a dropped
//!    message, a disk error, a buggify site): set them to "did not fire" (after which a kind
//!    that fires no more is switched off by pass 2);
//! 6. when the rest is stuck: lower settings — turn down the sizes components asked for with
//!    `DetRng::setting` (a replica's memtable), after which the passes above run again; then
//!    simpler draws — zero whole lists of draws, sort them, delete their tails ([`draws`]).
//!
//! A candidate is kept only if it fails *with the same checker*; a different failure is a
//! different bug. A kept candidate's own record (what it drew, replayed or fresh) becomes the
//! record the next edits start from, so the result replays exactly: it is a config with the
//! pinned plan, schedule, operations and record, which `seedbed sim run --config FILE` reruns.

mod draws;

use serde::Serialize;

use crate::choices::ChoiceRecord;
use crate::config::{FaultSource, RunConfig};
use crate::error::SimError;
use crate::faults::{ClockFaults, DiskFaults, FaultPlan};
use crate::registry;
use crate::time::NANOS_PER_MS;
use crate::world::{RunOutcome, RunSize};

/// One edit of a fault plan (the kinds pass).
type PlanEdit = Box<dyn Fn(&mut FaultPlan)>;

/// Runs the shrinker may spend by default.
pub const RUNS_MAX_DEFAULT: u32 = 400;
/// Rounds over all passes, at most.
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
    /// Random draws the original run made.
    pub draws_before: usize,
    /// Random draws the shrunk run makes.
    pub draws_after: usize,
    /// Its config (pinned plan, schedule, operations and recorded draws).
    pub config: RunConfig,
    /// Its outcome.
    pub outcome: RunOutcome,
    /// Runs spent.
    pub runs: u32,
}

pub(crate) struct Shrinker {
    checker: String,
    best: RunConfig,
    best_outcome: RunOutcome,
    runs: u32,
    runs_max: u32,
}

impl Shrinker {
    /// Run `candidate`, recording its draws; keep it if it fails the same way. Errors (a
    /// candidate the workload rejects, say too few nodes) count as "does not fail".
    fn attempt(&mut self, mut candidate: RunConfig) -> bool {
        if self.runs >= self.runs_max || candidate == self.best {
            return false;
        }
        self.runs += 1;
        candidate.record_choices = true;
        match registry::run(&candidate, None) {
            Ok(o)
                if o.violation
                    .as_ref()
                    .is_some_and(|v| v.checker == self.checker) =>
            {
                candidate.record_choices = false;
                candidate.choices = o.choices.clone().map(ChoiceRecord);
                self.best = candidate;
                self.best_outcome = o;
                true
            }
            _ => false,
        }
    }

    fn runs_left(&self) -> u32 {
        self.runs_max.saturating_sub(self.runs)
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
        let mut candidates = vec![0, n / 8, n / 4, n / 2, 3 * n / 4, n.saturating_sub(1)];
        candidates.dedup();
        let drawn = self.best.ops.unwrap_or(n);
        for ops in candidates.into_iter().filter(|&o| o < n) {
            let mut c = self.best.clone();
            // Keep the first `ops` issued operations (by index among those drawn).
            let kept: Vec<u64> = match &c.only_ops {
                Some(k) => k.iter().copied().take(ops as usize).collect(),
                None => (0..ops.min(drawn)).collect(),
            };
            c.ops = Some(kept.last().map_or(0, |&last| last + 1));
            c.only_ops = Some(kept);
            if self.attempt(c) {
                return true;
            }
        }
        false
    }

    /// Delta debugging over the issued operations: drop halves, quarters, ..., single ones.
    fn fewer_ops_anywhere(&mut self) -> bool {
        let kept: Vec<u64> = match &self.best.only_ops {
            Some(k) => k.clone(),
            None => (0..self.best_outcome.size.ops).collect(),
        };
        self.ddmin(kept, |s, keep| {
            let mut c = s.best.clone();
            c.ops = Some(keep.last().map_or(0, |&last| last + 1));
            c.only_ops = Some(keep.to_vec());
            Some(c)
        })
    }

    /// The fewest nodes that still fail: each count first with the record (the remaining
    /// nodes' draws stay in place), then with fresh draws from the seed (a cluster of another
    /// size can need other timings than the record holds).
    fn fewer_nodes(&mut self) -> bool {
        let n = self.best_outcome.size.nodes;
        for nodes in 1..n {
            let mut c = self.best.clone();
            c.nodes = Some(nodes);
            if self.attempt(c.clone()) {
                return true;
            }
            c.choices = None;
            if self.attempt(c) {
                return true;
            }
        }
        false
    }

    fn fewer_scheduled(&mut self) -> bool {
        let schedule = self.best_outcome.schedule.clone();
        self.ddmin(schedule, |s, keep| {
            let mut c = s.best.clone();
            c.schedule = Some(keep.to_vec());
            Some(c)
        })
    }

    /// Delta debugging: find a smaller subset of `items` that still fails, removing halves,
    /// then quarters, ..., then single items. `build` makes the candidate that keeps exactly
    /// `keep` (or `None` to skip it). Returns whether anything was removed.
    fn ddmin<T: Clone>(
        &mut self,
        mut items: Vec<T>,
        build: impl Fn(&Self, &[T]) -> Option<RunConfig>,
    ) -> bool {
        let mut progress = false;
        let mut chunk = items.len().div_ceil(2);
        while chunk >= 1 && self.runs < self.runs_max {
            let mut start = 0;
            while start < items.len() && self.runs < self.runs_max {
                let mut keep = items.clone();
                let end = (start + chunk).min(keep.len());
                keep.drain(start..end);
                let accepted = match build(self, &keep) {
                    Some(c) => self.attempt(c),
                    None => false,
                };
                if accepted {
                    items = keep;
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
        let disk_only = |f: fn(&mut DiskFaults)| {
            move |p: &mut FaultPlan| {
                if p.disk.any() {
                    f(&mut p.disk);
                }
            }
        };
        let edits: Vec<PlanEdit> = vec![
            Box::new(|p| p.net.drop = 0.0),
            Box::new(|p| p.net.duplicate = 0.0),
            Box::new(|p| p.net.reorder = 0.0),
            Box::new(|p| p.net.slow_link_factor_max = 0),
            Box::new(|p| p.clock = ClockFaults::default()),
            Box::new(|p| {
                p.disk = DiskFaults {
                    crash_keep: p.disk.crash_keep,
                    crash_tear: p.disk.crash_tear,
                    crash_lose_dir: p.disk.crash_lose_dir,
                    ..DiskFaults::default()
                }
            }),
            Box::new(|p| p.buggify = false),
            // One kind of disk fault at a time, when the disk kind has to stay.
            Box::new(disk_only(|d| d.bit_flip = 0.0)),
            Box::new(disk_only(|d| d.torn_write = 0.0)),
            Box::new(disk_only(|d| d.read_eio = 0.0)),
            Box::new(disk_only(|d| d.write_eio = 0.0)),
            Box::new(disk_only(|d| d.sync_eio = 0.0)),
            Box::new(disk_only(|d| d.capacity_kib = None)),
        ];
        let mut progress = false;
        for edit in edits {
            let mut p = self.plan();
            let before = p.clone();
            edit(&mut p);
            if p == before {
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
    let mut recorded = config.clone();
    recorded.record_choices = true;
    let first = registry::run(&recorded, None)?;
    let Some(violation) = first.violation.clone() else {
        return Err(SimError::NothingToShrink {
            workload: config.workload.clone(),
            seed: config.seed,
        });
    };
    let draws_before = first.choices.as_ref().map_or(0, |c| c.len());
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
    pinned.choices = first.choices.clone().map(ChoiceRecord);
    let mut s = Shrinker {
        checker: violation.checker.clone(),
        best: config.clone(),
        best_outcome: first.clone(),
        runs: 0,
        runs_max,
    };
    // Pinning must not change the run; if it does (it should not), report the unshrunk run.
    if !s.attempt(pinned) {
        return Ok(ShrinkReport {
            checker: violation.checker,
            size_before: first.size,
            size_after: first.size,
            draws_before,
            draws_after: draws_before,
            config: config.clone(),
            outcome: first,
            runs: s.runs,
        });
    }
    for _ in 0..PASSES_MAX {
        // Operations go before the earlier stop: with a long horizon left, a smaller set of
        // operations has more chances to trip the same checker.
        // All settings down at once first (two runs at most): a failure that survives the
        // smallest memtables is one the operations pass can cut much further.
        let mut progress = s.lower_settings(false);
        progress |= s.fewer_scheduled();
        progress |= s.fewer_kinds();
        progress |= s.fewer_ops();
        progress |= s.earlier_stop();
        progress |= s.fewer_ops_anywhere();
        progress |= s.fewer_nodes();
        if s.fewer_fired() {
            progress = true;
            s.fewer_kinds();
        }
        if !progress {
            // Smaller settings first: they tend to unlock the structural passes again.
            progress = s.lower_settings(true) || s.simpler_draws();
        }
        if !progress || s.runs >= s.runs_max {
            break;
        }
    }
    Ok(ShrinkReport {
        checker: s.checker,
        size_before: first.size,
        size_after: s.best_outcome.size,
        draws_before,
        draws_after: s.best.choices.as_ref().map_or(0, |c| c.0.len()),
        config: s.best,
        outcome: s.best_outcome,
        runs: s.runs,
    })
}
