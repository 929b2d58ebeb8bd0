//! `seedbed` with no arguments: the tour (placeholder until the parts land).

use std::path::PathBuf;

/// Options of the tour.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TourArgs {
    /// Where results go.
    #[arg(long, default_value = "seedbed-report")]
    pub out: PathBuf,
}

/// Run the tour.
pub fn run(args: &TourArgs) -> anyhow::Result<()> {
    println!("seedbed tour: results will go to {}", args.out.display());
    // `TourArgs::default()` (no subcommand) has an empty path: use clap's default then.
    let out = if args.out.as_os_str().is_empty() {
        PathBuf::from("seedbed-report")
    } else {
        args.out.clone()
    };
    std::fs::create_dir_all(&out)?;
    // A short LSM benchmark (20,000 keys) in a scratch directory under the report.
    let lsm_dir = out.join("lsm-db");
    let _ = std::fs::remove_dir_all(&lsm_dir);
    let report = crate::bench::lsm::short_run(&lsm_dir)?;
    let _ = std::fs::remove_dir_all(&lsm_dir);
    std::fs::write(out.join("lsm.json"), serde_json::to_string_pretty(&report)?)?;
    // A short simulator sweep (a few seconds at most); its JSON lands in the report directory.
    let sweep = crate::sim::short_sweep(&out, std::time::Duration::from_secs(5))?;
    sweep.print();
    Ok(())
}
