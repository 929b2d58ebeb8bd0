//! S3's additional checksums (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256): computing them while a
//! body streams in, checking them against what the client sent, and combining the parts of a
//! multipart upload.
//!
//! A client names one algorithm per upload and sends the expected value either in a header
//! (`x-amz-checksum-crc32: ...`) or, with aws-chunked bodies, in a trailer after the last byte.
//! The store computes the value over the bytes it actually received and refuses the write
//! (BadDigest, nothing committed) when they differ. The value is stored with the version, so a
//! HEAD or GET with `x-amz-checksum-mode: ENABLED` returns it.
//!
//! Multipart uploads have two kinds of whole-object checksum:
//! - `COMPOSITE` — the checksum of the concatenated binary part checksums, shown as `VALUE-N`
//!   (every algorithm but CRC64NVME);
//! - `FULL_OBJECT` — the checksum of the whole object's bytes, which for a CRC can be computed
//!   from the part CRCs and lengths alone (CRC combination), without reading the data again
//!   (CRC algorithms only; the only kind CRC64NVME has).

use std::io::Read;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use crc_fast::CrcAlgorithm;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use super::error::ObjectError;

/// One of S3's checksum algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib), 4 bytes.
    Crc32,
    /// CRC-32C (Castagnoli, iSCSI), 4 bytes.
    Crc32c,
    /// CRC-64/NVME, 8 bytes.
    Crc64Nvme,
    /// SHA-1, 20 bytes.
    Sha1,
    /// SHA-256, 32 bytes.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in S3's order.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// S3's name (`x-amz-checksum-algorithm` value).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header that carries a value of this algorithm (`x-amz-checksum-crc32`, ...).
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Parse S3's name, case-insensitively.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                ObjectError::InvalidArgument(format!(
                    "checksum algorithm '{s}' is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256"
                ))
            })
    }

    /// Length of a digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// The kind a multipart upload gets when the client names none (S3: CRC64NVME is always
    /// FULL_OBJECT, the others COMPOSITE).
    pub fn default_kind(self) -> ChecksumType {
        match self {
            ChecksumAlgorithm::Crc64Nvme => ChecksumType::FullObject,
            _ => ChecksumType::Composite,
        }
    }

    /// Whether a multipart upload may use `kind` with this algorithm.
    pub fn supports(self, kind: ChecksumType) -> bool {
        match kind {
            ChecksumType::Composite => self != ChecksumAlgorithm::Crc64Nvme,
            ChecksumType::FullObject => self.crc().is_some(),
        }
    }

    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }
}

/// How a stored checksum covers the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumType {
    /// The checksum of every byte of the object.
    FullObject,
    /// The checksum of the parts' checksums (multipart uploads only), shown with `-N`.
    Composite,
}

impl ChecksumType {
    /// S3's name (`x-amz-checksum-type` value).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::FullObject => "FULL_OBJECT",
            ChecksumType::Composite => "COMPOSITE",
        }
    }

    /// Parse S3's name.
    pub fn parse(s: &str) -> Result<Self, ObjectError> {
        match s.to_ascii_uppercase().as_str() {
            "FULL_OBJECT" => Ok(ChecksumType::FullObject),
            "COMPOSITE" => Ok(ChecksumType::Composite),
            _ => Err(ObjectError::InvalidArgument(format!(
                "checksum type '{s}' is not FULL_OBJECT or COMPOSITE"
            ))),
        }
    }
}

/// A checksum stored with a version or a part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectChecksum {
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Whole-object or composite.
    pub kind: ChecksumType,
    /// The digest, base64 (as S3 shows it, without the `-N` of a composite).
    pub value: String,
    /// Number of parts of a composite checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
}

impl ObjectChecksum {
    /// The value as S3 sends it: base64, with `-N` for a composite of N parts.
    pub fn s3_value(&self) -> String {
        match (self.kind, self.parts) {
            (ChecksumType::Composite, Some(n)) => format!("{}-{n}", self.value),
            _ => self.value.clone(),
        }
    }

    /// The digest bytes.
    pub fn digest(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.value)
            .unwrap_or_default()
    }
}

/// Where the value a client expects comes from.
#[derive(Clone, Debug)]
pub enum Expected {
    /// In a header, before the body: base64 (a composite's `-N` is allowed and ignored).
    Value(String),
    /// In an aws-chunked trailer, after the body: the body's reader fills the slot when it
    /// reaches the end, before the store compares.
    Trailer(Arc<OnceLock<String>>),
}

/// The checksum a PUT or UploadPart asks for.
#[derive(Clone, Debug)]
pub struct ChecksumRequest {
    /// Which algorithm to compute.
    pub algorithm: ChecksumAlgorithm,
    /// What the client says the bytes hash to, if it says.
    pub expected: Option<Expected>,
}

impl ChecksumRequest {
    /// Compare `computed` (raw digest bytes) with what the client sent; BadDigest if they
    /// differ, or if a trailer was announced and never came.
    pub fn verify(&self, computed: &[u8]) -> Result<(), ObjectError> {
        let given = match &self.expected {
            None => return Ok(()),
            Some(Expected::Value(v)) => v.clone(),
            Some(Expected::Trailer(slot)) => match slot.get() {
                Some(v) => v.clone(),
                None => {
                    return Err(ObjectError::BadDigest(format!(
                    "the {} trailer was announced (x-amz-trailer) but the body ended without it",
                    self.algorithm.header()
                )))
                }
            },
        };
        let value = given.split('-').next().unwrap_or_default();
        let mine = encode(computed);
        if value != mine {
            return Err(ObjectError::BadDigest(format!(
                "the {} you specified ({given}) did not match the data received ({mine})",
                self.algorithm.header()
            )));
        }
        Ok(())
    }
}

/// Base64 of a digest.
pub fn encode(digest: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Whether `s` is base64 of a digest of the algorithm's length (a composite's `-N` allowed).
pub fn is_well_formed(algorithm: ChecksumAlgorithm, s: &str) -> bool {
    let value = s.split('-').next().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok_and(|d| d.len() == algorithm.digest_len())
}

/// An incremental checksum of one algorithm.
pub enum Hasher {
    /// A CRC (any width), through crc-fast.
    Crc(ChecksumAlgorithm, crc_fast::Digest),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-256.
    Sha256(Sha256),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Hasher::Crc(a, _) => a.name(),
            Hasher::Sha1(_) => "SHA1",
            Hasher::Sha256(_) => "SHA256",
        })
    }
}

impl Hasher {
    /// A fresh hasher.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        match (algorithm, algorithm.crc()) {
            (a, Some(crc)) => Hasher::Crc(a, crc_fast::Digest::new(crc)),
            (ChecksumAlgorithm::Sha1, None) => Hasher::Sha1(Sha1::new()),
            _ => Hasher::Sha256(Sha256::new()),
        }
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc(_, d) => d.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest, big-endian for CRCs (as S3 encodes them).
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Crc(a, d) => crc_bytes(a, d.finalize()),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

fn crc_bytes(algorithm: ChecksumAlgorithm, v: u64) -> Vec<u8> {
    if algorithm.digest_len() == 4 {
        (v as u32).to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    }
}

fn crc_value(digest: &[u8]) -> u64 {
    digest
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// The digest of `data` in one call.
pub fn digest(algorithm: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish()
}

/// A reader that hashes what passes through it.
pub struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Hasher,
}

impl<'a> HashingReader<'a> {
    /// Hash everything read from `inner` with `algorithm`.
    pub fn new(inner: &'a mut dyn Read, algorithm: ChecksumAlgorithm) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::new(algorithm),
        }
    }

    /// The digest of the bytes read so far.
    pub fn finish(self) -> Vec<u8> {
        self.hasher.finish()
    }
}

impl std::fmt::Debug for HashingReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingReader")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The whole-object checksum of a multipart upload from its parts' digests and sizes, in part
/// order. COMPOSITE: the checksum of the concatenated digests. FULL_OBJECT (CRCs only): the
/// parts' CRCs combined as if computed over the concatenated bytes.
pub fn combine(
    algorithm: ChecksumAlgorithm,
    kind: ChecksumType,
    parts: &[(Vec<u8>, u64)],
) -> Result<ObjectChecksum, ObjectError> {
    let n = parts.len() as u32;
    let value = match (kind, algorithm.crc()) {
        (ChecksumType::Composite, _) => {
            let mut h = Hasher::new(algorithm);
            for (d, _) in parts {
                h.update(d);
            }
            h.finish()
        }
        (ChecksumType::FullObject, Some(crc)) => {
            let mut acc: Option<u64> = None;
            for (d, len) in parts {
                let v = crc_value(d);
                acc = Some(match acc {
                    None => v,
                    Some(a) => crc_fast::checksum_combine(crc, a, v, *len),
                });
            }
            let empty = crc_value(&digest(algorithm, b""));
            crc_bytes(algorithm, acc.unwrap_or(empty))
        }
        (ChecksumType::FullObject, None) => {
            return Err(ObjectError::InvalidArgument(format!(
                "the FULL_OBJECT checksum type needs a CRC algorithm, not {}",
                algorithm.name()
            )))
        }
    };
    Ok(ObjectChecksum {
        algorithm,
        kind,
        value: encode(&value),
        parts: (kind == ChecksumType::Composite).then_some(n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from ceph/s3-tests (1 KiB of 'A', 5 MiB parts of 'A', 'B', 'C'), which S3 agrees
    /// with.
    #[test]
    fn digests_match_s3s_published_values() {
        let a1k = vec![b'A'; 1024];
        assert_eq!(
            encode(&digest(ChecksumAlgorithm::Sha256, &a1k)),
            "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
        );
        assert_eq!(
            encode(&digest(ChecksumAlgorithm::Crc64Nvme, &a1k)),
            "Qeh8oXvGiSo="
        );
        let mib5 = 5 * 1024 * 1024;
        let parts: Vec<Vec<u8>> = [b'A', b'B', b'C'].iter().map(|c| vec![*c; mib5]).collect();
        for (alg, kind, part_values, whole) in [
            (
                ChecksumAlgorithm::Crc32,
                ChecksumType::FullObject,
                ["JRTCyQ==", "QoZTGg==", "YAgjqw=="],
                "WgDhBQ==",
            ),
            (
                ChecksumAlgorithm::Crc32c,
                ChecksumType::FullObject,
                ["MDaLrw==", "TH4EZg==", "Z7mBIQ=="],
                "xU+Krw==",
            ),
            (
                ChecksumAlgorithm::Crc64Nvme,
                ChecksumType::FullObject,
                ["L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4="],
                "i+6LR0y3eFo=",
            ),
            (
                ChecksumAlgorithm::Sha256,
                ChecksumType::Composite,
                [
                    "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
                    "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
                    "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=",
                ],
                "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3",
            ),
        ] {
            let digests: Vec<(Vec<u8>, u64)> = parts
                .iter()
                .map(|p| (digest(alg, p), p.len() as u64))
                .collect();
            for (d, want) in digests.iter().zip(part_values) {
                assert_eq!(encode(&d.0), want, "{}", alg.name());
            }
            let c = combine(alg, kind, &digests).unwrap();
            assert_eq!(c.s3_value(), whole, "{}", alg.name());
            // The combined CRC equals the CRC of the concatenation.
            if kind == ChecksumType::FullObject {
                assert_eq!(c.value, encode(&digest(alg, &parts.concat())));
            }
        }
    }

    #[test]
    fn verify_refuses_a_wrong_or_missing_value() {
        let req = |e| ChecksumRequest {
            algorithm: ChecksumAlgorithm::Crc32,
            expected: e,
        };
        let d = digest(ChecksumAlgorithm::Crc32, b"hello");
        assert!(req(None).verify(&d).is_ok());
        assert!(req(Some(Expected::Value(encode(&d)))).verify(&d).is_ok());
        let bad = req(Some(Expected::Value("AAAAAA==".into()))).verify(&d);
        assert_eq!(bad.unwrap_err().code(), "BadDigest");
        let slot = Arc::new(OnceLock::new());
        let late = req(Some(Expected::Trailer(slot.clone())));
        assert_eq!(late.verify(&d).unwrap_err().code(), "BadDigest");
        slot.set(encode(&d)).unwrap();
        assert!(late.verify(&d).is_ok());
        assert!(is_well_formed(ChecksumAlgorithm::Crc32, &encode(&d)));
        assert!(!is_well_formed(ChecksumAlgorithm::Crc32, "bad"));
    }
}
