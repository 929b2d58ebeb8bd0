//! GetAccountAuthorizationDetails: the whole of an account's IAM in one answer — every user with
//! its inline policies, groups, attached policies, boundary and tags; every group and role the
//! same way (a role with its trust policy); and the managed policies with every version. What
//! auditing tools read first, and the quickest way to see what a policy change touched.
//!
//! `Filter` (`User`, `Group`, `Role`, `LocalManagedPolicy`, `AWSManagedPolicy`) narrows it; the
//! AWS-managed policies listed are the ones attached to something or used as a boundary, as IAM
//! lists them. One page: the account's entities are few here (`IsTruncated` is false).

use crate::identity::file::InlinePolicy;
use seedbed_dynamo::sts::escape;

use crate::identity::{managed, IamFile};

use super::managed_policies::{policy_xml, version_xml, PolicyShape};
use super::ops::{Caller, Params};
use super::render::{self, element, members, truncation};
use super::IamError;

const FILTERS: [&str; 5] = [
    "User",
    "Group",
    "Role",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// GetAccountAuthorizationDetails.
pub(super) fn details(f: &IamFile, c: &Caller, p: &Params) -> Result<String, IamError> {
    let filter = p.list("Filter");
    if let Some(bad) = filter.iter().find(|x| !FILTERS.contains(&x.as_str())) {
        return Err(IamError::validation(format!(
            "Filter `{bad}` is not one of {}",
            FILTERS.join(", ")
        )));
    }
    // Every list is answered, empty when the filter leaves it out.
    let wants = |what: &str| filter.is_empty() || filter.iter().any(|x| x == what);
    let mine = |a: &str| a == c.account;
    let users = f
        .users
        .iter()
        .filter(|u| wants("User") && mine(&u.account))
        .map(|u| {
            render::user(u, render::Shape::Full)
                + &inline("UserPolicyList", &u.policies)
                + &members("GroupList", u.groups.iter().map(|g| escape(g)))
                + &attached(&u.managed)
        });
    let groups = f
        .groups
        .iter()
        .filter(|g| wants("Group") && mine(&g.account))
        .map(|g| {
            render::group(g) + &inline("GroupPolicyList", &g.policies) + &attached(&g.managed)
        });
    let roles = f
        .roles
        .iter()
        .filter(|r| wants("Role") && mine(&r.account))
        .map(|r| {
            render::role(r, render::Shape::Full)
                + &render::role_last_used(r)
                + "<InstanceProfileList/>"
                + &inline("RolePolicyList", &r.policies)
                + &attached(&r.managed)
        });
    let mut out = members("UserDetailList", users)
        + &members("GroupDetailList", groups)
        + &members("RoleDetailList", roles);
    let mut policies = Vec::new();
    if wants("LocalManagedPolicy") {
        for m in f.managed_policies.iter().filter(|m| mine(&m.account)) {
            let arn = m.arn();
            let versions = m.versions.iter().map(|v| {
                version_xml(
                    &v.id,
                    v.document.text(),
                    v.id == m.default_version,
                    v.created.as_deref(),
                )
            });
            policies.push(
                policy_xml(f, &arn, Some(m), PolicyShape::Listed)
                    + &members("PolicyVersionList", versions),
            );
        }
    }
    if wants("AWSManagedPolicy") {
        for arn in aws_policies_in_use(f, c) {
            let Some(doc) = managed::document(&arn) else {
                continue;
            };
            let version = version_xml("v1", &doc.to_string(), true, None);
            policies.push(
                policy_xml(f, &arn, None, PolicyShape::Listed)
                    + &members("PolicyVersionList", [version]),
            );
        }
    }
    out += &members("Policies", policies);
    Ok(out + &truncation(&None))
}

/// Inline policies as `<NAME><member><PolicyName/><PolicyDocument/></member>…</NAME>`.
fn inline(name: &str, policies: &[InlinePolicy]) -> String {
    members(
        name,
        policies.iter().enumerate().map(|(i, p)| {
            let policy_name = p
                .name
                .clone()
                .unwrap_or_else(|| format!("policy-{}", i + 1));
            element("PolicyName", &policy_name)
                + &element("PolicyDocument", &render::policy_text(p.document.text()))
        }),
    )
}

/// Attached managed policies, by name and ARN.
fn attached(arns: &[String]) -> String {
    members(
        "AttachedManagedPolicies",
        arns.iter()
            .map(|a| element("PolicyName", managed::name(a)) + &element("PolicyArn", a)),
    )
}

/// The AWS-managed policies the account's users, groups and roles attach or use as boundary,
/// in ARN order.
fn aws_policies_in_use(f: &IamFile, c: &Caller) -> Vec<String> {
    let mut arns: Vec<String> = f
        .users
        .iter()
        .filter(|u| u.account == c.account)
        .flat_map(|u| u.managed.iter().chain(u.permissions_boundary.iter()))
        .chain(
            f.groups
                .iter()
                .filter(|g| g.account == c.account)
                .flat_map(|g| g.managed.iter()),
        )
        .chain(
            f.roles
                .iter()
                .filter(|r| r.account == c.account)
                .flat_map(|r| r.managed.iter().chain(r.permissions_boundary.iter())),
        )
        .filter(|a| a.starts_with(managed::AWS_MANAGED))
        .cloned()
        .collect();
    arns.sort();
    arns.dedup();
    arns
}
