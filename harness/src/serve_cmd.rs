//! `seedbed serve`: the object store as an S3 endpoint. With no flags: a store in
//! `./seedbed-data` (created on first run, with an IAM file holding one administrator and a
//! fresh access key), S3 on 127.0.0.1:9000, Prometheus metrics on 127.0.0.1:9001.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use seedbed_engine::io::BackendKind;
use seedbed_server::ServeConfig;

/// Options of `seedbed serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The object store's directory (created with K=4, M=2, 1 MiB shards if it holds none).
    #[arg(long, value_name = "DIR", default_value = "seedbed-data")]
    store: PathBuf,
    /// The IAM file: accounts, users, policies, access keys (default: STORE/iam.json, created
    /// with one administrator when missing). Edit it with `seedbed iam user|key|role`.
    #[arg(long, value_name = "FILE")]
    iam: Option<PathBuf>,
    /// Where the S3 endpoint listens (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    s3_addr: SocketAddr,
    /// Where GET /metrics (Prometheus text) is served; "off" to serve none.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:9001")]
    metrics_addr: String,
    /// I/O backend of the store: std or uring (mmap reads as std).
    #[arg(long, default_value = "std")]
    io: BackendKind,
    /// Region the endpoint reports and accepts as a LocationConstraint.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Largest object in one PUT or part, in MiB (S3: 5120).
    #[arg(long, default_value_t = 5120)]
    max_object_mib: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Print the endpoint and key as one JSON line (for scripts) instead of the banner.
    #[arg(long)]
    json: bool,
}

/// Run the server until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut c = ServeConfig::new(args.store);
    c.iam = args.iam;
    c.s3_addr = args.s3_addr;
    c.metrics_addr = match args.metrics_addr.as_str() {
        "off" | "none" => None,
        a => Some(a.parse().map_err(|e| {
            anyhow::anyhow!("--metrics-addr '{a}': not an address like 127.0.0.1:9001 or off: {e}")
        })?),
    };
    c.io = args.io;
    c.region = args.region;
    c.limits.max_object_bytes = args.max_object_mib * 1024 * 1024;
    c.limits.max_connections = args.max_connections.max(1);
    seedbed_server::serve::run(c, args.json)
}
