//! The shrinker's passes over the recorded draws themselves (Hypothesis' "zero", "sort" and
//! "delete" on the choice sequence), each as delta debugging over the record's lists — one
//! list is one stream's draws under one span.
//!
//! - **fewer fired** — every chance that came out `true` (a message dropped or duplicated, a
//!   disk error, a buggify site switched on or firing, a directory change lost in a crash)
//!   is set to `false`, as many at once as still fail;
//! - **zero** — every draw of a list to its simplest value (`false`, 0: the shortest latency,
//!   the first member, the first sector; for a position drawn from the end of a buffer, such
//!   as the byte a read's bit flip lands on, distance 0: the last byte);
//! - **sort** — a list's bounded draws (`below`) in ascending order (latencies that rise with
//!   time: messages arrive in the order sent); positions from the end stay where they are;
//! - **delete** — a list's second half cut off, so later draws of it come fresh;
//! - **lower settings** — the sizes a component asked for with `DetRng::setting` (a replica's
//!   memtable) turned down: all to their lowest rung, else all one rung down, else one at a
//!   time; a smaller memtable rotates after fewer writes, and the operations pass can then cut
//!   the writes that only filled it.
//!
//! None of these can make a run "bigger" by the shrinker's measure; they make its remaining
//! randomness simpler to read and leave fault kinds that no longer fire for the kinds pass to
//! switch off.

use std::collections::BTreeSet;

use seedbed_engine::rng::tape::Choice;
use seedbed_engine::rng::Choices;

use super::Shrinker;
use crate::choices::ChoiceRecord;
use crate::config::RunConfig;

/// Where one list sits in a record: stream name and span code.
type ListAt = (String, u64);

/// An edit of one list; whether it changed anything.
type ListEdit = fn(&mut Vec<Choice>) -> bool;

/// Where one choice sits: its list and index.
type ChoiceAt = (String, u64, usize);

impl Shrinker {
    fn record(&self) -> Choices {
        self.best
            .choices
            .as_ref()
            .map(|c| c.0.clone())
            .unwrap_or_default()
    }

    fn with_record(&self, record: Choices) -> RunConfig {
        let mut c = self.best.clone();
        c.choices = Some(ChoiceRecord(record));
        c
    }

    /// Set fired chances to `false`, as many as still fail (delta debugging).
    pub(super) fn fewer_fired(&mut self) -> bool {
        let record = self.record();
        let fired: Vec<ChoiceAt> = record
            .streams
            .iter()
            .flat_map(|(name, spans)| {
                spans.iter().flat_map(move |(&span, list)| {
                    list.iter()
                        .enumerate()
                        .filter(|(_, c)| c.fired())
                        .map(move |(i, _)| (name.clone(), span, i))
                })
            })
            .collect();
        if fired.is_empty() {
            return false;
        }
        // Keep `keep` fired; un-fire the rest. Positions refer to the record this pass began
        // with; a kept candidate's record may have moved some, so only choices still fired
        // at their position are edited.
        let all = fired.clone();
        self.ddmin(fired, move |s, keep| {
            let keep: BTreeSet<&ChoiceAt> = keep.iter().collect();
            let mut r = s.record();
            let mut changed = false;
            for at in all.iter().filter(|a| !keep.contains(a)) {
                if let Some(c) = choice_mut(&mut r, at).filter(|c| c.fired()) {
                    *c = c.zeroed().expect("a chance has a simplest value");
                    changed = true;
                }
            }
            changed.then(|| s.with_record(r))
        })
    }

    /// Turn the run's settings down while it still fails: every setting to its lowest rung;
    /// else every one a rung down, repeated; else (`each`) each on its own, a rung down.
    /// Whether any candidate was kept.
    pub(super) fn lower_settings(&mut self, each: bool) -> bool {
        let settings = |r: &Choices| -> Vec<ChoiceAt> {
            r.streams
                .iter()
                .flat_map(|(name, spans)| {
                    spans.iter().flat_map(move |(&span, list)| {
                        list.iter()
                            .enumerate()
                            .filter(|(_, c)| matches!(c, Choice::Setting { v, .. } if *v > 0))
                            .map(move |(i, _)| (name.clone(), span, i))
                    })
                })
                .collect()
        };
        // `to` maps a rung to the one to try; a candidate only if some rung moved.
        let lowered = |s: &Self, at: &[ChoiceAt], to: fn(u64) -> u64| -> Option<RunConfig> {
            let mut r = s.record();
            let mut changed = false;
            for a in at {
                if let Some(c) = choice_mut(&mut r, a) {
                    if let Some(l) = c.with_value(to(c.value())).filter(|l| l != c) {
                        *c = l;
                        changed = true;
                    }
                }
            }
            changed.then(|| s.with_record(r))
        };
        let all = settings(&self.record());
        if all.is_empty() {
            return false;
        }
        if let Some(c) = lowered(self, &all, |_| 0) {
            if self.attempt(c) {
                return true;
            }
        }
        let mut progress = false;
        loop {
            let at = settings(&self.record());
            match lowered(self, &at, |v| v.saturating_sub(1)) {
                Some(c) => {
                    if !self.attempt(c) {
                        break;
                    }
                    progress = true;
                }
                None => break,
            }
        }
        if !progress && each {
            for a in settings(&self.record()) {
                if let Some(c) = lowered(self, std::slice::from_ref(&a), |v| v.saturating_sub(1)) {
                    progress |= self.attempt(c);
                }
            }
        }
        progress
    }

    /// When nothing structural shrinks any more: zero, sort and delete draws, each pass as
    /// delta debugging over lists, with at most a quarter of the runs left each.
    pub(super) fn simpler_draws(&mut self) -> bool {
        let mut progress = false;
        let edits: [ListEdit; 3] = [|l| zero_list(l), |l| sort_list(l), delete_tail];
        for edit in edits {
            let budget = self.runs_left() / 4;
            if budget == 0 {
                break;
            }
            let cap = self.runs + budget;
            let lists: Vec<ListAt> = self
                .record()
                .streams
                .iter()
                .flat_map(|(n, spans)| spans.keys().map(move |&s| (n.clone(), s)))
                .collect();
            let (saved, all) = (self.runs_max, lists.clone());
            self.runs_max = cap.min(saved);
            // ddmin over the lists left *unedited*: the edit applies to all the others.
            progress |= self.ddmin(lists, move |s, keep| {
                let keep: BTreeSet<&ListAt> = keep.iter().collect();
                let mut r = s.record();
                let mut changed = false;
                for at in all.iter().filter(|a| !keep.contains(a)) {
                    if let Some(list) = r.streams.get_mut(&at.0).and_then(|m| m.get_mut(&at.1)) {
                        changed |= edit(list);
                    }
                }
                changed.then(|| s.with_record(r))
            });
            self.runs_max = saved;
        }
        progress
    }
}

fn choice_mut<'a>(r: &'a mut Choices, at: &ChoiceAt) -> Option<&'a mut Choice> {
    r.streams.get_mut(&at.0)?.get_mut(&at.1)?.get_mut(at.2)
}

/// Every draw to its simplest value (raw words, which have none, stay). Whether it changed.
fn zero_list(list: &mut [Choice]) -> bool {
    let mut changed = false;
    for c in list.iter_mut() {
        if let Some(z) = c.zeroed() {
            changed |= z != *c;
            *c = z;
        }
    }
    changed
}

/// The bounded draws (`below`) in ascending order, each slot keeping its own question: a
/// value moves only to a slot whose bound admits it. Whether it changed.
fn sort_list(list: &mut [Choice]) -> bool {
    let slots: Vec<usize> = (0..list.len())
        .filter(|&i| matches!(list[i], Choice::Below { .. }))
        .collect();
    let mut values: Vec<u64> = slots.iter().map(|&i| list[i].value()).collect();
    values.sort_unstable();
    let mut sorted = list.to_vec();
    for (&i, &v) in slots.iter().zip(&values) {
        match list[i].with_value(v) {
            Some(c) => sorted[i] = c,
            None => return false, // bounds differ: leave the list as it is
        }
    }
    let changed = sorted[..] != *list;
    list.copy_from_slice(&sorted);
    changed
}

/// Cut the second half of the list (later draws come fresh). Whether it changed.
fn delete_tail(list: &mut Vec<Choice>) -> bool {
    if list.len() < 2 {
        return false;
    }
    list.truncate(list.len() / 2);
    true
}
