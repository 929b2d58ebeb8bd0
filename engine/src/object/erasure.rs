//! Reed-Solomon erasure coding of one stripe, on the reed-solomon-simd crate.
//!
//! K data shards produce M parity shards; any K of the K + M recover all of them. The crate does
//! the encoding (GF(2^16), O(n log n), SIMD). For reconstruction this module does not call the
//! crate's decoder, which runs its full transform machinery (an error-locator evaluation over all
//! 65,536 field elements, then an IFFT and FFT over the work buffer) on every stripe and managed
//! about 1–2.5 GB/s here. Instead it uses the fact that the code is *linear*:
//!
//! - every parity symbol is a fixed combination of the data symbols at the same position,
//!   `P_j = Σ_i G[j][i] · D_i` over GF(2^16), the same `G` for every position and every stripe
//!   of a given (K, M). [`Codec`] learns `G` once by encoding unit vectors through the crate's
//!   own encoder, so it is by construction the code the crate writes;
//! - so any K surviving shards `S` determine the data: `D = A⁻¹ · S`, where `A` is the K × K
//!   submatrix of `[I; G]` for the surviving rows, and each missing shard `r` is
//!   `row_r([I; G]) · A⁻¹ · S` — K scalar coefficients per missing shard;
//! - applying them is K multiply-and-add passes per missing shard, with the crate's SIMD
//!   multiply-by-constant (`Engine::mul`), done block by block so the passes stay in L1.
//!
//! That is several times faster than the general decoder for the small K and M a storage system
//! uses (see docs/benchmarks.md). The scalar algebra (K × K inversion) is tiny and uses the
//! crate's exp/log tables, so field elements mean exactly what they mean to the encoder.

use reed_solomon_simd::engine::{tables, utils, DefaultEngine, Engine, GfElement, GF_MODULUS};
use reed_solomon_simd::ReedSolomonEncoder;

/// Why a stripe could not be encoded or rebuilt.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErasureError {
    /// The Reed-Solomon encoder refused the shards (a length it does not take).
    #[error("{0}")]
    Encoder(#[source] reed_solomon_simd::Error),
    /// Fewer than K shards are left.
    #[error("only {present} of {width} shards readable; at least K = {k} are needed")]
    TooFewShards {
        /// Shards present.
        present: usize,
        /// Shards per stripe (K + M).
        width: usize,
        /// Data shards.
        k: usize,
    },
    /// The present shards differ in length, or the length is not a multiple of 64.
    #[error(
        "shards must all have the same length, a multiple of 64 bytes (shard {shard} has {len})"
    )]
    UnequalShards {
        /// The first present shard.
        shard: usize,
        /// Its length.
        len: usize,
    },
    /// The chosen shards' rows do not invert.
    #[error("shards {0:?} do not determine the stripe (singular matrix: not an MDS code?)")]
    Singular(Vec<usize>),
}

/// Bytes processed per pass of the multiply-and-add loop: small enough that the output block,
/// the scratch block and the input block all stay in L1.
const BLOCK: usize = 8 << 10;

/// Encoder and reconstructor for one (K, M), reusing their working space stripe after stripe.
pub struct Codec {
    k: usize,
    m: usize,
    encoder: Option<ReedSolomonEncoder>,
    /// `G`: M rows of K coefficients, learned from the encoder on the first reconstruction.
    generator: Option<Vec<Vec<GfElement>>>,
    engine: Option<DefaultEngine>,
    /// One block of scratch for the multiply-and-add loop.
    scratch: Vec<[u8; 64]>,
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
            generator: None,
            engine: None,
            scratch: Vec::new(),
        }
    }

    /// Compute the `m` parity shards of `data` (`k` shards of `shard_len` bytes, a multiple of
    /// 64) into `parity`.
    pub fn encode(&mut self, data: &[&[u8]], parity: &mut [&mut [u8]]) -> Result<(), ErasureError> {
        assert_eq!(data.len(), self.k, "encode: data shard count");
        assert_eq!(parity.len(), self.m, "encode: parity shard count");
        if self.m == 0 {
            return Ok(());
        }
        let shard_len = data[0].len();
        let enc = match &mut self.encoder {
            Some(e) => {
                e.reset(self.k, self.m, shard_len)
                    .map_err(ErasureError::Encoder)?;
                e
            }
            slot => slot.insert(
                ReedSolomonEncoder::new(self.k, self.m, shard_len)
                    .map_err(ErasureError::Encoder)?,
            ),
        };
        for d in data {
            enc.add_original_shard(d).map_err(ErasureError::Encoder)?;
        }
        let result = enc.encode().map_err(ErasureError::Encoder)?;
        for (out, rec) in parity.iter_mut().zip(result.recovery_iter()) {
            out.copy_from_slice(rec);
        }
        Ok(())
    }

    /// Fill in every `None` shard of a stripe (`k + m` slots, data first) from the present ones.
    /// Needs at least `k` present shards of one length, a multiple of 64 bytes (as every
    /// stripe's shards are); the error says what was missing.
    pub fn reconstruct(&mut self, shards: &mut [Option<Vec<u8>>]) -> Result<(), ErasureError> {
        self.reconstruct_reusing(shards, &mut Vec::new())
    }

    /// [`Self::reconstruct`], writing rebuilt shards into buffers taken from `spare` while it
    /// has any. A reader that hands its used shard buffers back here saves a fresh allocation
    /// per rebuilt shard — for 1 MiB shards, hundreds of page faults that cost more than the
    /// arithmetic. A spare buffer at least as long as a shard is cut to length, not zeroed:
    /// every byte of a rebuilt shard is written.
    pub fn reconstruct_reusing(
        &mut self,
        shards: &mut [Option<Vec<u8>>],
        spare: &mut Vec<Vec<u8>>,
    ) -> Result<(), ErasureError> {
        let width = self.k + self.m;
        assert_eq!(shards.len(), width, "reconstruct: shard slots");
        let missing: Vec<usize> = (0..width).filter(|&i| shards[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let shard_len = shards.iter().flatten().next().map_or(0, Vec::len);
        let mut outs: Vec<Vec<u8>> = missing
            .iter()
            .map(|_| {
                let mut b = spare.pop().unwrap_or_default();
                if b.len() < shard_len {
                    b.resize(shard_len, 0);
                }
                b.truncate(shard_len);
                b
            })
            .collect();
        let result = {
            let present: Vec<Option<&[u8]>> = shards.iter().map(|s| s.as_deref()).collect();
            let mut targets: Vec<(usize, &mut [u8])> = missing
                .iter()
                .zip(outs.iter_mut())
                .map(|(&r, b)| (r, &mut b[..]))
                .collect();
            self.reconstruct_into(&present, &mut targets)
        };
        match result {
            Ok(()) => {
                for (r, out) in missing.into_iter().zip(outs) {
                    shards[r] = Some(out);
                }
                Ok(())
            }
            Err(e) => {
                spare.extend(outs);
                Err(e)
            }
        }
    }

    /// Rebuild shards from the present ones, into buffers the caller owns: `shards` has `k + m`
    /// slots (data first), `Some` for each shard present; each `(r, buf)` of `outputs` names a
    /// shard `r` whose slot is `None` and receives it whole (`buf` as long as the present
    /// shards). The buffers' previous contents do not matter: every byte is written. This is the
    /// form a reader whose shards live inside larger buffers (aligned for direct I/O) uses.
    pub fn reconstruct_into(
        &mut self,
        shards: &[Option<&[u8]>],
        outputs: &mut [(usize, &mut [u8])],
    ) -> Result<(), ErasureError> {
        let (k, m) = (self.k, self.m);
        assert_eq!(shards.len(), k + m, "reconstruct: shard slots");
        let present: Vec<usize> = (0..k + m).filter(|&i| shards[i].is_some()).collect();
        if outputs.is_empty() {
            return Ok(());
        }
        if present.len() < k {
            return Err(ErasureError::TooFewShards {
                present: present.len(),
                width: k + m,
                k,
            });
        }
        let shard_len = shards[present[0]].map_or(0, <[u8]>::len);
        if !shard_len.is_multiple_of(64)
            || present
                .iter()
                .any(|&i| shards[i].map(<[u8]>::len) != Some(shard_len))
        {
            return Err(ErasureError::UnequalShards {
                shard: present[0],
                len: shard_len,
            });
        }
        if let Some((r, out)) = outputs
            .iter()
            .find(|(r, out)| *r >= k + m || shards[*r].is_some() || out.len() != shard_len)
        {
            return Err(ErasureError::UnequalShards {
                shard: *r,
                len: out.len(),
            });
        }
        // Data shards first: their rows of [I; G] are unit rows, which keeps A simple.
        let chosen = &present[..k];
        let a: Vec<Vec<GfElement>> = chosen.iter().map(|&s| self.row(s)).collect();
        let a_inv = invert(a).ok_or_else(|| ErasureError::Singular(chosen.to_vec()))?;
        let inputs: Vec<&[[u8; 64]]> = chosen
            .iter()
            .map(|&s| shards[s].expect("present").as_chunks::<64>().0)
            .collect();
        for (r, out) in outputs.iter_mut() {
            let row = self.row(*r);
            let coef: Vec<GfElement> = (0..k)
                .map(|c| (0..k).fold(0, |acc, t| acc ^ gf_mul(row[t], a_inv[t][c])))
                .collect();
            self.combine(&inputs, &coef, out);
        }
        Ok(())
    }

    /// Row `shard` of `[I; G]`: how shard `shard` is made from the K data shards.
    fn row(&mut self, shard: usize) -> Vec<GfElement> {
        if shard < self.k {
            let mut r = vec![0; self.k];
            r[shard] = one();
            r
        } else {
            let k = self.k;
            self.generator()[shard - k].clone()
        }
    }

    /// `G`, learned by encoding unit vectors: data shard `i` holds the field's 1 in its first
    /// symbol and zeros elsewhere, so parity shard `j`'s first symbol is `G[j][i]`. (In a 64-byte
    /// chunk the crate keeps 32 symbols' low bytes, then their high bytes.)
    fn generator(&mut self) -> &[Vec<GfElement>] {
        let (k, m) = (self.k, self.m);
        if self.generator.is_none() {
            let mut g = vec![vec![0; k]; m];
            let one = one();
            for i in 0..k {
                let data: Vec<[u8; 64]> = (0..k)
                    .map(|d| {
                        let mut s = [0u8; 64];
                        if d == i {
                            s[0] = one as u8;
                            s[32] = (one >> 8) as u8;
                        }
                        s
                    })
                    .collect();
                let d: Vec<&[u8]> = data.iter().map(|s| &s[..]).collect();
                let mut parity = vec![[0u8; 64]; m];
                let mut p: Vec<&mut [u8]> = parity.iter_mut().map(|s| &mut s[..]).collect();
                self.encode(&d, &mut p)
                    .expect("encoding 64-byte unit shards cannot fail");
                for (row, s) in g.iter_mut().zip(&parity) {
                    row[i] = s[0] as GfElement | (s[32] as GfElement) << 8;
                }
            }
            self.generator = Some(g);
        }
        self.generator.as_deref().expect("just set")
    }

    /// `out = Σ coef[c] · inputs[c]`, block by block; `out` is as long as the inputs.
    fn combine(&mut self, inputs: &[&[[u8; 64]]], coef: &[GfElement], out: &mut [u8]) {
        let engine = self.engine.get_or_insert_with(DefaultEngine::new);
        let log = &tables::get_exp_log().log;
        let chunks = out.len() / 64;
        let block = BLOCK / 64;
        self.scratch.resize(block, [0u8; 64]);
        // Every byte is overwritten below (the first non-zero term of each block is copied, not
        // added), so `out` needs no zeroing first — unless every coefficient is zero, when the
        // shard is zero.
        if coef.iter().all(|&c| c == 0) {
            out.fill(0);
            return;
        }
        let chunked = out.as_chunks_mut::<64>().0;
        for start in (0..chunks).step_by(block) {
            let end = (start + block).min(chunks);
            let dst = &mut chunked[start..end];
            let mut first = true;
            for (input, &c) in inputs.iter().zip(coef) {
                if c == 0 {
                    continue;
                }
                let src = &input[start..end];
                let target: &mut [[u8; 64]] = if first {
                    dst.copy_from_slice(src);
                    &mut *dst
                } else {
                    let s = &mut self.scratch[..end - start];
                    s.copy_from_slice(src);
                    s
                };
                if c != one() {
                    engine.mul(target, log[c as usize]);
                }
                if !first {
                    utils::xor(dst, &self.scratch[..end - start]);
                }
                first = false;
            }
        }
    }
}

/// The field's multiplicative identity (the element whose logarithm is 0).
fn one() -> GfElement {
    tables::get_exp_log().exp[0]
}

/// Product in GF(2^16), through the crate's exp/log tables.
fn gf_mul(a: GfElement, b: GfElement) -> GfElement {
    if a == 0 || b == 0 {
        return 0;
    }
    let t = tables::get_exp_log();
    let sum = (t.log[a as usize] as u32 + t.log[b as usize] as u32) % GF_MODULUS as u32;
    t.exp[sum as usize]
}

/// Multiplicative inverse of a non-zero element.
fn gf_inv(a: GfElement) -> GfElement {
    let t = tables::get_exp_log();
    let l = t.log[a as usize] as u32;
    t.exp[((GF_MODULUS as u32 - l) % GF_MODULUS as u32) as usize]
}

/// Inverse of a square matrix over GF(2^16) by Gauss-Jordan elimination (addition is XOR);
/// `None` if it is singular.
fn invert(mut a: Vec<Vec<GfElement>>) -> Option<Vec<Vec<GfElement>>> {
    let n = a.len();
    let mut inv: Vec<Vec<GfElement>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { one() } else { 0 }).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r][col] != 0)?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = gf_inv(a[col][col]);
        for j in 0..n {
            a[col][j] = gf_mul(a[col][j], p);
            inv[col][j] = gf_mul(inv[col][j], p);
        }
        for r in 0..n {
            let f = a[r][col];
            if r == col || f == 0 {
                continue;
            }
            for j in 0..n {
                a[r][j] ^= gf_mul(f, a[col][j]);
                inv[r][j] ^= gf_mul(f, inv[col][j]);
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DetRng;
    use rand::RngCore;

    /// Reconstruction by linear combination must agree with what the crate's encoder wrote,
    /// for shards longer than one block and not a multiple of it.
    /// K random data shards of `shard_len` bytes and their M parity shards, in shard order.
    fn random_stripe(
        codec: &mut Codec,
        rng: &mut DetRng,
        k: usize,
        m: usize,
        shard_len: usize,
    ) -> Vec<Vec<u8>> {
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
        data.into_iter().chain(parity).collect()
    }

    #[test]
    fn long_shards_rebuild_exactly() {
        let mut rng = DetRng::new(9);
        for (k, m) in [(4, 2), (10, 4), (6, 3)] {
            let mut codec = Codec::new(k, m);
            let shard_len = BLOCK * 3 + 64 * 5;
            let full = random_stripe(&mut codec, &mut rng, k, m, shard_len);
            // Lose the first m data shards, then a mix of data and parity.
            for lost in [(0..m).collect::<Vec<_>>(), vec![1, k], vec![k + m - 1]] {
                let mut shards: Vec<Option<Vec<u8>>> = full.iter().cloned().map(Some).collect();
                for &i in &lost {
                    shards[i] = None;
                }
                codec.reconstruct(&mut shards).unwrap();
                for (i, s) in shards.iter().enumerate() {
                    assert!(
                        s.as_ref() == Some(&full[i]),
                        "k={k} m={m} lost={lost:?} shard {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn rebuilt_shards_overwrite_whatever_their_buffers_held() {
        let mut rng = DetRng::new(21);
        let (k, m) = (4, 2);
        let mut codec = Codec::new(k, m);
        let shard_len = BLOCK + 64 * 3;
        let full = random_stripe(&mut codec, &mut rng, k, m, shard_len);
        // Into caller buffers (slices of longer ones, as a direct-I/O reader has them), full
        // of garbage.
        let mut bufs = vec![vec![0xA5u8; shard_len + 4096]; 2];
        {
            let present: Vec<Option<&[u8]>> = full
                .iter()
                .enumerate()
                .map(|(i, s)| (i != 1 && i != 4).then_some(s.as_slice()))
                .collect();
            let (a, b) = bufs.split_at_mut(1);
            let mut outs = vec![
                (1, &mut a[0][100..100 + shard_len]),
                (4, &mut b[0][7..7 + shard_len]),
            ];
            codec.reconstruct_into(&present, &mut outs).unwrap();
        }
        assert_eq!(&bufs[0][100..100 + shard_len], &full[1][..]);
        assert_eq!(&bufs[1][7..7 + shard_len], &full[4][..]);
        // Reusing spare buffers, longer than a shard and full of garbage.
        let mut spare = vec![vec![0x5Au8; shard_len * 2], vec![0xFFu8; shard_len + 64]];
        let mut shards: Vec<Option<Vec<u8>>> = full.iter().cloned().map(Some).collect();
        shards[0] = None;
        shards[5] = None;
        codec.reconstruct_reusing(&mut shards, &mut spare).unwrap();
        assert!(spare.is_empty());
        for (i, s) in shards.iter().enumerate() {
            assert_eq!(s.as_deref(), Some(&full[i][..]), "shard {i}");
        }
        // A wrong-length output is refused, not written out of bounds.
        let present_but_one: Vec<Option<&[u8]>> = full
            .iter()
            .enumerate()
            .map(|(i, s)| (i != 2).then_some(s.as_slice()))
            .collect();
        let mut short = [0u8; 64];
        assert!(codec
            .reconstruct_into(&present_but_one, &mut [(2, &mut short[..])])
            .is_err());
    }

    #[test]
    fn shards_of_odd_length_are_refused() {
        let mut codec = Codec::new(2, 1);
        let mut shards = vec![Some(vec![0u8; 100]), None, Some(vec![0u8; 100])];
        let e = codec.reconstruct(&mut shards).unwrap_err();
        assert_eq!(e, ErasureError::UnequalShards { shard: 0, len: 100 });
        assert!(e.to_string().contains("multiple of 64"));
    }

    #[test]
    fn any_k_of_k_plus_m_recover_the_stripe() {
        let mut rng = DetRng::new(3);
        for (k, m) in [(4, 2), (1, 1), (3, 3), (6, 2), (2, 0)] {
            let mut codec = Codec::new(k, m);
            let shard_len = 256;
            let full = random_stripe(&mut codec, &mut rng, k, m, shard_len);
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
                    assert!(r.unwrap_err().to_string().contains("at least K"));
                }
            }
        }
    }
}
