//! The fixed universe the IAM workload plays in, its policy documents, the authorization
//! requests clients send, and how one request is decided on one store with the real engine.
//!
//! Policies are ordinary AWS JSON, parsed once per process by [`Policy::parse`]; a store only
//! says which of them are attached where. Deciding a request builds the engine's
//! [`Directory`] for that store and calls [`Authorizer::authorize`] (or
//! [`Authorizer::assume_role`] for `sts:AssumeRole`), exactly as the object store and the
//! table API do. Nodes and the checker build one [`Evaluator`] per view version and memoise
//! its answers per request, so the engine runs once per (version, request), not once per
//! client call.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use seedbed_engine::iam::authorizer::{
    Access, AssumeRole, AuthError, Authorizer, Directory, Group, Principal, Role, Session, User,
};
use seedbed_engine::iam::{decide, Decision, Policy, PolicyKind, PolicySet, RequestContext};

use super::store::{Store, NO_BUCKET_POLICY};

/// The account every identity and resource belongs to.
pub const ACCOUNT: &str = "111122223333";
/// IAM users `u0..u3`.
pub const USERS: usize = 4;
/// Groups `g0, g1`.
pub const GROUPS: usize = 2;
/// Roles `r0, r1`.
pub const ROLES: usize = 2;
/// Buckets `b0, b1`.
pub const BUCKETS: usize = 2;
/// Managed identity policies.
pub const IDENTITY_POLICIES: usize = 8;
/// Bucket policies.
pub const BUCKET_POLICIES: usize = 3;
/// Role trust policies.
pub const TRUST_POLICIES: usize = 3;
/// Request time handed to the engine (2026-01-01T00:00:00Z): fixed, so decisions depend on
/// the view alone.
pub const NOW_UNIX_MS: u64 = 1_767_225_600_000;

const TABLE: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/t0";

/// Managed identity policies: (name, document).
pub const IDENTITY: [(&str, &str); IDENTITY_POLICIES] = [
    (
        "s3-read",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#,
    ),
    (
        "s3-write-b0",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::b0/*"}]}"#,
    ),
    (
        "ddb-read",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/t0"}]}"#,
    ),
    (
        "ddb-write",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/*"}]}"#,
    ),
    (
        "deny-deletes",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:DeleteObject","dynamodb:DeleteItem"],"Resource":"*"}]}"#,
    ),
    (
        "admin",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "deny-b1",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::b1","arn:aws:s3:::b1/*"]}]}"#,
    ),
    (
        "s3-full-b1",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b1","arn:aws:s3:::b1/*"]}]}"#,
    ),
];

/// Bucket policies: (name, document).
pub const BUCKET: [(&str, &str); BUCKET_POLICIES] = [
    (
        "u0-may-read",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u0"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::*/*"}]}"#,
    ),
    (
        "nobody-puts",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::*/*"}]}"#,
    ),
    (
        "u2-and-r1-full",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/u2","arn:aws:iam::111122223333:role/r1"]},"Action":"s3:*","Resource":["arn:aws:s3:::*","arn:aws:s3:::*/*"]}]}"#,
    ),
];

/// Role trust policies: (name, document).
pub const TRUST: [(&str, &str); TRUST_POLICIES] = [
    (
        "trust-u0-u1",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/u0","arn:aws:iam::111122223333:user/u1"]},"Action":"sts:AssumeRole"}]}"#,
    ),
    (
        "trust-account",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
    ),
    (
        "trust-u3",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u3"},"Action":"sts:AssumeRole"}]}"#,
    ),
];

/// Actions clients ask about: (action, resource ARN, bucket it lives in). All are names from
/// the engine's `actions` tables (the enforcement layer's vocabulary).
pub const ACTIONS: [(&str, &str, Option<u8>); 8] = [
    ("s3:GetObject", "arn:aws:s3:::b0/k", Some(0)),
    ("s3:PutObject", "arn:aws:s3:::b0/k", Some(0)),
    ("s3:DeleteObject", "arn:aws:s3:::b1/k", Some(1)),
    ("s3:ListBucket", "arn:aws:s3:::b1", Some(1)),
    ("s3:GetObject", "arn:aws:s3:::b1/k", Some(1)),
    ("dynamodb:GetItem", TABLE, None),
    ("dynamodb:PutItem", TABLE, None),
    ("dynamodb:DeleteItem", TABLE, None),
];

/// Principals that make data requests: users `u0..u3`, then a session of each role.
pub const PRINCIPALS: usize = USERS + ROLES;
/// Every request: `principal × action`, then `AssumeRole` for every `user × role`.
pub const REQUESTS: usize = PRINCIPALS * ACTIONS.len() + USERS * ROLES;

/// The parsed policies.
#[derive(Debug)]
pub struct Catalog {
    identity: Vec<Arc<Policy>>,
    bucket: Vec<Arc<Policy>>,
    trust: Vec<Arc<Policy>>,
}

fn parse_all(docs: &[(&str, &str)], kind: PolicyKind) -> Vec<Arc<Policy>> {
    docs.iter()
        .map(|(name, text)| {
            // The documents are constants of this file; a test parses them all.
            Arc::new(
                Policy::parse(text, kind).unwrap_or_else(|e| panic!("catalog policy {name}: {e}")),
            )
        })
        .collect()
}

/// The catalog, parsed once per process.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        identity: parse_all(&IDENTITY, PolicyKind::Identity),
        bucket: parse_all(&BUCKET, PolicyKind::Resource),
        trust: parse_all(&TRUST, PolicyKind::Trust),
    })
}

fn user_arn(u: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/u{u}")
}

fn role_arn(r: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/r{r}")
}

/// A request in words, for messages: `u2 s3:GetObject arn:aws:s3:::b0/k`.
pub fn describe(req: u16) -> String {
    let r = usize::from(req);
    if r < PRINCIPALS * ACTIONS.len() {
        let (p, a) = (r / ACTIONS.len(), r % ACTIONS.len());
        let who = if p < USERS {
            format!("u{p}")
        } else {
            format!("r{}-session", p - USERS)
        };
        format!("{who} {} {}", ACTIONS[a].0, ACTIONS[a].1)
    } else {
        let k = r - PRINCIPALS * ACTIONS.len();
        format!("u{} sts:AssumeRole r{}", k / ROLES, k % ROLES)
    }
}

/// Decides requests on one store through the engine's full API: a [`Directory`] and
/// [`Authorizer::authorize`] / [`Authorizer::assume_role`], exactly as a storage service does.
/// [`Evaluator`] takes a faster path for data requests; a test holds the two to the same
/// answers.
#[derive(Debug)]
pub struct Reference {
    authorizer: Authorizer,
    store: Store,
}

impl Reference {
    /// Build the engine's directory for `store`.
    pub fn new(store: Store) -> Self {
        let cat = catalog();
        let attached = |mask: u16| -> Vec<Arc<Policy>> {
            (0..IDENTITY_POLICIES)
                .filter(|&p| mask & store.existing & (1 << p) != 0)
                .map(|p| cat.identity[p].clone())
                .collect()
        };
        let mut dir = Directory::new();
        for u in 0..USERS {
            dir.put_user(User {
                arn: user_arn(u),
                unique_id: format!("AIDAU{u}"),
                policies: attached(store.user_policies[u]),
                groups: (0..GROUPS)
                    .filter(|g| store.groups_of_user[u] & (1 << g) != 0)
                    .map(|g| format!("arn:aws:iam::{ACCOUNT}:group/g{g}"))
                    .collect(),
                boundary: None,
                tags: BTreeMap::new(),
            });
        }
        for g in 0..GROUPS {
            dir.put_group(Group {
                arn: format!("arn:aws:iam::{ACCOUNT}:group/g{g}"),
                policies: attached(store.group_policies[g]),
            });
        }
        for r in 0..ROLES {
            dir.put_role(Role {
                arn: role_arn(r),
                unique_id: format!("AROAR{r}"),
                trust_policy: cat.trust[usize::from(store.trust[r])].clone(),
                policies: attached(store.role_policies[r]),
                boundary: None,
                tags: BTreeMap::new(),
            });
        }
        Reference {
            authorizer: Authorizer::new(dir),
            store,
        }
    }

    fn principal(p: usize) -> Principal {
        if p < USERS {
            Principal::User(user_arn(p))
        } else {
            let role = p - USERS;
            Principal::Session(Session {
                arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/r{role}/sess"),
                role_arn: role_arn(role),
                session_name: "sess".into(),
                session_policies: None,
                tags: BTreeMap::new(),
                expires_unix_ms: u64::MAX,
            })
        }
    }

    /// The policy set and request context the authorizer assembles for data request `req`.
    fn prepare(&self, req: usize) -> (PolicySet, RequestContext) {
        let (p, a) = (req / ACTIONS.len(), req % ACTIONS.len());
        let (action, resource, bucket) = ACTIONS[a];
        let mut resource_policies = Vec::new();
        if let Some(b) = bucket {
            let bp = self.store.bucket_policy[usize::from(b)];
            if bp != NO_BUCKET_POLICY {
                resource_policies.push(catalog().bucket[usize::from(bp)].clone());
            }
        }
        let access = Access {
            action,
            resource,
            resource_account: bucket.map(|_| ACCOUNT),
            resource_policies: &resource_policies,
            context: &[],
            now_unix_ms: NOW_UNIX_MS,
        };
        self.authorizer
            .prepare(&Self::principal(p), &access)
            // Every principal exists in every store: a workload bug, not data.
            .unwrap_or_else(|e| panic!("prepare {}: {e}", describe(req as u16)))
    }

    /// Whether `req` (an index below [`REQUESTS`]) is allowed.
    pub fn allows(&self, req: u16) -> bool {
        let r = usize::from(req);
        assert!(r < REQUESTS, "request {r} out of range");
        if r >= PRINCIPALS * ACTIONS.len() {
            let k = r - PRINCIPALS * ACTIONS.len();
            let role = role_arn(k % ROLES);
            let call = AssumeRole {
                role_arn: &role,
                session_name: "sess",
                duration_seconds: 3600,
                now_unix_ms: NOW_UNIX_MS,
                ..AssumeRole::default()
            };
            return match self
                .authorizer
                .assume_role(&Principal::User(user_arn(k / ROLES)), &call)
            {
                Ok(_) => true,
                Err(AuthError::AccessDenied(_)) => false,
                Err(e) => panic!("AssumeRole for {}: {e}", describe(req)),
            };
        }
        let (set, ctx) = self.prepare(r);
        decide(&set, &ctx).0 == Decision::Allow
    }
}

/// The request contexts of the data requests. They depend on the principal, action and
/// resource only — never on the store — so the authorizer builds them once per process.
fn contexts() -> &'static [RequestContext] {
    static CONTEXTS: OnceLock<Vec<RequestContext>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let r = Reference::new(Store::default());
        (0..PRINCIPALS * ACTIONS.len())
            .map(|q| r.prepare(q).1)
            .collect()
    })
}

/// Decides requests on one store with the engine, fast: the policy sets are assembled once
/// per store (what [`Authorizer::prepare`] would assemble: the user's and its groups'
/// policies, or the role's, plus the bucket's policy), the contexts once per process, and each
/// data request is one call of the engine's [`decide`]. `sts:AssumeRole` goes through
/// [`Reference`] (the trust policy's own rule lives in the authorizer).
#[derive(Debug)]
pub struct Evaluator {
    store: Store,
    identity: Vec<Vec<Arc<Policy>>>,
    reference: Option<Reference>,
}

impl Evaluator {
    /// Assemble the policy sets of `store`.
    pub fn new(store: Store) -> Self {
        let cat = catalog();
        let attached = |mask: u16, out: &mut Vec<Arc<Policy>>| {
            for p in 0..IDENTITY_POLICIES {
                if mask & store.existing & (1 << p) != 0 {
                    out.push(cat.identity[p].clone());
                }
            }
        };
        let mut identity = Vec::with_capacity(PRINCIPALS);
        for u in 0..USERS {
            let mut v = Vec::new();
            attached(store.user_policies[u], &mut v);
            for g in 0..GROUPS {
                if store.groups_of_user[u] & (1 << g) != 0 {
                    attached(store.group_policies[g], &mut v);
                }
            }
            identity.push(v);
        }
        for r in 0..ROLES {
            let mut v = Vec::new();
            attached(store.role_policies[r], &mut v);
            identity.push(v);
        }
        Evaluator {
            store,
            identity,
            reference: None,
        }
    }

    /// Whether `req` (an index below [`REQUESTS`]) is allowed.
    pub fn allows(&mut self, req: u16) -> bool {
        let r = usize::from(req);
        assert!(r < REQUESTS, "request {r} out of range");
        if r >= PRINCIPALS * ACTIONS.len() {
            let store = self.store;
            return self
                .reference
                .get_or_insert_with(|| Reference::new(store))
                .allows(req);
        }
        let (p, a) = (r / ACTIONS.len(), r % ACTIONS.len());
        let mut resource = Vec::new();
        if let Some(b) = ACTIONS[a].2 {
            let bp = self.store.bucket_policy[usize::from(b)];
            if bp != NO_BUCKET_POLICY {
                resource.push(catalog().bucket[usize::from(bp)].clone());
            }
        }
        let set = PolicySet {
            identity: self.identity[p].clone(),
            resource,
            ..PolicySet::default()
        };
        decide(&set, &contexts()[r]).0 == Decision::Allow
    }
}

/// Decisions for one store, computed on first use: one engine evaluation per request.
#[derive(Debug)]
pub struct Memo {
    eval: Option<Evaluator>,
    store: Store,
    decided: [u8; REQUESTS],
}

impl Memo {
    /// Nothing decided yet for `store`.
    pub fn new(store: Store) -> Self {
        Memo {
            eval: None,
            store,
            decided: [0; REQUESTS],
        }
    }

    /// The store this memo answers for.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether `req` is allowed on the store.
    pub fn allows(&mut self, req: u16) -> bool {
        let slot = &mut self.decided[usize::from(req)];
        if *slot == 0 {
            let store = self.store;
            let eval = self.eval.get_or_insert_with(|| Evaluator::new(store));
            *slot = if eval.allows(req) { 2 } else { 1 };
        }
        *slot == 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::iam::store::Change;

    #[test]
    fn catalog_parses_and_the_initial_store_allows_and_denies() {
        let _ = catalog();
        let mut m = Memo::new(Store::default());
        let allowed = (0..REQUESTS as u16).filter(|&r| m.allows(r)).count();
        assert!(
            allowed > 5 && allowed < REQUESTS - 5,
            "{allowed} of {REQUESTS} allowed"
        );
    }

    #[test]
    fn detaching_the_only_grant_revokes() {
        // u0 s3:GetObject b0/k: allowed by s3-read (and the bucket policy u0-may-read).
        let req = 0u16;
        assert!(
            Evaluator::new(Store::default()).allows(req),
            "{}",
            describe(req)
        );
        let mut s = Store::default();
        s.apply(Change::DetachUserPolicy { user: 0, policy: 0 });
        s.apply(Change::DeleteBucketPolicy { bucket: 0 });
        assert!(!Evaluator::new(s).allows(req));
    }

    #[test]
    fn trust_policy_changes_decide_assume_role() {
        // u0 may assume r0 under trust-u0-u1, not under trust-u3.
        let req = (PRINCIPALS * ACTIONS.len()) as u16; // u0 -> r0
        assert!(
            Evaluator::new(Store::default()).allows(req),
            "{}",
            describe(req)
        );
        let mut s = Store::default();
        s.apply(Change::UpdateTrustPolicy { role: 0, policy: 2 });
        assert!(!Evaluator::new(s).allows(req));
    }

    /// The fast path decides exactly as the authorizer's full path, on stores reached by
    /// random changes.
    #[test]
    fn the_fast_path_agrees_with_the_authorizer() {
        let mut rng = seedbed_engine::rng::DetRng::new(11);
        let mut store = Store::default();
        let (mut allows, mut denies) = (0, 0);
        for _ in 0..40 {
            for _ in 0..3 {
                let b = [rng.below(13) as u8, rng.below(2) as u8, rng.below(3) as u8];
                if let Ok(c) = Change::decode(b) {
                    store.apply(c);
                }
            }
            let mut fast = Evaluator::new(store);
            let full = Reference::new(store);
            for req in 0..REQUESTS as u16 {
                let a = fast.allows(req);
                assert_eq!(a, full.allows(req), "{} on {store:?}", describe(req));
                if a {
                    allows += 1;
                } else {
                    denies += 1;
                }
            }
        }
        assert!(
            allows > 100 && denies > 100,
            "{allows} allows, {denies} denies"
        );
    }
}
