//! `seedbed bench io`: a device benchmark in the spirit of fio, through each I/O backend.
//!
//! For every backend it runs six cases on one file: sequential 1 MiB writes and reads, and
//! random 4 KiB reads and writes at queue depths 1 and 32, with O_DIRECT unless told otherwise.
//! Requests go through the backend's streaming queue (`Fs::queue`), so `uring` keeps 32
//! requests at the device while `std` and `mmap`, whose calls are synchronous, honestly show
//! depth 1. Latency is measured per request (push to completion) into a fixed-size histogram.
//!
//! - [`case`](self::case): one case's loop (offsets, buffers, queue, latency);
//! - [`histogram`](self::histogram): the latency histogram;
//! - [`report`](self::report): records, the table, JSON lines, sizes.

mod case;
pub(crate) mod histogram;
mod report;

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`).
macro_rules! out {
    ($($arg:tt)*) => {
        say(format_args!($($arg)*))?
    };
}

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use seedbed_engine::io::{self, AlignedBuf, BackendKind, FsHandle, IoError, OpenOptions, QueueOp};

use self::case::{run_case, select_cases, CaseSpec, Limit};
pub use self::histogram::Histogram;
pub use self::report::IoRecord;
pub use self::report::{human_bytes, parse_size};
use self::report::{mem_total_bytes, memory_fs, print_table, write_json};

/// The backends measured when `--io` is not given: every one that uses the real disk.
const DEFAULT_BACKENDS: [BackendKind; 3] =
    [BackendKind::Std, BackendKind::Uring, BackendKind::Mmap];
/// Default file size: large enough that direct I/O sees the device's steady state.
const DEFAULT_SIZE_BYTES: u64 = 1 << 30;
/// Default time per case.
const DEFAULT_RUNTIME_SECS: f64 = 5.0;
/// `--quick`: a small file and short cases, about ten seconds for three backends.
const QUICK_SIZE_BYTES: u64 = 64 << 20;
const QUICK_RUNTIME_SECS: f64 = 0.4;
/// With `--ops`, a case still stops after this long: a bound on every run.
const OPS_RUNTIME_SECS_MAX: f64 = 3600.0;
/// The file holds whole sequential blocks.
const SEQ_BLOCK_BYTES: u64 = 1 << 20;

/// Options of `seedbed bench io`.
#[derive(Debug, Clone, clap::Args)]
pub struct IoArgs {
    /// Backends to measure, comma-separated: std, uring, mmap (real disk) or sim (in memory,
    /// for teaching). Default: std,uring,mmap (uring is skipped with a note if unavailable).
    #[arg(long, value_delimiter = ',')]
    pub io: Option<Vec<BackendKind>>,
    /// Directory for the benchmark file (bench-io.dat). Default: a fresh
    /// ./seedbed-bench-io-<pid>, removed afterwards unless --keep. A bench-io.dat kept there by
    /// an earlier --keep run, at least --size long, is reused as it is (as fio reuses its files).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Size of the benchmark file, e.g. 1GiB, 256M [default: 1GiB; 64MiB with --quick].
    #[arg(long, value_parser = parse_size)]
    pub size: Option<u64>,
    /// Bypass the page cache with O_DIRECT (`--direct false` to go through it). mmap reads are
    /// always buffered.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub direct: bool,
    /// Seconds per case [default: 5; 0.4 with --quick].
    #[arg(long, conflicts_with = "ops")]
    pub runtime_secs: Option<f64>,
    /// Requests per case, instead of a time limit.
    #[arg(long)]
    pub ops: Option<u64>,
    /// Cases to run, comma-separated (default: all): seqwrite-qd1, seqread-qd1, randread-qd1,
    /// randread-qd32, randwrite-qd1, randwrite-qd32.
    #[arg(long, value_delimiter = ',')]
    pub cases: Option<Vec<String>>,
    /// Write one JSON record per case (JSON lines) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Small and fast (64 MiB, 0.4 s per case): a smoke test, not a measurement.
    #[arg(long)]
    pub quick: bool,
    /// Keep the benchmark file (and the directory made for it).
    #[arg(long)]
    pub keep: bool,
}

impl Default for IoArgs {
    fn default() -> Self {
        IoArgs {
            io: None,
            dir: None,
            size: None,
            direct: true,
            runtime_secs: None,
            ops: None,
            cases: None,
            json: None,
            quick: false,
            keep: false,
        }
    }
}

/// Everything a run needs, resolved from the options.
#[derive(Debug)]
struct Plan {
    /// Backends and whether the user named them (an unavailable named backend is an error).
    backends: Vec<BackendKind>,
    backends_named: bool,
    dir: PathBuf,
    /// Whether we create (and remove) `dir`.
    dir_is_ours: bool,
    size_bytes: u64,
    cases: Vec<CaseSpec>,
    direct: bool,
    /// Fall back to buffered I/O if the file system has no O_DIRECT (the tour), instead of
    /// failing (the command, where the user can choose).
    direct_fallback: bool,
    limit: Limit,
    json: Option<PathBuf>,
    keep: bool,
}

/// Run the device benchmark; returns the records it printed.
pub fn run(args: &IoArgs) -> anyhow::Result<Vec<IoRecord>> {
    let plan = plan_from_args(args)?;
    execute(&plan)
}

/// The tour's short pass: about ten seconds on a 64 MiB file in a directory under `out_dir`
/// (removed afterwards), every real-disk backend, JSON lines in `out_dir/bench-io.jsonl`.
/// Falls back to buffered I/O (and says so) where the file system has no O_DIRECT.
#[allow(dead_code)] // entry point for harness/src/tour.rs
pub fn run_quick(out_dir: &Path) -> anyhow::Result<Vec<IoRecord>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output directory {}", out_dir.display()))?;
    let plan = Plan {
        backends: DEFAULT_BACKENDS.to_vec(),
        backends_named: false,
        dir: out_dir.join(format!("bench-io-tmp-{}", std::process::id())),
        dir_is_ours: true,
        size_bytes: QUICK_SIZE_BYTES,
        cases: select_cases(None).map_err(anyhow::Error::msg)?,
        direct: true,
        direct_fallback: true,
        limit: Limit {
            ops: None,
            runtime: Duration::from_secs_f64(QUICK_RUNTIME_SECS),
        },
        json: Some(out_dir.join("bench-io.jsonl")),
        keep: false,
    };
    execute(&plan)
}

/// Check `args` as [`run`] does before it starts — backends, sizes, limits, `--dir` — without
/// running anything (the tour's `--dry-run`).
pub fn check(args: &IoArgs) -> anyhow::Result<()> {
    plan_from_args(args).map(|_| ())
}

fn plan_from_args(args: &IoArgs) -> anyhow::Result<Plan> {
    let (backends, backends_named) = match &args.io {
        Some(list) if list.is_empty() => bail!("--io needs at least one backend"),
        Some(list) => {
            let mut v = list.clone();
            v.dedup();
            (v, true)
        }
        None => (DEFAULT_BACKENDS.to_vec(), false),
    };
    let size_bytes = args.size.unwrap_or(if args.quick {
        QUICK_SIZE_BYTES
    } else {
        DEFAULT_SIZE_BYTES
    });
    if size_bytes < SEQ_BLOCK_BYTES {
        bail!("--size {size_bytes} is too small: the file must hold at least one 1 MiB block");
    }
    let size_bytes = size_bytes - size_bytes % SEQ_BLOCK_BYTES;
    let limit = match (args.ops, args.runtime_secs) {
        (Some(0), _) => bail!("--ops must be at least 1"),
        (Some(ops), _) => Limit {
            ops: Some(ops),
            runtime: Duration::from_secs_f64(OPS_RUNTIME_SECS_MAX),
        },
        (None, Some(secs)) => {
            if !(secs.is_finite() && secs > 0.0 && secs <= OPS_RUNTIME_SECS_MAX) {
                bail!(
                    "--runtime-secs {secs} must be more than 0 and at most {OPS_RUNTIME_SECS_MAX}"
                );
            }
            Limit {
                ops: None,
                runtime: Duration::from_secs_f64(secs),
            }
        }
        (None, None) => {
            let secs = if args.quick {
                QUICK_RUNTIME_SECS
            } else {
                DEFAULT_RUNTIME_SECS
            };
            Limit {
                ops: None,
                runtime: Duration::from_secs_f64(secs),
            }
        }
    };
    let (dir, dir_is_ours) = match &args.dir {
        Some(dir) => {
            if !dir.is_dir() {
                bail!(
                    "--dir {}: no such directory (create it first, or leave --dir out for a fresh one here)",
                    dir.display()
                );
            }
            (dir.clone(), false)
        }
        None => (
            PathBuf::from(format!("seedbed-bench-io-{}", std::process::id())),
            true,
        ),
    };
    let cases = select_cases(args.cases.as_deref()).map_err(|e| anyhow::anyhow!("--cases: {e}"))?;
    if cases.is_empty() {
        bail!("--cases needs at least one case");
    }
    Ok(Plan {
        backends,
        backends_named,
        dir,
        dir_is_ours,
        size_bytes,
        cases,
        direct: args.direct,
        direct_fallback: false,
        limit,
        json: args.json.clone(),
        keep: args.keep,
    })
}

/// Removes what the run created, on success and on error alike.
struct Cleanup<'a> {
    plan: &'a Plan,
    file: PathBuf,
    made_dir: bool,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if self.plan.keep {
            let _ = writeln!(std::io::stdout(), "kept {}", self.file.display());
            return;
        }
        let _ = std::fs::remove_file(&self.file);
        if self.made_dir {
            let _ = std::fs::remove_dir(&self.plan.dir);
        }
    }
}

/// Open each backend; an unavailable backend the user named is an error, one picked by default
/// is skipped with a note.
fn open_backends(plan: &Plan) -> anyhow::Result<Vec<(BackendKind, FsHandle)>> {
    let mut out = Vec::new();
    for &kind in &plan.backends {
        match io::open_backend(kind) {
            Ok(fs) => out.push((kind, fs)),
            Err(e) if !plan.backends_named => {
                let _ = writeln!(std::io::stderr(), "note: skipping {kind}: {e}");
            }
            Err(e) => return Err(e).with_context(|| format!("--io {kind}")),
        }
    }
    if out.is_empty() {
        bail!("no I/O backend could be set up");
    }
    Ok(out)
}

fn execute(plan: &Plan) -> anyhow::Result<Vec<IoRecord>> {
    let backends = open_backends(plan)?;
    let file_path = plan.dir.join("bench-io.dat");
    let made_dir = if plan.dir_is_ours {
        std::fs::create_dir(&plan.dir).with_context(|| {
            format!(
                "cannot create the benchmark directory {}",
                plan.dir.display()
            )
        })?;
        true
    } else {
        false
    };
    let _cleanup = Cleanup {
        plan,
        file: file_path.clone(),
        made_dir,
    };
    let real_disk = backends.iter().any(|(k, _)| *k != BackendKind::Sim);
    let mut direct = plan.direct;
    if real_disk {
        if reusable(&file_path, plan) {
            // As fio does with its files: a kept file of the right size is used as it is, so
            // back-to-back runs do not start right after writing a gigabyte.
            out!(
                "reusing {} (kept by an earlier --keep run)",
                file_path.display()
            );
            if direct {
                check_direct_works(&file_path, plan)?;
            }
        } else {
            direct = prepare_file(&file_path, plan, direct)?;
        }
    }
    print_header(plan, &file_path, direct, &backends)?;

    let total = (backends.len() * plan.cases.len()) as u64;
    let bar = crate::output::progress(total, "bench io");
    let mut records = Vec::with_capacity(total as usize);
    for (kind, fs) in &backends {
        if *kind == BackendKind::Sim {
            fs.create_dir_all(&plan.dir)?;
            prepare_through(&**fs, &file_path, plan.size_bytes, false)
                .context("preparing the file inside the sim backend")?;
        }
        for spec in &plan.cases {
            let label = format!("{kind} {} qd{}", spec.name, spec.qd);
            bar.set_message(label.clone());
            let record = run_one(*kind, fs, &file_path, plan, direct, spec, &bar, &label)
                .with_context(|| format!("{label} on {}", file_path.display()))?;
            records.push(record);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    print_table(&mut std::io::stdout().lock(), &records).context("writing to stdout")?;
    if let Some(json) = &plan.json {
        write_json(json, &records)?;
        out!("wrote {} records to {}", records.len(), json.display());
    }
    Ok(records)
}

/// Write the whole file once (1 MiB blocks, synced) so that reads find data. Returns whether
/// direct I/O is in use: with `direct_fallback`, a file system without O_DIRECT means buffered.
fn prepare_file(path: &Path, plan: &Plan, direct: bool) -> anyhow::Result<bool> {
    let std_fs = io::posix::PosixFs::new();
    match prepare_through(&std_fs, path, plan.size_bytes, direct) {
        Ok(()) => Ok(direct),
        Err(e) if direct && is_no_direct(&e) => {
            if plan.direct_fallback {
                out!("note: {e}\n      measuring through the page cache instead");
                prepare_through(&std_fs, path, plan.size_bytes, false)?;
                Ok(false)
            } else {
                Err(anyhow::Error::new(e).context(NO_DIRECT_HINT))
            }
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot write the benchmark file in {}",
            plan.dir.display()
        ))),
    }
}

/// Whether an existing benchmark file can be used as is: only in a directory the user gave, and
/// only if it is at least as large as asked.
fn reusable(path: &Path, plan: &Plan) -> bool {
    !plan.dir_is_ours
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= plan.size_bytes)
}

/// Open a reused file with O_DIRECT once, for the same clear error as `prepare_file` gives.
fn check_direct_works(path: &Path, plan: &Plan) -> anyhow::Result<()> {
    match io::Fs::open(
        &io::posix::PosixFs::new(),
        path,
        OpenOptions::read_only().with_direct(true),
    ) {
        Ok(_) => Ok(()),
        Err(e) if is_no_direct(&e) => Err(anyhow::Error::new(e).context(NO_DIRECT_HINT)),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot open the benchmark file in {}",
            plan.dir.display()
        ))),
    }
}

const NO_DIRECT_HINT: &str = "O_DIRECT is not available here; pass --direct false to measure \
                              through the page cache, or --dir on a disk-backed file system";

/// Print a line; a closed stdout (`| head`) is an error to report, not a panic.
fn say(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    writeln!(std::io::stdout().lock(), "{args}").context("writing to stdout")
}

fn is_no_direct(e: &IoError) -> bool {
    matches!(e, IoError::InvalidInput { detail, .. } if detail.contains("O_DIRECT"))
}

fn prepare_through(fs: &dyn io::Fs, path: &Path, size_bytes: u64, direct: bool) -> io::Result<()> {
    let file = fs.open(path, OpenOptions::create_truncate().with_direct(direct))?;
    let mut buf = AlignedBuf::zeroed(SEQ_BLOCK_BYTES as usize);
    let blocks = size_bytes / SEQ_BLOCK_BYTES;
    for block in 0..blocks {
        case::fill_pattern(&mut buf, block + 1000);
        file.write_at(&buf, block * SEQ_BLOCK_BYTES)?;
    }
    file.sync_all()
}

fn print_header(
    plan: &Plan,
    path: &Path,
    direct: bool,
    backends: &[(BackendKind, FsHandle)],
) -> anyhow::Result<()> {
    let mem = mem_total_bytes();
    out!(
        "seedbed bench io: {} file {}, {}",
        human_bytes(plan.size_bytes),
        path.display(),
        match plan.limit.ops {
            Some(ops) => format!("{ops} requests per case"),
            None => format!("{:.1} s per case", plan.limit.runtime.as_secs_f64()),
        }
    );
    let real_disk = backends.iter().any(|(k, _)| *k != BackendKind::Sim);
    if !real_disk {
        // Only the simulator: no page cache, no device; its own line below says so.
    } else if let Some(fs_name) = memory_fs(&plan.dir) {
        out!(
            "  {} is on {fs_name}, which lives in RAM: there is no device here, and these numbers \
             measure memory copies, not a disk",
            plan.dir.display()
        );
    } else if direct {
        out!("  direct I/O (O_DIRECT): the page cache is bypassed; reads and writes reach the device");
    } else {
        match mem {
            Some(m) if plan.size_bytes < m => out!(
                "  buffered I/O: the file ({}) fits in RAM ({}), so reads are mostly page-cache hits, \
                 not the device (its pages are evicted before each case, but re-read pages stay cached)",
                human_bytes(plan.size_bytes),
                human_bytes(m)
            ),
            Some(m) => out!(
                "  buffered I/O: the file ({}) is larger than RAM ({}), so most reads reach the device",
                human_bytes(plan.size_bytes),
                human_bytes(m)
            ),
            None => out!("  buffered I/O: reads may be served from the page cache (MemTotal unknown)"),
        }
    }
    for (kind, _) in backends {
        match kind {
            BackendKind::Mmap => out!(
                "  mmap: reads go through a memory map, which cannot bypass the page cache: they run \
                 buffered{}; writes go through pwrite as with std",
                if direct { " whatever --direct says" } else { "" }
            ),
            BackendKind::Sim => out!(
                "  sim: an in-memory simulated disk; its numbers measure the simulator, not a device"
            ),
            _ => {}
        }
    }
    Ok(())
}

/// Whether a case on this backend uses O_DIRECT, given the run's setting.
fn case_direct(kind: BackendKind, op: QueueOp, direct: bool) -> bool {
    match kind {
        BackendKind::Sim => false,
        BackendKind::Mmap if op == QueueOp::Read => false,
        _ => direct,
    }
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    kind: BackendKind,
    fs: &FsHandle,
    path: &Path,
    plan: &Plan,
    direct: bool,
    spec: &CaseSpec,
    bar: &indicatif::ProgressBar,
    label: &str,
) -> anyhow::Result<IoRecord> {
    let direct = case_direct(kind, spec.op, direct);
    let opts = match spec.op {
        QueueOp::Read => OpenOptions::read_only(),
        QueueOp::Write => OpenOptions::read_write(),
    }
    .with_direct(direct);
    if kind != BackendKind::Sim && !direct {
        evict_from_page_cache(path);
    }
    let file = fs.open(path, opts)?;
    let len = file.len()?;
    if len < plan.size_bytes {
        bail!(
            "the benchmark file is {len} bytes, expected {}",
            plan.size_bytes
        );
    }
    let outcome = run_case(&**fs, &file, plan.size_bytes, spec, plan.limit, bar, label)?;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    let served_from = if kind == BackendKind::Sim {
        "memory"
    } else if let Some(fs_name) = memory_fs(&plan.dir) {
        if fs_name == "tmpfs" {
            "memory (tmpfs)"
        } else {
            "memory (ramfs)"
        }
    } else if direct {
        "device"
    } else if mem_total_bytes().is_some_and(|m| plan.size_bytes >= m) {
        "mostly device"
    } else {
        "page cache"
    };
    Ok(IoRecord {
        backend: kind.name().to_string(),
        case: spec.name.to_string(),
        block_size_bytes: spec.block_bytes,
        qd: spec.qd,
        qd_effective: if outcome.completes_on_push {
            1
        } else {
            spec.qd
        },
        direct,
        ops: outcome.ops,
        bytes: outcome.bytes,
        secs,
        mb_per_s: outcome.bytes as f64 / secs / 1e6,
        iops: outcome.ops as f64 / secs,
        p50_us: outcome.latency.quantile_us(0.50),
        p99_us: outcome.latency.quantile_us(0.99),
        p999_us: outcome.latency.quantile_us(0.999),
        served_from: served_from.to_string(),
    })
}

/// Ask the kernel to drop the file's clean cached pages, so a buffered case starts cold.
/// Best effort: a failure only means warmer caches, which the header already warns about.
fn evict_from_page_cache(path: &Path) {
    use std::os::fd::AsRawFd;
    if let Ok(f) = std::fs::File::open(path) {
        // SAFETY: a valid descriptor; fadvise only reads its arguments.
        unsafe {
            libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: IoArgs,
    }

    fn parse(args: &[&str]) -> Result<IoArgs, String> {
        let mut v = vec!["bench-io"];
        v.extend_from_slice(args);
        Cli::try_parse_from(v)
            .map(|c| c.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn options_parse_and_bad_backend_names_say_what_is_allowed() {
        let a = parse(&["--io", "std,uring", "--direct", "false", "--size", "256M"]).unwrap();
        assert_eq!(a.io, Some(vec![BackendKind::Std, BackendKind::Uring]));
        assert!(!a.direct);
        assert_eq!(a.size, Some(256 << 20));
        assert!(parse(&[]).unwrap().direct, "direct is on by default");
        let err = parse(&["--io", "std,floppy"]).unwrap_err();
        assert!(err.contains("unknown I/O backend 'floppy'"), "{err}");
        assert!(
            err.contains("expected one of std, uring, mmap, sim"),
            "{err}"
        );
        assert!(parse(&["--ops", "5", "--runtime-secs", "1"]).is_err());
        assert!(parse(&["--size", "lots"]).is_err());
    }

    #[test]
    fn the_tour_pass_writes_json_and_leaves_only_it_behind() {
        let out = tempfile::tempdir().unwrap();
        let records = run_quick(out.path()).unwrap();
        // uring may be skipped (with a note) where io_uring is unavailable.
        assert!(
            records.len() == 2 * 6 || records.len() == 3 * 6,
            "{}",
            records.len()
        );
        let json = std::fs::read_to_string(out.path().join("bench-io.jsonl")).unwrap();
        assert_eq!(json.lines().count(), records.len());
        let left: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            ["bench-io.jsonl"],
            "the temporary directory is removed"
        );
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        let missing = IoArgs {
            dir: Some("/no/such/dir/here".into()),
            ..IoArgs::default()
        };
        let err = plan_from_args(&missing).unwrap_err().to_string();
        assert!(err.contains("no such directory"), "{err}");
        let tiny = IoArgs {
            size: Some(4096),
            ..IoArgs::default()
        };
        assert!(plan_from_args(&tiny)
            .unwrap_err()
            .to_string()
            .contains("too small"));
        let nan = IoArgs {
            runtime_secs: Some(f64::NAN),
            ..IoArgs::default()
        };
        assert!(plan_from_args(&nan).is_err());
        let zero = IoArgs {
            ops: Some(0),
            ..IoArgs::default()
        };
        assert!(plan_from_args(&zero).is_err());
    }

    #[test]
    fn a_small_run_measures_every_case_and_cleans_up() {
        let parent = tempfile::tempdir().unwrap();
        let json = parent.path().join("out.jsonl");
        let args = IoArgs {
            io: Some(vec![
                BackendKind::Std,
                BackendKind::Mmap,
                BackendKind::Uring,
            ]),
            dir: Some(parent.path().to_path_buf()),
            size: Some(2 << 20),
            direct: false,
            ops: Some(40),
            json: Some(json.clone()),
            ..IoArgs::default()
        };
        let records = run(&args).unwrap();
        assert_eq!(records.len(), 3 * 6);
        for r in &records {
            assert_eq!(r.ops, 40, "{r:?}");
            assert_eq!(r.bytes, 40 * r.block_size_bytes as u64);
            assert!(
                r.iops > 0.0 && r.p50_us <= r.p99_us && r.p99_us <= r.p999_us,
                "{r:?}"
            );
        }
        let uring_qd32 = records
            .iter()
            .find(|r| r.backend == "uring" && r.qd == 32)
            .unwrap();
        assert_eq!(uring_qd32.qd_effective, 32);
        let std_qd32 = records
            .iter()
            .find(|r| r.backend == "std" && r.qd == 32)
            .unwrap();
        assert_eq!(std_qd32.qd_effective, 1);
        let lines = std::fs::read_to_string(&json).unwrap();
        assert_eq!(lines.lines().count(), records.len());
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        for key in [
            "backend",
            "case",
            "block_size_bytes",
            "qd",
            "direct",
            "ops",
            "bytes",
            "secs",
            "mb_per_s",
            "iops",
            "p50_us",
            "p99_us",
            "p999_us",
        ] {
            assert!(first.get(key).is_some(), "missing {key}");
        }
        assert!(
            !parent.path().join("bench-io.dat").exists(),
            "the file is removed"
        );
    }
}
