//! Crash and restart: memory is lost, the disk keeps what was synced, and unsynced writes are
//! kept, dropped or torn as the plan says. Also: the planted `no-fsync` bug is caught by crashes
//! while the correct register survives the same crashes.

use std::path::Path;

use seedbed_engine::io::{read_file, write_file_durable, FileHandle, OpenOptions};
use seedbed_engine::rng::DetRng;
use seedbed_sim::check::Checker;
use seedbed_sim::config::{RunConfig, WorkloadDefaults};
use seedbed_sim::faults::{DiskFaults, Fault, FaultPlan, Periodic, ScheduledFault};
use seedbed_sim::node::{Ctx, Node, NodeId, OpId, TimerId};
use seedbed_sim::workload::{OpFor, Workload};
use seedbed_sim::{registry, world, FaultSource, SimError};

/// What a node found on its disk at its last boot, and whether its memory survived.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Found {
    synced: bool,
    unsynced: Option<usize>,
    restarts_seen: u32,
    timer_fired_after_crash: bool,
}

struct Journal {
    found: Found,
    /// The unsynced file, kept open. Like an LSM's WAL on close, the node syncs it when it is
    /// dropped: a crash must not run that sync before the power cut (see `Drop`).
    file: Option<FileHandle>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        // After a simulated crash the handle is dead and this fails; were the node dropped
        // before its disk crashed, this would make the "lost" write durable.
        if let Some(f) = &self.file {
            let _ = f.sync_data();
        }
    }
}

impl Journal {
    fn inspect(&mut self, ctx: &mut Ctx<'_, Self>) {
        let fs = ctx.disk().clone();
        self.found.synced =
            read_file(fs.as_ref(), Path::new("/synced")).is_ok_and(|b| b == b"durable");
        self.found.unsynced = read_file(fs.as_ref(), Path::new("/unsynced"))
            .ok()
            .map(|b| b.len());
    }
}

impl Node for Journal {
    type Msg = ();
    type Op = ();
    type Reply = Found;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let fs = ctx.disk().clone();
        write_file_durable(fs.as_ref(), Path::new("/synced"), b"durable").unwrap();
        let f = fs
            .open(Path::new("/unsynced"), OpenOptions::create_truncate())
            .unwrap();
        f.write_at(&[7u8; 4096], 0).unwrap();
        self.file = Some(f);
        // The name is durable, the bytes are not.
        fs.sync_dir(Path::new("/")).unwrap();
        // A timer that must die with the node if it crashes first.
        ctx.set_timer(50_000_000, 9);
    }

    fn on_restart(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.found.restarts_seen += 1;
        self.inspect(ctx);
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}

    fn on_timer(&mut self, _ctx: &mut Ctx<'_, Self>, _t: TimerId) {
        self.found.timer_fired_after_crash = true;
    }

    fn on_client(&mut self, ctx: &mut Ctx<'_, Self>, op_id: OpId, _op: ()) {
        ctx.reply(op_id, self.found);
    }
}

/// Fails the run if a report breaks the expectation for the plan's crash fate.
struct Expect {
    unsynced_kept: Option<bool>,
    reports: std::rc::Rc<std::cell::RefCell<Vec<Found>>>,
}

impl Checker<Journal> for Expect {
    fn name(&self) -> &'static str {
        "journal"
    }
    fn complete(&mut self, _t: u64, _op: OpId, f: &Found) -> Result<(), String> {
        self.reports.borrow_mut().push(*f);
        if !f.synced {
            return Err(format!("synced file lost: {f:?}"));
        }
        if f.restarts_seen == 0 {
            return Ok(()); // Never crashed: its page cache still holds the write.
        }
        match self.unsynced_kept {
            Some(true) if f.unsynced != Some(4096) => {
                Err(format!("unsynced write not kept: {f:?}"))
            }
            Some(false) if f.unsynced != Some(0) => {
                Err(format!("unsynced write not dropped: {f:?}"))
            }
            _ => Ok(()),
        }
    }
}

thread_local! {
    static REPORTS: std::rc::Rc<std::cell::RefCell<Vec<Found>>> = Default::default();
    static KEEP: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

struct CrashTest;

impl Workload for CrashTest {
    type Node = Journal;
    type Summary = seedbed_sim::NoSummary;
    const NAME: &'static str = "crash-test";
    fn defaults() -> WorkloadDefaults {
        WorkloadDefaults {
            nodes: 2,
            nodes_min: 1,
            ops: 0,
            op_gap_us: 1_000,
            fault_ms: 100,
            quiet_ms: 100,
        }
    }
    fn new(_c: &RunConfig, _nodes: u32) -> Result<Self, SimError> {
        Ok(CrashTest)
    }
    fn build_node(&self, _id: NodeId) -> Journal {
        Journal {
            found: Found {
                synced: true,
                unsynced: Some(4096),
                restarts_seen: 0,
                timer_fired_after_crash: false,
            },
            file: None,
        }
    }
    fn next_op(&mut self, _rng: &mut DetRng, _i: u64) -> (NodeId, OpFor<Self>) {
        (0, ())
    }
    fn quiet_ops(&mut self) -> Vec<(NodeId, OpFor<Self>)> {
        vec![(0, ()), (1, ())]
    }
    fn checkers(&self) -> Vec<Box<dyn Checker<Journal>>> {
        vec![Box::new(Expect {
            unsynced_kept: KEEP.with(|k| k.get()),
            reports: REPORTS.with(|r| r.clone()),
        })]
    }
}

fn crash_run(keep: f64, seed: u64) -> Vec<Found> {
    KEEP.with(|k| k.set(if keep == 1.0 { Some(true) } else { Some(false) }));
    REPORTS.with(|r| r.borrow_mut().clear());
    let mut c = RunConfig::new("crash-test", seed);
    c.faults = FaultSource::Plan(Box::new(FaultPlan {
        disk: DiskFaults {
            crash_keep: keep,
            crash_tear: 0.0,
            crash_lose_dir: 0.0,
            ..DiskFaults::default()
        },
        ..FaultPlan::none()
    }));
    c.schedule = Some(vec![ScheduledFault {
        at_ms: 10,
        fault: Fault::Crash {
            node: 0,
            down_ms: 20,
        },
    }]);
    let o = world::run::<CrashTest>(&c, None).unwrap();
    assert!(o.violation.is_none(), "{:?}", o.violation);
    assert_eq!(o.crashes, 1);
    REPORTS.with(|r| r.borrow().clone())
}

#[test]
fn crash_drops_unsynced_writes_keeps_synced_and_forgets_memory() {
    let r = crash_run(0.0, 1);
    assert_eq!(r.len(), 2);
    let crashed = r[0];
    assert!(crashed.synced);
    assert_eq!(
        crashed.unsynced,
        Some(0),
        "the name was synced, the bytes dropped (and the node's sync-on-drop came too late)"
    );
    assert_eq!(
        crashed.restarts_seen, 1,
        "restart builds a fresh node: counters start over"
    );
    assert!(!crashed.timer_fired_after_crash, "timers die with the node");
    assert!(r[1].timer_fired_after_crash, "the other node's timer fired");
}

#[test]
fn crash_can_keep_unsynced_writes() {
    let r = crash_run(1.0, 2);
    assert_eq!(r[0].unsynced, Some(4096));
}

fn register_failures(bug: &str, seeds: std::ops::Range<u64>) -> usize {
    let plan = FaultPlan {
        crashes: Some(Periodic {
            every_ms: 60,
            duration_ms_max: 30,
        }),
        disk: DiskFaults {
            crash_keep: 0.0,
            crash_tear: 0.2,
            crash_lose_dir: 0.8,
            ..DiskFaults::default()
        },
        ..FaultPlan::none()
    };
    seeds
        .filter(|&seed| {
            let mut c = RunConfig::new("register", seed);
            c.faults = FaultSource::Plan(Box::new(plan.clone()));
            c.params.insert("bug".into(), bug.into());
            let o = registry::run(&c, None).unwrap();
            assert!(o.crashes > 3, "seed {seed}: only {} crashes", o.crashes);
            o.violation.is_some_and(|v| {
                assert_eq!(v.checker, "register-linearizable", "seed {seed}: {v}");
                true
            })
        })
        .count()
}

#[test]
fn crashes_catch_acks_before_fsync_and_spare_the_correct_register() {
    assert_eq!(
        register_failures("none", 0..12),
        0,
        "the correct register failed under crashes"
    );
    assert!(
        register_failures("no-fsync", 0..12) > 0,
        "no crash exposed the missing fsync"
    );
}
