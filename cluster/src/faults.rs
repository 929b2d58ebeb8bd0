//! Faults the nodes apply to themselves: a network partition and clock skews, kept in
//! `D/faults.json` and watched by every node.
//!
//! A file rather than a control message, because a fault is cluster state, not an event: a
//! node restarted in the middle of a partition must come back still partitioned, and a paused
//! node must find the partition when it resumes. Each change bumps `gen`; every node reports
//! the generation it applies (`status`), so `seedbed cluster partition` returns only once the
//! running nodes have taken it up.
//!
//! A partition is applied by the transport at both ends: a node drops frames it would send
//! across the cut, and drops frames that arrive across it (sent before the sender saw the
//! change). No firewall rules, nothing outside the nodes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use seedbed_nodes::NodeId;

use crate::config::FileError;

/// The faults in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Bumped at every change.
    pub gen: u64,
    /// The sides of a partition (nodes talk only within their side), or none.
    pub partition: Option<Vec<Vec<NodeId>>>,
    /// Clock offsets in nanoseconds, by node (absent: 0).
    pub skew_ns: BTreeMap<NodeId, i64>,
}

impl Faults {
    /// Whether frames between `a` and `b` are cut.
    pub fn cut(&self, a: NodeId, b: NodeId) -> bool {
        let Some(sides) = &self.partition else {
            return false;
        };
        let side = |n: NodeId| sides.iter().position(|s| s.contains(&n));
        side(a) != side(b)
    }

    /// Node `id`'s clock offset.
    pub fn skew_of(&self, id: NodeId) -> i64 {
        self.skew_ns.get(&id).copied().unwrap_or(0)
    }

    /// Read `D/faults.json` (none in force if it does not exist).
    pub fn load(dir: &Path) -> Result<Faults, FileError> {
        let path = faults_path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|source| FileError::Parse { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Faults::default()),
            Err(source) => Err(FileError::Read { path, source }),
        }
    }

    /// Write `D/faults.json` atomically, bumping `gen`.
    pub fn save_next(&mut self, dir: &Path) -> std::io::Result<()> {
        self.gen += 1;
        let text = serde_json::to_string_pretty(self).expect("plain data serializes");
        crate::config::write_atomic(&faults_path(dir), text.as_bytes())
    }

    /// The partition as people write it: `0,1/2,3,4`.
    pub fn partition_spec(&self) -> Option<String> {
        self.partition.as_ref().map(|sides| {
            sides
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect::<Vec<_>>()
                .join("/")
        })
    }
}

/// `D/faults.json`.
pub fn faults_path(dir: &Path) -> PathBuf {
    dir.join("faults.json")
}

/// Parse a partition spec like `0,1/2,3,4` for a cluster of `nodes`: two or more sides
/// separated by `/`, nodes by `,`, each node at most once. Nodes not named form one more side
/// together (so `0/1` on five nodes makes three sides: {0}, {1}, {2,3,4}).
pub fn parse_partition(spec: &str, nodes: u32) -> Result<Vec<Vec<NodeId>>, String> {
    let mut sides = Vec::new();
    let mut seen = vec![false; nodes as usize];
    for part in spec.split('/') {
        let mut side = Vec::new();
        for item in part.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!(
                    "partition '{spec}': empty node in side '{part}' (write sides like 0,1/2,3,4)"
                ));
            }
            let n: NodeId = item
                .parse()
                .map_err(|_| format!("partition '{spec}': '{item}' is not a node number"))?;
            if n >= nodes {
                return Err(format!(
                    "partition '{spec}': there is no node {n} (the cluster has nodes 0..={})",
                    nodes - 1
                ));
            }
            if std::mem::replace(&mut seen[n as usize], true) {
                return Err(format!("partition '{spec}': node {n} is named twice"));
            }
            side.push(n);
        }
        sides.push(side);
    }
    let rest: Vec<NodeId> = (0..nodes).filter(|&n| !seen[n as usize]).collect();
    if !rest.is_empty() {
        sides.push(rest);
    }
    if sides.len() < 2 {
        return Err(format!(
            "partition '{spec}': needs at least two sides separated by '/' (like 0,1/2)"
        ));
    }
    Ok(sides)
}

/// Parse a clock offset like `+300ms`, `-2s`, `150us`, `0`: a signed number and a unit
/// (`ns`, `us`, `ms`, `s`), at most an hour either way.
pub fn parse_skew(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => (1, t),
    };
    let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &rest[digits.len()..];
    let scale: i64 = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "" if digits == "0" => 1,
        _ => {
            return Err(format!(
                "skew '{s}': expected a signed duration like +300ms, -2s, 150us"
            ))
        }
    };
    let v: i64 = digits
        .parse()
        .map_err(|_| format!("skew '{s}': '{digits}' is not a whole number"))?;
    const HOUR_NS: i64 = 3_600_000_000_000;
    match v.checked_mul(scale) {
        Some(ns) if ns <= HOUR_NS => Ok(sign * ns),
        _ => Err(format!("skew '{s}': at most an hour either way")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_cuts_between_sides_only() {
        let sides = parse_partition("0,1/2", 5).unwrap();
        assert_eq!(sides, vec![vec![0, 1], vec![2], vec![3, 4]]);
        let f = Faults {
            partition: Some(sides),
            ..Faults::default()
        };
        assert!(!f.cut(0, 1));
        assert!(f.cut(1, 2));
        assert!(f.cut(0, 3));
        assert!(!f.cut(3, 4));
        assert_eq!(f.partition_spec().unwrap(), "0,1/2/3,4");
        assert!(!Faults::default().cut(0, 4));
    }

    #[test]
    fn bad_partition_specs_say_what_is_wrong() {
        for (spec, says) in [
            ("0,1/7", "no node 7"),
            ("0,1/1,2", "named twice"),
            ("0,1,2", "two sides"),
            ("0,,1/2", "empty node"),
            ("a/b", "not a node number"),
            ("", "empty node"),
        ] {
            let e = parse_partition(spec, 3).unwrap_err();
            assert!(e.contains(says), "{spec}: {e}");
        }
    }

    #[test]
    fn skews_parse_with_units_and_signs() {
        assert_eq!(parse_skew("+300ms"), Ok(300_000_000));
        assert_eq!(parse_skew("-2s"), Ok(-2_000_000_000));
        assert_eq!(parse_skew("150us"), Ok(150_000));
        assert_eq!(parse_skew("0"), Ok(0));
        assert!(parse_skew("300").unwrap_err().contains("+300ms"));
        assert!(parse_skew("+2h").is_err());
        assert!(parse_skew("+99999s").unwrap_err().contains("an hour"));
    }

    #[test]
    fn faults_survive_their_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Faults::load(dir.path()).unwrap(), Faults::default());
        let mut f = Faults {
            partition: Some(vec![vec![0], vec![1, 2]]),
            ..Faults::default()
        };
        f.skew_ns.insert(2, -5);
        f.save_next(dir.path()).unwrap();
        assert_eq!(f.gen, 1);
        assert_eq!(Faults::load(dir.path()).unwrap(), f);
    }
}
