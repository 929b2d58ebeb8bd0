//! Explanations: which statements decided, and why every other statement did not apply.
//!
//! Built only when asked for: [`explain`] runs the same evaluation as
//! [`crate::iam::evaluate::decide`] with a recording tracer, then turns the record into a
//! one-paragraph summary (for `seedbed iam eval`) or a step-by-step walk through AWS's
//! evaluation flow (for `seedbed iam explain`).

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::context::RequestContext;
use super::evaluate::{
    evaluate_traced, Decision, Miss, Outcome, PolicySet, Reason, StatementRef, Tracer,
};
use super::glob::render;
use super::policy::{Effect, PolicyKind};
use super::principal::Naming;

/// One statement's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEntry {
    /// Which statement.
    pub at: StatementRef,
    /// Its effect.
    pub effect: Effect,
    /// Applied (with how it named the caller) or why not.
    pub outcome: Outcome,
}

struct Recorder(Vec<TraceEntry>);

impl Tracer for Recorder {
    fn record(&mut self, at: StatementRef, effect: Effect, outcome: Outcome) {
        self.0.push(TraceEntry {
            at,
            effect,
            outcome,
        });
    }
}

/// A decision with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// The step that decided.
    pub reason: Reason,
    /// The statements that decided it: every applicable Deny for an explicit deny, every
    /// applicable Allow for an allow, none for an implicit deny.
    pub matched: Vec<StatementRef>,
    /// Every statement's outcome, in evaluation order.
    pub trace: Vec<TraceEntry>,
}

/// Evaluates and records an explanation.
pub fn explain(set: &PolicySet, ctx: &RequestContext) -> Explanation {
    let mut rec = Recorder(Vec::with_capacity(set.total_statements()));
    let (decision, reason) = evaluate_traced(set, ctx, &mut rec);
    let trace = rec.0;
    let matched = trace
        .iter()
        .filter(|e| e.outcome.is_ok())
        .filter(|e| match decision {
            Decision::ExplicitDeny => e.effect == Effect::Deny,
            Decision::Allow => {
                e.effect == Effect::Allow
                    && match reason {
                        Reason::ResourceGrant(_) => {
                            matches!(
                                e.at.kind,
                                PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Scp
                            )
                        }
                        _ => true,
                    }
            }
            Decision::ImplicitDeny => false,
        })
        .map(|e| e.at)
        .collect();
    Explanation {
        decision,
        reason,
        matched,
        trace,
    }
}

/// `identity[0]`, `resource[1]`, ...
pub fn policy_label(at: StatementRef) -> String {
    format!("{}[{}]", at.kind.name(), at.policy)
}

/// `identity[0] statement 1 (Sid "ReadOnly")`.
pub fn statement_label(set: &PolicySet, at: StatementRef) -> String {
    let sid = set
        .statement(at)
        .and_then(|s| s.sid.as_deref())
        .filter(|s| !s.is_empty())
        .map(|s| format!(" (Sid \"{s}\")"))
        .unwrap_or_default();
    format!("{} statement {}{}", policy_label(at), at.statement, sid)
}

fn list<T, F: Fn(&T) -> String>(items: &[T], f: F) -> String {
    let v: Vec<String> = items.iter().map(f).collect();
    if v.len() == 1 {
        format!("\"{}\"", v[0])
    } else {
        format!(
            "[{}]",
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A sentence saying why the statement at `entry` did or did not apply.
pub fn outcome_text(set: &PolicySet, ctx: &RequestContext, entry: &TraceEntry) -> String {
    let Some(stmt) = set.statement(entry.at) else {
        return "unknown statement".into();
    };
    match entry.outcome {
        Ok(naming) => {
            let how = match (entry.at.kind, naming) {
                (PolicyKind::Resource | PolicyKind::Trust, Naming::Caller) => " (its Principal names the caller itself)",
                (PolicyKind::Resource | PolicyKind::Trust, Naming::Entity) => {
                    " (its Principal names the caller's role or IAM user, not the session)"
                }
                (PolicyKind::Resource | PolicyKind::Trust, Naming::Account) => {
                    " (its Principal names only the caller's account, which delegates to the account's identity policies)"
                }
                _ => "",
            };
            let who = match entry.at.kind {
                PolicyKind::Resource | PolicyKind::Trust => "principal, action, resource",
                _ => "action, resource",
            };
            let what = if stmt.conditions.is_empty() {
                format!("{who} match (no conditions)")
            } else {
                format!("{who} and every condition match")
            };
            let mut text = format!("applies: {what}{how}");
            for c in &stmt.conditions {
                let _ = write!(text, "\n          condition {}", c.describe(ctx, true));
            }
            text
        }
        Err(Miss::Principal) => format!(
            "does not apply: Principal {} does not name {}",
            stmt.principal.as_ref().and_then(|p| p.items.first()).map_or("?".into(), |p| p.source().to_string()),
            ctx.caller().arn
        ),
        Err(Miss::NotPrincipal) => format!(
            "does not apply: NotPrincipal {} lists every identity of {} (account, entity and session)",
            stmt.principal.as_ref().and_then(|p| p.items.first()).map_or("?".into(), |p| p.source().to_string()),
            ctx.caller().arn
        ),
        Err(Miss::Action) => format!(
            "does not apply: action {} matches no Action pattern {}",
            ctx.action(),
            list(&stmt.action.items, |a| a.source.clone())
        ),
        Err(Miss::NotAction) => format!(
            "does not apply: action {} is listed in NotAction {}",
            ctx.action(),
            list(&stmt.action.items, |a| a.source.clone())
        ),
        Err(Miss::Resource) => {
            let Some(r) = stmt.resource.as_ref() else {
                return "does not apply: resource does not match".into();
            };
            let unresolved = r.items.iter().find_map(|p| p.unresolved_key(ctx));
            let mut s = format!(
                "does not apply: resource {} matches no Resource pattern {}",
                ctx.resource(),
                list(&r.items, |p| p.source())
            );
            if let Some(k) = unresolved {
                let _ = write!(s, " (the policy variable ${{{k}}} cannot be resolved from the request)");
            }
            s
        }
        Err(Miss::NotResource) => format!(
            "does not apply: resource {} is listed in NotResource {}",
            ctx.resource(),
            stmt.resource.as_ref().map_or_else(String::new, |r| list(&r.items, |p| p.source()))
        ),
        Err(Miss::Condition(i)) => match stmt.conditions.get(i as usize) {
            Some(c) => format!("does not apply: condition {}", c.describe(ctx, false)),
            None => "does not apply: a condition is false".into(),
        },
    }
}

impl Explanation {
    /// The decision in one paragraph.
    pub fn summary(&self, set: &PolicySet, ctx: &RequestContext) -> String {
        let who = &ctx.caller().arn;
        let what = format!("{} on {}", ctx.action(), ctx.resource());
        match self.reason {
            Reason::ExplicitDeny(at) => format!(
                "Explicit deny: {} denies {who} {what}. An explicit Deny in any applicable policy overrides every Allow.",
                statement_label(set, at)
            ),
            Reason::ScpNoAllow => format!(
                "Implicit deny: service control policies apply to {who}'s account and none of them allows {what}."
            ),
            Reason::ResourceGrant(at) => format!(
                "Allow: {} grants {what} to the caller itself, within the same account; such a grant needs no identity-based Allow and is not limited by a permissions boundary or session policy.",
                statement_label(set, at)
            ),
            Reason::CrossAccountNoResourceAllow => format!(
                "Implicit deny: the resource belongs to account {} and the caller to another; cross-account access needs an Allow in a resource-based policy of the resource's account, and none allows {who} {what}.",
                ctx.resource_account().unwrap_or("?")
            ),
            Reason::NoIdentityAllow => format!(
                "Implicit deny: no identity-based policy allows {who} {what}{}.",
                if ctx.is_cross_account() { " (cross-account access needs an Allow on both sides)" } else { "" }
            ),
            Reason::BoundaryNoAllow => format!(
                "Implicit deny: the permissions boundary does not allow {what}; a boundary caps what identity-based policies grant."
            ),
            Reason::SessionNoAllow => format!(
                "Implicit deny: the session policies do not allow {what}; a session can do only what both its role's policies and its session policies allow."
            ),
            Reason::Allowed if self.matched.is_empty() => format!(
                "Allow: {who} is the account root user, which needs no identity-based policy in its own account, and nothing denies {what}."
            ),
            Reason::Allowed => {
                let by: Vec<String> = self.matched.iter().map(|a| statement_label(set, *a)).collect();
                format!("Allow: every policy type that applies allows {what} ({}), and nothing denies it.", by.join("; "))
            }
        }
    }

    /// The summary followed by every other statement's fate: why each did not apply, and
    /// which applied without deciding (an Allow overridden by a Deny, ...).
    pub fn summary_with_statements(&self, set: &PolicySet, ctx: &RequestContext) -> String {
        let mut out = self.summary(set, ctx);
        let others: Vec<&TraceEntry> = self
            .trace
            .iter()
            .filter(|e| !self.matched.contains(&e.at))
            .collect();
        if others.is_empty() {
            return out;
        }
        out.push_str(" Other statements:");
        for e in others {
            let text = outcome_text(set, ctx, e).replace("\n          ", " ");
            let text = match e.outcome {
                Ok(_) => format!("{text}, but did not decide"),
                Err(_) => text,
            };
            let _ = write!(out, " {}: {};", statement_label(set, e.at), text);
        }
        out.pop();
        out.push('.');
        out
    }

    /// The compact JSON result of `seedbed iam eval`.
    pub fn to_json(&self, set: &PolicySet, ctx: &RequestContext) -> Value {
        let matched: Vec<Value> = self
            .matched
            .iter()
            .map(|at| {
                let stmt = set.statement(*at);
                json!({
                    "policy": policy_label(*at),
                    "statement": at.statement,
                    "sid": stmt.and_then(|s| s.sid.clone()),
                    "effect": match stmt.map(|s| s.effect) { Some(Effect::Deny) => "Deny", _ => "Allow" },
                })
            })
            .collect();
        json!({
            "decision": self.decision.name(),
            "matched": matched,
            "explanation": self.summary_with_statements(set, ctx),
        })
    }

    /// The result of `seedbed iam eval` as one line of compact JSON, keys in the documented
    /// order: `decision`, `matched`, `explanation`.
    pub fn to_json_line(&self, set: &PolicySet, ctx: &RequestContext) -> String {
        let v = self.to_json(set, ctx);
        format!(
            "{{\"decision\":{},\"matched\":{},\"explanation\":{}}}",
            v["decision"], v["matched"], v["explanation"]
        )
    }

    /// A step-by-step, teaching explanation for a person.
    pub fn render(&self, set: &PolicySet, ctx: &RequestContext) -> String {
        let mut out = String::new();
        let c = ctx.caller();
        let _ = writeln!(out, "Decision: {}", self.decision.name());
        let _ = writeln!(out);
        let _ = writeln!(out, "Request");
        let _ = writeln!(out, "  principal  {} ({})", c.arn, c.kind.principal_type());
        let _ = writeln!(out, "  action     {}", ctx.action());
        let _ = writeln!(out, "  resource   {}", ctx.resource());
        let acct = ctx.resource_account().unwrap_or("-");
        let _ = writeln!(
            out,
            "  accounts   caller {} / resource {} ({})",
            c.account.as_deref().unwrap_or("-"),
            acct,
            if ctx.is_cross_account() {
                "cross-account"
            } else {
                "same account"
            }
        );
        for (k, v) in ctx.keys() {
            let shown = if v.len() == 1 {
                format!("\"{}\"", v[0])
            } else {
                format!("{v:?}")
            };
            let _ = writeln!(out, "  context    {k} = {shown}");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "How AWS evaluates it");
        for line in self.steps(set, ctx) {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Every statement");
        if self.trace.is_empty() {
            let _ = writeln!(out, "  (no policies were given)");
        }
        for e in &self.trace {
            let mark = match (e.outcome.is_ok(), e.effect) {
                (true, Effect::Allow) => "ALLOW",
                (true, Effect::Deny) => "DENY ",
                (false, _) => "  -  ",
            };
            let eff = match e.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            };
            let _ = writeln!(
                out,
                "  {mark} {} [{eff}]: {}",
                statement_label(set, e.at),
                outcome_text(set, ctx, e)
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "In short: {}", self.summary(set, ctx));
        out
    }

    fn applied(&self, kinds: &[PolicyKind], effect: Effect) -> Vec<StatementRef> {
        self.trace
            .iter()
            .filter(|e| e.outcome.is_ok() && e.effect == effect && kinds.contains(&e.at.kind))
            .map(|e| e.at)
            .collect()
    }

    /// The evaluation flow, one line per step, up to the deciding one.
    fn steps(&self, set: &PolicySet, ctx: &RequestContext) -> Vec<String> {
        let mut v = Vec::new();
        let labels = |refs: Vec<StatementRef>| {
            refs.iter()
                .map(|a| statement_label(set, *a))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let all = [
            PolicyKind::Identity,
            PolicyKind::Resource,
            PolicyKind::Trust,
            PolicyKind::Boundary,
            PolicyKind::Scp,
            PolicyKind::Session,
        ];
        let denies = self.applied(&all, Effect::Deny);
        if denies.is_empty() {
            v.push(
                "1. Deny evaluation: no Deny statement applies in any policy → continue."
                    .to_string(),
            );
        } else {
            v.push(format!(
                "1. Deny evaluation: {} applies → ExplicitDeny. An explicit Deny anywhere ends evaluation.",
                labels(denies)
            ));
            return v;
        }
        match &set.scp {
            None => v.push("2. Service control policies: none apply → continue.".into()),
            Some(_) if ctx.caller().account.is_none() => {
                v.push("2. Service control policies: the caller belongs to no account, so SCPs do not apply → continue.".into())
            }
            Some(_) => {
                let a = self.applied(&[PolicyKind::Scp], Effect::Allow);
                if a.is_empty() {
                    v.push("2. Service control policies: they apply and none allows the action → ImplicitDeny (an SCP must allow).".into());
                    return v;
                }
                v.push(format!("2. Service control policies: allowed by {} → continue.", labels(a)));
            }
        }
        let res = self.applied(&[PolicyKind::Resource, PolicyKind::Trust], Effect::Allow);
        match self.reason {
            Reason::ResourceGrant(at) => {
                v.push(format!(
                    "3. Resource-based policies: {} allows and names the caller itself, in the same account → Allow (identity-based policies, boundaries and session policies are not consulted for this grant).",
                    statement_label(set, at)
                ));
                return v;
            }
            Reason::CrossAccountNoResourceAllow => {
                v.push("3. Resource-based policies: cross-account request and no resource-based Allow names the caller or its account → ImplicitDeny.".into());
                return v;
            }
            _ => {}
        }
        if res.is_empty() {
            v.push("3. Resource-based policies: no Allow applies → continue (within one account the identity side can still allow).".into());
        } else if ctx.is_cross_account() {
            v.push(format!("3. Resource-based policies: {} allows (cross-account: the identity side must allow too) → continue.", labels(res)));
        } else {
            v.push(format!(
                "3. Resource-based policies: {} allows, but names the caller's role/user or account rather than the caller itself, so the grant flows through the identity side → continue.",
                labels(res)
            ));
        }
        let ids = self.applied(&[PolicyKind::Identity], Effect::Allow);
        if self.reason == Reason::NoIdentityAllow {
            v.push("4. Identity-based policies: no Allow applies → ImplicitDeny.".into());
            return v;
        }
        if ctx.caller_is_root() && ids.is_empty() {
            v.push("4. Identity-based policies: the caller is the account root user, which needs no identity-based Allow → continue.".into());
        } else if ids.is_empty() {
            v.push("4. Identity-based policies: none allows, but a same-account resource-based Allow naming the caller's role/user counts here → continue.".into());
        } else {
            v.push(format!(
                "4. Identity-based policies: allowed by {} → continue.",
                labels(ids)
            ));
        }
        match &set.boundary {
            None => v.push("5. Permissions boundary: none set → continue.".into()),
            Some(_) => {
                let b = self.applied(&[PolicyKind::Boundary], Effect::Allow);
                if b.is_empty() {
                    v.push("5. Permissions boundary: set, and it does not allow the action → ImplicitDeny (a boundary grants nothing; it only caps).".into());
                    return v;
                }
                v.push(format!(
                    "5. Permissions boundary: allows via {} → continue.",
                    labels(b)
                ));
            }
        }
        match &set.session {
            None => v.push("6. Session policies: none passed → continue.".into()),
            Some(_) => {
                let s = self.applied(&[PolicyKind::Session], Effect::Allow);
                if s.is_empty() {
                    v.push(
                        "6. Session policies: passed, and none allows the action → ImplicitDeny."
                            .into(),
                    );
                    return v;
                }
                v.push(format!(
                    "6. Session policies: allow via {} → continue.",
                    labels(s)
                ));
            }
        }
        v.push("→ Allow.".into());
        v
    }
}

/// Renders a compiled action pattern back to text (for tests and tools).
pub fn action_text(compiled: &[u8]) -> String {
    render(compiled)
}
