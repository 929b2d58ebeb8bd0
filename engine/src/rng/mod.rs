//! Randomness, injected and seeded. Engine code takes a [`DetRng`] instead of reading OS
//! randomness, so that a run is a function of its seed.
//!
//! Sub-streams: [`DetRng::fork`] derives an independent generator for a named component
//! (`"node/3/disk"`, `"net"`). ChaCha has 2^64 streams per key, so a fork is a different
//! stream of the same key rather than a reseed from the parent's output: adding a component,
//! or drawing more numbers in one, never reshuffles the choices of another.
//!
//! Taped streams: a generator made with [`DetRng::taped`] files every draw on a [`Tape`], as
//! do its forks (named `parent/child`); a tape can also replay an edited record of draws
//! instead of drawing (see [`tape`]). An untaped generator pays one branch per draw for this.

pub mod tape;

use std::sync::Arc;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use tape::{Ask, Choice};
pub use tape::{Choices, Tape};

/// A deterministic random number generator (ChaCha8) with named sub-streams.
#[derive(Clone, Debug)]
pub struct DetRng {
    seed: u64,
    inner: ChaCha8Rng,
    tape: Option<Taped>,
}

/// A taped generator's tape, stream id and name.
#[derive(Clone, Debug)]
struct Taped {
    tape: Arc<Tape>,
    stream: u32,
    name: Arc<str>,
}

/// `below` without a tape: Lemire's multiply-shift with rejection.
fn below_fresh(inner: &mut ChaCha8Rng, n: u64) -> u64 {
    loop {
        let x = inner.next_u64();
        let m = u128::from(x) * u128::from(n);
        let low = m as u64;
        if low >= n.wrapping_neg() % n {
            return (m >> 64) as u64;
        }
    }
}

fn unit_fresh(inner: &mut ChaCha8Rng) -> u64 {
    inner.next_u64() >> 11
}

/// FNV-1a, 64-bit: a stable hash for stream names (std's hasher is randomised per process).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A seed for a process on a real machine: wall-clock nanoseconds mixed with the process id.
///
/// For the real runtimes only (the `seedbed` command on a disk, the server, a cluster node),
/// which print or log it so a run can be redone; the simulator never calls it — its seeds come
/// from the command line and its streams from [`DetRng::fork`].
pub fn os_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

impl DetRng {
    /// The root generator of a run.
    pub fn new(seed: u64) -> Self {
        DetRng {
            seed,
            inner: ChaCha8Rng::seed_from_u64(seed),
            tape: None,
        }
    }

    /// The same generator, filing its draws (and its forks') on `tape` as stream `name`.
    /// Recording changes no value drawn; replaying takes values from the tape's record.
    pub fn taped(mut self, tape: Arc<Tape>, name: &str) -> Self {
        let stream = tape.stream(name);
        self.tape = Some(Taped {
            tape,
            stream,
            name: name.into(),
        });
        self
    }

    /// File this generator's draws from now on under the sub-stream `label` of its own stream
    /// (`name#label` on the tape; `""`: the stream itself). Changes no value drawn and no use of
    /// the generator — only where a taped draw is recorded and replayed from; untaped, it does
    /// nothing. Replay keeps each sub-stream's draws in their order, so draws about one kind of
    /// thing (the simulated disk labels its fault draws with the kind of file they concern)
    /// stay lined up when a shrunk run makes fewer draws of another kind.
    pub fn file_under(&mut self, label: &str) {
        if let Some(t) = &mut self.tape {
            let stream = if label.is_empty() {
                t.tape.stream(&t.name)
            } else {
                t.tape.stream(&format!("{}#{label}", t.name))
            };
            t.stream = stream;
        }
    }

    /// The tape this generator files its draws on, if any.
    pub fn tape(&self) -> Option<&Arc<Tape>> {
        self.tape.as_ref().map(|t| &t.tape)
    }

    fn draw(&mut self, ask: Ask, fresh: impl FnOnce(&mut ChaCha8Rng) -> Choice) -> Choice {
        let t = self
            .tape
            .as_ref()
            .expect("only taped generators draw through the tape");
        let inner = &mut self.inner;
        t.tape.draw(t.stream, ask, || fresh(inner))
    }

    /// The seed this generator (or its root) was made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// An independent generator for the component called `name`; the same seed and name always
    /// give the same stream, whatever else has been drawn.
    pub fn fork(&self, name: &str) -> DetRng {
        let mut inner = ChaCha8Rng::seed_from_u64(self.seed);
        inner.set_stream(stable_hash(name.as_bytes()));
        let child = DetRng {
            seed: self.seed,
            inner,
            tape: None,
        };
        match &self.tape {
            None => child,
            Some(t) => {
                let full = if t.name.is_empty() {
                    name.to_string()
                } else {
                    format!("{}/{name}", t.name)
                };
                child.taped(t.tape.clone(), &full)
            }
        }
    }

    /// A uniform number in `0..n` (`n > 0`), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "DetRng::below(0)");
        if self.tape.is_none() {
            return below_fresh(&mut self.inner, n);
        }
        match self.draw(Ask::Below(n), |r| Choice::Below {
            n,
            v: below_fresh(r, n),
        }) {
            Choice::Below { v, .. } => v,
            other => unreachable!("below answered with {other:?}"),
        }
    }

    /// A uniform position in `0..n` (`n > 0`) inside a buffer of `n` elements: exactly
    /// [`below(n)`](DetRng::below) drawn fresh (the same value, the same use of the generator),
    /// but taped as its distance from the buffer's end, so that a replay into a buffer of
    /// another length keeps the position relative to the end (see [`tape`]'s module docs:
    /// "Positions from the end").
    pub fn position_from_end(&mut self, n: u64) -> u64 {
        assert!(n > 0, "DetRng::position_from_end(0)");
        if self.tape.is_none() {
            return below_fresh(&mut self.inner, n);
        }
        match self.draw(Ask::FromEnd(n), |r| Choice::FromEnd {
            n,
            d: n - 1 - below_fresh(r, n),
        }) {
            Choice::FromEnd { d, .. } => n - 1 - d,
            other => unreachable!("position_from_end answered with {other:?}"),
        }
    }

    /// A setting of `n` rungs (`n > 0`) that the shrinker may turn down: returns `n - 1`, the
    /// top rung (the component's normal value), and draws nothing from the generator — unless
    /// the tape replays a record that says another rung (see [`tape`]'s module docs,
    /// "Settings"). Taped, the rung is recorded, so the shrinker finds it; one rung per stream
    /// for the whole run, whichever span asks.
    pub fn setting(&mut self, n: u64) -> u64 {
        assert!(n > 0, "DetRng::setting(0)");
        if self.tape.is_none() {
            return n - 1;
        }
        let t = self.tape.as_ref().expect("checked above");
        t.tape.setting(t.stream, n)
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        if self.tape.is_none() {
            return unit_of(unit_fresh(&mut self.inner)) < p;
        }
        match self.draw(Ask::Chance(p), |r| Choice::Chance {
            p,
            v: unit_of(unit_fresh(r)) < p,
        }) {
            Choice::Chance { v, .. } => v,
            other => unreachable!("chance answered with {other:?}"),
        }
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        if self.tape.is_none() {
            return unit_of(unit_fresh(&mut self.inner));
        }
        match self.draw(Ask::Unit, |r| Choice::Unit { v: unit_fresh(r) }) {
            Choice::Unit { v } => unit_of(v),
            other => unreachable!("unit answered with {other:?}"),
        }
    }

    fn raw(&mut self, fresh: impl FnOnce(&mut ChaCha8Rng) -> u64) -> u64 {
        if self.tape.is_none() {
            return fresh(&mut self.inner);
        }
        match self.draw(Ask::Raw, |r| Choice::Raw { v: fresh(r) }) {
            Choice::Raw { v } => v,
            other => unreachable!("a raw draw answered with {other:?}"),
        }
    }

    /// A uniform number in `lo..=hi`.
    pub fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "DetRng::range_inclusive({lo}, {hi})");
        if lo == 0 && hi == u64::MAX {
            return self.raw(|r| r.next_u64());
        }
        lo + self.below(hi - lo + 1)
    }
}

/// A 53-bit mantissa as a float in `[0, 1)`.
fn unit_of(v: u64) -> f64 {
    v as f64 * (1.0 / (1u64 << 53) as f64)
}

impl RngCore for DetRng {
    fn next_u32(&mut self) -> u32 {
        self.raw(|r| u64::from(r.next_u32())) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.raw(|r| r.next_u64())
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        if self.tape.is_none() {
            return self.inner.fill_bytes(dst);
        }
        // Taped: one raw word per 8 bytes (the generator fills bytes from its words in order,
        // so recording changes no byte).
        for chunk in dst.chunks_mut(8) {
            let v = self.raw(|r| {
                let mut b = [0u8; 8];
                r.fill_bytes(&mut b[..chunk.len()]);
                u64::from_le_bytes(b)
            });
            chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = DetRng::new(7);
        let mut b = DetRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(DetRng::new(8).next_u64(), DetRng::new(7).next_u64());
    }

    #[test]
    fn forks_are_independent_of_parent_draws() {
        let mut parent = DetRng::new(42);
        let before = parent.fork("disk").next_u64();
        for _ in 0..10 {
            parent.next_u64();
        }
        assert_eq!(parent.fork("disk").next_u64(), before);
        assert_ne!(parent.fork("net").next_u64(), before);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = DetRng::new(1);
        for n in [1, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }

    fn mixed_draws(r: &mut DetRng) -> Vec<u64> {
        let mut out = Vec::new();
        for i in 0..50u64 {
            out.push(r.below(7 + i));
            out.push(u64::from(r.chance(0.3)));
            out.push(r.unit().to_bits());
            out.push(r.next_u64());
            out.push(u64::from(r.next_u32()));
            let mut b = [0u8; 11];
            r.fill_bytes(&mut b);
            out.extend(b.iter().map(|&x| u64::from(x)));
            out.push(r.fork("child").below(1000));
            out.push(r.position_from_end(100 + i));
        }
        out
    }

    #[test]
    fn recording_changes_no_draw_and_replay_repeats_them() {
        let plain = mixed_draws(&mut DetRng::new(9));
        let tape = Arc::new(Tape::record());
        let taped = mixed_draws(&mut DetRng::new(9).taped(tape.clone(), ""));
        assert_eq!(plain, taped, "recording changed a draw");
        let record = tape.recorded();
        assert!(record.streams.contains_key("child"), "forks are taped too");
        // Replayed from another seed entirely: the record decides every draw.
        let again = Arc::new(Tape::replay(record.clone()));
        assert_eq!(
            mixed_draws(&mut DetRng::new(1).taped(again.clone(), "")),
            plain
        );
        assert_eq!(
            again.recorded(),
            record,
            "a replay records what it replayed"
        );
    }

    #[test]
    fn replay_skips_draws_no_longer_made_and_falls_back_past_the_record() {
        let tape = Arc::new(Tape::record());
        let mut r = DetRng::new(3).taped(tape.clone(), "s");
        tape.set_span(1);
        let (a, _b, c) = (r.chance(0.5), r.chance(0.25), r.below(100));
        tape.set_span(2);
        let d = r.below(100);
        let record = tape.recorded();
        // Span 1 without its first draw (a fault kind switched off): the rest still line up.
        let again = Arc::new(Tape::replay(record.clone()));
        let mut r2 = DetRng::new(4).taped(again.clone(), "s");
        again.set_span(1);
        let _ = r2.chance(0.25);
        assert_eq!(r2.below(100), c);
        // Past the record a chance is false (no fault), and other spans are untouched.
        assert!(!r2.chance(0.999_999));
        again.set_span(2);
        assert_eq!(r2.below(100), d);
        let _ = a;
    }

    #[test]
    fn position_from_end_draws_what_below_draws() {
        // Untaped, recorded and (past its record) replayed: the value `below` gives for the
        // same seed and bound, and the same use of the generator (the next draw agrees too).
        for seed in 0..20 {
            let lens: Vec<u64> = (0..40).map(|i| 1 + (i * 37 + seed) % 5000).collect();
            let mut plain = DetRng::new(seed);
            let mut expect: Vec<u64> = lens.iter().map(|&n| plain.below(n)).collect();
            expect.push(plain.next_u64());
            let draws = |r: &mut DetRng| -> Vec<u64> {
                let mut out: Vec<u64> = lens.iter().map(|&n| r.position_from_end(n)).collect();
                out.push(r.next_u64());
                out
            };
            assert_eq!(
                draws(&mut DetRng::new(seed)),
                expect,
                "untaped, seed {seed}"
            );
            let tape = Arc::new(Tape::record());
            assert_eq!(
                draws(&mut DetRng::new(seed).taped(tape.clone(), "d")),
                expect,
                "recorded, seed {seed}"
            );
            let empty = Arc::new(Tape::replay(Choices::default()));
            assert_eq!(
                draws(&mut DetRng::new(seed).taped(empty, "d")),
                expect,
                "replayed past an empty record, seed {seed}"
            );
            // The record holds distances from the end.
            let record = tape.recorded();
            let list = &record.streams["d"][&0];
            for ((c, &n), &v) in list.iter().zip(&lens).zip(&expect[..lens.len()]) {
                assert_eq!(*c, Choice::FromEnd { n, d: n - 1 - v });
            }
        }
    }

    #[test]
    fn position_from_end_replays_at_the_same_distance_from_the_end() {
        let tape = Arc::new(Tape::record());
        let mut r = DetRng::new(11).taped(tape.clone(), "disk");
        let at = r.position_from_end(1000);
        let bit = r.below(8);
        let d = 999 - at;
        let record = tape.recorded();
        // A shorter read (an earlier append cut away): the same distance from its end.
        for n in [1000, d + 1 + (999 - d) / 2, d + 1, 5000] {
            let again = Arc::new(Tape::replay(record.clone()));
            let mut r2 = DetRng::new(12).taped(again.clone(), "disk");
            assert_eq!(r2.position_from_end(n), n - 1 - d, "read of {n}");
            assert_eq!(r2.below(8), bit, "the draw after it still lines up");
            let got = again.recorded();
            assert_eq!(got.streams["disk"][&0][0], Choice::FromEnd { n, d });
        }
        // Too short to hold it: drawn fresh from the stream, in range.
        if d > 0 {
            let again = Arc::new(Tape::replay(record.clone()));
            let mut r2 = DetRng::new(12).taped(again, "disk");
            let mut plain = DetRng::new(12);
            assert_eq!(r2.position_from_end(d), plain.below(d));
        }
        // Zeroed, it is the last position.
        let mut zeroed = record.clone();
        let first = &mut zeroed.streams.get_mut("disk").unwrap().get_mut(&0).unwrap()[0];
        *first = first.zeroed().unwrap();
        let again = Arc::new(Tape::replay(zeroed));
        assert_eq!(
            DetRng::new(12).taped(again, "disk").position_from_end(77),
            76
        );
    }

    #[test]
    fn file_under_changes_no_draw_and_keeps_each_label_in_line() {
        let draws = |r: &mut DetRng, skip_sst: bool| -> Vec<u64> {
            let mut out = Vec::new();
            for i in 0..30u64 {
                if !(skip_sst && i % 3 == 0) {
                    r.file_under(".sst");
                    out.push(u64::from(r.chance(0.2)));
                }
                r.file_under(".log");
                out.push(u64::from(r.chance(0.2)));
                out.push(r.position_from_end(100 + i));
            }
            r.file_under("");
            out.push(r.below(1000));
            out
        };
        let mut plain = DetRng::new(21);
        let expect = draws(&mut plain, false);
        let tape = Arc::new(Tape::record());
        assert_eq!(
            draws(&mut DetRng::new(21).taped(tape.clone(), "f"), false),
            expect,
            "labels change no draw"
        );
        let record = tape.recorded();
        assert_eq!(
            record.streams.keys().cloned().collect::<Vec<_>>(),
            ["f", "f#.log", "f#.sst"]
        );
        // Fewer `.sst` draws: the `.log` draws replay as they were.
        let again = Arc::new(Tape::replay(record.clone()));
        draws(&mut DetRng::new(22).taped(again.clone(), "f"), true);
        let got = again.recorded();
        assert_eq!(got.streams["f#.log"], record.streams["f#.log"]);
        assert_eq!(got.streams["f"], record.streams["f"]);
    }

    #[test]
    fn choice_lists_round_trip_as_text() {
        let tape = Arc::new(Tape::record());
        mixed_draws(&mut DetRng::new(5).taped(tape.clone(), ""));
        for spans in tape.recorded().streams.values() {
            for list in spans.values() {
                let text = Choices::encode_list(list);
                assert_eq!(&Choices::decode_list(&text).unwrap(), list);
            }
        }
        let from_end = [Choice::FromEnd { n: 4096, d: 17 }];
        let text = Choices::encode_list(&from_end);
        assert_eq!(text, "e4096:17");
        assert_eq!(Choices::decode_list(&text).unwrap(), from_end);
        for bad in [
            "b3:3",
            "c1.5:1",
            "c0.5:2",
            "x1",
            "r",
            "u9007199254740992",
            "e3:3",
            "e3",
            "e:1",
            "s6:6",
            "s6",
        ] {
            assert!(Choices::decode_list(bad).is_err(), "{bad}");
        }
        let setting = [Choice::Setting { n: 6, v: 2 }];
        assert_eq!(Choices::encode_list(&setting), "s6:2");
        assert_eq!(Choices::decode_list("s6:2").unwrap(), setting);
    }

    #[test]
    fn a_setting_is_its_top_rung_unless_a_record_says_otherwise() {
        // Untaped and recorded: the top rung, and no use of the generator (the next draw is
        // the one a generator that never asked would make).
        let mut plain = DetRng::new(31);
        let next = plain.below(1000);
        let mut untaped = DetRng::new(31);
        assert_eq!(untaped.setting(6), 5);
        assert_eq!(untaped.below(1000), next);
        let tape = Arc::new(Tape::record());
        let mut recorded = DetRng::new(31).taped(tape.clone(), "node/2/memtable");
        assert_eq!(recorded.setting(6), 5);
        assert_eq!(recorded.below(1000), next);
        let record = tape.recorded();
        assert_eq!(
            record.streams["node/2/memtable"][&0][0],
            Choice::Setting { n: 6, v: 5 }
        );
        // Replayed: the recorded rung, zeroed by the shrinker or turned down one step.
        for rung in [0, 3] {
            let mut edited = record.clone();
            edited
                .streams
                .get_mut("node/2/memtable")
                .unwrap()
                .get_mut(&0)
                .unwrap()[0] = Choice::Setting { n: 6, v: rung };
            let again = Arc::new(Tape::replay(edited));
            let mut r = DetRng::new(31).taped(again.clone(), "node/2/memtable");
            assert_eq!(r.setting(6), rung);
            assert_eq!(r.below(1000), next, "the draw after it still lines up");
            assert_eq!(
                again.recorded().streams["node/2/memtable"][&0][0],
                Choice::Setting { n: 6, v: rung }
            );
        }
        // Asked again under another span (a reopen): the same rung, recorded once.
        let mut edited = record.clone();
        edited
            .streams
            .get_mut("node/2/memtable")
            .unwrap()
            .get_mut(&0)
            .unwrap()[0] = Choice::Setting { n: 6, v: 1 };
        let again = Arc::new(Tape::replay(edited));
        let mut r = DetRng::new(31).taped(again.clone(), "node/2/memtable");
        assert_eq!(r.setting(6), 1);
        again.set_span(7);
        assert_eq!(r.setting(6), 1);
        assert_eq!(again.recorded().len(), 1);
        // Missing from the record, or recorded for another number of rungs: the top rung.
        let empty = Arc::new(Tape::replay(Choices::default()));
        assert_eq!(DetRng::new(31).taped(empty, "m").setting(6), 5);
        let again = Arc::new(Tape::replay(record));
        assert_eq!(
            DetRng::new(31).taped(again, "node/2/memtable").setting(4),
            3
        );
    }
}
