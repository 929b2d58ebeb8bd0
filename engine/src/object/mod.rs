//! The parity object store: S3's model on erasure-coded, checksummed shards.
//!
//! Data path (what sits on the disks):
//! - [`layout`] — K data + M parity shards over K + M directories; stripe geometry.
//! - [`erasure`] — Reed-Solomon encode / reconstruct of one stripe.
//! - [`shard`] — the shard file format, byte for byte (header, blocks, checksum trailer).
//! - [`blob`] — one object's data striped over the shard files: write, verified read with
//!   reconstruction, verify and heal.
//!
//! S3's model (what the metadata engine holds):
//! - [`meta`] — records and key layout in the ordered key-value store.
//! - [`meta_error`] — why the metadata store failed, with the lower layer's error kept.
//! - [`replicated`] — the metadata database copied on every disk, reconciled at open.
//! - [`repair`] — rebuild lost or corrupt metadata copies.
//! - [`store`] — open/create, buckets, versioning state.
//! - [`objects`] — PUT / GET / HEAD / DELETE / COPY, conditional writes, byte ranges.
//! - [`read`] — GET/HEAD: resolve, conditions ([`conditions`]), ranges and parts, streaming
//!   with the blobs pinned ([`pins`]) so a slow reader holds no lock.
//! - [`checksum`] — CRC32/CRC32C/CRC64NVME/SHA-1/SHA-256 checksums, checked and stored.
//! - [`list`] — ListObjects(V2) and ListObjectVersions.
//! - [`multipart`] — multipart uploads.
//! - [`scrub`] — verify everything, heal from parity, remove orphans.
//! - [`compact`] — rewrite the live records of mostly-deleted packs, then free the packs.
//!
//! Who owns what, and who may do what:
//! - [`owner`] — accounts as S3 shows them (canonical ID, display name).
//! - [`acl`] — ACLs and canned ACLs, evaluated as the resource policies they are equivalent to.
//! - [`bucket_config`] — bucket policy, ACL, object ownership, Block Public Access.
//! - [`object_acl`] — an object version's ACL.
//! - [`auth`] — IAM above the store: [`AuthorizedStore`] = store + [`Guard`] + caller.

pub mod access_log;
pub mod acl;
pub mod auth;
pub mod blob;
pub mod bucket_config;
pub mod checksum;
pub mod compact;
pub mod conditions;
pub mod cors;
pub mod describe;
pub mod erasure;
pub mod error;
pub mod kms;
pub mod layout;
pub mod lifecycle;
pub mod list;
pub mod lsm_meta;
pub mod meta;
pub mod meta_error;
pub mod multipart;
pub mod names;
pub mod object_acl;
pub mod object_lock;
pub mod object_tags;
pub mod objects;
pub mod on_disk;
pub mod owner;
pub mod pins;
pub mod read;
pub mod rebuild;
pub mod repair;
pub mod replicated;
pub mod restore;
pub mod scrub;
pub mod select;
pub mod shard;
pub mod space;
pub mod sse;
pub mod store;
pub mod transition;

pub use acl::{Acl, CannedAcl, Grant, Grantee, Group, Permission};
pub use auth::{AuthorizedStore, Guard, Requester};
pub use blob::ChunkSink;
pub use bucket_config::{ObjectOwnership, PublicAccessBlock};
pub use checksum::{ChecksumAlgorithm, ChecksumRequest, ChecksumType, ObjectChecksum};
pub use conditions::Conditions;
pub use cors::{CorsAnswer, CorsRule};
pub use error::ObjectError;
pub use list::{ListOptions, ListPage, ObjectSummary, VersionSummary};
pub use meta::{MetaSnapshot, MetaStore, SystemMeta, Versioning};
pub use meta_error::MetaError;
pub use multipart::{CompleteOptions, CompletePart, PartOptions, PartResult};
pub use object_lock::{DefaultRetention, LockMode, ObjectLockConfig, Retention};
pub use object_tags::{check_object_tags, MAX_OBJECT_TAGS};
pub use objects::{
    AclRequest, ByteRange, CopyOptions, CopyResult, DeleteOptions, DeleteResult, ObjectInfo,
    PartInfo, PutOptions, PutResult,
};
pub use owner::{AccountInfo, Accounts, Owner};
pub use read::{GetOptions, ObjectReader};
pub use scrub::{ScrubReport, Usage};
pub use space::{FileSystemSpace, SpaceReserve};
pub use store::{NewBucket, ObjectStore, StoreOptions};
