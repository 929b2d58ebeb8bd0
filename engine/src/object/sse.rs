//! Server-side encryption, as S3 offers it: **SSE-S3** (the store holds the key), **SSE-KMS**
//! (the data keys are sealed under a KMS key the writer names, here one of the built-in KMS's,
//! `kms.rs`) and **SSE-C** (the client sends a 256-bit key with every request that writes or
//! reads the data, and the store never keeps it).
//!
//! Envelope encryption, one data key per blob: every segment of an encrypted version (a PUT's
//! one blob, or each part of a multipart upload) is encrypted with AES-256-CTR under a data key
//! of its own, drawn from the operating system's generator, never from the store's seeded RNG
//! (which is seeded from the clock for UUIDs, not for secrets). CTR keeps the ciphertext as
//! long as the text and lets a range be decrypted from any offset, so ranged GETs, part GETs
//! and S3 Select's ScanRange seek as they do on plain objects. Each data key is used for one
//! blob only, so the counter starts at zero.
//!
//! The data key is stored *sealed* (AES-256-GCM, a fresh nonce each time) under the key
//! encryption key: the store's master key for SSE-S3 (`sse-s3.key` beside the layout, made on
//! first use), the KMS key's (derived from the master key and its ARN) for SSE-KMS, the
//! client's own key for SSE-C. A wrong key fails GCM's tag, so a GET with the
//! wrong SSE-C key is refused before a byte is decrypted, whatever the key's MD5 says. SSE-S3
//! keys are opened when a read of data begins ([`super::read::ObjectReader::unlock`]); a read
//! never makes a master key, only an SSE-S3 or SSE-KMS write does.
//!
//! The blob write encrypts after hashing and before the erasure coder (`blob/write.rs`,
//! `blob/pipeline.rs`): shards, parity and their per-block CRC32s are over the ciphertext, so
//! scrub, heal and rebuild work on encrypted objects without any key, while the object's MD5,
//! SHA-256, the checksums the client asks for and Content-MD5 are of the plaintext, as S3
//! computes them. The ETag of an SSE-S3 object is the plaintext's MD5, as S3's; an SSE-C
//! object's is an HMAC of that MD5 under the client's key ([`CustomerKey::etag_md5`]), because
//! S3's is "not an MD5 of the object data" there and a plaintext MD5 in a listing would tell
//! anyone without the key what the object holds.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine as _;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::ObjectError;
use super::meta::BucketMeta;
use super::store::ObjectStore;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The one algorithm S3 names for both kinds (`AES256`).
pub const ALGORITHM: &str = "AES256";

/// Which server-side encryption a version (or an upload in flight) has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encryption {
    /// SSE-S3: data keys sealed under the store's master key.
    S3,
    /// SSE-C: data keys sealed under the client's key; its MD5 (base64) is kept to name the key
    /// a request must bring, and is echoed in responses as S3 does.
    Customer {
        /// Base64 MD5 of the client's key.
        key_md5: String,
    },
    /// SSE-KMS: data keys sealed under a key of the built-in KMS (`kms.rs`).
    Kms {
        /// A version's: the KMS key's ARN. A bucket default's: the `KMSMasterKeyID` as
        /// configured (empty: the account's `aws/s3` key), resolved at each write.
        key_id: String,
        /// The encryption context the write sent (base64 JSON), echoed on reads as S3 does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        /// `x-amz-server-side-encryption-bucket-key-enabled`: recorded and echoed (an S3 Bucket
        /// Key saves KMS calls; there are none to save here).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        bucket_key: bool,
    },
}

/// The value of `x-amz-server-side-encryption` for SSE-KMS.
pub const KMS_ALGORITHM: &str = "aws:kms";

/// A segment's data key sealed under its key encryption key: base64 of the GCM nonce (12
/// bytes), then the encrypted key and its tag (48 bytes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedKey(String);

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedKey(..)")
    }
}

impl SealedKey {
    /// The length of a sealed key's text: base64 of 12 + 32 + 16 bytes.
    pub const TEXT_LEN: usize = 80;
}

/// How much longer a version's description (`describe.rs`) is for being encrypted so: its
/// `encryption` and its segment's `sealed_key`, with their names. A write that encrypts adds
/// this to its estimate, so a small blob goes to a pack record only if its description fits
/// (an SSE-KMS one names its key's ARN and may carry an encryption context).
pub(super) fn description_room(encryption: &Encryption) -> usize {
    serde_json::to_string(encryption).map_or(4096, |j| j.len())
        + SealedKey::TEXT_LEN
        + r#","encryption":,"sealed_key":"""#.len()
}

/// A 256-bit key: a client's (SSE-C), the store's master key, or a data key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// 32 bytes from the operating system's generator.
    pub fn random() -> Result<Self, ObjectError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)
            .map_err(|e| ObjectError::Internal(format!("the OS random generator failed: {e}")))?;
        Ok(Key(k))
    }

    /// A key from its 32 bytes (the master key file).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Key(bytes.try_into().ok()?))
    }

    /// The key's bytes (to write the master key file).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Seal `data_key` under this key (a fresh random nonce).
    pub fn seal(&self, data_key: &Key) -> Result<SealedKey, ObjectError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce)
            .map_err(|e| ObjectError::Internal(format!("the OS random generator failed: {e}")))?;
        let sealed = Aes256Gcm::new(&self.0.into())
            .encrypt(Nonce::from_slice(&nonce), data_key.0.as_slice())
            .map_err(|_| ObjectError::Internal("sealing a data key failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(SealedKey(B64.encode(out)))
    }

    /// The data key `sealed` holds, or `None` when this is not the key it was sealed under
    /// (or the text was damaged: GCM's tag tells neither apart, and both mean "not readable").
    pub fn unseal(&self, sealed: &SealedKey) -> Option<Key> {
        let raw = B64.decode(&sealed.0).ok()?;
        if raw.len() != 12 + 32 + 16 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let key = Aes256Gcm::new(&self.0.into())
            .decrypt(Nonce::from_slice(nonce), body)
            .ok()?;
        Key::from_bytes(&key)
    }

    /// XOR the key stream of this data key at byte `offset` of its blob into `buf`:
    /// encrypts plaintext and decrypts ciphertext alike.
    pub fn apply(&self, offset: u64, buf: &mut [u8]) {
        let mut c = Aes256Ctr::new(&self.0.into(), &[0u8; 16].into());
        c.seek(offset);
        c.apply_keystream(buf);
    }
}

/// A client's SSE-C key as a request sends it, checked: algorithm `AES256`, a base64 key of 32
/// bytes, and its base64 MD5, which must match.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomerKey {
    key: Key,
    md5: String,
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerKey")
            .field("md5", &self.md5)
            .finish_non_exhaustive()
    }
}

impl CustomerKey {
    /// The `x-amz-server-side-encryption-customer-{algorithm,key,key-MD5}` headers (or the
    /// `x-amz-copy-source-…` ones), in S3's words when they are wrong; `None` when none is sent.
    pub fn from_headers(
        algorithm: Option<&str>,
        key: Option<&str>,
        key_md5: Option<&str>,
    ) -> Result<Option<Self>, ObjectError> {
        let (algorithm, key) =
            match (algorithm, key, key_md5) {
                (None, None, None) => return Ok(None),
                (Some(a), Some(k), _) => (a, k),
                (None, _, _) => return Err(ObjectError::InvalidArgument(
                    "Requests specifying Server Side Encryption with Customer provided keys must \
                     provide a valid encryption algorithm \
                     (x-amz-server-side-encryption-customer-algorithm: AES256)"
                        .into(),
                )),
                (Some(_), None, _) => return Err(ObjectError::InvalidArgument(
                    "Requests specifying Server Side Encryption with Customer provided keys must \
                     provide an appropriate secret key (x-amz-server-side-encryption-customer-key)"
                        .into(),
                )),
            };
        if algorithm != ALGORITHM {
            return Err(ObjectError::InvalidArgument(format!(
                "the encryption algorithm {algorithm:?} is not supported; SSE-C takes AES256"
            )));
        }
        let bytes = B64.decode(key.trim()).map_err(|_| {
            ObjectError::InvalidArgument(
                "The secret key was invalid for the specified algorithm (not base64)".into(),
            )
        })?;
        let key = Key::from_bytes(&bytes).ok_or_else(|| {
            ObjectError::InvalidArgument(format!(
                "The secret key was invalid for the specified algorithm (AES256 takes 32 bytes; \
                 this key has {})",
                bytes.len()
            ))
        })?;
        let md5 = B64.encode(Md5::digest(key.bytes()));
        match key_md5 {
            None => Err(ObjectError::InvalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must \
                 provide the client calculated MD5 of the secret key \
                 (x-amz-server-side-encryption-customer-key-MD5)"
                    .into(),
            )),
            Some(given) if given.trim() != md5 => Err(ObjectError::InvalidArgument(format!(
                "The calculated MD5 hash of the key did not match the hash that was provided \
                 (calculated {md5}, provided {given})"
            ))),
            Some(_) => Ok(Some(CustomerKey { key, md5 })),
        }
    }

    /// A key given as its 32 bytes (a key file, for the command line).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ObjectError> {
        let b64 = B64.encode(bytes);
        let md5 = B64.encode(Md5::digest(bytes));
        Self::from_headers(Some(ALGORITHM), Some(&b64), Some(&md5))?
            .ok_or_else(|| ObjectError::Internal("a key given was taken for none".into()))
    }

    /// The key's base64 MD5, as responses echo it.
    pub fn md5(&self) -> &str {
        &self.md5
    }

    /// The key itself.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The ETag of data whose plaintext MD5 is `md5`, written with this key: HMAC-SHA-256 of
    /// the MD5 under the key, cut to 16 bytes. S3's SSE-C ETag is "not an MD5 of the object
    /// data" (a listing shows it to callers without the key); this one is not either, yet the
    /// same data under the same key gets the same ETag, as a part uploaded twice must for a
    /// CompleteMultipartUpload that names the first upload's ETag.
    pub fn etag_md5(&self, md5: &[u8; 16]) -> [u8; 16] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.bytes())
            .expect("HMAC takes any key length");
        mac.update(b"seedbed sse-c etag v1");
        mac.update(md5);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }
}

/// What a write asks for: SSE-S3 (`x-amz-server-side-encryption: AES256`), SSE-C or SSE-KMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseRequest {
    /// SSE-S3.
    S3,
    /// SSE-C with this key.
    Customer(CustomerKey),
    /// SSE-KMS.
    Kms(KmsRequest),
}

/// An SSE-KMS write's headers: the key it names (`None`: the account's `aws/s3`; once
/// resolved for the bucket, the key's ARN), its encryption context and Bucket Key setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KmsRequest {
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    pub key_id: Option<String>,
    /// `x-amz-server-side-encryption-context` (checked: base64 JSON of strings).
    pub context: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    pub bucket_key: bool,
}

impl SseRequest {
    /// The request's SSE headers, checked: `x-amz-server-side-encryption` (`AES256` or
    /// `aws:kms`), the SSE-C key, and the SSE-KMS headers in `kms` (which need `aws:kms`, as
    /// S3 says); SSE-C with either of the others is refused, as S3 refuses it.
    pub fn from_headers(
        server_side_encryption: Option<&str>,
        customer: Option<CustomerKey>,
        kms: KmsRequest,
    ) -> Result<Option<Self>, ObjectError> {
        let kms_headers = kms.key_id.is_some() || kms.context.is_some();
        if kms_headers && server_side_encryption != Some(KMS_ALGORITHM) {
            return Err(ObjectError::InvalidArgument(
                "Server Side Encryption with KMS managed key requires HTTP header \
                 x-amz-server-side-encryption : aws:kms"
                    .into(),
            ));
        }
        if let Some(c) = &kms.context {
            super::kms::check_context(c)?;
        }
        match (server_side_encryption, customer) {
            (Some(_), Some(_)) => Err(ObjectError::InvalidArgument(
                "Server Side Encryption with Customer provided key is incompatible with the \
                 encryption method specified (x-amz-server-side-encryption)"
                    .into(),
            )),
            (None, c) => Ok(c.map(SseRequest::Customer)),
            (Some(ALGORITHM), None) => Ok(Some(SseRequest::S3)),
            (Some(KMS_ALGORITHM), None) => Ok(Some(SseRequest::Kms(kms))),
            (Some(k @ "aws:kms:dsse"), None) => Err(ObjectError::NotImplemented(format!(
                "x-amz-server-side-encryption: {k} (dual-layer SSE-KMS) is not served; AES256, \
                 aws:kms and SSE-C are"
            ))),
            (Some(other), None) => Err(ObjectError::InvalidArgument(format!(
                "x-amz-server-side-encryption: {other:?} is not a valid value (AES256, aws:kms)"
            ))),
        }
    }

    /// What the version records (an SSE-KMS request resolved by [`for_write`]).
    pub fn encryption(&self) -> Encryption {
        match self {
            SseRequest::S3 => Encryption::S3,
            SseRequest::Customer(c) => Encryption::Customer {
                key_md5: c.md5.clone(),
            },
            SseRequest::Kms(k) => Encryption::Kms {
                key_id: k.key_id.clone().unwrap_or_default(),
                context: k.context.clone(),
                bucket_key: k.bucket_key,
            },
        }
    }
}

impl Encryption {
    /// Check that a read of data encrypted so brings what it needs: nothing for SSE-S3, the
    /// same client key for SSE-C. `customer`: the key the request sent, if any.
    pub fn check_read(&self, customer: Option<&CustomerKey>) -> Result<(), ObjectError> {
        match (self, customer) {
            (Encryption::S3 | Encryption::Kms { .. }, None) => Ok(()),
            (Encryption::S3 | Encryption::Kms { .. }, Some(_)) => Err(not_applicable()),
            (Encryption::Customer { .. }, None) => Err(ObjectError::InvalidRequest(
                "The object was stored using a form of Server Side Encryption. The correct \
                 parameters must be provided to retrieve the object (SSE-C: \
                 x-amz-server-side-encryption-customer-algorithm, -key and -key-MD5)"
                    .into(),
            )),
            (Encryption::Customer { key_md5 }, Some(c)) if *key_md5 != c.md5 => {
                Err(wrong_key(&c.md5))
            }
            (Encryption::Customer { .. }, Some(_)) => Ok(()),
        }
    }
}

/// [`Encryption::check_read`] for a version that may be stored in clear (`None`), which
/// refuses any key.
pub fn check_read(
    encryption: Option<&Encryption>,
    customer: Option<&CustomerKey>,
) -> Result<(), ObjectError> {
    match (encryption, customer) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(not_applicable()),
        (Some(e), c) => e.check_read(c),
    }
}

/// A read of an unencrypted (or SSE-S3) object that sends an SSE-C key.
pub fn not_applicable() -> ObjectError {
    ObjectError::InvalidRequest(
        "The encryption parameters are not applicable to this object (it is not stored with \
         SSE-C)"
            .into(),
    )
}

/// The stored key's MD5 is not told: a caller with the wrong key learns nothing of the right
/// one (S3 echoes the MD5 only to requests that bring the key).
fn wrong_key(given_md5: &str) -> ObjectError {
    ObjectError::InvalidRequest(format!(
        "The provided SSE-C key (MD5 {given_md5}) does not match the one the object was stored \
         with"
    ))
}

/// A data key whose sealed form did not open under a key whose MD5 matched: the stored
/// record is damaged (or the key file was replaced).
pub fn unseal_failed(what: &str) -> ObjectError {
    ObjectError::Internal(format!(
        "{what}: its data key does not open under the key it was sealed with (a damaged \
         record, or a replaced sse-s3.key)"
    ))
}

impl ObjectStore {
    /// PutBucketEncryption: writes to `bucket` that ask for no encryption get `default`
    /// (SSE-S3, or SSE-KMS with the key as configured). `block_sse_c` is the rule's
    /// `BlockedEncryptionTypes`:
    /// `Some(true)` for `SSE-C`, `Some(false)` for `NONE`, `None` when the rule names none (the
    /// bucket's setting is kept as it is).
    pub fn put_bucket_encryption(
        &self,
        bucket: &str,
        default: Encryption,
        block_sse_c: Option<bool>,
    ) -> Result<(), ObjectError> {
        if matches!(default, Encryption::Customer { .. }) {
            return Err(ObjectError::InvalidArgument(
                "a bucket's default encryption is SSE-S3 (AES256) or SSE-KMS (aws:kms)".into(),
            ));
        }
        self.update_bucket(bucket, |b| {
            b.default_encryption = Some(default);
            if let Some(block) = block_sse_c {
                b.sse_c_blocked = block;
            }
            Ok(())
        })
        .map(|_| ())
    }

    /// GetBucketEncryption: the default and whether SSE-C is blocked;
    /// ServerSideEncryptionConfigurationNotFoundError when none is set.
    pub fn bucket_encryption(&self, bucket: &str) -> Result<(Encryption, bool), ObjectError> {
        let b = self.bucket(bucket)?;
        b.default_encryption
            .map(|e| (e, b.sse_c_blocked))
            .ok_or_else(|| ObjectError::NoEncryptionConfiguration(bucket.into()))
    }

    /// DeleteBucketEncryption (nothing to delete is no error): the whole configuration goes,
    /// the SSE-C block with it.
    pub fn delete_bucket_encryption(&self, bucket: &str) -> Result<(), ObjectError> {
        self.update_bucket(bucket, |b| {
            b.default_encryption = None;
            b.sse_c_blocked = false;
            Ok(())
        })
        .map(|_| ())
    }
}

/// The encryption a write to bucket `b` gets: what it asks for, else the bucket's default,
/// with an SSE-KMS key resolved to its ARN by `kms` (or refused, unknown). A write asking for
/// SSE-C where the bucket blocks it is refused, as S3 refuses it (403 AccessDenied).
pub(super) fn for_write(
    b: &BucketMeta,
    asked: Option<&SseRequest>,
    kms: &super::kms::Kms,
) -> Result<Option<SseRequest>, ObjectError> {
    let chosen = choose(b, asked)?;
    Ok(match chosen {
        Some(SseRequest::Kms(k)) => Some(SseRequest::Kms(KmsRequest {
            key_id: Some(kms.resolve(b, k.key_id.as_deref())?),
            ..k
        })),
        other => other,
    })
}

/// What a write asks for, else the bucket's default (unresolved).
fn choose(b: &BucketMeta, asked: Option<&SseRequest>) -> Result<Option<SseRequest>, ObjectError> {
    Ok(match (asked, &b.default_encryption) {
        (Some(SseRequest::Customer(_)), _) if b.sse_c_blocked => {
            return Err(ObjectError::AccessDenied(format!(
                "bucket {} blocks SSE-C for new objects (its encryption configuration's \
                 BlockedEncryptionTypes); write without the \
                 x-amz-server-side-encryption-customer-* headers, or unblock it with \
                 BlockedEncryptionTypes NONE",
                b.name
            )))
        }
        (Some(a), _) => Some(a.clone()),
        (None, Some(Encryption::S3)) => Some(SseRequest::S3),
        (
            None,
            Some(Encryption::Kms {
                key_id, bucket_key, ..
            }),
        ) => Some(SseRequest::Kms(KmsRequest {
            key_id: (!key_id.is_empty()).then(|| key_id.clone()),
            context: None,
            bucket_key: *bucket_key,
        })),
        (None, _) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
    const KEY_MD5: &str = "DWygnHRtgiJ77HCm+1rvHw==";

    #[test]
    fn customer_keys_are_checked_as_s3_checks_them() {
        let k = CustomerKey::from_headers(Some("AES256"), Some(KEY), Some(KEY_MD5))
            .unwrap()
            .unwrap();
        assert_eq!(k.md5(), KEY_MD5);
        assert!(CustomerKey::from_headers(None, None, None)
            .unwrap()
            .is_none());
        for (a, k, m, says) in [
            (None, Some(KEY), Some(KEY_MD5), "valid encryption algorithm"),
            (Some("AES256"), None, None, "secret key"),
            (Some("AES256"), Some(KEY), None, "MD5 of the secret key"),
            (
                Some("AES256"),
                Some(KEY),
                Some("AAAAAAAAAAAAAAAAAAAAAA=="),
                "did not match",
            ),
            (Some("AES128"), Some(KEY), Some(KEY_MD5), "not supported"),
            (
                Some("AES256"),
                Some("c2hvcnQ="),
                Some(KEY_MD5),
                "takes 32 bytes",
            ),
        ] {
            let e = CustomerKey::from_headers(a, k, m).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn a_data_key_opens_only_under_the_key_it_was_sealed_with() {
        let (kek, other, data) = (
            Key::random().unwrap(),
            Key::random().unwrap(),
            Key::random().unwrap(),
        );
        let sealed = kek.seal(&data).unwrap();
        assert_eq!(sealed.0.len(), SealedKey::TEXT_LEN);
        assert_eq!(kek.unseal(&sealed), Some(data.clone()));
        assert_eq!(other.unseal(&sealed), None);
        // Sealing twice gives two texts (fresh nonces), both opening to the same key.
        let again = kek.seal(&data).unwrap();
        assert_ne!(sealed, again);
        assert_eq!(kek.unseal(&again), Some(data));
    }

    #[test]
    fn any_range_decrypts_from_its_own_offset() {
        let key = Key::random().unwrap();
        let plain: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        // Encrypted in pieces of odd sizes, as stripes and shards cut it: the key stream must
        // continue across them.
        let mut cipher = plain.clone();
        for (i, piece) in cipher.chunks_mut(333).enumerate() {
            key.apply((i * 333) as u64, piece);
        }
        assert_ne!(cipher, plain);
        for (a, b) in [
            (0, 10_000),
            (1, 17),
            (4095, 4097),
            (9_999, 10_000),
            (16, 48),
        ] {
            let mut part = cipher[a..b].to_vec();
            key.apply(a as u64, &mut part);
            assert_eq!(part, plain[a..b], "{a}..{b}");
        }
    }

    #[test]
    fn the_description_room_covers_both_fields() {
        use super::super::meta::Segment;
        let k = Key::random().unwrap();
        let seg = |sealed_key| Segment {
            data_id: "0".repeat(32),
            size: 1,
            part_number: None,
            checksum: None,
            sealed_key,
        };
        let plain = serde_json::to_string(&seg(None)).unwrap().len();
        let sealed = serde_json::to_string(&seg(Some(k.seal(&k).unwrap())))
            .unwrap()
            .len();
        for e in [
            Encryption::Customer {
                key_md5: "DWygnHRtgiJ77HCm+1rvHw==".into(),
            },
            Encryption::Kms {
                key_id: "arn:aws:kms:us-east-1:111111111111:key/testkey-1".into(),
                context: Some("eyJhIjogImIifQ==".into()),
                bucket_key: true,
            },
        ] {
            let enc = serde_json::to_string(&e).unwrap().len();
            assert!(sealed - plain + enc + r#","encryption":"#.len() <= description_room(&e));
        }
    }

    #[test]
    fn reads_need_the_key_the_object_was_written_with() {
        let k = CustomerKey::from_headers(Some("AES256"), Some(KEY), Some(KEY_MD5))
            .unwrap()
            .unwrap();
        let c = SseRequest::Customer(k.clone()).encryption();
        assert!(c.check_read(Some(&k)).is_ok());
        assert_eq!(c.check_read(None).unwrap_err().code(), "InvalidRequest");
        let other = Encryption::Customer {
            key_md5: "arxBvwY2V4SiOne6yppVPQ==".into(),
        };
        assert!(other
            .check_read(Some(&k))
            .unwrap_err()
            .to_string()
            .contains("does not match"));
        assert!(Encryption::S3.check_read(None).is_ok());
        assert_eq!(
            Encryption::S3.check_read(Some(&k)).unwrap_err().code(),
            "InvalidRequest"
        );
        let none = KmsRequest::default;
        assert!(SseRequest::from_headers(Some("AES256"), Some(k.clone()), none()).is_err());
        assert!(SseRequest::from_headers(Some("aws:kms"), Some(k), none()).is_err());
        assert!(matches!(
            SseRequest::from_headers(Some("aws:kms"), None, none()),
            Ok(Some(SseRequest::Kms(_)))
        ));
        // The KMS headers need aws:kms.
        let named = KmsRequest {
            key_id: Some("k".into()),
            ..none()
        };
        for sse in [None, Some("AES256")] {
            let e = SseRequest::from_headers(sse, None, named.clone()).unwrap_err();
            assert!(e.to_string().contains("requires"), "{e}");
        }
        assert_eq!(
            SseRequest::from_headers(Some("aws:kms:dsse"), None, none())
                .unwrap_err()
                .code(),
            "NotImplemented"
        );
        let kms = Encryption::Kms {
            key_id: "arn:aws:kms:us-east-1:1:key/k".into(),
            context: None,
            bucket_key: false,
        };
        assert!(kms.check_read(None).is_ok());
    }
}
