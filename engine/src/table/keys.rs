//! How items map to LSM keys: one key per item, ordered so that a partition is a contiguous
//! range sorted by sort key.
//!
//! ```text
//! key := table_len: u8 | table | partition_len: u16 BE | partition | sort_key
//! ```
//! Length prefixes keep one table's or partition's keys from running into another's
//! (`"ab" + "c"` vs `"a" + "bc"`); the sort key comes last, raw, so bytewise order is sort-key
//! order.

/// The key prefix shared by every item of one partition.
pub fn partition_prefix(table: &str, partition: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + table.len() + partition.len());
    k.push(table.len() as u8);
    k.extend_from_slice(table.as_bytes());
    k.extend_from_slice(&(partition.len() as u16).to_be_bytes());
    k.extend_from_slice(partition.as_bytes());
    k
}

/// The key of one item.
pub fn item_key(table: &str, partition: &str, sort: &str) -> Vec<u8> {
    let mut k = partition_prefix(table, partition);
    k.extend_from_slice(sort.as_bytes());
    k
}

/// The sort key part of an item key in `table`/`partition`, if the key belongs there.
pub fn sort_part<'a>(key: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    key.strip_prefix(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_do_not_mix() {
        assert_ne!(partition_prefix("t", "ab"), partition_prefix("t", "a"));
        let a = item_key("t", "a", "bc");
        assert!(!a.starts_with(&partition_prefix("t", "ab")));
        assert!(item_key("t", "p", "1") < item_key("t", "p", "2"));
        assert_eq!(
            sort_part(&item_key("t", "p", "xyz"), &partition_prefix("t", "p")),
            Some(&b"xyz"[..])
        );
    }
}
