//! Object tagging: Put/Get/DeleteObjectTagging, and the `x-amz-tagging` header a PUT, a
//! CreateMultipartUpload or a REPLACE copy sets tags with.

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result};

use super::endpoint::Endpoint;
use super::errors::invalid_argument;
use super::objects::wire_version;

/// The tags of an `x-amz-tagging` header: URL query syntax (`k1=v1&k2=v2`, percent-encoded,
/// `+` for a space); a key without `=` has the empty value (`foo=bar&bar`, as ceph/s3-tests'
/// test_put_obj_with_tags sends it). The engine checks the set against S3's rules.
pub(super) fn tags_from_header(header: Option<&String>) -> Result<Vec<(String, String)>, S3Error> {
    let Some(h) = header.filter(|h| !h.is_empty()) else {
        return Ok(Vec::new());
    };
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| {
                invalid_argument(format!(
                    "the x-amz-tagging header '{h}' does not decode to UTF-8 (at '{s}')"
                ))
            })
    };
    h.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// A tag set as S3's XML model has it.
fn tag_set(tags: Vec<(String, String)>) -> TagSet {
    tags.into_iter()
        .map(|(k, v)| Tag {
            key: Some(k),
            value: Some(v),
        })
        .collect()
}

impl Endpoint {
    pub(super) async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let tags: Vec<(String, String)> = input
            .tagging
            .tag_set
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
            .collect();
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        let id = cx
            .run(Vec::new(), move |s| {
                s.put_object_tagging(&bucket, &key, v.as_deref(), tags)
            })
            .await?;
        Ok(S3Response::new(PutObjectTaggingOutput {
            version_id: wire_version(&id),
        }))
    }

    pub(super) async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        let (id, tags) = cx
            .run(Vec::new(), move |s| {
                s.object_tagging(&bucket, &key, v.as_deref())
            })
            .await?;
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tag_set(tags),
            version_id: wire_version(&id),
        }))
    }

    pub(super) async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let cx = self.cx(&req);
        let input = req.input;
        let (bucket, key, v) = (input.bucket, input.key, input.version_id);
        let id = cx
            .run(Vec::new(), move |s| {
                s.delete_object_tagging(&bucket, &key, v.as_deref())
            })
            .await?;
        Ok(S3Response::with_status(
            DeleteObjectTaggingOutput {
                version_id: wire_version(&id),
            },
            http::StatusCode::NO_CONTENT,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagging_headers_decode_as_query_strings() {
        let t = |h: &str| tags_from_header(Some(&h.to_string())).unwrap();
        assert_eq!(t(""), vec![]);
        assert_eq!(t("foo=bar"), vec![("foo".into(), "bar".into())]);
        assert_eq!(
            t("foo=bar&bar"),
            vec![("foo".into(), "bar".into()), ("bar".into(), String::new())]
        );
        assert_eq!(
            t("a%20b=c+d&k%3D=%26v"),
            vec![("a b".into(), "c d".into()), ("k=".into(), "&v".into())]
        );
        assert_eq!(t("%C3%A9t%C3%A9=x"), vec![("été".into(), "x".into())]);
        let err = tags_from_header(Some(&"k=%FF".to_string())).unwrap_err();
        assert!(err.message().unwrap_or_default().contains("x-amz-tagging"));
        assert_eq!(tags_from_header(None).unwrap(), vec![]);
    }
}
