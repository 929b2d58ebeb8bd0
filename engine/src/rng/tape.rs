//! A tape of random choices: record every draw a run makes, per named stream and per *span*,
//! and replay a run from an edited record.
//!
//! This is the machinery behind choice-sequence shrinking (Hypothesis' internal reduction,
//! MacIver & Donaldson, ECOOP 2020): instead of shrinking a run's configuration and hoping
//! the random draws that follow still line up, the shrinker edits the draws themselves —
//! deletes some, zeroes some, sorts some — and replays the run from the edited record.
//!
//! **Streams and spans.** A draw is filed under the [`DetRng`](super::DetRng) stream it came
//! from (`net`, `node/3`, `node/3/disk/sim/faults`) and under the *span* the simulator was
//! running at the time: the root cause of the event being handled (one client operation, one
//! scheduled fault, one node's background timers; see [`Tape::set_span`]). Replay takes each
//! stream's draws for each span in order. So removing client operation 17 leaves every draw
//! caused by operation 18 where it was: the network's latency for operation 18's messages
//! does not shift because operation 17's messages are gone, which is what made seed-based
//! shrinking give up (every later draw moved). A generator can also file its draws under a
//! labelled sub-stream, `name#label` ([`DetRng::file_under`](super::DetRng::file_under)),
//! without any change to what it draws: the simulated disk files each operation's fault draws
//! under the kind of file it touches (`#.log`, `#.sst`), so a shrunk run that reads fewer
//! tables still finds the log's draws in line.
//!
//! **Replay.** A draw asks for a kind (`below(n)`, `chance(p)`, `unit`, a raw `u64`, a
//! position from the end). It takes the first recorded choice of the same kind and parameter
//! among the next [`LOOKAHEAD`] of its stream and span (skipping the ones before: draws a
//! switched-off fault kind no longer makes), else the next recorded choice if it is of the same
//! kind and its value fits, else a fallback: `false` for a chance (the simplest outcome: no
//! fault), a fresh draw from the stream's own generator for the rest (ids and nonces must stay
//! distinct; zero would make them collide). A replaying run records what it actually drew, so
//! its record replays it exactly.
//!
//! **Positions from the end.** A position inside a buffer whose length the run decides (the
//! byte a read's bit flip lands on: `n` is the bytes read) is drawn with
//! [`DetRng::position_from_end`](super::DetRng::position_from_end). Drawn fresh it is exactly
//! `below(n)` (the same value, the same use of the generator: a run that does not replay is
//! the same run as before this kind existed), but the tape records its *distance from the
//! end*, `n - 1 - position` ([`Choice::FromEnd`], written `e<n>:<distance>`). The question is
//! the kind alone, not `n`: replayed into a buffer of another length it keeps its distance
//! from the end if the buffer is long enough (else it is drawn fresh). That is what lets the
//! shrinker cut operations under a flip: a log read after some of its earlier appends are
//! gone is shorter, and the flip still lands in its last record, at the same byte. Its
//! simplest value (zero) is the last byte; the shrinker's sort pass leaves these draws alone
//! (a distance and a `below` value do not compare).
//!
//! **Settings.** Some failures need a lot of input only to reach a size: a replica's memtable
//! rotates after 8 KiB of writes, so a bug in what the LSM does at rotation needs some thirty
//! writes first, and no operation among them can go. A component asks for such a size with
//! [`DetRng::setting(n)`](super::DetRng::setting): one of `n` rungs, where a run that does not
//! replay always gets the top one, `n - 1` (its normal value), without touching the generator
//! — so every ordinary run is the run it was before settings existed. The tape records the
//! rung ([`Choice::Setting`], written `s<n>:<rung>`), and a replay takes the recorded rung: the
//! shrinker turns the rungs down (zero is the smallest) and then cuts the input a smaller size
//! no longer needs. A setting is one value per stream for the whole run, whatever span asks
//! (a replica reopens its store after every crash or disk error, under the span of whatever
//! caused it): recorded once, under the first span that asked, and every later ask replays
//! it. A setting missing from the record falls back to the top rung.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// How far a replayed draw looks ahead for a recorded choice of its kind and parameter.
pub const LOOKAHEAD: usize = 8;

/// One random choice and the question it answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Choice {
    /// `below(n)` returned `v` (< n).
    Below {
        /// The bound.
        n: u64,
        /// The value.
        v: u64,
    },
    /// `chance(p)` (0 < p < 1) returned `v`.
    Chance {
        /// The probability.
        p: f64,
        /// The outcome.
        v: bool,
    },
    /// `unit()` returned `v / 2^53`.
    Unit {
        /// The 53-bit mantissa.
        v: u64,
    },
    /// A raw 64-bit word (`next_u64`, `next_u32`, a chunk of `fill_bytes`).
    Raw {
        /// The word.
        v: u64,
    },
    /// `position_from_end(n)` returned `n - 1 - d`: a position in a buffer of `n`, recorded as
    /// its distance `d` (< n) from the end (see the module docs).
    FromEnd {
        /// The buffer's length when drawn.
        n: u64,
        /// The distance from the last element (0: the last one).
        d: u64,
    },
    /// `setting(n)` returned rung `v` (< n) of a setting the shrinker may turn down: no
    /// randomness at all — a run that does not replay always takes the top rung, `n - 1`
    /// (see the module docs, "Settings").
    Setting {
        /// How many rungs.
        n: u64,
        /// The rung (0: the lowest).
        v: u64,
    },
}

impl Choice {
    /// The simplest choice of the same question: `false`, 0, 0.0. Raw words have no simplest
    /// value (they are ids and nonces): `None`.
    pub fn zeroed(self) -> Option<Choice> {
        match self {
            Choice::Below { n, .. } => Some(Choice::Below { n, v: 0 }),
            Choice::Chance { p, .. } => Some(Choice::Chance { p, v: false }),
            Choice::Unit { .. } => Some(Choice::Unit { v: 0 }),
            Choice::Raw { .. } => None,
            Choice::FromEnd { n, .. } => Some(Choice::FromEnd { n, d: 0 }),
            Choice::Setting { n, .. } => Some(Choice::Setting { n, v: 0 }),
        }
    }

    /// Whether this is a chance that came out `true` (a fault that fired, a site that
    /// switched on).
    pub fn fired(self) -> bool {
        matches!(self, Choice::Chance { v: true, .. })
    }

    /// The value as a number, for sorting (`true` is 1; a position from the end: its
    /// distance).
    pub fn value(self) -> u64 {
        match self {
            Choice::Below { v, .. }
            | Choice::Unit { v }
            | Choice::Raw { v }
            | Choice::Setting { v, .. } => v,
            Choice::FromEnd { d, .. } => d,
            Choice::Chance { v, .. } => u64::from(v),
        }
    }

    /// The same question with value `v`, if `v` is a valid answer to it.
    pub fn with_value(self, v: u64) -> Option<Choice> {
        match self {
            Choice::Below { n, .. } if v < n => Some(Choice::Below { n, v }),
            Choice::Chance { p, .. } if v <= 1 => Some(Choice::Chance { p, v: v == 1 }),
            Choice::Unit { .. } if v < 1 << 53 => Some(Choice::Unit { v }),
            Choice::Raw { .. } => Some(Choice::Raw { v }),
            Choice::FromEnd { n, .. } if v < n => Some(Choice::FromEnd { n, d: v }),
            Choice::Setting { n, .. } if v < n => Some(Choice::Setting { n, v }),
            _ => None,
        }
    }

    fn same_question(self, ask: Ask) -> bool {
        match (self, ask) {
            (Choice::Below { n, .. }, Ask::Below(m)) => n == m,
            (Choice::Chance { p, .. }, Ask::Chance(q)) => p.to_bits() == q.to_bits(),
            (Choice::Setting { n, .. }, Ask::Setting(m)) => n == m,
            // A position's question is the kind alone: the buffer's length may have changed.
            (Choice::Unit { .. }, Ask::Unit)
            | (Choice::Raw { .. }, Ask::Raw)
            | (Choice::FromEnd { .. }, Ask::FromEnd(_)) => true,
            _ => false,
        }
    }

    /// This recorded choice as an answer to `ask` (same kind, value in range), if it is one.
    fn answer(self, ask: Ask) -> Option<Choice> {
        match (self, ask) {
            (Choice::Below { v, .. }, Ask::Below(n)) if v < n => Some(Choice::Below { n, v }),
            (Choice::Chance { v, .. }, Ask::Chance(p)) => Some(Choice::Chance { p, v }),
            (Choice::Unit { v }, Ask::Unit) => Some(Choice::Unit { v }),
            (Choice::Raw { v }, Ask::Raw) => Some(Choice::Raw { v }),
            // The same distance from the end of the new buffer, if it is that long.
            (Choice::FromEnd { d, .. }, Ask::FromEnd(n)) if d < n => Some(Choice::FromEnd { n, d }),
            (Choice::Setting { v, .. }, Ask::Setting(n)) if v < n => Some(Choice::Setting { n, v }),
            _ => None,
        }
    }

    fn encode(self, out: &mut String) {
        let _ = match self {
            Choice::Below { n, v } => write!(out, "b{n}:{v}"),
            Choice::Chance { p, v } => write!(out, "c{p:?}:{}", u8::from(v)),
            Choice::Unit { v } => write!(out, "u{v}"),
            Choice::Raw { v } => write!(out, "r{v:x}"),
            Choice::FromEnd { n, d } => write!(out, "e{n}:{d}"),
            Choice::Setting { n, v } => write!(out, "s{n}:{v}"),
        };
    }

    fn decode(s: &str) -> Result<Choice, String> {
        let bad = || {
            format!(
                "'{s}' is not a choice (b<n>:<v>, c<p>:<0|1>, u<v>, r<hex>, e<n>:<distance>, s<n>:<rung>)"
            )
        };
        let (kind, rest) = s.split_at_checked(1).ok_or_else(bad)?;
        let num = |t: &str| t.parse::<u64>().map_err(|_| bad());
        Ok(match kind {
            "b" | "e" | "s" => {
                let (n, v) = rest.split_once(':').ok_or_else(bad)?;
                let (n, v) = (num(n)?, num(v)?);
                if v >= n {
                    return Err(bad());
                }
                match kind {
                    "b" => Choice::Below { n, v },
                    "e" => Choice::FromEnd { n, d: v },
                    _ => Choice::Setting { n, v },
                }
            }
            "c" => {
                let (p, v) = rest.split_once(':').ok_or_else(bad)?;
                let p: f64 = p.parse().map_err(|_| bad())?;
                if !(p > 0.0 && p < 1.0) {
                    return Err(bad());
                }
                Choice::Chance {
                    p,
                    v: match v {
                        "0" => false,
                        "1" => true,
                        _ => return Err(bad()),
                    },
                }
            }
            "u" => {
                let v = num(rest)?;
                if v >= 1 << 53 {
                    return Err(bad());
                }
                Choice::Unit { v }
            }
            "r" => Choice::Raw {
                v: u64::from_str_radix(rest, 16).map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        })
    }
}

/// What a draw asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ask {
    Below(u64),
    Chance(f64),
    Unit,
    Raw,
    /// A position in a buffer of this length (see [`Choice::FromEnd`]).
    FromEnd(u64),
    /// A setting of this many rungs (see [`Choice::Setting`]).
    Setting(u64),
}

/// A run's draws: per stream name, per span, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Choices {
    /// `streams[name][span]` — the draws of one stream under one span.
    pub streams: BTreeMap<String, BTreeMap<u64, Vec<Choice>>>,
}

impl Choices {
    /// Draws in all.
    pub fn len(&self) -> usize {
        self.streams
            .values()
            .flat_map(|s| s.values())
            .map(Vec::len)
            .sum()
    }

    /// Whether no draw is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One list as text: choices separated by spaces (see [`Choices::decode_list`]).
    pub fn encode_list(list: &[Choice]) -> String {
        let mut out = String::with_capacity(list.len() * 8);
        for (i, c) in list.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            c.encode(&mut out);
        }
        out
    }

    /// Parse a list written by [`Choices::encode_list`]; errors name the bad choice.
    pub fn decode_list(s: &str) -> Result<Vec<Choice>, String> {
        s.split_ascii_whitespace().map(Choice::decode).collect()
    }
}

struct Cursor {
    choices: Vec<Choice>,
    at: usize,
}

struct State {
    span: u64,
    names: Vec<String>,
    index: BTreeMap<String, u32>,
    /// Replay input not yet claimed by a stream, by name.
    unclaimed: BTreeMap<String, BTreeMap<u64, Vec<Choice>>>,
    input: BTreeMap<(u32, u64), Cursor>,
    output: BTreeMap<(u32, u64), Vec<Choice>>,
    replay: bool,
}

/// A shared recorder (and, when given a record, replayer) of random choices; see the module
/// docs. One run owns one tape; every [`DetRng`](super::DetRng) forked from a taped stream
/// files its draws here.
pub struct Tape {
    state: Mutex<State>,
}

impl std::fmt::Debug for Tape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape").finish_non_exhaustive()
    }
}

impl Tape {
    /// A tape that records fresh draws (and changes none of them: a recorded run is the
    /// same run as an unrecorded one).
    pub fn record() -> Tape {
        Tape::new(None)
    }

    /// A tape that replays `choices` (see the module docs) and records what it drew.
    pub fn replay(choices: Choices) -> Tape {
        Tape::new(Some(choices))
    }

    fn new(input: Option<Choices>) -> Tape {
        let replay = input.is_some();
        Tape {
            state: Mutex::new(State {
                span: 0,
                names: Vec::new(),
                index: BTreeMap::new(),
                unclaimed: input.map(|c| c.streams).unwrap_or_default(),
                input: BTreeMap::new(),
                output: BTreeMap::new(),
                replay,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// File the draws from now on under `span` (the simulator's current root cause).
    pub fn set_span(&self, span: u64) {
        self.state().span = span;
    }

    /// The span draws are filed under now.
    pub fn span(&self) -> u64 {
        self.state().span
    }

    /// The id of the stream called `name` (registered on first use).
    pub(crate) fn stream(&self, name: &str) -> u32 {
        let mut s = self.state();
        if let Some(&i) = s.index.get(name) {
            return i;
        }
        let i = s.names.len() as u32;
        s.names.push(name.to_string());
        s.index.insert(name.to_string(), i);
        if let Some(spans) = s.unclaimed.remove(name) {
            for (span, choices) in spans {
                s.input.insert((i, span), Cursor { choices, at: 0 });
            }
        }
        i
    }

    /// One draw on `stream`: replayed (see the module docs) or `fresh()`, and recorded.
    pub(crate) fn draw(&self, stream: u32, ask: Ask, fresh: impl FnOnce() -> Choice) -> Choice {
        let mut s = self.state();
        let key = (stream, s.span);
        let c = if s.replay {
            let replayed = s.input.get_mut(&key).and_then(|cur| {
                let rest = &cur.choices[cur.at..];
                if let Some(j) = rest
                    .iter()
                    .take(LOOKAHEAD)
                    .position(|c| c.same_question(ask))
                {
                    let c = rest[j].answer(ask);
                    cur.at += j + 1;
                    return c;
                }
                let c = rest.first().and_then(|c| c.answer(ask));
                if c.is_some() {
                    cur.at += 1;
                }
                c
            });
            match (replayed, ask) {
                (Some(c), _) => c,
                (None, Ask::Chance(p)) => Choice::Chance { p, v: false },
                (None, _) => fresh(),
            }
        } else {
            fresh()
        };
        s.output.entry(key).or_default().push(c);
        c
    }

    /// A setting of `n` rungs on `stream` (see the module docs, "Settings"): one rung per
    /// stream for the whole run, whichever span asks — a replica reopens its store under many
    /// spans, and each reopen must find the rung the shrinker chose. Replayed, the first
    /// recorded setting of the stream with the same number of rungs; else the top rung. Recorded
    /// once, under the span that asked first.
    pub(crate) fn setting(&self, stream: u32, n: u64) -> u64 {
        let ask = Ask::Setting(n);
        let top = Choice::Setting { n, v: n - 1 };
        let mut s = self.state();
        let c = if s.replay {
            s.input
                .range((stream, 0)..=(stream, u64::MAX))
                .flat_map(|(_, cur)| cur.choices.iter())
                .find(|c| c.same_question(ask))
                .and_then(|c| c.answer(ask))
                .unwrap_or(top)
        } else {
            top
        };
        let recorded = s
            .output
            .range((stream, 0)..=(stream, u64::MAX))
            .any(|(_, list)| list.iter().any(|c| matches!(c, Choice::Setting { .. })));
        if !recorded {
            let key = (stream, s.span);
            s.output.entry(key).or_default().push(c);
        }
        match c {
            Choice::Setting { v, .. } => v,
            _ => n - 1,
        }
    }

    /// Everything drawn so far, by stream name and span.
    pub fn recorded(&self) -> Choices {
        let s = self.state();
        let mut out = Choices::default();
        for (&(stream, span), list) in &s.output {
            out.streams
                .entry(s.names[stream as usize].clone())
                .or_default()
                .insert(span, list.clone());
        }
        out
    }
}
