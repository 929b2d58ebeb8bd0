//! Conditional requests (RFC 9110 §13, as S3 applies them): If-Match, If-None-Match,
//! If-Modified-Since and If-Unmodified-Since on GET and HEAD, and their `x-amz-copy-source-if-*`
//! twins on the source of a COPY.
//!
//! | header | fails when | GET/HEAD answer | COPY answer |
//! |---|---|---|---|
//! | If-Match: E | the ETag is not E (`*` matches any) | 412 | 412 |
//! | If-Unmodified-Since: T | modified after T (ignored with If-Match) | 412 | 412 |
//! | If-None-Match: E | the ETag is E (`*` matches any) | 304 | 412 |
//! | If-Modified-Since: T | not modified after T (ignored with If-None-Match) | 304 | 412 |
//!
//! Times compare in whole seconds, the precision of an HTTP date.

use super::error::ObjectError;

/// The conditions of one request; `None` fields are absent headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// If-Match: ETags (quoted or not), or `*`.
    pub if_match: Option<String>,
    /// If-None-Match: ETags, or `*`.
    pub if_none_match: Option<String>,
    /// If-Modified-Since, Unix seconds.
    pub if_modified_since_s: Option<i64>,
    /// If-Unmodified-Since, Unix seconds.
    pub if_unmodified_since_s: Option<i64>,
}

/// Whether an If-Match / If-None-Match list names `etag`.
fn etag_listed(list: &str, etag: &str) -> bool {
    let want = etag.trim().trim_matches('"');
    list.split(',').any(|e| {
        let e = e.trim();
        e == "*" || e.trim_start_matches("W/").trim_matches('"') == want
    })
}

impl Conditions {
    /// True when no condition is set.
    pub fn is_empty(&self) -> bool {
        *self == Conditions::default()
    }

    /// Evaluate against a version with `etag` last modified at `last_modified_ms`. `copy`
    /// turns the 304 outcomes into 412, as S3 answers for a COPY's source.
    pub fn check(&self, etag: &str, last_modified_ms: u64, copy: bool) -> Result<(), ObjectError> {
        let modified_s = (last_modified_ms / 1000) as i64;
        // The header as S3's `<Condition>` element names it.
        let header = |name: &str| {
            if copy {
                format!("x-amz-copy-source-If-{name}")
            } else {
                format!("If-{name}")
            }
        };
        let failed = |name: &str, why: String| ObjectError::PreconditionFailed {
            condition: header(name),
            why,
        };
        if let Some(m) = &self.if_match {
            if !etag_listed(m, etag) {
                return Err(failed("Match", format!("{m}, but the ETag is {etag}")));
            }
        } else if let Some(t) = self.if_unmodified_since_s {
            if modified_s > t {
                return Err(failed(
                    "Unmodified-Since",
                    format!("the object was modified at {modified_s}, after {t} (Unix seconds)"),
                ));
            }
        }
        // A GET's or HEAD's 304 is a COPY source's 412.
        let not_modified = |name: &str, why: String| {
            Err(if copy {
                failed(name, why)
            } else {
                ObjectError::NotModified(format!("{}: {why}", header(name)))
            })
        };
        if let Some(m) = &self.if_none_match {
            if etag_listed(m, etag) {
                return not_modified("None-Match", format!("{m} matches the ETag {etag}"));
            }
        } else if let Some(t) = self.if_modified_since_s {
            if modified_s <= t {
                return not_modified(
                    "Modified-Since",
                    format!(
                        "the object was last modified at {modified_s}, not after {t} (Unix seconds)"
                    ),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9110_precedence() {
        let etag = "\"abc\"";
        let at = 1_000_000; // ms → second 1000
        let c = |m: Option<&str>, n: Option<&str>, ims: Option<i64>, ius: Option<i64>| Conditions {
            if_match: m.map(String::from),
            if_none_match: n.map(String::from),
            if_modified_since_s: ims,
            if_unmodified_since_s: ius,
        };
        let code = |c: Conditions, copy| c.check(etag, at, copy).err().map(|e| e.code());
        assert_eq!(code(c(Some("abc"), None, None, None), false), None);
        assert_eq!(
            code(c(Some("\"zzz\""), None, None, None), false),
            Some("PreconditionFailed")
        );
        assert_eq!(code(c(Some("*"), None, None, None), false), None);
        // If-Match true wins over a failing If-Unmodified-Since.
        assert_eq!(code(c(Some("abc"), None, None, Some(10)), false), None);
        assert_eq!(
            code(c(None, None, None, Some(10)), false),
            Some("PreconditionFailed")
        );
        assert_eq!(code(c(None, None, None, Some(1000)), false), None);
        assert_eq!(
            code(c(None, Some("abc"), None, None), false),
            Some("NotModified")
        );
        assert_eq!(
            code(c(None, Some("abc"), None, None), true),
            Some("PreconditionFailed")
        );
        assert_eq!(code(c(None, Some("other"), None, None), false), None);
        // If-None-Match false (no match) beats an If-Modified-Since that would say 304.
        assert_eq!(code(c(None, Some("other"), Some(5000), None), false), None);
        assert_eq!(
            code(c(None, None, Some(5000), None), false),
            Some("NotModified")
        );
        assert_eq!(code(c(None, None, Some(999), None), false), None);
    }
}
