//! `seedbed` — the command-line front of the testbed.
//!
//! Subcommands are grouped by what a user came to do: `bench` measures on real disks, `sim`
//! runs the deterministic simulator, `inspect` opens files for reading, `report` draws charts.
//! With no subcommand it runs the tour: a short pass over everything that exists.

mod bench;
mod cluster_cmd;
mod cluster_compare;
mod cluster_test;
mod iam_cmd;
mod iam_file_cmd;
mod inspect;
mod kv;
mod object_cmd;
mod output;
mod report;
mod serve_cmd;
mod sim;
mod table;
mod tour;

use std::process::ExitCode;

// Opt-in (`--features mimalloc`): the server answers each request with a handful of short-lived
// buffers (headers, XML, JSON, futures) freed on another thread; glibc's malloc spends about a
// quarter of the server's CPU on them. mimalloc's per-thread free lists make small requests
// faster but hold far more memory (docs/benchmarks.md, "The allocator"), so it is not the default.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Seedbed: a storage-engine research testbed with deterministic simulation.
///
/// Run with no arguments for the tour: a short benchmark of this machine's disk through every
/// I/O backend, with results written under ./seedbed-report/.
#[derive(Debug, Parser)]
#[command(name = "seedbed", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A short, bounded pass over every capability (the default when no subcommand is given).
    Tour(tour::TourArgs),
    /// The replicated store as real processes on loopback: up, status, down, put/get/delete,
    /// and faults (kill, pause, resume, restart, partition, heal, skew).
    Cluster(Box<cluster_cmd::ClusterArgs>),
    /// Measure throughput and latency on a real disk.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// The deterministic simulator: run, sweep, shrink, replay seeds.
    #[command(subcommand)]
    Sim(Box<sim::SimCommand>),
    /// The parity object store: S3's verbs (mb, put, get, ls, versions, scrub, ...).
    Object(Box<object_cmd::ObjectArgs>),
    /// Turn JSON results (bench --json, sim sweep --json) into index.html with SVG charts.
    Report(report::ReportArgs),
    /// Evaluate and explain AWS IAM policies; manage the IAM file a server reads.
    #[command(subcommand)]
    Iam(iam_cmd::IamCommand),
    /// Serve the object store over S3's HTTP API and tables over DynamoDB's (aws cli, boto3, ...).
    #[command(after_help = serve_cmd::AFTER_HELP)]
    Serve(serve_cmd::ServeArgs),
    /// Open engine files for reading and show what is inside (SSTables, logs, databases).
    #[command(subcommand)]
    Inspect(inspect::InspectCommand),
    /// The LSM key-value store from the command line (one operation, or `shell` for scripts).
    Kv(kv::KvArgs),
    /// DynamoDB-style items (partition/sort keys, conditions, queries, TTL) on the LSM.
    Table(table::TableArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Some(
            Command::Sim(_)
                | Command::Inspect(_)
                | Command::Iam(_)
                | Command::Object(_)
                | Command::Kv(_)
                | Command::Table(_)
        )
    ) {
        die_quietly_on_closed_stdout();
    }
    let result = match cli.command {
        None => tour::run(&tour::TourArgs::default()),
        Some(Command::Tour(args)) => tour::run(&args),
        Some(Command::Bench(cmd)) => bench::run(cmd),
        Some(Command::Cluster(args)) => return cluster_cmd::run(*args),
        Some(Command::Sim(cmd)) => return sim::run(*cmd),
        Some(Command::Object(args)) => object_cmd::run(*args),
        Some(Command::Report(args)) => report::run(&args),
        Some(Command::Iam(cmd)) => return iam_cmd::run(cmd),
        Some(Command::Serve(args)) => serve_cmd::run(args),
        Some(Command::Inspect(cmd)) => inspect::run(&cmd),
        Some(Command::Table(args)) => match table::run(&args) {
            Ok(0) => Ok(()),
            Ok(code) => return ExitCode::from(code as u8),
            Err(e) => Err(e),
        },
        Some(Command::Kv(args)) => match kv::run(&args) {
            Ok(0) => Ok(()),
            Ok(code) => return ExitCode::from(code as u8),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `seedbed sim run ... | head` should stop when `head` has read enough, as `grep` or `cat`
/// do, not panic in `println!` with "failed printing to stdout: Broken pipe". Rust ignores
/// SIGPIPE by default; the commands that only print (and open no sockets) take the default
/// action back, so a closed stdout ends them silently. Servers, clusters, benchmarks and the
/// tour keep SIGPIPE ignored: a peer that closes a socket must be an error, not a death.
fn die_quietly_on_closed_stdout() {
    // SAFETY: called once at start-up, before any other thread exists, with a valid signal
    // number and the default disposition; nothing else in the process handles SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
