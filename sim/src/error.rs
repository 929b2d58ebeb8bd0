//! The simulator's error type: what was wrong with a request, named precisely.
//!
//! A *failing run* is not an error: it is a [`RunOutcome`](crate::world::RunOutcome) with a
//! violation. Errors are for requests the simulator cannot carry out at all.

/// What went wrong before or around a run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No workload by that name.
    #[error("unknown workload '{name}': known workloads are {known}")]
    UnknownWorkload {
        /// The name asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A config value is out of range or inconsistent.
    #[error("bad run config: {0}")]
    Config(String),
    /// A workload parameter (`--set key=value`) is unknown or malformed.
    #[error("workload '{workload}': parameter '{key}': {detail}")]
    Param {
        /// The workload.
        workload: &'static str,
        /// The parameter.
        key: String,
        /// What is wrong.
        detail: String,
    },
    /// A trace file could not be read back.
    #[error("trace: {0}")]
    Trace(String),
    /// Shrinking needs a run that fails.
    #[error("seed {seed} of workload '{workload}' does not fail: nothing to shrink")]
    NothingToShrink {
        /// The workload.
        workload: String,
        /// The seed.
        seed: u64,
    },
}
