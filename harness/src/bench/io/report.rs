//! What `seedbed bench io` reports: one record per case, as a table and as JSON lines.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// One measured case: what ran and what it measured. Written as one JSON line per case.
#[derive(Clone, Debug, Serialize)]
pub struct IoRecord {
    /// Backend name (`std`, `uring`, `mmap`, `sim`).
    pub backend: String,
    /// Case name (`seqwrite`, `seqread`, `randread`, `randwrite`).
    pub case: String,
    /// Bytes per request.
    pub block_size_bytes: usize,
    /// Requests kept in flight.
    pub qd: usize,
    /// Depth the device actually saw: 1 for backends that complete requests on push.
    pub qd_effective: usize,
    /// Whether the file was opened with O_DIRECT.
    pub direct: bool,
    /// Requests completed.
    pub ops: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Wall time of the case (writes include the final fdatasync).
    pub secs: f64,
    /// Throughput in MB/s (10^6 bytes per second).
    pub mb_per_s: f64,
    /// Requests per second.
    pub iops: f64,
    /// Median request latency, push to completion, in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
    /// 99.9th percentile latency in microseconds.
    pub p999_us: f64,
    /// Where the bytes came from: `device` (direct I/O), `page cache` (buffered, file fits in
    /// RAM), `mostly device` (buffered, file larger than RAM) or `memory` (sim).
    pub served_from: String,
}

/// Print records as a table, one row per case.
pub fn print_table(out: &mut dyn Write, records: &[IoRecord]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<7} {:<10} {:>6} {:>4} {:>6} {:>10} {:>10} {:>9} {:>9} {:>9}  served from",
        "backend", "case", "bs", "qd", "direct", "MB/s", "IOPS", "p50 µs", "p99 µs", "p99.9 µs",
    )?;
    for r in records {
        let qd = if r.qd_effective == r.qd {
            r.qd.to_string()
        } else {
            format!("{}*", r.qd)
        };
        writeln!(
            out,
            "{:<7} {:<10} {:>6} {:>4} {:>6} {:>10.1} {:>10.0} {:>9.1} {:>9.1} {:>9.1}  {}",
            r.backend,
            r.case,
            human_block(r.block_size_bytes),
            qd,
            if r.direct { "yes" } else { "no" },
            r.mb_per_s,
            r.iops,
            r.p50_us,
            r.p99_us,
            r.p999_us,
            r.served_from
        )?;
    }
    if records.iter().any(|r| r.qd_effective != r.qd) {
        writeln!(
            out,
            "  * this backend completes each request inside the call: the device saw depth 1"
        )?;
    }
    Ok(())
}

fn human_block(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{}M", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{}K", bytes >> 10)
    } else {
        bytes.to_string()
    }
}

/// Write records as JSON lines to `path`.
pub fn write_json(path: &Path, records: &[IoRecord]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create the JSON output file {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The name of the in-memory file system `dir` is on (tmpfs, ramfs), if it is on one. There
/// the "device" is RAM: Linux 6.6+ even accepts O_DIRECT on tmpfs, so direct I/O alone does not
/// mean a disk was measured.
pub fn memory_fs(dir: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `statfs` is plain old data, for which all-zero bytes are a valid value.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: statfs writes into the struct we pass; the path is NUL-terminated.
    if unsafe { libc::statfs(c_path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // f_type's integer type differs between libcs
    match st.f_type as i64 {
        TMPFS_MAGIC => Some("tmpfs"),
        RAMFS_MAGIC => Some("ramfs"),
        _ => None,
    }
}

/// Total memory from /proc/meminfo, in bytes, if it can be read.
pub fn mem_total_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Sizes like `1GiB`, `512M`, `64k`, `4096` (binary units; `B` and `iB` optional).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a size: expected e.g. 1GiB, 512M, 4096"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => {
            return Err(format!(
                "'{text}': unknown size unit '{other}' (use K, M, G or T)"
            ))
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// A size for humans, in binary units.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units_and_reject_garbage() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size(" 2gb ").unwrap(), 2 << 30);
        assert!(parse_size("").is_err());
        assert!(parse_size("GiB").is_err());
        assert!(parse_size("1 parsec").unwrap_err().contains("unit"));
        assert!(parse_size("99999999999999T")
            .unwrap_err()
            .contains("too large"));
        assert_eq!(human_bytes(1 << 30), "1.0 GiB");
    }

    #[test]
    fn memory_file_systems_are_recognised() {
        if Path::new("/dev/shm").is_dir() {
            assert_eq!(memory_fs(Path::new("/dev/shm")), Some("tmpfs"));
        }
        assert_eq!(memory_fs(Path::new("/proc/self")), None);
        assert_eq!(memory_fs(Path::new("/no/such/dir")), None);
    }
}
