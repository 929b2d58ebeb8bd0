//! The block cache: decoded, checksum-verified blocks shared by every reader, bounded in bytes.
//!
//! Sharded CLOCK (second-chance) replacement: each shard is a ring of slots with a reference
//! bit; a hit sets the bit, eviction sweeps the hand clearing bits until it finds a clear one.
//! CLOCK approximates LRU with no list surgery on hits, so a hit costs one hash probe and a
//! bit store under the shard lock. The map uses a fixed hasher and eviction walks the ring,
//! never the map, so behaviour is the same from run to run (the simulator requires it).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::sstable::block::Block;

/// Number of shards (a power of two).
const SHARDS: usize = 16;

/// A fixed, fast hasher for `(table, offset)` keys.
#[derive(Default)]
pub struct FixedHasher(u64);

impl Hasher for FixedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type Key = (u64, u64);

#[derive(Debug)]
struct Slot {
    key: Key,
    block: Option<Arc<Block>>,
    charge: usize,
    referenced: bool,
}

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<Key, usize, BuildHasherDefault<FixedHasher>>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    hand: usize,
    used_bytes: usize,
}

impl Shard {
    fn evict_one(&mut self) -> bool {
        let n = self.slots.len();
        // Bound: two sweeps clear every bit and then find a victim.
        for _ in 0..2 * n + 1 {
            if n == 0 {
                return false;
            }
            let i = self.hand % n;
            self.hand = (i + 1) % n;
            let s = &mut self.slots[i];
            if s.block.is_none() {
                continue;
            }
            if s.referenced {
                s.referenced = false;
                continue;
            }
            let key = s.key;
            s.block = None;
            self.used_bytes -= s.charge;
            s.charge = 0;
            self.map.remove(&key);
            self.free.push(i);
            return true;
        }
        false
    }
}

/// A sharded CLOCK cache of blocks keyed by (table number, block offset).
#[derive(Debug)]
pub struct BlockCache {
    shards: Vec<Mutex<Shard>>,
    capacity_bytes_per_shard: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl BlockCache {
    /// A cache holding at most about `capacity_bytes` of block contents (0 disables caching).
    pub fn new(capacity_bytes: usize) -> Self {
        BlockCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            capacity_bytes_per_shard: capacity_bytes / SHARDS,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: Key) -> &Mutex<Shard> {
        let mut h = FixedHasher::default();
        h.write_u64(key.0);
        h.write_u64(key.1);
        &self.shards[(h.finish() >> 59) as usize % SHARDS]
    }

    /// The cached block, if present (counts a hit or a miss).
    pub fn get(&self, table: u64, offset: u64) -> Option<Arc<Block>> {
        let key = (table, offset);
        let mut s = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&i) = s.map.get(&key) {
            let slot = &mut s.slots[i];
            slot.referenced = true;
            self.hits.fetch_add(1, Ordering::Relaxed);
            return slot.block.clone();
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Insert a block, evicting others to stay within capacity.
    pub fn insert(&self, table: u64, offset: u64, block: Arc<Block>) {
        let charge = block.size_bytes() + 64;
        if charge > self.capacity_bytes_per_shard {
            return;
        }
        let key = (table, offset);
        let mut s = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if s.map.contains_key(&key) {
            return;
        }
        while s.used_bytes + charge > self.capacity_bytes_per_shard {
            if !s.evict_one() {
                break;
            }
        }
        let slot = Slot {
            key,
            block: Some(block),
            charge,
            referenced: false,
        };
        let i = match s.free.pop() {
            Some(i) => {
                s.slots[i] = slot;
                i
            }
            None => {
                s.slots.push(slot);
                s.slots.len() - 1
            }
        };
        s.map.insert(key, i);
        s.used_bytes += charge;
    }

    /// Drop every block of `table` (after the table is deleted).
    pub fn evict_table(&self, table: u64) {
        for shard in &self.shards {
            let mut s = shard.lock().unwrap_or_else(|p| p.into_inner());
            let victims: Vec<usize> = s
                .slots
                .iter()
                .enumerate()
                .filter(|(_, sl)| sl.block.is_some() && sl.key.0 == table)
                .map(|(i, _)| i)
                .collect();
            for i in victims {
                let key = s.slots[i].key;
                let charge = s.slots[i].charge;
                s.slots[i].block = None;
                s.slots[i].charge = 0;
                s.used_bytes -= charge;
                s.map.remove(&key);
                s.free.push(i);
            }
        }
    }

    /// Bytes currently charged.
    pub fn used_bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).used_bytes)
            .sum()
    }

    /// (hits, misses) so far.
    pub fn hits_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsm::sstable::block::BlockBuilder;

    fn block(n: usize) -> Arc<Block> {
        let mut b = BlockBuilder::new(16);
        b.add(
            &crate::lsm::key::internal_key(b"k", 1, crate::lsm::key::ValueKind::Put),
            &vec![0u8; n],
        );
        let mut out = Vec::new();
        b.finish_into(&mut out);
        Arc::new(Block::from_contents(&out).unwrap())
    }

    #[test]
    fn stays_within_capacity_and_keeps_hot_blocks() {
        let cache = BlockCache::new(16 * 10_000);
        for i in 0..2000u64 {
            cache.insert(1, i, block(1000));
            cache.get(1, 0);
            assert!(cache.used_bytes() <= 16 * 10_000);
        }
        assert!(cache.get(1, 1999).is_some());
        let (h, _) = cache.hits_misses();
        assert!(h > 0);
        cache.evict_table(1);
        assert_eq!(cache.used_bytes(), 0);
    }
}
