//! The shard file: one per (object data, shard index), byte for byte.
//!
//! ```text
//! offset                       size            what
//! 0                            4096            header (64 bytes used, zero-padded)
//! 4096 + s * shard_len_max     shard_len(s)    shard block of stripe s, s = 0..stripes
//! 4096 + shard_data_len        trailer_len     trailer: the checksum table and a footer
//! ```
//!
//! Header (little-endian):
//! `magic "SBSHARD1" | version u32 | shard index u32 | K u32 | M u32 | shard_len_max u64 |
//! object size u64 | data id [16] | description slot u32 | crc32 of bytes 0..60 u32`.
//!
//! Format version 2 adds the **description** ([`Description`]): the record of the version (or
//! multipart part) the blob belongs to — bucket, key, version id, sequence number, size, ETag,
//! SHA-256, user metadata, owner — so that `repair` can rebuild the metadata from the shards
//! when every metadata copy is lost. It is written once the metadata commit has fixed the
//! version id and sequence number (before the PUT is acknowledged), after the trailer: in a
//! shard file at the next 4096-byte boundary (any length), in a pack record in the
//! `description slot` bytes the record reserved right after its trailer. Version 1 headers
//! (that field was reserved, 0) still read: their blobs just have no description.
//!
//! A small blob's shard is not a file of its own but a *record* in a pack file (`blob/pack.rs`):
//! the same parts — header, one shard block, trailer — starting at a 4096-aligned offset of the
//! pack, with the header unpadded (64 bytes, so the block follows at record offset 64).
//!
//! Trailer: for each stripe, `K + M` CRC32s (one per shard block of that stripe, over its full
//! zero-padded length), then `data id [16] | shard index u32 | stripes u64 | crc32 of everything
//! before it in the trailer u32 | magic "SBTRAIL1"`.
//!
//! Every shard file carries the CRCs of *all* shards of every stripe, not just its own: a block
//! rebuilt from parity is checked against the CRC another file remembers, so a reconstruction is
//! never trusted blindly. The header sits in its own 4096-byte block so that shard blocks stay
//! aligned for direct I/O.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::cast::usize_of;
use crc32fast::Hasher;

/// Bytes reserved for the header at the start of each shard file.
pub const HEADER_LEN: u64 = 4096;
const HEADER_USED: usize = 64;
/// The header's own bytes, without the padding to [`HEADER_LEN`]: what a pack record's header
/// takes (records are buffered, so their blocks need no alignment).
pub const HEADER_BYTES: u64 = HEADER_USED as u64;
const HEADER_MAGIC: &[u8; 8] = b"SBSHARD1";
const TRAILER_MAGIC: &[u8; 8] = b"SBTRAIL1";
const FORMAT_VERSION: u32 = 2;
/// Blobs written before descriptions existed.
const FORMAT_VERSION_1: u32 = 1;
const DESC_MAGIC: &[u8; 8] = b"SBDESC01";
/// Bytes a description section adds to its JSON: magic, length, CRC.
pub const DESC_OVERHEAD: usize = 8 + 4 + 4;
/// Bytes after the checksum table: data id, shard index, stripes, crc, magic.
const TRAILER_FOOTER_LEN: usize = 16 + 4 + 8 + 4 + 8;

// The header fits its block, and the block keeps shard data aligned for direct I/O; the
// trailer's footer is data id, shard index, stripe count, CRC and magic.
const _: () = assert!(HEADER_USED as u64 <= HEADER_LEN);
const _: () = assert!(HEADER_LEN.is_multiple_of(crate::io::DIRECT_IO_ALIGN as u64));
const _: () = assert!(TRAILER_FOOTER_LEN == 16 + 4 + 8 + 4 + TRAILER_MAGIC.len());
const _: () = assert!(DESC_OVERHEAD == DESC_MAGIC.len() + 4 + 4);

/// What a shard file's header records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardHeader {
    /// Which shard of each stripe this file holds (0..K are data, K..K+M parity).
    pub shard_index: u32,
    /// Data shards per stripe.
    pub k: u32,
    /// Parity shards per stripe.
    pub m: u32,
    /// Full shard length.
    pub shard_len_max: u64,
    /// Size of the object data the file belongs to.
    pub object_size: u64,
    /// The object data's id (a UUID; one per PUT or multipart part).
    pub data_id: [u8; 16],
    /// Bytes reserved for the description after the trailer of a pack record (0 in a shard
    /// file, whose description follows the trailer at the next 4096-byte boundary).
    pub desc_slot: u32,
    /// The format version read (1: no description; 2: this one).
    pub version: u32,
}

impl ShardHeader {
    /// The 4096-byte header block.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(usize_of(HEADER_LEN));
        b.extend_from_slice(HEADER_MAGIC);
        b.extend_from_slice(&self.version.to_le_bytes());
        b.extend_from_slice(&self.shard_index.to_le_bytes());
        b.extend_from_slice(&self.k.to_le_bytes());
        b.extend_from_slice(&self.m.to_le_bytes());
        b.extend_from_slice(&self.shard_len_max.to_le_bytes());
        b.extend_from_slice(&self.object_size.to_le_bytes());
        b.extend_from_slice(&self.data_id);
        b.extend_from_slice(&self.desc_slot.to_le_bytes());
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        debug_assert_eq!(b.len(), HEADER_USED);
        b.resize(usize_of(HEADER_LEN), 0);
        b
    }

    /// Parse and check a header block; the error says what is wrong.
    pub fn decode(b: &[u8]) -> Result<Self, ShardFormatError> {
        if b.len() < HEADER_USED {
            return Err(ShardFormatError::HeaderSize(b.len()));
        }
        if &b[0..8] != HEADER_MAGIC {
            return Err(ShardFormatError::HeaderMagic);
        }
        let crc = u32_at(b, 60);
        if crc32fast::hash(&b[..60]) != crc {
            return Err(ShardFormatError::HeaderChecksum);
        }
        let version = u32_at(b, 8);
        if version != FORMAT_VERSION && version != FORMAT_VERSION_1 {
            return Err(ShardFormatError::Version(version));
        }
        let mut data_id = [0u8; 16];
        data_id.copy_from_slice(&b[40..56]);
        Ok(ShardHeader {
            shard_index: u32_at(b, 12),
            k: u32_at(b, 16),
            m: u32_at(b, 20),
            shard_len_max: u64_at(b, 24),
            object_size: u64_at(b, 32),
            data_id,
            desc_slot: if version == FORMAT_VERSION_1 {
                0
            } else {
                u32_at(b, 56)
            },
            version,
        })
    }
}

/// Why a shard file's header, description section or trailer cannot be used: the bytes are
/// not what this code wrote for this blob and shard.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardFormatError {
    /// The header block is short.
    #[error("header is {0} bytes, expected {HEADER_USED}")]
    HeaderSize(usize),
    /// Not a shard file.
    #[error("bad header magic (not a Seedbed shard file)")]
    HeaderMagic,
    /// The header's CRC does not match.
    #[error("header checksum mismatch")]
    HeaderChecksum,
    /// A format this build does not read.
    #[error("shard format version {0} is not supported")]
    Version(u32),
    /// No description section where one belongs.
    #[error("no description (never written, or torn)")]
    NoDescription,
    /// The section is shorter than its length field says.
    #[error("description is {got} bytes, its length says {len}")]
    DescriptionSize {
        /// Bytes there.
        got: usize,
        /// Bytes the length field promises.
        len: usize,
    },
    /// The description's CRC does not match.
    #[error("description checksum mismatch")]
    DescriptionChecksum,
    /// The trailer has another length than the object's size implies.
    #[error("trailer is {got} bytes, expected {want}")]
    TrailerSize {
        /// Bytes there.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// The trailer's magic is wrong.
    #[error("bad trailer magic (file truncated or overwritten)")]
    TrailerMagic,
    /// The trailer's CRC does not match.
    #[error("trailer checksum mismatch")]
    TrailerChecksum,
    /// The trailer belongs to another object's data.
    #[error("trailer names another object's data (misplaced file)")]
    Misplaced,
    /// The trailer belongs to another shard of the object.
    #[error("trailer says shard {found}, file is shard {expected}")]
    ShardIndex {
        /// The shard the trailer names.
        found: u32,
        /// The shard the file is.
        expected: u32,
    },
    /// The trailer's stripe count disagrees with the object's size.
    #[error("trailer stripe count does not match the object size")]
    StripeCount,
}

/// The current format version, for new headers.
pub const CURRENT_VERSION: u32 = FORMAT_VERSION;

/// A blob's description section: `magic "SBDESC01" | len u32 | JSON [len] | crc32 of the
/// preceding bytes u32`. The JSON is whatever the store above puts in (see
/// `object/describe.rs`); this layer only frames and checks it.
pub struct Description;

impl Description {
    /// The section holding `json`.
    pub fn encode(json: &[u8]) -> Vec<u8> {
        let mut b = Vec::with_capacity(json.len() + DESC_OVERHEAD);
        b.extend_from_slice(DESC_MAGIC);
        b.extend_from_slice(
            &u32::try_from(json.len())
                .expect("a description is a few KiB of JSON")
                .to_le_bytes(),
        );
        b.extend_from_slice(json);
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// The length of the section starting with these (at least 12) bytes, if they begin one.
    pub fn section_len(head: &[u8]) -> Option<usize> {
        if head.len() < 12 || &head[..8] != DESC_MAGIC {
            return None;
        }
        Some(u32_at(head, 8) as usize + DESC_OVERHEAD)
    }

    /// The JSON of a whole section; the error says what is wrong.
    pub fn decode(b: &[u8]) -> Result<&[u8], ShardFormatError> {
        let len = Self::section_len(b).ok_or(ShardFormatError::NoDescription)?;
        if b.len() < len {
            return Err(ShardFormatError::DescriptionSize { got: b.len(), len });
        }
        let body = len - 4;
        if crc32fast::hash(&b[..body]) != u32_at(b, body) {
            return Err(ShardFormatError::DescriptionChecksum);
        }
        Ok(&b[12..body])
    }
}

/// The checksum table: the CRC32 of every shard block of every stripe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumTable {
    /// Shards per stripe (K + M).
    pub width: usize,
    /// `crcs[stripe * width + shard]`.
    pub crcs: Vec<u32>,
}

impl ChecksumTable {
    /// An empty table for `stripes` stripes of `width` shards.
    pub fn new(width: usize, stripes: u64) -> Self {
        ChecksumTable {
            width,
            crcs: vec![0; width * usize_of(stripes)],
        }
    }

    /// The CRC of `shard` in `stripe`.
    pub fn get(&self, stripe: u64, shard: usize) -> u32 {
        self.crcs[usize_of(stripe) * self.width + shard]
    }

    /// Record the CRC of `shard` in `stripe`.
    pub fn set(&mut self, stripe: u64, shard: usize, crc: u32) {
        self.crcs[usize_of(stripe) * self.width + shard] = crc;
    }

    /// Number of stripes.
    pub fn stripes(&self) -> u64 {
        (self.crcs.len() / self.width) as u64
    }

    /// Trailer length for `stripes` stripes of `width` shards.
    pub fn trailer_len(width: usize, stripes: u64) -> u64 {
        4 * width as u64 * stripes + TRAILER_FOOTER_LEN as u64
    }

    /// The trailer bytes as written to the shard file of `shard_index`.
    pub fn encode_trailer(&self, data_id: &[u8; 16], shard_index: u32) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.crcs.len() * 4 + TRAILER_FOOTER_LEN);
        for crc in &self.crcs {
            b.extend_from_slice(&crc.to_le_bytes());
        }
        b.extend_from_slice(data_id);
        b.extend_from_slice(&shard_index.to_le_bytes());
        b.extend_from_slice(&self.stripes().to_le_bytes());
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b.extend_from_slice(TRAILER_MAGIC);
        b
    }

    /// Parse a trailer and check it belongs to `data_id` / `shard_index`.
    pub fn decode_trailer(
        b: &[u8],
        width: usize,
        stripes: u64,
        data_id: &[u8; 16],
        shard_index: u32,
    ) -> Result<Self, ShardFormatError> {
        let want = usize_of(Self::trailer_len(width, stripes));
        if b.len() != want {
            return Err(ShardFormatError::TrailerSize { got: b.len(), want });
        }
        if &b[want - 8..] != TRAILER_MAGIC {
            return Err(ShardFormatError::TrailerMagic);
        }
        let body = want - 12;
        if crc32fast::hash(&b[..body]) != u32_at(b, body) {
            return Err(ShardFormatError::TrailerChecksum);
        }
        let table_len = 4 * width * usize_of(stripes);
        if &b[table_len..table_len + 16] != data_id {
            return Err(ShardFormatError::Misplaced);
        }
        let idx = u32_at(b, table_len + 16);
        if idx != shard_index {
            return Err(ShardFormatError::ShardIndex {
                found: idx,
                expected: shard_index,
            });
        }
        if u64_at(b, table_len + 20) != stripes {
            return Err(ShardFormatError::StripeCount);
        }
        let crcs = (0..width * usize_of(stripes))
            .map(|i| u32_at(b, i * 4))
            .collect();
        Ok(ChecksumTable { width, crcs })
    }
}

/// CRC32 (Castagnoli would be faster in hardware on some CPUs; crc32fast's IEEE CRC uses
/// PCLMULQDQ and runs at memory speed here, and is what S3 reports as `CRC32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut h = Hasher::new();
    h.update(data);
    h.finalize()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_corruption() {
        let h = ShardHeader {
            shard_index: 5,
            k: 4,
            m: 2,
            shard_len_max: 1 << 20,
            object_size: 123_456_789,
            data_id: [7; 16],
            desc_slot: 2048,
            version: CURRENT_VERSION,
        };
        let mut b = h.encode();
        assert_eq!(b.len(), usize_of(HEADER_LEN));
        assert_eq!(ShardHeader::decode(&b).unwrap(), h);
        b[33] ^= 1;
        assert_eq!(
            ShardHeader::decode(&b),
            Err(ShardFormatError::HeaderChecksum)
        );
        assert!(ShardHeader::decode(&b)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
        assert!(ShardHeader::decode(&[0u8; 64])
            .unwrap_err()
            .to_string()
            .contains("magic"));
    }

    #[test]
    fn version_1_headers_still_read() {
        let mut h = ShardHeader {
            shard_index: 1,
            k: 2,
            m: 1,
            shard_len_max: 4096,
            object_size: 10,
            data_id: [3; 16],
            desc_slot: 0,
            version: 1,
        };
        assert_eq!(ShardHeader::decode(&h.encode()).unwrap(), h);
        h.version = 3;
        assert!(ShardHeader::decode(&h.encode())
            .unwrap_err()
            .to_string()
            .contains("version 3"));
    }

    #[test]
    fn description_round_trip_and_corruption() {
        let json = br#"{"bucket":"b"}"#;
        let mut b = Description::encode(json);
        assert_eq!(Description::section_len(&b), Some(b.len()));
        b.extend_from_slice(&[0; 7]); // a slot longer than the section
        assert_eq!(Description::decode(&b).unwrap(), json);
        b[14] ^= 1;
        assert!(Description::decode(&b)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
        assert!(Description::decode(&[0; 64])
            .unwrap_err()
            .to_string()
            .contains("no description"));
    }

    #[test]
    fn trailer_round_trip_and_checks() {
        let mut t = ChecksumTable::new(6, 3);
        for s in 0..3 {
            for i in 0..6 {
                t.set(s, i, u32::try_from(s * 10 + i as u64).unwrap());
            }
        }
        let b = t.encode_trailer(&[1; 16], 2);
        assert_eq!(b.len() as u64, ChecksumTable::trailer_len(6, 3));
        assert_eq!(
            ChecksumTable::decode_trailer(&b, 6, 3, &[1; 16], 2).unwrap(),
            t
        );
        assert!(ChecksumTable::decode_trailer(&b, 6, 3, &[2; 16], 2)
            .unwrap_err()
            .to_string()
            .contains("another object"));
        assert_eq!(
            ChecksumTable::decode_trailer(&b, 6, 3, &[1; 16], 3),
            Err(ShardFormatError::ShardIndex {
                found: 2,
                expected: 3
            })
        );
        assert!(ChecksumTable::decode_trailer(&b, 6, 3, &[1; 16], 3)
            .unwrap_err()
            .to_string()
            .contains("shard 2"));
        let mut bad = b.clone();
        bad[5] ^= 0x40;
        assert!(ChecksumTable::decode_trailer(&bad, 6, 3, &[1; 16], 2)
            .unwrap_err()
            .to_string()
            .contains("checksum"));
    }
}
