//! A bucket's CORS configuration: which web origins may call it from a browser, with which
//! methods and headers (PutBucketCors, GetBucketCors, DeleteBucketCors), and the matching S3
//! does for a preflight (`OPTIONS`) or an actual request that carries `Origin`.
//!
//! The rules are tried in order; the first whose origins, method and (for a preflight) every
//! requested header match decides the response's `Access-Control-*` headers. An origin or a
//! header pattern may hold one `*`, which matches any run of characters (`https://*.example.com`,
//! `x-amz-*`); a lone `*` origin answers `Access-Control-Allow-Origin: *`.

use serde::{Deserialize, Serialize};

use super::error::ObjectError;
use super::store::ObjectStore;

/// Most rules in a configuration (S3's limit).
pub const MAX_CORS_RULES: usize = 100;

/// One CORS rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    /// `ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `AllowedOrigin`s (at least one).
    pub allowed_origins: Vec<String>,
    /// `AllowedMethod`s: GET, PUT, POST, DELETE, HEAD (at least one).
    pub allowed_methods: Vec<String>,
    /// `AllowedHeader`s a preflight may ask for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// `ExposeHeader`s the browser may show the script.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds` a browser may cache the preflight's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i32>,
}

/// What a matched rule answers: the `Access-Control-*` headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorsAnswer {
    /// `Access-Control-Allow-Origin`: `*` for a lone `*` rule, else the request's origin.
    pub allow_origin: String,
    /// `Access-Control-Allow-Methods`: the rule's methods.
    pub allow_methods: String,
    /// `Access-Control-Allow-Headers`: the requested headers (preflight), if any.
    pub allow_headers: Option<String>,
    /// `Access-Control-Expose-Headers`, if the rule has any.
    pub expose_headers: Option<String>,
    /// `Access-Control-Max-Age`, if the rule sets it.
    pub max_age: Option<i32>,
}

/// Whether `value` matches `pattern`, which may hold one `*` (any run of characters);
/// `ignore_case` for header names.
fn wildcard(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v) = if ignore_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_string(), value.to_string())
    };
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

impl CorsRule {
    /// Whether this rule lets `origin` use `method`, asking for `headers` (a preflight's
    /// `Access-Control-Request-Headers`, lower-case or not).
    pub fn allows(&self, origin: &str, method: &str, headers: &[&str]) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| wildcard(o, origin, false))
            && self.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                self.allowed_headers
                    .iter()
                    .any(|a| wildcard(a, h.trim(), true))
            })
    }

    fn answer(&self, origin: &str, headers: &[&str]) -> CorsAnswer {
        let lone_star = self.allowed_origins.iter().any(|o| o == "*");
        CorsAnswer {
            allow_origin: if lone_star { "*".into() } else { origin.into() },
            allow_methods: self.allowed_methods.join(", "),
            allow_headers: (!headers.is_empty()).then(|| {
                headers
                    .iter()
                    .map(|h| h.trim().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            expose_headers: (!self.expose_headers.is_empty())
                .then(|| self.expose_headers.join(", ")),
            max_age: self.max_age_seconds,
        }
    }
}

/// The answer of the first rule of `rules` that lets `origin` use `method` with `headers`.
pub fn evaluate(
    rules: &[CorsRule],
    origin: &str,
    method: &str,
    headers: &[&str],
) -> Option<CorsAnswer> {
    rules
        .iter()
        .find(|r| r.allows(origin, method, headers))
        .map(|r| r.answer(origin, headers))
}

/// Check a configuration against S3's rules: 1 to 100 rules, each with an origin and a
/// method, methods among GET PUT POST DELETE HEAD, at most one `*` per origin and header.
pub fn check_rules(rules: &[CorsRule]) -> Result<(), ObjectError> {
    if rules.is_empty() || rules.len() > MAX_CORS_RULES {
        return Err(ObjectError::MalformedXml(format!(
            "a CORS configuration has 1 to {MAX_CORS_RULES} rules; this one has {}",
            rules.len()
        )));
    }
    for (i, r) in rules.iter().enumerate() {
        if r.allowed_origins.is_empty() || r.allowed_methods.is_empty() {
            return Err(ObjectError::MalformedXml(format!(
                "CORS rule {} needs at least one AllowedOrigin and one AllowedMethod",
                i + 1
            )));
        }
        if let Some(m) = r
            .allowed_methods
            .iter()
            .find(|m| !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()))
        {
            return Err(ObjectError::InvalidRequest(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        for o in r.allowed_origins.iter().chain(&r.allowed_headers) {
            if o.matches('*').count() > 1 {
                return Err(ObjectError::InvalidRequest(format!(
                    "AllowedOrigin or AllowedHeader '{o}' can not have more than one wildcard."
                )));
            }
        }
    }
    Ok(())
}

impl ObjectStore {
    /// PutBucketCors: replace the bucket's CORS rules.
    pub fn put_bucket_cors(&self, bucket: &str, rules: Vec<CorsRule>) -> Result<(), ObjectError> {
        check_rules(&rules)?;
        self.update_bucket(bucket, |b| {
            b.cors = rules;
            Ok(())
        })
        .map(|_| ())
    }

    /// GetBucketCors: NoSuchCORSConfiguration when the bucket has none.
    pub fn bucket_cors(&self, bucket: &str) -> Result<Vec<CorsRule>, ObjectError> {
        let rules = self.bucket(bucket)?.cors;
        if rules.is_empty() {
            return Err(ObjectError::NoSuchCorsConfiguration(bucket.into()));
        }
        Ok(rules)
    }

    /// DeleteBucketCors (nothing to delete is no error).
    pub fn delete_bucket_cors(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.cors.clear();
            Ok(())
        })
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            ..CorsRule::default()
        }
    }

    #[test]
    fn origins_methods_and_headers_match_as_s3_matches_them() {
        let rules = [
            rule(&["*suffix"], &["GET"], &[]),
            rule(&["start*end"], &["GET"], &[]),
            rule(&["*.put"], &["PUT"], &["x-amz-*", "content-type"]),
        ];
        let origin = |o: &str, m: &str| evaluate(&rules, o, m, &[]).map(|a| a.allow_origin);
        assert_eq!(origin("foo.suffix", "GET").as_deref(), Some("foo.suffix"));
        assert_eq!(origin("foo.suffix.get", "GET"), None);
        assert_eq!(origin("startend", "GET").as_deref(), Some("startend"));
        assert_eq!(origin("0start12end", "GET"), None);
        assert_eq!(origin("foo.put", "GET"), None, "the method must be allowed");
        let a = evaluate(&rules, "a.put", "PUT", &["X-Amz-Date", "Content-Type"]).unwrap();
        assert_eq!(a.allow_headers.as_deref(), Some("X-Amz-Date, Content-Type"));
        assert_eq!(a.allow_methods, "PUT");
        assert!(evaluate(&rules, "a.put", "PUT", &["authorization"]).is_none());
        let star = [rule(&["*"], &["GET", "HEAD"], &[])];
        assert_eq!(
            evaluate(&star, "https://x", "HEAD", &[])
                .unwrap()
                .allow_origin,
            "*"
        );
    }

    #[test]
    fn configurations_follow_s3_rules() {
        assert!(check_rules(&[]).is_err());
        assert!(check_rules(&[rule(&["*"], &["PATCH"], &[])]).is_err());
        assert!(check_rules(&[rule(&["a*b*c"], &["GET"], &[])]).is_err());
        check_rules(&[rule(&["https://*.example.com"], &["GET", "PUT"], &["*"])]).unwrap();
    }
}
