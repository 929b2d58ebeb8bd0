//! The policy store's model: who has which policies, as of one version of the change log.
//!
//! The universe is small and fixed (see [`super::catalog`]): 4 users, 2 groups, 2 roles, 2
//! buckets, 8 managed identity policies, 3 bucket policies, 3 trust policies. That keeps a
//! whole store a few machine words (`Copy`, hashable, cheap to snapshot per version) while
//! every kind of IAM change the issue names still happens: attach/detach (users, groups,
//! roles), create/delete a managed policy, add/remove a group member, put/delete a bucket
//! policy, change a trust policy.
//!
//! Nodes and the checker share [`Store::apply`], so "the global view as of version v" and "a
//! node's view at version v" mean the same function of the same changes.

use super::catalog::{
    BUCKETS, BUCKET_POLICIES, GROUPS, IDENTITY_POLICIES, ROLES, TRUST_POLICIES, USERS,
};

/// One change to the policy store. Fields are indexes into the catalog's fixed universe,
/// named for what they index (`user` into users, `policy` into that kind's policies).
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Change {
    /// Attach managed policy `policy` to user `user`.
    AttachUserPolicy { user: u8, policy: u8 },
    /// Detach it.
    DetachUserPolicy { user: u8, policy: u8 },
    /// Attach a managed policy to a group.
    AttachGroupPolicy { group: u8, policy: u8 },
    /// Detach it.
    DetachGroupPolicy { group: u8, policy: u8 },
    /// Attach a managed policy to a role.
    AttachRolePolicy { role: u8, policy: u8 },
    /// Detach it.
    DetachRolePolicy { role: u8, policy: u8 },
    /// Add a user to a group.
    AddUserToGroup { user: u8, group: u8 },
    /// Remove a user from a group.
    RemoveUserFromGroup { user: u8, group: u8 },
    /// (Re)create a managed policy: its attachments take effect again.
    CreatePolicy { policy: u8 },
    /// Delete a managed policy: it stops applying wherever it is attached.
    DeletePolicy { policy: u8 },
    /// Put a bucket policy (replacing any).
    PutBucketPolicy { bucket: u8, policy: u8 },
    /// Delete the bucket policy.
    DeleteBucketPolicy { bucket: u8 },
    /// Replace a role's trust policy.
    UpdateTrustPolicy { role: u8, policy: u8 },
}

/// Why bytes are not a valid change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeDecodeError {
    /// Unknown kind byte.
    #[error("unknown change kind {0}")]
    Kind(u8),
    /// An index outside the universe.
    #[error("change kind {kind}: index out of range ({a}, {b})")]
    Range {
        /// The kind byte.
        kind: u8,
        /// First index.
        a: u8,
        /// Second index.
        b: u8,
    },
}

impl Change {
    /// Three bytes: kind, first index, second index.
    pub fn encode(self) -> [u8; 3] {
        use Change::*;
        match self {
            AttachUserPolicy { user, policy } => [0, user, policy],
            DetachUserPolicy { user, policy } => [1, user, policy],
            AttachGroupPolicy { group, policy } => [2, group, policy],
            DetachGroupPolicy { group, policy } => [3, group, policy],
            AttachRolePolicy { role, policy } => [4, role, policy],
            DetachRolePolicy { role, policy } => [5, role, policy],
            AddUserToGroup { user, group } => [6, user, group],
            RemoveUserFromGroup { user, group } => [7, user, group],
            CreatePolicy { policy } => [8, policy, 0],
            DeletePolicy { policy } => [9, policy, 0],
            PutBucketPolicy { bucket, policy } => [10, bucket, policy],
            DeleteBucketPolicy { bucket } => [11, bucket, 0],
            UpdateTrustPolicy { role, policy } => [12, role, policy],
        }
    }

    /// The inverse of [`Change::encode`], checking every index.
    pub fn decode(b: [u8; 3]) -> Result<Change, ChangeDecodeError> {
        use Change::*;
        let [kind, a, c] = b;
        let (ua, ub) = (usize::from(a), usize::from(c));
        let ok = |a_max: usize, b_max: usize| ua < a_max && ub < b_max;
        let range = ChangeDecodeError::Range { kind, a, b: c };
        let change = match kind {
            0 if ok(USERS, IDENTITY_POLICIES) => AttachUserPolicy { user: a, policy: c },
            1 if ok(USERS, IDENTITY_POLICIES) => DetachUserPolicy { user: a, policy: c },
            2 if ok(GROUPS, IDENTITY_POLICIES) => AttachGroupPolicy {
                group: a,
                policy: c,
            },
            3 if ok(GROUPS, IDENTITY_POLICIES) => DetachGroupPolicy {
                group: a,
                policy: c,
            },
            4 if ok(ROLES, IDENTITY_POLICIES) => AttachRolePolicy { role: a, policy: c },
            5 if ok(ROLES, IDENTITY_POLICIES) => DetachRolePolicy { role: a, policy: c },
            6 if ok(USERS, GROUPS) => AddUserToGroup { user: a, group: c },
            7 if ok(USERS, GROUPS) => RemoveUserFromGroup { user: a, group: c },
            8 if ok(IDENTITY_POLICIES, 1) => CreatePolicy { policy: a },
            9 if ok(IDENTITY_POLICIES, 1) => DeletePolicy { policy: a },
            10 if ok(BUCKETS, BUCKET_POLICIES) => PutBucketPolicy {
                bucket: a,
                policy: c,
            },
            11 if ok(BUCKETS, 1) => DeleteBucketPolicy { bucket: a },
            12 if ok(ROLES, TRUST_POLICIES) => UpdateTrustPolicy { role: a, policy: c },
            0..=12 => return Err(range),
            k => return Err(ChangeDecodeError::Kind(k)),
        };
        Ok(change)
    }
}

/// Bucket policy slot value meaning "no bucket policy".
pub const NO_BUCKET_POLICY: u8 = u8::MAX;

/// The whole policy store, as bit masks over the catalog (bit `p` = managed policy `p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Store {
    /// Managed policies attached to each user.
    pub user_policies: [u16; USERS],
    /// Managed policies attached to each group.
    pub group_policies: [u16; GROUPS],
    /// Managed policies attached to each role.
    pub role_policies: [u16; ROLES],
    /// Groups each user belongs to (bit `g`).
    pub groups_of_user: [u8; USERS],
    /// Managed policies that exist (a deleted one applies nowhere).
    pub existing: u16,
    /// Each bucket's policy, or [`NO_BUCKET_POLICY`].
    pub bucket_policy: [u8; BUCKETS],
    /// Each role's trust policy.
    pub trust: [u8; ROLES],
}

impl Default for Store {
    /// The initial store every node and the checker start from (version 0): enough grants that
    /// revokes have something to revoke.
    fn default() -> Self {
        Store {
            user_policies: [0b0000_0001, 0, 0b0001_0000, 0],
            group_policies: [0b0000_0110, 0b1000_0000],
            role_policies: [0b0010_0000, 0b0000_0001],
            groups_of_user: [0, 0b01, 0b10, 0b11],
            existing: (1 << IDENTITY_POLICIES) - 1,
            bucket_policy: [0, NO_BUCKET_POLICY],
            trust: [0, 1],
        }
    }
}

impl Store {
    /// Apply one change. Total: every change is valid in every state (detaching what is not
    /// attached does nothing), so the order of application alone decides the result.
    pub fn apply(&mut self, change: Change) {
        use Change::*;
        let bit = |p: u8| 1u16 << p;
        match change {
            AttachUserPolicy { user, policy } => self.user_policies[user as usize] |= bit(policy),
            DetachUserPolicy { user, policy } => self.user_policies[user as usize] &= !bit(policy),
            AttachGroupPolicy { group, policy } => {
                self.group_policies[group as usize] |= bit(policy)
            }
            DetachGroupPolicy { group, policy } => {
                self.group_policies[group as usize] &= !bit(policy)
            }
            AttachRolePolicy { role, policy } => self.role_policies[role as usize] |= bit(policy),
            DetachRolePolicy { role, policy } => self.role_policies[role as usize] &= !bit(policy),
            AddUserToGroup { user, group } => self.groups_of_user[user as usize] |= 1 << group,
            RemoveUserFromGroup { user, group } => {
                self.groups_of_user[user as usize] &= !(1 << group)
            }
            CreatePolicy { policy } => self.existing |= bit(policy),
            DeletePolicy { policy } => self.existing &= !bit(policy),
            PutBucketPolicy { bucket, policy } => self.bucket_policy[bucket as usize] = policy,
            DeleteBucketPolicy { bucket } => self.bucket_policy[bucket as usize] = NO_BUCKET_POLICY,
            UpdateTrustPolicy { role, policy } => self.trust[role as usize] = policy,
        }
    }
}

/// One entry of the change log: the change, its version (`id`, assigned by the client and
/// strictly increasing in the log; gaps are allowed) and the version before it (`prev`), so a
/// node can tell whether it holds the whole prefix before applying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// This entry's version.
    pub id: u64,
    /// The version of the entry before it in the log (0 for the first).
    pub prev: u64,
    /// What changes.
    pub change: Change,
}

/// Bytes of an encoded entry.
pub const ENTRY_BYTES: usize = 19;

impl Entry {
    /// `id` (8, LE) · `prev` (8, LE) · change (3).
    pub fn encode(&self) -> [u8; ENTRY_BYTES] {
        let mut b = [0u8; ENTRY_BYTES];
        b[0..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..16].copy_from_slice(&self.prev.to_le_bytes());
        b[16..19].copy_from_slice(&self.change.encode());
        b
    }

    /// The inverse of [`Entry::encode`].
    pub fn decode(b: &[u8]) -> Result<Entry, String> {
        if b.len() != ENTRY_BYTES {
            return Err(format!(
                "entry is {} bytes, expected {ENTRY_BYTES}",
                b.len()
            ));
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[0..8]);
        let id = u64::from_le_bytes(w);
        w.copy_from_slice(&b[8..16]);
        let prev = u64::from_le_bytes(w);
        let change = Change::decode([b[16], b[17], b[18]]).map_err(|e| e.to_string())?;
        if prev >= id {
            return Err(format!("entry {id}: prev {prev} is not below it"));
        }
        Ok(Entry { id, prev, change })
    }
}

/// A version's contribution to a view digest (SplitMix64's finaliser: distinct ids give
/// unrelated words).
pub fn id_mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A node's view: the store after the entries it applied, the highest version among them,
/// and a digest of *which* versions it holds (the wrapping sum of [`id_mix`] over them). The
/// digest lets the checker tell a true prefix of the log from a view that skipped an entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct View {
    /// Highest version applied.
    pub version: u64,
    /// Order-free digest of the set of versions applied.
    pub digest: u64,
    /// The store.
    pub store: Store,
}

impl View {
    /// Apply `entry` (the caller decided it may).
    pub fn apply(&mut self, entry: &Entry) {
        self.store.apply(entry.change);
        self.version = self.version.max(entry.id);
        self.digest = self.digest.wrapping_add(id_mix(entry.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_bad_bytes_are_refused() {
        let e = Entry {
            id: 9,
            prev: 4,
            change: Change::UpdateTrustPolicy { role: 1, policy: 2 },
        };
        assert_eq!(Entry::decode(&e.encode()), Ok(e));
        let mut b = e.encode();
        b[16] = 77;
        assert!(Entry::decode(&b)
            .unwrap_err()
            .contains("unknown change kind"));
        b[16] = 12;
        b[17] = 9;
        assert!(Entry::decode(&b).unwrap_err().contains("out of range"));
        assert!(Entry::decode(&b[..5]).is_err());
    }

    #[test]
    fn every_change_kind_round_trips() {
        for kind in 0..=12u8 {
            let c = Change::decode([kind, 1, 0]).unwrap();
            assert_eq!(Change::decode(c.encode()), Ok(c));
        }
    }

    #[test]
    fn apply_detach_revokes_and_digest_tracks_the_set() {
        let mut v = View::default();
        assert_ne!(v.store.user_policies[0] & 1, 0);
        v.apply(&Entry {
            id: 3,
            prev: 0,
            change: Change::DetachUserPolicy { user: 0, policy: 0 },
        });
        assert_eq!(v.store.user_policies[0] & 1, 0);
        assert_eq!((v.version, v.digest), (3, id_mix(3)));
    }
}
