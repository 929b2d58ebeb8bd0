//! The S3 endpoint in-process, driven by the crate's own SigV4 client: what the signer signs,
//! s3s verifies; PUT and GET stream whole objects; IAM decides anonymous and unknown callers.

// Tests unwrap: a failure here is the test failing (the workspace denies `unwrap_used`
// in library and binary code only).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use seedbed_server::bench::{self, client::Client};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// PUT `len` bytes at `bucket/key`, GET them back, and check every byte.
async fn put_then_get(c: &mut Client, bucket: &str, key: &str, len: u64) {
    let body = bench::workload::payload(len);
    let put = c.put(bucket, key, body.clone()).await.unwrap();
    assert!(
        put.status.is_success(),
        "PUT {bucket}/{key}: {}",
        put.status
    );
    let path = format!("/{bucket}/{key}");
    let g = c
        .send(Method::GET, &path, &[], &[], Bytes::new(), true)
        .await
        .unwrap();
    assert_eq!(g.body.unwrap(), body, "GET {path}");
}

#[test]
fn signed_round_trips_and_refusals() {
    let dir = tempfile::Builder::new()
        .prefix("endpoint-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    runtime().block_on(async {
        let (server, ep) = bench::start_in_process(dir.path(), true).await.unwrap();
        let mut c = Client::new(ep.clone());
        c.create_bucket("itest").await.unwrap();
        // Keys that need encoding in the path and in the signature.
        for key in ["a/b c+d", "ünïcode/✓", "x%y", "../up"] {
            let body = Bytes::from(format!("body of {key}").repeat(1000));
            let r = c.put("itest", key, body.clone()).await.unwrap();
            assert!(r.status.is_success(), "{key}: {}", r.status);
            let g = c
                .send(
                    Method::GET,
                    &format!("/itest/{key}"),
                    &[],
                    &[],
                    Bytes::new(),
                    true,
                )
                .await
                .unwrap();
            assert_eq!(g.body.unwrap(), body, "{key}");
        }
        // 3 MiB spans several stripes: streamed in and out whole.
        put_then_get(&mut c, "itest", "big", 3 << 20).await;
        let l = c.list("itest", "", None).await.unwrap();
        let xml = String::from_utf8(l.body.unwrap().to_vec()).unwrap();
        assert!(xml.contains("<KeyCount>5</KeyCount>"), "{xml}");
        // An unknown key and a wrong secret are refused with S3's codes.
        let mut stranger = Client::new(bench::client::Endpoint {
            access_key: "AKIANOTAKEY000000000".into(),
            ..ep.clone()
        });
        let r = stranger.list("itest", "", None).await.unwrap();
        assert_eq!(r.status, 403);
        assert!(String::from_utf8_lossy(&r.body.unwrap()).contains("InvalidAccessKeyId"));
        let mut forger = Client::new(bench::client::Endpoint {
            secret: "wrong".into(),
            ..ep.clone()
        });
        let r = forger.list("itest", "", None).await.unwrap();
        assert!(String::from_utf8_lossy(&r.body.unwrap()).contains("SignatureDoesNotMatch"));
        // Unsigned: allowed through to IAM, which has no policy letting anonymous callers in.
        let s = tokio::net::TcpStream::connect(server.s3_addr)
            .await
            .unwrap();
        let (mut tx, conn) =
            hyper::client::conn::http1::handshake::<_, http_body_util::Full<Bytes>>(
                hyper_util::rt::TokioIo::new(s),
            )
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get("/itest/big")
            .header("host", ep.host.as_str())
            .body(http_body_util::Full::new(Bytes::new()))
            .unwrap();
        let r = tx.send_request(req).await.unwrap();
        assert_eq!(r.status(), 403);
        tokio::time::timeout(Duration::from_secs(40), server.stop())
            .await
            .expect("the server stops");
    });
}

/// `--cached-reads` (`ServeConfig::direct_reads = false`) reaches the store, and objects read
/// through the page cache come back byte for byte, as with O_DIRECT.
#[test]
fn cached_reads_serve_the_same_bytes() {
    let dir = tempfile::Builder::new()
        .prefix("endpoint-cached-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    runtime().block_on(async {
        let (server, ep) = bench::start_in_process(dir.path(), false).await.unwrap();
        assert!(
            !server.store.blobs().direct_reads(),
            "the server was asked to read through the page cache"
        );
        let mut c = Client::new(ep.clone());
        c.create_bucket("cached").await.unwrap();
        // Several stripes, and a size that is not a multiple of the shard size.
        put_then_get(&mut c, "cached", "obj", (5 << 20) + 12_345).await;
        tokio::time::timeout(Duration::from_secs(40), server.stop())
            .await
            .expect("the server stops");
    });
}

/// A store at its space reserve (`--space-reserve`; here one larger than any disk, so that
/// every file system is "full" without filling one) refuses what would add to it — a PUT, a
/// new bucket — with 507 InsufficientStorage naming the reserve, and still serves reads and
/// takes deletes, which are how space comes back.
#[test]
fn a_store_past_its_space_reserve_refuses_additions_and_takes_deletes() {
    let dir = tempfile::Builder::new()
        .prefix("endpoint-reserve-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    runtime().block_on(async {
        let (server, ep) = bench::start_in_process(dir.path(), true).await.unwrap();
        let mut c = Client::new(ep);
        c.create_bucket("full").await.unwrap();
        for key in ["a", "b"] {
            put_then_get(&mut c, "full", key, 5000).await;
        }
        tokio::time::timeout(Duration::from_secs(40), server.stop())
            .await
            .expect("the server stops");

        let (server, ep) = bench::start_in_process_with(dir.path(), |config| {
            config.space_reserve = seedbed_engine::object::SpaceReserve::Bytes(1 << 60);
        })
        .await
        .unwrap();
        let mut c = Client::new(ep);
        let refused = |r: bench::client::Reply, what: &str| {
            let body = String::from_utf8_lossy(r.body.as_deref().unwrap_or_default()).to_string();
            assert_eq!(r.status, 507, "{what}: {body}");
            assert!(
                body.contains("<Code>InsufficientStorage</Code>") && body.contains("space reserve"),
                "{what}: {body}"
            );
        };
        let body = bench::workload::payload(5000);
        let r = c
            .send(Method::PUT, "/full/c", &[], &[], body, true)
            .await
            .unwrap();
        refused(r, "PUT");
        let r = c
            .send(Method::PUT, "/another", &[], &[], Bytes::new(), true)
            .await
            .unwrap();
        refused(r, "CreateBucket");
        let g = c.get("full", "a").await.unwrap();
        assert_eq!((g.status.as_u16(), g.bytes), (200, 5000), "GET");
        let d = c.delete("full", "a").await.unwrap();
        assert_eq!(d.status, 204, "DELETE");
        assert_eq!(c.get("full", "a").await.unwrap().status, 404);
        assert_eq!(c.get("full", "b").await.unwrap().status, 200);
        tokio::time::timeout(Duration::from_secs(40), server.stop())
            .await
            .expect("the server stops");
    });
}
