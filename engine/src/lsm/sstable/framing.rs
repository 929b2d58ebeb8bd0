//! How every block sits on disk: its stored contents followed by a trailer.
//!
//! ```text
//! format 2:  stored | type: u8 | crc32(stored || type): u32 LE     (trailer: 5 bytes)
//! format 1:  stored | crc32(stored): u32 LE                         (trailer: 4 bytes, raw)
//! ```
//! `type` says how `stored` encodes the block's contents ([`BlockType`]: raw, LZ4 or zstd, see
//! [`super::compression`]); a block handle's `size` is the length of `stored`. The CRC covers
//! the type byte too, so a flipped type is caught like any flipped byte. This code writes
//! format 2 and reads both.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use bytes::Bytes;

use super::compression::{self, BlockType, Compressor};
use crate::lsm::coding::get_u32;

/// Trailer bytes of a format-2 block (type + CRC).
pub const TRAILER_BYTES: usize = 5;
/// Trailer bytes of a format-1 block (CRC only).
pub const TRAILER_BYTES_V1: usize = 4;

// type byte + CRC32; CRC32 alone.
const _: () = assert!(TRAILER_BYTES == 1 + 4 && TRAILER_BYTES_V1 == 4);

/// Trailer bytes of a block in a table of `format_version`.
pub fn trailer_bytes(format_version: u32) -> usize {
    if format_version >= 2 {
        TRAILER_BYTES
    } else {
        TRAILER_BYTES_V1
    }
}

/// Turn the block contents written to `out[start..]` into a stored block: compress them in
/// place if `compressor` is given and that pays (see [`Compressor::compress`]), then append
/// the trailer. Returns the stored size (the handle's `size`) and the type used. `scratch` is
/// reused between calls.
pub fn seal_block(
    out: &mut Vec<u8>,
    start: usize,
    compressor: Option<&mut Compressor>,
    scratch: &mut Vec<u8>,
) -> (usize, BlockType) {
    let mut ty = BlockType::None;
    if let Some(c) = compressor {
        if let Some(t) = c.compress(&out[start..], scratch) {
            out.truncate(start);
            out.extend_from_slice(scratch);
            ty = t;
        }
    }
    let size = out.len() - start;
    out.push(ty as u8);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    (size, ty)
}

/// Append `contents` as a raw stored block (meta blocks: filter, properties). Returns the
/// stored size.
pub fn append_raw_block(out: &mut Vec<u8>, contents: &[u8]) -> usize {
    let start = out.len();
    out.extend_from_slice(contents);
    seal_block(out, start, None, &mut Vec::new()).0
}

/// Why a stored block cannot be read: its trailer, its compression or its contents are not
/// what this code wrote. The reader wraps it in [`crate::lsm::LsmError::Corruption`] with the
/// file, the structure and the offset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// Fewer bytes than a trailer.
    #[error("block shorter than its trailer")]
    ShorterThanTrailer,
    /// The bytes end inside a field.
    #[error("truncated")]
    Truncated,
    /// The CRC does not match the bytes.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The CRC in the trailer.
        stored: u32,
        /// The CRC of the bytes read.
        computed: u32,
    },
    /// The trailer's type byte names no [`BlockType`].
    #[error("unknown block type {0}")]
    UnknownType(u8),
    /// A compressed block's raw-length prefix does not parse.
    #[error("compressed block: bad raw length")]
    BadRawLength,
    /// A compressed block promises more raw bytes than any block holds.
    #[error("compressed block: raw length {0} exceeds the limit")]
    RawLengthOverLimit(u64),
    /// `decompress` was asked to decompress a raw block (a bug of the caller).
    #[error("decompress called on a raw block")]
    NotCompressed,
    /// The LZ4 decoder refused the block.
    #[cfg(feature = "lz4")]
    #[error("lz4: {0}")]
    Lz4(#[source] lz4_flex::block::DecompressError),
    /// The zstd decoder refused the block.
    #[cfg(feature = "zstd")]
    #[error("zstd: {0}")]
    Zstd(#[source] std::io::Error),
    /// The codec produced another length than the block promised.
    #[error("{}: decompressed to {got} bytes, the block promised {promised}", codec.name())]
    LengthMismatch {
        /// The codec.
        codec: BlockType,
        /// Bytes it produced.
        got: usize,
        /// Bytes the block promised.
        promised: usize,
    },
    /// The block's codec is not compiled into this binary.
    #[error("{} compression is not built into this binary (cargo feature `{}` of seedbed-engine)", .0.name(), .0.name())]
    NotBuilt(BlockType),
    /// The decompressed contents do not parse as a block.
    #[error("{0}")]
    Contents(&'static str),
}

/// What a stored block's trailer says, checked: its type and its stored contents (a slice of
/// `raw`). `raw` is the block as read from disk, trailer included.
pub fn open_block(raw: &[u8], format_version: u32) -> Result<(BlockType, &[u8]), BlockError> {
    let t = trailer_bytes(format_version);
    if raw.len() < t {
        return Err(BlockError::ShorterThanTrailer);
    }
    let n = raw.len() - 4;
    let stored_crc = get_u32(raw, n).ok_or(BlockError::Truncated)?;
    let actual = crc32fast::hash(&raw[..n]);
    if stored_crc != actual {
        return Err(BlockError::Checksum {
            stored: stored_crc,
            computed: actual,
        });
    }
    if format_version < 2 {
        return Ok((BlockType::None, &raw[..n]));
    }
    let ty_byte = raw[n - 1];
    let ty = BlockType::from_u8(ty_byte).ok_or(BlockError::UnknownType(ty_byte))?;
    Ok((ty, &raw[..n - 1]))
}

/// A stored block read from disk (trailer included) → its verified, decompressed contents.
/// A raw block is a zero-copy slice of `raw`.
pub fn unpack_block(raw: Bytes, format_version: u32) -> Result<Bytes, BlockError> {
    let (ty, stored) = open_block(&raw, format_version)?;
    if ty == BlockType::None {
        let len = stored.len();
        return Ok(raw.slice(..len));
    }
    Ok(Bytes::from(compression::decompress(ty, stored)?))
}

/// What `seedbed inspect sst` shows of one stored block: its type and sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BlockInfo {
    /// How it is stored.
    pub compression: BlockType,
    /// Bytes on disk without the trailer (the handle's size).
    pub stored_bytes: u64,
    /// Bytes of its contents once decompressed.
    pub raw_bytes: u64,
}

/// Describe a stored block (trailer included) after checking its trailer.
pub fn describe_block(raw: &[u8], format_version: u32) -> Result<BlockInfo, BlockError> {
    let (ty, stored) = open_block(raw, format_version)?;
    let raw_bytes = match ty {
        BlockType::None => stored.len() as u64,
        _ => compression::raw_len(stored).ok_or(BlockError::BadRawLength)?,
    };
    Ok(BlockInfo {
        compression: ty,
        stored_bytes: stored.len() as u64,
        raw_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsm::sstable::compression::Compression;

    #[test]
    fn a_bad_block_is_a_typed_error_inside_the_corruption() {
        let mut raw = Vec::new();
        append_raw_block(&mut raw, b"contents");
        raw[0] ^= 1;
        let e = unpack_block(Bytes::from(raw), 2).unwrap_err();
        assert!(matches!(e, BlockError::Checksum { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with("checksum mismatch: stored 0x"), "{msg}");
        let lsm = crate::lsm::LsmError::corruption("t.sst", "data block", 7, e);
        assert_eq!(
            lsm.to_string(),
            format!("corruption in t.sst (data block) at byte 7: {msg}")
        );
        let crate::lsm::LsmError::Corruption { detail, .. } = lsm else {
            panic!("not a corruption")
        };
        assert!(matches!(
            detail,
            crate::lsm::CorruptionDetail::Block(ref b) if matches!(**b, BlockError::Checksum { .. })
        ));
        assert!(matches!(
            open_block(&[1, 2], 2),
            Err(BlockError::ShorterThanTrailer)
        ));
    }

    #[test]
    fn blocks_round_trip_in_both_formats_and_any_flip_is_caught() {
        let contents: Vec<u8> = (0..600u32).map(|i| (i % 13) as u8).collect();
        for c in [Compression::None, Compression::Lz4, Compression::Zstd(3)] {
            if c.check().is_err() {
                continue;
            }
            let mut z = Compressor::new(c);
            let mut out = b"prefix".to_vec();
            out.extend_from_slice(&contents);
            let (size, ty) = seal_block(&mut out, 6, Some(&mut z), &mut Vec::new());
            assert_eq!(out.len(), 6 + size + TRAILER_BYTES);
            assert_eq!(ty == BlockType::None, c == Compression::None);
            let raw = Bytes::from(out[6..].to_vec());
            assert_eq!(
                unpack_block(raw.clone(), 2).unwrap(),
                contents_of(&contents)
            );
            let info = describe_block(&raw, 2).unwrap();
            assert_eq!((info.compression, info.raw_bytes), (ty, 600));
            for i in 0..raw.len() {
                let mut bad = raw.to_vec();
                bad[i] ^= 0x08;
                assert!(unpack_block(Bytes::from(bad), 2).is_err(), "{c} byte {i}");
            }
        }
        // Format 1: contents and a bare CRC.
        let mut v1 = contents.clone();
        v1.extend_from_slice(&crc32fast::hash(&contents).to_le_bytes());
        assert_eq!(
            unpack_block(Bytes::from(v1), 1).unwrap(),
            contents_of(&contents)
        );
    }

    fn contents_of(v: &[u8]) -> Bytes {
        Bytes::copy_from_slice(v)
    }
}
