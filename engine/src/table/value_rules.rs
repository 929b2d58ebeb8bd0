//! What DynamoDB accepts as a stored value and item: no empty sets, at most 32 levels of
//! nesting, at most 400 KB per item — with DynamoDB's messages.

use super::error::{DynamoError, Result, ValidationError};
use super::value::{item_size, AttributeValue, Item, MAX_ITEM_BYTES};

/// Deepest nesting of maps and lists DynamoDB stores.
pub const MAX_NESTING: usize = 32;

/// Longest attribute name DynamoDB takes, in bytes: 65535, not the 64 KB its guide says
/// (ScyllaDB's Alternator test_limit_attribute_length_nonkey_*, run against DynamoDB).
pub const MAX_NAME_BYTES: usize = 65535;

/// An empty string set (two spaces, as DynamoDB words it).
pub const EMPTY_SS: &str =
    "One or more parameter values were invalid: An string set  may not be empty";
/// An empty number set.
pub const EMPTY_NS: &str =
    "One or more parameter values were invalid: An number set  may not be empty";
/// An empty binary set: not "An binary set  may not be empty", as the other two would
/// suggest (dynalite's tests, checked against DynamoDB).
pub const EMPTY_BS: &str =
    "One or more parameter values were invalid: Binary sets should not be empty";

/// A value nested deeper than [`MAX_NESTING`].
const TOO_DEEP: &str =
    "One or more parameter values were invalid: Nesting Levels have exceeded supported limits";

fn check_depth(v: &AttributeValue, depth: usize) -> std::result::Result<(), ValidationError> {
    if depth > MAX_NESTING {
        return Err(ValidationError::new(TOO_DEEP));
    }
    match v {
        AttributeValue::M(m) => m.values().try_for_each(|x| check_depth(x, depth + 1)),
        AttributeValue::L(l) => l.iter().try_for_each(|x| check_depth(x, depth + 1)),
        AttributeValue::Ss(s) if s.is_empty() => Err(ValidationError::new(EMPTY_SS)),
        AttributeValue::Ns(s) if s.is_empty() => Err(ValidationError::new(EMPTY_NS)),
        AttributeValue::Bs(s) if s.is_empty() => Err(ValidationError::new(EMPTY_BS)),
        _ => Ok(()),
    }
}

/// Check one value (message without the parameter context).
pub fn check_value(v: &AttributeValue) -> std::result::Result<(), ValidationError> {
    check_depth(v, 0)
}

/// Check an item to be stored: every value, and the 400 KB limit.
pub fn check_item(item: &Item) -> Result<()> {
    if let Some(n) = item.keys().find(|n| n.len() > MAX_NAME_BYTES) {
        // Our words; DynamoDB's name the limit (ScyllaDB's Alternator
        // test_limit_attribute_length_nonkey_bad checks only for the number).
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: an attribute name is {} bytes long; the limit is {}",
            n.len(),
            MAX_NAME_BYTES
        )));
    }
    for v in item.values() {
        check_value(v).map_err(|e| {
            // For an item DynamoDB says which part is too deep (its words, as captured from
            // the service by others: "Attributes in the item have nested levels beyond
            // supported limit"; ScyllaDB's Alternator test_exceed_nested_level_a_little).
            if e.0 == TOO_DEEP {
                ValidationError::new(format!(
                    "{}: Attributes in the item have nested levels beyond supported limit",
                    e.0
                ))
            } else {
                e
            }
        })?;
    }
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::Ss(vec![]));
        assert_eq!(
            check_item(&item).unwrap_err().message,
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        item.insert("s".into(), AttributeValue::Bs(vec![]));
        assert_eq!(
            check_item(&item).unwrap_err().message,
            "One or more parameter values were invalid: Binary sets should not be empty"
        );
        let mut v = AttributeValue::Null;
        for _ in 0..=MAX_NESTING {
            v = AttributeValue::L(vec![v]);
        }
        assert!(check_value(&v).unwrap_err().0.contains("Nesting Levels"));
        let mut deep = Item::new();
        deep.insert("d".into(), v.clone());
        assert!(check_item(&deep)
            .unwrap_err()
            .message
            .ends_with("Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"));
        let mut big = Item::new();
        big.insert("b".into(), AttributeValue::B(vec![0; MAX_ITEM_BYTES]));
        assert_eq!(
            check_item(&big).unwrap_err().message,
            "Item size has exceeded the maximum allowed size"
        );
    }
}
