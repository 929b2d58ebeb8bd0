//! `seedbed bench io` (placeholder until the io benchmark lands).

/// Options of `seedbed bench io`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IoArgs {}

/// Run the device benchmark.
pub fn run(_args: &IoArgs) -> anyhow::Result<()> {
    anyhow::bail!("seedbed bench io is not built yet")
}
