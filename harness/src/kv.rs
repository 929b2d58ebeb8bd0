//! `seedbed kv`: the LSM engine from the command line, for people and for scripts.
//!
//! One operation: `seedbed kv --db DIR put KEY VALUE | get KEY | delete KEY | scan [FROM [TO]]
//! | stats`. Many: `seedbed kv --db DIR shell` reads one command per line from stdin and
//! answers exactly one line per command, *after* the command has completed under the chosen
//! `--sync` policy, so a script knows exactly which writes were acknowledged:
//!
//! | command            | answer                                   |
//! |--------------------|------------------------------------------|
//! | `put KEY VALUE`    | `ok`                                     |
//! | `get KEY`          | `value VALUE` or `not_found`             |
//! | `delete KEY`       | `ok`                                     |
//! | `scan [FROM [TO]]` | a JSON array of `[key, value]` pairs     |
//! | `sync`             | `ok` (every earlier write is durable)    |
//! | `stats`            | the statistics as one line of JSON       |
//! | anything wrong     | `error MESSAGE`                          |
//!
//! Under `--sync group`, writes are answered in groups: the shell applies every command already
//! waiting on stdin, syncs the log once, then answers them all (group commit). Under `always`
//! each write is synced before its answer; under `never` the answer means "applied", not
//! "durable". Keys and values are taken as UTF-8 text; a value may contain spaces.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use seedbed_engine::clock::RealClock;
use seedbed_engine::io::{open_backend, BackendKind};
use seedbed_engine::lsm::sstable::Compression;
use seedbed_engine::lsm::{Db, Options, ReadOptions, SyncPolicy, WriteBatch, WriteOptions};

/// Options of `seedbed kv`.
#[derive(Debug, Clone, clap::Args)]
pub struct KvArgs {
    /// Database directory (created if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// I/O backend: std, uring, mmap.
    #[arg(long, default_value = "std")]
    pub io: BackendKind,
    /// WAL sync policy: always, never, group, group:MS[:BYTES].
    #[arg(long, default_value = "always")]
    pub sync: SyncPolicy,
    /// How tables written from now on compress their data blocks: none, lz4, zstd, zstd:LEVEL.
    /// Each block records its own, so a database can mix them (`seedbed inspect sst` shows it).
    #[arg(long, default_value = "none")]
    pub compression: Compression,
    /// What to do.
    #[command(subcommand)]
    pub op: KvOp,
}

/// One `seedbed kv` operation.
#[derive(Debug, Clone, Subcommand)]
pub enum KvOp {
    /// Set KEY to VALUE.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Print the value of KEY (exit status 1 if absent).
    Get {
        /// The key.
        key: String,
    },
    /// Delete KEY.
    Delete {
        /// The key.
        key: String,
    },
    /// Print keys in [FROM, TO), one `key<TAB>value` per line.
    Scan {
        /// First key (inclusive).
        from: Option<String>,
        /// Last key (exclusive).
        to: Option<String>,
        /// Newest key first.
        #[arg(long)]
        reverse: bool,
        /// At most this many keys.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print statistics (levels, amplification, cache, bloom filters) as JSON.
    Stats,
    /// Read commands from stdin, one per line; answer one line per command.
    Shell,
}

fn open(args: &KvArgs) -> Result<Db> {
    let fs = open_backend(args.io)?;
    let mut opts = Options {
        sync: args.sync,
        ..Options::default()
    };
    opts.table.compression = args.compression;
    Db::open(fs, &args.db, opts, Arc::new(RealClock::new()))
        .with_context(|| format!("opening {}", args.db.display()))
}

fn scan(
    db: &Db,
    from: Option<&str>,
    to: Option<&str>,
    reverse: bool,
    limit: usize,
) -> Result<Vec<(String, String)>> {
    let mut it = db.iter(
        ReadOptions::default(),
        from.map(str::as_bytes),
        to.map(str::as_bytes),
    );
    let pairs = if reverse {
        it.seek_to_last()?;
        it.collect_backward(limit)?
    } else {
        it.seek_to_first()?;
        it.collect_forward(limit)?
    };
    Ok(pairs
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect())
}

/// Run `seedbed kv`; returns the process exit code (1 for `get` of a missing key).
pub fn run(args: &KvArgs) -> Result<i32> {
    let db = open(args)?;
    let code = match &args.op {
        KvOp::Put { key, value } => {
            db.put(key.as_bytes(), value.as_bytes())?;
            0
        }
        KvOp::Delete { key } => {
            db.delete(key.as_bytes())?;
            0
        }
        KvOp::Get { key } => match db.get(key.as_bytes())? {
            Some(v) => {
                println!("{}", String::from_utf8_lossy(&v));
                0
            }
            None => {
                eprintln!("not found: {key}");
                1
            }
        },
        KvOp::Scan {
            from,
            to,
            reverse,
            limit,
        } => {
            let out = std::io::stdout();
            let mut out = out.lock();
            for (k, v) in scan(
                &db,
                from.as_deref(),
                to.as_deref(),
                *reverse,
                limit.unwrap_or(usize::MAX),
            )? {
                writeln!(out, "{k}\t{v}")?;
            }
            0
        }
        KvOp::Stats => {
            println!("{}", serde_json::to_string_pretty(&db.stats())?);
            0
        }
        KvOp::Shell => {
            shell(&db, args.sync)?;
            0
        }
    };
    db.close()?;
    Ok(code)
}

/// Parse and run one shell line; `Ok(answer, wrote)`.
fn shell_command(db: &Db, line: &str, wo: WriteOptions) -> Result<(String, bool)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut parts = line.splitn(3, ' ');
    let cmd = parts.next().unwrap_or("");
    let a = parts.next();
    let b = parts.next();
    match (cmd, a, b) {
        ("put", Some(k), Some(v)) => {
            let mut batch = WriteBatch::new();
            batch.put(k.as_bytes(), v.as_bytes());
            db.write(batch, wo)?;
            Ok(("ok".into(), true))
        }
        ("get", Some(k), None) => Ok((
            match db.get(k.as_bytes())? {
                Some(v) => format!("value {}", String::from_utf8_lossy(&v)),
                None => "not_found".into(),
            },
            false,
        )),
        ("delete", Some(k), None) => {
            let mut batch = WriteBatch::new();
            batch.delete(k.as_bytes());
            db.write(batch, wo)?;
            Ok(("ok".into(), true))
        }
        ("scan", from, to) => {
            let to = to.map(|t| t.split(' ').next().unwrap_or(t));
            Ok((serde_json::to_string(&scan(db, from, to, false, usize::MAX)?)?, false))
        }
        ("sync", None, None) => {
            db.sync_wal()?;
            Ok(("ok".into(), false))
        }
        ("stats", None, None) => Ok((serde_json::to_string(&db.stats())?, false)),
        ("", None, None) => bail!("empty command"),
        _ => bail!("bad command '{line}': expected put KEY VALUE | get KEY | delete KEY | scan [FROM [TO]] | sync | stats"),
    }
}

/// The shell loop. Answers are held back until the writes they acknowledge are durable under
/// the sync policy.
pub fn shell(db: &Db, policy: SyncPolicy) -> Result<()> {
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(64 * 1024, stdin.lock());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let group = matches!(policy, SyncPolicy::Group { .. });
    // Under group commit, individual writes skip the sync; the group syncs once.
    let wo = if group {
        WriteOptions { sync: Some(false) }
    } else {
        WriteOptions::default()
    };
    let mut pending: Vec<String> = Vec::new();
    let mut pending_writes = false;
    let mut line = String::new();
    // Bound: one iteration per input line.
    loop {
        line.clear();
        let n = input.read_line(&mut line)?;
        if n > 0 {
            let answer = match shell_command(db, &line, wo) {
                Ok((a, wrote)) => {
                    pending_writes |= wrote;
                    a
                }
                Err(e) => format!("error {}", format!("{e:#}").replace('\n', " ")),
            };
            pending.push(answer);
        }
        // Answer the group once no more input is waiting (or at end of input).
        if n == 0 || input.buffer().is_empty() {
            if group && pending_writes {
                if let Err(e) = db.sync_wal() {
                    // Nothing in this group is acknowledged.
                    for _ in &pending {
                        writeln!(out, "error sync failed: {e}")?;
                    }
                    pending.clear();
                }
            }
            for a in pending.drain(..) {
                writeln!(out, "{a}")?;
            }
            pending_writes = false;
            out.flush()?;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_commands_answer_one_line_each() {
        let t = tempfile::tempdir().unwrap();
        let args = KvArgs {
            db: t.path().join("db"),
            io: BackendKind::Std,
            sync: SyncPolicy::Always,
            compression: Compression::None,
            op: KvOp::Stats,
        };
        let db = open(&args).unwrap();
        let wo = WriteOptions::default();
        assert_eq!(
            shell_command(&db, "put a hello world\n", wo).unwrap(),
            ("ok".into(), true)
        );
        assert_eq!(
            shell_command(&db, "get a", wo).unwrap().0,
            "value hello world"
        );
        assert_eq!(shell_command(&db, "put b 2", wo).unwrap().0, "ok");
        assert_eq!(
            shell_command(&db, "scan a", wo).unwrap().0,
            r#"[["a","hello world"],["b","2"]]"#
        );
        assert_eq!(
            shell_command(&db, "scan a b", wo).unwrap().0,
            r#"[["a","hello world"]]"#
        );
        assert_eq!(shell_command(&db, "delete a", wo).unwrap().0, "ok");
        assert_eq!(shell_command(&db, "get a", wo).unwrap().0, "not_found");
        assert_eq!(shell_command(&db, "sync", wo).unwrap().0, "ok");
        assert!(shell_command(&db, "frobnicate", wo).is_err());
        assert!(shell_command(&db, "get", wo).is_err());
        db.close().unwrap();
        // Acknowledged writes survive a reopen.
        let db = open(&args).unwrap();
        assert_eq!(db.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    }
}
