//! An object version's ACL: read it, replace it (PutObjectAcl). Replacing an ACL changes
//! neither the data nor Last-Modified, as in S3.

use super::acl::Acl;
use super::bucket_config::check_acl_allowed;
use super::error::ObjectError;
use super::names::validate_key;
use super::store::ObjectStore;

impl ObjectStore {
    /// Replace the ACL of a version (the latest, or `version_id`); returns the version's id.
    pub fn put_object_acl(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        acl: Acl,
    ) -> Result<String, ObjectError> {
        validate_key(key)?;
        self.change_version(bucket, key, version_id, |b, v| {
            check_acl_allowed(b, &acl)?;
            v.acl = Some(acl);
            Ok(())
        })
    }
}
