//! `seedbed bench s3`: load against an S3 endpoint, and the protocol's cost on one store.
//!
//! - [`client`] — one keep-alive connection, SigV4-signed requests (no SDK);
//! - [`workload`] — the warp-like generator: PUT, GET, mixed and LIST cells, time-bounded,
//!   latency percentiles and time to first byte;
//! - [`compare`] — the same GETs in-process and over HTTP on one store, alternating rounds.

pub mod client;
pub mod compare;
pub mod workload;

use std::path::Path;

use anyhow::Context;

/// Where the load goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// A running endpoint.
    Endpoint(client::Endpoint),
    /// A server started in this process on a fresh store in this directory (loopback, a free
    /// port, the access log off), stopped after the run; the flag: whether it reads objects
    /// with O_DIRECT (the default) or through the page cache.
    InProcess(std::path::PathBuf, bool),
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("seedbed-bench")
        .build()
        .context("starting the async runtime")
}

/// Run the load generator against `target` (blocking; `each` sees each cell as it ends).
pub fn run_load(
    target: Target,
    mut cfg: workload::Config,
    each: impl FnMut(&workload::Record),
) -> anyhow::Result<Vec<workload::Record>> {
    runtime()?.block_on(async move {
        match target {
            Target::Endpoint(ep) => {
                cfg.endpoint = ep;
                workload::run(&cfg, each).await
            }
            Target::InProcess(dir, direct_reads) => {
                let (server, ep) = start_in_process(&dir, direct_reads).await?;
                cfg.endpoint = ep;
                let r = workload::run(&cfg, each).await;
                server.stop().await;
                r
            }
        }
    })
}

/// Start a server on a fresh store under `dir` with one administrator, reading objects with
/// O_DIRECT or through the page cache (`direct_reads`); returns it and an endpoint signed with
/// the administrator's key.
pub async fn start_in_process(
    dir: &Path,
    direct_reads: bool,
) -> anyhow::Result<(crate::Server, client::Endpoint)> {
    start_in_process_with(dir, |c| c.direct_reads = direct_reads).await
}

/// [`start_in_process`] with `tweak` applied to the configuration before the server starts
/// (its addresses and IAM file are set here).
pub async fn start_in_process_with(
    dir: &Path,
    tweak: impl FnOnce(&mut crate::ServeConfig),
) -> anyhow::Result<(crate::Server, client::Endpoint)> {
    let mut config = crate::ServeConfig::new(dir.join("store"));
    tweak(&mut config);
    config.iam = Some(dir.join("iam.json"));
    config.s3_addr = "127.0.0.1:0".parse().expect("literal");
    config.metrics_addr = None;
    // S3 only: a DynamoDB listener would take the default port 8000 (and fail when another
    // server holds it).
    config.dynamodb_addr = None;
    let (file, key) = crate::identity::bootstrap("123456789012", "bench", "bench")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    file.write(&dir.join("iam.json"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = crate::Server::start(&config).await?;
    let ep = client::Endpoint::parse(
        &format!("http://{}", server.s3_addr),
        &key.id,
        &key.secret,
        "us-east-1",
    )?;
    Ok((server, ep))
}

/// Run the in-process vs HTTP comparison (blocking) on a store that reads objects with O_DIRECT
/// or through the page cache (`direct_reads`; both sides read the same store).
#[allow(clippy::too_many_arguments)]
pub fn run_compare(
    dir: &Path,
    direct_reads: bool,
    cases: &[(u64, usize)],
    ops: &[workload::Op],
    objects: usize,
    rounds: usize,
    dur: std::time::Duration,
    each: impl FnMut(&compare::CompareRecord),
) -> anyhow::Result<Vec<compare::CompareRecord>> {
    runtime()?.block_on(compare::run(
        dir,
        direct_reads,
        cases,
        ops,
        objects,
        rounds,
        dur,
        each,
    ))
}
