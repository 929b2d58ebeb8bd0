//! The YCSB core workloads on a DynamoDB table, and the key chooser they share.
//!
//! Records live in table `usertable` with partition key `pk` = `user{n / 100}` and numeric sort
//! key `sk` = `n % 100`, so a partition holds 100 consecutive records and workload E's short
//! scans are Queries (`pk = :p AND sk >= :s`, `Limit`). Each record has ten fields of
//! `value_size / 10` bytes, as YCSB's defaults.
//!
//! | workload | mix                                  | key choice |
//! |----------|--------------------------------------|------------|
//! | A        | 50% read, 50% update                 | zipfian    |
//! | B        | 95% read, 5% update                  | zipfian    |
//! | C        | 100% read                            | zipfian    |
//! | D        | 95% read, 5% insert                  | latest     |
//! | E        | 95% scan (1..=100 records), 5% insert| zipfian    |
//! | F        | 50% read, 50% read-modify-write      | zipfian    |

use seedbed_engine::rng::DetRng;

/// Records per partition.
pub const PER_PARTITION: u64 = 100;

/// One operation of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// GetItem of record `n`.
    Read(u64),
    /// UpdateItem of one field of record `n`.
    Update(u64),
    /// PutItem of new record `n`.
    Insert(u64),
    /// Query from record `n`, at most `len` records.
    Scan(u64, u32),
    /// GetItem then PutItem of record `n`.
    ReadModifyWrite(u64),
}

/// The partition and sort key of record `n`.
pub fn key_of(n: u64) -> (String, u64) {
    (format!("user{}", n / PER_PARTITION), n % PER_PARTITION)
}

/// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record synthetic
/// databases"), constant 0.99, over `0..items`.
#[derive(Clone, Debug)]
pub struct Zipfian {
    items: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

fn zeta(n: u64, theta: f64) -> f64 {
    (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum()
}

impl Zipfian {
    /// A generator over `0..items` (`items` ≥ 2).
    pub fn new(items: u64) -> Self {
        let theta = 0.99;
        let zetan = zeta(items, theta);
        let zeta2 = zeta(2, theta);
        let alpha = 1.0 / (1.0 - theta);
        let eta = (1.0 - (2.0 / items as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Zipfian {
            items,
            theta,
            alpha,
            zetan,
            eta,
        }
    }

    /// The next value: small values are the most frequent.
    pub fn next(&self, rng: &mut DetRng) -> u64 {
        let u = rng.unit();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        ((self.items as f64) * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64 % self.items
    }
}

/// "Scrambled" zipfian: the popular records are spread over the key space (YCSB's default).
pub fn scramble(v: u64, items: u64) -> u64 {
    // FNV-1a of the value, as YCSB does.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % items
}

/// A workload's operation stream for one client thread.
pub struct Workload {
    name: char,
    zipf: Zipfian,
    records: u64,
    /// Next record number to insert (shared count split per thread: stride).
    next_insert: u64,
    stride: u64,
    rng: DetRng,
}

impl Workload {
    /// Workload `name` (`a`..=`f`) over `records` loaded records, for thread `thread` of
    /// `threads` (inserts take disjoint record numbers per thread).
    pub fn new(name: char, records: u64, thread: u64, threads: u64, seed: u64) -> Self {
        Workload {
            name,
            zipf: Zipfian::new(records.max(2)),
            records,
            next_insert: records + thread,
            stride: threads,
            rng: DetRng::new(seed).fork(&format!("ycsb-{name}-{thread}")),
        }
    }

    fn zipf_key(&mut self) -> u64 {
        scramble(self.zipf.next(&mut self.rng), self.records)
    }

    fn latest_key(&mut self) -> u64 {
        let newest = self
            .next_insert
            .saturating_sub(self.stride)
            .max(self.records - 1);
        newest.saturating_sub(self.zipf.next(&mut self.rng).min(newest))
    }

    fn insert(&mut self) -> Op {
        let n = self.next_insert;
        self.next_insert += self.stride;
        Op::Insert(n)
    }

    /// The next operation.
    pub fn next_op(&mut self) -> Op {
        let p = self.rng.unit();
        match self.name {
            'a' if p < 0.5 => Op::Read(self.zipf_key()),
            'a' => Op::Update(self.zipf_key()),
            'b' if p < 0.95 => Op::Read(self.zipf_key()),
            'b' => Op::Update(self.zipf_key()),
            'c' => Op::Read(self.zipf_key()),
            'd' if p < 0.95 => Op::Read(self.latest_key()),
            'd' => self.insert(),
            'e' if p < 0.95 => {
                let len = 1 + self.rng.below(100) as u32;
                Op::Scan(self.zipf_key(), len)
            }
            'e' => self.insert(),
            'f' if p < 0.5 => Op::Read(self.zipf_key()),
            _ => Op::ReadModifyWrite(self.zipf_key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_and_skew() {
        let mut w = Workload::new('b', 10_000, 0, 1, 7);
        let ops: Vec<Op> = (0..20_000).map(|_| w.next_op()).collect();
        let reads = ops.iter().filter(|o| matches!(o, Op::Read(_))).count();
        assert!((18_500..19_500).contains(&reads), "95% reads: {reads}");
        assert!(ops.iter().all(|o| match o {
            Op::Read(n) | Op::Update(n) => *n < 10_000,
            _ => false,
        }));
        // Zipfian: the most popular key is far more frequent than average.
        let mut counts = std::collections::BTreeMap::new();
        for o in &ops {
            if let Op::Read(n) = o {
                *counts.entry(*n).or_insert(0u32) += 1;
            }
        }
        assert!(*counts.values().max().unwrap() > 200);
        let mut d = Workload::new('d', 1000, 1, 4, 7);
        let inserts: Vec<u64> = (0..2000)
            .filter_map(|_| match d.next_op() {
                Op::Insert(n) => Some(n),
                _ => None,
            })
            .collect();
        assert!(
            inserts.windows(2).all(|w| w[1] == w[0] + 4),
            "thread-disjoint insert keys"
        );
        assert_eq!(key_of(1234), ("user12".to_string(), 34));
    }
}
