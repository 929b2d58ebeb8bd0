//! Writes one SSTable: data blocks as keys arrive, then the filter, properties and index
//! blocks and the footer. Output is buffered and written in large sequential chunks; the file
//! is synced before [`TableBuilder::finish`] returns, so a table named in the manifest is
//! always whole on disk.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};

use crate::io::FileHandle;
use crate::lsm::error::{LsmError, Result};
use crate::lsm::key::{self, ValueKind};

use super::block::BlockBuilder;
use super::compression::{BlockType, Compression, Compressor};
use super::filter::{build_filter, key_hash};
use super::footer::{Footer, TableProperties, FORMAT_VERSION};
use super::framing::{append_raw_block, seal_block, TRAILER_BYTES};
use super::index::BlockHandle;

/// Bytes buffered before a write to the file.
const WRITE_CHUNK_BYTES: usize = 1024 * 1024;

/// Settings for building tables.
#[derive(Clone, Copy, Debug)]
pub struct TableOptions {
    /// Target data block size before the trailer (bytes).
    pub block_bytes: usize,
    /// Entries between restart points in data blocks.
    pub restart_interval: usize,
    /// Bloom filter bits per key (0 disables the filter).
    pub bloom_bits_per_key: u32,
    /// How data blocks are compressed (each block records its own; index, filter and
    /// properties blocks are stored raw).
    pub compression: Compression,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            block_bytes: 4096,
            restart_interval: 16,
            bloom_bits_per_key: 10,
            compression: Compression::None,
        }
    }
}

/// The block type a setting writes (what the properties record as the table's setting).
fn setting_type(c: Compression) -> BlockType {
    match c {
        Compression::None => BlockType::None,
        Compression::Lz4 => BlockType::Lz4,
        Compression::Zstd(_) => BlockType::Zstd,
    }
}

/// Builds one table file.
#[derive(Debug)]
pub struct TableBuilder {
    file: FileHandle,
    path: PathBuf,
    opts: TableOptions,
    out: Vec<u8>,
    written_bytes: u64,
    data: BlockBuilder,
    index: BlockBuilder,
    pending_index: Option<BlockHandle>,
    last_key: Vec<u8>,
    hashes: Vec<u64>,
    props: TableProperties,
    handle_buf: Vec<u8>,
    /// `None` when data blocks are stored raw.
    compressor: Option<Compressor>,
    /// Compressed output, reused between blocks.
    scratch: Vec<u8>,
}

impl TableBuilder {
    /// Start a table in `file` (created empty by the caller).
    pub fn new(file: FileHandle, opts: TableOptions) -> Self {
        let path = file.path().to_path_buf();
        TableBuilder {
            file,
            path,
            opts,
            out: Vec::with_capacity(WRITE_CHUNK_BYTES + 64 * 1024),
            written_bytes: 0,
            data: BlockBuilder::new(opts.restart_interval),
            index: BlockBuilder::new(1),
            pending_index: None,
            last_key: Vec::new(),
            hashes: Vec::new(),
            props: TableProperties {
                seq_min: u64::MAX,
                bloom_bits_per_key: opts.bloom_bits_per_key,
                compression: setting_type(opts.compression),
                ..TableProperties::default()
            },
            handle_buf: Vec::with_capacity(20),
            compressor: (opts.compression != Compression::None)
                .then(|| Compressor::new(opts.compression)),
            scratch: Vec::new(),
        }
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append an entry; internal keys must arrive in strictly increasing order.
    pub fn add(&mut self, ikey: &[u8], value: &[u8]) -> Result<()> {
        let parsed = key::parse(ikey).expect("builder keys are well-formed internal keys");
        debug_assert!(
            self.props.entries == 0
                || key::compare_internal(&self.last_key, ikey) == std::cmp::Ordering::Less,
            "table keys out of order"
        );
        if let Some(h) = self.pending_index.take() {
            self.handle_buf.clear();
            h.encode_to(&mut self.handle_buf);
            self.index.add(&self.last_key, &self.handle_buf);
        }
        if self.props.entries == 0 {
            self.props.smallest_key = ikey.to_vec();
        }
        let new_user_key =
            self.props.entries == 0 || key::user_key(&self.last_key) != parsed.user_key;
        if new_user_key && self.opts.bloom_bits_per_key > 0 {
            self.hashes.push(key_hash(parsed.user_key));
        }
        self.props.entries += 1;
        if parsed.kind == ValueKind::Delete {
            self.props.tombstones += 1;
        }
        self.props.raw_key_bytes += parsed.user_key.len() as u64;
        self.props.raw_value_bytes += value.len() as u64;
        self.props.seq_min = self.props.seq_min.min(parsed.seq);
        self.props.seq_max = self.props.seq_max.max(parsed.seq);
        self.data.add(ikey, value);
        self.last_key.clear();
        self.last_key.extend_from_slice(ikey);
        if self.data.size_estimate() >= self.opts.block_bytes {
            self.finish_data_block()?;
        }
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.written_bytes + self.out.len() as u64
    }

    fn finish_data_block(&mut self) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let offset = self.offset();
        let start = self.out.len();
        let raw = self.data.finish_into(&mut self.out);
        let (size, ty) = seal_block(
            &mut self.out,
            start,
            self.compressor.as_mut(),
            &mut self.scratch,
        );
        self.pending_index = Some(BlockHandle {
            offset,
            size: size as u64,
        });
        self.props.data_blocks += 1;
        self.props.data_bytes += (size + TRAILER_BYTES) as u64;
        self.props.data_raw_bytes += raw as u64;
        if ty != BlockType::None {
            self.props.compressed_data_blocks += 1;
        }
        if self.out.len() >= WRITE_CHUNK_BYTES {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<()> {
        if !self.out.is_empty() {
            self.file.write_at(&self.out, self.written_bytes)?;
            self.written_bytes += self.out.len() as u64;
            self.out.clear();
        }
        Ok(())
    }

    fn raw_block(&mut self, contents: &[u8]) -> BlockHandle {
        let offset = self.offset();
        let size = append_raw_block(&mut self.out, contents);
        BlockHandle {
            offset,
            size: size as u64,
        }
    }

    /// Number of entries added so far.
    pub fn entries(&self) -> u64 {
        self.props.entries
    }

    /// Estimated file size so far, in bytes.
    pub fn estimated_bytes(&self) -> u64 {
        self.offset() + self.data.size_estimate() as u64
    }

    /// Write the remaining blocks and the footer, sync the file, and return the table's
    /// properties and size. An empty table is an error in the caller (never built).
    pub fn finish(mut self) -> Result<(TableProperties, u64)> {
        assert!(self.props.entries > 0, "finish() on an empty table");
        self.finish_data_block()?;
        if let Some(h) = self.pending_index.take() {
            self.handle_buf.clear();
            h.encode_to(&mut self.handle_buf);
            self.index.add(&self.last_key, &self.handle_buf);
        }
        self.props.largest_key = self.last_key.clone();
        let filter = if self.opts.bloom_bits_per_key > 0 {
            build_filter(&self.hashes, self.opts.bloom_bits_per_key)
        } else {
            Vec::new()
        };
        let filter_handle = self.raw_block(&filter);
        self.props.filter_bytes = (filter.len() + TRAILER_BYTES) as u64;
        let index_offset = self.offset();
        let start = self.out.len();
        self.index.finish_into(&mut self.out);
        let (index_size, _) = seal_block(&mut self.out, start, None, &mut self.scratch);
        let index_handle = BlockHandle {
            offset: index_offset,
            size: index_size as u64,
        };
        self.props.index_bytes = (index_size + TRAILER_BYTES) as u64;
        let props = self.props.encode();
        let props_handle = self.raw_block(&props);
        // The footer stores these three sizes as u32: a table so large that its filter or
        // index reaches 4 GiB (tens of GB of keys) cannot be written in this format.
        for (what, h) in [
            ("index", index_handle),
            ("filter", filter_handle),
            ("properties", props_handle),
        ] {
            if u32::try_from(h.size).is_err() {
                return Err(LsmError::InvalidArgument(format!(
                    "the table's {what} block is {} bytes, over the format's 4 GiB limit: \
                     lower target_file_bytes",
                    h.size
                )));
            }
        }
        let footer = Footer {
            index: index_handle,
            filter: filter_handle,
            properties: props_handle,
            format_version: FORMAT_VERSION,
        };
        self.out.extend_from_slice(&footer.encode());
        self.write_out()?;
        self.file.sync_data()?;
        Ok((self.props, self.written_bytes))
    }
}
