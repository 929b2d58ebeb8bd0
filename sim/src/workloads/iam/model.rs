//! The checker's model of the policy store: the global change log, as the leader's replies
//! reveal it, and the global view as of any version, decided with the real engine.
//!
//! Every change the leader commits is known here with its version and commit time. A change
//! whose fate is unknown (the leader's disk failed part way through logging it) is kept as
//! *maybe*; the first view that covers its version settles it, because a node's view carries
//! a digest of exactly which versions it holds ([`super::store::View::digest`]).
//!
//! Everything is in `BTreeMap`s; evaluation goes through [`Memo`], one per view.

use std::collections::BTreeMap;

use super::catalog::Memo;
use super::store::{id_mix, Change, Store};

/// Unsettled changes below one version, at most, before the model gives up settling them
/// (it then says so instead of guessing).
pub const MAYBE_MAX: usize = 12;
/// Memoised views, at most (cleared when exceeded: memos are a cache).
pub const MEMOS_MAX: usize = 4_096;

/// A change the leader logged.
#[derive(Clone, Copy, Debug)]
pub struct Logged {
    /// What changed.
    pub change: Change,
    /// When the leader committed it (world nanoseconds), if known.
    pub commit_ns: Option<u64>,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct ChangeLog {
    committed: BTreeMap<u64, Logged>,
    maybe: BTreeMap<u64, Change>,
    memos: BTreeMap<(u64, u64), Memo>,
    /// (version, digest of every committed version up to it), for committed versions.
    prefix: Vec<(u64, u64)>,
    prefix_dirty: bool,
}

impl ChangeLog {
    /// The leader committed `change` as `version` at `t_ns`.
    pub fn commit(&mut self, version: u64, change: Change, t_ns: u64) -> Result<(), String> {
        if let Some((&last, _)) = self.committed.last_key_value() {
            if version <= last {
                return Err(format!(
                    "the leader committed version {version} after version {last}: versions must increase"
                ));
            }
        }
        self.maybe.remove(&version);
        self.committed.insert(
            version,
            Logged {
                change,
                commit_ns: Some(t_ns),
            },
        );
        self.prefix_dirty = true;
        Ok(())
    }

    /// `change` (version `version`) may or may not be in the log.
    pub fn maybe(&mut self, version: u64, change: Change) {
        if !self.committed.contains_key(&version) {
            self.maybe.insert(version, change);
        }
    }

    /// Changes known to be in the log.
    pub fn committed(&self) -> &BTreeMap<u64, Logged> {
        &self.committed
    }

    /// Whether any change below or at `version` is still unsettled.
    pub fn unsettled_upto(&self, version: u64) -> bool {
        self.maybe.range(..=version).next().is_some()
    }

    fn digest_upto(&mut self, version: u64) -> u64 {
        if self.prefix_dirty {
            self.prefix.clear();
            let mut d = 0u64;
            for &v in self.committed.keys() {
                d = d.wrapping_add(id_mix(v));
                self.prefix.push((v, d));
            }
            self.prefix_dirty = false;
        }
        match self.prefix.partition_point(|&(v, _)| v <= version) {
            0 => 0,
            i => self.prefix[i - 1].1,
        }
    }

    /// The decisions of the global view a node reports as (`version`, `digest`): the log's
    /// prefix up to `version`. `Err` says why no prefix of the log is that view.
    pub fn view(&mut self, version: u64, digest: u64) -> Result<&mut Memo, String> {
        if !self.memos.contains_key(&(version, digest)) {
            let store = self.settle(version, digest)?;
            if self.memos.len() >= MEMOS_MAX {
                self.memos.clear();
            }
            self.memos.insert((version, digest), Memo::new(store));
        }
        Ok(self
            .memos
            .get_mut(&(version, digest))
            .expect("inserted above"))
    }

    /// The store after the log's prefix up to `version`, settling unsettled changes below it
    /// by the view's digest.
    fn settle(&mut self, version: u64, digest: u64) -> Result<Store, String> {
        let base = self.digest_upto(version);
        let maybes: Vec<u64> = self.maybe.range(..=version).map(|(&v, _)| v).collect();
        if maybes.len() > MAYBE_MAX {
            return Err(format!(
                "{} changes of unknown fate below version {version}: cannot tell which the view holds",
                maybes.len()
            ));
        }
        let want = digest.wrapping_sub(base);
        let mut found = None;
        for mask in 0u32..(1u32 << maybes.len()) {
            let sum = maybes
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .fold(0u64, |s, (_, &v)| s.wrapping_add(id_mix(v)));
            if sum == want {
                found = Some(mask);
                break;
            }
        }
        let Some(mask) = found else {
            return Err(format!(
                "a view at version {version} must hold exactly the log's changes up to {version}, but its digest {digest:016x} matches no such set (a change skipped, or one applied twice)"
            ));
        };
        for (i, &v) in maybes.iter().enumerate() {
            let change = self.maybe.remove(&v).expect("listed above");
            if mask & (1 << i) != 0 {
                self.committed.insert(
                    v,
                    Logged {
                        change,
                        commit_ns: None,
                    },
                );
                self.prefix_dirty = true;
            }
        }
        if version != 0 && !self.committed.contains_key(&version) {
            return Err(format!("version {version} is no change the leader logged"));
        }
        let mut store = Store::default();
        for l in self.committed.range(..=version).map(|(_, l)| l) {
            store.apply(l.change);
        }
        Ok(store)
    }

    /// The decisions of the global view at committed `version` (every change up to it known).
    pub fn at(&mut self, version: u64) -> Result<&mut Memo, String> {
        let d = self.digest_upto(version);
        self.view(version, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_change_is_caught_and_a_maybe_is_settled() {
        let mut log = ChangeLog::default();
        let c = Change::DeletePolicy { policy: 0 };
        log.commit(1, c, 10).unwrap();
        log.maybe(2, c);
        log.commit(3, c, 30).unwrap();
        // Holds 1, 2 and 3: settles 2 as logged.
        let d = id_mix(1).wrapping_add(id_mix(2)).wrapping_add(id_mix(3));
        assert!(log.view(3, d).is_ok());
        assert!(log.committed().contains_key(&2));
        // Claims 3 but skipped 1.
        let bad = id_mix(2).wrapping_add(id_mix(3));
        assert!(log
            .view(3, bad)
            .unwrap_err()
            .contains("matches no such set"));
        assert!(log.commit(2, c, 40).is_err());
    }
}
