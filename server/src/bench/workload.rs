//! The load generator, in the spirit of MinIO's warp: for each operation, object size and
//! concurrency, `concurrency` clients (one keep-alive connection each) issue requests back to
//! back for a fixed time; every request's latency (and a GET's time to first byte) is kept, and
//! the cell reports objects/s, MiB/s, p50/p90/p99/p99.9 and errors.
//!
//! | op | what each request does |
//! |---|---|
//! | `put` | PUT an object of the size (overwriting one of the client's few keys, so a long run does not fill the disk) |
//! | `get` | GET a random object of a prepared set |
//! | `mixed` | warp's mix: 45 % GET, 30 % HEAD, 15 % PUT, 10 % DELETE, over the client's own keys |
//! | `list` | ListObjectsV2 of a prepared set of small objects, 1000 keys a page |

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use serde::Serialize;

use super::client::{Client, Endpoint};

/// One operation of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// PUTs.
    Put,
    /// GETs.
    Get,
    /// GET/HEAD/PUT/DELETE mix.
    Mixed,
    /// Listings.
    List,
}

impl Op {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Mixed => "mixed",
            Op::List => "list",
        }
    }

    /// Parse a name.
    pub fn parse(s: &str) -> anyhow::Result<Op> {
        Ok(match s {
            "put" => Op::Put,
            "get" => Op::Get,
            "mixed" => Op::Mixed,
            "list" => Op::List,
            _ => bail!("operation '{s}' is not put, get, mixed or list"),
        })
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The endpoint and credentials.
    pub endpoint: Endpoint,
    /// The bucket (created if missing).
    pub bucket: String,
    /// Operations.
    pub ops: Vec<Op>,
    /// Object sizes.
    pub sizes: Vec<u64>,
    /// Client counts.
    pub concurrency: Vec<usize>,
    /// How long each cell runs.
    pub duration: Duration,
    /// Objects prepared for GETs and the mix (per size, bounded by `budget_bytes`).
    pub objects: usize,
    /// Objects prepared for listings.
    pub list_objects: usize,
    /// Most bytes a cell keeps in the store at once.
    pub budget_bytes: u64,
}

/// Latency percentiles, milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th.
    pub p90: f64,
    /// 99th.
    pub p99: f64,
    /// 99.9th.
    pub p999: f64,
    /// Mean.
    pub mean: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// From samples in microseconds.
    pub fn of(us: &mut [u32]) -> Percentiles {
        if us.is_empty() {
            return Percentiles::default();
        }
        us.sort_unstable();
        let at = |q: f64| {
            let i = ((us.len() as f64 * q).ceil() as usize).clamp(1, us.len()) - 1;
            f64::from(us[i]) / 1000.0
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            mean: us.iter().map(|x| f64::from(*x)).sum::<f64>() / us.len() as f64 / 1000.0,
            max: f64::from(*us.last().expect("non-empty")) / 1000.0,
        }
    }
}

/// One measured cell (a JSON line of `--json`, drawn by `seedbed report`).
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// Always `s3`: which benchmark wrote the record.
    pub bench: &'static str,
    /// `put`, `get`, `mixed` or `list`.
    pub op: String,
    /// Object size (0 for listings).
    pub object_bytes: u64,
    /// Clients.
    pub concurrency: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Requests completed (successful or not).
    pub requests: u64,
    /// Requests that failed (transport error or non-2xx).
    pub errors: u64,
    /// Successful requests per second.
    pub ops_per_s: f64,
    /// Object bytes moved per second, MiB (GET + PUT bytes).
    pub mib_per_s: f64,
    /// Request latency.
    pub latency_ms: Percentiles,
    /// GET time to first byte (headers received), when the cell GETs.
    pub ttfb_ms: Option<Percentiles>,
    /// The first error seen, for the reader.
    pub first_error: Option<String>,
}

/// A small deterministic generator for key choice (no OS randomness in a measurement).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Incompressible-looking object bytes of a size (generated once per size).
pub fn payload(size: u64) -> Bytes {
    let mut g = XorShift(0x9E37_79B9_7F4A_7C15 ^ size);
    let mut v = Vec::with_capacity(size as usize);
    while (v.len() as u64) < size {
        v.extend_from_slice(&g.next().to_le_bytes());
    }
    v.truncate(size as usize);
    Bytes::from(v)
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    lat_us: Vec<u32>,
    ttfb_us: Vec<u32>,
    ok: u64,
    errors: u64,
    bytes: u64,
    first_error: Option<String>,
}

impl Tally {
    fn note(&mut self, r: anyhow::Result<super::client::Reply>, what: &str) -> bool {
        match r {
            Ok(reply) if reply.status.is_success() => {
                self.ok += 1;
                self.lat_us
                    .push(reply.total.as_micros().min(u128::from(u32::MAX)) as u32);
                if what == "GET" {
                    self.ttfb_us
                        .push(reply.ttfb.as_micros().min(u128::from(u32::MAX)) as u32);
                    self.bytes += reply.bytes;
                }
                true
            }
            Ok(reply) => {
                self.errors += 1;
                self.lat_us
                    .push(reply.total.as_micros().min(u128::from(u32::MAX)) as u32);
                self.first_error
                    .get_or_insert_with(|| format!("{what}: HTTP {}", reply.status));
                false
            }
            Err(e) => {
                self.errors += 1;
                self.first_error
                    .get_or_insert_with(|| format!("{what}: {e:#}"));
                false
            }
        }
    }
}

fn key(prefix: &str, i: usize) -> String {
    format!("{prefix}/{i:08}")
}

/// PUT `n` objects named `prefix/00000000..` with `clients` connections.
async fn prepare(
    ep: &Endpoint,
    bucket: &str,
    prefix: &str,
    n: usize,
    body: Bytes,
    clients: usize,
) -> anyhow::Result<()> {
    let clients = clients.clamp(1, 16).min(n.max(1));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (ep, bucket, prefix, body) = (
            ep.clone(),
            bucket.to_string(),
            prefix.to_string(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut cl = Client::new(ep);
            for i in (c..n).step_by(clients) {
                let r = cl.put(&bucket, &key(&prefix, i), body.clone()).await?;
                if !r.status.is_success() {
                    bail!("preparing {prefix}: PUT answered HTTP {}", r.status);
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await.context("a preparing client failed")??;
    }
    Ok(())
}

/// Run one cell.
async fn cell(
    cfg: &Config,
    op: Op,
    size: u64,
    conc: usize,
    body: Bytes,
    prepared: usize,
) -> anyhow::Result<Record> {
    let deadline = Instant::now() + cfg.duration;
    let start = Instant::now();
    let mut tasks = Vec::new();
    // Keys each client may overwrite: a few, bounded by the byte budget.
    let own_keys = ((cfg.budget_bytes / size.max(1)) as usize / conc.max(1)).clamp(1, 8);
    for w in 0..conc {
        let (ep, bucket, body) = (cfg.endpoint.clone(), cfg.bucket.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut cl = Client::new(ep);
            let mut t = Tally::default();
            let mut rng = XorShift(0x2545_F491_4F6C_DD1D ^ ((w as u64 + 1) << 32) ^ size);
            let mut n = 0usize;
            // The mix works on this client's own share of the prepared keys.
            let mine: Vec<usize> = (w..prepared).step_by(conc).collect();
            let mut present = vec![true; mine.len()];
            while Instant::now() < deadline {
                match op {
                    Op::Put => {
                        let k = key(&format!("put-{size}/{w}"), n % own_keys);
                        let r = cl.put(&bucket, &k, body.clone()).await;
                        if t.note(r, "PUT") {
                            t.bytes += size;
                        }
                    }
                    Op::Get => {
                        let k = key(&format!("obj-{size}"), rng.below(prepared));
                        let r = cl.get(&bucket, &k).await;
                        t.note(r, "GET");
                    }
                    Op::List => {
                        let r = cl.list(&bucket, "list/", None).await;
                        t.note(r, "LIST");
                    }
                    Op::Mixed => {
                        if mine.is_empty() {
                            break;
                        }
                        let i = rng.below(mine.len());
                        let k = key(&format!("obj-{size}"), mine[i]);
                        let dice = rng.below(100);
                        if !present[i] || (45..60).contains(&dice) {
                            let r = cl.put(&bucket, &k, body.clone()).await;
                            if t.note(r, "PUT") {
                                t.bytes += size;
                                present[i] = true;
                            }
                        } else if dice < 45 {
                            let r = cl.get(&bucket, &k).await;
                            t.note(r, "GET");
                        } else if dice < 90 {
                            let r = cl.head(&bucket, &k).await;
                            t.note(r, "HEAD");
                        } else {
                            let r = cl.delete(&bucket, &k).await;
                            if t.note(r, "DELETE") {
                                present[i] = false;
                            }
                        }
                    }
                }
                n += 1;
            }
            // Leave the prepared set whole for the next cell.
            if op == Op::Mixed {
                for (i, p) in present.iter().enumerate() {
                    if !p {
                        let _ = cl
                            .put(&bucket, &key(&format!("obj-{size}"), mine[i]), body.clone())
                            .await;
                    }
                }
            }
            t
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.context("a load client panicked")?;
        all.lat_us.extend(t.lat_us);
        all.ttfb_us.extend(t.ttfb_us);
        all.ok += t.ok;
        all.errors += t.errors;
        all.bytes += t.bytes;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let gets = !all.ttfb_us.is_empty();
    Ok(Record {
        bench: "s3",
        op: op.name().into(),
        object_bytes: if op == Op::List { 0 } else { size },
        concurrency: conc,
        secs,
        requests: all.ok + all.errors,
        errors: all.errors,
        ops_per_s: all.ok as f64 / secs,
        mib_per_s: all.bytes as f64 / secs / (1024.0 * 1024.0),
        latency_ms: Percentiles::of(&mut all.lat_us),
        ttfb_ms: gets.then(|| Percentiles::of(&mut all.ttfb_us)),
        first_error: all.first_error,
    })
}

/// Run every cell, calling `each` with each record as it is measured.
pub async fn run(cfg: &Config, mut each: impl FnMut(&Record)) -> anyhow::Result<Vec<Record>> {
    let mut admin = Client::new(cfg.endpoint.clone());
    admin.create_bucket(&cfg.bucket).await?;
    let max_conc = cfg.concurrency.iter().copied().max().unwrap_or(1);
    let mut out = Vec::new();
    if cfg.ops.contains(&Op::List) {
        prepare(
            &cfg.endpoint,
            &cfg.bucket,
            "list",
            cfg.list_objects,
            Bytes::from_static(b"x"),
            max_conc,
        )
        .await?;
        for &c in &cfg.concurrency {
            let r = cell(cfg, Op::List, 0, c, Bytes::new(), 0).await?;
            each(&r);
            out.push(r);
        }
    }
    for &size in &cfg.sizes {
        let body = payload(size);
        let ops: Vec<Op> = cfg.ops.iter().copied().filter(|o| *o != Op::List).collect();
        let needs_set = ops.iter().any(|o| matches!(o, Op::Get | Op::Mixed));
        let prepared = ((cfg.budget_bytes / size.max(1)) as usize)
            .min(cfg.objects)
            .max(max_conc.min(cfg.objects.max(1)));
        if needs_set {
            prepare(
                &cfg.endpoint,
                &cfg.bucket,
                &format!("obj-{size}"),
                prepared,
                body.clone(),
                max_conc,
            )
            .await?;
        }
        for &op in &ops {
            for &c in &cfg.concurrency {
                let r = cell(cfg, op, size, c, body.clone(), prepared).await?;
                each(&r);
                out.push(r);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let mut v: Vec<u32> = (1..=1000).map(|x| x * 1000).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!(p.p50, 500.0);
        assert_eq!(p.p90, 900.0);
        assert_eq!(p.p99, 990.0);
        assert_eq!(p.p999, 999.0);
        assert_eq!(p.max, 1000.0);
        assert_eq!(Percentiles::of(&mut []).p50, 0.0);
        assert_eq!(payload(4096).len(), 4096);
        assert_eq!(payload(4096), payload(4096));
    }
}
