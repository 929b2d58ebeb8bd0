//! The parity object store: S3's model on erasure-coded, checksummed shards.
//!
//! - [`layout`] — K data + M parity shards over K + M directories; stripe geometry.
//! - [`erasure`] — Reed-Solomon encode / reconstruct of one stripe.
//! - [`shard`] — the shard file format, byte for byte (header, blocks, checksum trailer).
//! - [`blob`] — one object's data striped over the shard files: write, verified read with
//!   reconstruction, verify and heal.

pub mod blob;
pub mod erasure;
pub mod layout;
pub mod shard;
