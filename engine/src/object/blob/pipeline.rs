//! The PUT pipeline for a blob of more than one stripe on a real disk: three threads, so that
//! MD5 — the one per-byte cost no second core can share — never waits for anything else.
//!
//! ```text
//! this thread   read shard → (to MD5) → SHA-256 → (to I/O), × K → parity → CRCs → (to I/O)
//! MD5 thread                 MD5 of each piece as soon as it is read, in order
//! I/O thread                                     write each data block, then the M parity blocks
//! ```
//!
//! - MD5 gets the input a data shard (1 MiB by default) at a time, so it starts after the first
//!   shard is read, not after the first stripe is hashed, encoded and written.
//! - Each data block goes to the I/O thread as soon as it is read and hashed, the stripe's
//!   parity blocks once encoded: the writes (blocking, with direct I/O the device's time) run
//!   while this thread reads, hashes and encodes what follows, and after the last stripe's
//!   encode only its parity and the trailers are left to write.
//! - The syncs of the shard files are issued as soon as the last write is done, while MD5 may
//!   still be hashing the last stripe; only the metadata commit has to wait for the ETag.
//! - With server-side encryption (`seal`), each data block is copied into a buffer of its own
//!   and encrypted there, after SHA-256 and while MD5 hashes the plaintext one: the digests
//!   stay the plaintext's, parity, CRCs and writes are of the ciphertext, and MD5 is still the
//!   only long chain (the copy and AES-256-CTR cost about a tenth of MD5 on this kind of CPU).
//!
//! Every shard has a buffer of its own (the codec takes the K data shards as separate slices, so
//! nothing needs them side by side), which is what lets MD5 hash shard 0 while shard 1 is read
//! into. A buffer goes back into use once both the MD5 and the I/O thread are done with it (its
//! `Arc` is unique again); each sends a note when it lets one go. [`STRIPE_BUFFERS`] stripes'
//! worth are in flight at most, and kept for the next PUT.
//!
//! Each PUT adds what each thread was busy with to the store's [`PipelineStats`], which is how
//! `seedbed bench object` shows where the time goes.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::cast::usize_of;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::Md5;
use sha2::{Digest, Sha256};

use super::degraded::{present, present_shards, ShardSet};
use super::{read_full, BlobDigest, BlobError, BlobStore, DataId, ShardFrame};
use crate::io::{AlignedBuf, IoOp, DIRECT_IO_ALIGN};
use crate::object::erasure::Codec;
use crate::object::layout::Stripe;
use crate::object::shard::{crc32, ChecksumTable};
use crate::object::sse::Key;

/// Stripe buffers in flight: one being filled, one being written, one being hashed.
pub(super) const STRIPE_BUFFERS: usize = 3;

/// Where the time of pipelined PUTs went, summed over PUTs (see [`BlobStore::pipeline_stats`]).
/// Times are per thread: the threads run at the same time, so they add up to more than the
/// wall time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Pipelined PUTs measured.
    pub puts: u64,
    /// Object bytes they wrote.
    pub bytes: u64,
    /// Wall time from the first input byte to the data being durable and MD5 done.
    pub wall: Duration,
    /// MD5 thread: hashing.
    pub md5: Duration,
    /// Reading thread: copying the input into stripe buffers.
    pub read: Duration,
    /// Reading thread: SHA-256.
    pub sha256: Duration,
    /// Reading thread: Reed-Solomon parity.
    pub encode: Duration,
    /// Reading thread: CRC32 of every shard block, and the last stripe's trailer blocks.
    pub crc: Duration,
    /// Reading thread: waiting for a free stripe buffer (the MD5 or I/O thread is behind).
    pub wait: Duration,
    /// I/O thread: the K + M block writes of every stripe.
    pub write: Duration,
    /// `fdatasync` of the shard files and the directory syncs.
    pub sync: Duration,
    /// Reading thread: copying and encrypting data blocks (server-side encryption only).
    pub seal: Duration,
    /// CPU time of the MD5 thread (the kernel's count for the thread). Below `md5` when the
    /// thread was descheduled while hashing: another thread wanted its core.
    pub md5_cpu: Duration,
    /// CPU time of the reading thread while it fed the pipeline.
    pub read_cpu: Duration,
    /// CPU time of the I/O thread (mostly the kernel's part of the writes).
    pub write_cpu: Duration,
}

impl PipelineStats {
    fn add(&mut self, o: &PipelineStats) {
        self.puts += o.puts;
        self.bytes += o.bytes;
        self.wall += o.wall;
        self.md5 += o.md5;
        self.read += o.read;
        self.sha256 += o.sha256;
        self.encode += o.encode;
        self.crc += o.crc;
        self.wait += o.wait;
        self.write += o.write;
        self.sync += o.sync;
        self.seal += o.seal;
        self.md5_cpu += o.md5_cpu;
        self.read_cpu += o.read_cpu;
        self.write_cpu += o.write_cpu;
    }
}

/// CPU time the calling thread has used so far (zero where the clock is unavailable).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only the timespec we pass; CLOCK_THREAD_CPUTIME_ID needs no
    // other argument.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// What the I/O thread writes, in order.
enum Job {
    /// Blocks of one stripe, the first `stripe.shard_len` bytes of each buffer, to the files
    /// `first..first + shards.len()` (a data block alone as soon as it is read; the parity
    /// blocks together once encoded).
    Stripe {
        stripe: Stripe,
        first: usize,
        shards: Vec<Arc<AlignedBuf>>,
    },
    /// Whole buffers, one per file, at `offset` (headers; the last stripe with the trailer).
    Blocks { offset: u64, bufs: Vec<AlignedBuf> },
}

/// Shard buffers of one size. A buffer being filled is out of the list (so its `Arc` is unique
/// and writable); once handed to the MD5 and I/O threads it is parked back in the list, and is
/// free again when the list's `Arc` is the only one left.
struct Buffers {
    len: usize,
    /// At most this many are made.
    max: usize,
    made: usize,
    parked: Vec<Arc<AlignedBuf>>,
}

impl Buffers {
    fn new(len: usize, max: usize) -> Self {
        Buffers {
            len,
            max,
            made: 0,
            parked: Vec::new(),
        }
    }

    /// A buffer no other thread holds: a free parked one, else a new one while fewer than
    /// `max` exist, else the first one let go (waiting for a note on `freed`).
    fn take(
        &mut self,
        store: &BlobStore,
        freed: &mpsc::Receiver<()>,
    ) -> Result<Arc<AlignedBuf>, BlobError> {
        // Bounded: each note on `freed` is one buffer let go, and `max` are in flight at most.
        loop {
            if let Some(i) = self.parked.iter().position(|b| Arc::strong_count(b) == 1) {
                return Ok(self.parked.swap_remove(i));
            }
            if self.made < self.max {
                self.made += 1;
                return Ok(Arc::new(store.take_buffer(self.len)));
            }
            freed.recv().map_err(|_| helper_gone())?;
        }
    }

    /// Put buffers back in the list (the helper threads may still hold them).
    fn park(&mut self, bufs: Vec<Arc<AlignedBuf>>) {
        self.parked.extend(bufs);
    }

    /// Hand every buffer back to the store's pool (all helper threads have ended).
    fn release(self, store: &BlobStore) {
        for b in self.parked {
            if let Ok(b) = Arc::try_unwrap(b) {
                store.give_buffer(b);
            }
        }
    }
}

fn helper_gone() -> BlobError {
    BlobError::Source(std::io::Error::other("a PUT pipeline thread stopped"))
}

/// Time `f`, adding to `total`.
fn timed<T>(total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    *total += t.elapsed();
    r
}

impl BlobStore {
    /// What pipelined PUTs have spent their time on since the store was opened (or the last
    /// [`BlobStore::reset_pipeline_stats`]).
    pub fn pipeline_stats(&self) -> PipelineStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start counting afresh.
    pub fn reset_pipeline_stats(&self) {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner()) = PipelineStats::default();
    }

    /// Write a blob of more than one stripe through the three-thread pipeline (module docs);
    /// durable on return if `sync`. The shard files exist and are empty.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_pipelined(
        &self,
        id: &DataId,
        files: &mut ShardSet,
        frame: ShardFrame,
        direct: bool,
        src: &mut dyn Read,
        size: u64,
        sync: bool,
        seal: Option<&Key>,
    ) -> Result<BlobDigest, BlobError> {
        let start = Instant::now();
        let mut st = PipelineStats {
            puts: 1,
            bytes: size,
            ..PipelineStats::default()
        };
        let l = &self.layout;
        let io_failed = AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            let (freed_tx, freed) = mpsc::channel::<()>();
            let (md5_tx, md5_rx) =
                mpsc::sync_channel::<(Arc<AlignedBuf>, usize)>(STRIPE_BUFFERS * l.k);
            // A job per data block and one per stripe's parity: the buffers bound what is in
            // flight, not the queue.
            let (io_tx, io_rx) = mpsc::sync_channel::<Job>(STRIPE_BUFFERS * (l.k + 1));
            let md5_freed = freed_tx.clone();
            let hasher = scope.spawn(move || {
                let cpu = thread_cpu();
                let mut md5 = Md5::new();
                let mut busy = Duration::ZERO;
                for (buf, len) in md5_rx {
                    timed(&mut busy, || md5.update(&buf[..len]));
                    drop(buf);
                    // The reading thread may be gone (on error); then no one waits.
                    let _ = md5_freed.send(());
                }
                (md5, busy, thread_cpu().saturating_sub(cpu))
            });
            let io_failed = &io_failed;
            // The I/O thread's own view of the files: a shard whose disk fails a write is
            // dropped there (`degraded.rs`), and the syncs after it see what is left.
            let mut io_files = files.clone();
            let writer = scope.spawn(move || {
                let cpu = thread_cpu();
                let mut busy = Duration::ZERO;
                let mut result = Ok(());
                for job in io_rx {
                    if result.is_ok() {
                        result =
                            timed(&mut busy, || self.write_job(id, &mut io_files, frame, &job));
                        if result.is_err() {
                            io_failed.store(true, Ordering::Relaxed);
                        }
                    }
                    drop(job);
                    let _ = freed_tx.send(());
                }
                (result, io_files, busy, thread_cpu().saturating_sub(cpu))
            });
            let cpu = thread_cpu();
            let read = self.feed_pipeline(
                id, src, size, frame, direct, seal, &md5_tx, &io_tx, &freed, io_failed, &mut st,
            );
            st.read_cpu = thread_cpu().saturating_sub(cpu);
            drop(md5_tx);
            drop(io_tx);
            let (written, io_files, write_busy, write_cpu) =
                writer.join().expect("the I/O thread does not panic");
            *files = io_files;
            st.write = write_busy;
            st.write_cpu = write_cpu;
            // The syncs go out while MD5 finishes the last stripe.
            let synced = match (&read, &written) {
                (Ok(_), Ok(())) if sync => timed(&mut st.sync, || self.sync_blob(id, files)),
                _ => Ok(()),
            };
            let (md5, md5_busy, md5_cpu) = hasher.join().expect("the MD5 thread does not panic");
            st.md5 = md5_busy;
            st.md5_cpu = md5_cpu;
            let (sha, pool) = read?;
            pool.release(self);
            written?;
            synced?;
            Ok(BlobDigest {
                size,
                md5: md5.finalize().into(),
                sha256: sha,
            })
        });
        st.wall = start.elapsed();
        if result.is_ok() {
            self.stats
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .add(&st);
        }
        result
    }

    /// The reading thread's part: every stripe read shard by shard (each data shard handed to
    /// MD5 as soon as it is read), hashed with SHA-256, encoded, CRC'd and handed to the I/O
    /// thread; the trailer goes with the last stripe. Returns the SHA-256 and the buffers (for
    /// the pool once the helpers are done).
    #[allow(clippy::too_many_arguments)]
    fn feed_pipeline(
        &self,
        id: &DataId,
        src: &mut dyn Read,
        size: u64,
        frame: ShardFrame,
        direct: bool,
        seal: Option<&Key>,
        md5: &mpsc::SyncSender<(Arc<AlignedBuf>, usize)>,
        io: &mpsc::SyncSender<Job>,
        freed: &mpsc::Receiver<()>,
        io_failed: &AtomicBool,
        st: &mut PipelineStats,
    ) -> Result<([u8; 32], Buffers), BlobError> {
        let l = &self.layout;
        let (k, width) = (l.k, l.width());
        let stripes = l.stripe_count(size);
        // Sealing keeps each data block twice for a while: the plaintext MD5 is hashing, and
        // the ciphertext that goes to parity and the disks.
        let per_stripe = width + if seal.is_some() { k } else { 0 };
        let mut pool = Buffers::new(usize_of(l.shard_len_max), STRIPE_BUFFERS * per_stripe);
        let headers: Vec<AlignedBuf> = (0..width).map(|i| self.header_block(id, size, i)).collect();
        io.send(Job::Blocks {
            offset: frame.start,
            bufs: headers,
        })
        .map_err(|_| helper_gone())?;
        let mut sha = Sha256::new();
        let mut codec = Codec::new(k, l.m);
        let mut table = ChecksumTable::new(width, stripes);
        let mut got_total = 0u64;
        for stripe in l.stripes(size) {
            if io_failed.load(Ordering::Relaxed) {
                // The I/O thread has the error (the caller reports it); stop reading.
                break;
            }
            let len = usize_of(stripe.shard_len);
            let last = stripe.index + 1 == stripes;
            // The last stripe's blocks go out like the others', its trailers after them, when
            // the blocks end where a trailer may start (always with buffered writes; with direct
            // I/O, on a 4 KiB boundary). Otherwise each last block is copied in front of its
            // trailer and written once the stripe is encoded.
            let blocks_first = !last || !direct || len.is_multiple_of(DIRECT_IO_ALIGN);
            let mut shards: Vec<Arc<AlignedBuf>> = Vec::with_capacity(width);
            for i in 0..width {
                let mut buf = timed(&mut st.wait, || pool.take(self, freed))?;
                if i < k {
                    let b = Arc::get_mut(&mut buf).expect("a free buffer is ours alone");
                    // The data of shard i: object bytes, then zeros to `len` (last stripe).
                    let have = usize_of(stripe.data_len).saturating_sub(i * len).min(len);
                    let got = timed(&mut st.read, || read_full(src, &mut b[..have]))
                        .map_err(BlobError::Source)?;
                    got_total += got as u64;
                    if got < have {
                        return Err(BlobError::SourceTooShort {
                            expected: size,
                            got: got_total,
                        });
                    }
                    b[have..len].fill(0);
                    if have > 0 {
                        md5.send((Arc::clone(&buf), have))
                            .map_err(|_| helper_gone())?;
                    }
                    timed(&mut st.sha256, || sha.update(&buf[..have]));
                    if let Some(key) = seal {
                        // MD5 still reads the plaintext: the ciphertext goes to a buffer of its
                        // own, and the plaintext's is parked until MD5 lets it go.
                        let mut sealed = timed(&mut st.wait, || pool.take(self, freed))?;
                        let c = Arc::get_mut(&mut sealed).expect("a free buffer is ours alone");
                        timed(&mut st.seal, || {
                            c[..len].copy_from_slice(&buf[..len]);
                            let at = stripe.object_offset + (i * len) as u64;
                            key.apply(at, &mut c[..have]);
                        });
                        pool.park(vec![std::mem::replace(&mut buf, sealed)]);
                    }
                    if blocks_first {
                        // Written while the next data block is read: the stripe's last write,
                        // on the PUT's critical path, is then only its parity.
                        io.send(Job::Stripe {
                            stripe,
                            first: i,
                            shards: vec![Arc::clone(&buf)],
                        })
                        .map_err(|_| helper_gone())?;
                    }
                }
                shards.push(buf);
            }
            {
                let (data, parity) = shards.split_at_mut(k);
                let d: Vec<&[u8]> = data.iter().map(|b| &b[..len]).collect();
                let mut p: Vec<&mut [u8]> = parity
                    .iter_mut()
                    .map(|b| &mut Arc::get_mut(b).expect("a parity buffer is ours alone")[..len])
                    .collect();
                timed(&mut st.encode, || codec.encode(&d, &mut p)).map_err(|source| {
                    BlobError::Encode {
                        stripe: stripe.index,
                        source,
                    }
                })?;
            }
            timed(&mut st.crc, || {
                for (i, s) in shards.iter().enumerate() {
                    table.set(stripe.index, i, crc32(&s[..len]));
                }
            });
            let mut jobs = Vec::with_capacity(2);
            if blocks_first {
                jobs.push(Job::Stripe {
                    stripe,
                    first: k,
                    shards: shards[k..].iter().map(Arc::clone).collect(),
                });
            }
            if last {
                // The trailers (every block's CRC is known now): right after the blocks, or
                // with a copy of each last block in front.
                let blocks: Vec<&[u8]> = if blocks_first {
                    vec![&[][..]; width]
                } else {
                    shards.iter().map(|b| &b[..len]).collect()
                };
                let (offset, bufs) = timed(&mut st.crc, || {
                    self.last_blocks(id, size, frame, direct, Some((&stripe, &blocks)), &table)
                });
                let offset = if blocks_first {
                    offset + stripe.shard_len
                } else {
                    offset
                };
                jobs.push(Job::Blocks { offset, bufs });
            }
            pool.park(shards);
            for job in jobs {
                io.send(job).map_err(|_| helper_gone())?;
            }
        }
        // The input must end exactly at `size`.
        let mut probe = [0u8; 1];
        if !io_failed.load(Ordering::Relaxed)
            && read_full(src, &mut probe).map_err(BlobError::Source)? != 0
        {
            return Err(BlobError::Source(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the object's input is longer than the declared {size} bytes"),
            )));
        }
        Ok((sha.finalize().into(), pool))
    }

    /// Carry out one of the I/O thread's jobs: one batched submission.
    fn write_job(
        &self,
        id: &DataId,
        files: &mut ShardSet,
        frame: ShardFrame,
        job: &Job,
    ) -> Result<(), BlobError> {
        let shards: Vec<usize> = match job {
            Job::Stripe { first, shards, .. } => present_shards(&files[*first..])
                .into_iter()
                .filter(|&i| i < shards.len())
                .map(|i| i + first)
                .collect(),
            Job::Blocks { .. } => present_shards(files),
        };
        let mut ops: Vec<IoOp<'_>> = match job {
            Job::Stripe {
                stripe,
                first,
                shards,
            } => {
                let len = usize_of(stripe.shard_len);
                present(&files[*first..], shards)
                    .map(|(file, s)| IoOp::Write {
                        file,
                        offset: frame.block(stripe),
                        buf: &s[..len],
                    })
                    .collect()
            }
            Job::Blocks { offset, bufs } => present(files, bufs)
                .map(|(file, b)| IoOp::Write {
                    file,
                    offset: *offset,
                    buf: b,
                })
                .collect(),
        };
        let results = self.fs.submit(&mut ops);
        drop(ops);
        self.settle(id, files, &shards, results)
    }
}
