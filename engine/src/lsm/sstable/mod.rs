//! Sorted string tables: immutable files of sorted internal keys. The byte-level format is in
//! `docs/formats/sstable.md`; each part has its own module.
//!
//! ```text
//! [data block 0][data block 1]...[filter block][index block][properties block][footer]
//! ```
//! Every block is followed by a trailer (a type byte and a CRC, `framing.rs`); data blocks may
//! be compressed (`compression.rs`).

pub mod block;
pub mod builder;
pub mod compression;
pub mod filter;
pub mod footer;
pub mod framing;
pub mod index;
pub mod reader;

pub use builder::{TableBuilder, TableOptions};
pub use compression::Compression;
pub use reader::{Found, TableIter, TableReader};

/// A table file's name: `NNNNNN.sst`.
pub fn table_file_name(number: u64) -> String {
    format!("{number:06}.sst")
}
