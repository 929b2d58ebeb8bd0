//! The quorum checkers added for what the mutation run (scripts/mutants.sh) showed the default
//! sweep let through, each fed the history of a coordinator that breaks the promise and of one
//! that keeps it. A coordinator that does this is hard to reach through a planted bug in a few
//! seeds; the histories here are the smallest that show it.

use std::sync::Arc;

use seedbed_sim::check::Checker;
use seedbed_sim::workloads::quorum::check::durability::Durability;
use seedbed_sim::workloads::quorum::check::quorums::WriteQuorum;
use seedbed_sim::workloads::quorum::msg::{Msg, Op, Reply};
use seedbed_sim::workloads::quorum::params::{Bug, Params};
use seedbed_sim::workloads::quorum::ring::Ring;
use seedbed_sim::workloads::quorum::vclock::{Entry, VClock};
use seedbed_sim::workloads::quorum::version::{Mode, Version};

fn version(writer: u32, value: Option<u64>) -> Version {
    Version {
        clock: VClock::from_entries(vec![Entry {
            actor: writer,
            counter: 1,
            ts_ns: 5,
        }]),
        ts_ns: 5,
        writer,
        value,
    }
}

fn params(w: u32) -> Arc<Params> {
    Arc::new(Params {
        n: 3,
        r: 1,
        w,
        mode: Mode::VClock,
        bug: Bug::None,
        sloppy: false,
        gossip: false,
        ring: Ring::new(5, 8, 3),
        timeout_ns: 20_000_000,
        phase_tries: 3,
        client_retries: 2,
        backoff_ns: 5_000_000,
        concurrency: 64,
        ae_every_ns: 10_000_000,
        handoff_every_ns: 20_000_000,
    })
}

/// A put acknowledged with a version that does not hold its value lost the client's write,
/// however durable that version is.
#[test]
fn durability_holds_the_acknowledged_version_to_the_clients_value() {
    let put = Op::Put { key: 4, value: 17 };
    let mut d = Durability::new(Mode::VClock);
    d.invoke(1, 0, 0, &put).unwrap();
    let err = d
        .complete(2, 0, &Reply::Written(version(0, None), 0))
        .unwrap_err();
    assert!(err.contains("not the value 17 it wrote"), "{err}");

    let mut d = Durability::new(Mode::VClock);
    d.invoke(1, 0, 0, &put).unwrap();
    let err = d
        .complete(2, 0, &Reply::Written(version(0, Some(16)), 0))
        .unwrap_err();
    assert!(err.contains("holds Some(16)"), "{err}");

    // A delete's version is a tombstone.
    let mut d = Durability::new(Mode::VClock);
    d.invoke(1, 1, 0, &Op::Delete { key: 4 }).unwrap();
    let err = d
        .complete(2, 1, &Reply::Written(version(0, Some(3)), 0))
        .unwrap_err();
    assert!(err.contains("tombstone"), "{err}");

    // The client's own value and tombstone pass.
    let mut d = Durability::new(Mode::VClock);
    d.invoke(1, 0, 0, &put).unwrap();
    d.complete(2, 0, &Reply::Written(version(0, Some(17)), 0))
        .unwrap();
    d.invoke(3, 1, 0, &Op::Delete { key: 4 }).unwrap();
    d.complete(4, 1, &Reply::Written(version(0, None), 0))
        .unwrap();
}

/// The reply names the replicas that stored the write themselves; leaving out one whose
/// acknowledgement arrived lets that replica lose the write without the replica-level
/// durability check noticing.
#[test]
fn a_write_reply_names_every_replica_whose_acknowledgement_arrived() {
    let p = params(2);
    let key = 4;
    let pref = p.ring.preference(p.ring.range_of(key)).to_vec();
    let coord = pref[0];
    let v = version(coord, Some(17));
    let req = 9;
    // The coordinator's history: stores to all three, acknowledgements from the first two.
    let history = |c: &mut WriteQuorum| {
        c.invoke(1, 0, coord, &Op::Put { key, value: 17 }).unwrap();
        for &to in &pref {
            let store = Msg::Store {
                req,
                key,
                version: Box::new(v.clone()),
                hint_for: None,
            };
            c.deliver(2, coord, to, &store).unwrap();
        }
        for &from in &pref[..2] {
            c.deliver(3, from, coord, &Msg::StoreAck { req, ok: true })
                .unwrap();
        }
    };
    let both = (1u64 << pref[0]) | (1 << pref[1]);

    let mut c = WriteQuorum::new(p.clone());
    history(&mut c);
    let err = c
        .complete(4, 0, &Reply::Written(v.clone(), 1 << pref[0]))
        .unwrap_err();
    assert!(err.contains(&format!("leaves out n{}", pref[1])), "{err}");

    // Naming one that did not acknowledge was already an error; naming exactly both passes.
    let mut c = WriteQuorum::new(p.clone());
    history(&mut c);
    let err = c
        .complete(4, 0, &Reply::Written(v.clone(), both | (1 << pref[2])))
        .unwrap_err();
    assert!(err.contains("no acknowledgement"), "{err}");
    let mut c = WriteQuorum::new(p);
    history(&mut c);
    c.complete(4, 0, &Reply::Written(v, both)).unwrap();
}
