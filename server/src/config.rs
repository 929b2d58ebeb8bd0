//! How a server runs: where its store and IAM file are, where it listens, and the limits that
//! protect it from bad or slow clients.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use seedbed_engine::io::BackendKind;

/// Limits on what one client may ask of the server.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest object body of one PUT or UploadPart (S3: 5 GiB); larger is EntityTooLarge
    /// before a byte is read.
    pub max_object_bytes: u64,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
    /// Longest wait for the next chunk of a request body (RequestTimeout after it).
    pub body_idle: Duration,
    /// Longest wait for a client to take the next chunk of a response body.
    pub response_stall: Duration,
    /// Largest XML request body (DeleteObjects, CompleteMultipartUpload, ACLs, ...).
    pub xml_max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_object_bytes: 5 * 1024 * 1024 * 1024,
            max_connections: 512,
            header_timeout: Duration::from_secs(30),
            body_idle: Duration::from_secs(30),
            response_stall: Duration::from_secs(60),
            xml_max_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Everything `seedbed serve` needs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The object store's directory (created with the default layout when missing).
    pub store: PathBuf,
    /// The IAM file (default: `STORE/iam.json`, created with one administrator when missing).
    pub iam: Option<PathBuf>,
    /// Where the S3 endpoint listens.
    pub s3_addr: SocketAddr,
    /// Where the DynamoDB endpoint listens (`None`: not at all). Its tables live in
    /// `STORE/dynamodb/`.
    pub dynamodb_addr: Option<SocketAddr>,
    /// Where `GET /metrics` is served (`None`: not at all).
    pub metrics_addr: Option<SocketAddr>,
    /// The I/O backend of the store.
    pub io: BackendKind,
    /// Client limits.
    pub limits: Limits,
    /// Region the endpoint reports (`GetBucketLocation`, signing scope).
    pub region: String,
    /// Sync data and metadata before acknowledging a write (S3's durability; off only for
    /// test servers that say so).
    pub sync: bool,
    /// Read objects' shard files with O_DIRECT (the store's default) rather than through the
    /// page cache.
    pub direct_reads: bool,
    /// Space PUTs leave free on each file system under the store's disks, for deletes and the
    /// metadata (`engine/src/object/space.rs`).
    pub space_reserve: seedbed_engine::object::SpaceReserve,
    /// How long a lifecycle "day" is: a real one (S3's), or a few seconds to watch rules act
    /// (Ceph RGW's `rgw_lc_debug_interval`).
    pub lifecycle_day: seedbed_engine::object::lifecycle::DayLength,
    /// How often the lifecycle pass runs (`None`: as `lifecycle::pass_interval` says).
    pub lifecycle_interval: Option<std::time::Duration>,
    /// How long every RestoreObject takes (`None`: S3's time for its class and tier, as a
    /// share of the lifecycle day; `engine/src/object/restore.rs`).
    pub restore_duration: Option<std::time::Duration>,
    /// The customer KMS keys SSE-KMS writes may name, beside each account's `aws/s3`
    /// (`engine/src/object/kms.rs`).
    pub kms_keys: Vec<String>,
    /// How often the disk directories are looked at for one lost or back (`None`: never;
    /// [`crate::disks`]).
    pub disk_check: Option<std::time::Duration>,
    /// How often a whole scrub runs regardless of the disks (`None`: never).
    pub scrub_every: Option<std::time::Duration>,
}

impl ServeConfig {
    /// The defaults of `seedbed serve` with no flags.
    pub fn new(store: PathBuf) -> ServeConfig {
        ServeConfig {
            store,
            iam: None,
            s3_addr: SocketAddr::from(([127, 0, 0, 1], 9000)),
            dynamodb_addr: Some(SocketAddr::from(([127, 0, 0, 1], 8000))),
            metrics_addr: Some(SocketAddr::from(([127, 0, 0, 1], 9001))),
            io: BackendKind::Std,
            limits: Limits::default(),
            region: "us-east-1".into(),
            sync: true,
            direct_reads: true,
            space_reserve: seedbed_engine::object::SpaceReserve::Auto,
            lifecycle_day: seedbed_engine::object::lifecycle::DayLength::REAL,
            lifecycle_interval: None,
            restore_duration: None,
            kms_keys: Vec::new(),
            disk_check: Some(std::time::Duration::from_secs(10)),
            scrub_every: None,
        }
    }

    /// The IAM file in use.
    pub fn iam_path(&self) -> PathBuf {
        self.iam
            .clone()
            .unwrap_or_else(|| self.store.join("iam.json"))
    }
}
