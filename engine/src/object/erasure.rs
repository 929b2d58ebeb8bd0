//! Reed-Solomon erasure coding of one stripe, on the reed-solomon-simd crate.
//!
//! K data shards produce M parity shards; any K of the K + M recover all of them. The crate does
//! the arithmetic (GF(2^16), O(n log n), SIMD); this module adapts it to stripes: reusable
//! working space, M = 0 (no parity) allowed, and errors that say what is missing.

use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

/// Encoder and decoder for one (K, M), reusing their working space stripe after stripe.
pub struct Codec {
    k: usize,
    m: usize,
    encoder: Option<ReedSolomonEncoder>,
    decoder: Option<ReedSolomonDecoder>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("k", &self.k)
            .field("m", &self.m)
            .finish()
    }
}

impl Codec {
    /// A codec for `k` data and `m` parity shards.
    pub fn new(k: usize, m: usize) -> Self {
        assert!(k >= 1, "K must be at least 1");
        Codec {
            k,
            m,
            encoder: None,
            decoder: None,
        }
    }

    /// Compute the `m` parity shards of `data` (`k` shards of `shard_len` bytes, a multiple of
    /// 64) into `parity`.
    pub fn encode(&mut self, data: &[&[u8]], parity: &mut [&mut [u8]]) -> Result<(), String> {
        assert_eq!(data.len(), self.k, "encode: data shard count");
        assert_eq!(parity.len(), self.m, "encode: parity shard count");
        if self.m == 0 {
            return Ok(());
        }
        let shard_len = data[0].len();
        let enc = match &mut self.encoder {
            Some(e) => {
                e.reset(self.k, self.m, shard_len)
                    .map_err(|e| e.to_string())?;
                e
            }
            slot => slot.insert(
                ReedSolomonEncoder::new(self.k, self.m, shard_len).map_err(|e| e.to_string())?,
            ),
        };
        for d in data {
            enc.add_original_shard(d).map_err(|e| e.to_string())?;
        }
        let result = enc.encode().map_err(|e| e.to_string())?;
        for (out, rec) in parity.iter_mut().zip(result.recovery_iter()) {
            out.copy_from_slice(rec);
        }
        Ok(())
    }

    /// Fill in every `None` shard of a stripe (`k + m` slots, data first) from the present ones.
    /// Needs at least `k` present shards; the error says how many were there.
    pub fn reconstruct(&mut self, shards: &mut [Option<Vec<u8>>]) -> Result<(), String> {
        assert_eq!(shards.len(), self.k + self.m, "reconstruct: shard slots");
        let present = shards.iter().filter(|s| s.is_some()).count();
        if present == shards.len() {
            return Ok(());
        }
        if present < self.k {
            return Err(format!(
                "only {present} of {} shards readable; at least K = {} are needed",
                self.k + self.m,
                self.k
            ));
        }
        let shard_len = shards.iter().flatten().next().map(Vec::len).unwrap_or(0);
        let data_missing = shards[..self.k].iter().any(Option::is_none);
        if data_missing {
            let dec = match &mut self.decoder {
                Some(d) => {
                    d.reset(self.k, self.m, shard_len)
                        .map_err(|e| e.to_string())?;
                    d
                }
                slot => slot.insert(
                    ReedSolomonDecoder::new(self.k, self.m, shard_len)
                        .map_err(|e| e.to_string())?,
                ),
            };
            for (i, s) in shards[..self.k].iter().enumerate() {
                if let Some(s) = s {
                    dec.add_original_shard(i, s).map_err(|e| e.to_string())?;
                }
            }
            for (i, s) in shards[self.k..].iter().enumerate() {
                if let Some(s) = s {
                    dec.add_recovery_shard(i, s).map_err(|e| e.to_string())?;
                }
            }
            let result = dec.decode().map_err(|e| e.to_string())?;
            for (i, restored) in result.restored_original_iter() {
                shards[i] = Some(restored.to_vec());
            }
        }
        if shards[self.k..].iter().any(Option::is_none) {
            // All data is present now: recompute parity.
            let mut parity = vec![vec![0u8; shard_len]; self.m];
            {
                let data: Vec<&[u8]> = shards[..self.k]
                    .iter()
                    .map(|s| s.as_deref().expect("data restored"))
                    .collect();
                let mut outs: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
                self.encode(&data, &mut outs)?;
            }
            for (slot, p) in shards[self.k..].iter_mut().zip(parity) {
                if slot.is_none() {
                    *slot = Some(p);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DetRng;
    use rand::RngCore;

    #[test]
    fn any_k_of_k_plus_m_recover_the_stripe() {
        let mut rng = DetRng::new(3);
        for (k, m) in [(4, 2), (1, 1), (3, 3), (6, 2), (2, 0)] {
            let mut codec = Codec::new(k, m);
            let shard_len = 256;
            let data: Vec<Vec<u8>> = (0..k)
                .map(|_| {
                    let mut v = vec![0u8; shard_len];
                    rng.fill_bytes(&mut v);
                    v
                })
                .collect();
            let mut parity = vec![vec![0u8; shard_len]; m];
            {
                let d: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
                let mut p: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
                codec.encode(&d, &mut p).unwrap();
            }
            let full: Vec<Vec<u8>> = data.iter().chain(parity.iter()).cloned().collect();
            // Erase every subset of up to m shards (and check m + 1 fails).
            for mask in 0u32..(1 << (k + m)) {
                let erased = mask.count_ones() as usize;
                let mut shards: Vec<Option<Vec<u8>>> = full
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (mask & (1 << i) == 0).then(|| s.clone()))
                    .collect();
                let r = codec.reconstruct(&mut shards);
                if erased <= m {
                    r.unwrap();
                    let got: Vec<Vec<u8>> = shards.into_iter().map(Option::unwrap).collect();
                    assert_eq!(got, full, "k={k} m={m} mask={mask:b}");
                } else {
                    assert!(r.unwrap_err().contains("at least K"));
                }
            }
        }
    }
}
