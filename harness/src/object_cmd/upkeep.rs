//! Keeping a store whole and knowing what it holds: `scrub`, `repair`, `stats`.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::FsHandle;
use seedbed_engine::object::{lsm_meta, repair as meta_repair, ObjectStore};

use super::format::print_json;
use super::s3;
use crate::output::progress;

/// Arguments of `scrub`.
#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// Only report; rewrite nothing.
    #[arg(long)]
    no_heal: bool,
}

/// Arguments of `compact`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Compact packs whose live records fill less than this fraction of them (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
}

/// `compact`: move the live records out of sparse packs and remove them.
pub fn compact(store: &ObjectStore, json: bool, a: CompactArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&a.threshold) {
        bail!(
            "InvalidArgument: --threshold {} is not between 0 and 1",
            a.threshold
        );
    }
    let r = store.compact_packs(a.threshold).map_err(s3)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "compact: {} packs, {} under {:.0}% live: {} records ({} bytes) moved; packs took \
             {} bytes, now {}",
            r.packs,
            r.packs_compacted,
            100.0 * a.threshold,
            r.records_moved,
            r.bytes_moved,
            r.pack_bytes_before,
            r.pack_bytes_after
        );
    }
    Ok(())
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
        println!(
            "metadata: {} copies, {} bad, {} rebuilt",
            report.meta_copies,
            report.meta_copies_bad.len(),
            report.meta_copies_healed
        );
        for (dir, why) in &report.meta_copies_bad {
            println!("  metadata copy {dir}: {why}");
        }
        for dir in &report.disks_formatted {
            println!("disk {dir}: new, formatted, its shards rebuilt");
        }
        for (dir, why) in &report.disks_absent {
            println!("disk {dir}: left out ({why})");
        }
        if report.shards_absent > 0 {
            println!(
                "{} bad shards left on absent disks: mount or replace the disk, then scrub again",
                report.shards_absent
            );
        }
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

/// `repair`'s options.
#[derive(clap::Args, Debug)]
pub struct RepairArgs {
    /// Rebuild the metadata from the descriptions in the shards even though a copy survives
    /// (done anyway when every copy is empty and the disks hold blobs). Only fills an empty
    /// metadata: with records present it is refused.
    #[arg(long)]
    pub from_shards: bool,
}

/// `repair`: bring every metadata copy back from a good one, or from the shards when every copy
/// is lost; exit 1 if any copy stays out of service or anything could not be rebuilt.
pub fn repair(fs: FsHandle, dir: &Path, json: bool, args: &RepairArgs) -> anyhow::Result<()> {
    let report = meta_repair::repair(
        fs,
        dir,
        lsm_meta::metadata_options(),
        Arc::new(RealClock::new()),
        args.from_shards,
    )
    .map_err(s3)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for d in &report.opened.rolled_forward {
            println!("rolled forward  {} (one commit behind)", d.display());
        }
        for d in &report.opened.rebuilt {
            println!("rebuilt         {} (behind or empty)", d.display());
        }
        for (d, why) in &report.verified.bad {
            let done = if report.verified.healed.contains(d) {
                "rebuilt        "
            } else {
                "STILL BAD      "
            };
            println!("{done} {} ({why})", d.display());
        }
        for c in &report.copies {
            println!(
                "{:<15} {}{}",
                if c.live { "ok" } else { "OUT OF SERVICE" },
                c.dir.display(),
                c.problem
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            );
        }
        if let Some(r) = &report.rebuilt {
            println!(
                "from the shards: {} blobs read; {} versions in {} buckets rebuilt",
                r.blobs,
                r.versions(),
                r.buckets.len()
            );
            for b in &r.buckets {
                let how = match b.settings_generation {
                    Some(g) => format!("settings from its record, generation {g}"),
                    None => "inferred: no settings record (last changed before they existed)"
                        .to_string(),
                };
                println!(
                    "rebuilt bucket  {} ({} versions of which {} delete markers, {} bytes; \
                     versioning {:?}, {how})",
                    b.name, b.versions, b.delete_markers, b.bytes, b.versioning
                );
            }
            for line in &r.not_rebuilt {
                println!("NOT REBUILT     {line}");
            }
        }
    }
    let down = report.copies_down().len();
    if down > 0 {
        bail!("{down} metadata copies could not be repaired");
    }
    if let Some(r) = report
        .rebuilt
        .as_ref()
        .filter(|r| !r.not_rebuilt.is_empty())
    {
        bail!(
            "{} things could not be rebuilt from the shards (listed above)",
            r.not_rebuilt.len()
        );
    }
    Ok(())
}

/// Bytes a tree of files takes: `(allocated on disk, logical length, files)`.
fn tree_usage(dir: &Path) -> anyhow::Result<(u64, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0, 0);
    if !dir.exists() {
        return Ok(total);
    }
    let mut stack = vec![dir.to_path_buf()];
    // Bounded by the number of directories under `dir`.
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let md = entry.metadata()?;
            if md.is_dir() {
                stack.push(entry.path());
            } else {
                total.0 += md.blocks() * 512;
                total.1 += md.len();
                total.2 += 1;
            }
        }
    }
    Ok(total)
}

/// `stats`: what the store holds and what that takes on its disks.
pub fn stats(store: &ObjectStore, json: bool) -> anyhow::Result<()> {
    let u = store.usage().map_err(s3)?;
    let l = store.layout();
    let (mut shards, mut packs, mut meta) = ((0, 0, 0), (0, 0, 0), (0, 0, 0));
    let add = |a: &mut (u64, u64, u64), b: (u64, u64, u64)| {
        a.0 += b.0;
        a.1 += b.1;
        a.2 += b.2;
    };
    for d in &l.disks {
        add(&mut shards, tree_usage(&d.join("blobs"))?);
        add(&mut packs, tree_usage(&d.join("packs"))?);
        add(&mut meta, tree_usage(&d.join("meta"))?);
    }
    add(&mut meta, tree_usage(&store.root().join("meta"))?);
    let stored = u.object_bytes + u.part_bytes;
    let data_on_disk = shards.0 + packs.0;
    let amp = |on_disk: u64| (stored > 0).then(|| on_disk as f64 / stored as f64);
    let ideal = l.width() as f64 / l.k as f64;
    let file_systems = store.file_systems();
    if json {
        print_json(serde_json::json!({
            "Buckets": u.buckets, "Versions": u.versions, "DeleteMarkers": u.delete_markers,
            "Uploads": u.uploads, "Parts": u.parts,
            "ObjectBytes": u.object_bytes, "PartBytes": u.part_bytes,
            "ShardFiles": {"Files": shards.2, "Bytes": shards.1, "Allocated": shards.0},
            "Packs": {"Files": packs.2, "Bytes": packs.1, "Allocated": packs.0},
            "Metadata": {"Files": meta.2, "Bytes": meta.1, "Allocated": meta.0},
            "SpaceAmplification": amp(data_on_disk),
            "SpaceAmplificationWithMetadata": amp(data_on_disk + meta.0),
            "ParityOverhead": ideal,
            "FileSystems": file_systems.iter().map(|f| serde_json::json!({
                "Disk": f.disk.display().to_string(), "Total": f.space.total,
                "Available": f.space.available, "Reserve": f.reserve,
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "{} buckets, {} versions ({} delete markers), {} uploads in progress with {} parts",
        u.buckets, u.versions, u.delete_markers, u.uploads, u.parts
    );
    println!(
        "stored: {:.3} MB of object versions + {:.3} MB of uploaded parts",
        mb(u.object_bytes),
        mb(u.part_bytes)
    );
    println!(
        "on the disks: shard files {:.3} MB allocated in {} files; packs {:.3} MB allocated \
         ({:.3} MB long) in {} files; metadata {:.3} MB in {} files",
        mb(shards.0),
        shards.2,
        mb(packs.0),
        mb(packs.1),
        packs.2,
        mb(meta.0),
        meta.2
    );
    match (amp(data_on_disk), amp(data_on_disk + meta.0)) {
        (Some(a), Some(b)) => println!(
            "space amplification: {a:.2}x for data ({b:.2}x with metadata); K+M/K = {ideal:.2}x \
             is parity alone"
        ),
        _ => println!("space amplification: - (nothing stored)"),
    }
    for f in &file_systems {
        println!(
            "file system of {}: {:.3} MB free of {:.3} MB; space reserve {:.3} MB (PUTs stop \
             there, every other addition at half of it; deletes never)",
            f.disk.display(),
            mb(f.space.available),
            mb(f.space.total),
            mb(f.reserve)
        );
    }
    Ok(())
}
