//! The protocol's cost on one store: GETs of the same objects (or PUTs of the same bodies), at
//! the same concurrency, once through the engine in-process (threads calling `open_object` +
//! `read_to`, or `put_object`) and once over HTTP (a server in this process on a loopback port,
//! `concurrency` keep-alive clients signing with SigV4). The rounds alternate (in-process,
//! HTTP, in-process, ...) so a noisy neighbour hurts both sides alike; the ratio of the medians
//! is the figure. PUTs overwrite a few keys per writer, so the store stays small; both sides
//! sync every PUT (the server's default) and pay for the overwritten blob's removal alike.
//!
//! What the ratio covers: HTTP/1.1 framing and loopback TCP, s3s's routing and SigV4 check,
//! the IAM decision per request, the async/blocking hand-off, and the copies between the
//! engine's buffers and the socket. The access log is off in this process (no subscriber), as
//! the in-process side logs nothing either.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seedbed_engine::iam::authorizer::Principal;
use seedbed_engine::object::{GetOptions, ObjectStore, PutOptions, Requester};
use serde::Serialize;

use super::client::{Client, Endpoint};
use super::workload::{payload, Op};

/// Keys each PUT writer cycles through (overwrites keep the store's size bounded).
const PUT_KEYS_PER_WRITER: u64 = 4;

/// One operation, size and concurrency, both ways.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRecord {
    /// Always `s3-vs-inprocess`.
    pub bench: &'static str,
    /// `get` or `put`.
    pub op: &'static str,
    /// Object size.
    pub object_bytes: u64,
    /// Concurrent clients (readers or writers).
    pub concurrency: usize,
    /// Operations per second in-process, per round.
    pub inprocess_ops_s: Vec<f64>,
    /// Operations per second over HTTP, per round.
    pub http_ops_s: Vec<f64>,
    /// Median in-process operations/s.
    pub inprocess_median: f64,
    /// Median HTTP operations/s.
    pub http_median: f64,
    /// HTTP / in-process (1.0 = the protocol costs nothing).
    pub ratio: f64,
    /// Median in-process MiB/s.
    pub inprocess_mib_s: f64,
    /// Median HTTP MiB/s.
    pub http_mib_s: f64,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

/// GETs/s of `threads` threads reading random objects in-process for `dur`.
fn inprocess(
    store: &Arc<ObjectStore>,
    guard: &Arc<seedbed_engine::object::Guard>,
    principal: &Principal,
    keys: &[String],
    threads: usize,
    dur: Duration,
) -> f64 {
    let deadline = Instant::now() + dur;
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut n = 0u64;
                    let mut x = 0x9E37_79B9u64 ^ (t as u64 + 1);
                    while Instant::now() < deadline {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let k = &keys[(x % keys.len() as u64) as usize];
                        // As the server does: authorized, then streamed.
                        let a = guard.on(
                            store,
                            Requester {
                                principal,
                                context: &[],
                            },
                        );
                        let r = a
                            .open_object("bench", k, &GetOptions::default())
                            .expect("the object was written");
                        r.read_to(&mut std::io::sink()).expect("the object reads");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread"))
            .sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// PUTs/s of `threads` threads writing `body` in-process for `dur` (each to its own few keys).
fn inprocess_put(
    store: &Arc<ObjectStore>,
    guard: &Arc<seedbed_engine::object::Guard>,
    principal: &Principal,
    body: &[u8],
    threads: usize,
    dur: Duration,
) -> Result<f64, seedbed_engine::object::ObjectError> {
    let deadline = Instant::now() + dur;
    let start = Instant::now();
    let size = body.len() as u64;
    let counts: Vec<Result<u64, _>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        let key = format!("put-{size}/i{t}-{}", n % PUT_KEYS_PER_WRITER);
                        // As the server does: authorized, then streamed in.
                        let a = guard.on(
                            store,
                            Requester {
                                principal,
                                context: &[],
                            },
                        );
                        a.put_object("bench", &key, &mut &body[..], size, &PutOptions::default())?;
                        n += 1;
                    }
                    Ok::<u64, seedbed_engine::object::ObjectError>(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .collect()
    });
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// PUTs/s of `conc` HTTP clients writing `body` for `dur` (each to its own few keys).
async fn put_over_http(
    ep: &Endpoint,
    body: &bytes::Bytes,
    conc: usize,
    dur: Duration,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + dur;
    let start = Instant::now();
    let size = body.len();
    let mut tasks = Vec::new();
    for c in 0..conc {
        let (ep, body) = (ep.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut cl = Client::new(ep);
            let mut n = 0u64;
            while Instant::now() < deadline {
                let key = format!("put-{size}/h{c}-{}", n % PUT_KEYS_PER_WRITER);
                let r = cl.put("bench", &key, body.clone()).await?;
                anyhow::ensure!(r.status.is_success(), "PUT {key}: HTTP {}", r.status);
                n += 1;
            }
            Ok::<u64, anyhow::Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// GETs/s of `conc` HTTP clients for `dur`.
async fn over_http(
    ep: &Endpoint,
    keys: &Arc<Vec<String>>,
    conc: usize,
    dur: Duration,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + dur;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conc {
        let (ep, keys) = (ep.clone(), keys.clone());
        tasks.push(tokio::spawn(async move {
            let mut cl = Client::new(ep);
            let mut n = 0u64;
            let mut x = 0x85EB_CA6Bu64 ^ (c as u64 + 1);
            while Instant::now() < deadline {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = &keys[(x % keys.len() as u64) as usize];
                let r = cl.get("bench", k).await?;
                anyhow::ensure!(r.status.is_success(), "GET {k}: HTTP {}", r.status);
                n += 1;
            }
            Ok::<u64, anyhow::Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Run the comparison in a fresh store under `dir` for each (size, concurrency) and each of
/// `ops` (get, put): `objects` objects per size for the GETs (bounded to 1 GiB), `rounds`
/// alternating rounds of `dur` each.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    dir: &Path,
    direct_reads: bool,
    cases: &[(u64, usize)],
    ops: &[Op],
    objects: usize,
    rounds: usize,
    dur: Duration,
    mut each: impl FnMut(&CompareRecord),
) -> anyhow::Result<Vec<CompareRecord>> {
    let (server, ep) = super::start_in_process(dir, direct_reads).await?;
    let mut admin = Client::new(ep.clone());
    admin.create_bucket("bench").await?;
    let principal = server
        .identity
        .credential(&ep.access_key)
        .expect("the bootstrap key")
        .principal;
    let guard = server.identity.guard().clone();
    let store = server.store.clone();
    let mut out = Vec::new();
    let mut sizes: Vec<u64> = cases.iter().map(|c| c.0).collect();
    sizes.dedup();
    for op in ops {
        anyhow::ensure!(
            matches!(op, Op::Get | Op::Put),
            "--compare measures get and put, not {}",
            op.name()
        );
    }
    let gets = ops.contains(&Op::Get);
    for size in sizes {
        let n = objects.min(((1u64 << 30) / size.max(1)) as usize).max(1);
        let body = payload(size);
        let keys: Vec<String> = (0..n).map(|i| format!("cmp-{size}/{i:06}")).collect();
        if gets {
            let (store, keys, body) = (store.clone(), keys.clone(), body.clone());
            tokio::task::spawn_blocking(move || {
                for k in &keys {
                    store
                        .put_object("bench", k, &mut &body[..], size, &PutOptions::default())
                        .map(|_| ())?;
                }
                Ok::<(), seedbed_engine::object::ObjectError>(())
            })
            .await??;
        }
        let keys = Arc::new(keys);
        for (&(s, conc), &op) in cases
            .iter()
            .filter(|c| c.0 == size)
            .flat_map(|c| ops.iter().map(move |o| (c, o)))
        {
            let mut ip = Vec::new();
            let mut hp = Vec::new();
            for _ in 0..rounds {
                let (st, g, p, k, b) = (
                    store.clone(),
                    guard.clone(),
                    principal.clone(),
                    keys.clone(),
                    body.clone(),
                );
                if op == Op::Put {
                    ip.push(
                        tokio::task::spawn_blocking(move || {
                            inprocess_put(&st, &g, &p, &b, conc, dur)
                        })
                        .await??,
                    );
                    hp.push(put_over_http(&ep, &body, conc, dur).await?);
                } else {
                    ip.push(
                        tokio::task::spawn_blocking(move || inprocess(&st, &g, &p, &k, conc, dur))
                            .await?,
                    );
                    hp.push(over_http(&ep, &keys, conc, dur).await?);
                }
            }
            let (im, hm) = (median(&ip), median(&hp));
            let mib = |ops: f64| ops * s as f64 / (1024.0 * 1024.0);
            let r = CompareRecord {
                bench: "s3-vs-inprocess",
                op: op.name(),
                object_bytes: s,
                concurrency: conc,
                inprocess_ops_s: ip,
                http_ops_s: hp,
                inprocess_median: im,
                http_median: hm,
                ratio: hm / im,
                inprocess_mib_s: mib(im),
                http_mib_s: mib(hm),
            };
            each(&r);
            out.push(r);
        }
    }
    server.stop().await;
    Ok(out)
}
