//! Evaluation allocates nothing on the common path (no policy variables): the claim behind the
//! latency numbers, checked with a counting global allocator.
//!
//! The allocator is the whole test binary's (`tests/it`), and the other tests allocate on their
//! own threads while this one runs, so it counts per thread: only what this test's thread
//! allocates between the two readings.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use seedbed_engine::iam::{decide, parse_input, Decision};
use serde_json::json;

struct Counting;

thread_local! {
    // A const-initialised `Cell` without a destructor: reading or bumping it never allocates
    // and never registers anything, so the allocator may use it.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call goes to the system allocator unchanged; counting has no other effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn decide_allocates_nothing_without_policy_variables() {
    let input = json!({
        "policies": {
            "identity": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::bucket-*/*",
                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ops"},
                               "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                               "ForAllValues:StringLike": {"aws:TagKeys": ["env*", "team"]},
                               "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                               "NumericLessThanEquals": {"s3:max-keys": "100"},
                               "Bool": {"aws:SecureTransport": "true"}}},
                {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}}
            ]}],
            "resource": [{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket-a/*"}
            ]}],
            "boundary": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}],
            "scp": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
        },
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket-a/photos/cat.jpg",
            "context": {"aws:PrincipalTag/team": "ops", "aws:SourceIp": "203.0.113.5", "aws:TagKeys": ["env-x", "team"],
                        "aws:CurrentTime": "2026-01-01T00:00:00Z", "s3:max-keys": "10", "aws:SecureTransport": "true"}
        }
    });
    let (set, ctx) = parse_input(&input).expect("valid");
    assert_eq!(decide(&set, &ctx).0, Decision::Allow);
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..100 {
        assert_eq!(decide(&set, &ctx).0, Decision::Allow);
    }
    let after = ALLOCATIONS.with(Cell::get);
    assert_eq!(
        after - before,
        0,
        "decide allocated {} times in 100 calls",
        after - before
    );
}
