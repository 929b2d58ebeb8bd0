//! The protocol's parameters (`--set key=value`) and the planted bugs.
//!
//! Time is virtual, so the defaults are scaled to the simulator's network (0.1–1 ms links)
//! rather than to a datacenter's: a 50 ms protocol period and a 10 ms probe timeout play the
//! roles of memberlist's 1 s and 500 ms.

use std::collections::BTreeMap;

use super::lifeguard::{suspicion_min_ns, Lifeguard};
use super::msg::{Status, Update};
use super::queue::retransmit_limit;
use crate::time::ms;
use crate::ParamError;

/// The planted bugs, each removing one precaution, so the checkers are shown to catch
/// something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The correct protocol.
    None,
    /// A suspected member never refutes (never raises its incarnation): one false suspicion
    /// and it is failed for good. Caught by convergence after message loss, pauses or
    /// partitions.
    NoRefute,
    /// Suspicions never time out: a crashed member stays suspect forever. Caught by the
    /// detection bound.
    SuspicionNeverExpires,
    /// Nothing revives a failed member, not even a newer incarnation: a restarted or falsely
    /// failed member stays failed. Caught by convergence.
    FailedIsFinal,
    /// The probe's deadline is read in the wrong unit (µs for ms): the verdict on a probe
    /// comes a thousand times too early, before any ack can arrive, so healthy members are
    /// suspected — and, when the refutation is slow, declared failed — without any fault.
    /// Caught by the no-false-positives checker.
    TimeoutUnits,
    /// An Alive update at the *same* incarnation clears a suspicion (SWIM requires a newer
    /// one: only the suspect itself may refute, by raising its incarnation). A stale Alive
    /// still in flight then un-suspects a member that has crashed.
    AliveClearsSuspicion,
    /// The probe period is stretched by `score + 2`, one step more than local health awareness
    /// says (`score + 1`): every failure is detected up to twice as late as configured, though
    /// still within the loose bound that assumes the worst awareness. Caught by the detection
    /// bound taken at the awareness each observer really had.
    SlowProbe,
    /// Every suspicion lasts a quarter of what Lifeguard's formula gives (its `min` is read a
    /// quarter as long): members are declared failed before the configured minimum suspicion
    /// timeout. Caught by the suspicion floor.
    ShortSuspicion,
    /// An answered probe does not lower the local health score (Lifeguard §IV-A: −1), so the
    /// score only grows and the member slows for good after a few failed probes. Caught by
    /// the health-score rules.
    HealthNeverHeals,
    /// A member takes an Alive about itself at its own incarnation for news of a newer self
    /// and refutes it, though nobody accused it. Caught by "refute only accusations".
    RefuteAlive,
    /// A member learned mid-round is not put into the round's probe order: it waits for the
    /// next round. Caught by the round-robin check.
    LateNewcomers,
    /// Indirect probes (ping-req) go through suspects too, not only through members held
    /// alive. Caught by the relay check.
    RelaysSuspects,
    /// Each update is piggybacked once instead of `λ·⌈log₁₀(n+1)⌉` times: the epidemic dies
    /// out at once and news waits for anti-entropy's random pairings. Detection stays within
    /// its bound; caught by the dissemination bound.
    PiggybackOnce,
}

impl Bug {
    fn parse(s: &str) -> Option<Bug> {
        Some(match s {
            "none" => Bug::None,
            "no-refute" => Bug::NoRefute,
            "suspicion-never-expires" => Bug::SuspicionNeverExpires,
            "failed-is-final" => Bug::FailedIsFinal,
            "timeout-units" => Bug::TimeoutUnits,
            "alive-clears-suspicion" => Bug::AliveClearsSuspicion,
            "slow-probe" => Bug::SlowProbe,
            "short-suspicion" => Bug::ShortSuspicion,
            "health-never-heals" => Bug::HealthNeverHeals,
            "refute-alive" => Bug::RefuteAlive,
            "late-newcomers" => Bug::LateNewcomers,
            "relays-suspects" => Bug::RelaysSuspects,
            "piggyback-once" => Bug::PiggybackOnce,
            _ => return None,
        })
    }

    /// The change the node applies to its health score for `delta` (the `health-never-heals`
    /// bug drops the −1 of an answered probe).
    pub fn health_delta(self, delta: i32) -> i32 {
        if self == Bug::HealthNeverHeals {
            delta.max(0)
        } else {
            delta
        }
    }

    /// What the node makes of `u`, news about itself (the `refute-alive` bug reads an Alive as
    /// one incarnation newer than it is).
    pub fn heard_about_me(self, u: Update) -> Update {
        if self == Bug::RefuteAlive && u.status == Status::Alive {
            Update {
                incarnation: u.incarnation.saturating_add(1),
                ..u
            }
        } else {
            u
        }
    }

    /// The status a would-be relay of an indirect probe is judged by (the `relays-suspects`
    /// bug takes a suspect for alive).
    pub fn relay_view(self, s: Status) -> Status {
        if self == Bug::RelaysSuspects && s == Status::Suspect {
            Status::Alive
        } else {
            s
        }
    }
}

/// The parameter names `--set` accepts.
pub const KNOWN: &[&str] = &[
    "bug",
    "period_ms",
    "probe_timeout_ms",
    "indirect_k",
    "lambda",
    "suspicion_mult",
    "suspicion_max_mult",
    "awareness_max",
    "piggyback_max",
    "push_pull_periods",
    "seeds",
    "lifeguard",
    "lha",
    "dsus",
    "buddy",
];

/// Every parameter, decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Planted bug.
    pub bug: Bug,
    /// Protocol period `T`: one probe per period.
    pub period_ns: u64,
    /// How long a direct probe waits before asking others (ping-req).
    pub probe_timeout_ns: u64,
    /// Members asked to probe indirectly (`k`).
    pub indirect_k: u32,
    /// Retransmission multiplier `λ`: each update is sent `λ·⌈log₁₀(n+1)⌉` times.
    pub lambda: u32,
    /// Suspicion timeout multiplier (`α`: min timeout `α·max(1, log₁₀ n)·T`).
    pub suspicion_mult: u32,
    /// Lifeguard's longest suspicion, as a multiple of the shortest (`β`).
    pub suspicion_max_mult: u32,
    /// Lifeguard's awareness bound: delays stretch up to this factor.
    pub awareness_max: u32,
    /// Updates per message, at most.
    pub piggyback_max: u32,
    /// Periods between anti-entropy exchanges (whole tables with one random member).
    pub push_pull_periods: u32,
    /// Seed members (ids `0..seeds`) that joiners contact.
    pub seeds: u32,
    /// Lifeguard options.
    pub lifeguard: Lifeguard,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            bug: Bug::None,
            period_ns: ms(50),
            probe_timeout_ns: ms(10),
            indirect_k: 3,
            lambda: 3,
            suspicion_mult: 4,
            suspicion_max_mult: 6,
            awareness_max: 8,
            piggyback_max: 16,
            push_pull_periods: 10,
            seeds: 3,
            lifeguard: Lifeguard::ON,
        }
    }
}

fn err(key: &str, detail: String) -> ParamError {
    ParamError::new(key, detail)
}

fn num(
    params: &BTreeMap<String, String>,
    key: &str,
    lo: u64,
    hi: u64,
) -> Result<Option<u64>, ParamError> {
    let Some(v) = params.get(key) else {
        return Ok(None);
    };
    let n: u64 = v
        .parse()
        .map_err(|_| err(key, format!("'{v}' is not a whole number")))?;
    if !(lo..=hi).contains(&n) {
        return Err(err(key, format!("{n} is outside {lo}..={hi}")));
    }
    Ok(Some(n))
}

fn switch(params: &BTreeMap<String, String>, key: &str) -> Result<Option<bool>, ParamError> {
    match params.get(key).map(String::as_str) {
        None => Ok(None),
        Some("on" | "true" | "1") => Ok(Some(true)),
        Some("off" | "false" | "0") => Ok(Some(false)),
        Some(v) => Err(err(key, format!("'{v}': expected on or off"))),
    }
}

impl Params {
    /// Read parameters by name (`--set key=value` in the simulator; unknown keys are the
    /// caller's to reject: [`KNOWN`] lists these).
    pub fn parse(p: &BTreeMap<String, String>) -> Result<Params, ParamError> {
        let mut out = Params::default();
        if let Some(v) = p.get("bug") {
            out.bug = Bug::parse(v).ok_or_else(|| {
                err(
                    "bug",
                    format!("'{v}': expected none, no-refute, suspicion-never-expires, failed-is-final, timeout-units, alive-clears-suspicion, slow-probe, short-suspicion, health-never-heals, refute-alive, late-newcomers, relays-suspects or piggyback-once"),
                )
            })?;
        }
        let u32_of = |v: u64| v as u32;
        if let Some(v) = num(p, "period_ms", 1, 60_000)? {
            out.period_ns = ms(v);
        }
        if let Some(v) = num(p, "probe_timeout_ms", 1, 60_000)? {
            out.probe_timeout_ns = ms(v);
        }
        if let Some(v) = num(p, "indirect_k", 0, 16)? {
            out.indirect_k = u32_of(v);
        }
        if let Some(v) = num(p, "lambda", 1, 64)? {
            out.lambda = u32_of(v);
        }
        if let Some(v) = num(p, "suspicion_mult", 1, 64)? {
            out.suspicion_mult = u32_of(v);
        }
        if let Some(v) = num(p, "suspicion_max_mult", 1, 64)? {
            out.suspicion_max_mult = u32_of(v);
        }
        if let Some(v) = num(p, "awareness_max", 1, 64)? {
            out.awareness_max = u32_of(v);
        }
        if let Some(v) = num(p, "piggyback_max", 0, 256)? {
            out.piggyback_max = u32_of(v);
        }
        if let Some(v) = num(p, "push_pull_periods", 1, 1_000_000)? {
            out.push_pull_periods = u32_of(v);
        }
        if let Some(v) = num(p, "seeds", 1, 64)? {
            out.seeds = u32_of(v);
        }
        if let Some(on) = switch(p, "lifeguard")? {
            out.lifeguard = if on { Lifeguard::ON } else { Lifeguard::OFF };
        }
        if let Some(on) = switch(p, "lha")? {
            out.lifeguard.lha = on;
        }
        if let Some(on) = switch(p, "dsus")? {
            out.lifeguard.dynamic_suspicion = on;
        }
        if let Some(on) = switch(p, "buddy")? {
            out.lifeguard.buddy = on;
        }
        if out.probe_timeout_ns >= out.period_ns {
            return Err(err(
                "probe_timeout_ms",
                "must be shorter than period_ms (the indirect probe needs the rest)".into(),
            ));
        }
        Ok(out)
    }

    /// The probe timeout as the node uses it (the `timeout-units` bug shrinks it 1000-fold and
    /// judges the probe then).
    pub fn probe_timeout_used_ns(&self) -> u64 {
        if self.bug == Bug::TimeoutUnits {
            (self.probe_timeout_ns / 1_000).max(1)
        } else {
            self.probe_timeout_ns
        }
    }

    /// How many times each update is piggybacked with `live` members held alive or suspect:
    /// `λ·⌈log₁₀(live+1)⌉` ([`retransmit_limit`]; once with the `piggyback-once` bug).
    pub fn retransmit_limit(&self, live: u32) -> u32 {
        if self.bug == Bug::PiggybackOnce {
            1
        } else {
            retransmit_limit(self.lambda, live)
        }
    }

    /// The shortest suspicion timeout in a cluster of `nodes` (a quarter of it with the
    /// `short-suspicion` bug).
    pub fn suspicion_min_ns(&self, nodes: u32) -> u64 {
        let min = suspicion_min_ns(self.suspicion_mult, nodes, self.period_ns);
        if self.bug == Bug::ShortSuspicion {
            min / 4
        } else {
            min
        }
    }

    /// The longest: `β ×` the shortest with dynamic suspicion, the shortest without.
    pub fn suspicion_max_ns(&self, nodes: u32) -> u64 {
        let min = self.suspicion_min_ns(nodes);
        if self.lifeguard.dynamic_suspicion {
            min * u64::from(self.suspicion_max_mult)
        } else {
            min
        }
    }

    /// The factor local health awareness may stretch periods and timeouts by.
    pub fn stretch_max(&self) -> u64 {
        if self.lifeguard.lha {
            u64::from(self.awareness_max)
        } else {
            1
        }
    }

    /// The detection bound: a member crashed (and staying down) is declared failed by every
    /// member that stays up, knows it, and is not paused, within this long. Round-robin over a
    /// shuffled list probes each member within `2(n−1)` periods (last of one round, first of
    /// the next but one: at worst one round apart plus a round); one more period for the probe
    /// to end; each period stretched by local health awareness at most `awareness_max` times;
    /// then the longest suspicion. Plus 0.1% and a millisecond for clock drift.
    pub fn detection_bound_ns(&self, nodes: u32) -> u64 {
        let periods = 2 * u64::from(nodes) + 2;
        let raw = periods * self.period_ns * self.stretch_max() + self.suspicion_max_ns(nodes);
        raw + raw / 1_000 + ms(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_bad_keys_and_values() {
        let mut p = BTreeMap::new();
        p.insert("lifeguard".to_string(), "off".to_string());
        p.insert("lha".to_string(), "on".to_string());
        let got = Params::parse(&p).unwrap();
        assert!(got.lifeguard.lha && !got.lifeguard.dynamic_suspicion);
        p.insert("period_ms".to_string(), "zero".to_string());
        let e = Params::parse(&p).unwrap_err().to_string();
        assert!(e.contains("period_ms") && e.contains("zero"), "{e}");
        p.insert("period_ms".to_string(), "5".to_string());
        let e = Params::parse(&p).unwrap_err().to_string();
        assert!(e.contains("probe_timeout_ms"), "{e}");
        let d = Params::default();
        assert!(d.detection_bound_ns(16) > d.suspicion_max_ns(16));
    }
}
