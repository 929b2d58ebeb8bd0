//! `seedbed bench ...`: whole workloads on a real disk.

pub mod iam;
pub mod io;
pub mod lsm;
pub mod object;
pub mod object_breakdown;

use clap::Subcommand;

/// The benchmarks, by what they measure.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Device benchmark in the spirit of fio, per I/O backend.
    Io(io::IoArgs),
    /// db_bench-style workloads (fillseq, fillrandom, readrandom, scan, YCSB A-F) on the LSM.
    Lsm(lsm::LsmArgs),
    /// PUT and GET goodput of the parity object store per object size, beside the device.
    Object(object::ObjectBenchArgs),
    /// IAM policy evaluation latency for policy sets of 1, 10 and 100 statements.
    Iam(iam::IamBenchArgs),
}

/// Run one benchmark subcommand.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Io(args) => io::run(&args).map(|_| ()),
        BenchCommand::Lsm(args) => lsm::run(&args).map(|_| ()),
        BenchCommand::Object(args) => object::run(&args).map(|_| ()),
        BenchCommand::Iam(args) => iam::run(&args).map(|_| ()),
    }
}
