//! What one run measured — the first half of the workload-metrics contract (the second is
//! [`crate::summary`], which sums runs over a sweep).
//!
//! The model is FoundationDB's workload interface: a workload's checkers hand their
//! measurements back to whoever ran them, and nothing else carries metrics. At the end of a
//! run the world asks every checker for its [`Metrics`] ([`crate::Checker::metrics`]) and puts
//! them in the [`crate::RunOutcome`], beside the [`Traffic`] it counted itself:
//!
//! - **scalars** — one number per name (`iam_changes`, `n3r2w2/reads`, `false_positives`). A
//!   sweep sums every scalar generically (mean, min, max over the seeds that reported it) and
//!   prints them as a table; a workload needs nothing more for numbers like these.
//! - **sample sets** — many values per name, one per thing measured (a stale-allow window, a
//!   propagation time), in integer units named in the metric's name (`_ns`). Percentiles need
//!   the samples, so a workload's own sweep summary collects them.
//! - **labels** — a word or sentence per name: which kind of run this was (the fault setting
//!   a seed drew, to group seeds by), or where to look in its trace.
//! - **sometimes events** — how often each interesting event the workload declares happened
//!   (a hint handed off, a suspicion refuted); a sweep counts the seeds each happened in and
//!   flags those that never did ([`crate::sometimes`]).
//!
//! **Traffic** is counted by the world, not by nodes: every message a handler sends is counted
//! under its [`Message::kind`](crate::node::Message::kind) as the world takes it from the
//! handler. A node's memory dies at a crash; the world's count does not, and protocol code
//! keeps no counters on the side.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Measurements of one run by name; see the module docs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Scalars, summed over a sweep's seeds by the generic summary. (In JSON: `metrics`, the
    /// name this map had before sample sets and labels joined it.)
    #[serde(rename = "metrics")]
    pub scalars: BTreeMap<String, f64>,
    /// Sample sets, for percentiles across seeds (a workload's own summary collects them).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub samples: BTreeMap<String, Vec<u64>>,
    /// Labels: what kind of run this was, or a pointer into its trace.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// How many times each declared interesting event happened ([`crate::sometimes`]); events
    /// that did not happen are absent.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sometimes: BTreeMap<String, u64>,
}

impl Metrics {
    /// Set scalar `name` (a later value of the same name replaces an earlier one).
    pub fn scalar(&mut self, name: impl Into<String>, value: f64) {
        self.scalars.insert(name.into(), value);
    }

    /// Add `values` to sample set `name`.
    pub fn samples(&mut self, name: impl Into<String>, values: impl IntoIterator<Item = u64>) {
        self.samples.entry(name.into()).or_default().extend(values);
    }

    /// Set label `name`.
    pub fn label(&mut self, name: impl Into<String>, text: impl Into<String>) {
        self.labels.insert(name.into(), text.into());
    }

    /// Interesting event `name` happened `times` more times (nothing for 0).
    pub fn happened(&mut self, name: impl Into<String>, times: u64) {
        if times > 0 {
            *self.sometimes.entry(name.into()).or_default() += times;
        }
    }

    /// How many times interesting event `name` happened.
    pub fn times(&self, name: &str) -> u64 {
        self.sometimes.get(name).copied().unwrap_or(0)
    }

    /// Scalar `name`, if reported.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.scalars.get(name).copied()
    }

    /// Sample set `name` (empty if not reported).
    pub fn samples_of(&self, name: &str) -> &[u64] {
        self.samples.get(name).map_or(&[], Vec::as_slice)
    }

    /// Label `name`, if reported.
    pub fn label_of(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.scalars.is_empty()
            && self.samples.is_empty()
            && self.labels.is_empty()
            && self.sometimes.is_empty()
    }
}

/// Messages of one kind that handlers sent (each counted once, before the network drops or
/// duplicates it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindCount {
    /// Messages sent.
    pub sent: u64,
    /// Their size on a real wire, as the workload models it
    /// ([`Message::wire_bytes`](crate::node::Message::wire_bytes); 0 where it does not).
    pub bytes: u64,
}

impl KindCount {
    fn add(&mut self, other: KindCount) {
        self.sent += other.sent;
        self.bytes += other.bytes;
    }
}

/// Kinds of message per run, at most: a bound that catches a kind name built at run time.
pub const KINDS_MAX: usize = 256;

/// Messages sent per kind, counted by the world; see the module docs. In JSON, a map from kind
/// to [`KindCount`], by kind name.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    /// (kind, count) in first-sent order: a handful of kinds, scanned linearly by the name's
    /// address — cheaper per send than a map. One name at two addresses (the same literal in
    /// two places) gets two entries; every reader sums them by name.
    kinds: Vec<(&'static str, KindCount)>,
}

impl Traffic {
    /// Count one message of `kind` taking `bytes`.
    #[inline]
    pub fn count(&mut self, kind: &'static str, bytes: u64) {
        // Kind names are literals: comparing addresses decides, without reading the bytes.
        let c = match self
            .kinds
            .iter_mut()
            .position(|(k, _)| std::ptr::eq(*k, kind))
        {
            Some(i) => &mut self.kinds[i].1,
            None => self.first_of(kind),
        };
        c.sent += 1;
        c.bytes += bytes;
    }

    /// A name not seen at this address before: a new entry.
    #[cold]
    fn first_of(&mut self, kind: &'static str) -> &mut KindCount {
        assert!(
            self.kinds.len() < KINDS_MAX,
            "more than {KINDS_MAX} message kinds (or kind names made at run time)"
        );
        self.kinds.push((kind, KindCount::default()));
        &mut self.kinds.last_mut().expect("just pushed").1
    }

    /// Messages of `kind` (zero if none were sent).
    pub fn kind(&self, kind: &str) -> KindCount {
        let mut t = KindCount::default();
        for (_, c) in self.kinds.iter().filter(|(k, _)| *k == kind) {
            t.add(*c);
        }
        t
    }

    /// All messages, every kind.
    pub fn total(&self) -> KindCount {
        let mut t = KindCount::default();
        for (_, c) in &self.kinds {
            t.add(*c);
        }
        t
    }

    /// Every kind sent, by name.
    pub fn by_kind(&self) -> BTreeMap<&'static str, KindCount> {
        let mut m: BTreeMap<&'static str, KindCount> = BTreeMap::new();
        for (k, c) in &self.kinds {
            m.entry(k).or_default().add(*c);
        }
        m
    }
}

impl PartialEq for Traffic {
    /// Equal counts per kind name (however the entries are laid out).
    fn eq(&self, other: &Self) -> bool {
        self.by_kind() == other.by_kind()
    }
}

impl Eq for Traffic {}

impl Serialize for Traffic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kinds = self.by_kind();
        let mut map = s.serialize_map(Some(kinds.len()))?;
        for (k, c) in kinds {
            map.serialize_entry(k, &c)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_counts_per_kind_and_in_total() {
        let mut t = Traffic::default();
        t.count("ping", 10);
        t.count("pong", 4);
        t.count("ping", 10);
        // The same name from another place (not the same pointer) is the same kind.
        let name = String::from("pong");
        let leaked: &'static str = Box::leak(name.into_boxed_str());
        t.count(leaked, 1);
        assert_eq!(t.kind("ping"), KindCount { sent: 2, bytes: 20 });
        assert_eq!(t.kind("pong"), KindCount { sent: 2, bytes: 5 });
        assert_eq!(t.kind("nope"), KindCount::default());
        assert_eq!(t.total(), KindCount { sent: 4, bytes: 25 });
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"ping":{"sent":2,"bytes":20},"pong":{"sent":2,"bytes":5}}"#
        );
    }

    #[test]
    fn metrics_keep_their_old_json_name_for_scalars() {
        let mut m = Metrics::default();
        m.scalar("a", 1.0);
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"metrics":{"a":1.0}}"#
        );
        m.samples("w_ns", [3, 1]);
        m.samples("w_ns", [2]);
        m.label("setting", "clean");
        assert_eq!(m.samples_of("w_ns"), [3, 1, 2]);
        assert_eq!(m.label_of("setting"), Some("clean"));
        assert_eq!(m.get("a"), Some(1.0));
        assert!(m.samples_of("none").is_empty());
        m.happened("hint-handed-off", 2);
        m.happened("hint-handed-off", 1);
        m.happened("never", 0);
        assert_eq!(m.times("hint-handed-off"), 3);
        assert_eq!(m.times("never"), 0);
        assert!(!m.sometimes.contains_key("never"));
    }
}
