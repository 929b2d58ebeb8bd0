//! Keys, values and the key distributions the workloads draw from.
//!
//! Keys are decimal numbers zero-padded to `--key-size`; values are `--value-size` bytes sliced
//! from a seeded random pool of 1 MiB. The pool is made the way db_bench makes its values: in
//! pieces of 100 bytes, each a random string of `--compression-ratio` of the piece repeated
//! to fill it, so a compressor shrinks values to about that fraction (an engine without
//! compression sees nothing it could exploit). Every draw comes from one seeded [`DetRng`], so
//! two engines given the same seed see the same operations in the same order.

use seedbed_engine::rng::DetRng;

/// Size of the random pool values are sliced from.
const VALUE_POOL_BYTES: usize = 1 << 20;
/// The pool is built of pieces this long, each a repeated random string (db_bench's).
const VALUE_PIECE_BYTES: usize = 100;

/// Which key an operation touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyDist {
    /// The `i`th operation touches key `i` (fillseq).
    Sequential,
    /// Uniform over `0..num` (fillrandom, overwrite, readrandom, seekrandom, scan).
    Uniform,
    /// YCSB's scrambled Zipfian over `0..num`: a few hot keys scattered over the key space.
    Zipfian,
    /// YCSB's "latest": Zipfian over recency, the newest inserted key the hottest (YCSB-D).
    Latest,
}

/// Keys, values and randomness shared by workloads.
pub struct Gen {
    key_size: usize,
    pool: Vec<u8>,
    value_size: usize,
    /// The one source of randomness for keys, values and operation mixes.
    pub rng: DetRng,
}

impl Gen {
    /// A generator seeded with `seed` whose values compress to about `compression_ratio`
    /// (in `(0, 1]`) of their size.
    pub fn new(seed: u64, key_size: usize, value_size: usize, compression_ratio: f64) -> Self {
        let mut rng = DetRng::new(seed);
        let mut pool = vec![0u8; VALUE_POOL_BYTES + value_size];
        for piece in pool.chunks_mut(VALUE_PIECE_BYTES) {
            let random =
                ((piece.len() as f64 * compression_ratio).round() as usize).clamp(1, piece.len());
            for b in &mut piece[..random] {
                *b = rng.below(256) as u8;
            }
            for i in random..piece.len() {
                piece[i] = piece[i % random];
            }
        }
        Gen {
            key_size,
            pool,
            value_size,
            rng,
        }
    }

    /// Key number `k`, formatted into `buf`.
    pub fn key(&self, k: u64, buf: &mut Vec<u8>) {
        buf.clear();
        use std::io::Write;
        let _ = write!(buf, "{:0width$}", k, width = self.key_size);
        buf.truncate(self.key_size);
    }

    /// A fresh value: it starts at a piece boundary, so that like db_bench's values it holds
    /// whole pieces and compresses as the ratio says.
    pub fn value(&mut self) -> &[u8] {
        let pieces = (VALUE_POOL_BYTES / VALUE_PIECE_BYTES) as u64;
        let off = self.rng.below(pieces) as usize * VALUE_PIECE_BYTES;
        &self.pool[off..off + self.value_size]
    }
}

/// A Zipfian generator (YCSB's, theta 0.99) over `0..n`.
pub struct Zipf {
    n: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

impl Zipf {
    /// Over `0..n` (`n >= 1`).
    pub fn new(n: u64) -> Self {
        let theta = 0.99;
        let zeta = |n: u64| (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum::<f64>();
        let zetan = zeta(n);
        let zeta2 = zeta(2);
        let alpha = 1.0 / (1.0 - theta);
        let eta = (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta2 / zetan);
        Zipf {
            n,
            theta,
            alpha,
            zetan,
            eta,
        }
    }

    /// The next draw: rank 0 is the most popular.
    pub fn next(&self, rng: &mut DetRng) -> u64 {
        let u = rng.unit();
        let uz = u * self.zetan;
        if uz < 1.0 {
            return 0;
        }
        if uz < 1.0 + 0.5f64.powf(self.theta) {
            return 1;
        }
        let v = (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        // Scatter hot keys over the key space, as YCSB's "scrambled" Zipfian does.
        v.min(self.n - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) % self.n
    }
}

/// Draws key numbers from one [`KeyDist`].
pub struct KeyChooser {
    dist: KeyDist,
    num: u64,
    zipf: Option<Zipf>,
}

impl KeyChooser {
    /// Over `0..num` keys.
    pub fn new(dist: KeyDist, num: u64) -> Self {
        let zipf = matches!(dist, KeyDist::Zipfian | KeyDist::Latest).then(|| Zipf::new(num));
        KeyChooser { dist, num, zipf }
    }

    /// The key of operation `i`, when `inserted` keys exist (`Latest` counts back from the
    /// newest).
    pub fn next(&self, i: u64, inserted: u64, rng: &mut DetRng) -> u64 {
        match self.dist {
            KeyDist::Sequential => i,
            KeyDist::Uniform => rng.below(self.num),
            KeyDist::Zipfian => self.zipf.as_ref().expect("zipf").next(rng),
            KeyDist::Latest => {
                let z = self.zipf.as_ref().expect("zipf").next(rng);
                inserted - 1 - z.min(inserted - 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_repeat_as_much_as_the_ratio_says() {
        for ratio in [0.25, 0.5, 1.0] {
            let g = Gen::new(7, 16, 100, ratio);
            let piece = &g.pool[..VALUE_PIECE_BYTES];
            let random = (VALUE_PIECE_BYTES as f64 * ratio) as usize;
            assert_eq!(
                piece[..VALUE_PIECE_BYTES - random],
                piece[random..],
                "{ratio}"
            );
        }
    }

    #[test]
    fn keys_are_padded_decimals_and_zipf_stays_in_range() {
        let g = Gen::new(1, 16, 10, 0.5);
        let mut k = Vec::new();
        g.key(42, &mut k);
        assert_eq!(k, b"0000000000000042");
        let z = KeyChooser::new(KeyDist::Zipfian, 1000);
        let mut rng = DetRng::new(3);
        assert!((0..10_000).all(|i| z.next(i, 1000, &mut rng) < 1000));
        let l = KeyChooser::new(KeyDist::Latest, 1000);
        assert!((0..10_000).all(|i| l.next(i, 1500, &mut rng) < 1500));
    }
}
