//! An object version's ACL: read it, replace it (PutObjectAcl). Replacing an ACL changes
//! neither the data nor Last-Modified, as in S3.

use super::acl::Acl;
use super::bucket_config::check_acl_allowed;
use super::error::ObjectError;
use super::meta;
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
        let _g = self.lock_commit();
        let b = self.bucket(bucket)?;
        check_acl_allowed(&b, &acl)?;
        let (k, mut v) = self.resolve_version_entry(bucket, key, version_id)?;
        v.acl = Some(acl);
        self.meta_commit(vec![(k, Some(meta::to_json(&v)))])?;
        Ok(v.version_id)
    }
}
