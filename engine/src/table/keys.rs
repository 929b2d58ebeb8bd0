//! How tables, items and index entries map to LSM keys, and the order-preserving encodings of
//! key values that make an LSM range scan a DynamoDB Query.
//!
//! ```text
//! catalog      := 00 'T' table_name                      → table description (JSON)
//! stats        := 00 'S' table_id:u64be                  → item count, bytes (codec.rs)
//! purge        := 00 'P' table_id:u64be                  → "" (table dropped, keys to delete)
//! next id      := 00 'N'                                 → u64be
//! txn token    := 00 'X' token                           → digest and time (transact.rs)
//! transfer     := 00 'J' kind arn                        → an import ('I') or export ('E')
//!                                                          as DescribeImport/Export shows it
//! item         := 01 table_id:u64be 00  hash:u32be enc(pk) [enc(sk)]
//! index entry  := 01 table_id:u64be idx hash:u32be enc(ipk)… enc(isk)… [thash:u32be] enc(pk) [enc(sk)]
//! ttl entry    := 01 table_id:u64be FF expiry:u64be enc(pk) [enc(sk)]
//! stream rec.  := 01 table_id:u64be FE stream:u32be seq:u64be   → a change (streams.rs)
//! stream seq   := 00 'Q' table_id:u64be                 → u64be, the last sequence number
//! ```
//! A table's data lives under its numeric id, never its name, so a table dropped and created
//! again under the same name cannot see the old items while they are being purged.
//!
//! `hash` spreads partitions over the key space, so Scan's `Segment`/`TotalSegments` become
//! disjoint contiguous hash ranges. How it is computed is the table's [`Placement`]: for every
//! table created since 2026-12-06, DynamoDB's own — the first four bytes of
//! MD5(`"Outliers"` ‖ the partition key's bytes) — so a Scan returns items in the order
//! DynamoDB returns them and a parallel scan's segments hold the same items (dynalite's tests,
//! run against DynamoDB, pin both); tables created before keep CRC-32 of `enc(pk)`. The bytes
//! hashed are a string's UTF-8, a binary's bytes, and a number in DynamoDB's serialization
//! ([`dynamo_number_bytes`]). Under `Dynamo` placement an index entry also carries `thash`,
//! the same hash of the item's table key (partition then sort key bytes), after `isk…`:
//! entries with equal index keys sort by it, as DynamoDB orders them.
//!
//! A global index may have up to four partition-key and four sort-key attributes (DynamoDB's
//! multi-attribute keys, November 2025): `ipk…` and `isk…` are then the encodings of each, in
//! the key schema's order, and `hash` is the placement's hash of the partition attributes one
//! after another. The encodings are self-delimiting, so the concatenation sorts by the first sort
//! attribute, then the second, and so on — and a Query's equalities on a left prefix of them
//! are a key prefix. With one attribute each, the bytes are exactly the single-attribute ones.
//! Within a partition, entries sort by the sort key's encoding, which orders values as
//! DynamoDB does:
//!
//! * `S` and `B` — the bytes, with `00` escaped as `00 FF`, ended by `00 00`: bytewise order,
//!   and no encoding is a prefix of another, so a composite key splits unambiguously and
//!   `begins_with` is the range of keys starting with the escaped prefix.
//! * `N` — sign byte (`01` negative, `02` zero, `03` positive), then the exponent of the
//!   `0.d₁d₂…` form biased into one byte, then the digits as nibbles `d+1` ended by nibble `0`;
//!   for negatives the exponent byte and the nibbles are mirrored (`10-d`, end `11`) so larger
//!   magnitudes sort first. `-10 < -2 < 0 < 3 < 10`, numerically, for every pair.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::number::Number;
use super::value::{AttributeValue, ValueType};

/// How a table turns key values into the four `hash` bytes that place a partition in the key
/// space (and in a Scan segment). Recorded in the table's description: a description written
/// before the field existed is `Crc32`, so the items of an older store stay where they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// CRC-32 of the values' key encodings (tables created before 2026-12-06).
    #[default]
    Crc32,
    /// DynamoDB's: the first four bytes of MD5(`"Outliers"` ‖ the values' bytes), which
    /// orders a Scan as DynamoDB orders it; index entries also carry the table key's hash.
    Dynamo,
}

/// First byte of catalog and bookkeeping keys.
pub const META: u8 = 0x00;
/// First byte of item, index and TTL keys.
pub const DATA: u8 = 0x01;
/// Index number of the table itself.
pub const TABLE_INDEX: u8 = 0;
/// Index number of the TTL queue.
pub const TTL_INDEX: u8 = 0xFF;
/// Index number of the table's stream records; secondary indexes are numbered below it.
pub const STREAM_INDEX: u8 = 0xFE;

/// Key of one stream record: stream `stream` of the table, sequence number `seq` (big-endian,
/// so a stream's records are in sequence order).
pub fn stream_key(table_id: u64, stream: u32, seq: u64) -> Vec<u8> {
    let mut k = stream_prefix(table_id, stream);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Prefix of every record of stream `stream` of a table.
pub fn stream_prefix(table_id: u64, stream: u32) -> Vec<u8> {
    let mut k = index_prefix(table_id, STREAM_INDEX);
    k.extend_from_slice(&stream.to_be_bytes());
    k
}

/// Key of a table's last stream sequence number (written in every batch that adds a record).
pub fn stream_seq_key(table_id: u64) -> Vec<u8> {
    let mut k = vec![META, b'Q'];
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Catalog key of a table.
pub fn catalog_key(name: &str) -> Vec<u8> {
    let mut k = vec![META, b'T'];
    k.extend_from_slice(name.as_bytes());
    k
}

/// Range of all catalog keys.
pub fn catalog_range() -> (Vec<u8>, Vec<u8>) {
    (vec![META, b'T'], vec![META, b'T' + 1])
}

/// Key of a table's statistics.
pub fn stats_key(table_id: u64) -> Vec<u8> {
    let mut k = vec![META, b'S'];
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Key marking a dropped table whose keys still need purging.
pub fn purge_key(table_id: u64) -> Vec<u8> {
    let mut k = vec![META, b'P'];
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Key of an import (`kind` `b'I'`) or export (`b'E'`) record, by its ARN.
pub fn transfer_key(kind: u8, arn: &str) -> Vec<u8> {
    let mut k = vec![META, b'J', kind];
    k.extend_from_slice(arn.as_bytes());
    k
}

/// Range of every import (`b'I'`) or export (`b'E'`) record.
pub fn transfer_range(kind: u8) -> (Vec<u8>, Vec<u8>) {
    (vec![META, b'J', kind], vec![META, b'J', kind + 1])
}

/// Range of all purge markers.
pub fn purge_range() -> (Vec<u8>, Vec<u8>) {
    (vec![META, b'P'], vec![META, b'P' + 1])
}

/// Key of the next table id.
pub fn next_id_key() -> Vec<u8> {
    vec![META, b'N']
}

/// Key of a transaction's idempotency record.
pub fn txn_token_key(token: &str) -> Vec<u8> {
    let mut k = vec![META, b'X'];
    k.extend_from_slice(token.as_bytes());
    k
}

/// Prefix of everything stored for one table (items, index entries, TTL queue).
pub fn table_data_prefix(table_id: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.push(DATA);
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

/// Prefix of one index (or the table, `TABLE_INDEX`, or the TTL queue).
pub fn index_prefix(table_id: u64, index: u8) -> Vec<u8> {
    let mut k = table_data_prefix(table_id);
    k.push(index);
    k
}

/// Append the order-preserving, self-delimiting encoding of a key value (`S`, `N` or `B`).
/// Other types are refused by schema validation before they get here; they encode as nothing.
pub fn encode_value(out: &mut Vec<u8>, v: &AttributeValue) {
    match v {
        AttributeValue::S(s) => encode_bytes(out, s.as_bytes()),
        AttributeValue::B(b) => encode_bytes(out, b),
        AttributeValue::N(n) => encode_number(out, n),
        _ => debug_assert!(false, "not a key type: {:?}", v.value_type()),
    }
}

/// Append the escaped bytes without the terminator: every encoding of a value starting with
/// `prefix` starts with this (the `begins_with` range).
pub fn encode_bytes_prefix(out: &mut Vec<u8>, prefix: &[u8]) {
    for &b in prefix {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

fn encode_bytes(out: &mut Vec<u8>, b: &[u8]) {
    encode_bytes_prefix(out, b);
    out.extend_from_slice(&[0, 0]);
}

fn encode_number(out: &mut Vec<u8>, n: &Number) {
    if n.is_zero() {
        out.push(0x02);
        return;
    }
    let neg = n.is_negative();
    let biased = u8::try_from(n.exponent() + 129).expect("exponent lies in -129..=126");
    out.push(if neg { 0x01 } else { 0x03 });
    out.push(if neg { 255 - biased } else { biased });
    let nib = |d: u8| if neg { 10 - d } else { d + 1 };
    let end = if neg { 11 } else { 0 };
    let mut nibbles: Vec<u8> = n.digits().iter().map(|&d| nib(d)).collect();
    nibbles.push(end);
    for pair in nibbles.chunks(2) {
        out.push((pair[0] << 4) | pair.get(1).copied().unwrap_or(0));
    }
}

/// Decode one key value of type `t` from the front of `input`; returns it and the rest.
pub fn decode_value(t: ValueType, input: &[u8]) -> Option<(AttributeValue, &[u8])> {
    match t {
        ValueType::S => {
            let (b, rest) = decode_bytes(input)?;
            Some((AttributeValue::S(String::from_utf8(b).ok()?), rest))
        }
        ValueType::B => {
            let (b, rest) = decode_bytes(input)?;
            Some((AttributeValue::B(b), rest))
        }
        ValueType::N => {
            let (n, rest) = decode_number(input)?;
            Some((AttributeValue::N(n), rest))
        }
        _ => None,
    }
}

fn decode_bytes(input: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let b = *input.get(i)?;
        if b == 0 {
            match *input.get(i + 1)? {
                0 => return Some((out, &input[i + 2..])),
                0xFF => out.push(0),
                _ => return None,
            }
            i += 2;
        } else {
            out.push(b);
            i += 1;
        }
    }
}

fn decode_number(input: &[u8]) -> Option<(Number, &[u8])> {
    let tag = *input.first()?;
    if tag == 0x02 {
        return Some((Number::ZERO, &input[1..]));
    }
    let neg = match tag {
        0x01 => true,
        0x03 => false,
        _ => return None,
    };
    let e = *input.get(1)?;
    let biased = if neg { 255 - e } else { e };
    let exp = i32::from(biased) - 129;
    let end = if neg { 11 } else { 0 };
    let mut digits = Vec::new();
    let mut i = 2;
    loop {
        let byte = *input.get(i)?;
        i += 1;
        let mut done = false;
        for nib in [byte >> 4, byte & 0x0F] {
            if nib == end {
                done = true;
                break;
            }
            let d = if neg {
                10u8.checked_sub(nib)?
            } else {
                nib.checked_sub(1)?
            };
            if d > 9 {
                return None;
            }
            digits.push(d);
        }
        if done {
            break;
        }
    }
    let n = Number::from_parts(neg, &digits, exp).ok()?;
    Some((n, &input[i..]))
}

/// The 32-bit hash that places a partition in the key space (and in a Scan segment).
pub fn partition_hash(placement: Placement, pk: &AttributeValue) -> u32 {
    partition_hash_of(placement, &[pk])
}

/// [`partition_hash`] of a partition key of one or more attributes.
pub fn partition_hash_of(placement: Placement, pk: &[&AttributeValue]) -> u32 {
    match placement {
        Placement::Crc32 => {
            let mut enc = Vec::with_capacity(32);
            for v in pk {
                encode_value(&mut enc, v);
            }
            crc32fast::hash(&enc)
        }
        Placement::Dynamo => dynamo_hash(pk),
    }
}

/// DynamoDB's hash of key values: MD5 of `"Outliers"` and each value's bytes (a string's UTF-8,
/// a binary's bytes, a number's [`dynamo_number_bytes`]), its first four bytes big-endian.
/// The salt and the number format are what reproduce, for every key in dynalite's tests (run
/// against DynamoDB), the order DynamoDB's Scan returns and the segment each key falls in.
pub fn dynamo_hash(values: &[&AttributeValue]) -> u32 {
    let mut h = Md5::new();
    h.update(b"Outliers");
    let mut num = [0u8; DYNAMO_NUMBER_MAX];
    for v in values {
        match v {
            AttributeValue::S(s) => h.update(s.as_bytes()),
            AttributeValue::B(b) => h.update(b),
            AttributeValue::N(n) => {
                let len = dynamo_number_bytes(n, &mut num);
                h.update(&num[..len]);
            }
            _ => debug_assert!(false, "not a key type: {:?}", v.value_type()),
        }
    }
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The longest [`dynamo_number_bytes`]: an exponent byte and 20 base-100 digits (38 digits
/// and a leading zero), or 19 of them and a negative number's terminator.
pub const DYNAMO_NUMBER_MAX: usize = 21;

/// Writes DynamoDB's serialization of a number into `out` and returns its length — the
/// base-100 format of Oracle's NUMBER: zero is `80`; otherwise an exponent byte (the
/// base-100 exponent of the `0.dd dd… × 100^e` form, minus 64, as a byte; bitwise inverted for
/// a negative number), then each pair of decimal digits `v` as `v + 1` (negative: `101 - v`),
/// the digits padded with a leading zero when the decimal exponent is odd, and a negative
/// number of fewer than 20 digit bytes ended by `66` (102). So `1` is `C1 02`, `-1` is
/// `3E 64 66`, `100` is `C2 02`.
pub fn dynamo_number_bytes(n: &Number, out: &mut [u8; DYNAMO_NUMBER_MAX]) -> usize {
    if n.is_zero() {
        out[0] = 0x80;
        return 1;
    }
    let neg = n.is_negative();
    let ds = n.digits();
    // The number is 0.d₁d₂… × 10^exp; with an odd exp a leading zero digit makes it even, so
    // the digits pair up as base-100 digits of 0.(0d₁)(d₂d₃)… × 100^((exp+1)/2).
    let pad = usize::from(n.exponent().rem_euclid(2) == 1);
    let e100 = (n.exponent() + i32::from(pad == 1)) / 2;
    let biased = u8::try_from((e100 - 64).rem_euclid(256)).expect("rem_euclid(256) is 0..=255");
    out[0] = if neg { !biased } else { biased };
    let digit = |i: usize| -> u8 {
        if i < pad {
            0
        } else {
            ds.get(i - pad).copied().unwrap_or(0)
        }
    };
    let pairs = (ds.len() + pad).div_ceil(2);
    for p in 0..pairs {
        let v = digit(2 * p) * 10 + digit(2 * p + 1);
        out[1 + p] = if neg { 101 - v } else { v + 1 };
    }
    let mut len = 1 + pairs;
    if neg && pairs < 20 {
        out[len] = 102;
        len += 1;
    }
    len
}

/// Prefix shared by every entry of one partition of an index (or of the table).
pub fn partition_prefix(
    table_id: u64,
    placement: Placement,
    index: u8,
    pk: &AttributeValue,
) -> Vec<u8> {
    partition_prefix_of(table_id, placement, index, &[pk])
}

/// [`partition_prefix`] of a partition key of one or more attributes.
pub fn partition_prefix_of(
    table_id: u64,
    placement: Placement,
    index: u8,
    pk: &[&AttributeValue],
) -> Vec<u8> {
    let mut k = index_prefix(table_id, index);
    k.extend_from_slice(&partition_hash_of(placement, pk).to_be_bytes());
    for v in pk {
        encode_value(&mut k, v);
    }
    k
}

/// The LSM key of an item: `index_prefix hash enc(pk) [enc(sk)]`.
pub fn item_key(
    table_id: u64,
    placement: Placement,
    pk: &AttributeValue,
    sk: Option<&AttributeValue>,
) -> Vec<u8> {
    let mut k = partition_prefix(table_id, placement, TABLE_INDEX, pk);
    if let Some(s) = sk {
        encode_value(&mut k, s);
    }
    k
}

/// The LSM key of an index entry with index key (`ipk…`, `isk…`) for the item with table key
/// (`pk`, `sk`).
pub fn index_key(
    table_id: u64,
    placement: Placement,
    index: u8,
    ipk: &[&AttributeValue],
    isk: &[&AttributeValue],
    pk: &AttributeValue,
    sk: Option<&AttributeValue>,
) -> Vec<u8> {
    let mut k = partition_prefix_of(table_id, placement, index, ipk);
    for s in isk {
        encode_value(&mut k, s);
    }
    if placement == Placement::Dynamo {
        let thash = match sk {
            Some(s) => dynamo_hash(&[pk, s]),
            None => dynamo_hash(&[pk]),
        };
        k.extend_from_slice(&thash.to_be_bytes());
    }
    encode_value(&mut k, pk);
    if let Some(s) = sk {
        encode_value(&mut k, s);
    }
    k
}

/// The TTL queue key of an item expiring at `expiry_secs`.
pub fn ttl_key(
    table_id: u64,
    expiry_secs: u64,
    pk: &AttributeValue,
    sk: Option<&AttributeValue>,
) -> Vec<u8> {
    let mut k = index_prefix(table_id, TTL_INDEX);
    k.extend_from_slice(&expiry_secs.to_be_bytes());
    encode_value(&mut k, pk);
    if let Some(s) = sk {
        encode_value(&mut k, s);
    }
    k
}

/// The range of hash values Scan segment `segment` of `total` covers: `[lo, hi)` over the
/// 2³² hash space (`hi` = 2³² for the last).
pub fn segment_hash_range(segment: u32, total: u32) -> (u64, u64) {
    let span = 1u64 << 32;
    let lo = span * u64::from(segment) / u64::from(total);
    let hi = span * (u64::from(segment) + 1) / u64::from(total);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(&mut out, v);
        out
    }

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn numbers_sort_numerically() {
        let xs = [
            "-1e125", "-10", "-2", "-1.5", "-1.25", "-0.001", "0", "1e-130", "0.5", "3", "3.01",
            "10", "1e125",
        ];
        for w in xs.windows(2) {
            assert!(enc(&num(w[0])) < enc(&num(w[1])), "{} < {}", w[0], w[1]);
        }
        assert_eq!(
            enc(&num("1.50")),
            enc(&num("15e-1")),
            "equal numbers, equal keys"
        );
    }

    /// The bytes docs/dynamodb.md shows.
    #[test]
    fn documented_example_bytes() {
        assert_eq!(enc(&num("-10")), [0x01, 0x7C, 0x9B]);
        assert_eq!(enc(&num("-2")), [0x01, 0x7D, 0x8B]);
        assert_eq!(enc(&num("3")), [0x03, 0x82, 0x40]);
        assert_eq!(enc(&num("10")), [0x03, 0x83, 0x20]);
        assert_eq!(enc(&num("120.75")), [0x03, 0x84, 0x23, 0x18, 0x60]);
        assert_eq!(enc(&AttributeValue::s("ann")), b"ann\x00\x00");
    }

    #[test]
    fn strings_and_binaries_are_prefix_free() {
        let a = enc(&AttributeValue::s("ab"));
        let b = enc(&AttributeValue::s("ab\0"));
        let c = enc(&AttributeValue::s("abc"));
        assert!(a < b && b < c);
        assert!(!b.starts_with(&a) && !c.starts_with(&a));
        assert_eq!(
            decode_value(ValueType::S, &b).unwrap().0,
            AttributeValue::s("ab\0")
        );
    }

    #[test]
    fn partitions_do_not_mix() {
        for pl in [Placement::Crc32, Placement::Dynamo] {
            let p1 = partition_prefix(1, pl, 0, &AttributeValue::s("a"));
            let k = item_key(
                1,
                pl,
                &AttributeValue::s("ab"),
                Some(&AttributeValue::s("c")),
            );
            assert!(!k.starts_with(&p1));
            let other_table = item_key(2, pl, &AttributeValue::s("a"), None);
            assert!(!other_table.starts_with(&index_prefix(1, 0)));
        }
        assert_eq!(segment_hash_range(0, 1), (0, 1 << 32));
        assert_eq!(segment_hash_range(1, 2), (1 << 31, 1 << 32));
    }

    /// The layout of a table created before placements existed: CRC-32 of `enc(pk)`. Stores
    /// written then are read with these bytes, so they must never change.
    #[test]
    fn crc32_placement_keeps_the_old_layout() {
        let pk = AttributeValue::s("ann");
        let mut want = vec![DATA, 0, 0, 0, 0, 0, 0, 0, 7, TABLE_INDEX];
        want.extend_from_slice(&crc32fast::hash(b"ann\x00\x00").to_be_bytes());
        want.extend_from_slice(b"ann\x00\x00");
        want.extend_from_slice(&[0x03, 0x82, 0x40]);
        assert_eq!(item_key(7, Placement::Crc32, &pk, Some(&num("3"))), want);
        // No table-key hash in an index entry.
        let ix = index_key(7, Placement::Crc32, 1, &[&pk], &[], &num("3"), None);
        let mut want = index_prefix(7, 1);
        want.extend_from_slice(&crc32fast::hash(b"ann\x00\x00").to_be_bytes());
        want.extend_from_slice(b"ann\x00\x00");
        want.extend_from_slice(&[0x03, 0x82, 0x40]);
        assert_eq!(ix, want);
        // A description without the field is such a table.
        let p: Placement = Default::default();
        assert_eq!(p, Placement::Crc32);
    }

    /// Oracle's NUMBER bytes, which DynamoDB hashes: known values of that format.
    #[test]
    fn dynamo_number_bytes_are_oracles_number_format() {
        let bytes = |s: &str| {
            let mut out = [0u8; DYNAMO_NUMBER_MAX];
            let n = dynamo_number_bytes(&Number::parse(s).unwrap(), &mut out);
            out[..n].to_vec()
        };
        assert_eq!(bytes("0"), [0x80]);
        assert_eq!(bytes("1"), [0xC1, 0x02]);
        assert_eq!(bytes("-1"), [0x3E, 0x64, 0x66]);
        assert_eq!(bytes("100"), [0xC2, 0x02]);
        assert_eq!(bytes("123.45"), [0xC2, 0x02, 0x18, 0x2E]);
        assert_eq!(bytes("0.012345"), [0xC0, 0x02, 0x18, 0x2E]);
        assert_eq!(bytes("-123.45"), [0x3D, 0x64, 0x4E, 0x38, 0x66]);
        // 38 digits: 20 digit bytes (a leading zero pads the odd exponent), no terminator.
        let big = "-".to_owned() + &"9".repeat(38) + "0";
        assert_eq!(bytes(&big).len(), DYNAMO_NUMBER_MAX);
        assert_eq!(bytes(&big[1..]).len(), DYNAMO_NUMBER_MAX);
        assert_eq!(bytes("1e125")[0], 0xFF);
        assert_eq!(bytes("1e-130"), [0x80, 0x02]);
    }

    /// The order DynamoDB's Scan returns these partition keys in, and the segments of 4096
    /// they fall in: dynalite's scan tests ("should return items in string/number hash
    /// order", "… from correct … hash segments"), which its author checks against DynamoDB.
    #[test]
    fn dynamo_placement_orders_partitions_as_dynamodb_scans_them() {
        let order = |keys: &[AttributeValue]| {
            let mut ks: Vec<(u32, String)> = keys
                .iter()
                .map(|k| (partition_hash(Placement::Dynamo, k), format!("{k:?}")))
                .collect();
            ks.sort();
            ks.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
        };
        let s: Vec<AttributeValue> = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "aardman", "hello", "zapf", "äáöü",
        ]
        .iter()
        .map(|k| AttributeValue::s(*k))
        .collect();
        let want: Vec<String> = [
            "2", "8", "9", "1", "6", "hello", "0", "5", "4", "äáöü", "aardman", "7", "3", "zapf",
        ]
        .iter()
        .map(|k| format!("{:?}", AttributeValue::s(*k)))
        .collect();
        assert_eq!(order(&s), want);
        let n: Vec<AttributeValue> = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "999.9", "-999.9", "0.012345",
            "-0.09",
        ]
        .iter()
        .map(|k| num(k))
        .collect();
        let want: Vec<String> = [
            "7", "999.9", "8", "3", "2", "-999.9", "9", "4", "-0.09", "6", "1", "0", "0.012345",
            "5",
        ]
        .iter()
        .map(|k| format!("{:?}", num(k)))
        .collect();
        assert_eq!(order(&n), want);
        let segment_of = |k: &AttributeValue| partition_hash(Placement::Dynamo, k) >> 20;
        for (k, seg) in [("3635", 0), ("228", 0), ("1668", 1), ("3435", 4)] {
            assert_eq!(segment_of(&AttributeValue::s(k)), seg, "{k}");
        }
        assert_eq!(segment_of(&num("251")), 1);
        assert_eq!(segment_of(&num("2388")), 4095);
    }

    /// Index entries with equal index keys sort by the hash of the item's table key, as
    /// DynamoDB orders them (dynalite's "should query on basic hash global index", against
    /// DynamoDB: table key (a, b), every item with the same index key).
    #[test]
    fn dynamo_placement_orders_equal_index_keys_by_table_key_hash() {
        let s = AttributeValue::s;
        let c = s("x");
        let mut entries: Vec<(Vec<u8>, &str)> = [
            ("a", "a"),
            ("b", "b"),
            ("c", "e"),
            ("c", "d"),
            ("d", "a"),
            ("e", "a"),
        ]
        .iter()
        .map(|(a, b)| {
            let k = index_key(3, Placement::Dynamo, 1, &[&c], &[], &s(a), Some(&s(b)));
            (k, *a)
        })
        .collect();
        entries.sort();
        let got: Vec<&str> = entries.iter().map(|e| e.1).collect();
        // (b,b), (a,a), (c,e), (e,a) are DynamoDB's first four.
        assert_eq!(&got[..4], ["b", "a", "c", "e"]);
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        prop_oneof![
            Just(Number::ZERO),
            (
                any::<bool>(),
                prop::collection::vec(0u8..10, 1..=38),
                -129i32..=126
            )
                .prop_map(|(neg, mut ds, exp)| {
                    ds[0] = ds[0].max(1);
                    while ds.last() == Some(&0) {
                        ds.pop();
                    }
                    Number::from_parts(neg, &ds, exp).unwrap()
                }),
            any::<i64>().prop_map(Number::from_i64),
        ]
    }

    proptest! {
        #[test]
        fn number_encoding_preserves_order_and_round_trips(a in arb_number(), b in arb_number()) {
            let (ea, eb) = (enc(&AttributeValue::N(a)), enc(&AttributeValue::N(b)));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            let (back, rest) = decode_value(ValueType::N, &ea).unwrap();
            prop_assert_eq!(back, AttributeValue::N(a));
            prop_assert!(rest.is_empty());
            if a != b {
                prop_assert!(!ea.starts_with(&eb) && !eb.starts_with(&ea), "prefix-free");
            }
        }

        #[test]
        fn binary_encoding_preserves_order_and_round_trips(a in prop::collection::vec(any::<u8>(), 0..24), b in prop::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..24)) {
            let (ea, eb) = (enc(&AttributeValue::B(a.clone())), enc(&AttributeValue::B(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            prop_assert_eq!(decode_value(ValueType::B, &eb).unwrap().0, AttributeValue::B(b.clone()));
            // A composite key splits: enc(a) ++ enc(b) decodes back to a, then b.
            let mut both = ea.clone();
            both.extend_from_slice(&eb);
            let (x, rest) = decode_value(ValueType::B, &both).unwrap();
            let (y, rest) = decode_value(ValueType::B, rest).unwrap();
            prop_assert_eq!((x, y), (AttributeValue::B(a.clone()), AttributeValue::B(b.clone())));
            prop_assert!(rest.is_empty());
            // begins_with: every value starting with the prefix lies in the prefix range.
            let mut pre = Vec::new();
            encode_bytes_prefix(&mut pre, &a);
            let mut ab = a.clone();
            ab.extend_from_slice(&b);
            prop_assert!(enc(&AttributeValue::B(ab)).starts_with(&pre));
        }

        #[test]
        fn string_encoding_orders_by_utf8_bytes(a in "\\PC{0,8}", b in "\\PC{0,8}") {
            let (ea, eb) = (enc(&AttributeValue::s(a.clone())), enc(&AttributeValue::s(b.clone())));
            prop_assert_eq!(ea.cmp(&eb), a.as_bytes().cmp(b.as_bytes()));
        }

        /// A multi-attribute sort key (S, then N) sorts as the tuple does: by the first value,
        /// then the second — whatever the lengths — and equal first values share a prefix.
        #[test]
        fn composite_sort_keys_order_as_tuples(
            s1 in "[a-c\\x00]{0,3}", n1 in arb_number(), s2 in "[a-c\\x00]{0,3}", n2 in arb_number()
        ) {
            let key = |s: &str, n: &Number| {
                let mut k = enc(&AttributeValue::s(s));
                k.extend(enc(&AttributeValue::N(*n)));
                k
            };
            let (k1, k2) = (key(&s1, &n1), key(&s2, &n2));
            let tuple = s1.as_bytes().cmp(s2.as_bytes()).then(n1.cmp(&n2));
            prop_assert_eq!(k1.cmp(&k2), tuple);
            prop_assert_eq!(k1.starts_with(&enc(&AttributeValue::s(s2.clone()))), s1 == s2);
        }
    }
}
