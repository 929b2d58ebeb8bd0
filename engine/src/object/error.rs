//! Object store errors, in S3's terms: each has the code `aws s3api` would print.

use super::blob::BlobError;
use super::layout::LayoutError;
use super::meta_error::MetaError;
use crate::io::IoError;

/// An object store error. `code()` gives S3's error code.
///
/// The store's own failures keep the lower layer's error as their source: [`Self::Metadata`]
/// (the metadata engine and its copies), [`Self::Io`] (files), [`Self::Blob`] (the shard
/// layer), [`Self::DataLoss`] (more shards lost than parity covers). [`Self::Internal`] is
/// left for broken invariants found in the store's own records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The bucket does not exist.
    #[error("NoSuchBucket: the bucket '{0}' does not exist")]
    NoSuchBucket(String),
    /// A bucket of that name exists.
    #[error("BucketAlreadyOwnedByYou: the bucket '{0}' already exists")]
    BucketAlreadyExists(String),
    /// A bucket of that name exists and belongs to another account.
    #[error("BucketAlreadyExists: the bucket '{0}' exists and belongs to another account")]
    BucketAlreadyExistsElsewhere(String),
    /// Only empty buckets can be deleted.
    #[error(
        "BucketNotEmpty: the bucket '{0}' is not empty (delete its objects and versions first)"
    )]
    BucketNotEmpty(String),
    /// The bucket name breaks S3's naming rules.
    #[error("InvalidBucketName: '{name}': {why}")]
    InvalidBucketName {
        /// The name given.
        name: String,
        /// Which rule it breaks.
        why: String,
    },
    /// The key has no current version (absent, or its latest version is a delete marker).
    #[error("NoSuchKey: {bucket}/{key} does not exist")]
    NoSuchKey {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The delete marker's version id, when the latest version is one (S3 sends it in
        /// `x-amz-version-id` beside `x-amz-delete-marker: true`).
        delete_marker: Option<String>,
    },
    /// No version with that id.
    #[error("NoSuchVersion: {bucket}/{key} has no version '{version_id}'")]
    NoSuchVersion {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The id asked for.
        version_id: String,
    },
    /// GET or HEAD of a version that is a delete marker.
    #[error("MethodNotAllowed: {bucket}/{key} version '{version_id}' is a delete marker")]
    MethodNotAllowed {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The delete marker's version id.
        version_id: String,
    },
    /// The key is not valid UTF-8 of 1 to 1024 bytes.
    #[error("KeyTooLongError: object keys are 1 to 1024 bytes of UTF-8; got {0} bytes")]
    InvalidKey(usize),
    /// A condition failed: `condition` names the header as S3's `<Condition>` element does
    /// (`If-Match`, `x-amz-copy-source-If-None-Match`, ...), `why` says what did not hold.
    #[error("PreconditionFailed: {condition}: {why}")]
    PreconditionFailed {
        /// The header whose condition failed.
        condition: String,
        /// What the object held instead.
        why: String,
    },
    /// The byte range cannot be satisfied.
    #[error("InvalidRange: the range {range} is not satisfiable for an object of {size} bytes")]
    InvalidRange {
        /// The range as given.
        range: String,
        /// The object's size.
        size: u64,
    },
    /// No multipart upload with that id.
    #[error("NoSuchUpload: no multipart upload '{0}' (completed, aborted or never started)")]
    NoSuchUpload(String),
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    #[error("InvalidPart: {0}")]
    InvalidPart(String),
    /// Parts in CompleteMultipartUpload must be in ascending order.
    #[error("InvalidPartOrder: part numbers must be listed in ascending order")]
    InvalidPartOrder,
    /// A part other than the last is below the minimum part size.
    #[error("EntityTooSmall: part {part} is {size} bytes; every part but the last must be at least {min} bytes")]
    EntityTooSmall {
        /// Part number.
        part: u32,
        /// Its size.
        size: u64,
        /// The minimum.
        min: u64,
    },
    /// The content does not match a digest the client sent (Content-MD5 or an
    /// `x-amz-checksum-*` value); nothing was written.
    #[error("BadDigest: {0}")]
    BadDigest(String),
    /// A conditional GET or HEAD (If-None-Match, If-Modified-Since) found nothing new.
    #[error("NotModified: {0}")]
    NotModified(String),
    /// The bucket policy is not a valid IAM resource policy.
    #[error("MalformedPolicy: {0}")]
    MalformedPolicy(String),
    /// An ACL document is not valid.
    #[error("MalformedACLError: {0}")]
    MalformedAcl(String),
    /// ACLs are disabled in this bucket (object ownership BucketOwnerEnforced).
    #[error("AccessControlListNotSupported: {0}")]
    AccessControlListNotSupported(String),
    /// BucketOwnerEnforced cannot be set while the bucket's ACL grants others access.
    #[error("InvalidBucketAclWithObjectOwnership: {0}")]
    InvalidBucketAclWithObjectOwnership(String),
    /// A tag set breaks S3's rules (too many tags, a key or value too long, a key twice, an
    /// `aws:` key).
    #[error("InvalidTag: {0}")]
    InvalidTag(String),
    /// A configuration document that does not validate (S3's MalformedXML).
    #[error("MalformedXML: {0}")]
    MalformedXml(String),
    /// PutBucketLogging names a target bucket that cannot take the logs.
    #[error("InvalidTargetBucketForLogging: {0}")]
    InvalidTargetBucketForLogging(String),
    /// The bucket has no CORS configuration (GetBucketCors).
    #[error("NoSuchCORSConfiguration: The CORS configuration does not exist ({0})")]
    NoSuchCorsConfiguration(String),
    /// The bucket has no lifecycle rules.
    #[error("NoSuchLifecycleConfiguration: The lifecycle configuration does not exist ({0})")]
    NoSuchLifecycleConfiguration(String),
    /// Object Lock protects the version (a legal hold, or a retention not over); `0` says which.
    #[error("AccessDenied: Access Denied because object protected by object lock. ({0})")]
    ObjectLocked(String),
    /// The bucket is not in a state that allows the request (Object Lock without versioning,
    /// versioning suspended under Object Lock).
    #[error("InvalidBucketState: {0}")]
    InvalidBucketState(String),
    /// The bucket has no Object Lock configuration.
    #[error("ObjectLockConfigurationNotFoundError: Object Lock configuration does not exist for this bucket ({0})")]
    ObjectLockConfigurationNotFound(String),
    /// The version has no retention (GetObjectRetention).
    #[error("NoSuchObjectLockConfiguration: The specified object does not have a ObjectLock configuration ({0})")]
    NoSuchObjectLockConfiguration(String),
    /// A request S3 refuses with its generic BadRequest (more than 10 tags on an object).
    #[error("BadRequest: {0}")]
    BadRequest(String),
    /// The bucket has no tags (GetBucketTagging).
    #[error("NoSuchTagSet: {0}")]
    NoSuchTagSet(String),
    /// The request is valid S3 but not in this combination (S3's InvalidRequest).
    #[error("InvalidRequest: {0}")]
    InvalidRequest(String),
    /// IAM did not allow the request; nothing was read or written.
    #[error("AccessDenied: {0}")]
    AccessDenied(String),
    /// A request argument is invalid.
    #[error("InvalidArgument: {0}")]
    InvalidArgument(String),
    /// An SSE-KMS write names a KMS key the built-in KMS does not have (`kms.rs`).
    #[error("KMS.NotFoundException: {0}")]
    KmsNotFound(String),
    /// The bucket has no default encryption (GetBucketEncryption).
    #[error(
        "ServerSideEncryptionConfigurationNotFoundError: The server side encryption configuration was not found ({0})"
    )]
    NoEncryptionConfiguration(String),
    /// A valid S3 request for a feature this store does not have (SSE-KMS).
    #[error("NotImplemented: {0}")]
    NotImplemented(String),
    /// The layout asked for at creation is invalid (the error names the field).
    #[error("InvalidArgument: {0}")]
    InvalidLayout(#[source] LayoutError),
    /// A store's `store.json` cannot be used: it does not parse or names an impossible layout.
    #[error("InternalError: {}: {source}", path.display())]
    BadLayout {
        /// The layout file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        #[source]
        source: LayoutError,
    },
    /// The request's body could not be read, or ended before its declared length.
    #[error("InvalidArgument: {0}")]
    Input(#[source] Box<BlobError>),
    /// A policy or ACL stored with a bucket or object no longer parses.
    #[error("InternalError: {what}: {source}")]
    StoredPolicy {
        /// Whose policy, e.g. "bucket b: stored policy or ACL unreadable".
        what: String,
        /// The parser's error.
        #[source]
        source: crate::iam::PolicyError,
    },
    /// The version is in an archive class (GLACIER, DEEP_ARCHIVE) and not restored, or a
    /// restore was asked of a version in a class that needs none.
    #[error("InvalidObjectState: {why}")]
    InvalidObjectState {
        /// The version's storage class (S3's `<StorageClass>` element).
        class: String,
        /// What is wrong.
        why: String,
    },
    /// RestoreObject while a restore of the version is still running.
    #[error("RestoreAlreadyInProgress: {0}")]
    RestoreAlreadyInProgress(String),
    /// The object's data cannot be read back correctly (more shards lost than parity covers).
    #[error("InternalError: {bucket}/{key} version '{version_id}': {source}")]
    DataLoss {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Version id.
        version_id: String,
        /// Which stripe, which shards, why (boxed: errors stay small on the happy path).
        #[source]
        source: Box<BlobError>,
    },
    /// The metadata store failed: its engine, its copies, or a record that does not parse.
    #[error("InternalError: {0}")]
    Metadata(#[from] MetaError),
    /// Opening the metadata copies in a store's directory failed.
    #[error("InternalError: opening the metadata of {}: {source}", dir.display())]
    OpenMetadata {
        /// The store's directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: MetaError,
    },
    /// A version is committed, but its description could not be written into its blob's
    /// shards (the PUT fails; the version stands and scrub writes the description again).
    #[error(
        "InternalError: the metadata is committed, but the description of blob {blob} could \
         not be written to its shards: {source}"
    )]
    DescriptionNotWritten {
        /// The blob's id (hex).
        blob: String,
        /// Why.
        #[source]
        source: Box<BlobError>,
    },
    /// A file operation of the store failed (the error names the operation and path).
    #[error("InternalError: {0}")]
    Io(#[from] IoError),
    /// New data refused because it would leave less than the store's space reserve free on
    /// a file system under its disks (`space.rs`): kept for deletes and the metadata.
    #[error(
        "InsufficientStorage: the file system of {} has {} free; this write needs {} there, \
         and the store keeps {} free for deletes and its metadata (the space reserve)",
        disk.display(), super::space::mib(available), super::space::mib(need),
        super::space::mib(reserve)
    )]
    SpaceReserve {
        /// The first of the store's disks on that file system.
        disk: std::path::PathBuf,
        /// Bytes free there.
        available: u64,
        /// Bytes the write would take there (its shards on every disk of that file system).
        need: u64,
        /// The reserve on that file system.
        reserve: u64,
    },
    /// A request that adds to the store (a metadata change too) refused because a file system
    /// under its disks has less than half the space reserve left: the rest is for deletes.
    #[error(
        "InsufficientStorage: the file system of {} has {} free, under half the space \
         reserve ({}): the store takes deletes only until space is freed",
        disk.display(), super::space::mib(available), super::space::mib(floor)
    )]
    DeletesOnly {
        /// The first of the store's disks on that file system.
        disk: std::path::PathBuf,
        /// Bytes free there.
        available: u64,
        /// Half the reserve.
        floor: u64,
    },
    /// The shard layer failed outside a data loss of one object (a shard file that cannot be
    /// created, a sink that stopped taking bytes, ...).
    #[error("{code}: {0}", code = .0.code())]
    Blob(#[source] Box<BlobError>),
    /// A broken invariant in the store's own records (a data id that does not parse, a
    /// segment that vanished).
    #[error("InternalError: {0}")]
    Internal(String),
}

impl ObjectError {
    /// Whether a full disk refused the write: a store failure that passes once space is freed
    /// (the metadata copies and the LSM resume by themselves).
    pub fn is_no_space(&self) -> bool {
        match self {
            ObjectError::Metadata(m) | ObjectError::OpenMetadata { source: m, .. } => {
                m.is_no_space()
            }
            ObjectError::Io(e) => matches!(e, IoError::NoSpace { .. }),
            ObjectError::SpaceReserve { .. } | ObjectError::DeletesOnly { .. } => true,
            ObjectError::Blob(b) | ObjectError::DescriptionNotWritten { source: b, .. } => {
                matches!(**b, BlobError::Io(IoError::NoSpace { .. }))
            }
            _ => false,
        }
    }

    /// Whether too many disks are missing to write anything (more than M of K + M): a store
    /// failure that passes once the disks are back.
    pub fn is_too_few_disks(&self) -> bool {
        matches!(self, ObjectError::Blob(b) if matches!(**b, BlobError::TooFewDisks { .. }))
    }

    /// S3's error code for this error. S3 never runs out of space, so a full disk has a code
    /// of its own, named after its HTTP status (507 Insufficient Storage): clients do not
    /// retry it as they would an `InternalError`, and the message says what to do.
    pub fn code(&self) -> &'static str {
        if self.is_no_space() {
            return "InsufficientStorage";
        }
        match self {
            ObjectError::NoSuchBucket(_) => "NoSuchBucket",
            ObjectError::BucketAlreadyExists(_) => "BucketAlreadyOwnedByYou",
            ObjectError::BucketAlreadyExistsElsewhere(_) => "BucketAlreadyExists",
            ObjectError::BucketNotEmpty(_) => "BucketNotEmpty",
            ObjectError::InvalidBucketName { .. } => "InvalidBucketName",
            ObjectError::NoSuchKey { .. } => "NoSuchKey",
            ObjectError::NoSuchVersion { .. } => "NoSuchVersion",
            ObjectError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ObjectError::InvalidKey(_) => "KeyTooLongError",
            ObjectError::PreconditionFailed { .. } => "PreconditionFailed",
            ObjectError::InvalidRange { .. } => "InvalidRange",
            ObjectError::NoSuchUpload(_) => "NoSuchUpload",
            ObjectError::InvalidPart(_) => "InvalidPart",
            ObjectError::InvalidPartOrder => "InvalidPartOrder",
            ObjectError::EntityTooSmall { .. } => "EntityTooSmall",
            ObjectError::AccessDenied(_) => "AccessDenied",
            ObjectError::BadDigest(_) => "BadDigest",
            ObjectError::NotModified(_) => "NotModified",
            ObjectError::MalformedPolicy(_) => "MalformedPolicy",
            ObjectError::MalformedAcl(_) => "MalformedACLError",
            ObjectError::AccessControlListNotSupported(_) => "AccessControlListNotSupported",
            ObjectError::InvalidBucketAclWithObjectOwnership(_) => {
                "InvalidBucketAclWithObjectOwnership"
            }
            ObjectError::InvalidRequest(_) => "InvalidRequest",
            ObjectError::InvalidTag(_) => "InvalidTag",
            ObjectError::BadRequest(_) => "BadRequest",
            ObjectError::InvalidBucketState(_) => "InvalidBucketState",
            ObjectError::ObjectLocked(_) => "AccessDenied",
            ObjectError::MalformedXml(_) => "MalformedXML",
            ObjectError::NoSuchCorsConfiguration(_) => "NoSuchCORSConfiguration",
            ObjectError::NoSuchLifecycleConfiguration(_) => "NoSuchLifecycleConfiguration",
            ObjectError::InvalidTargetBucketForLogging(_) => "InvalidTargetBucketForLogging",
            ObjectError::ObjectLockConfigurationNotFound(_) => {
                "ObjectLockConfigurationNotFoundError"
            }
            ObjectError::NoSuchObjectLockConfiguration(_) => "NoSuchObjectLockConfiguration",
            ObjectError::NoSuchTagSet(_) => "NoSuchTagSet",
            ObjectError::NotImplemented(_) => "NotImplemented",
            ObjectError::NoEncryptionConfiguration(_) => {
                "ServerSideEncryptionConfigurationNotFoundError"
            }
            ObjectError::KmsNotFound(_) => "KMS.NotFoundException",
            ObjectError::InvalidObjectState { .. } => "InvalidObjectState",
            ObjectError::RestoreAlreadyInProgress(_) => "RestoreAlreadyInProgress",
            ObjectError::SpaceReserve { .. } | ObjectError::DeletesOnly { .. } => {
                "InsufficientStorage"
            }
            ObjectError::InvalidArgument(_)
            | ObjectError::InvalidLayout(_)
            | ObjectError::Input(_) => "InvalidArgument",
            ObjectError::DataLoss { .. }
            | ObjectError::BadLayout { .. }
            | ObjectError::StoredPolicy { .. }
            | ObjectError::Metadata(_)
            | ObjectError::OpenMetadata { .. }
            | ObjectError::DescriptionNotWritten { .. }
            | ObjectError::Io(_)
            | ObjectError::Internal(_) => "InternalError",
            // `ServiceUnavailable` when too many disks are missing to write, as its text says.
            ObjectError::Blob(b) => b.code(),
        }
    }

    /// The HTTP status S3 would answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            ObjectError::NoSuchBucket(_)
            | ObjectError::NoSuchKey { .. }
            | ObjectError::NoSuchVersion { .. }
            | ObjectError::NoSuchUpload(_)
            | ObjectError::NoSuchTagSet(_)
            | ObjectError::ObjectLockConfigurationNotFound(_)
            | ObjectError::NoSuchCorsConfiguration(_)
            | ObjectError::NoSuchLifecycleConfiguration(_)
            | ObjectError::NoSuchObjectLockConfiguration(_)
            | ObjectError::NoEncryptionConfiguration(_) => 404,
            ObjectError::InvalidBucketState(_) => 409,
            ObjectError::BucketAlreadyExists(_)
            | ObjectError::BucketAlreadyExistsElsewhere(_)
            | ObjectError::BucketNotEmpty(_) => 409,
            ObjectError::MethodNotAllowed { .. } => 405,
            ObjectError::AccessDenied(_)
            | ObjectError::ObjectLocked(_)
            | ObjectError::InvalidObjectState { .. } => 403,
            ObjectError::RestoreAlreadyInProgress(_) => 409,
            ObjectError::PreconditionFailed { .. } => 412,
            ObjectError::InvalidRange { .. } => 416,
            ObjectError::NotModified(_) => 304,
            ObjectError::NotImplemented(_) => 501,
            _ if self.is_no_space() => 507,
            _ if self.is_too_few_disks() => 503,
            _ if self.code() == "InternalError" => 500,
            _ => 400,
        }
    }

    /// True for a failure of the store itself (metadata, files, shard layer, a broken
    /// invariant), as opposed to a request refused or an object's data lost. After such a
    /// failure in a write, whether the write reached the metadata log is unknown.
    pub fn is_store_failure(&self) -> bool {
        matches!(
            self,
            ObjectError::Metadata(_)
                | ObjectError::BadLayout { .. }
                | ObjectError::StoredPolicy { .. }
                | ObjectError::OpenMetadata { .. }
                | ObjectError::DescriptionNotWritten { .. }
                | ObjectError::Io(_)
                | ObjectError::Blob(_)
                | ObjectError::Internal(_)
        )
    }

    /// True when a read stopped because the writer it was streaming into failed (for a GET:
    /// the client went away or stopped reading) — the store itself is fine.
    pub fn is_sink_failure(&self) -> bool {
        matches!(self, ObjectError::Blob(b) if matches!(**b, BlobError::Sink(_)))
    }
}

impl From<BlobError> for ObjectError {
    fn from(e: BlobError) -> Self {
        ObjectError::Blob(Box::new(e))
    }
}
