//! The flags every `seedbed sim` verb shares: which workload, and how to build its config.

use std::path::PathBuf;

use anyhow::{bail, Context};
use seedbed_sim::config::{FaultSource, RunConfig};
use seedbed_sim::faults::FaultPlan;
use seedbed_sim::run::repro::Sources;

use super::InvalidInput;

/// How to build a run's config. Flags override the `--config` file, which overrides the
/// workload's defaults.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Workload to run (`seedbed sim list` shows them) [default: register, or the config's].
    #[arg(long, short = 'w')]
    pub workload: Option<String>,
    /// A whole run config in TOML (what `sim shrink` writes); flags override its fields.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Faults: `swarm` (a random subset per seed, the default), `none`, or a TOML plan file.
    #[arg(long, value_name = "swarm|none|FILE")]
    pub faults: Option<String>,
    /// Nodes in the cluster (default: the workload's).
    #[arg(long)]
    pub nodes: Option<u32>,
    /// Client operations during the fault period (default: the workload's).
    #[arg(long)]
    pub ops: Option<u64>,
    /// Mean gap between client operations, in microseconds.
    #[arg(long)]
    pub op_gap_us: Option<u64>,
    /// Length of the fault period, in virtual milliseconds.
    #[arg(long)]
    pub fault_ms: Option<u64>,
    /// Length of the quiet period after it (liveness is judged here), in virtual milliseconds.
    #[arg(long)]
    pub quiet_ms: Option<u64>,
    /// A workload parameter, `key=value` (repeatable), e.g. `--set bug=stale-quorum`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

impl ConfigArgs {
    /// The config for `seed` (or the file's seed when `seed` is `None`), and where its parts
    /// came from (for repro lines). Errors are [`InvalidInput`].
    pub fn build(&self, seed: Option<u64>) -> anyhow::Result<(RunConfig, Sources)> {
        self.build_checked(seed)
            .map_err(|e| e.context(InvalidInput))
    }

    fn build_checked(&self, seed: Option<u64>) -> anyhow::Result<(RunConfig, Sources)> {
        let mut sources = Sources::default();
        let mut c = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config {}", path.display()))?;
                sources.config_file = Some(path.display().to_string());
                RunConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => RunConfig::new("register", 0),
        };
        if let Some(w) = &self.workload {
            c.workload = w.clone();
        }
        if let Some(s) = seed {
            c.seed = s;
        }
        match self.faults.as_deref() {
            None => {}
            Some("swarm") => c.faults = FaultSource::Swarm,
            Some("none") => c.faults = FaultSource::None,
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading fault plan {file}"))?;
                let plan = FaultPlan::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("fault plan {file}: {e}"))?;
                c.faults = FaultSource::Plan(Box::new(plan));
                sources.faults_file = Some(file.to_string());
            }
        }
        c.nodes = self.nodes.or(c.nodes);
        c.ops = self.ops.or(c.ops);
        c.op_gap_us = self.op_gap_us.or(c.op_gap_us);
        c.fault_ms = self.fault_ms.or(c.fault_ms);
        c.quiet_ms = self.quiet_ms.or(c.quiet_ms);
        for p in &self.params {
            let Some((k, v)) = p.split_once('=') else {
                bail!("--set {p}: expected KEY=VALUE");
            };
            c.params.insert(k.trim().to_string(), v.trim().to_string());
        }
        seedbed_sim::registry::find(&c.workload)?;
        Ok((c, sources))
    }
}
