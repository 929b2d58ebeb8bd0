//! Policy evaluation for one request, following AWS's documented flow.
//!
//! ```text
//!  1. Deny evaluation   an explicit Deny in ANY applicable policy          → ExplicitDeny
//!  2. SCPs              if SCPs apply, one must Allow                      → else ImplicitDeny
//!  3. Resource-based    same account: an Allow naming the caller itself
//!                       (IAM user ARN, role *session* ARN, federated-user
//!                       ARN, service, or "*")                              → Allow, not limited
//!                       by the identity policy, boundary or session policy
//!                       cross account: some Allow must name the caller,
//!                       its role/user, or its account                      → else ImplicitDeny
//!  4. Identity-based    an Allow is needed (same account: an Allow in a
//!                       resource policy naming the *role* ARN, or the IAM
//!                       user behind a federated session, counts as one;
//!                       an Allow naming only the account delegates here)   → else ImplicitDeny
//!  5. Boundary          if a permissions boundary is set, it must Allow    → else ImplicitDeny
//!  6. Session policy    if session policies were passed, one must Allow    → else ImplicitDeny
//!                                                                          → Allow
//! ```
//!
//! Statement matching: a statement applies when its principal (resource-based policies only),
//! action, resource and every condition match. `NotAction` / `NotResource` apply to everything
//! not listed. `NotPrincipal` (Deny only) applies to every caller whose identity chain is not
//! fully listed — and, as AWS documents, to **every** caller that has a permissions boundary.
//!
//! Evaluation allocates nothing: statement outcomes flow to a [`Tracer`], which is a no-op
//! for [`decide`] and a recorder for [`fn@crate::iam::explain`].

use std::sync::Arc;

use super::caller::CallerKind;
use super::context::RequestContext;
use super::glob::match_shaped;
use super::policy::{Effect, Policy, PolicyKind, Statement};
use super::principal::Naming;

/// The result of evaluating a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    /// Some policy allows and nothing denies.
    Allow,
    /// A Deny statement applied.
    ExplicitDeny,
    /// Nothing denied, but a required Allow was missing.
    ImplicitDeny,
}

impl Decision {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

/// The policies that apply to one request, by kind. `None` for boundary, SCP and session means
/// "no such policy applies" (which is different from `Some(vec![])`: an empty set of SCPs
/// allows nothing). Policies are shared (`Arc`) so that an authorizer can assemble a set per
/// request without copying documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Identity-based policies of the user (with its groups) or role.
    pub identity: Vec<Arc<Policy>>,
    /// Resource-based policies of the resource (or the trust policy of a role being assumed).
    pub resource: Vec<Arc<Policy>>,
    /// The caller's permissions boundary, if one is set.
    pub boundary: Option<Vec<Arc<Policy>>>,
    /// Service control policies of the caller's account, if the account is in an organization.
    pub scp: Option<Vec<Arc<Policy>>>,
    /// Session policies passed when the caller's session was created.
    pub session: Option<Vec<Arc<Policy>>>,
}

/// Identifies one statement in a [`PolicySet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementRef {
    /// Which list the policy is in.
    pub kind: PolicyKind,
    /// Index of the policy in that list.
    pub policy: u32,
    /// Index of the statement in the policy.
    pub statement: u32,
}

/// Why a statement did not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// `Principal` does not name the caller.
    Principal,
    /// `NotPrincipal` lists every identity of the caller.
    NotPrincipal,
    /// No `Action` pattern matches.
    Action,
    /// `NotAction` lists the action.
    NotAction,
    /// No `Resource` pattern matches (or a policy variable in it could not be resolved).
    Resource,
    /// `NotResource` lists the resource.
    NotResource,
    /// The condition at this index (in [`Statement::conditions`]) is false.
    Condition(u16),
}

/// Whether a statement applied (and how it named the caller) or why not.
pub type Outcome = Result<Naming, Miss>;

/// Receives every statement's outcome during evaluation.
pub trait Tracer {
    /// Records one statement.
    fn record(&mut self, at: StatementRef, effect: Effect, outcome: Outcome);
}

/// A tracer that records nothing; [`decide`] uses it so evaluation costs only the matching.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn record(&mut self, _: StatementRef, _: Effect, _: Outcome) {}
}

/// The step of the flow that decided, with the deciding statement where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Step 1: this Deny statement applied.
    ExplicitDeny(StatementRef),
    /// Step 2: SCPs apply and none allows.
    ScpNoAllow,
    /// Step 3, same account: this resource-based Allow names the caller itself.
    ResourceGrant(StatementRef),
    /// Step 3, cross account: no resource-based policy allows.
    CrossAccountNoResourceAllow,
    /// Step 4: no identity-based Allow.
    NoIdentityAllow,
    /// Step 5: the permissions boundary does not allow.
    BoundaryNoAllow,
    /// Step 6: the session policies do not allow.
    SessionNoAllow,
    /// Every required policy type allows.
    Allowed,
}

/// What one policy kind contributed.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// The most specific naming among applicable Allows, and the first such statement.
    allow: Option<(Naming, StatementRef)>,
    /// The first applicable Deny.
    deny: Option<StatementRef>,
}

/// Checks one statement against the request.
#[inline]
pub fn check_statement(
    stmt: &Statement,
    ctx: &RequestContext,
    resource_segments: Option<&[&str; 6]>,
    has_boundary: bool,
    scratch: &mut Vec<u8>,
) -> Outcome {
    let naming = match &stmt.principal {
        None => Naming::Caller,
        Some(m) => {
            // The parser builds exactly one spec; a hand-built empty matcher names nobody.
            let Some(spec) = m.items.first() else {
                return Err(Miss::Principal);
            };
            if m.negated {
                if !has_boundary && spec.excludes(ctx.caller()) {
                    return Err(Miss::NotPrincipal);
                }
                Naming::Caller
            } else {
                spec.names(ctx.caller()).ok_or(Miss::Principal)?
            }
        }
    };
    let action = ctx.action_lower().as_bytes();
    let hit = stmt
        .action
        .items
        .iter()
        .any(|a| match_shaped(a.shape, &a.compiled, action));
    if hit == stmt.action.negated {
        return Err(if stmt.action.negated {
            Miss::NotAction
        } else {
            Miss::Action
        });
    }
    if let Some(r) = &stmt.resource {
        let hit = r
            .items
            .iter()
            .any(|p| p.matches(resource_segments, ctx.resource(), ctx, scratch) == Some(true));
        if hit == r.negated {
            return Err(if r.negated {
                Miss::NotResource
            } else {
                Miss::Resource
            });
        }
    }
    for (i, c) in stmt.conditions.iter().enumerate() {
        if !c.evaluate(ctx, scratch) {
            return Err(Miss::Condition(i.min(u16::MAX as usize) as u16));
        }
    }
    Ok(naming)
}

fn summarize<T: Tracer>(
    kind: PolicyKind,
    policies: &[Arc<Policy>],
    ctx: &RequestContext,
    segs: Option<&[&str; 6]>,
    has_boundary: bool,
    scratch: &mut Vec<u8>,
    tracer: &mut T,
) -> Summary {
    let mut s = Summary::default();
    for (pi, policy) in policies.iter().enumerate() {
        for (si, stmt) in policy.statements.iter().enumerate() {
            let at = StatementRef {
                kind,
                policy: pi as u32,
                statement: si as u32,
            };
            let outcome = check_statement(stmt, ctx, segs, has_boundary, scratch);
            tracer.record(at, stmt.effect, outcome);
            if let Ok(naming) = outcome {
                match stmt.effect {
                    Effect::Deny => {
                        if s.deny.is_none() {
                            s.deny = Some(at);
                        }
                    }
                    Effect::Allow => {
                        if s.allow.is_none_or(|(n, _)| naming > n) {
                            s.allow = Some((naming, at));
                        }
                    }
                }
            }
        }
    }
    s
}

/// Evaluates `ctx` against `set`, reporting every statement to `tracer`.
pub fn evaluate_traced<T: Tracer>(
    set: &PolicySet,
    ctx: &RequestContext,
    tracer: &mut T,
) -> (Decision, Reason) {
    let mut scratch = Vec::new();
    let segs = ctx.resource_segments();
    let segs = segs.as_ref();
    let has_boundary = set.boundary.is_some();
    let mut run = |kind, policies: &[Arc<Policy>]| {
        summarize(
            kind,
            policies,
            ctx,
            segs,
            has_boundary,
            &mut scratch,
            tracer,
        )
    };
    let identity = run(PolicyKind::Identity, &set.identity);
    let resource_kind = set
        .resource
        .first()
        .map_or(PolicyKind::Resource, |p| p.kind);
    let resource = run(resource_kind, &set.resource);
    let boundary = set
        .boundary
        .as_deref()
        .map(|p| run(PolicyKind::Boundary, p));
    let scp = set.scp.as_deref().map(|p| run(PolicyKind::Scp, p));
    let session = set.session.as_deref().map(|p| run(PolicyKind::Session, p));

    // 1. Explicit deny anywhere wins.
    let denies = [Some(identity), Some(resource), boundary, scp, session];
    if let Some(at) = denies.iter().flatten().find_map(|s| s.deny) {
        return (Decision::ExplicitDeny, Reason::ExplicitDeny(at));
    }
    let caller = ctx.caller();
    let in_account = caller.account.is_some();
    // 2. SCPs limit every principal of a member account (anonymous and service callers have none).
    if let Some(scp) = scp {
        if in_account && scp.allow.is_none() {
            return (Decision::ImplicitDeny, Reason::ScpNoAllow);
        }
    }
    // 3. Resource-based policies.
    let cross = ctx.is_cross_account();
    let resource_naming = resource.allow.map(|(n, _)| n);
    if !cross {
        if let Some((Naming::Caller, at)) = resource.allow {
            return (Decision::Allow, Reason::ResourceGrant(at));
        }
    } else if resource_naming.is_none() {
        return (Decision::ImplicitDeny, Reason::CrossAccountNoResourceAllow);
    }
    // 4. Identity-based policies (the root user needs none in its own account).
    let identity_ok = identity.allow.is_some()
        || caller.kind == CallerKind::Root
        || (!cross && resource_naming == Some(Naming::Entity));
    if !identity_ok {
        return (Decision::ImplicitDeny, Reason::NoIdentityAllow);
    }
    // 5. Permissions boundary.
    if let Some(b) = boundary {
        if b.allow.is_none() {
            return (Decision::ImplicitDeny, Reason::BoundaryNoAllow);
        }
    }
    // 6. Session policies.
    if let Some(s) = session {
        if s.allow.is_none() {
            return (Decision::ImplicitDeny, Reason::SessionNoAllow);
        }
    }
    (Decision::Allow, Reason::Allowed)
}

/// Evaluates `ctx` against `set`: the fast path, with no explanation and no allocation
/// (unless a policy variable needs substituting).
pub fn decide(set: &PolicySet, ctx: &RequestContext) -> (Decision, Reason) {
    evaluate_traced(set, ctx, &mut NoTrace)
}

impl PolicySet {
    /// The policies of `kind` (`Trust` policies live in the resource list).
    pub fn policies(&self, kind: PolicyKind) -> &[Arc<Policy>] {
        match kind {
            PolicyKind::Identity => &self.identity,
            PolicyKind::Resource | PolicyKind::Trust => &self.resource,
            PolicyKind::Boundary => self.boundary.as_deref().unwrap_or(&[]),
            PolicyKind::Scp => self.scp.as_deref().unwrap_or(&[]),
            PolicyKind::Session => self.session.as_deref().unwrap_or(&[]),
        }
    }

    /// The statement `at` refers to.
    pub fn statement(&self, at: StatementRef) -> Option<&Statement> {
        self.policies(at.kind)
            .get(at.policy as usize)?
            .statements
            .get(at.statement as usize)
    }

    /// Every policy in the set with its kind, in evaluation order.
    pub fn total_statements(&self) -> usize {
        [
            PolicyKind::Identity,
            PolicyKind::Resource,
            PolicyKind::Boundary,
            PolicyKind::Scp,
            PolicyKind::Session,
        ]
        .iter()
        .map(|k| {
            self.policies(*k)
                .iter()
                .map(|p| p.statements.len())
                .sum::<usize>()
        })
        .sum()
    }
}
