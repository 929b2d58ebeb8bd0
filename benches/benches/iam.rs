//! IAM evaluation latency: policy sets of 1, 10 and 100 statements with conditions, decided
//! for one request. The goal is a median of at most 1 µs for 10 statements.
//!
//! With `--features cedar`, the same authorization is also run through the `cedar-policy`
//! crate on an equivalent Cedar policy set (one `permit` per IAM statement, with the same
//! resource pattern, tag equality and IP-range test), so the two engines can be compared on
//! this machine:
//!
//! ```text
//! cargo bench -p seedbed-benches --bench iam                    # seedbed only
//! cargo bench -p seedbed-benches --bench iam --features cedar   # plus cedar-policy
//! ```
//!
//! Shape of the policy set (N statements): N-1 non-matching Allow statements — the even ones
//! match the resource and fail on the team tag, the odd ones fail on the resource — and one
//! matching Allow last, so every statement is examined before the answer is known.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use seedbed_engine::iam::{
    decide, explain, parse_input, sample, Decision, PolicySet, RequestContext,
};
#[cfg(feature = "cedar")]
use serde_json::json;

const SIZES: [usize; 3] = [1, 10, 100];

fn prepared(n: usize) -> (PolicySet, RequestContext) {
    let (set, ctx) = parse_input(&sample::policy_set_input(n)).expect("bench input is valid");
    assert_eq!(
        decide(&set, &ctx).0,
        Decision::Allow,
        "the last statement matches"
    );
    (set, ctx)
}

fn bench_seedbed(c: &mut Criterion) {
    let mut g = c.benchmark_group("iam/decide");
    for n in SIZES {
        let (set, ctx) = prepared(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| decide(black_box(&set), black_box(&ctx)))
        });
    }
    g.finish();

    // Including building the request context (lowercasing the action, sorting the keys).
    let mut g = c.benchmark_group("iam/context_and_decide");
    let (set, _) = prepared(10);
    g.bench_function("10", |b| {
        b.iter(|| {
            let mut ctx = RequestContext::new(
                black_box("arn:aws:iam::111122223333:user/alice"),
                "s3:GetObject",
                "arn:aws:s3:::bucket-target/photos/cat.jpg",
            )
            .expect("valid");
            ctx.set("aws:PrincipalTag/team", "ops");
            ctx.set("aws:SourceIp", "203.0.113.5");
            decide(&set, &ctx)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("iam/explain");
    let (set, ctx) = prepared(10);
    g.bench_function("10", |b| {
        b.iter(|| explain(black_box(&set), black_box(&ctx)))
    });
    g.finish();
}

#[cfg(feature = "cedar")]
mod cedar {
    use super::*;
    use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, Request};

    /// The Cedar policy equivalent to IAM statement `i` of `n`.
    fn permit(i: usize, n: usize) -> String {
        let (pattern, team, range) = if i + 1 == n {
            (
                "arn:aws:s3:::bucket-*/*".to_string(),
                "ops".to_string(),
                "203.0.113.0/24".to_string(),
            )
        } else {
            let pattern = if i % 2 == 0 {
                "arn:aws:s3:::bucket-*/*".to_string()
            } else {
                format!("arn:aws:s3:::other-{i}/*")
            };
            (
                pattern,
                format!("team-{i}"),
                format!("10.{}.0.0/16", i % 256),
            )
        };
        format!(
            r#"permit(principal, action in [Action::"s3:GetObject", Action::"s3:PutObject"], resource)
               when {{ context.resource like "{pattern}" && context.team == "{team}" && context.sourceIp.isInRange(ip("{range}")) }};"#
        )
    }

    pub fn bench(c: &mut Criterion) {
        let authorizer = Authorizer::new();
        let entities = Entities::empty();
        let principal: EntityUid = r#"User::"alice""#.parse().expect("uid");
        let action: EntityUid = r#"Action::"s3:GetObject""#.parse().expect("uid");
        let resource: EntityUid = r#"Object::"bucket-target/photos/cat.jpg""#.parse().expect("uid");
        let context = Context::from_json_value(
            json!({
                "resource": "arn:aws:s3:::bucket-target/photos/cat.jpg",
                "team": "ops",
                "sourceIp": {"__extn": {"fn": "ip", "arg": "203.0.113.5"}}
            }),
            None,
        )
        .expect("context");
        let request = Request::new(principal, action, resource, context, None).expect("request");
        let mut g = c.benchmark_group("cedar/is_authorized");
        for n in SIZES {
            let src: String = (0..n).map(|i| permit(i, n)).collect::<Vec<_>>().join("\n");
            let policies: PolicySet = src.parse().expect("cedar policies parse");
            let answer = authorizer.is_authorized(&request, &policies, &entities);
            assert_eq!(
                answer.decision(),
                cedar_policy::Decision::Allow,
                "{:?}",
                answer.diagnostics()
            );
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    authorizer.is_authorized(black_box(&request), black_box(&policies), &entities)
                })
            });
        }
        g.finish();
    }
}

#[cfg(feature = "cedar")]
fn bench_cedar(c: &mut Criterion) {
    cedar::bench(c)
}

#[cfg(not(feature = "cedar"))]
fn bench_cedar(_: &mut Criterion) {}

criterion_group!(benches, bench_seedbed, bench_cedar);
criterion_main!(benches);
