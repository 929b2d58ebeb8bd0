//! Server-side encryption headers: a request's `x-amz-server-side-encryption` and SSE-C
//! `x-amz-server-side-encryption-customer-*` headers to the engine's types (which check them,
//! `engine/src/object/sse.rs`), and a version's encryption back to the headers S3 answers with.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use seedbed_engine::object::sse::{
    CustomerKey, Encryption, KmsRequest, SseRequest, ALGORITHM, KMS_ALGORITHM,
};
use seedbed_engine::object::ObjectError;

use super::endpoint::Endpoint;

/// The SSE-C key a request sent (as the three headers), checked.
pub fn customer_key(
    algorithm: Option<&String>,
    key: Option<&String>,
    key_md5: Option<&String>,
) -> Result<Option<CustomerKey>, ObjectError> {
    CustomerKey::from_headers(
        algorithm.map(String::as_str),
        key.map(String::as_str),
        key_md5.map(String::as_str),
    )
}

/// The SSE-C key of an s3s input (every input that takes one names its three fields
/// `sse_customer_algorithm`, `sse_customer_key`, `sse_customer_key_md5`; a copy's source key
/// has the `copy_source_` prefix): `sse_key!(input)`, `sse_key!(copy_source input)`.
macro_rules! sse_key {
    (copy_source $input:expr) => {
        $crate::s3::sse::customer_key(
            $input.copy_source_sse_customer_algorithm.as_ref(),
            $input.copy_source_sse_customer_key.as_ref(),
            $input.copy_source_sse_customer_key_md5.as_ref(),
        )
    };
    ($input:expr) => {
        $crate::s3::sse::customer_key(
            $input.sse_customer_algorithm.as_ref(),
            $input.sse_customer_key.as_ref(),
            $input.sse_customer_key_md5.as_ref(),
        )
    };
}
pub(crate) use sse_key;

/// What a write asks for (`x-amz-server-side-encryption`, the SSE-C headers and the SSE-KMS
/// ones of an s3s input that has all three): `sse_request!(input)`.
macro_rules! sse_request {
    ($input:expr) => {
        $crate::s3::sse::request(
            $input.server_side_encryption.as_ref(),
            $crate::s3::sse::customer_key(
                $input.sse_customer_algorithm.as_ref(),
                $input.sse_customer_key.as_ref(),
                $input.sse_customer_key_md5.as_ref(),
            ),
            seedbed_engine::object::sse::KmsRequest {
                key_id: $input.ssekms_key_id.clone(),
                context: $input.ssekms_encryption_context.clone(),
                bucket_key: $input.bucket_key_enabled.unwrap_or(false),
            },
        )
    };
}
pub(crate) use sse_request;

/// What a write asks for: `x-amz-server-side-encryption`, the SSE-C key and the SSE-KMS
/// headers together.
pub fn request(
    server_side_encryption: Option<&ServerSideEncryption>,
    customer: Result<Option<CustomerKey>, ObjectError>,
    kms: KmsRequest,
) -> Result<Option<SseRequest>, ObjectError> {
    SseRequest::from_headers(
        server_side_encryption.map(ServerSideEncryption::as_str),
        customer?,
        kms,
    )
}

/// GET and HEAD decrypt whatever the object's encryption: S3 refuses a read that sends
/// `x-amz-server-side-encryption` (s3s's read inputs have no such field, so the header is
/// looked at here).
pub fn refuse_on_read(headers: &http::HeaderMap) -> Result<(), ObjectError> {
    match headers.get("x-amz-server-side-encryption") {
        None => Ok(()),
        Some(_) => Err(ObjectError::InvalidArgument(
            "x-amz-server-side-encryption is for writes; a GET or HEAD decrypts without it \
             (SSE-C objects take the x-amz-server-side-encryption-customer-* headers)"
                .into(),
        )),
    }
}

/// The encryption headers of a response about a version (or an upload) encrypted so.
#[derive(Default)]
pub struct SseFields {
    /// `x-amz-server-side-encryption: AES256` (SSE-S3).
    pub server_side_encryption: Option<ServerSideEncryption>,
    /// `x-amz-server-side-encryption-customer-algorithm: AES256` (SSE-C).
    pub customer_algorithm: Option<String>,
    /// `x-amz-server-side-encryption-customer-key-MD5` (SSE-C): the key's MD5, never the key.
    pub customer_key_md5: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id` (SSE-KMS): the KMS key's ARN.
    pub kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-context` (SSE-KMS, as written).
    pub kms_context: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled` (SSE-KMS, when on).
    pub bucket_key_enabled: Option<bool>,
}

impl SseFields {
    /// The headers for `encryption`.
    pub fn of(encryption: Option<&Encryption>) -> Self {
        match encryption {
            None => SseFields::default(),
            Some(Encryption::S3) => SseFields {
                server_side_encryption: Some(ServerSideEncryption::from_static(ALGORITHM)),
                ..SseFields::default()
            },
            Some(Encryption::Customer { key_md5 }) => SseFields {
                customer_algorithm: Some(ALGORITHM.to_string()),
                customer_key_md5: Some(key_md5.clone()),
                ..SseFields::default()
            },
            Some(Encryption::Kms {
                key_id,
                context,
                bucket_key,
            }) => SseFields {
                server_side_encryption: Some(ServerSideEncryption::from_static(KMS_ALGORITHM)),
                kms_key_id: Some(key_id.clone()),
                kms_context: context.clone(),
                bucket_key_enabled: bucket_key.then_some(true),
                ..SseFields::default()
            },
        }
    }
}

/// The private response header that asks `as_s3_answers` (mod.rs) for GetBucketEncryption's
/// `BlockedEncryptionTypes` element; never sent.
pub const BLOCKED_TYPES_HEADER: &str = "x-seedbed-blocked-encryption-types";

impl Endpoint {
    /// PutBucketEncryption: one rule, SSE-S3 (`AES256`) or SSE-KMS (`aws:kms`, with the
    /// `KMSMasterKeyID` as given, resolved at each write, and `BucketKeyEnabled`). The rule's
    /// `BlockedEncryptionTypes`, which s3s's model lacks, comes from [`super::xml_mend`].
    pub(super) async fn put_bucket_encryption(
        &self,
        req: S3Request<PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<PutBucketEncryptionOutput>> {
        let cx = self.cx(&req);
        let block_sse_c = req
            .extensions
            .get::<super::xml_mend::BlockSseC>()
            .map(|b| b.0);
        let input = req.input;
        let rules = &input.server_side_encryption_configuration.rules;
        let (by_default, bucket_key) = match rules.as_slice() {
            [rule] => (
                rule.apply_server_side_encryption_by_default.as_ref(),
                rule.bucket_key_enabled.unwrap_or(false),
            ),
            _ => (None, false),
        };
        let algorithm = by_default.map(|d| d.sse_algorithm.as_str());
        let key_id = by_default.and_then(|d| d.kms_master_key_id.clone());
        let default = match algorithm {
            Some(ALGORITHM) if key_id.is_none() => Encryption::S3,
            Some(ALGORITHM) => {
                return Err(cx.object_err(&ObjectError::InvalidArgument(
                    "KMSMasterKeyID goes with SSEAlgorithm aws:kms, not AES256".into(),
                )))
            }
            Some(KMS_ALGORITHM) => Encryption::Kms {
                key_id: key_id.unwrap_or_default(),
                context: None,
                bucket_key,
            },
            Some(k @ "aws:kms:dsse") => {
                return Err(cx.object_err(&ObjectError::NotImplemented(format!(
                    "SSEAlgorithm {k} (dual-layer SSE-KMS) is not served; AES256 and aws:kms are"
                ))))
            }
            _ => {
                return Err(cx.object_err(&ObjectError::MalformedXml(
                    "a ServerSideEncryptionConfiguration holds one Rule whose \
                     ApplyServerSideEncryptionByDefault names SSEAlgorithm AES256 or aws:kms"
                        .into(),
                )))
            }
        };
        let bucket = input.bucket;
        cx.run(Vec::new(), move |s| {
            s.put_bucket_encryption(&bucket, default, block_sse_c)
        })
        .await?;
        Ok(S3Response::new(PutBucketEncryptionOutput {}))
    }

    /// GetBucketEncryption. A blocked SSE-C is shown as S3 shows it, in the rule's
    /// `BlockedEncryptionTypes`, which s3s's model lacks: asked for in a private header that
    /// `as_s3_answers` (mod.rs) turns into the element.
    pub(super) async fn get_bucket_encryption(
        &self,
        req: S3Request<GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<GetBucketEncryptionOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        let (default, sse_c_blocked) = cx
            .run(Vec::new(), move |s| s.bucket_encryption(&bucket))
            .await?;
        let (algorithm, key_id, bucket_key) = match default {
            Encryption::Kms {
                key_id, bucket_key, ..
            } => (
                KMS_ALGORITHM,
                (!key_id.is_empty()).then_some(key_id),
                bucket_key,
            ),
            _ => (ALGORITHM, None, false),
        };
        let mut resp = S3Response::new(GetBucketEncryptionOutput {
            server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
                rules: vec![ServerSideEncryptionRule {
                    apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                        kms_master_key_id: key_id,
                        sse_algorithm: ServerSideEncryption::from_static(algorithm),
                    }),
                    bucket_key_enabled: Some(bucket_key),
                }],
            }),
        });
        if sse_c_blocked {
            resp.headers.insert(
                BLOCKED_TYPES_HEADER,
                http::HeaderValue::from_static("SSE-C"),
            );
        }
        Ok(resp)
    }

    /// DeleteBucketEncryption.
    pub(super) async fn delete_bucket_encryption(
        &self,
        req: S3Request<DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<DeleteBucketEncryptionOutput>> {
        let cx = self.cx(&req);
        let bucket = req.input.bucket;
        cx.run(Vec::new(), move |s| s.delete_bucket_encryption(&bucket))
            .await?;
        Ok(S3Response::with_status(
            DeleteBucketEncryptionOutput {},
            http::StatusCode::NO_CONTENT,
        ))
    }
}
