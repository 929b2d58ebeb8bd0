//! Keeping a store whole: `scrub`.

use anyhow::bail;
use clap::Args;
use seedbed_engine::object::ObjectStore;

use super::s3;
use crate::output::progress;

/// Arguments of `scrub`.
#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// Only report; rewrite nothing.
    #[arg(long)]
    no_heal: bool,
}

/// `scrub`: verify every shard block; heal from parity unless `--no-heal`; exit 1 if any
/// object could not be reconstructed.
pub fn scrub(store: &ObjectStore, json: bool, a: ScrubArgs) -> anyhow::Result<()> {
    let total = store.total_bytes().map_err(s3)?;
    let bar = progress(total, "scrub");
    let report = store
        .scrub(!a.no_heal, &mut |_, bytes| bar.set_position(bytes))
        .map_err(s3)?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "scrub: {} objects, {} blobs, {} bytes checked; {} bad blocks, {} shards healed, {} orphans removed, {} unrecoverable",
            report.objects, report.blobs, report.bytes, report.bad_blocks,
            report.files_healed, report.orphans_removed, report.failures.len()
        );
        for f in &report.failures {
            println!(
                "  UNRECOVERABLE {}/{} version {}: {}",
                f.bucket, f.key, f.version_id, f.error
            );
        }
    }
    if !report.failures.is_empty() {
        bail!(
            "{} object(s) could not be reconstructed",
            report.failures.len()
        );
    }
    Ok(())
}
