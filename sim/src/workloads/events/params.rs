//! The pipeline's parameters (`--set key=value`), its planted bugs, and who plays which role.

use crate::node::NodeId;
use crate::time::ms;

/// Node 0 takes client writes and emits their events.
pub const PRODUCER: NodeId = 0;
/// Node 1 is the first queue replica (with `replicas=1`, the only one).
pub const QUEUE: NodeId = 1;

/// A node's part in the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The object store emitting events ([`super::producer`]).
    Producer,
    /// A queue replica ([`super::replica`], holding [`super::queue`]'s state).
    Queue,
    /// The table the function writes ([`super::table`]).
    Table,
    /// A function worker ([`super::worker`]).
    Worker,
}

/// The role of node `id` with `replicas` queue replicas: 0 the producer, 1..=replicas the
/// queue, then the table, then workers. With one replica this is the layout of the unreplicated
/// queue (1 queue, 2 table, 3.. workers).
pub fn role(id: NodeId, replicas: u32) -> Role {
    if id == PRODUCER {
        Role::Producer
    } else if id <= replicas {
        Role::Queue
    } else if id == replicas + 1 {
        Role::Table
    } else {
        Role::Worker
    }
}

/// The planted bugs, one precaution removed each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The correct pipeline.
    None,
    /// Workers delete a message as soon as they receive it, before the handler ran: a failed
    /// or crashed invocation loses the event. Caught by `events-no-lost-change`.
    DeleteBeforeProcess,
    /// The queue's visibility timeout (30 ms) is shorter than the handler's worst case, and
    /// workers go by their function timeout alone: a second worker receives the message while
    /// the first still runs it. Caught by `events-lease`.
    VisibilityShorterThanWork,
    /// The table applies effects without consulting the idempotency table: a redelivered
    /// event's effect is applied again. Caught by `events-exactly-once`.
    NoIdempotency,
    /// The table trusts arrival order: the latest event to arrive wins, not the highest
    /// sequencer. Caught by `events-key-order`.
    ArrivalOrder,
    /// The producer writes its outbox entry in a second write, after the commit, without a
    /// sync: a crash can keep the change and lose its event. Caught by
    /// `events-no-lost-change` (needs a crash of the producer).
    OutboxAfterCommitUnsynced,
    /// The queue's leader acknowledges a send once its own log holds it, before a majority of
    /// replicas does: a leader cut off from the others (a partition, a pause, a crash) acks
    /// sends that the next leader never had, and they are lost. Caught by
    /// `events-queue-durable` (needs `replicas` ≥ 3 and a failover).
    QueueAckBeforeMajority,
    /// A FIFO queue (implies `fifo=true`) that forgets its group lock: it hands out the next
    /// message of a group while an earlier one is still in flight, so a later change can take
    /// effect before an earlier one. Caught by `events-group-order`.
    FifoGroupUnlocked,
}

/// Every bug's parameter value.
pub const BUG_NAMES: &[(&str, Bug)] = &[
    ("none", Bug::None),
    ("delete-before-process", Bug::DeleteBeforeProcess),
    (
        "visibility-shorter-than-work",
        Bug::VisibilityShorterThanWork,
    ),
    ("no-idempotency", Bug::NoIdempotency),
    ("arrival-order", Bug::ArrivalOrder),
    (
        "outbox-after-commit-unsynced",
        Bug::OutboxAfterCommitUnsynced,
    ),
    ("fifo-group-unlocked", Bug::FifoGroupUnlocked),
    ("queue-ack-before-majority", Bug::QueueAckBeforeMajority),
];

impl Bug {
    /// Parse the `bug` parameter.
    pub fn parse(s: &str) -> Option<Bug> {
        BUG_NAMES.iter().find(|(n, _)| *n == s).map(|(_, b)| *b)
    }
}

/// The queue's visibility timeout under [`Bug::VisibilityShorterThanWork`].
pub const SHORT_VISIBILITY_NS: u64 = ms(30);

/// Everything the nodes are configured with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// The planted bug, if any.
    pub bug: Bug,
    /// A FIFO queue (SQS `FifoQueue`): each key is a message group, handed out in order with
    /// one message in flight per group; each event's sequencer is its deduplication id,
    /// remembered for [`DEDUP_WINDOW_NS`].
    pub fifo: bool,
    /// The queue's visibility timeout (SQS `VisibilityTimeout`), queue's local time.
    pub visibility_ns: u64,
    /// Receives after which the queue moves a message to the dead-letter queue instead of
    /// handing it out again (SQS `maxReceiveCount`).
    pub max_receive: u32,
    /// Invocations one worker runs at once (Lambda's concurrency limit).
    pub concurrency: u32,
    /// Messages per receive, at most (SQS allows 10).
    pub batch: u32,
    /// Longest a worker waits in a long poll (SQS `WaitTimeSeconds`), milliseconds.
    pub wait_ms: u64,
    /// An invocation's time limit (Lambda's function timeout), worker's local time.
    pub fn_timeout_ns: u64,
    /// Retries of a failed handler within one invocation.
    pub retries: u32,
    /// The first retry's backoff; it doubles per retry, plus up to as much jitter.
    pub backoff_ns: u64,
    /// Chance that one run of the handler fails transiently.
    pub fail_p: f64,
    /// Chance that a PUT's event is poison (the handler always fails on it).
    pub poison_p: f64,
    /// Keys the clients write.
    pub keys: u32,
    /// How often the producer drains its outbox.
    pub send_every_ns: u64,
    /// How often the queue answers held long polls (and checks its election and heartbeat
    /// deadlines).
    pub queue_tick_ns: u64,
    /// Queue replicas (nodes 1..=replicas); a majority of them must hold a send before it
    /// is acknowledged.
    pub replicas: u32,
    /// Chance that an event's handler runs long ([`SLOW_NS`]): longer than the visibility
    /// timeout, so the worker must extend the message's visibility while it runs.
    pub slow_p: f64,
}

impl Params {
    /// The table's node.
    pub fn table(&self) -> NodeId {
        self.replicas + 1
    }

    /// The first worker's node.
    pub fn first_worker(&self) -> NodeId {
        self.replicas + 2
    }

    /// The queue replicas' nodes.
    pub fn queue_nodes(&self) -> std::ops::RangeInclusive<NodeId> {
        QUEUE..=self.replicas
    }

    /// Replicas that make a majority.
    pub fn majority(&self) -> usize {
        self.replicas as usize / 2 + 1
    }

    /// The role of node `id`.
    pub fn role(&self, id: NodeId) -> Role {
        role(id, self.replicas)
    }

    /// The lease a worker assumes it holds after a receive, from when it sent the receive:
    /// the visibility timeout less a margin for clock drift — or, under
    /// [`Bug::VisibilityShorterThanWork`], only its function timeout.
    pub fn worker_lease_ns(&self) -> u64 {
        match self.bug {
            Bug::VisibilityShorterThanWork => u64::MAX,
            _ => self.visibility_ns - self.visibility_ns / 10,
        }
    }

    /// The queue's visibility timeout in force (shortened under the bug).
    pub fn queue_visibility_ns(&self) -> u64 {
        match self.bug {
            Bug::VisibilityShorterThanWork => SHORT_VISIBILITY_NS,
            _ => self.visibility_ns,
        }
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            bug: Bug::None,
            fifo: false,
            visibility_ns: ms(200),
            max_receive: 5,
            concurrency: 4,
            batch: 10,
            wait_ms: 50,
            fn_timeout_ns: ms(1_000),
            retries: 2,
            backoff_ns: ms(4),
            fail_p: 0.05,
            poison_p: 0.02,
            keys: 8,
            send_every_ns: ms(10),
            queue_tick_ns: ms(5),
            replicas: 3,
            slow_p: 0.03,
        }
    }
}

/// How long a FIFO queue remembers a deduplication id (SQS: five minutes), queue's local time.
pub const DEDUP_WINDOW_NS: u64 = ms(5 * 60 * 1_000);

/// A cold start's latency, drawn per worker boot: 20..=60 ms.
pub const COLD_START_NS: (u64, u64) = (ms(20), ms(60));
/// A warm invocation's handler latency: 1..=5 ms.
pub const WARM_NS: (u64, u64) = (ms(1), ms(5));
/// A slow handler run (see [`Params::slow_p`]): 250..=450 ms, beyond the 200 ms visibility
/// timeout.
pub const SLOW_NS: (u64, u64) = (ms(250), ms(450));
/// A worker idle this long goes cold again.
pub const KEEP_WARM_NS: u64 = ms(300);
