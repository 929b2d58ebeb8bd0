//! `seedbed inspect`: open LSM files for reading and show what is inside — the teaching view.
//!
//! - `inspect sst FILE`: footer, properties, index, every data block (offset, size, entries,
//!   restart points, first key), the first keys, and bloom filter statistics.
//! - `inspect wal FILE`: every record (offset, sequence numbers, operations) and where a torn
//!   tail was cut.
//! - `inspect db DIR`: the manifest's levels, files, sizes and key ranges, the logs waiting to be
//!   replayed, and space amplification. Reads only; never modifies the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Subcommand;
use seedbed_engine::io::{open_backend, read_file, BackendKind};
use seedbed_engine::lsm::batch::BatchOps;
use seedbed_engine::lsm::cache::BlockCache;
use seedbed_engine::lsm::key::{self, ValueKind};
use seedbed_engine::lsm::manifest;
use seedbed_engine::lsm::sstable::block::BlockIter;
use seedbed_engine::lsm::sstable::footer::Footer;
use seedbed_engine::lsm::sstable::framing::trailer_bytes;
use seedbed_engine::lsm::sstable::TableReader;
use seedbed_engine::lsm::stats::Stats;
use seedbed_engine::lsm::wal::read_log;
use serde_json::json;

/// What to inspect.
#[derive(Debug, Clone, Subcommand)]
pub enum InspectCommand {
    /// An SSTable: footer, properties, index, blocks, keys, bloom filter.
    Sst {
        /// The `.sst` file.
        file: PathBuf,
        /// Keys to list.
        #[arg(long, default_value_t = 10)]
        keys: usize,
        /// Output JSON.
        #[arg(long)]
        json: bool,
        /// I/O backend used to read it.
        #[arg(long, default_value = "std")]
        io: BackendKind,
    },
    /// A write-ahead log: records, sequence numbers, torn tail.
    Wal {
        /// The `.log` file.
        file: PathBuf,
        /// Records to list.
        #[arg(long, default_value_t = 20)]
        records: usize,
        /// Output JSON.
        #[arg(long)]
        json: bool,
    },
    /// A database directory: levels, files, sizes, amplification.
    Db {
        /// The database directory.
        dir: PathBuf,
        /// Output JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run `seedbed inspect`.
pub fn run(cmd: &InspectCommand) -> Result<()> {
    match cmd {
        InspectCommand::Sst {
            file,
            keys,
            json,
            io,
        } => sst(file, *keys, *json, *io),
        InspectCommand::Wal {
            file,
            records,
            json,
        } => wal(file, *records, *json),
        InspectCommand::Db { dir, json } => db(dir, *json),
    }
}

fn show_key(ikey: &[u8]) -> String {
    match key::parse(ikey) {
        Some(p) => format!(
            "{} @{} {}",
            String::from_utf8_lossy(p.user_key),
            p.seq,
            if p.kind == ValueKind::Put {
                "put"
            } else {
                "del"
            }
        ),
        None => format!("<malformed {} bytes>", ikey.len()),
    }
}

fn number_of(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Trailer bytes after each block of a table with this footer.
fn footer_trailer(footer: &Footer) -> usize {
    trailer_bytes(footer.format_version)
}

fn sst(path: &Path, keys: usize, as_json: bool, io: BackendKind) -> Result<()> {
    let fs = open_backend(io)?;
    let stats = Arc::new(Stats::default());
    let t = TableReader::open(
        &*fs,
        path,
        number_of(path),
        Arc::new(BlockCache::new(0)),
        stats,
    )
    .with_context(|| format!("reading {}", path.display()))?;
    let footer = *t.footer();
    let props = t.properties().clone();
    let handles = t.data_block_handles()?;
    // Raw contents over stored contents of the data blocks (trailers not counted): 1.0 for
    // uncompressed tables.
    let stored: u64 = props.data_bytes - props.data_blocks * (footer_trailer(&footer) as u64);
    let ratio = props.data_raw_bytes as f64 / stored.max(1) as f64;
    let mut blocks = Vec::new();
    let mut first_keys = Vec::new();
    for (last_key, h) in &handles {
        let info = t.describe_block(*h)?;
        let b = t.read_block(*h)?;
        let restarts = b.num_restarts();
        let mut it = BlockIter::new(b);
        it.seek_to_first();
        let first = it.valid().then(|| show_key(it.key()));
        let mut entries = 0;
        // Bound: entries of one block.
        while it.valid() {
            if first_keys.len() < keys {
                first_keys
                    .push(json!({"key": show_key(it.key()), "value_bytes": it.value().len()}));
            }
            entries += 1;
            it.next();
        }
        if let Some(e) = it.error() {
            anyhow::bail!("data block at {}: {e}", h.offset);
        }
        blocks.push(
            json!({"offset": h.offset, "size": h.size, "raw_size": info.raw_bytes,
            "compression": info.compression.name(), "entries": entries, "restarts": restarts,
            "first_key": first, "last_key": show_key(last_key)}),
        );
    }
    let bloom = t.filter().map(|f| {
        let fill = f.fill_ratio();
        json!({"bits": f.bits(), "probes": f.probes(), "bits_per_key": props.bloom_bits_per_key,
            "fill_ratio": fill, "estimated_false_positive_rate": fill.powi(i32::from(f.probes()))})
    });
    let report = json!({
        "file": path.display().to_string(), "bytes": t.file_bytes(),
        "footer": {"index": [footer.index.offset, footer.index.size], "filter": [footer.filter.offset, footer.filter.size],
                   "properties": [footer.properties.offset, footer.properties.size], "format_version": footer.format_version},
        "properties": {"entries": props.entries, "tombstones": props.tombstones, "data_blocks": props.data_blocks,
            "data_bytes": props.data_bytes, "index_bytes": props.index_bytes, "filter_bytes": props.filter_bytes,
            "raw_key_bytes": props.raw_key_bytes, "raw_value_bytes": props.raw_value_bytes,
            "seq_min": props.seq_min, "seq_max": props.seq_max,
            "data_raw_bytes": props.data_raw_bytes, "compressed_data_blocks": props.compressed_data_blocks,
            "compression": props.compression.name(), "compression_ratio": ratio,
            "smallest_key": show_key(&props.smallest_key), "largest_key": show_key(&props.largest_key)},
        "bloom": bloom, "blocks": blocks, "keys": first_keys,
    });
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "SSTable {} ({} bytes, format v{})",
        path.display(),
        t.file_bytes(),
        footer.format_version
    );
    println!(
        "footer: index @{}+{}  filter @{}+{}  properties @{}+{}",
        footer.index.offset,
        footer.index.size,
        footer.filter.offset,
        footer.filter.size,
        footer.properties.offset,
        footer.properties.size
    );
    println!("properties: {} entries ({} tombstones) in {} data blocks; keys {} B, values {} B; seq {}..={}",
        props.entries, props.tombstones, props.data_blocks, props.raw_key_bytes, props.raw_value_bytes, props.seq_min, props.seq_max);
    println!(
        "key range: [{}] .. [{}]",
        show_key(&props.smallest_key),
        show_key(&props.largest_key)
    );
    println!(
        "compression: {} ({} of {} data blocks compressed); data {} B stored for {} B raw, ratio {:.2}",
        props.compression.name(),
        props.compressed_data_blocks,
        props.data_blocks,
        stored,
        props.data_raw_bytes,
        ratio
    );
    if let Some(b) = &report["bloom"].as_object() {
        println!(
            "bloom: {} bits, {} probes, fill {:.3}, estimated false-positive rate {:.4}",
            b["bits"],
            b["probes"],
            b["fill_ratio"].as_f64().unwrap_or(0.0),
            b["estimated_false_positive_rate"].as_f64().unwrap_or(0.0)
        );
    }
    println!("index: {} entries", handles.len());
    println!(
        "{:>10} {:>6} {:>6} {:>5} {:>7} {:>8}  first key",
        "offset", "size", "raw", "codec", "entries", "restarts"
    );
    for b in report["blocks"].as_array().into_iter().flatten().take(20) {
        // serde_json's numbers ignore width: render them first.
        let n = |k: &str| b[k].to_string();
        println!(
            "{:>10} {:>6} {:>6} {:>5} {:>7} {:>8}  {}",
            n("offset"),
            n("size"),
            n("raw_size"),
            b["compression"].as_str().unwrap_or(""),
            n("entries"),
            n("restarts"),
            b["first_key"].as_str().unwrap_or("")
        );
    }
    if handles.len() > 20 {
        println!(
            "... {} more blocks (use --json for all)",
            handles.len() - 20
        );
    }
    println!("first {} keys:", first_keys.len());
    for k in &first_keys {
        println!(
            "  {}  ({} value bytes)",
            k["key"].as_str().unwrap_or(""),
            k["value_bytes"]
        );
    }
    Ok(())
}

fn wal(path: &Path, limit: usize, as_json: bool) -> Result<()> {
    let fs = open_backend(BackendKind::Std)?;
    let data = read_file(&*fs, path)?;
    let contents = read_log(path, &data, false)?;
    let mut records = Vec::new();
    let mut ops_total = 0u64;
    for (offset, rec) in &contents.records {
        let ops = BatchOps::new(rec).map_err(|e| anyhow::anyhow!("record at {offset}: {e}"))?;
        let first = ops.first_seq;
        let count = ops.op_count();
        ops_total += u64::from(count);
        if records.len() < limit {
            let shown: Vec<String> = BatchOps::new(rec)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .take(5)
                .map(|op| match op {
                    Ok((ValueKind::Put, k, v)) => {
                        format!("put {} ({} B)", String::from_utf8_lossy(k), v.len())
                    }
                    Ok((ValueKind::Delete, k, _)) => format!("del {}", String::from_utf8_lossy(k)),
                    Err(e) => format!("<{e}>"),
                })
                .collect();
            records.push(json!({"offset": offset, "bytes": rec.len(), "seq_first": first, "ops": count, "first_ops": shown}));
        }
    }
    let report = json!({"file": path.display().to_string(), "bytes": data.len(), "records": contents.records.len(),
        "operations": ops_total, "valid_bytes": contents.valid_bytes,
        "cut": contents.cut.as_ref().map(|(at, why)| json!({"offset": at, "reason": why})), "first_records": records});
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "WAL {} ({} bytes): {} records, {} operations, valid prefix {} bytes",
        path.display(),
        data.len(),
        contents.records.len(),
        ops_total,
        contents.valid_bytes
    );
    if let Some((at, why)) = &contents.cut {
        println!("torn tail cut at byte {at}: {why}");
    } else if contents.valid_bytes < data.len() as u64 {
        // `Options::wal_preallocate`: the log was created at full length.
        println!(
            "then {} bytes of zeros: the log was preallocated, records end there",
            data.len() as u64 - contents.valid_bytes
        );
    }
    for r in &records {
        println!(
            "  @{:<8} seq {:<10} {} ops  {}",
            r["offset"],
            r["seq_first"],
            r["ops"],
            r["first_ops"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn db(dir: &Path, as_json: bool) -> Result<()> {
    let fs = open_backend(BackendKind::Std)?;
    let (state, manifest_number) = manifest::recover(&*fs, dir)
        .with_context(|| format!("reading the manifest of {}", dir.display()))?;
    let names = fs.list(dir)?;
    let logs: Vec<&String> = names.iter().filter(|n| n.ends_with(".log")).collect();
    let mut levels = Vec::new();
    let mut total = 0u64;
    let mut last_nonempty = 0u64;
    for (l, files) in state.levels.iter().enumerate() {
        let bytes: u64 = files.values().map(|f| f.size_bytes).sum();
        total += bytes;
        if bytes > 0 {
            last_nonempty = bytes;
        }
        let list: Vec<_> = files
            .values()
            .map(|f| {
                json!({"number": f.number, "bytes": f.size_bytes,
            "smallest": show_key(&f.smallest), "largest": show_key(&f.largest)})
            })
            .collect();
        levels.push(json!({"level": l, "files": files.len(), "bytes": bytes, "tables": list}));
    }
    let log_bytes: u64 = logs
        .iter()
        .filter_map(|n| std::fs::metadata(dir.join(n)).ok())
        .map(|m| m.len())
        .sum();
    let report = json!({"dir": dir.display().to_string(), "manifest": manifest::manifest_file_name(manifest_number),
        "log_number": state.log_number, "next_file_number": state.next_file_number, "last_sequence": state.last_sequence,
        "levels": levels, "table_bytes": total, "logs": logs, "log_bytes": log_bytes,
        "space_amplification": if last_nonempty == 0 { 0.0 } else { total as f64 / last_nonempty as f64 }});
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "database {} — {} (last sequence {}, next file {})",
        dir.display(),
        report["manifest"].as_str().unwrap_or(""),
        state.last_sequence,
        state.next_file_number
    );
    println!("{:>5} {:>6} {:>14}", "level", "files", "bytes");
    for l in report["levels"].as_array().into_iter().flatten() {
        println!(
            "{:>5} {:>6} {:>14}",
            format!("L{}", l["level"]),
            l["files"],
            l["bytes"]
        );
    }
    println!(
        "tables {} bytes; logs to replay {:?} ({} bytes); space amplification {:.2}",
        total,
        logs,
        log_bytes,
        report["space_amplification"].as_f64().unwrap_or(0.0)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::clock::RealClock;
    use seedbed_engine::lsm::{Db, Options};

    #[test]
    fn inspects_a_real_database() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("db");
        let fs = open_backend(BackendKind::Std).unwrap();
        let db = Db::open(
            fs,
            &dir,
            Options::small_for_tests(),
            Arc::new(RealClock::new()),
        )
        .unwrap();
        for i in 0..2000u32 {
            db.put(format!("k{i:05}").as_bytes(), b"some value")
                .unwrap();
        }
        db.flush().unwrap();
        db.put(b"tail", b"in the log").unwrap();
        db.close().unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let sst = names
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "sst"))
            .unwrap();
        let log = names
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "log"))
            .unwrap();
        run(&InspectCommand::Sst {
            file: sst.clone(),
            keys: 5,
            json: true,
            io: BackendKind::Std,
        })
        .unwrap();
        run(&InspectCommand::Sst {
            file: sst.clone(),
            keys: 5,
            json: false,
            io: BackendKind::Mmap,
        })
        .unwrap();
        run(&InspectCommand::Wal {
            file: log.clone(),
            records: 5,
            json: false,
        })
        .unwrap();
        run(&InspectCommand::Db {
            dir: dir.clone(),
            json: true,
        })
        .unwrap();
        // A damaged table is reported, naming the file.
        let mut bytes = std::fs::read(sst).unwrap();
        let n = bytes.len();
        bytes[n - 30] ^= 0xff;
        std::fs::write(sst, &bytes).unwrap();
        let err = run(&InspectCommand::Sst {
            file: sst.clone(),
            keys: 5,
            json: true,
            io: BackendKind::Std,
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").contains(sst.file_name().unwrap().to_str().unwrap()),
            "{err:#}"
        );
    }
}
