//! `seedbed serve`: open (or create) the store and the IAM file, start every listener, print
//! how to reach them, and stop cleanly on Ctrl-C or SIGTERM.
//!
//! Each protocol has its listener in [`Server::start`]: S3 on `--s3-addr`, DynamoDB on
//! `--dynamodb-addr` (its tables in `STORE/dynamodb/`). Both get the same store directory, the
//! same [`IdentityStore`] (keys, principals, IAM), the same metrics recorder and the same stop
//! signal.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use seedbed_engine::io::{self, BackendKind};
use seedbed_engine::object::{on_disk, ObjectStore, StoreOptions};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::ServeConfig;
use crate::identity::{self, AccessKey, IamFile, Identity, IdentityStore};

/// Default store layout: K data + M parity shards of up to this many bytes.
const DEFAULT_K: usize = 4;
const DEFAULT_M: usize = 2;
const DEFAULT_SHARD_BYTES: u64 = 1024 * 1024;

/// The account and user a fresh IAM file gets.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The display name of the default account.
pub const DEFAULT_ACCOUNT_NAME: &str = "seedbed";
/// The administrator of a fresh IAM file.
pub const DEFAULT_USER: &str = "admin";

/// How long a stopping server waits for open requests to finish.
const DRAIN: Duration = Duration::from_secs(30);

/// Open the store in `dir`, creating it with the default layout if the directory holds none.
/// Opening removes what interrupted writes left behind (a PUT cut off by a crash).
pub fn open_or_create_store(
    dir: &Path,
    io_kind: BackendKind,
    options: StoreOptions,
) -> anyhow::Result<(ObjectStore, Opened)> {
    if io_kind == BackendKind::Sim {
        bail!("--io sim keeps data in memory only; use std, uring or mmap for a server");
    }
    let fs = io::open_backend(io_kind)
        .with_context(|| format!("opening the {io_kind:?} I/O backend"))?;
    let fresh = !on_disk::is_store(dir);
    let mut rebuilt = 0;
    let store = if fresh {
        on_disk::create_with(
            fs,
            dir,
            DEFAULT_K,
            DEFAULT_M,
            DEFAULT_SHARD_BYTES,
            None,
            options,
        )
    } else {
        on_disk::open_with(fs, dir, options).map(|(store, report)| {
            for (d, why) in &report.down {
                tracing::warn!(copy = %d.display(), %why, "metadata copy out of service; `seedbed object --store DIR repair` rebuilds it");
            }
            rebuilt = report.rebuilt.len();
            store
        })
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    Ok((store, Opened { fresh, rebuilt }))
}

/// What opening the store found.
#[derive(Clone, Copy, Debug)]
pub struct Opened {
    /// The store was made now.
    pub fresh: bool,
    /// Metadata copies rebuilt whole at open: a disk lost or replaced while the store was
    /// closed, whose shards want rebuilding too.
    pub rebuilt: usize,
}

/// Load the IAM file, creating one with an administrator if it does not exist. Returns the
/// identity and, for a new file, the key it minted.
pub fn load_or_bootstrap_iam(path: &Path) -> anyhow::Result<(Identity, Option<AccessKey>)> {
    // Under the edit lock: a `seedbed iam user add` creating the file at the same moment
    // either finishes first (and is loaded) or waits for the fresh file (and edits it).
    let _lock = IamFile::lock_edits(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    if path.exists() {
        let id = Identity::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok((id, None));
    }
    let (file, key) = identity::bootstrap(DEFAULT_ACCOUNT, DEFAULT_ACCOUNT_NAME, DEFAULT_USER)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    file.write(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = Identity::from_file(file).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((id, Some(key)))
}

/// The first active key of the first user (what the banner shows for an existing file).
pub fn first_key(f: &IamFile) -> Option<(String, String, AccessKey)> {
    f.users.iter().find_map(|u| {
        u.access_keys
            .iter()
            .find(|k| k.status == identity::KeyStatus::Active)
            .map(|k| (u.account.clone(), u.name.clone(), k.clone()))
    })
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    /// Where the S3 endpoint listens.
    pub s3_addr: SocketAddr,
    /// Where the DynamoDB endpoint listens.
    pub dynamodb_addr: Option<SocketAddr>,
    /// Where `/metrics` is served.
    pub metrics_addr: Option<SocketAddr>,
    /// The identities in use.
    pub identity: Arc<IdentityStore>,
    /// The store.
    pub store: Arc<ObjectStore>,
    /// A key minted for a fresh IAM file.
    pub minted: Option<AccessKey>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Open the store and the IAM file and start every listener on the current runtime.
    pub async fn start(config: &ServeConfig) -> anyhow::Result<Server> {
        let (store, opened) = tokio::task::block_in_place(|| {
            let kms = seedbed_engine::object::kms::Kms::new(&config.region, &config.kms_keys)
                .map_err(|e| anyhow::anyhow!("--kms-key: {e}"))?;
            let options = StoreOptions {
                sync: config.sync,
                direct_reads: config.direct_reads,
                kms,
                space_reserve: config.space_reserve,
                ..StoreOptions::default()
            };
            open_or_create_store(&config.store, config.io, options)
        })?;
        let iam_path = config.iam_path();
        let (identity, minted) = load_or_bootstrap_iam(&iam_path)?;
        let owner = identity
            .file
            .accounts
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
        let identity = Arc::new(IdentityStore::new(identity, Some(iam_path), &owner));
        let store = Arc::new(store);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();

        let s3_listener = TcpListener::bind(config.s3_addr)
            .await
            .with_context(|| format!("--s3-addr {}: cannot listen", config.s3_addr))?;
        let s3_addr = s3_listener.local_addr()?;
        let logs = tokio::task::block_in_place(|| {
            crate::s3::access_log::AccessLogs::open(
                store.clone(),
                identity.guard().clone(),
                &config.region,
            )
        })?;
        tasks.push(tokio::spawn(crate::s3::access_log::deliver(
            logs.clone(),
            stop_rx.clone(),
        )));
        let endpoint = crate::s3::Endpoint {
            logs: logs.clone(),
            store: store.clone(),
            identity: identity.clone(),
            limits: config.limits.clone(),
            region: config.region.clone(),
            handle: tokio::runtime::Handle::current(),
            lifecycle_day: config.lifecycle_day,
            restore_timing: seedbed_engine::object::restore::RestoreTiming {
                day: config.lifecycle_day,
                fixed_ms: config
                    .restore_duration
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
        };
        tasks.push(tokio::spawn(crate::s3::lifecycle::run_pass(
            store.clone(),
            logs,
            config.lifecycle_day,
            config
                .lifecycle_interval
                .unwrap_or_else(|| crate::s3::lifecycle::pass_interval(config.lifecycle_day)),
            stop_rx.clone(),
        )));
        if let Some(check) = config.disk_check.or(config.scrub_every) {
            let schedule = crate::disks::Schedule {
                check,
                disks: config.disk_check.is_some(),
                scrub_every: config.scrub_every,
                scrub_at_start: opened.rebuilt > 0,
            };
            tasks.push(tokio::spawn(crate::disks::watch(
                store.clone(),
                schedule,
                stop_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(write_key_uses(
            identity.clone(),
            stop_rx.clone(),
        )));
        let svc = crate::s3::service(endpoint);
        let limits = config.limits.clone();

        // The tables first: the S3 listener hands them DynamoDB's requests too.
        let dynamodb = match config.dynamodb_addr {
            None => None,
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("--dynamodb-addr {addr}: cannot listen"))?;
                let dir = crate::dynamodb::tables_dir(&config.store);
                let ep = tokio::task::block_in_place(|| {
                    crate::dynamodb::open(
                        &dir,
                        config.io,
                        config.sync,
                        identity.clone(),
                        &config.region,
                        &owner,
                        store.clone(),
                    )
                })?;
                Some((l, ep))
            }
        };
        let tables = dynamodb.as_ref().map(|(_, ep)| ep.clone());
        let sts = Arc::new(crate::dynamodb::security(identity.clone()));
        let iam = identity.clone();
        let (ddb_sts, ddb_iam) = (sts.clone(), identity.clone());
        tasks.push(tokio::spawn(crate::http::serve(
            s3_listener,
            limits.max_connections,
            limits.header_timeout,
            DRAIN,
            stop_rx.clone(),
            move |peer, req| {
                let (svc, tables, sts, iam) =
                    (svc.clone(), tables.clone(), sts.clone(), iam.clone());
                async move {
                    use http_body_util::Either;
                    // One endpoint for every service (AWS_ENDPOINT_URL): S3 never sends
                    // `X-Amz-Target`, DynamoDB always does; STS is a form POST to `/`, where
                    // S3 has no operation.
                    match tables {
                        Some(ep) if crate::dynamodb::is_dynamodb(&req) => {
                            crate::dynamodb::handle(ep, peer, req)
                                .await
                                .map(Either::Left)
                        }
                        _ if crate::dynamodb::is_sts(&req) => {
                            crate::dynamodb::handle_sts(sts, iam, peer, req)
                                .await
                                .map(Either::Left)
                        }
                        _ => crate::s3::handle(svc, peer, req).await.map(Either::Right),
                    }
                }
            },
        )));

        let dynamodb_addr = match dynamodb {
            None => None,
            Some((l, ep)) => {
                let a = l.local_addr()?;
                tasks.push(tokio::spawn(crate::dynamodb::expire_ttl(
                    ep.clone(),
                    stop_rx.clone(),
                )));
                tasks.push(tokio::spawn(crate::dynamodb::run_index_jobs(
                    ep.clone(),
                    stop_rx.clone(),
                )));
                tasks.push(tokio::spawn(crate::http::serve(
                    l,
                    limits.max_connections,
                    limits.header_timeout,
                    DRAIN,
                    stop_rx.clone(),
                    move |peer, req| {
                        let (ep, sts, iam) = (ep.clone(), ddb_sts.clone(), ddb_iam.clone());
                        async move {
                            // STS and IAM (form POSTs to `/`) as at the S3 address.
                            if crate::dynamodb::is_sts(&req) {
                                crate::dynamodb::handle_sts(sts, iam, peer, req).await
                            } else {
                                crate::dynamodb::handle(ep, peer, req).await
                            }
                        }
                    },
                )));
                Some(a)
            }
        };

        let metrics_addr = match config.metrics_addr {
            None => None,
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("--metrics-addr {addr}: cannot listen"))?;
                let a = l.local_addr()?;
                crate::metrics::handle();
                tasks.push(tokio::spawn(crate::http::serve(
                    l,
                    16,
                    limits.header_timeout,
                    Duration::from_secs(1),
                    stop_rx.clone(),
                    |_, req| async move { metrics_response(&req) },
                )));
                Some(a)
            }
        };
        Ok(Server {
            s3_addr,
            dynamodb_addr,
            metrics_addr,
            identity,
            store,
            minted,
            stop: stop_tx,
            tasks,
        })
    }

    /// Stop accepting, let open requests finish, and return when every listener is done.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // The last requests' key uses, now that no request is open.
        let identity = self.identity.clone();
        let _ = tokio::task::spawn_blocking(move || flush_key_uses(&identity)).await;
    }
}

/// How often the keys' last uses are written into the IAM file ([`crate::identity::last_use`]).
pub const KEY_USE_INTERVAL: Duration = Duration::from_secs(60);

/// Write the keys' last uses into the IAM file every [`KEY_USE_INTERVAL`] until `stop`
/// (the last write is [`Server::stop`]'s, after the listeners have drained).
async fn write_key_uses(identity: Arc<IdentityStore>, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(KEY_USE_INTERVAL);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let id = identity.clone();
        let _ = tokio::task::spawn_blocking(move || flush_key_uses(&id)).await;
    }
}

fn flush_key_uses(identity: &IdentityStore) {
    if let Err(e) = identity.flush_uses() {
        tracing::error!(error = %e, "keys' last uses not written to the IAM file; kept for the next try");
    }
}

fn metrics_response(
    req: &http::Request<crate::http::RequestBody>,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let (status, body) = if req.uri().path() == "/metrics" {
        (http::StatusCode::OK, crate::metrics::render())
    } else {
        (
            http::StatusCode::NOT_FOUND,
            "only /metrics is served here\n".to_string(),
        )
    };
    let mut r = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// Ctrl-C (SIGINT) or SIGTERM, listened for from the moment this is made: made before the banner
/// is printed, so a supervisor that stops the server as soon as it has read the banner gets a
/// clean stop, not the default action of the signal.
struct ShutdownSignal {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> anyhow::Result<ShutdownSignal> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(ShutdownSignal {
            int: signal(SignalKind::interrupt()).context("installing a SIGINT handler")?,
            term: signal(SignalKind::terminate()).context("installing a SIGTERM handler")?,
        })
    }

    /// Wait for either signal.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

/// The banner: how to reach the server. `json` prints one JSON line instead (for scripts).
fn banner(config: &ServeConfig, s: &Server, json: bool) {
    let f = &s.identity.current().file;
    let key = match &s.minted {
        Some(k) => Some((
            DEFAULT_ACCOUNT.to_string(),
            DEFAULT_USER.to_string(),
            k.clone(),
        )),
        None => first_key(f),
    };
    let endpoint = format!("http://{}", s.s3_addr);
    if json {
        let v = serde_json::json!({
            "s3": endpoint,
            "dynamodb": s.dynamodb_addr.map(|a| format!("http://{a}")),
            "metrics": s.metrics_addr.map(|a| format!("http://{a}/metrics")),
            "store": config.store.display().to_string(),
            "iam": config.iam_path().display().to_string(),
            "region": config.region,
            "account": key.as_ref().map(|k| k.0.clone()),
            "user": key.as_ref().map(|k| k.1.clone()),
            "access_key": key.as_ref().map(|k| k.2.id.clone()),
            "secret_key": key.as_ref().map(|k| k.2.secret.clone()),
        });
        println!("{v}");
        return;
    }
    println!("seedbed serve: S3 endpoint {endpoint}");
    println!("  store       {}", config.store.display());
    println!(
        "  IAM file    {}{}",
        config.iam_path().display(),
        if s.minted.is_some() { " (created)" } else { "" }
    );
    if let Some(d) = s.dynamodb_addr {
        println!(
            "  DynamoDB    http://{d}  (tables in {})",
            crate::dynamodb::tables_dir(&config.store).display()
        );
    }
    if let Some(m) = s.metrics_addr {
        println!("  metrics     http://{m}/metrics");
    }
    match key {
        Some((account, user, k)) => {
            println!("  access key  {}  (user {user}, account {account})", k.id);
            println!("  secret key  {}", k.secret);
            println!();
            println!("  try:  AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} aws --endpoint-url {endpoint} --region {} s3 ls", k.id, k.secret, config.region);
            if let Some(d) = s.dynamodb_addr {
                println!("        AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} aws --endpoint-url http://{d} --region {} dynamodb list-tables", k.id, k.secret, config.region);
            }
        }
        None => println!(
            "  (the IAM file has no active access key: add one with `seedbed iam key add`)"
        ),
    }
    println!("  stop with Ctrl-C");
}

/// Run until Ctrl-C or SIGTERM (the `seedbed serve` command).
pub fn run(config: ServeConfig, json: bool) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("seedbed-serve")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        crate::logging::init();
        let mut signals = ShutdownSignal::install()?;
        let server = Server::start(&config).await?;
        banner(&config, &server, json);
        signals.recv().await;
        eprintln!("seedbed serve: stopping (finishing open requests)");
        server.stop().await;
        eprintln!("seedbed serve: stopped");
        Ok(())
    })
}
