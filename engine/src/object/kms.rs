//! The built-in KMS behind SSE-KMS (`x-amz-server-side-encryption: aws:kms`).
//!
//! On S3, an SSE-KMS object's data key is sealed by AWS KMS under a KMS key the writer names
//! (or the account's AWS managed key `aws/s3`), and reading it needs that key to exist and be
//! usable. This store has no KMS service to call; it has one of its own, small on purpose:
//!
//! - **Which keys exist.** The account's `aws/s3` key always does (in every account and
//!   region, as AWS makes it on first use); customer keys are those the server was started with
//!   (`seedbed serve --kms-key ID`, repeatable). A write naming any other key is refused with
//!   S3's 400 `KMS.NotFoundException`, before a byte is stored.
//! - **How a key is named.** As S3 takes it: a key ID, a key ARN, or `alias/aws/s3` (also as an
//!   alias ARN). The version records the key's ARN, `arn:aws:kms:REGION:ACCOUNT:key/ID`, in the
//!   bucket's region and its owner's account, and responses name it so, as S3 does.
//! - **Key material.** A KMS key's 256 bits are derived from the store's master key (the
//!   SSE-S3 one, `sse-s3.key`) and the key's ARN with HMAC-SHA256, so each KMS key seals data
//!   keys that no other key opens, nothing more is kept on disk, and losing the master key file
//!   loses SSE-KMS objects as it loses SSE-S3 ones. The data path is SSE-S3's: a fresh data key
//!   per blob, AES-256-CTR, sealed with AES-256-GCM (`sse.rs`).
//!
//! What AWS KMS has and this does not: key policies and grants (any caller allowed to write
//! the object may use any known key), disabling, rotation, aliases of one's own, the
//! encryption context's use in the key's authorization (it is checked as JSON and kept, not
//! bound into the seal), and the KMS API itself.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::error::ObjectError;
use super::meta::BucketMeta;
use super::sse::Key;

/// The AWS managed key's alias.
pub const MANAGED_ALIAS: &str = "alias/aws/s3";

/// Account of a bucket made before owners were recorded.
const NO_ACCOUNT: &str = "000000000000";

/// The KMS keys a store knows, and the region buckets without a LocationConstraint are in.
#[derive(Clone, Debug)]
pub struct Kms {
    /// Customer key IDs (bare IDs: the part after `key/` of an ARN).
    keys: Vec<String>,
    region: String,
}

impl Default for Kms {
    fn default() -> Self {
        Kms {
            keys: Vec::new(),
            region: "us-east-1".into(),
        }
    }
}

impl Kms {
    /// A KMS knowing `keys` (IDs or key ARNs; an ARN's ID is what counts) beside every
    /// account's `aws/s3`, for a server whose default region is `region`.
    pub fn new(region: &str, keys: &[String]) -> Result<Self, ObjectError> {
        let keys = keys
            .iter()
            .map(|k| {
                let id = k.rsplit_once(":key/").map_or(k.as_str(), |(_, id)| id);
                if id.is_empty() || id.contains(['/', ':']) || id.chars().any(char::is_whitespace) {
                    return Err(ObjectError::InvalidArgument(format!(
                        "KMS key {k:?}: name a key by its ID (letters, digits, '-', '_') or its \
                         key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
                    )));
                }
                Ok(id.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Kms {
            keys,
            region: region.to_string(),
        })
    }

    /// The ARN of the key a write to `b` names (`None`: the account's `aws/s3`), or S3's
    /// `KMS.NotFoundException` when this KMS has no such key.
    pub fn resolve(&self, b: &BucketMeta, named: Option<&str>) -> Result<String, ObjectError> {
        let region = b.location.as_deref().unwrap_or(&self.region);
        let account = b.owner.as_ref().map_or(NO_ACCOUNT, |o| o.account.as_str());
        let arn = |id: &str| format!("arn:aws:kms:{region}:{account}:key/{id}");
        let managed = || arn(&managed_key_id(account, region));
        let Some(named) = named.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(managed());
        };
        let not_found = || ObjectError::KmsNotFound(format!("Invalid keyId '{named}'"));
        if named == MANAGED_ALIAS || named.ends_with(&format!(":{MANAGED_ALIAS}")) {
            return Ok(managed());
        }
        let id = match named.strip_prefix("arn:aws:kms:") {
            Some(rest) => {
                // REGION:ACCOUNT:key/ID — in the bucket's region and its owner's account.
                let mut f = rest.splitn(3, ':');
                let (r, a, resource) = (f.next(), f.next(), f.next());
                if r != Some(region) || a != Some(account) {
                    return Err(not_found());
                }
                resource
                    .and_then(|x| x.strip_prefix("key/"))
                    .ok_or_else(not_found)?
            }
            None if named.starts_with("alias/") => return Err(not_found()),
            None => named,
        };
        if id == managed_key_id(account, region) || self.keys.iter().any(|k| k == id) {
            Ok(arn(id))
        } else {
            Err(not_found())
        }
    }
}

/// The ID of an account's `aws/s3` key in a region: a UUID made from the two, so it is the
/// same on every server and after every restart.
fn managed_key_id(account: &str, region: &str) -> String {
    let h = Sha256::digest(format!("seedbed aws/s3 {account} {region}").as_bytes());
    let x: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// The key that seals the data keys of objects encrypted under KMS key `arn`: HMAC-SHA256 of
/// the ARN under the store's master key.
pub fn key_encryption_key(master: &Key, arn: &str) -> Key {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master.bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"seedbed kms key\0");
    mac.update(arn.as_bytes());
    let out = mac.finalize().into_bytes();
    Key::from_bytes(&out).expect("SHA-256 is 32 bytes")
}

/// A request's encryption context (`x-amz-server-side-encryption-context`): base64 of a JSON
/// object of string values, as S3 takes it; refused with InvalidArgument otherwise.
pub fn check_context(b64: &str) -> Result<(), ObjectError> {
    use base64::Engine as _;
    let bad = |why: &str| {
        Err(ObjectError::InvalidArgument(format!(
            "x-amz-server-side-encryption-context: {why}"
        )))
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return bad("not base64");
    };
    match serde_json::from_slice::<serde_json::Value>(&raw) {
        Ok(serde_json::Value::Object(m)) if m.values().all(serde_json::Value::is_string) => Ok(()),
        _ => bad("not a JSON object of string values"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::owner::Owner;

    fn bucket(location: Option<&str>) -> BucketMeta {
        let mut b: BucketMeta =
            serde_json::from_str(r#"{"name":"b","created_ms":0,"versioning":"Unversioned"}"#)
                .unwrap();
        b.location = location.map(String::from);
        b.owner = Some(Owner {
            account: "111111111111".into(),
            id: "0".repeat(64),
            display_name: "main".into(),
        });
        b
    }

    #[test]
    fn keys_are_named_as_s3_takes_them_and_recorded_by_arn() {
        let kms = Kms::new("us-east-1", &["testkey-1".into()]).unwrap();
        let b = bucket(None);
        let arn = "arn:aws:kms:us-east-1:111111111111:key/testkey-1";
        assert_eq!(kms.resolve(&b, Some("testkey-1")).unwrap(), arn);
        assert_eq!(kms.resolve(&b, Some(arn)).unwrap(), arn);
        // No key, or the managed alias: the account's aws/s3 key, the same each time.
        let managed = kms.resolve(&b, None).unwrap();
        assert!(managed.starts_with("arn:aws:kms:us-east-1:111111111111:key/"));
        assert_eq!(kms.resolve(&b, Some("alias/aws/s3")).unwrap(), managed);
        assert_eq!(kms.resolve(&b, Some(&managed)).unwrap(), managed);
        // A bucket elsewhere: its region in the ARN, and another aws/s3 key.
        let eu = bucket(Some("eu-west-1"));
        assert_eq!(
            kms.resolve(&eu, Some("testkey-1")).unwrap(),
            "arn:aws:kms:eu-west-1:111111111111:key/testkey-1"
        );
        assert_ne!(kms.resolve(&eu, None).unwrap(), managed);
        for unknown in [
            "testkey-not-present",
            "alias/mine",
            "arn:aws:kms:us-east-1:222222222222:key/testkey-1",
            "arn:aws:kms:eu-west-1:111111111111:key/testkey-1",
        ] {
            let e = kms.resolve(&b, Some(unknown)).unwrap_err();
            assert_eq!(e.code(), "KMS.NotFoundException", "{unknown}");
            assert_eq!(e.http_status(), 400);
        }
        assert!(Kms::new("us-east-1", &["a/b".into()]).is_err());
    }

    #[test]
    fn each_kms_key_seals_for_itself_alone() {
        let master = Key::random().unwrap();
        let a = key_encryption_key(&master, "arn:aws:kms:us-east-1:1:key/a");
        let b = key_encryption_key(&master, "arn:aws:kms:us-east-1:1:key/b");
        assert_ne!(a, b);
        assert_eq!(
            a,
            key_encryption_key(&master, "arn:aws:kms:us-east-1:1:key/a")
        );
        let data = Key::random().unwrap();
        let sealed = a.seal(&data).unwrap();
        assert_eq!(a.unseal(&sealed), Some(data));
        assert_eq!(b.unseal(&sealed), None);
        assert_eq!(master.unseal(&sealed), None);
    }

    #[test]
    fn the_encryption_context_is_base64_json_of_strings() {
        assert!(check_context("eyJhIjogImIifQ==").is_ok()); // {"a": "b"}
        assert!(check_context("eyJhIjogMX0=").is_err()); // {"a": 1}
        assert!(check_context("bm90IGpzb24=").is_err()); // not json
        assert!(check_context("***").is_err());
    }
}
