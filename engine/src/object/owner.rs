//! Who owns what: S3's owner identity — an account, shown as a canonical user ID and a display
//! name — and the table that maps accounts to it.
//!
//! On AWS every account has a *canonical user ID* (64 hex digits) that S3 shows as the `Owner`
//! of buckets and objects and that ACL grants name. A bucket belongs to the account of whoever
//! created it; an object to the account of whoever wrote it (unless the bucket's object
//! ownership says the bucket owner takes it). [`Accounts`] gives each account its canonical ID
//! and display name: registered ones as registered, others a canonical ID derived from the
//! account ID, so every account has one stable ID.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The owner of a bucket or object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner {
    /// The 12-digit account ID.
    pub account: String,
    /// S3's canonical user ID of the account (64 hex digits).
    pub id: String,
    /// The display name S3 shows beside the ID.
    pub display_name: String,
}

/// An account as S3 names it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Canonical user ID (64 hex digits).
    pub canonical_id: String,
    /// Display name.
    pub display_name: String,
    /// E-mail address (ACL grants by e-mail name it).
    #[serde(default)]
    pub email: Option<String>,
}

/// Accounts by ID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    by_id: BTreeMap<String, AccountInfo>,
}

/// The canonical ID an unregistered account gets: SHA-256 of its ID, in hex (64 digits, as S3's).
pub fn derived_canonical_id(account: &str) -> String {
    let d = Sha256::digest(format!("seedbed canonical user id of account {account}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Accounts {
    /// No registered accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register (or replace) an account.
    pub fn insert(&mut self, account: &str, info: AccountInfo) {
        self.by_id.insert(account.to_string(), info);
    }

    /// The owner identity of an account.
    pub fn owner(&self, account: &str) -> Owner {
        match self.by_id.get(account) {
            Some(info) => Owner {
                account: account.to_string(),
                id: info.canonical_id.clone(),
                display_name: info.display_name.clone(),
            },
            None => Owner {
                account: account.to_string(),
                id: derived_canonical_id(account),
                display_name: account.to_string(),
            },
        }
    }

    /// The account with this canonical ID, if any is registered or derives it.
    pub fn by_canonical_id(&self, id: &str) -> Option<Owner> {
        self.by_id
            .iter()
            .find(|(_, i)| i.canonical_id == id)
            .map(|(a, _)| self.owner(a))
    }

    /// The account with this e-mail address.
    pub fn by_email(&self, email: &str) -> Option<Owner> {
        self.by_id
            .iter()
            .find(|(_, i)| {
                i.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(|(a, _)| self.owner(a))
    }

    /// Every registered account.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &AccountInfo)> {
        self.by_id.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_and_derived_owners() {
        let mut a = Accounts::new();
        a.insert(
            "111122223333",
            AccountInfo {
                canonical_id: "c".repeat(64),
                display_name: "main".into(),
                email: Some("main@example.com".into()),
            },
        );
        assert_eq!(a.owner("111122223333").display_name, "main");
        assert_eq!(
            a.by_canonical_id(&"c".repeat(64)).unwrap().account,
            "111122223333"
        );
        assert_eq!(
            a.by_email("MAIN@example.com").unwrap().account,
            "111122223333"
        );
        let other = a.owner("444455556666");
        assert_eq!(other.id.len(), 64);
        assert_eq!(other.id, derived_canonical_id("444455556666"));
        assert_ne!(other.id, derived_canonical_id("444455556667"));
    }
}
