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
//! - [`replicated`] — the metadata database copied on every disk, reconciled at open.
//! - [`repair`] — rebuild lost or corrupt metadata copies.
//! - [`store`] — open/create, buckets, versioning state.
//! - [`objects`] — PUT / GET / HEAD / DELETE / COPY, conditional writes, byte ranges.
//! - [`list`] — ListObjectsV2 and ListObjectVersions.
//! - [`multipart`] — multipart uploads.
//! - [`scrub`] — verify everything, heal from parity, remove orphans.
//! - [`compact`] — rewrite the live records of mostly-deleted packs, then free the packs.
//! - [`auth`] — IAM enforcement: every call as a principal, bucket policies.

pub mod auth;
pub mod blob;
pub mod compact;
pub mod erasure;
pub mod error;
pub mod layout;
pub mod list;
pub mod lsm_meta;
pub mod meta;
pub mod multipart;
pub mod names;
pub mod objects;
pub mod repair;
pub mod replicated;
pub mod scrub;
pub mod shard;
pub mod store;

pub use auth::{AuthorizedStore, Guard, Requester};
pub use error::ObjectError;
pub use list::{ListOptions, ListPage, ObjectSummary, VersionSummary};
pub use meta::{MetaStore, Versioning};
pub use objects::{ByteRange, DeleteResult, ObjectInfo, PutOptions, PutResult};
pub use scrub::{ScrubReport, Usage};
pub use store::{ObjectStore, StoreOptions};
