//! The binary form of an item in an LSM value: compact, quick to decode, and checked — a
//! corrupt value decodes to an error, never a panic.
//!
//! ```text
//! item   := 01 count:varint { name_len:varint name value }*
//! value  := 01 len:varint utf8            S
//!         | 02 number                     N  (the key encoding of keys.rs: self-delimiting)
//!         | 03 len:varint bytes           B
//!         | 04 (00|01)                    BOOL
//!         | 05                            NULL
//!         | 06 count:varint { name_len:varint name value }*    M
//!         | 07 count:varint value*        L
//!         | 08 count:varint { len:varint utf8 }*               SS
//!         | 09 count:varint number*       NS
//!         | 0A count:varint { len:varint bytes }*              BS
//! ```
//! Varints are LEB128. Nesting deeper than [`MAX_DEPTH`] is refused (DynamoDB allows 32).
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::collections::BTreeMap;

use super::keys;
use super::number::Number;
use super::value::{AttributeValue, Item, ValueType};

/// Format version byte of an encoded item.
const VERSION: u8 = 1;
/// Deepest nesting the decoder accepts (guards the stack against corrupt input).
pub const MAX_DEPTH: usize = 64;

/// Encode an item.
pub fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + super::value::item_size(item));
    out.push(VERSION);
    put_varint(&mut out, item.len() as u64);
    for (k, v) in item {
        put_str(&mut out, k);
        encode_value(&mut out, v);
    }
    out
}

/// Why a stored item does not decode (the table layer names the key it was stored under).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptItem {
    /// The first byte is not a format version this code writes.
    #[error("unknown item format version {0}")]
    Version(u8),
    /// The item ends before the input does.
    #[error("{0} trailing bytes after the item")]
    Trailing(usize),
    /// The input ends inside the item.
    #[error("truncated at byte {0}")]
    Truncated(usize),
    /// A varint longer than 64 bits.
    #[error("varint too long at byte {0}")]
    VarintTooLong(usize),
    /// A count larger than the bytes left could hold.
    #[error("count {count} exceeds the remaining input at byte {at}")]
    CountPastEnd {
        /// The count read.
        count: u64,
        /// Where.
        at: usize,
    },
    /// A length that runs past the end of the input.
    #[error("length {len} runs past the end at byte {at}")]
    LengthPastEnd {
        /// The length read.
        len: u64,
        /// Where.
        at: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 at byte {0}")]
    Utf8(usize),
    /// A number that does not decode.
    #[error("invalid number at byte {0}")]
    Number(usize),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A value tag this format does not have.
    #[error("unknown value tag {tag:#04x} at byte {at}")]
    Tag {
        /// The tag byte.
        tag: u8,
        /// Where.
        at: usize,
    },
}

/// Decode an item; the error says what is wrong.
pub fn decode_item(input: &[u8]) -> Result<Item, CorruptItem> {
    let mut r = Reader { buf: input, pos: 0 };
    let version = r.byte()?;
    if version != VERSION {
        return Err(CorruptItem::Version(version));
    }
    let item = r.map(0)?;
    if r.pos != input.len() {
        return Err(CorruptItem::Trailing(input.len() - r.pos));
    }
    Ok(item)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v & 0x7f) as u8 | 0x80);
        v >>= 7;
    }
    out.push((v & 0x7f) as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn encode_value(out: &mut Vec<u8>, v: &AttributeValue) {
    match v {
        AttributeValue::S(s) => {
            out.push(0x01);
            put_str(out, s);
        }
        AttributeValue::N(n) => {
            out.push(0x02);
            keys::encode_value(out, &AttributeValue::N(*n));
        }
        AttributeValue::B(b) => {
            out.push(0x03);
            put_bytes(out, b);
        }
        AttributeValue::Bool(b) => {
            out.push(0x04);
            out.push(u8::from(*b));
        }
        AttributeValue::Null => out.push(0x05),
        AttributeValue::M(m) => {
            out.push(0x06);
            put_varint(out, m.len() as u64);
            for (k, v) in m {
                put_str(out, k);
                encode_value(out, v);
            }
        }
        AttributeValue::L(l) => {
            out.push(0x07);
            put_varint(out, l.len() as u64);
            for v in l {
                encode_value(out, v);
            }
        }
        AttributeValue::Ss(s) => {
            out.push(0x08);
            put_varint(out, s.len() as u64);
            for x in s {
                put_str(out, x);
            }
        }
        AttributeValue::Ns(s) => {
            out.push(0x09);
            put_varint(out, s.len() as u64);
            for x in s {
                keys::encode_value(out, &AttributeValue::N(*x));
            }
        }
        AttributeValue::Bs(s) => {
            out.push(0x0A);
            put_varint(out, s.len() as u64);
            for x in s {
                put_bytes(out, x);
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CorruptItem> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(CorruptItem::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CorruptItem> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CorruptItem::VarintTooLong(self.pos))
    }

    /// A count of things each at least one byte long (bounds allocations by the input).
    fn count(&mut self) -> Result<usize, CorruptItem> {
        let n = self.varint()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return Err(CorruptItem::CountPastEnd {
                count: n,
                at: self.pos,
            });
        }
        Ok(crate::cast::usize_of(n))
    }

    fn bytes(&mut self) -> Result<&'a [u8], CorruptItem> {
        let n = self.varint()?;
        let end = crate::cast::usize_of(
            (self.pos as u64)
                .checked_add(n)
                .filter(|&e| e <= self.buf.len() as u64)
                .ok_or(CorruptItem::LengthPastEnd {
                    len: n,
                    at: self.pos,
                })?,
        );
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn string(&mut self) -> Result<String, CorruptItem> {
        let at = self.pos;
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| CorruptItem::Utf8(at))
    }

    fn number(&mut self) -> Result<Number, CorruptItem> {
        let at = self.pos;
        match keys::decode_value(ValueType::N, &self.buf[self.pos..]) {
            Some((AttributeValue::N(n), rest)) => {
                self.pos = self.buf.len() - rest.len();
                Ok(n)
            }
            _ => Err(CorruptItem::Number(at)),
        }
    }

    fn map(&mut self, depth: usize) -> Result<BTreeMap<String, AttributeValue>, CorruptItem> {
        let n = self.count()?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value(depth + 1)?;
            m.insert(k, v);
        }
        Ok(m)
    }

    fn value(&mut self, depth: usize) -> Result<AttributeValue, CorruptItem> {
        if depth > MAX_DEPTH {
            return Err(CorruptItem::TooDeep);
        }
        let at = self.pos;
        Ok(match self.byte()? {
            0x01 => AttributeValue::S(self.string()?),
            0x02 => AttributeValue::N(self.number()?),
            0x03 => AttributeValue::B(self.bytes()?.to_vec()),
            0x04 => AttributeValue::Bool(self.byte()? != 0),
            0x05 => AttributeValue::Null,
            0x06 => AttributeValue::M(self.map(depth)?),
            0x07 => {
                let n = self.count()?;
                let mut l = Vec::with_capacity(n);
                for _ in 0..n {
                    l.push(self.value(depth + 1)?);
                }
                AttributeValue::L(l)
            }
            0x08 => {
                let n = self.count()?;
                AttributeValue::Ss((0..n).map(|_| self.string()).collect::<Result<_, _>>()?)
            }
            0x09 => {
                let n = self.count()?;
                AttributeValue::Ns((0..n).map(|_| self.number()).collect::<Result<_, _>>()?)
            }
            0x0A => {
                let n = self.count()?;
                AttributeValue::Bs(
                    (0..n)
                        .map(|_| self.bytes().map(<[u8]>::to_vec))
                        .collect::<Result<_, _>>()?,
                )
            }
            tag => return Err(CorruptItem::Tag { tag, at }),
        })
    }
}

/// A table's statistics: items and their total size (DynamoDB's `ItemCount` and
/// `TableSizeBytes`), kept exact in the same write batch as each change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Items in the table.
    pub item_count: u64,
    /// Sum of the items' sizes.
    pub size_bytes: u64,
}

impl TableStats {
    /// 16 bytes: count then size, big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.item_count.to_be_bytes().to_vec();
        v.extend_from_slice(&self.size_bytes.to_be_bytes());
        v
    }

    /// Decode; `None` if the value is not 16 bytes.
    pub fn decode(b: &[u8]) -> Option<TableStats> {
        if b.len() != 16 {
            return None;
        }
        Some(TableStats {
            item_count: u64::from_be_bytes(b[..8].try_into().ok()?),
            size_bytes: u64::from_be_bytes(b[8..].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            "\\PC{0,6}".prop_map(AttributeValue::S),
            any::<i64>().prop_map(AttributeValue::n),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            prop::collection::vec("[a-c]{1,3}", 1..4).prop_map(AttributeValue::ss),
            prop::collection::vec(any::<i32>(), 1..4).prop_map(|v| AttributeValue::ns(
                v.into_iter().map(|x| Number::from_i64(x.into())).collect()
            )),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 1..3), 1..3)
                .prop_map(AttributeValue::bs),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                prop::collection::btree_map("[a-d]{1,2}", inner, 0..4).prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn items_round_trip(item in prop::collection::btree_map("\\PC{1,4}", arb_value(), 0..6)) {
            let enc = encode_item(&item);
            prop_assert_eq!(decode_item(&enc).unwrap(), item);
        }

        #[test]
        fn corrupt_input_is_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_item(&bytes);
        }

        #[test]
        fn truncations_are_errors(item in prop::collection::btree_map("[a-z]{1,4}", arb_value(), 1..4), cut in 0usize..1000) {
            let enc = encode_item(&item);
            let cut = cut % enc.len();
            prop_assert!(decode_item(&enc[..cut]).is_err());
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut v = AttributeValue::Null;
        for _ in 0..(MAX_DEPTH + 2) {
            v = AttributeValue::L(vec![v]);
        }
        let mut item = Item::new();
        item.insert("a".into(), v);
        let e = decode_item(&encode_item(&item)).unwrap_err();
        assert_eq!(e, CorruptItem::TooDeep);
        assert_eq!(e.to_string(), format!("nesting deeper than {MAX_DEPTH}"));
        let s = TableStats {
            item_count: 3,
            size_bytes: 99,
        };
        assert_eq!(TableStats::decode(&s.encode()), Some(s));
    }
}
