//! # IAM: AWS policy documents, matching, conditions, evaluation and explanation
//!
//! The object store and the table API ask one question of this module: *may this principal
//! perform this action on this resource, in this context?* The answer follows AWS's documented
//! evaluation logic exactly, and can explain itself.
//!
//! Reading order, one concept per file; each file uses only those above it:
//! - [`glob`] — the `*` / `?` matcher every pattern uses;
//! - [`arn`] — ARNs split into their six segments;
//! - [`caller`] — the calling principal and its identity chain (account → user/role → session);
//! - [`context`] — the request context: action, resource, context keys;
//! - [`template`] — policy variables (`${aws:username}`, `${key, 'default'}`, `${*}`), resolved
//!   from the context;
//! - [`arn_pattern`] — a policy's ARN patterns, matched segment by segment;
//! - [`principal`] — the `Principal` / `NotPrincipal` element;
//! - [`condition`] — operators, qualifiers, missing-key rules;
//! - [`policy`] — parsing and compiling a policy document;
//! - [`evaluate`] — the evaluation flow (deny → SCP → resource → identity → boundary → session);
//! - [`mod@explain`] — why a decision came out the way it did;
//! - [`input`] — the JSON input of `seedbed iam eval`;
//! - [`authorizer`] — users, groups, roles, trust policies, AssumeRole sessions, and the
//!   [`authorizer::Authorizer`] API that storage services call;
//! - [`actions`] — the S3 and DynamoDB action names and condition keys services set.

pub mod actions;
pub mod arn;
pub mod arn_pattern;
pub mod authorizer;
pub mod caller;
pub mod condition;
pub mod context;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod glob;
pub mod input;
pub mod policy;
pub mod principal;
pub mod sample;
pub mod template;

pub use context::RequestContext;
pub use error::{PolicyError, PolicyErrorKind};
pub use evaluate::{decide, Decision, PolicySet, Reason, StatementRef};
pub use explain::{explain, Explanation};
pub use input::parse_input;
pub use policy::{Effect, Policy, PolicyKind};
