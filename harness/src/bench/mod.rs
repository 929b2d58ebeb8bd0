//! `seedbed bench ...`: whole workloads on a real disk.

pub mod io;
pub mod lsm;

use clap::Subcommand;

/// The benchmarks, by what they measure.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Device benchmark in the spirit of fio, per I/O backend.
    Io(io::IoArgs),
    /// db_bench-style workloads (fillseq, fillrandom, readrandom, scan, YCSB A-F) on the LSM.
    Lsm(lsm::LsmArgs),
}

/// Run one benchmark subcommand.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Io(args) => io::run(&args).map(|_| ()),
        BenchCommand::Lsm(args) => lsm::run(&args).map(|_| ()),
    }
}
