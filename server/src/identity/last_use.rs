//! When each access key (and each role, through its sessions) last signed a request: what
//! GetAccessKeyLastUsed, the credential report's `access_key_N_last_used_*` columns and
//! GetRole's `RoleLastUsed` answer, and what an audit reads to find keys nobody uses any more.
//!
//! A use is recorded once a request is *authenticated* — its signature verified and, for
//! temporary credentials, its session token and expiry checked — by every protocol the server
//! speaks: S3's access check, DynamoDB's endpoint and the query protocols (IAM, STS). A request
//! with a wrong signature is not a use of the key it names.
//!
//! Uses are kept in memory ([`UseLog`]) and written into the IAM file by the server at most
//! once a minute and when it stops ([`crate::identity::IdentityStore::flush_uses`]): writing the
//! file on every request would cost each request a file write, and make every other reader of
//! the file reload it. The IAM API reads the file with the uses not yet written laid over it
//! ([`UseLog::apply`]), so its answers are current; a crash loses at most the last minute of
//! uses. (IAM itself says its last-used data may be up to four hours behind.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use seedbed_engine::iam::authorizer::{iso8601, Principal};

use super::file::{IamFile, LastUsed};

/// One recorded use.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Use {
    at_ms: u64,
    service: String,
    region: String,
}

impl Use {
    fn last_used(&self, with_service: bool) -> LastUsed {
        LastUsed {
            date: iso8601(self.at_ms),
            region: self.region.clone(),
            service: with_service.then(|| self.service.clone()),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Pending {
    /// By access key ID: long-term keys (users', and the root user's).
    keys: BTreeMap<String, Use>,
    /// By role ARN: a request signed with one of the role's session keys.
    roles: BTreeMap<String, Use>,
}

/// Uses recorded since they were last written to the IAM file.
#[derive(Debug, Default)]
pub struct UseLog {
    pending: Mutex<Pending>,
}

/// Note a use in `map` under `name` unless a later one is there; no allocation when the
/// entry is there already with the same service and region (the common case).
fn note(map: &mut BTreeMap<String, Use>, name: &str, at_ms: u64, service: &str, region: &str) {
    match map.get_mut(name) {
        Some(u) if u.at_ms > at_ms => {}
        Some(u) => {
            u.at_ms = at_ms;
            if u.service != service {
                u.service = service.to_string();
            }
            if u.region != region {
                u.region = region.to_string();
            }
        }
        None => {
            map.insert(
                name.to_string(),
                Use {
                    at_ms,
                    service: service.to_string(),
                    region: region.to_string(),
                },
            );
        }
    }
}

/// Whether `new` is later than what `old` records (ISO 8601 UTC strings of one format
/// compare as their times do).
fn later(old: &Option<LastUsed>, new: &LastUsed) -> bool {
    old.as_ref().is_none_or(|o| o.date <= new.date)
}

impl UseLog {
    /// Record that `principal` authenticated a request for `service` in `region` with
    /// `access_key` at `at_ms` (Unix milliseconds). A session's use is its role's; the
    /// anonymous and service principals have no key.
    pub fn record(
        &self,
        access_key: &str,
        principal: &Principal,
        service: &str,
        region: &str,
        at_ms: u64,
    ) {
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match principal {
            Principal::User(_) | Principal::Root(_) => {
                note(&mut p.keys, access_key, at_ms, service, region)
            }
            Principal::Session(s) => note(&mut p.roles, &s.role_arn, at_ms, service, region),
            Principal::Anonymous | Principal::Service(_) => {}
        }
    }

    /// Whether nothing is waiting to be written.
    pub fn is_empty(&self) -> bool {
        let p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        p.keys.is_empty() && p.roles.is_empty()
    }

    /// Lay the recorded uses over `f`: each key's and role's `last_used`, where the record is
    /// later than the file's. Uses of keys and roles no longer in the file are skipped.
    pub fn apply(&self, f: &mut IamFile) {
        let p = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        apply(&p, f);
    }

    /// Write the recorded uses with `write` (which lays them over the IAM file and saves it),
    /// then forget those not recorded again meanwhile. Nothing is forgotten if `write` fails.
    pub fn flush<E>(
        &self,
        write: impl FnOnce(&dyn Fn(&mut IamFile)) -> Result<(), E>,
    ) -> Result<(), E> {
        let snapshot = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if snapshot.keys.is_empty() && snapshot.roles.is_empty() {
            return Ok(());
        }
        write(&|f: &mut IamFile| apply(&snapshot, f))?;
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        p.keys.retain(|k, u| snapshot.keys.get(k) != Some(u));
        p.roles.retain(|r, u| snapshot.roles.get(r) != Some(u));
        Ok(())
    }
}

fn apply(p: &Pending, f: &mut IamFile) {
    for k in f.access_keys_mut() {
        if let Some(u) = p.keys.get(&k.id) {
            let new = u.last_used(true);
            if later(&k.last_used, &new) {
                k.last_used = Some(new);
            }
        }
    }
    for r in &mut f.roles {
        if let Some(u) = p.roles.get(&super::role_arn_of(r)) {
            let new = u.last_used(false);
            if later(&r.last_used, &new) {
                r.last_used = Some(new);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{bootstrap, reader_role_trusting_admin};
    use seedbed_engine::iam::authorizer::Session;

    fn session_of(role_arn: &str) -> Principal {
        Principal::Session(Session {
            arn: "arn:aws:sts::123456789012:assumed-role/Reader/s".into(),
            role_arn: role_arn.into(),
            session_name: "s".into(),
            session_policies: None,
            tags: BTreeMap::new(),
            expires_unix_ms: u64::MAX,
        })
    }

    #[test]
    fn uses_are_laid_over_the_file_latest_first_and_forgotten_once_written() {
        let (mut file, key) = bootstrap("123456789012", "seedbed", "admin").unwrap();
        file.roles.push(reader_role_trusting_admin());
        let admin = Principal::User("arn:aws:iam::123456789012:user/admin".into());
        let log = UseLog::default();
        // 2026-12-05T10:00:00Z, then a use recorded late but made earlier: the later one stays.
        let t = 1_796_464_800_000;
        log.record(&key.id, &admin, "dynamodb", "eu-west-1", t);
        log.record(&key.id, &admin, "s3", "us-east-1", t - 5_000);
        log.record(
            "ASIAXXXX",
            &session_of("arn:aws:iam::123456789012:role/Reader"),
            "sts",
            "us-east-1",
            t,
        );
        log.record("none", &Principal::Anonymous, "s3", "us-east-1", t);
        let mut view = file.clone();
        log.apply(&mut view);
        let k = &view.users[0].access_keys[0];
        assert_eq!(
            k.last_used,
            Some(LastUsed {
                date: "2026-12-05T10:00:00Z".into(),
                region: "eu-west-1".into(),
                service: Some("dynamodb".into()),
            })
        );
        let role = &view.roles[0];
        assert_eq!(
            role.last_used.as_ref().map(|l| l.date.as_str()),
            Some("2026-12-05T10:00:00Z")
        );
        assert_eq!(
            role.last_used.as_ref().and_then(|l| l.service.clone()),
            None,
            "RoleLastUsed has no service"
        );

        // A failed write forgets nothing; a good one forgets what it wrote, and the file then
        // has it (a serialization round trip keeps it).
        let failed: Result<(), &str> = log.flush(|_| Err("disk full"));
        assert!(failed.is_err() && !log.is_empty());
        log.flush(|apply| {
            apply(&mut file);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(log.is_empty());
        let text = serde_json::to_string(&file).unwrap();
        let back: IamFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back.users[0].access_keys[0].last_used, k.last_used);
        // An older use recorded afterwards never replaces the newer one written.
        log.record(&key.id, &admin, "s3", "us-east-1", t - 60_000);
        log.apply(&mut file);
        assert_eq!(file.users[0].access_keys[0].last_used, k.last_used);
    }
}
