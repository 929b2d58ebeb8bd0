//! The quorum checkers added for what the mutation run (scripts/mutants.sh) showed the default
//! sweep let through, each fed the history of a coordinator that breaks the promise and of one
//! that keeps it. Where a coordinator that does this is hard to reach through a planted bug in
//! a few seeds, the histories here are the smallest that show it; the request-life, stand-in
//! and availability checkers are shown failing runs with a planted bug (`--set bug=...`) and
//! passing the same runs without it.

use std::sync::Arc;

use seedbed_sim::check::Checker;
use seedbed_sim::workloads::quorum::check::context::Context;
use seedbed_sim::workloads::quorum::check::durability::Durability;
use seedbed_sim::workloads::quorum::check::life::RequestLife;
use seedbed_sim::workloads::quorum::check::quorums::WriteQuorum;
use seedbed_sim::workloads::quorum::check::siblings::SiblingsConcurrent;
use seedbed_sim::workloads::quorum::check::standins::StandIns;
use seedbed_sim::workloads::quorum::msg::{Msg, Op, Reply};
use seedbed_sim::workloads::quorum::params::{Bug, Params};
use seedbed_sim::workloads::quorum::ring::Ring;
use seedbed_sim::workloads::quorum::vclock::{Entry, VClock};
use seedbed_sim::workloads::quorum::version::{Mode, Siblings, Version};
use seedbed_sim::{registry, FaultSource, RunConfig, RunOutcome};

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
        sync: seedbed_sim::workloads::quorum::params::SyncMode::Always,
        group_delay_ns: 0,
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

fn run_quorum(seed: u64, params: &[(&str, &str)], faults: FaultSource) -> RunOutcome {
    let mut c = RunConfig::new("quorum", seed);
    for (k, v) in params {
        c.params.insert((*k).to_string(), (*v).to_string());
    }
    c.faults = faults;
    registry::run(&c, None).expect("config is valid")
}

/// `quorum-request-life` holds each phase of a request to its `phase_tries` deadlines: a
/// coordinator that gives a phase up at its first deadline breaks the lower bound, one that
/// never gives up the upper; the same seeds pass without the bug.
#[test]
fn request_life_catches_a_phase_given_up_early_and_one_never_given_up() {
    for (bug, seed, says) in [
        ("give-up-early", 2, "before its 3 deadlines"),
        ("never-give-up", 2, "past 3 deadlines"),
    ] {
        let o = run_quorum(seed, &[("bug", bug)], FaultSource::Swarm);
        let v = o.violation.expect("the planted bug is caught");
        assert_eq!(v.checker, RequestLife::NAME, "{bug} seed {seed}: {v}");
        assert!(v.message.contains(says), "{bug}: {}", v.message);
        let clean = run_quorum(seed, &[], FaultSource::Swarm);
        assert!(
            clean.violation.is_none(),
            "seed {seed}: {:?}",
            clean.violation
        );
    }
}

/// `quorum-stand-ins`: a fallback holding a hint for a replica that missed no deadline of the
/// coordinator is caught where it is chosen; the same seed passes without the bug.
#[test]
fn stand_ins_catch_a_hint_for_a_replica_that_missed_nothing() {
    let seed = 0;
    let o = run_quorum(seed, &[("bug", "hint-for-up")], FaultSource::Swarm);
    let v = o.violation.expect("the planted bug is caught");
    assert_eq!(v.checker, StandIns::NAME, "{v}");
    assert!(v.message.contains("nothing said"), "{}", v.message);
    assert!(run_quorum(seed, &[], FaultSource::Swarm)
        .violation
        .is_none());
}

/// `quorum-stand-ins`, the protocol's rules the other way round: a store phase begins with a
/// stand-in for each replica the coordinator's detector certainly holds down; at a store
/// deadline every target that has not acknowledged gets the next unused fallback; and a
/// deadline resends to exactly the replicas that have not answered. A coordinator that breaks
/// one is caught; the same seeds pass without the bug.
#[test]
fn stand_ins_catch_missing_stand_ins_and_wrong_resends() {
    for (bug, seed, says) in [
        ("no-deadline-stand-in", 2, "added stand-ins [] to targets"),
        ("no-stand-in-at-start", 0, "but its detector calls for"),
        ("fetch-resend-to-all", 2, "resent its Fetch to"),
    ] {
        let o = run_quorum(seed, &[("bug", bug)], FaultSource::Swarm);
        let v = o.violation.expect("the planted bug is caught");
        assert_eq!(v.checker, StandIns::NAME, "{bug}: {v}");
        assert!(v.message.contains(says), "{bug}: {}", v.message);
        assert!(
            run_quorum(seed, &[], FaultSource::Swarm)
                .violation
                .is_none(),
            "seed {seed}"
        );
    }
}

/// A hint written for a replica that is up, in a run with no fault at all, fails at the
/// store's start: `quorum-stand-ins` holds the first targets to the coordinator's detector with
/// `membership=local`, and to its SWIM member's table with `membership=gossip` (before that
/// checker judged SWIM's view, `quorum-available` caught it there). Without the bug both pass,
/// every operation served at its first try.
#[test]
fn a_hint_written_in_a_healthy_cluster_is_caught() {
    for membership in ["local", "gossip"] {
        let o = run_quorum(
            1,
            &[("bug", "hint-for-up"), ("membership", membership)],
            FaultSource::None,
        );
        let v = o.violation.expect("the planted bug is caught");
        assert_eq!(v.checker, StandIns::NAME, "{membership}: {v}");
        let clean = run_quorum(1, &[("membership", membership)], FaultSource::None);
        assert!(
            clean.violation.is_none(),
            "{membership}: {:?}",
            clean.violation
        );
        assert!(clean.ops_completed > 0);
    }
}

fn clocked(pairs: &[(u32, u64)], writer: u32, value: u64) -> Version {
    Version {
        clock: VClock::from_entries(
            pairs
                .iter()
                .map(|&(actor, counter)| Entry {
                    actor,
                    counter,
                    ts_ns: 5,
                })
                .collect(),
        ),
        ts_ns: 5,
        writer,
        value: Some(value),
    }
}

/// `quorum-context`: the version a put stores must supersede every version the replies to
/// its read phase carried to the coordinator before the store began (Dynamo §4.4). A merge
/// that keeps the smaller counter (the mutants `>` → `==` / `<` in `VClock::observe`) stores a
/// clock that misses one; replies the coordinator does not merge do not count.
#[test]
fn context_catches_a_put_that_does_not_supersede_what_its_read_returned() {
    let (coord, req, key) = (0, 7, 4);
    let reply = |v: Vec<Version>| Msg::FetchReply {
        req,
        sibs: Some(Siblings::from(v)),
    };
    let store = |v: Version| Msg::Store {
        req,
        key,
        version: Box::new(v),
        hint_for: None,
    };
    let a = clocked(&[(1, 3)], 1, 10);
    let b = clocked(&[(2, 1)], 2, 11);
    // Replicas n1 and n2 answer with concurrent versions; the put's version must descend both.
    let read = |c: &mut Context| {
        c.deliver(1, 1, coord, &reply(vec![a.clone()])).unwrap();
        c.deliver(2, 2, coord, &reply(vec![b.clone()])).unwrap();
    };

    // n1's counter 3 kept as 2: the merge took the smaller one.
    let mut c = Context::new(Mode::VClock);
    read(&mut c);
    let bad = clocked(&[(0, 1), (1, 2), (2, 1)], coord, 12);
    let err = c.send(3, coord, 1, &store(bad)).unwrap_err();
    assert!(err.contains("does not supersede 10@[n1:3]"), "{err}");
    assert!(err.contains("n1:2 where that version has n1:3"), "{err}");

    // The right merge, ticked at the coordinator, passes; resends are not judged again.
    let mut c = Context::new(Mode::VClock);
    read(&mut c);
    let good = clocked(&[(0, 1), (1, 3), (2, 1)], coord, 12);
    c.send(3, coord, 1, &store(good.clone())).unwrap();
    c.send(3, coord, 2, &store(good.clone())).unwrap();
    assert_eq!((c.judged, c.compared), (1, 2));

    // What the coordinator does not merge is no part of the context: a reply delivered after
    // the store began, a replica's second reply, a reply without versions.
    let mut c = Context::new(Mode::VClock);
    read(&mut c);
    c.deliver(3, 1, coord, &reply(vec![clocked(&[(1, 9)], 1, 13)]))
        .unwrap();
    c.deliver(3, 3, coord, &Msg::FetchReply { req, sibs: None })
        .unwrap();
    c.send(4, coord, 1, &store(good.clone())).unwrap();
    c.deliver(5, 3, coord, &reply(vec![clocked(&[(3, 1)], 3, 14)]))
        .unwrap();
    c.send(6, coord, 3, &store(good.clone())).unwrap();

    // A coordinator that restarted starts afresh: its old requests' replies are forgotten.
    let mut c = Context::new(Mode::VClock);
    read(&mut c);
    c.restarted(3, coord);
    c.send(4, coord, 1, &store(clocked(&[(0, 1)], coord, 12)))
        .unwrap();

    // Last-writer-wins orders by timestamp, not by clock: not judged.
    let mut c = Context::new(Mode::Lww);
    read(&mut c);
    c.send(3, coord, 1, &store(clocked(&[(0, 1)], coord, 12)))
        .unwrap();
    assert_eq!(c.judged, 0);
}

/// `quorum-siblings`: a set a replica returns, or a get's answer, never holds a version beside
/// one that supersedes it (Dynamo §4.4) — what a merge that keeps ancestors (the mutant
/// `Version::covers -> false`) returns.
#[test]
fn siblings_catch_a_set_that_keeps_an_ancestor() {
    let old = clocked(&[(1, 1)], 1, 10);
    let new = clocked(&[(1, 1), (2, 1)], 2, 11);
    let other = clocked(&[(3, 1)], 3, 12);
    let kept = Siblings::from(vec![old.clone(), new.clone()]);
    let concurrent = Siblings::from(vec![new.clone(), other.clone()]);

    let mut c = SiblingsConcurrent::new(Mode::VClock);
    let err = c
        .deliver(
            1,
            1,
            0,
            &Msg::FetchReply {
                req: 3,
                sibs: Some(kept.clone()),
            },
        )
        .unwrap_err();
    assert!(
        err.contains("n1's reply to n0's read") && err.contains("holds 10@[n1:1]"),
        "{err}"
    );
    let mut c = SiblingsConcurrent::new(Mode::VClock);
    let err = c
        .complete(2, 5, &Reply::Got(kept.clone(), vec![]))
        .unwrap_err();
    assert!(err.contains("the answer to op 5"), "{err}");

    // Concurrent versions are siblings; one version is nothing to judge.
    let mut c = SiblingsConcurrent::new(Mode::VClock);
    c.deliver(
        1,
        1,
        0,
        &Msg::FetchReply {
            req: 3,
            sibs: Some(concurrent.clone()),
        },
    )
    .unwrap();
    c.complete(2, 5, &Reply::Got(concurrent, vec![])).unwrap();
    c.complete(2, 6, &Reply::Got(Siblings::one(new), vec![]))
        .unwrap();
    assert_eq!(c.judged, 2);

    // Last-writer-wins: not judged.
    let mut c = SiblingsConcurrent::new(Mode::Lww);
    c.complete(2, 5, &Reply::Got(kept, vec![])).unwrap();
}
