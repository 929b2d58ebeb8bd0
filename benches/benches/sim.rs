//! Simulator speed: simulated events per second on one core.
//!
//! `ping_10_nodes` is the message-only workload the goal is stated for (10 nodes exchanging
//! pings, no faults, hash-only trace): at least 2,000,000 events/s per core. `register_swarm`
//! shows the cost of a workload with disks, timers and swarm faults.
//!
//! Run: `cargo bench -p seedbed-benches --bench sim`. Criterion's throughput line is events/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seedbed_sim::{registry, FaultSource, RunConfig};

fn events_of(c: &RunConfig) -> u64 {
    registry::run(c, None).expect("valid config").events
}

fn bench_ping(cr: &mut Criterion) {
    let mut c = RunConfig::new("ping", 1);
    c.faults = FaultSource::None;
    c.fault_ms = Some(200);
    c.quiet_ms = Some(1);
    let events = events_of(&c);
    let mut g = cr.benchmark_group("sim");
    g.throughput(Throughput::Elements(events));
    g.bench_function("ping_10_nodes", |b| {
        b.iter(|| registry::run(&c, None).expect("runs"))
    });
    g.finish();
}

fn bench_register(cr: &mut Criterion) {
    let c = RunConfig::new("register", 3);
    let events = events_of(&c);
    let mut g = cr.benchmark_group("sim");
    g.throughput(Throughput::Elements(events));
    g.bench_function("register_swarm", |b| {
        b.iter(|| registry::run(&c, None).expect("runs"))
    });
    g.finish();
}

criterion_group!(benches, bench_ping, bench_register);
criterion_main!(benches);
