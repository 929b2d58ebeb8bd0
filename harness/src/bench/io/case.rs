//! One benchmark case: a pattern (sequential or random), an operation, a block size and a queue
//! depth, driven through the backend's streaming queue until an op count or a time limit.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use seedbed_engine::io::{AlignedBuf, FileHandle, Fs, QueueCompletion, QueueOp, QueueRequest};

use super::histogram::Histogram;

/// Where the offsets of a case go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One block after the other, wrapping at the end of the file.
    Sequential,
    /// Uniform over the file's blocks, from a fixed seed (every run visits the same offsets).
    Random,
}

/// What one case does.
#[derive(Clone, Copy, Debug)]
pub struct CaseSpec {
    /// Name in tables and JSON (`seqwrite`, `randread`, ...).
    pub name: &'static str,
    /// Sequential or random offsets.
    pub pattern: Pattern,
    /// Read or write.
    pub op: QueueOp,
    /// Bytes per request.
    pub block_bytes: usize,
    /// Requests kept in flight.
    pub qd: usize,
}

/// The standard cases, in the order they run: writes first leave the file synced and whole for
/// the reads that follow.
pub const CASES: [CaseSpec; 6] = [
    CaseSpec {
        name: "seqwrite",
        pattern: Pattern::Sequential,
        op: QueueOp::Write,
        block_bytes: 1 << 20,
        qd: 1,
    },
    CaseSpec {
        name: "seqread",
        pattern: Pattern::Sequential,
        op: QueueOp::Read,
        block_bytes: 1 << 20,
        qd: 1,
    },
    CaseSpec {
        name: "randread",
        pattern: Pattern::Random,
        op: QueueOp::Read,
        block_bytes: 4096,
        qd: 1,
    },
    CaseSpec {
        name: "randread",
        pattern: Pattern::Random,
        op: QueueOp::Read,
        block_bytes: 4096,
        qd: 32,
    },
    CaseSpec {
        name: "randwrite",
        pattern: Pattern::Random,
        op: QueueOp::Write,
        block_bytes: 4096,
        qd: 1,
    },
    CaseSpec {
        name: "randwrite",
        pattern: Pattern::Random,
        op: QueueOp::Write,
        block_bytes: 4096,
        qd: 32,
    },
];

impl CaseSpec {
    /// The name `--cases` takes: `randread-qd32`.
    pub fn id(&self) -> String {
        format!("{}-qd{}", self.name, self.qd)
    }
}

/// The standard cases whose ids are in `ids` (all of them for `None`), in the standard order.
/// An unknown id is an error listing the valid ones.
pub fn select_cases(ids: Option<&[String]>) -> Result<Vec<CaseSpec>, String> {
    let Some(ids) = ids else {
        return Ok(CASES.to_vec());
    };
    let known: Vec<String> = CASES.iter().map(CaseSpec::id).collect();
    for id in ids {
        if !known.contains(id) {
            return Err(format!(
                "unknown case '{id}': expected one of {}",
                known.join(", ")
            ));
        }
    }
    Ok(CASES
        .iter()
        .filter(|c| ids.contains(&c.id()))
        .copied()
        .collect())
}

/// When a case stops issuing requests.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Stop after this many requests, if set.
    pub ops: Option<u64>,
    /// Stop issuing after this long (requests in flight still finish).
    pub runtime: Duration,
}

/// What one case measured.
#[derive(Debug)]
pub struct CaseOutcome {
    /// Requests completed.
    pub ops: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Wall time from the first push to the last completion (and the final sync, for writes).
    pub elapsed: Duration,
    /// Per-request latency, push to reap.
    pub latency: Histogram,
    /// Whether the queue ran each request inside `push` (device depth 1).
    pub completes_on_push: bool,
}

/// splitmix64: a tiny, good-enough generator for offsets. The harness is not the simulator, so
/// it needs no `DetRng`; a fixed seed keeps runs comparable.
struct Offsets {
    state: u64,
    next_seq: u64,
}

impl Offsets {
    fn next_random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next(&mut self, pattern: Pattern, blocks: u64, block_bytes: u64) -> u64 {
        let block = match pattern {
            Pattern::Sequential => {
                let b = self.next_seq % blocks;
                self.next_seq += 1;
                b
            }
            Pattern::Random => self.next_random() % blocks,
        };
        block * block_bytes
    }
}

/// Fill a write buffer with bytes that do not compress or dedupe trivially.
pub fn fill_pattern(buf: &mut [u8], seed: u64) {
    let mut o = Offsets {
        state: seed,
        next_seq: 0,
    };
    // Whole words first: a fixed-size copy compiles to one store, a variable one to a memmove
    // call per word (which made preparing a 1 GiB file take seconds).
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        word.copy_from_slice(&o.next_random().to_le_bytes());
    }
    let tail = words.into_remainder();
    let last = o.next_random().to_le_bytes();
    let n = tail.len();
    tail.copy_from_slice(&last[..n]);
}

/// Run one case on `file` (`file_bytes` long) through `fs`'s queue.
pub fn run_case(
    fs: &dyn Fs,
    file: &FileHandle,
    file_bytes: u64,
    spec: &CaseSpec,
    limit: Limit,
    bar: &ProgressBar,
    label: &str,
) -> anyhow::Result<CaseOutcome> {
    let block_bytes = spec.block_bytes as u64;
    let blocks = file_bytes / block_bytes;
    assert!(blocks > 0, "the file holds at least one block");
    let mut queue = fs
        .queue(spec.qd)
        .with_context(|| format!("setting up a queue of depth {}", spec.qd))?;
    let completes_on_push = queue.completes_on_push();
    let mut free: Vec<AlignedBuf> = (0..spec.qd)
        .map(|i| {
            let mut buf = AlignedBuf::zeroed(spec.block_bytes);
            if spec.op == QueueOp::Write {
                fill_pattern(&mut buf, i as u64 + 1);
            }
            buf
        })
        .collect();
    // Push time per buffer slot; a request's tag is its slot.
    let mut started: Vec<Instant> = vec![Instant::now(); spec.qd];
    let mut free_slots: Vec<usize> = (0..spec.qd).rev().collect();
    let mut offsets = Offsets {
        state: 0x05EE_DBED,
        next_seq: 0,
    };
    let mut latency = Histogram::default();
    let mut done: Vec<QueueCompletion> = Vec::with_capacity(spec.qd);
    let ops_max = limit.ops.unwrap_or(u64::MAX);
    let (mut issued, mut ops, mut bytes) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    let mut last_report = start;
    let mut stop = false;
    loop {
        while !stop && issued < ops_max && queue.in_flight() < spec.qd {
            let slot = free_slots.pop().expect("a slot per queue entry");
            let buf = free.pop().expect("a buffer per slot");
            let offset = offsets.next(spec.pattern, blocks, block_bytes);
            started[slot] = Instant::now();
            let request = QueueRequest {
                file: FileHandle::clone(file),
                op: spec.op,
                offset,
                buf,
                tag: slot as u64,
            };
            if queue.push(request).is_err() {
                bail!("the I/O queue refused a request below its depth (a backend bug)");
            }
            issued += 1;
            if completes_on_push {
                break; // reap it now, so its latency is its own
            }
        }
        if queue.in_flight() == 0 {
            break;
        }
        done.clear();
        queue
            .reap(1, &mut done)
            .context("waiting for completions")?;
        let now = Instant::now();
        for c in done.drain(..) {
            let slot = c.request.tag as usize;
            let n = c.result.with_context(|| {
                format!(
                    "{} of {} bytes at offset {}",
                    spec.name, spec.block_bytes, c.request.offset
                )
            })?;
            if n != spec.block_bytes {
                bail!(
                    "{}: short read of {n} bytes at offset {} (the file is shorter than {file_bytes} bytes?)",
                    spec.name,
                    c.request.offset
                );
            }
            latency.record(u64::try_from((now - started[slot]).as_nanos()).unwrap_or(u64::MAX));
            ops += 1;
            bytes += n as u64;
            free.push(c.request.buf);
            free_slots.push(slot);
        }
        if now - start >= limit.runtime {
            stop = true;
        }
        if now - last_report >= Duration::from_millis(250) {
            last_report = now;
            let secs = (now - start).as_secs_f64();
            bar.set_message(format!("{label}: {ops} ops, {:.0} IOPS", ops as f64 / secs));
        }
    }
    if spec.op == QueueOp::Write {
        file.sync_data().context("syncing after the writes")?;
    }
    let elapsed = start.elapsed();
    assert_eq!(ops, issued, "every issued request completed");
    assert_eq!(latency.count(), ops, "one latency per request");
    Ok(CaseOutcome {
        ops,
        bytes,
        elapsed,
        latency,
        completes_on_push,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_stay_inside_the_file_and_are_block_aligned() {
        let mut o = Offsets {
            state: 1,
            next_seq: 0,
        };
        for _ in 0..10_000 {
            let off = o.next(Pattern::Random, 100, 4096);
            assert!(off < 100 * 4096 && off.is_multiple_of(4096));
        }
        let seq: Vec<u64> = (0..5).map(|_| o.next(Pattern::Sequential, 3, 10)).collect();
        assert_eq!(seq, [0, 10, 20, 0, 10]);
    }

    #[test]
    fn cases_are_selected_by_id_in_standard_order() {
        assert_eq!(select_cases(None).unwrap().len(), CASES.len());
        let ids = vec!["randread-qd32".to_string(), "seqwrite-qd1".to_string()];
        let picked: Vec<String> = select_cases(Some(&ids))
            .unwrap()
            .iter()
            .map(CaseSpec::id)
            .collect();
        assert_eq!(picked, ["seqwrite-qd1", "randread-qd32"]);
        let err = select_cases(Some(&["randread-qd7".to_string()])).unwrap_err();
        assert!(
            err.contains("unknown case 'randread-qd7'") && err.contains("randwrite-qd32"),
            "{err}"
        );
    }
}
