//! The FIFO queue's deduplication window, end to end through the real queue replica: its
//! replicated log in the LSM on a simulated disk, driven by the messages the producer and a
//! worker send. A resend within five minutes is accepted and dropped — even after the message
//! was received and deleted, and across a restart of the replica; once the window has passed,
//! the same id is a new message. A standard queue keeps no window.

use std::sync::Arc;

use seedbed_engine::clock::{ClockHandle, VirtualClock};
use seedbed_engine::io::sim::{SimConfig, SimFs};
use seedbed_engine::io::FsHandle;
use seedbed_engine::rng::DetRng;
use seedbed_nodes::{Effects, NoBuggify};
use seedbed_sim::node::{Ctx, Node, NodeId};
use seedbed_sim::time::ms;
use seedbed_sim::workloads::events::event::{Event, Kind};
use seedbed_sim::workloads::events::msg::Msg;
use seedbed_sim::workloads::events::node::EventsNode;
use seedbed_sim::workloads::events::params::{Params, DEDUP_WINDOW_NS, PRODUCER, QUEUE};

/// One queue replica (of one) on its own disk and clock; the producer is node 0, the worker
/// node 3.
struct Rig {
    clock: Arc<VirtualClock>,
    handle: ClockHandle,
    disk: FsHandle,
    rng: DetRng,
    p: Params,
    node: EventsNode,
}

const WORKER: NodeId = 3;
const NODES: u32 = 4;

impl Rig {
    fn new(fifo: bool) -> Rig {
        let clock = Arc::new(VirtualClock::new());
        clock.advance(ms(1_000));
        let p = Params {
            fifo,
            replicas: 1,
            ..Params::default()
        };
        let mut rig = Rig {
            handle: clock.clone(),
            clock,
            disk: Arc::new(SimFs::new(7, SimConfig::default())),
            rng: DetRng::new(7),
            p,
            node: EventsNode::new(p, QUEUE),
        };
        rig.run(|n, ctx| n.on_start(ctx));
        assert!(
            rig.node.queue().unwrap().is_leader(),
            "one replica leads at once"
        );
        rig
    }

    fn run(&mut self, f: impl FnOnce(&mut EventsNode, &mut Ctx<'_, EventsNode>)) -> Vec<Msg> {
        let mut fx = Effects::<EventsNode>::default();
        let mut never = NoBuggify;
        let mut ctx = Ctx::new(
            QUEUE,
            NODES,
            &self.handle,
            &mut self.rng,
            &self.disk,
            &mut never,
            &mut fx,
        );
        f(&mut self.node, &mut ctx);
        fx.sends.into_iter().map(|(_, m)| m).collect()
    }

    fn deliver(&mut self, from: NodeId, msg: Msg) -> Vec<Msg> {
        self.run(|n, ctx| n.on_message(ctx, from, msg))
    }

    /// The producer sends `e`; the replica must acknowledge it.
    fn send(&mut self, e: Event) {
        let out = self.deliver(
            PRODUCER,
            Msg::Send {
                batch: e.seq,
                events: vec![e],
            },
        );
        assert!(
            out.contains(&Msg::SendAck {
                batch: e.seq,
                seqs: vec![e.seq]
            }),
            "{out:?}"
        );
    }

    /// The worker receives (no long poll): what it got.
    fn receive(&mut self) -> Vec<(Event, u32)> {
        let out = self.deliver(
            WORKER,
            Msg::Receive {
                poll: 1,
                max: 10,
                wait_ms: 0,
            },
        );
        match out.as_slice() {
            [Msg::Messages { msgs, .. }] => msgs.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn restart(&mut self) {
        self.node = EventsNode::new(self.p, QUEUE);
        self.run(|n, ctx| n.on_restart(ctx));
        assert!(self.node.queue().unwrap().is_leader());
    }
}

fn event() -> Event {
    Event {
        seq: 42,
        key: 3,
        kind: Kind::Created,
        poison: false,
    }
}

#[test]
fn a_fifo_resend_within_the_window_is_dropped_and_after_it_is_new() {
    let mut q = Rig::new(true);
    let e = event();
    q.send(e);
    assert_eq!(q.receive(), vec![(e, 1)]);
    q.deliver(
        WORKER,
        Msg::Delete {
            entries: vec![(e.seq, 1)],
        },
    );
    assert!(q.node.queue().unwrap().queued().is_empty(), "deleted");

    // A minute later the producer sends it again (its ack was lost, say): accepted, dropped.
    q.clock.advance(ms(60_000));
    q.send(e);
    assert!(q.receive().is_empty(), "a duplicate within the window");
    assert_eq!(q.node.queue().unwrap().state().deduplicated, 1);

    // The window lives in the replicated log: a restarted replica still remembers the id.
    q.restart();
    q.clock.advance(DEDUP_WINDOW_NS - ms(60_000) - 1);
    q.send(e);
    assert!(q.receive().is_empty(), "still within five minutes");
    assert_eq!(q.node.queue().unwrap().state().deduplicated, 2);

    // Five minutes after the first send, the id is forgotten: the resend is a new message.
    q.clock.advance(1);
    q.send(e);
    assert_eq!(q.node.queue().unwrap().state().dedup_expired, 1);
    assert_eq!(q.receive(), vec![(e, 1)], "a new message, received afresh");
}

#[test]
fn a_standard_queue_keeps_no_window() {
    let mut q = Rig::new(false);
    let e = event();
    q.send(e);
    assert_eq!(q.receive(), vec![(e, 1)]);
    q.deliver(
        WORKER,
        Msg::Delete {
            entries: vec![(e.seq, 1)],
        },
    );
    q.clock.advance(ms(1));
    q.send(e);
    assert_eq!(q.receive(), vec![(e, 1)], "enqueued again at once");
    assert_eq!(q.node.queue().unwrap().state().deduplicated, 0);
}
