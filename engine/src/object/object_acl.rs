//! An object version's ACL: read it, replace it (PutObjectAcl). Replacing an ACL changes
//! neither the data nor Last-Modified, as in S3.

use super::acl::Acl;
use super::bucket_config::check_acl_allowed;
use super::error::ObjectError;
use super::meta::{self, VersionMeta};
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
        let versions = self.key_versions(bucket, key)?;
        let found: Option<(Vec<u8>, VersionMeta)> = match version_id {
            None => versions.into_iter().next(),
            Some(id) => versions.into_iter().find(|(_, v)| v.version_id == id),
        };
        let (k, mut v) = match found {
            Some((_, v)) if v.delete_marker && version_id.is_none() => {
                return Err(ObjectError::NoSuchKey {
                    bucket: bucket.into(),
                    key: key.into(),
                    delete_marker: true,
                })
            }
            Some((_, v)) if v.delete_marker => {
                return Err(ObjectError::MethodNotAllowed {
                    bucket: bucket.into(),
                    key: key.into(),
                    version_id: v.version_id,
                })
            }
            Some(found) => found,
            None => {
                return Err(match version_id {
                    Some(id) => ObjectError::NoSuchVersion {
                        bucket: bucket.into(),
                        key: key.into(),
                        version_id: id.into(),
                    },
                    None => ObjectError::NoSuchKey {
                        bucket: bucket.into(),
                        key: key.into(),
                        delete_marker: false,
                    },
                })
            }
        };
        v.acl = Some(acl);
        self.meta_commit(vec![(k, Some(meta::to_json(&v)))])?;
        Ok(v.version_id)
    }
}
