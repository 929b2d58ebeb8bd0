//! The request context: who is asking, for what action on which resource, and the context keys
//! (`aws:SourceIp`, `s3:prefix`, `aws:PrincipalTag/team`, ...) that conditions test.
//!
//! Built once per request; evaluation only reads it. Context key names are case-insensitive in
//! AWS, so keys are stored lowercased and looked up by binary search (no hashing, no
//! allocation, deterministic). Values keep their case: whether a comparison ignores case is the
//! condition operator's business.

use std::net::IpAddr;

use super::arn::{split_arn, ARN_SEGMENTS};
use super::caller::{is_account_id, Caller, CallerKind};
use super::error::{PolicyError, PolicyErrorKind};

/// Upper bound on context keys in one request; a bound on every collection.
pub const CONTEXT_KEYS_MAX: usize = 1024;
/// Upper bound on values of one multi-valued key.
pub const CONTEXT_VALUES_MAX: usize = 1024;

/// FNV-1a hash of a lowercased context key. Condition keys are hashed once at policy parse
/// time, so a lookup compares integers and touches the key text only on a hit. (A fixed hash,
/// never iterated as a map: deterministic under the simulator.)
#[inline]
pub fn key_hash(key_lower: &str) -> u64 {
    key_lower.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestContext {
    caller: Caller,
    action: String,
    action_lower: String,
    resource: String,
    /// Byte ranges of the resource ARN's six segments, or `None` when the resource is `*`.
    resource_segments: Option<[(u32, u32); ARN_SEGMENTS]>,
    resource_account: Option<String>,
    /// Sorted by lowercased key, no duplicates; each with the key as first written (for display).
    keys: Vec<(String, Vec<String>)>,
    /// The key names as written, parallel to `keys`.
    key_names: Vec<String>,
    /// [`key_hash`] of each key, parallel to `keys`.
    hashes: Vec<u64>,
    /// IP-valued keys (`aws:SourceIp`, `aws:VpcSourceIp`) parsed once, by key hash.
    ips: Vec<(u64, IpAddr)>,
}

impl RequestContext {
    /// A request by `principal` (an ARN, a service name or `anonymous`) for `action`
    /// (`service:Action`) on `resource` (an ARN, or `*` for actions without resource-level
    /// permissions). Fills the keys AWS always sets for the principal — `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType` and, for IAM users, `aws:username` — unless
    /// the caller later sets them itself.
    pub fn new(principal: &str, action: &str, resource: &str) -> Result<Self, PolicyError> {
        let caller = Caller::parse(principal).map_err(|why| {
            PolicyError::new(
                "$.request.principal",
                PolicyErrorKind::BadValue {
                    what: "principal",
                    value: principal.into(),
                    why: why.into(),
                },
            )
        })?;
        validate_action(action).map_err(|why| {
            PolicyError::new(
                "$.request.action",
                PolicyErrorKind::BadValue {
                    what: "action",
                    value: action.into(),
                    why: why.into(),
                },
            )
        })?;
        let resource_segments = if resource == "*" {
            None
        } else {
            let segs = split_arn(resource).ok_or_else(|| {
                PolicyError::new(
                    "$.request.resource",
                    PolicyErrorKind::MalformedArn {
                        arn: resource.into(),
                        why: "a request resource is a six-part ARN or `*`",
                    },
                )
            })?;
            let base = resource.as_ptr() as usize;
            let mut ranges = [(0u32, 0u32); ARN_SEGMENTS];
            for (r, s) in ranges.iter_mut().zip(segs.iter()) {
                let start = s.as_ptr() as usize - base;
                *r = (start as u32, (start + s.len()) as u32);
            }
            Some(ranges)
        };
        let mut ctx = RequestContext {
            action: action.into(),
            action_lower: action.to_ascii_lowercase(),
            resource: resource.into(),
            resource_segments,
            resource_account: None,
            keys: Vec::new(),
            key_names: Vec::new(),
            hashes: Vec::new(),
            ips: Vec::new(),
            caller,
        };
        if let Some(arn) = ctx.caller.principal_arn().map(str::to_string) {
            ctx.set("aws:PrincipalArn", arn);
        }
        if let Some(account) = ctx.caller.account.clone() {
            ctx.set("aws:PrincipalAccount", account);
        }
        ctx.set("aws:PrincipalType", ctx.caller.kind.principal_type());
        if let Some(name) = ctx.caller.user_name.clone() {
            ctx.set("aws:username", name);
        }
        Ok(ctx)
    }

    /// Sets the account that owns the resource (S3 ARNs carry none). Without it, the account
    /// in the resource ARN is used, and failing that the caller's own account.
    pub fn set_resource_account(&mut self, account: &str) -> Result<(), PolicyError> {
        if !is_account_id(account) {
            return Err(PolicyError::new(
                "$.request.resource_account",
                PolicyErrorKind::BadValue {
                    what: "account id",
                    value: account.into(),
                    why: "an account id is 12 digits".into(),
                },
            ));
        }
        self.resource_account = Some(account.into());
        Ok(())
    }

    /// Sets a single-valued context key (replacing any earlier value).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_values(key, vec![value.into()]);
    }

    /// Sets a multi-valued context key such as `aws:TagKeys`.
    pub fn set_list<I, S>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values
            .into_iter()
            .take(CONTEXT_VALUES_MAX)
            .map(Into::into)
            .collect();
        self.set_values(key, values);
    }

    fn set_values(&mut self, key: &str, values: Vec<String>) {
        let lower = key.to_ascii_lowercase();
        if lower == "aws:principalarn" {
            if let [arn] = values.as_slice() {
                self.caller = self.caller.clone().with_entity_arn(Some(arn));
            }
        }
        let hash = key_hash(&lower);
        self.ips.retain(|(h, _)| *h != hash);
        if lower == "aws:sourceip" || lower == "aws:vpcsourceip" {
            if let [one] = values.as_slice() {
                if let Ok(ip) = one.trim().parse::<IpAddr>() {
                    self.ips.push((hash, ip));
                }
            }
        }
        match self.keys.binary_search_by(|(k, _)| k.as_str().cmp(&lower)) {
            Ok(i) => {
                self.keys[i].1 = values;
                self.key_names[i] = key.to_string();
            }
            Err(i) => {
                if self.keys.len() < CONTEXT_KEYS_MAX {
                    self.hashes.insert(i, key_hash(&lower));
                    self.keys.insert(i, (lower, values));
                    self.key_names.insert(i, key.to_string());
                }
            }
        }
        debug_assert_eq!(self.keys.len(), self.key_names.len());
        debug_assert!(self.keys.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// Removes a context key (to model requests where AWS does not send it).
    pub fn remove(&mut self, key: &str) {
        let lower = key.to_ascii_lowercase();
        if let Ok(i) = self.keys.binary_search_by(|(k, _)| k.as_str().cmp(&lower)) {
            self.keys.remove(i);
            self.key_names.remove(i);
            let h = self.hashes.remove(i);
            self.ips.retain(|(x, _)| *x != h);
        }
    }

    /// The values of a context key given in **lowercase**, or `None` when absent.
    #[inline]
    pub fn get(&self, key_lower: &str) -> Option<&[String]> {
        self.keys
            .binary_search_by(|(k, _)| k.as_str().cmp(key_lower))
            .ok()
            .map(|i| self.keys[i].1.as_slice())
    }

    /// [`RequestContext::get`] with the key's [`key_hash`] precomputed: a linear scan over
    /// integers, the text compared only on a hash hit.
    #[inline]
    pub fn get_hashed(&self, hash: u64, key_lower: &str) -> Option<&[String]> {
        for (i, h) in self.hashes.iter().enumerate() {
            if *h == hash && self.keys[i].0 == key_lower {
                return Some(self.keys[i].1.as_slice());
            }
        }
        None
    }

    /// The pre-parsed IP address of an IP-valued key (`aws:SourceIp`), by [`key_hash`].
    #[inline]
    pub fn parsed_ip(&self, hash: u64) -> Option<IpAddr> {
        self.ips.iter().find(|(h, _)| *h == hash).map(|(_, ip)| *ip)
    }

    /// All context keys (as last written) and values, sorted case-insensitively by key.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.key_names
            .iter()
            .zip(self.keys.iter())
            .map(|(name, (_, v))| (name.as_str(), v.as_slice()))
    }

    /// The calling principal.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The action lowercased (action names are case-insensitive).
    pub fn action_lower(&self) -> &str {
        &self.action_lower
    }

    /// The resource as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The resource ARN's six segments, or `None` for `*`.
    pub fn resource_segments(&self) -> Option<[&str; ARN_SEGMENTS]> {
        self.resource_segments
            .map(|ranges| ranges.map(|(a, b)| &self.resource[a as usize..b as usize]))
    }

    /// The account that owns the resource: the one set explicitly, else the ARN's account
    /// segment, else the caller's account.
    pub fn resource_account(&self) -> Option<&str> {
        if let Some(a) = &self.resource_account {
            return Some(a);
        }
        if let Some(segs) = self.resource_segments() {
            if is_account_id(segs[4]) {
                let (a, b) = self.resource_segments.expect("checked")[4];
                return Some(&self.resource[a as usize..b as usize]);
            }
        }
        self.caller.account.as_deref()
    }

    /// True when the caller and the resource are in different accounts. Service and
    /// anonymous callers belong to no account and are treated as same-account (only the
    /// resource-based policy can grant them anything).
    pub fn is_cross_account(&self) -> bool {
        match (&self.caller.account, self.resource_account()) {
            (Some(c), Some(r)) => c != r,
            _ => false,
        }
    }

    /// True for the account root user, which needs no identity-based policy in its own account.
    pub fn caller_is_root(&self) -> bool {
        self.caller.kind == CallerKind::Root
    }
}

/// Checks `service:Action` (no wildcards in a request).
fn validate_action(action: &str) -> Result<(), &'static str> {
    let (service, name) = action
        .split_once(':')
        .ok_or("an action is `service:ActionName`, e.g. s3:GetObject")?;
    if service.is_empty() || name.is_empty() {
        return Err("an action is `service:ActionName`, e.g. s3:GetObject");
    }
    if action.contains(['*', '?']) {
        return Err("a request names one action; wildcards belong in policies");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_derived() {
        let mut c = RequestContext::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
        .unwrap();
        c.set("AWS:SourceIp", "203.0.113.5");
        assert_eq!(c.get("aws:sourceip").unwrap(), ["203.0.113.5"]);
        assert_eq!(c.get("aws:username").unwrap(), ["alice"]);
        assert_eq!(c.get("aws:principalaccount").unwrap(), ["111122223333"]);
        assert_eq!(c.resource_account(), Some("111122223333"));
        assert!(!c.is_cross_account());
        c.set_resource_account("444455556666").unwrap();
        assert!(c.is_cross_account());
        assert_eq!(c.resource_segments().unwrap()[5], "b/k");
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(RequestContext::new("alice", "s3:GetObject", "*").is_err());
        assert!(RequestContext::new("arn:aws:iam::111122223333:user/a", "GetObject", "*").is_err());
        assert!(RequestContext::new("arn:aws:iam::111122223333:user/a", "s3:Get*", "*").is_err());
        assert!(
            RequestContext::new("arn:aws:iam::111122223333:user/a", "s3:GetObject", "bucket")
                .is_err()
        );
    }
}
