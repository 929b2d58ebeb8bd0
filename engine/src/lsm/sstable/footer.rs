//! The footer (last [`FOOTER_BYTES`] of every table) and the properties block.
//!
//! ```text
//! footer := index_offset: u64 | index_size: u32 | filter_offset: u64 | filter_size: u32
//!         | props_offset: u64 | props_size: u32 | format_version: u32
//!         | crc32(previous 40 bytes): u32 | magic: u64        (all little endian, 52 bytes)
//! ```
//! Format 2 (written now) adds a type byte to every block's trailer and three properties;
//! format 1 tables are still read.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::lsm::coding::{put_bytes, put_varint, Reader};

use super::compression::BlockType;
use super::framing::TRAILER_BYTES_V1;
use super::index::BlockHandle;

/// Size of the footer in bytes.
pub const FOOTER_BYTES: usize = 52;
/// Magic number at the very end of every table ("SEEDSST1" read as little-endian bytes).
pub const TABLE_MAGIC: u64 = u64::from_le_bytes(*b"SEEDSST1");
// Three block handles (offset u64, size u32), the format version, the CRC and the magic.
const _: () = assert!(FOOTER_BYTES == 3 * (8 + 4) + 4 + 4 + 8);

/// The format version this code writes.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this code reads.
pub const FORMAT_VERSION_MIN: u32 = 1;

/// The decoded footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footer {
    /// The index block.
    pub index: BlockHandle,
    /// The bloom filter block.
    pub filter: BlockHandle,
    /// The properties block.
    pub properties: BlockHandle,
    /// Format version of the table.
    pub format_version: u32,
}

impl Footer {
    /// Encode to exactly [`FOOTER_BYTES`].
    pub fn encode(&self) -> [u8; FOOTER_BYTES] {
        let mut b = Vec::with_capacity(FOOTER_BYTES);
        for h in [self.index, self.filter, self.properties] {
            b.extend_from_slice(&h.offset.to_le_bytes());
            let size = u32::try_from(h.size)
                .expect("the builder refuses meta blocks of 4 GiB or more (TableBuilder::finish)");
            b.extend_from_slice(&size.to_le_bytes());
        }
        b.extend_from_slice(&self.format_version.to_le_bytes());
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        debug_assert_eq!(b.len(), FOOTER_BYTES);
        b.try_into().expect("footer size")
    }

    /// Decode and verify (magic, checksum, version).
    pub fn decode(b: &[u8]) -> Result<Self, FooterError> {
        if b.len() != FOOTER_BYTES {
            return Err(FooterError::Size(b.len()));
        }
        let mut r = Reader::new(b);
        let mut handles = [BlockHandle::default(); 3];
        for h in &mut handles {
            let offset = r.u64().ok_or(FooterError::Truncated)?;
            let size = r.u32().ok_or(FooterError::Truncated)?;
            *h = BlockHandle {
                offset,
                size: u64::from(size),
            };
        }
        let format_version = r.u32().ok_or(FooterError::Truncated)?;
        let crc = r.u32().ok_or(FooterError::Truncated)?;
        let magic = r.u64().ok_or(FooterError::Truncated)?;
        if magic != TABLE_MAGIC {
            return Err(FooterError::Magic(magic));
        }
        let actual = crc32fast::hash(&b[..40]);
        if crc != actual {
            return Err(FooterError::Checksum {
                stored: crc,
                computed: actual,
            });
        }
        if !(FORMAT_VERSION_MIN..=FORMAT_VERSION).contains(&format_version) {
            return Err(FooterError::Version(format_version));
        }
        Ok(Footer {
            index: handles[0],
            filter: handles[1],
            properties: handles[2],
            format_version,
        })
    }
}

/// Why a table's footer cannot be read (the reader wraps it in
/// [`crate::lsm::LsmError::Corruption`] with the file and offset).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FooterError {
    /// Not [`FOOTER_BYTES`] long.
    #[error("footer is {0} bytes, expected {FOOTER_BYTES}")]
    Size(usize),
    /// The bytes end inside a field.
    #[error("truncated")]
    Truncated,
    /// Not an SSTable of this project.
    #[error("bad magic {0:#018x}: not a seedbed SSTable")]
    Magic(u64),
    /// The CRC does not match the bytes.
    #[error("footer checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The CRC in the footer.
        stored: u32,
        /// The CRC of the bytes read.
        computed: u32,
    },
    /// A format this build does not read.
    #[error("format version {0} is not supported (this build reads {FORMAT_VERSION_MIN}..={FORMAT_VERSION})")]
    Version(u32),
}

/// Facts about a table, stored in its properties block and shown by `seedbed inspect sst`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableProperties {
    /// Entries (puts and tombstones).
    pub entries: u64,
    /// Tombstones.
    pub tombstones: u64,
    /// Data blocks.
    pub data_blocks: u64,
    /// Bytes of data blocks including trailers.
    pub data_bytes: u64,
    /// Bytes of the index block.
    pub index_bytes: u64,
    /// Bytes of the filter block.
    pub filter_bytes: u64,
    /// Sum of user key lengths.
    pub raw_key_bytes: u64,
    /// Sum of value lengths.
    pub raw_value_bytes: u64,
    /// Smallest sequence number in the table.
    pub seq_min: u64,
    /// Largest sequence number.
    pub seq_max: u64,
    /// Bloom filter bits per key.
    pub bloom_bits_per_key: u32,
    /// Smallest internal key.
    pub smallest_key: Vec<u8>,
    /// Largest internal key.
    pub largest_key: Vec<u8>,
    /// Bytes of data block contents before compression, without trailers (format 2; for
    /// format 1, `data_bytes` less the trailers). `data_raw_bytes / data_bytes` is the ratio.
    pub data_raw_bytes: u64,
    /// Data blocks stored compressed (the others did not shrink by an eighth).
    pub compressed_data_blocks: u64,
    /// The compression setting the table was written with.
    pub compression: BlockType,
}

impl TableProperties {
    /// Encode in the current format (fixed field order, varints, two length-prefixed keys,
    /// then format 2's three varints).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(128 + self.smallest_key.len() + self.largest_key.len());
        for v in [
            self.entries,
            self.tombstones,
            self.data_blocks,
            self.data_bytes,
            self.index_bytes,
            self.filter_bytes,
            self.raw_key_bytes,
            self.raw_value_bytes,
            self.seq_min,
            self.seq_max,
            u64::from(self.bloom_bits_per_key),
        ] {
            crate::lsm::coding::put_varint(&mut b, v);
        }
        put_bytes(&mut b, &self.smallest_key);
        put_bytes(&mut b, &self.largest_key);
        put_varint(&mut b, self.data_raw_bytes);
        put_varint(&mut b, self.compressed_data_blocks);
        put_varint(&mut b, self.compression as u64);
        b
    }

    /// Decode the properties of a table of `format_version`; `None` if malformed.
    pub fn decode(b: &[u8], format_version: u32) -> Option<Self> {
        let mut r = Reader::new(b);
        let mut p = TableProperties {
            entries: r.varint()?,
            tombstones: r.varint()?,
            data_blocks: r.varint()?,
            data_bytes: r.varint()?,
            index_bytes: r.varint()?,
            filter_bytes: r.varint()?,
            raw_key_bytes: r.varint()?,
            raw_value_bytes: r.varint()?,
            seq_min: r.varint()?,
            seq_max: r.varint()?,
            bloom_bits_per_key: u32::try_from(r.varint()?).ok()?,
            smallest_key: r.bytes()?.to_vec(),
            largest_key: r.bytes()?.to_vec(),
            ..TableProperties::default()
        };
        if format_version >= 2 {
            p.data_raw_bytes = r.varint()?;
            p.compressed_data_blocks = r.varint()?;
            p.compression = BlockType::from_u8(u8::try_from(r.varint()?).ok()?)?;
        } else {
            p.data_raw_bytes = p
                .data_bytes
                .checked_sub(p.data_blocks * TRAILER_BYTES_V1 as u64)?;
        }
        if r.remaining() != 0 {
            return None;
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footer_round_trip_and_damage() {
        let f = Footer {
            index: BlockHandle {
                offset: 10,
                size: 20,
            },
            filter: BlockHandle {
                offset: 34,
                size: 5,
            },
            properties: BlockHandle {
                offset: 43,
                size: 60,
            },
            format_version: FORMAT_VERSION,
        };
        let b = f.encode();
        assert_eq!(Footer::decode(&b), Ok(f));
        for i in 0..b.len() {
            let mut bad = b;
            bad[i] ^= 0x10;
            assert!(Footer::decode(&bad).is_err(), "byte {i}");
        }
    }
}
