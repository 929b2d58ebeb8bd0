//! Traces: what happened in a run, as JSON lines, and a hash of it.
//!
//! Every event the world processes is *recorded*: its virtual time, node, kind and a few words
//! (a sender, a message's hash, a fault's index) are folded into a rolling [`StableHasher`].
//! Those words are the canonical trace: two runs are the same run exactly when they fold the
//! same words in the same order, so the hash is printed at the end of every run and compared by
//! `check-determinism` and `replay`. Rendering an event as text costs far more than hashing it,
//! so the text (`detail`) is made only when a [`TraceSink`] is attached (`--trace FILE`,
//! `--timeline`); sweeps run hash-only.
//!
//! File format, one JSON object per line:
//! - line 1, the header: `{"seedbed_trace":1,"version":"0.1.0","config":{...}}` — the whole
//!   [`RunConfig`](crate::config::RunConfig), enough to rerun;
//! - one line per event: `{"t_ns":1250300,"node":2,"event":"deliver","detail":"from n0 Ping(3)"}`
//!   (`node` is null for world events);
//! - last line: `{"end":{"events":N,"hash":"0123abcd...","violation":null}}`.

pub mod diff;
pub mod timeline;

use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::hash::StableHasher;
use crate::node::NodeId;

/// Trace format version, in the header line.
pub const TRACE_FORMAT: u32 = 1;

/// The kinds of traced event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum TraceKind {
    /// A node booted for the first time.
    Start = 1,
    /// A node rebooted after a crash.
    Restart,
    /// A node crashed.
    Crash,
    /// A message reached its handler.
    Deliver,
    /// A message was lost (detail says why).
    Drop,
    /// A timer fired.
    Timer,
    /// A client operation was handed to a node.
    Invoke,
    /// A node answered a client operation.
    Reply,
    /// A client operation was lost with its node (outcome unknown).
    Lost,
    /// A client operation was refused because its node was down.
    Rejected,
    /// A partition began.
    Partition,
    /// A partition healed.
    Heal,
    /// A node froze.
    Pause,
    /// A node's clock stepped.
    ClockJump,
    /// Faults stopped; the quiet period began.
    Quiet,
    /// A checker failed.
    Violation,
    /// The run ended.
    End,
    /// A timer or message waited out a pause.
    Deferred,
}

impl TraceKind {
    /// The name used in trace files.
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Start => "start",
            TraceKind::Restart => "restart",
            TraceKind::Crash => "crash",
            TraceKind::Deliver => "deliver",
            TraceKind::Drop => "drop",
            TraceKind::Timer => "timer",
            TraceKind::Invoke => "invoke",
            TraceKind::Reply => "reply",
            TraceKind::Lost => "lost",
            TraceKind::Rejected => "rejected",
            TraceKind::Partition => "partition",
            TraceKind::Heal => "heal",
            TraceKind::Pause => "pause",
            TraceKind::ClockJump => "clock-jump",
            TraceKind::Quiet => "quiet",
            TraceKind::Violation => "violation",
            TraceKind::End => "end",
            TraceKind::Deferred => "deferred",
        }
    }
}

/// One event line of a trace file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLine {
    /// Virtual time in nanoseconds.
    pub t_ns: u64,
    /// The node, or `None` for world events.
    pub node: Option<NodeId>,
    /// The event kind's name.
    pub event: String,
    /// What happened, for people.
    pub detail: String,
}

/// The end line's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEnd {
    /// Events recorded.
    pub events: u64,
    /// The trace hash, as 16 hex digits.
    pub hash: String,
    /// The first violation, as `checker: message`, if any.
    pub violation: Option<String>,
}

/// Where rendered trace lines go (a file, memory). Lines come without a trailing newline.
pub trait TraceSink {
    /// Take one line.
    fn line(&mut self, line: String);
}

/// A sink that keeps lines in memory (for tests, `--timeline`, and determinism checks).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The lines, in order.
    pub lines: Vec<String>,
}

impl TraceSink for MemorySink {
    fn line(&mut self, line: String) {
        self.lines.push(line);
    }
}

/// A hash as printed: 16 lower-case hex digits.
pub fn hash_hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// The recorder of one run: a rolling hash, and lines when a sink is attached.
pub struct Trace<'s> {
    hasher: StableHasher,
    events: u64,
    sink: Option<&'s mut dyn TraceSink>,
}

impl<'s> Trace<'s> {
    /// A recorder; `sink` receives lines when given.
    pub fn new(sink: Option<&'s mut dyn TraceSink>) -> Self {
        Trace {
            hasher: StableHasher::new(),
            events: 0,
            sink,
        }
    }

    /// Whether lines are being rendered (callers skip building details otherwise).
    #[inline]
    pub fn rendering(&self) -> bool {
        self.sink.is_some()
    }

    /// Pass a raw line (header, end) to the sink; not hashed.
    pub fn raw(&mut self, line: impl FnOnce() -> String) {
        if let Some(sink) = self.sink.as_deref_mut() {
            sink.line(line());
        }
    }

    /// Record one event: its canonical words go into the hash; `detail` is rendered only when
    /// a sink is attached.
    #[inline]
    pub fn record(
        &mut self,
        t_ns: u64,
        node: Option<NodeId>,
        kind: TraceKind,
        a: u64,
        b: u64,
        detail: impl FnOnce() -> String,
    ) {
        self.events += 1;
        let h = &mut self.hasher;
        h.word(t_ns);
        h.word(node.map_or(0, |n| u64::from(n) + 1));
        h.word(kind as u64);
        h.word(a);
        h.word(b);
        if let Some(sink) = self.sink.as_deref_mut() {
            let line = TraceLine {
                t_ns,
                node,
                event: kind.name().to_string(),
                detail: detail(),
            };
            sink.line(serde_json::to_string(&line).expect("a trace line always serialises"));
        }
    }

    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The hash of everything recorded so far.
    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }
}

/// A trace file's header and end, parsed back (for `replay`).
#[derive(Clone, Debug)]
pub struct ParsedTrace {
    /// The run's config, from the header.
    pub config: crate::config::RunConfig,
    /// The end line, if the file has one (a run that was cut short has none).
    pub end: Option<TraceEnd>,
    /// Event lines.
    pub events: Vec<TraceLine>,
}

#[derive(Deserialize)]
struct Header {
    seedbed_trace: u32,
    config: crate::config::RunConfig,
}

#[derive(Deserialize)]
struct EndLine {
    end: TraceEnd,
}

/// Parse a whole trace file; errors name the line.
pub fn parse(text: &str) -> Result<ParsedTrace, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or("empty trace file")?;
    let header: Header =
        serde_json::from_str(first).map_err(|e| format!("line 1: not a trace header: {e}"))?;
    if header.seedbed_trace != TRACE_FORMAT {
        return Err(format!(
            "line 1: trace format {} (this binary reads {TRACE_FORMAT})",
            header.seedbed_trace
        ));
    }
    let mut events = Vec::new();
    let mut end = None;
    for (i, line) in lines {
        if end.is_some() {
            return Err(format!("line {}: text after the end line", i + 1));
        }
        if line.starts_with("{\"end\"") {
            let e: EndLine = serde_json::from_str(line)
                .map_err(|e| format!("line {}: bad end line: {e}", i + 1))?;
            end = Some(e.end);
        } else {
            events.push(
                serde_json::from_str(line)
                    .map_err(|e| format!("line {}: bad event: {e}", i + 1))?,
            );
        }
    }
    Ok(ParsedTrace {
        config: header.config,
        end,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_covers_every_word_and_rendering_does_not_change_it() {
        let mut sink = MemorySink::default();
        let mut a = Trace::new(Some(&mut sink));
        a.record(5, Some(1), TraceKind::Deliver, 0, 42, || "from n0".into());
        let ha = a.hash();
        let mut b = Trace::new(None);
        b.record(5, Some(1), TraceKind::Deliver, 0, 42, || {
            unreachable!("no sink, no render")
        });
        assert_eq!(ha, b.hash());
        let mut c = Trace::new(None);
        c.record(5, Some(1), TraceKind::Deliver, 0, 43, String::new);
        assert_ne!(ha, c.hash());
        let line: TraceLine = serde_json::from_str(&sink.lines[0]).unwrap();
        assert_eq!(line.event, "deliver");
        assert_eq!(line.node, Some(1));
    }
}
