//! An object version's tags: given with the write (`x-amz-tagging`, kept by a copy unless
//! it says REPLACE), read (GetObjectTagging), replaced (PutObjectTagging) and removed
//! (DeleteObjectTagging). Like an ACL, tags belong to one version and changing them changes
//! neither the data nor Last-Modified, as in S3.
//!
//! Tags set at write time are part of the version's record, so the blob's description (the
//! data-side copy `repair` rebuilds metadata from) holds them. Tags changed later, like ACLs
//! changed later, live in the metadata only: a rebuild from the data brings back the ones the
//! version was written with (docs/object-store.md says so).

use super::auth::{object_arn, AuthorizedStore, ObjectCtx, RequestTags};
use super::bucket_config::check_tag_rules;
use super::error::ObjectError;
use super::store::ObjectStore;

/// Most tags on an object version (S3's limit).
pub const MAX_OBJECT_TAGS: usize = 10;

/// Check an object's tag set against S3's rules: at most [`MAX_OBJECT_TAGS`] (S3 answers
/// BadRequest), then the rules every tag set follows, in S3's words (moto's AWS-verified
/// tests: "Object tags cannot be greater than 10", "Your TagKey cannot be prefixed with aws:").
pub fn check_object_tags(tags: &[(String, String)]) -> Result<(), ObjectError> {
    if tags.len() > MAX_OBJECT_TAGS {
        return Err(ObjectError::BadRequest(format!(
            "Object tags cannot be greater than {MAX_OBJECT_TAGS}"
        )));
    }
    check_tag_rules(tags, "Your TagKey cannot be prefixed with aws:")
}

/// A tag set in the order it is kept and answered in: by key (as Ceph RGW answers, which
/// ceph/s3-tests checks; S3 documents no order).
pub(super) fn by_key(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut sorted = tags.to_vec();
    sorted.sort();
    sorted
}

impl ObjectStore {
    /// Replace the tags of a version (the latest, or `version_id`); an empty set removes them.
    /// Returns the version's id. A delete marker has no tags: naming one is MethodNotAllowed,
    /// and a key whose latest version is one is NoSuchKey, as for a GET.
    pub fn put_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<String, ObjectError> {
        check_object_tags(&tags)?;
        self.change_version(bucket, key, version_id, |_, v| {
            v.tags = by_key(&tags);
            Ok(())
        })
    }

    /// The tags of a version (the latest, or `version_id`), with its id; none is no error.
    pub fn object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(String, Vec<(String, String)>), ObjectError> {
        let v = self.resolve_version(bucket, key, version_id)?;
        Ok((v.version_id, v.tags))
    }

    /// Remove a version's tags (DeleteObjectTagging); returns the version's id.
    pub fn delete_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<String, ObjectError> {
        self.put_object_tagging(bucket, key, version_id, Vec::new())
    }
}

/// IAM's action for a tagging operation: the `...VersionTagging` one when a version is named.
fn action(verb: &str, version_id: Option<&str>) -> String {
    match version_id {
        Some(_) => format!("s3:{verb}ObjectVersionTagging"),
        None => format!("s3:{verb}ObjectTagging"),
    }
}

impl AuthorizedStore<'_> {
    /// Decide a tagging operation on a version: its tags are the `s3:ExistingObjectTag/<key>`
    /// keys, its ACL and owner count as for any object-level check.
    fn check_tagging(
        &self,
        verb: &str,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        request: &[(String, String)],
    ) -> Result<(), ObjectError> {
        let b = self.bucket_meta(bucket)?;
        let current = self.existing(bucket, key, version_id);
        let tags = RequestTags::of(request);
        self.check(
            &action(verb, version_id),
            b.as_ref(),
            &object_arn(bucket, key),
            &tags.keys(),
            current.as_ref().map(|info| ObjectCtx::of(key, info)),
        )
    }

    /// PutObjectTagging: `s3:PutObjectTagging` (`...VersionTagging` with a version id), with
    /// the tags asked for as `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`.
    pub fn put_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<String, ObjectError> {
        self.check_tagging("Put", bucket, key, version_id, &tags)?;
        self.store()
            .put_object_tagging(bucket, key, version_id, tags)
    }

    /// GetObjectTagging: `s3:GetObjectTagging` (`...VersionTagging` with a version id).
    pub fn object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(String, Vec<(String, String)>), ObjectError> {
        self.check_tagging("Get", bucket, key, version_id, &[])?;
        self.store().object_tagging(bucket, key, version_id)
    }

    /// DeleteObjectTagging: `s3:DeleteObjectTagging` (`...VersionTagging` with a version id).
    pub fn delete_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<String, ObjectError> {
        self.check_tagging("Delete", bucket, key, version_id, &[])?;
        self.store().delete_object_tagging(bucket, key, version_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
    }

    #[test]
    fn object_tag_sets_follow_s3_rules() {
        check_object_tags(&tags(0)).unwrap();
        check_object_tags(&tags(10)).unwrap();
        let e = check_object_tags(&tags(11)).unwrap_err();
        assert_eq!(e.code(), "BadRequest");
        assert_eq!(
            e.to_string(),
            "BadRequest: Object tags cannot be greater than 10"
        );
        let e = check_object_tags(&[("aws:x".into(), "1".into())]).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            (
                "InvalidTag",
                "InvalidTag: Your TagKey cannot be prefixed with aws:"
            )
        );
        let twice = [("a".into(), "1".into()), ("a".into(), "2".into())];
        assert_eq!(check_object_tags(&twice).unwrap_err().code(), "InvalidTag");
        let long_key = [("k".repeat(129), String::new())];
        assert_eq!(
            check_object_tags(&long_key).unwrap_err().code(),
            "InvalidTag"
        );
        // An empty value is a tag (S3 keeps `item3=""`).
        check_object_tags(&[("k".repeat(128), "v".repeat(256))]).unwrap();
        check_object_tags(&[("empty".into(), String::new())]).unwrap();
    }
}
