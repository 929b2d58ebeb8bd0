//! `seedbed bench ...`: whole workloads on a real disk.

pub mod cluster;
pub mod dynamodb;
pub mod iam;
pub mod io;
pub mod lsm;
pub mod object;
pub mod object_breakdown;
pub mod s3;

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
    /// Load on an S3 endpoint (warp-like PUT/GET/mixed/LIST cells), or --compare: GETs
    /// in-process vs over HTTP on one store.
    S3(s3::S3BenchArgs),
    /// Quorum gets and puts on a real loopback cluster for several (N, R, W), with --sync
    /// always and group, beside the node's own LSM with the same sync policy.
    Cluster(cluster::ClusterBenchArgs),
    /// YCSB A-F on a DynamoDB table: in-process API, JSON protocol, and an HTTP endpoint.
    Dynamodb(dynamodb::DynamoBenchArgs),
}

/// Run one benchmark subcommand.
pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Io(args) => io::run(&args).map(|_| ()),
        BenchCommand::Lsm(args) => lsm::run(&args).map(|_| ()),
        BenchCommand::Object(args) => object::run(&args).map(|_| ()),
        BenchCommand::Iam(args) => iam::run(&args).map(|_| ()),
        BenchCommand::S3(args) => s3::run(&args).map(|_| ()),
        BenchCommand::Dynamodb(args) => dynamodb::run(&args).map(|_| ()),
        BenchCommand::Cluster(args) => cluster::run(&args).map(|_| ()),
    }
}
