//! Signature Version 2 for a path-style request to a bucket, as botocore signs it.
//!
//! SigV2 signs a "canonicalized resource": the bucket, the path, and the query's sub-resources
//! (`?acl`, `?uploads`, `?versionId=…`). For a request to a bucket itself — CreateBucket,
//! ListObjects, DeleteObjects (`POST /bucket?delete`), GetBucketAcl — the path-style request line
//! is `/bucket`, and the two sides disagree on its resource:
//!
//! - botocore (boto3 and the aws cli 1.x with `signature_version = s3`) signs `/bucket/`, the
//!   resource of the virtual-hosted form of the same request (`GET /` on `bucket.host`, which
//!   S3's SigV2 documentation gives as `/bucket/`);
//! - s3s signs the request line's path, `/bucket`.
//!
//! So every bucket request of a SigV2 boto3 client was refused with SignatureDoesNotMatch while
//! its object requests went through. Both resources name the same bucket, so [`mend`] accepts
//! either: when the client's signature holds over `/bucket/` (checked here, HMAC-SHA1 with the
//! access key's secret), the request's signature is replaced by the one over `/bucket`, which
//! s3s then checks as for any request (and everything after it — IAM, the access check — is
//! unchanged). A signature that holds over neither is left as it came, for s3s to refuse.
//!
//! The string to sign, from S3's SigV2 documentation:
//!
//! ```text
//! VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
//! ```
//!
//! with the Date line empty when `x-amz-date` is sent (it is then among the `x-amz-` headers),
//! the `x-amz-` headers lower-cased, sorted, one per line (`name:v1,v2`), and the sub-resources
//! sorted, `name` or `name=value`.

use hmac::{Hmac, Mac};
use http::header::{HeaderValue, AUTHORIZATION};
use http::request::Parts;
use seedbed_sigv4::encode::query_pairs;
use sha1::Sha1;

use crate::identity::IdentityStore;

/// The query parameters SigV2 signs (S3's list, as botocore and s3s carry it), sorted.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Accept a SigV2 path-style bucket request signed over `/bucket/` (see the module's text).
pub fn mend(parts: &mut Parts, identity: &IdentityStore) {
    let Some((access_key, given)) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("AWS "))
        .and_then(|v| v.split_once(':'))
        .map(|(k, s)| (k.to_string(), s.to_string()))
    else {
        return;
    };
    let path = parts.uri.path();
    let bucket = path.strip_prefix('/').unwrap_or_default();
    if bucket.is_empty() || bucket.contains('/') {
        return;
    }
    let Some(secret) = identity
        .credential(&access_key)
        .filter(|c| c.active)
        .map(|c| c.secret)
    else {
        return;
    };
    let Some(with_slash) = string_to_sign(parts, &format!("{path}/")) else {
        return;
    };
    if signature(&secret, &with_slash) != given {
        return;
    }
    let Some(as_sent) = string_to_sign(parts, path) else {
        return;
    };
    let auth = format!("AWS {access_key}:{}", signature(&secret, &as_sent));
    if let Ok(v) = HeaderValue::from_str(&auth) {
        parts.headers.insert(AUTHORIZATION, v);
    }
}

/// SigV2's string to sign for `parts` with `resource_path` as the resource's path (`None` when
/// a header it signs is not text).
fn string_to_sign(parts: &Parts, resource_path: &str) -> Option<String> {
    let h = &parts.headers;
    let text =
        |name: &str| -> Option<&str> { h.get(name).map(|v| v.to_str().ok()).unwrap_or(Some("")) };
    let date = if h.contains_key("x-amz-date") {
        ""
    } else {
        text("date")?
    };
    let mut s = format!(
        "{}\n{}\n{}\n{date}\n",
        parts.method,
        text("content-md5")?,
        text("content-type")?
    );
    let mut amz: Vec<&str> = h
        .keys()
        .map(|n| n.as_str())
        .filter(|n| n.starts_with("x-amz-"))
        .collect();
    amz.sort_unstable();
    for name in amz {
        let values: Option<Vec<&str>> = h
            .get_all(name)
            .iter()
            .map(|v| v.to_str().ok().map(str::trim))
            .collect();
        s.push_str(&format!("{name}:{}\n", values?.join(",")));
    }
    s.push_str(resource_path);
    let pairs = query_pairs(parts.uri.query().unwrap_or_default());
    let mut sep = '?';
    for name in SUB_RESOURCES {
        if let Some((_, v)) = pairs.iter().find(|(k, _)| k == name) {
            s.push(sep);
            s.push_str(name);
            if !v.is_empty() {
                s.push('=');
                s.push_str(v);
            }
            sep = '&';
        }
    }
    Some(s)
}

/// Base64 of HMAC-SHA1 of `string_to_sign` under `secret`: a SigV2 signature.
fn signature(secret: &str, string_to_sign: &str) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_string_to_sign_and_signature_of_s3s_documented_examples() {
        // S3's SigV2 documentation, "Object GET" (awsexamplebucket1 virtual-hosted).
        let p = parts(
            "GET",
            "/awsexamplebucket1/photos/puppy.jpg",
            &[("date", "Tue, 27 Mar 2007 19:36:42 +0000")],
        );
        let s = string_to_sign(&p, p.uri.path()).unwrap();
        assert_eq!(
            s,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert_eq!(
            signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &s),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
        // "Upload": x-amz- headers lower-cased, sorted, repeated ones folded; other headers out.
        let p = parts(
            "PUT",
            "/static.example.com/db-backup.dat.gz",
            &[
                ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-acl", "public-read"),
                ("content-type", "application/x-download"),
                ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
                ("X-Amz-Meta-ReviewedBy", "joe@example.com"),
                ("x-amz-meta-reviewedby", "jane@example.com"),
                ("x-amz-meta-filechecksum", "0x02661779"),
                ("x-amz-meta-checksumalgorithm", "crc32"),
                ("content-disposition", "attachment; filename=database.dat"),
                ("content-encoding", "gzip"),
            ],
        );
        assert_eq!(
            string_to_sign(&p, p.uri.path()).unwrap(),
            "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
             x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\n\
             x-amz-meta-filechecksum:0x02661779\n\
             x-amz-meta-reviewedby:joe@example.com,jane@example.com\n\
             /static.example.com/db-backup.dat.gz"
        );
    }

    #[test]
    fn only_sub_resources_are_signed_sorted_and_x_amz_date_empties_the_date_line() {
        let p = parts(
            "GET",
            "/bk?versions&prefix=a&uploads&acl",
            &[
                ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-date", "Tue, 27 Mar 2007 21:06:09 +0000"),
            ],
        );
        assert_eq!(
            string_to_sign(&p, "/bk/").unwrap(),
            "GET\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:06:09 +0000\n/bk/?acl&uploads&versions"
        );
    }

    #[test]
    fn a_bucket_request_signed_over_bucket_slash_is_signed_again_as_s3s_reads_it() {
        use crate::identity::{bootstrap, Identity};
        let (file, key) = bootstrap("123456789012", "seedbed", "admin").unwrap();
        let identity = IdentityStore::new(Identity::from_file(file).unwrap(), None, "123456789012");
        let date = ("date", "Sat, 05 Dec 2026 07:22:05 GMT");
        let signed_over = |resource: &str, secret: &str| {
            let p = parts("GET", "/bk?list-type=2&prefix=a%2F", &[date]);
            let auth = format!(
                "AWS {}:{}",
                key.id,
                signature(secret, &string_to_sign(&p, resource).unwrap())
            );
            parts(
                "GET",
                "/bk?list-type=2&prefix=a%2F",
                &[date, ("authorization", &auth)],
            )
        };
        let auth = |p: &Parts| p.headers[AUTHORIZATION].to_str().unwrap().to_string();
        // botocore's `/bk/`: replaced by the signature over `/bk`.
        let mut p = signed_over("/bk/", &key.secret);
        mend(&mut p, &identity);
        assert_eq!(auth(&p), auth(&signed_over("/bk", &key.secret)));
        // Already `/bk`, a wrong secret, an object request: left as they came.
        for mut p in [
            signed_over("/bk", &key.secret),
            signed_over("/bk/", "not-the-secret"),
            parts(
                "GET",
                "/bk/obj",
                &[date, ("authorization", "AWS AKID:c2ln")],
            ),
        ] {
            let before = auth(&p);
            mend(&mut p, &identity);
            assert_eq!(auth(&p), before);
        }
    }
}
