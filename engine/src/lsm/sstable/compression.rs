//! Block compression: LZ4 (the `lz4_flex` crate, pure Rust) and zstd (the `zstd` crate, the
//! reference C library). Each data block records how it was stored in its trailer's type byte
//! (see [`super::framing`]), so one table — and one database — can hold raw, LZ4 and zstd
//! blocks side by side: changing `TableOptions::compression` affects only tables written from
//! then on.
//!
//! A compressed block's stored contents are `raw_len: varint | codec output`. The raw length
//! comes first so that decompression allocates exactly once and can check that it got what was
//! promised. A block is stored compressed only if that saves at least an eighth of it
//! (RocksDB's rule): below that, the CPU spent decompressing on every cache miss buys too
//! little.
//!
//! Both codecs are cargo features of `seedbed-engine` (`lz4`, `zstd`), on by default: a
//! database another build wrote with either must stay readable by `seedbed kv` and
//! `seedbed inspect`, and the cost is small (lz4_flex is a few thousand lines of Rust; zstd
//! builds libzstd's C sources once). A build without one refuses to write it and reports a
//! block that needs it as an error naming the feature.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::fmt;
use std::str::FromStr;

use super::framing::BlockError;
use crate::lsm::coding::{get_varint, put_varint};

/// Largest raw block accepted when decompressing (a bound on memory for damaged lengths).
pub const RAW_BLOCK_BYTES_MAX: usize = 64 << 20;
/// zstd's level when none is given (the library's own default).
pub const ZSTD_DEFAULT_LEVEL: i32 = 3;

/// How new data blocks are compressed (a table option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// Stored as they are.
    #[default]
    None,
    /// LZ4 block format: fast in both directions, modest ratio.
    Lz4,
    /// zstd at a level (1 fastest .. 22 smallest; negative levels trade ratio for speed).
    Zstd(i32),
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Lz4 => f.write_str("lz4"),
            Compression::Zstd(l) if *l == ZSTD_DEFAULT_LEVEL => f.write_str("zstd"),
            Compression::Zstd(l) => write!(f, "zstd:{l}"),
        }
    }
}

impl FromStr for Compression {
    type Err = String;

    /// `none`, `lz4`, `zstd` (level 3) or `zstd:LEVEL`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("bad compression '{s}': expected none, lz4, zstd or zstd:LEVEL");
        match s {
            "none" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd(ZSTD_DEFAULT_LEVEL)),
            _ => {
                let level: i32 = s
                    .strip_prefix("zstd:")
                    .ok_or_else(bad)?
                    .parse()
                    .map_err(|_| bad())?;
                Ok(Compression::Zstd(level))
            }
        }
    }
}

impl Compression {
    /// `Err` naming the problem if this build cannot write it or the level is out of range.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Compression::None => Ok(()),
            Compression::Lz4 => feature_check(BlockType::Lz4).map_err(|e| e.to_string()),
            Compression::Zstd(level) => {
                feature_check(BlockType::Zstd).map_err(|e| e.to_string())?;
                if !(-(1 << 17)..=22).contains(level) {
                    return Err(format!("zstd level {level} is out of range (-131072..=22)"));
                }
                Ok(())
            }
        }
    }
}

/// How one stored block is encoded: the type byte of its trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum BlockType {
    /// Raw contents.
    #[default]
    None = 0,
    /// `raw_len | LZ4 block`.
    Lz4 = 1,
    /// `raw_len | zstd frame`.
    Zstd = 2,
}

impl BlockType {
    /// Decode a type byte.
    pub fn from_u8(b: u8) -> Option<Self> {
        match b {
            0 => Some(BlockType::None),
            1 => Some(BlockType::Lz4),
            2 => Some(BlockType::Zstd),
            _ => None,
        }
    }

    /// The name shown by `seedbed inspect`.
    pub fn name(&self) -> &'static str {
        match self {
            BlockType::None => "none",
            BlockType::Lz4 => "lz4",
            BlockType::Zstd => "zstd",
        }
    }
}

fn feature_check(t: BlockType) -> Result<(), BlockError> {
    let built = match t {
        BlockType::None => true,
        BlockType::Lz4 => cfg!(feature = "lz4"),
        BlockType::Zstd => cfg!(feature = "zstd"),
    };
    if built {
        Ok(())
    } else {
        Err(BlockError::NotBuilt(t))
    }
}

/// Compresses blocks, keeping the codec's working state between blocks (a zstd context is
/// expensive to set up; a table builder reuses one for all its blocks).
pub struct Compressor {
    compression: Compression,
    #[cfg(feature = "zstd")]
    zstd: Option<zstd::bulk::Compressor<'static>>,
    #[cfg(feature = "zstd")]
    scratch: Vec<u8>,
}

impl fmt::Debug for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compressor")
            .field("compression", &self.compression)
            .finish()
    }
}

impl Compressor {
    /// A compressor for `compression` (checked with [`Compression::check`] by the caller).
    pub fn new(compression: Compression) -> Self {
        Compressor {
            compression,
            #[cfg(feature = "zstd")]
            zstd: None,
            #[cfg(feature = "zstd")]
            scratch: Vec::new(),
        }
    }

    /// The setting it compresses with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Compress `raw` into `out` (cleared first) as stored contents (`raw_len | codec
    /// output`). Returns the block type, or `None` when the setting is `None`, the codec is
    /// not built in, or the result would not save an eighth of the block — then the caller
    /// stores `raw` as it is.
    pub fn compress(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Option<BlockType> {
        out.clear();
        put_varint(out, raw.len() as u64);
        let header = out.len();
        let ty = match self.compression {
            Compression::None => return None,
            Compression::Lz4 => {
                #[cfg(feature = "lz4")]
                {
                    out.resize(
                        header + lz4_flex::block::get_maximum_output_size(raw.len()),
                        0,
                    );
                    let n = lz4_flex::block::compress_into(raw, &mut out[header..]).ok()?;
                    out.truncate(header + n);
                    BlockType::Lz4
                }
                #[cfg(not(feature = "lz4"))]
                return None;
            }
            Compression::Zstd(level) => {
                #[cfg(feature = "zstd")]
                {
                    if self.zstd.is_none() {
                        self.zstd = Some(zstd::bulk::Compressor::new(level).ok()?);
                    }
                    let z = self.zstd.as_mut()?;
                    // The codec writes from the start of a Vec, bounded by its capacity.
                    self.scratch.clear();
                    self.scratch
                        .reserve(zstd::zstd_safe::compress_bound(raw.len()));
                    z.compress_to_buffer(raw, &mut self.scratch).ok()?;
                    out.extend_from_slice(&self.scratch);
                    BlockType::Zstd
                }
                #[cfg(not(feature = "zstd"))]
                {
                    let _ = level;
                    return None;
                }
            }
        };
        (out.len() <= raw.len() - raw.len() / 8).then_some(ty)
    }
}

/// Decompress one zstd frame of at most `raw_len` bytes with this thread's context. A fresh
/// context per block (what `zstd::bulk::decompress` does) allocates and initialises about
/// 100 KiB of decoder state every time: on a read that misses the block cache it cost more
/// than the decoding (readrandom 0.82× RocksDB with zstd, which keeps its contexts).
#[cfg(feature = "zstd")]
fn zstd_decompress(body: &[u8], raw_len: usize) -> std::io::Result<Vec<u8>> {
    use std::cell::RefCell;
    thread_local! {
        static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            const { RefCell::new(None) };
    }
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new()?),
        };
        d.decompress(body, raw_len)
    })
}

/// Decompress stored contents of type `ty` (not `None`). `Err` says what is wrong: a length
/// out of bounds, a codec error, a length other than promised, or a codec not built in.
pub fn decompress(ty: BlockType, stored: &[u8]) -> Result<Vec<u8>, BlockError> {
    feature_check(ty)?;
    let (raw_len, n) = get_varint(stored).ok_or(BlockError::BadRawLength)?;
    let raw_len = usize::try_from(raw_len)
        .ok()
        .filter(|&l| l <= RAW_BLOCK_BYTES_MAX)
        .ok_or(BlockError::RawLengthOverLimit(raw_len))?;
    let body = &stored[n..];
    let out = match ty {
        BlockType::None => return Err(BlockError::NotCompressed),
        BlockType::Lz4 => {
            #[cfg(feature = "lz4")]
            {
                let mut out = vec![0u8; raw_len];
                let got =
                    lz4_flex::block::decompress_into(body, &mut out).map_err(BlockError::Lz4)?;
                out.truncate(got);
                out
            }
            #[cfg(not(feature = "lz4"))]
            unreachable!("feature_check")
        }
        BlockType::Zstd => {
            #[cfg(feature = "zstd")]
            {
                zstd_decompress(body, raw_len).map_err(BlockError::Zstd)?
            }
            #[cfg(not(feature = "zstd"))]
            unreachable!("feature_check")
        }
    };
    if out.len() != raw_len {
        return Err(BlockError::LengthMismatch {
            codec: ty,
            got: out.len(),
            promised: raw_len,
        });
    }
    Ok(out)
}

/// The raw length a compressed block promises (for inspection), without decompressing.
pub fn raw_len(stored: &[u8]) -> Option<u64> {
    get_varint(stored).map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        // Compressible like real blocks: repeated key prefixes and value fragments.
        let mut v = Vec::new();
        for i in 0..200u32 {
            v.extend_from_slice(format!("user{:08}", i * 7).as_bytes());
            v.extend_from_slice(&[(i % 7) as u8; 40]);
        }
        v
    }

    #[test]
    fn settings_parse_and_print() {
        for s in ["none", "lz4", "zstd", "zstd:9", "zstd:-5"] {
            let c: Compression = s.parse().unwrap();
            assert_eq!(c.to_string(), s);
        }
        let e = "gzip".parse::<Compression>().unwrap_err();
        assert!(e.contains("bad compression 'gzip'"), "{e}");
        assert!("zstd:x".parse::<Compression>().is_err());
        assert!(Compression::Zstd(99).check().is_err());
    }

    #[test]
    fn each_codec_round_trips_and_checks_what_it_is_given() {
        let raw = sample();
        for (c, ty) in [
            (Compression::Lz4, BlockType::Lz4),
            (Compression::Zstd(3), BlockType::Zstd),
        ] {
            if c.check().is_err() {
                continue; // codec not built in
            }
            let mut z = Compressor::new(c);
            let mut out = Vec::new();
            assert_eq!(z.compress(&raw, &mut out), Some(ty), "{c}");
            assert!(
                out.len() < raw.len() / 2,
                "{c}: {} of {}",
                out.len(),
                raw.len()
            );
            assert_eq!(decompress(ty, &out).unwrap(), raw);
            assert_eq!(raw_len(&out), Some(raw.len() as u64));
            // A second block through the same compressor.
            assert_eq!(z.compress(&raw[..1000], &mut out), Some(ty));
            assert_eq!(decompress(ty, &out).unwrap(), &raw[..1000]);
            // A lying length, a cut body, garbage: errors, not panics.
            let mut lie = Vec::new();
            put_varint(&mut lie, 999);
            lie.extend_from_slice(&out[1..]);
            assert!(decompress(ty, &lie).is_err(), "{c}");
            for cut in [1, out.len() / 2, out.len() - 1] {
                assert!(decompress(ty, &out[..cut]).is_err(), "{c} cut {cut}");
            }
            assert!(decompress(ty, &[5, 1, 2, 3, 4, 5, 6, 7]).is_err(), "{c}");
            // The thread's zstd context, reused from block to block, is not left broken by
            // the failures: a good block still decodes.
            assert_eq!(decompress(ty, &out).unwrap(), &raw[..1000], "{c}");
        }
    }

    #[test]
    fn incompressible_blocks_stay_raw() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x & 0xff) as u8
            })
            .collect();
        for c in [Compression::Lz4, Compression::Zstd(3)] {
            let mut out = Vec::new();
            assert_eq!(Compressor::new(c).compress(&noise, &mut out), None, "{c}");
        }
        let mut out = Vec::new();
        assert_eq!(
            Compressor::new(Compression::None).compress(&sample(), &mut out),
            None
        );
    }
}
