//! Reading an object: resolve the version a GET names, check its conditions, pick the byte
//! range (a `Range` header or a part number), pin its blobs, and then stream — for as long as
//! the caller takes, holding no lock (see [`super::pins`]).
//!
//! The order of checks is S3's: the version first (NoSuchKey, NoSuchVersion, MethodNotAllowed
//! for a delete marker), then the conditions (412, 304), then the range (416).

use std::io::{Read, Seek, SeekFrom, Write};

use super::blob::{ChunkSink, CopyTo, DataId};
use super::conditions::Conditions;
use super::error::ObjectError;
use super::meta::VersionMeta;
use super::objects::{ByteRange, ObjectInfo, PartInfo};
use super::pins::PinGuard;
use super::sse::{CustomerKey, Encryption, Key};
use super::store::ObjectStore;

/// What a GET or HEAD asks for.
#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    /// A specific version (else the latest).
    pub version_id: Option<String>,
    /// A byte range.
    pub range: Option<ByteRange>,
    /// One part of a multipart object (1-based, in the order of the completed upload); a
    /// single-part object has exactly part 1.
    pub part_number: Option<u32>,
    /// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.
    pub conditions: Conditions,
    /// The SSE-C key the request sent (for a copy: `x-amz-copy-source-server-side-encryption-
    /// customer-*`); an SSE-C object is read only with its own key, and no other object with one.
    pub sse_customer: Option<CustomerKey>,
}

/// The data keys a reader decrypts with.
#[derive(Debug)]
enum DataKeys {
    /// The version is stored in clear.
    Clear,
    /// SSE-C: the request's key has not been given ([`ObjectReader::unlock`]).
    Locked,
    /// SSE-S3: the data keys open under the store's master key at [`ObjectReader::unlock`],
    /// which every read of data goes through; reading metadata never touches the key file.
    Sealed,
    /// The segments' data keys.
    Open(Vec<Key>),
}

/// An open object: its metadata, the bytes to serve, and its blobs pinned until drop.
#[derive(Debug)]
pub struct ObjectReader<'a> {
    store: &'a ObjectStore,
    bucket: String,
    version: VersionMeta,
    info: ObjectInfo,
    start: u64,
    end: u64,
    partial: bool,
    part: Option<PartInfo>,
    keys: DataKeys,
    _pins: PinGuard<'a>,
}

impl ObjectStore {
    /// Open the object a GET or HEAD names; see the module docs for the order of checks.
    pub fn open_object(
        &self,
        bucket: &str,
        key: &str,
        opts: &GetOptions,
    ) -> Result<ObjectReader<'_>, ObjectError> {
        let mut r = self.open_version(bucket, key, opts.version_id.as_deref())?;
        r.narrow(opts)?;
        Ok(r)
    }

    /// Open a version (the latest, or `version_id`) with its blobs pinned, serving all of it;
    /// [`ObjectReader::check`] and [`ObjectReader::select`] narrow it, and
    /// [`ObjectReader::unlock`] opens its data keys (an encrypted version reads nothing
    /// before). A front end that must
    /// authorize between finding the version and evaluating the request's conditions (S3 does:
    /// a caller without permission learns nothing from a 304) uses these steps.
    pub fn open_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectReader<'_>, ObjectError> {
        let (version, pins) = {
            let _r = self.pins.resolving();
            let v = self.resolve_version(bucket, key, version_id)?;
            let ids: Vec<DataId> = v
                .segments
                .iter()
                .filter_map(|s| DataId::from_hex(&s.data_id))
                .collect();
            (v, PinGuard::new(self, ids))
        };
        let info = ObjectInfo::from_meta(&version);
        let end = version.size;
        let keys = match &version.encryption {
            None => DataKeys::Clear,
            Some(Encryption::Customer { .. }) => DataKeys::Locked,
            Some(Encryption::S3 | Encryption::Kms { .. }) => DataKeys::Sealed,
        };
        Ok(ObjectReader {
            store: self,
            bucket: bucket.to_string(),
            version,
            info,
            start: 0,
            end,
            partial: false,
            part: None,
            keys,
            _pins: pins,
        })
    }
}

impl<'a> ObjectReader<'a> {
    /// Evaluate If-Match and friends against this version (412 / 304 as errors).
    pub fn check(&self, conditions: &Conditions) -> Result<(), ObjectError> {
        conditions.check(&self.version.etag, self.version.last_modified_ms, false)
    }

    /// Refuse to read the data of a version in an archive class (GLACIER, DEEP_ARCHIVE) that
    /// no restore has made readable: S3's 403 InvalidObjectState (`restore.rs`).
    pub fn check_readable(&self) -> Result<(), ObjectError> {
        super::restore::check_readable(&self.version, &self.bucket, self.store.now_ms())
    }

    /// The rest of a read once its version is found (and authorized): its conditions, its
    /// range or part, then its SSE-C key — the part number before the key, as Ceph RGW orders
    /// them (ceph/s3-tests' `test_multipart_sse_c_get_part`: a part past the end is InvalidPart
    /// even without the key).
    pub fn narrow(&mut self, opts: &GetOptions) -> Result<(), ObjectError> {
        self.check(&opts.conditions)?;
        self.check_readable()?;
        self.select(opts.range, opts.part_number)?;
        self.unlock(opts.sse_customer.as_ref())
    }

    /// Check the SSE-C key the request sent (`customer`) against the version, as S3 does for
    /// GET and HEAD: an SSE-C version needs its own key, any other refuses a key. With the
    /// right key, the segments' data keys are opened for the read.
    pub fn unlock(&mut self, customer: Option<&CustomerKey>) -> Result<(), ObjectError> {
        self.keys = match self
            .store
            .data_keys(&self.bucket, &self.version, customer)?
        {
            Some(k) => DataKeys::Open(k),
            None => DataKeys::Clear,
        };
        Ok(())
    }

    /// The data keys to read with; an SSE-C version not unlocked is refused as S3 refuses a
    /// GET without the key.
    fn keys(&self) -> Result<Option<&[Key]>, ObjectError> {
        match &self.keys {
            DataKeys::Clear => Ok(None),
            DataKeys::Open(k) => Ok(Some(k)),
            DataKeys::Locked => Err(self
                .version
                .encryption
                .as_ref()
                .and_then(|e| e.check_read(None).err())
                .unwrap_or_else(|| ObjectError::Internal("a reader locked in vain".into()))),
            DataKeys::Sealed => Err(ObjectError::Internal(format!(
                "{}/{} is SSE-S3 and was read before ObjectReader::unlock",
                self.bucket, self.version.key
            ))),
        }
    }

    /// Serve a byte range, or one part, instead of the whole object.
    pub fn select(
        &mut self,
        range: Option<ByteRange>,
        part_number: Option<u32>,
    ) -> Result<(), ObjectError> {
        let info = &self.info;
        let version = &self.version;
        let (start, end, partial, part) = match (part_number, range) {
            (Some(_), Some(_)) => {
                return Err(ObjectError::InvalidRequest(
                    "a request may name a part number or a range, not both".into(),
                ))
            }
            (Some(n), None) => {
                let count = info.parts.max(1);
                if n == 0 || n as usize > count {
                    return Err(ObjectError::InvalidPart(format!(
                        "{}/{} has {count} part(s); part {n} was requested",
                        self.bucket, info.key
                    )));
                }
                let (before, size) = if info.parts == 0 {
                    (0, version.size)
                } else {
                    let before: u64 = version.segments[..n as usize - 1]
                        .iter()
                        .map(|s| s.size)
                        .sum();
                    (before, version.segments[n as usize - 1].size)
                };
                let part = info.part_list.get(n as usize - 1).cloned();
                (before, before + size, info.parts > 0, part)
            }
            (None, Some(r)) => {
                let (a, b) = r.resolve(version.size)?;
                (a, b, true, None)
            }
            (None, None) => (0, version.size, false, None),
        };
        self.start = start;
        self.end = end;
        self.partial = partial;
        self.part = part;
        Ok(())
    }

    /// The version's metadata.
    pub fn info(&self) -> &ObjectInfo {
        &self.info
    }

    /// The bytes served, as a half-open interval of the object.
    pub fn range(&self) -> (u64, u64) {
        (self.start, self.end)
    }

    /// Whether only part of the object is served (a range, or one part of a multipart
    /// object): HTTP 206 with a Content-Range.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The part served, when a part number was asked for on a multipart object.
    pub fn part(&self) -> Option<&PartInfo> {
        self.part.as_ref()
    }

    /// Write the bytes served to `out`.
    pub fn read_to(&self, out: &mut dyn Write) -> Result<(), ObjectError> {
        self.read_chunks_to(&mut CopyTo(out))
    }

    /// Hand the bytes served to `out` as the engine's own verified shard buffers (no copy for
    /// a sink that keeps them; see [`ChunkSink`]).
    pub fn read_chunks_to(&self, out: &mut dyn ChunkSink) -> Result<(), ObjectError> {
        self.store.read_version_chunks(
            &self.bucket,
            &self.version,
            self.keys()?,
            self.start,
            self.end,
            out,
        )
    }

    /// The bytes served as a [`Read`], one stripe at a time (bounded memory for any size), and
    /// a [`Seek`] within them (S3 Select's ScanRange starts reading where its range does).
    pub fn chunks(&self) -> VersionReader<'_> {
        VersionReader {
            store: self.store,
            bucket: &self.bucket,
            version: &self.version,
            keys: self.keys(),
            first: self.start,
            pos: self.start,
            end: self.end,
            buf: Vec::new(),
            buf_pos: 0,
        }
    }
}

/// Reads a range of a version one stripe at a time (for COPY and UploadPartCopy).
#[derive(Debug)]
pub struct VersionReader<'a> {
    store: &'a ObjectStore,
    bucket: &'a str,
    version: &'a VersionMeta,
    /// The data keys (or why there are none: the first read reports it).
    keys: Result<Option<&'a [Key]>, ObjectError>,
    /// Where the bytes served start (offset 0 of the reader).
    first: u64,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_pos: usize,
}

impl Seek for VersionReader<'_> {
    /// Offsets count from the first byte served; a position past the end reads nothing.
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let unread = (self.buf.len() - self.buf_pos) as u64;
        let here = self.pos - self.first - unread;
        let len = self.end - self.first;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => here.checked_add_signed(d),
            SeekFrom::End(d) => len.checked_add_signed(d),
        }
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a seek before the first byte",
            )
        })?;
        self.buf.clear();
        self.buf_pos = 0;
        self.pos = self
            .first
            .saturating_add(target)
            .min(self.end.max(self.first));
        Ok(target)
    }
}

impl Read for VersionReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf_pos == self.buf.len() {
            if self.pos >= self.end {
                return Ok(0);
            }
            let chunk = self.store.layout().stripe_data_max();
            let end = (self.pos + chunk).min(self.end);
            self.buf.clear();
            self.buf_pos = 0;
            let keys = match &self.keys {
                Ok(k) => *k,
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            };
            self.store
                .read_version(
                    self.bucket,
                    self.version,
                    keys,
                    self.pos,
                    end,
                    &mut self.buf,
                )
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.pos = end;
        }
        let n = out.len().min(self.buf.len() - self.buf_pos);
        out[..n].copy_from_slice(&self.buf[self.buf_pos..self.buf_pos + n]);
        self.buf_pos += n;
        Ok(n)
    }
}
