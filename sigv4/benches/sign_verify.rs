//! Criterion micro-benchmarks for AWS Signature V4 (`seedbed-sigv4`), which the DynamoDB
//! endpoint runs on every request and the load generators on every request they send: signing
//! a GetItem the way `seedbed bench dynamodb` does, verifying it the way the endpoint does
//! (the signing key cached, as it is after a thread's first request of the day), deriving a
//! signing key (what an uncached request pays on top), and the canonical request alone.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use seedbed_sigv4::verify::{Payload, Request};
use seedbed_sigv4::{sha256_hex, signing_key, verify, CanonicalInput, Signer};

const NOW: i64 = 1_764_000_000;
const BODY: &[u8] =
    br#"{"TableName":"usertable","Key":{"pk":{"S":"user42"},"sk":{"N":"17"}},"ConsistentRead":false}"#;

fn headers() -> Vec<(String, String)> {
    vec![
        ("host".to_string(), "127.0.0.1:8000".to_string()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "DynamoDB_20120810.GetItem".to_string(),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let signer = Signer::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "us-east-1",
        "dynamodb",
    );
    let base = headers();
    c.bench_function("sigv4/sign GetItem", |b| {
        b.iter(|| black_box(signer.sign("POST", "/", &base, black_box(BODY), NOW)))
    });

    let (date, auth) = signer.sign("POST", "/", &base, BODY, NOW);
    let mut sent = base.clone();
    sent.push(("x-amz-date".into(), date.clone()));
    sent.push(("authorization".into(), auth));
    sent.push((
        "user-agent".into(),
        "Boto3/1.36.0 md/Botocore#1.36.0".into(),
    ));
    sent.push(("content-length".into(), BODY.len().to_string()));
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &sent,
        payload: Payload::Body(BODY),
    };
    let secret = |_: &str| Some(signer.secret.clone());
    assert!(verify(&req, "dynamodb", NOW, secret).is_ok());
    c.bench_function("sigv4/verify GetItem", |b| {
        b.iter(|| black_box(verify(black_box(&req), "dynamodb", NOW, secret)))
    });
    c.bench_function(
        "sigv4/signing key (4 HMACs, paid once a day per key)",
        |b| {
            b.iter(|| {
                black_box(signing_key(
                    &signer.secret,
                    "20251124",
                    "us-east-1",
                    "dynamodb",
                ))
            })
        },
    );

    let hash = sha256_hex(BODY);
    let mut signed = base.clone();
    signed.push(("x-amz-date".into(), date));
    let input = CanonicalInput {
        method: "POST",
        path: "/",
        query: &[],
        headers: &signed,
        payload_hash: &hash,
    };
    c.bench_function("sigv4/canonical request", |b| {
        b.iter(|| black_box(black_box(&input).canonical_request()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
