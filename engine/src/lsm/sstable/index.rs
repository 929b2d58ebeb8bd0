//! Block handles and the index block. The index is an ordinary [`super::block`] block (restart
//! interval 1) whose keys are the last internal key of each data block and whose values are
//! [`BlockHandle`]s; a seek in it finds the only data block that can hold a key.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use crate::lsm::coding::{get_varint, put_varint};

/// Where a block lives in its file: offset and size of the contents (the 4-byte CRC trailer
/// follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BlockHandle {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Size of the block's contents without its trailer.
    pub size: u64,
}

impl BlockHandle {
    /// Encode as two varints (the index block's value format).
    pub fn encode_to(&self, dst: &mut Vec<u8>) {
        put_varint(dst, self.offset);
        put_varint(dst, self.size);
    }

    /// Decode from an index value; `None` if malformed.
    pub fn decode(src: &[u8]) -> Option<Self> {
        let (offset, a) = get_varint(src)?;
        let (size, b) = get_varint(&src[a..])?;
        if a + b != src.len() {
            return None;
        }
        Some(BlockHandle { offset, size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_round_trip() {
        let h = BlockHandle {
            offset: 123_456_789,
            size: 4096,
        };
        let mut b = Vec::new();
        h.encode_to(&mut b);
        assert_eq!(BlockHandle::decode(&b), Some(h));
        assert_eq!(BlockHandle::decode(&b[..b.len() - 1]), None);
    }
}
