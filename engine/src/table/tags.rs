//! Table tags: TagResource, UntagResource and ListTagsOfResource, and the checks CreateTable's
//! `Tags` share with them.
//!
//! A tag is a key and a value kept in the table's catalog entry — cost allocation and
//! inventory at AWS, and what infrastructure tools (Terraform, CloudFormation, CDK) read back
//! after every create. The rules are DynamoDB's documented ones ("Tagging restrictions"): at
//! most 50 per table; keys of 1 to 128 and values of 0 to 256 Unicode characters of letters,
//! digits, spaces and `_ . : / = + - @`; keys case-sensitive; the `aws:` prefix reserved for
//! AWS; tagging a key again replaces its value.

use super::error::{DynamoError, ErrorKind, Result};
use super::store::Tables;

/// Tags per table.
pub const MAX_TAGS: usize = 50;
/// Characters in a key.
const MAX_KEY_CHARS: usize = 128;
/// Characters in a value.
const MAX_VALUE_CHARS: usize = 256;

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Check one tag.
fn check_tag(key: &str, value: &str) -> Result<()> {
    let bad = |why: String| {
        Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: {why}"
        )))
    };
    let n = key.chars().count();
    if n == 0 || n > MAX_KEY_CHARS {
        return bad(format!(
            "tag key '{key}' must be 1 to {MAX_KEY_CHARS} characters long"
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return bad(format!(
            "the value of tag '{key}' must be at most {MAX_VALUE_CHARS} characters long"
        ));
    }
    if let Some(c) = key.chars().chain(value.chars()).find(|c| !allowed(*c)) {
        return bad(format!(
            "tag '{key}' has the character {c:?}: tags may hold letters, digits, spaces and _ . : / = + - @"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return bad(format!(
            "tag key '{key}' uses the prefix aws:, which is reserved for AWS"
        ));
    }
    Ok(())
}

/// Check `tags` (CreateTable's, or TagResource's merged into a table's): each tag, and the
/// count.
pub fn check_tags(tags: &[(String, String)]) -> Result<()> {
    for (k, v) in tags {
        check_tag(k, v)?;
    }
    if tags.len() > MAX_TAGS {
        // A ValidationException, in CreateTable and TagResource alike (ScyllaDB's Alternator
        // test_tag_resource_incorrect and test_too_long_tags_from_creation, run against
        // DynamoDB).
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: a table has at most {MAX_TAGS} tags; this would make {}",
            tags.len()
        )));
    }
    Ok(())
}

/// `tags` with `new` laid over them: a key tagged again keeps its place and takes the new value.
pub fn merge(tags: &[(String, String)], new: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = tags.to_vec();
    for (k, v) in new {
        match out.iter_mut().find(|(ok, _)| ok == k) {
            Some(t) => t.1 = v.clone(),
            None => out.push((k.clone(), v.clone())),
        }
    }
    out
}

impl Tables {
    /// The table a tagging call's `ResourceArn` names: an ARN of this store's tables (a bare
    /// table name is refused, as DynamoDB refuses it).
    fn tagged_table(&self, arn: &str) -> Result<std::sync::Arc<super::store::TableState>> {
        if !arn.starts_with("arn:") {
            // What DynamoDB says now (it answered AccessDeniedException once), as ScyllaDB's
            // Alternator test_tag_resource_incorrect records; the words around it are ours.
            return Err(DynamoError::validation(format!(
                "Invalid ResourceArn provided as input {arn}: ARNs must start with 'arn:'"
            )));
        }
        if super::schema::arn_table_name(arn).is_none() {
            return Err(DynamoError::validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            )));
        }
        self.table(arn).map_err(|_| {
            DynamoError::new(
                ErrorKind::ResourceNotFound,
                format!("Requested resource not found: ResourceArn: {arn} not found"),
            )
        })
    }

    /// TagResource.
    pub fn tag_resource(&self, arn: &str, tags: &[(String, String)]) -> Result<()> {
        if tags.is_empty() {
            return Err(DynamoError::validation(
                "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let _w = self.lock_writes();
        let t = self.tagged_table(arn)?;
        let merged = merge(&t.def.tags, tags);
        check_tags(&merged)?;
        let mut def = t.def.clone();
        def.tags = merged;
        self.replace_definition(def, t.stats())
    }

    /// UntagResource: keys not on the table are no error.
    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<()> {
        let _w = self.lock_writes();
        let t = self.tagged_table(arn)?;
        let mut def = t.def.clone();
        def.tags.retain(|(k, _)| !keys.contains(k));
        if def.tags != t.def.tags {
            self.replace_definition(def, t.stats())?;
        }
        Ok(())
    }

    /// ListTagsOfResource: every tag, in the order they were first set (one page: a table has
    /// at most 50).
    pub fn list_tags_of_resource(&self, arn: &str) -> Result<Vec<(String, String)>> {
        Ok(self.tagged_table(arn)?.def.tags.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn tags_follow_dynamodbs_restrictions() {
        check_tags(&[t("team", "storage"), t("cost-center", "a/b=c+d@e.f:g_h")]).unwrap();
        check_tags(&[t("empty-value", "")]).unwrap();
        for (tags, says) in [
            (vec![t("", "x")], "1 to 128"),
            (vec![t(&"k".repeat(129), "x")], "1 to 128"),
            (vec![t("k", &"v".repeat(257))], "at most 256"),
            (vec![t("k!", "x")], "'!'"),
            (vec![t("AWS:owner", "x")], "reserved"),
        ] {
            let e = check_tags(&tags).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation);
            assert!(e.message.contains(says), "{}", e.message);
        }
        let many: Vec<_> = (0..51).map(|i| t(&format!("k{i}"), "v")).collect();
        assert_eq!(check_tags(&many).unwrap_err().kind, ErrorKind::Validation);
    }

    #[test]
    fn tagging_a_key_again_replaces_its_value_in_place() {
        let m = merge(&[t("a", "1"), t("b", "2")], &[t("b", "3"), t("c", "4")]);
        assert_eq!(m, [t("a", "1"), t("b", "3"), t("c", "4")]);
    }
}
