//! Group commit, five ways: how many durable writes per second N writers get from one file,
//! and how busy they keep the device's fsync.
//!
//! ```sh
//! cargo run --release -p seedbed-engine --example group_commit_designs -- --help
//! ```
//!
//! Every writer loops: write one 116-byte record (the 16-byte key and 100-byte value of
//! `seedbed bench lsm`) and wait until it is durable, then write the next — a closed loop, as
//! db_bench's threads and `bench lsm --threads` are. The file is created at full length first,
//! as the engine creates its write-ahead logs (`wal::create_log`), so an `fdatasync` flushes
//! data only and commits no new file size. The designs:
//!
//! - `alone`: one writer, write then `fdatasync`. Its rate is the device's fsync rate, the
//!   "fsync bound" `bench lsm` reports against.
//! - `leader`: LevelDB's writer queue down to its bones. The first writer to find nobody
//!   committing leads: it takes every record queued so far, writes them and syncs once while
//!   the others queue, then wakes them. The engine's `db/write_queue.rs` is this, with a lock
//!   per waiting writer and byte limits on a group.
//! - `syncer`: a thread that does nothing but sync (MySQL 8's `log_flusher`). Writers append
//!   under a lock and wait; the syncer syncs as long as anything is unsynced, so the device is
//!   never idle while there is work, and no writer has to be woken to start the next sync.
//! - `syncer-delay`: the same, but after each sync the syncer waits (at most `--delay-us`) for
//!   the writers it just released to write again, trading idle device time for bigger groups
//!   (PostgreSQL's `commit_delay`, MySQL's `binlog_group_commit_sync_delay`).
//! - `overlap`: no group commit. Each writer syncs its own record through its own open file
//!   description, so syncs overlap and the kernel and device merge them as they can. (Each
//!   description sees a writeback error on its next `fsync`, Linux ≥ 4.13; one shared
//!   description would report it to one caller only — why the engine never overlaps syncs on
//!   one descriptor.)
//!
//! For each design: writes/s, fsyncs/s, writes per fsync, and fsyncs/s as a share of `alone`'s
//! — the "of fsync bound" of `bench lsm`, which is writes/s ÷ (alone's rate × writes per
//! fsync). Rounds are interleaved (every design once per round) and medians printed, as
//! docs/benchmarks.md asks of every figure; "Durable writes: what a 2-vCPU machine allows"
//! there reads this example's output.
//!
//! Nothing here is the engine's code: the records are dummy bytes and nothing is inserted
//! anywhere. What is left is the cost the designs cannot avoid — waking threads, locks, the
//! device — so a design's figure here is a ceiling for an engine built that way.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// One record: `bench lsm`'s 16-byte key and 100-byte value.
const RECORD: usize = 116;
/// The file's preallocated length: more than any run writes (8 writers × 60k records/s × 2 s ×
/// 116 bytes is 111 MB only at speeds no fsync reaches; a run past the end still works, it
/// just appends).
const FILE_BYTES: u64 = 256 << 20;
/// Above this many fsyncs per second the directory is not on a device that honours fsync
/// (tmpfs, or a volatile write cache): the figures would measure nothing.
const IMPLAUSIBLE_FSYNCS: f64 = 200_000.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Design {
    Alone,
    Leader,
    Syncer,
    SyncerDelay,
    Overlap,
}

const DESIGNS: [Design; 5] = [
    Design::Alone,
    Design::Leader,
    Design::Syncer,
    Design::SyncerDelay,
    Design::Overlap,
];

impl Design {
    fn name(self) -> &'static str {
        match self {
            Design::Alone => "alone",
            Design::Leader => "leader",
            Design::Syncer => "syncer",
            Design::SyncerDelay => "syncer-delay",
            Design::Overlap => "overlap",
        }
    }
}

struct Config {
    writers: usize,
    run: Duration,
    rounds: usize,
    delay: Duration,
    file: PathBuf,
}

/// What one design did in one run.
#[derive(Clone, Copy, Debug, Default)]
struct Figures {
    writes_per_sec: f64,
    syncs_per_sec: f64,
}

impl Figures {
    fn writes_per_sync(&self) -> f64 {
        if self.syncs_per_sec > 0.0 {
            self.writes_per_sec / self.syncs_per_sec
        } else {
            0.0
        }
    }
}

/// Counts a run's writes and syncs, and when it ends.
struct Clock {
    start: Instant,
    end: Instant,
    writes: AtomicU64,
    syncs: AtomicU64,
}

impl Clock {
    fn new(run: Duration) -> Self {
        let start = Instant::now();
        Clock {
            start,
            end: start + run,
            writes: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    fn running(&self) -> bool {
        Instant::now() < self.end
    }

    fn figures(&self) -> Figures {
        let secs = self.start.elapsed().as_secs_f64();
        Figures {
            writes_per_sec: self.writes.load(Ordering::Relaxed) as f64 / secs,
            syncs_per_sec: self.syncs.load(Ordering::Relaxed) as f64 / secs,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().expect("a writer thread panicked holding the lock")
}

/// A fresh file at full length, its length durable, as `wal::create_log` makes a log.
fn create_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)?;
    file.set_len(FILE_BYTES)?;
    file.sync_all()?;
    Ok(file)
}

/// Runs `writers` threads of `body` and waits for them, returning the first error.
fn spawn_writers<F>(writers: usize, body: F) -> io::Result<()>
where
    F: Fn() -> io::Result<()> + Send + Sync + 'static,
{
    let body = Arc::new(body);
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let body = Arc::clone(&body);
            thread::spawn(move || body())
        })
        .collect();
    let mut first = Ok(());
    for handle in handles {
        let result = handle.join().expect("a writer thread panicked");
        if first.is_ok() {
            first = result;
        }
    }
    first
}

fn run_alone(cfg: &Config) -> io::Result<Figures> {
    let file = create_file(&cfg.file)?;
    let clock = Clock::new(cfg.run);
    let record = [0x5au8; RECORD];
    let mut offset = 0u64;
    while clock.running() {
        file.write_all_at(&record, offset)?;
        file.sync_data()?;
        offset += RECORD as u64;
        clock.writes.fetch_add(1, Ordering::Relaxed);
        clock.syncs.fetch_add(1, Ordering::Relaxed);
    }
    Ok(clock.figures())
}

/// The writer queue's state. Writers take tickets in arrival order; a group commits every
/// ticket up to the newest one its leader saw.
#[derive(Default)]
struct Queue {
    issued: u64,
    committed: u64,
    leading: bool,
    offset: u64,
    /// A group's write or sync failed: its writers and every later one fail.
    failed: bool,
}

fn run_leader(cfg: &Config) -> io::Result<Figures> {
    let file = Arc::new(create_file(&cfg.file)?);
    let clock = Arc::new(Clock::new(cfg.run));
    let queue = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
    let (c, f) = (Arc::clone(&clock), Arc::clone(&file));
    spawn_writers(cfg.writers, move || {
        let (state, woken) = &*queue;
        let mut buf = Vec::new();
        while c.running() {
            let mut q = lock(state);
            q.issued += 1;
            let ticket = q.issued;
            while q.committed < ticket {
                if q.failed {
                    return Err(io::Error::other("a leader's write or fdatasync failed"));
                }
                if q.leading {
                    q = woken.wait(q).expect("a writer thread panicked");
                    continue;
                }
                // Lead: everything queued so far is one group, written and synced once while
                // the lock is free for the next group to queue.
                q.leading = true;
                let upto = q.issued;
                let records = (upto - q.committed) as usize;
                let offset = q.offset;
                q.offset += (records * RECORD) as u64;
                drop(q);
                buf.clear();
                buf.resize(records * RECORD, 0x5a);
                let result = f.write_all_at(&buf, offset).and_then(|()| f.sync_data());
                c.syncs.fetch_add(1, Ordering::Relaxed);
                q = lock(state);
                q.leading = false;
                match result {
                    Ok(()) => q.committed = upto,
                    // Nothing after the last good group is durable; nothing later may be
                    // acknowledged either (the log has a hole).
                    Err(_) => q.failed = true,
                }
                woken.notify_all();
                result?;
            }
            drop(q);
            c.writes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })?;
    Ok(clock.figures())
}

/// The log as the syncer sees it: how many records are written, and how many of them synced.
#[derive(Default)]
struct Log {
    written: u64,
    synced: u64,
    offset: u64,
    /// The syncer's last sync released this many writers; with a delay it waits for them.
    released: u64,
    done: bool,
    error: Option<io::ErrorKind>,
}

fn run_syncer(cfg: &Config, delay: Option<Duration>) -> io::Result<Figures> {
    let file = Arc::new(create_file(&cfg.file)?);
    let clock = Arc::new(Clock::new(cfg.run));
    // .1 wakes writers when a sync ends, .2 wakes the syncer when a record is written.
    let log = Arc::new((Mutex::new(Log::default()), Condvar::new(), Condvar::new()));
    let syncer = {
        let (log, file, clock) = (Arc::clone(&log), Arc::clone(&file), Arc::clone(&clock));
        thread::spawn(move || {
            let (state, durable, work) = &*log;
            let mut l = lock(state);
            loop {
                while l.written == l.synced && !l.done {
                    l = work.wait(l).expect("a writer thread panicked");
                }
                if l.written == l.synced && l.done {
                    return;
                }
                if let Some(delay) = delay {
                    // Wait for the writers the last sync released to come back (a
                    // notification per record written), or for the delay to pass.
                    let until = Instant::now() + delay;
                    while l.written - l.synced < l.released && !l.done {
                        let now = Instant::now();
                        if now >= until {
                            break;
                        }
                        l = work
                            .wait_timeout(l, until - now)
                            .expect("a writer thread panicked")
                            .0;
                    }
                }
                let target = l.written;
                drop(l);
                let result = file.sync_data();
                clock.syncs.fetch_add(1, Ordering::Relaxed);
                l = lock(state);
                l.released = target - l.synced;
                l.synced = target;
                if let Err(e) = result {
                    // Every record not yet acknowledged fails with it, and every later one.
                    l.error = Some(e.kind());
                    l.done = true;
                }
                durable.notify_all();
            }
        })
    };
    let (l2, c, f) = (Arc::clone(&log), Arc::clone(&clock), Arc::clone(&file));
    let writers = spawn_writers(cfg.writers, move || {
        let (state, durable, work) = &*l2;
        let record = [0x5au8; RECORD];
        while c.running() {
            let mut l = lock(state);
            if let Some(kind) = l.error {
                return Err(io::Error::new(kind, "the syncer's fdatasync failed"));
            }
            // Written under the lock, as the engine appends its log: in order, one at a time.
            f.write_all_at(&record, l.offset)?;
            l.offset += RECORD as u64;
            l.written += 1;
            let mine = l.written;
            work.notify_one();
            while l.synced < mine && l.error.is_none() {
                l = durable.wait(l).expect("the syncer panicked");
            }
            if let Some(kind) = l.error {
                return Err(io::Error::new(kind, "the syncer's fdatasync failed"));
            }
            drop(l);
            c.writes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    {
        let (state, _, work) = &*log;
        lock(state).done = true;
        work.notify_one();
    }
    syncer.join().expect("the syncer panicked");
    writers?;
    Ok(clock.figures())
}

fn run_overlap(cfg: &Config) -> io::Result<Figures> {
    drop(create_file(&cfg.file)?);
    let clock = Arc::new(Clock::new(cfg.run));
    let next = Arc::new(AtomicU64::new(0));
    let (c, path) = (Arc::clone(&clock), cfg.file.clone());
    spawn_writers(cfg.writers, move || {
        // Its own open file description: its own view of writeback errors.
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let record = [0x5au8; RECORD];
        while c.running() {
            let offset = next.fetch_add(RECORD as u64, Ordering::Relaxed);
            file.write_all_at(&record, offset)?;
            file.sync_data()?;
            c.syncs.fetch_add(1, Ordering::Relaxed);
            c.writes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })?;
    Ok(clock.figures())
}

fn run(cfg: &Config, design: Design) -> io::Result<Figures> {
    let figures = match design {
        Design::Alone => run_alone(cfg),
        Design::Leader => run_leader(cfg),
        Design::Syncer => run_syncer(cfg, None),
        Design::SyncerDelay => run_syncer(cfg, Some(cfg.delay)),
        Design::Overlap => run_overlap(cfg),
    };
    // Remove the file whatever happened: it is up to 256 MiB of nothing.
    let removed = std::fs::remove_file(&cfg.file);
    let figures = figures?;
    removed?;
    Ok(figures)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn thousands(x: f64) -> String {
    format!("{:.1}k", x / 1000.0)
}

const USAGE: &str = "\
group_commit_designs: durable writes per second from N writers under five group-commit designs

usage: cargo run --release -p seedbed-engine --example group_commit_designs -- [options]

  --writers N     closed-loop writer threads (default 8; `alone` always uses one)
  --secs S        seconds per design per round (default 2)
  --rounds R      interleaved rounds; medians are printed (default 3)
  --delay-us U    syncer-delay's longest wait for released writers (default 40)
  --dir DIR       where the scratch file goes; must be on the device you measure, not a tmpfs
                  (default: the current directory). The file is removed after each run.

The designs and what the columns mean: the comment at the top of
engine/examples/group_commit_designs.rs, and docs/benchmarks.md.";

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        writers: 8,
        run: Duration::from_secs(2),
        rounds: 3,
        delay: Duration::from_micros(40),
        file: PathBuf::from("."),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value (see --help)"))?;
        let number = |what: &str| -> Result<u64, String> {
            match value.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "{flag} {value}: {what} must be a whole number above 0"
                )),
            }
        };
        match flag.as_str() {
            "--writers" => cfg.writers = number("the writer count")? as usize,
            "--secs" => cfg.run = Duration::from_secs(number("the seconds")?),
            "--rounds" => cfg.rounds = number("the rounds")? as usize,
            "--delay-us" => cfg.delay = Duration::from_micros(number("the delay")?),
            "--dir" => cfg.file = PathBuf::from(&value),
            _ => return Err(format!("unknown option {flag} (see --help)")),
        }
    }
    if !cfg.file.is_dir() {
        return Err(format!("--dir {}: not a directory", cfg.file.display()));
    }
    cfg.file
        .push(format!(".group-commit-designs-{}.tmp", std::process::id()));
    Ok(cfg)
}

fn main() {
    let cfg = match parse_args() {
        Ok(cfg) => cfg,
        Err(message) => {
            eprintln!("group_commit_designs: {message}");
            std::process::exit(2);
        }
    };
    println!(
        "{} writers, {} s per design, {} interleaved rounds, {}-byte records, scratch file {}",
        cfg.writers,
        cfg.run.as_secs(),
        cfg.rounds,
        RECORD,
        cfg.file.display()
    );
    let mut all: Vec<Vec<Figures>> = vec![Vec::new(); DESIGNS.len()];
    for round in 1..=cfg.rounds {
        let mut line = format!("round {round}:");
        for (i, &design) in DESIGNS.iter().enumerate() {
            let figures = match run(&cfg, design) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!(
                        "group_commit_designs: {} on {}: {e}",
                        design.name(),
                        cfg.file.display()
                    );
                    std::process::exit(1);
                }
            };
            line.push_str(&format!(
                " {} {}/s ×{:.1};",
                design.name(),
                thousands(figures.writes_per_sec),
                figures.writes_per_sync()
            ));
            all[i].push(figures);
        }
        println!("{line}");
    }
    let bound = median(all[0].iter().map(|f| f.syncs_per_sec).collect());
    if bound > IMPLAUSIBLE_FSYNCS {
        eprintln!(
            "group_commit_designs: warning: {} fsyncs/s alone is more than a device that \
             honours fsync does; is {} on a tmpfs or behind a volatile cache?",
            thousands(bound),
            cfg.file.display()
        );
    }
    println!();
    println!(
        "{:<13} {:>9} {:>9} {:>11} {:>14}",
        "design", "writes/s", "fsyncs/s", "writes/sync", "of fsync bound"
    );
    for (i, &design) in DESIGNS.iter().enumerate() {
        let writes = median(all[i].iter().map(|f| f.writes_per_sec).collect());
        let syncs = median(all[i].iter().map(|f| f.syncs_per_sec).collect());
        let per_sync = median(all[i].iter().map(Figures::writes_per_sync).collect());
        println!(
            "{:<13} {:>9} {:>9} {:>11.2} {:>13.0}%",
            design.name(),
            thousands(writes),
            thousands(syncs),
            per_sync,
            100.0 * syncs / bound
        );
    }
    println!(
        "\nmedians of {} rounds; \"of fsync bound\" = fsyncs/s ÷ alone's, which is writes/s ÷ \
         (alone × writes per sync)",
        cfg.rounds
    );
}
