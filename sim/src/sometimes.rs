//! Coverage you can see: the interesting things a workload declares should *sometimes* happen
//! (Antithesis' "sometimes" assertions).
//!
//! A checker can only fail a run for what happened in it. A sweep of 10,000 passing seeds says
//! nothing about a hint that was never handed off, a suspicion that was never refuted or a
//! stale-allow window that never opened: the code that handles them never ran. So each
//! workload declares its interesting events ([`Workload::SOMETIMES`](crate::Workload::SOMETIMES),
//! a name and a sentence each), its checkers report how often each happened in a run
//! ([`Metrics::happened`](crate::metrics::Metrics::happened), in the run's outcome), and a
//! sweep counts in how many seeds each happened
//! ([`SweepSummary::sometimes`](crate::run::sweep::SweepSummary::sometimes)) and flags every
//! declared event that happened in none ([`SweepSummary::never`](crate::run::sweep::SweepSummary::never)):
//! either the fault mix cannot reach it, or the code that should make it happen is dead.
//!
//! Events are observations, not assertions: a run where none happened passes. They travel in
//! the metrics contract ([`crate::metrics`]), never in the trace, so declaring or counting one
//! changes no trace hash.

/// One interesting event a workload declares; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sometimes {
    /// Its name, as checkers report it (`hint-delivered`).
    pub name: &'static str,
    /// What happened, in a sentence (printed beside the sweep's count).
    pub about: &'static str,
}

impl Sometimes {
    /// A declaration (for the workloads' `const` lists).
    pub const fn new(name: &'static str, about: &'static str) -> Self {
        Sometimes { name, about }
    }
}
