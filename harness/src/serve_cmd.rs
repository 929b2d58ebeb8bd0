//! `seedbed serve`: the object store as an S3 endpoint and the table store as a DynamoDB one. With no flags: a store in
//! `./seedbed-data` (created on first run, with an IAM file holding one administrator and a
//! fresh access key), S3 on 127.0.0.1:9000, DynamoDB on 127.0.0.1:8000, Prometheus metrics on
//! 127.0.0.1:9001.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use seedbed_engine::io::BackendKind;
use seedbed_server::ServeConfig;

/// Printed after the options of `seedbed serve --help`.
pub const AFTER_HELP: &str = "\
One process serves both protocols from one store directory and one IAM file:
  S3        objects in STORE/ (erasure-coded shards, metadata copies)
  DynamoDB  tables in STORE/dynamodb/ (their own LSM database)
Every request is SigV4-signed with a key from the IAM file and authorized by its policies
(S3 actions and conditions; dynamodb:* actions with dynamodb:LeadingKeys, dynamodb:Attributes,
dynamodb:Select and dynamodb:ReturnValues). The banner prints the key of a fresh IAM file and
commands to try, e.g.
  aws --endpoint-url http://127.0.0.1:8000 dynamodb list-tables
The S3 address also answers DynamoDB's requests (they carry X-Amz-Target) and STS's
GetCallerIdentity and AssumeRole (a form POST to /), so one endpoint serves every service:
  AWS_ENDPOINT_URL=http://127.0.0.1:9000 aws sts get-caller-identity
The two meet in the store: DynamoDB's ImportTable and ExportTableToPointInTime read and write
its buckets, as their caller. S3 Select (SelectObjectContent) runs SQL over a CSV or JSON object
where it is stored, streaming the records it finds (any object size, bounded memory); a bucket with PutBucketLogging gets S3-format access log records in its
target bucket every 10 s (the target's policy must let logging.s3.amazonaws.com put them).
/metrics serves Prometheus counters and latency histograms of both endpoints, per operation.
Ctrl-C or SIGTERM stops accepting, finishes open requests and exits 0.";

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
    /// Where the DynamoDB endpoint listens (DynamoDB's JSON protocol: POST / with X-Amz-Target;
    /// port 0: any free port; the S3 address answers it too); "off" to serve no tables. They
    /// live in STORE/dynamodb/.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:8000")]
    dynamodb_addr: String,
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
    /// Connections served at once (more wait in the kernel's accept queue).
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Seconds a client may take to send its request headers, or between two chunks of a
    /// request body, before the server gives up on it (RequestTimeout); a response the client
    /// stops reading is cut after twice this.
    #[arg(long, default_value_t = 30)]
    client_timeout: u64,
    /// Acknowledge writes before they are synced to disk (objects, and the tables' WAL). Faster,
    /// and a power failure can lose acknowledged writes: for test and benchmark servers only.
    #[arg(long)]
    no_fsync: bool,
    /// Read objects through the page cache instead of with O_DIRECT (the default). Hot objects
    /// then come from memory, but every GET of a cold one pushes other data out of the cache.
    #[arg(long)]
    cached_reads: bool,
    /// Space PUTs leave free on each file system under the store's disks, for deletes and
    /// the metadata: a PUT that would eat into it is refused with 507 InsufficientStorage, and
    /// once less than half of it is left so is every other addition (tagging, a new bucket);
    /// deletes and reads always go through. A size (512MiB, 2G), or auto: 1 % of the file
    /// system, at least 128 MiB, at most a quarter of it. 0 turns it off (PUTs then run the
    /// disk full, and a full disk can refuse deletes too). Below half of it the DynamoDB tables
    /// take deletes only as well (other writes: 500 InternalServerError with the reason).
    #[arg(long, value_name = "SIZE|auto", default_value = "auto")]
    space_reserve: String,
    /// Make a lifecycle "day" this many seconds, with no rounding to midnight, so that
    /// lifecycle rules can be watched acting (Ceph RGW's rgw_lc_debug_interval; ceph/s3-tests
    /// runs its expiration tests with 10). Default: real days, each ending at midnight UTC, as
    /// on S3. It changes x-amz-expiration too.
    #[arg(long, value_name = "SECS")]
    lifecycle_day_secs: Option<u64>,
    /// Seconds between lifecycle passes (default: hourly; a quarter of a --lifecycle-day-secs
    /// day, at least 1 s, with that flag).
    #[arg(long, value_name = "SECS")]
    lifecycle_interval: Option<u64>,
    /// Make every RestoreObject (of a GLACIER or DEEP_ARCHIVE object) complete this many
    /// seconds after it is asked; 0: at once. Default: S3's time for the class and tier (up to
    /// 5 hours for GLACIER on the Standard tier, 48 for DEEP_ARCHIVE on Bulk), as a share of
    /// the lifecycle day, so --lifecycle-day-secs shortens it too.
    #[arg(long, value_name = "SECS")]
    restore_secs: Option<u64>,
    /// A customer KMS key that SSE-KMS writes (x-amz-server-side-encryption: aws:kms) may
    /// name, by its ID or key ARN; repeatable. Every account's AWS managed key (aws/s3) exists
    /// without it. The server's built-in KMS derives each key from the store's master key;
    /// a write naming a key not given here is refused (KMS.NotFoundException).
    #[arg(long = "kms-key", value_name = "ID")]
    kms_keys: Vec<String>,
    /// Seconds between looks at the store's disk directories: a disk that has gone or is not
    /// mounted (an empty mount point, which takes no shard) is logged (PUTs are written past
    /// it, a shard short, while K disks are left), and one that is back — mounted again, a new
    /// disk in its place, or the directory made again — is formatted if new and rebuilt by a
    /// scrub, without stopping the server. A disk that failed its I/O (EIO, read-only) is
    /// probed, and rebuilt once it works again. Another disk at a disk's path (another
    /// store's, put there while the server ran) is logged and takes nothing until the store's
    /// own disk is back, which is then rebuilt. A store whose metadata copies were rebuilt
    /// when it opened (a disk lost or replaced while stopped) is scrubbed at start too. 0:
    /// never look.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    disk_check: u64,
    /// Also scrub the whole store (verify every block, heal from parity) every SECS seconds,
    /// for rot that no request reads. Default: only when a disk comes back.
    #[arg(long, value_name = "SECS")]
    scrub_every: Option<u64>,
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
    c.dynamodb_addr = match args.dynamodb_addr.as_str() {
        "off" | "none" => None,
        a => Some(a.parse().map_err(|e| {
            anyhow::anyhow!("--dynamodb-addr '{a}': not an address like 127.0.0.1:8000 or off: {e}")
        })?),
    };
    c.io = args.io;
    c.sync = !args.no_fsync;
    c.direct_reads = !args.cached_reads;
    c.space_reserve = match args.space_reserve.as_str() {
        "auto" => seedbed_engine::object::SpaceReserve::Auto,
        s => seedbed_engine::object::SpaceReserve::Bytes(
            crate::bench::io::parse_size(s)
                .map_err(|e| anyhow::anyhow!("--space-reserve: {e}, or auto"))?,
        ),
    };
    c.region = args.region;
    c.kms_keys = args.kms_keys;
    if let Some(s) = args.lifecycle_day_secs {
        if s == 0 {
            anyhow::bail!("--lifecycle-day-secs must be at least 1");
        }
        c.lifecycle_day = seedbed_engine::object::lifecycle::DayLength::debug_ms(s * 1000);
    }
    if let Some(s) = args.lifecycle_interval {
        if s == 0 {
            anyhow::bail!("--lifecycle-interval must be at least 1 second");
        }
        c.lifecycle_interval = Some(std::time::Duration::from_secs(s));
    }
    c.restore_duration = args.restore_secs.map(std::time::Duration::from_secs);
    c.disk_check = (args.disk_check > 0).then(|| std::time::Duration::from_secs(args.disk_check));
    c.scrub_every = match args.scrub_every {
        Some(0) => anyhow::bail!("--scrub-every must be at least 1 second"),
        s => s.map(std::time::Duration::from_secs),
    };
    c.limits.max_object_bytes = args.max_object_mib * 1024 * 1024;
    c.limits.max_connections = args.max_connections.max(1);
    let t = std::time::Duration::from_secs(args.client_timeout.max(1));
    c.limits.header_timeout = t;
    c.limits.body_idle = t;
    c.limits.response_stall = 2 * t;
    seedbed_server::serve::run(c, args.json)
}
