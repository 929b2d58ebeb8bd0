//! S3's naming rules for buckets and keys.

use super::error::ObjectError;

/// Longest object key, in bytes of UTF-8.
pub const KEY_LEN_MAX: usize = 1024;

/// Check a bucket name against S3's rules for general purpose buckets; the error names the rule.
pub fn validate_bucket(name: &str) -> Result<(), ObjectError> {
    let bad = |why: &str| {
        Err(ObjectError::InvalidBucketName {
            name: name.to_string(),
            why: why.to_string(),
        })
    };
    let len = name.len();
    if !(3..=63).contains(&len) {
        return bad("bucket names are 3 to 63 characters long");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return bad(&format!(
            "'{c}' is not allowed: use lowercase letters, digits, dots and hyphens"
        ));
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[len - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return bad("bucket names begin and end with a letter or a digit");
    }
    if name.contains("..") {
        return bad("bucket names must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("bucket names must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return bad(&format!("bucket names must not start with '{prefix}'"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return bad(&format!("bucket names must not end with '{suffix}'"));
        }
    }
    Ok(())
}

/// Check an object key: 1 to 1024 bytes (a `&str` is UTF-8 already).
pub fn validate_key(key: &str) -> Result<(), ObjectError> {
    if key.is_empty() || key.len() > KEY_LEN_MAX {
        return Err(ObjectError::InvalidKey(key.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        for ok in ["abc", "my-bucket.logs", "a1b2c3", "123", &"a".repeat(63)] {
            assert!(validate_bucket(ok).is_ok(), "{ok}");
        }
        for (bad, rule) in [
            ("ab", "3 to 63"),
            (&*"a".repeat(64), "3 to 63"),
            ("My-Bucket", "'M'"),
            ("my_bucket", "'_'"),
            ("-abc", "begin and end"),
            ("abc.", "begin and end"),
            ("a..b", "adjacent"),
            ("192.168.5.4", "IP address"),
            ("xn--abc", "xn--"),
            ("sthree-x", "sthree-"),
            ("foo-s3alias", "-s3alias"),
            ("foo--ol-s3", "--ol-s3"),
        ] {
            let err = validate_bucket(bad).unwrap_err().to_string();
            assert!(err.contains(rule), "{bad}: {err}");
        }
    }

    #[test]
    fn key_rules() {
        assert!(validate_key("a").is_ok());
        assert!(validate_key("photos/2026/ünïcode ✓.jpg").is_ok());
        assert!(validate_key(&"k".repeat(1024)).is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key(&"k".repeat(1025)).is_err());
    }
}
