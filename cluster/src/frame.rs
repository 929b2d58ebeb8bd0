//! Frames: how one message travels over a TCP stream.
//!
//! ```text
//! u32 LE   length of what follows (version + checksum + body), at most FRAME_BYTES_MAX
//! u8       format version (FRAME_VERSION)
//! u32 LE   CRC32 (IEEE, crc32fast) of the body
//! body     the value in CBOR (serde, ciborium)
//! ```
//!
//! TCP already checksums its segments, but only 16 bits' worth and only per hop; the CRC here
//! covers the value end to end, so a bug in a writer (a torn buffer, two writers interleaving)
//! is an error naming the frame, not a message the protocol acts on. The version byte lets a
//! node refuse frames from a build that encodes differently instead of misreading them.
//!
//! Why CBOR: it is a serde format already in the tree (criterion depends on `ciborium`), binary
//! (a `u64` is at most 9 bytes, not up to 20 digits as in JSON) and self-describing, so a frame
//! that does not match the expected type fails with a message saying what was found.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The format version this build writes and accepts.
pub const FRAME_VERSION: u8 = 1;
/// Bytes before the body: length (4), version (1), CRC32 (4).
pub const HEADER_BYTES: usize = 9;
/// The largest frame accepted (length field), so a garbled length cannot make a reader
/// allocate gigabytes.
pub const FRAME_BYTES_MAX: u32 = 16 << 20;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream ended inside a frame.
    #[error("truncated frame: wanted {wanted} bytes of {part}, got {got}")]
    Truncated {
        /// Which part was cut short (header, body).
        part: &'static str,
        /// Bytes the frame said follow.
        wanted: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// The version byte is not [`FRAME_VERSION`].
    #[error("frame version {got} is not supported (this build speaks version {FRAME_VERSION})")]
    BadVersion {
        /// The version found.
        got: u8,
    },
    /// The body does not match its checksum.
    #[error("frame checksum mismatch: header says {want:#010x}, body hashes to {got:#010x}")]
    BadChecksum {
        /// The checksum in the header.
        want: u32,
        /// The checksum of the body received.
        got: u32,
    },
    /// The length field is out of range.
    #[error("frame length {len} is out of range (5..={FRAME_BYTES_MAX})")]
    BadLength {
        /// The length found.
        len: u32,
    },
    /// The body is not a valid encoding of the expected type.
    #[error("frame body does not decode: {0}")]
    Decode(String),
    /// The value could not be encoded.
    #[error("value does not encode: {0}")]
    Encode(String),
    /// The stream failed.
    #[error("stream: {0}")]
    Io(#[from] io::Error),
}

/// `value` as one frame.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = vec![0u8; HEADER_BYTES];
    ciborium::into_writer(value, &mut out).map_err(|e| FrameError::Encode(e.to_string()))?;
    let body_len = out.len() - HEADER_BYTES;
    let len = u32::try_from(body_len + 5)
        .ok()
        .filter(|&l| l <= FRAME_BYTES_MAX)
        .ok_or(FrameError::BadLength {
            len: u32::try_from(body_len + 5).unwrap_or(u32::MAX),
        })?;
    let crc = crc32fast::hash(&out[HEADER_BYTES..]);
    out[0..4].copy_from_slice(&len.to_le_bytes());
    out[4] = FRAME_VERSION;
    out[5..9].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Check a frame's version and checksum; returns its body. `frame` is one whole frame as
/// [`encode`] made it.
pub fn open(frame: &[u8]) -> Result<&[u8], FrameError> {
    if frame.len() < HEADER_BYTES {
        return Err(FrameError::Truncated {
            part: "header",
            wanted: HEADER_BYTES,
            got: frame.len(),
        });
    }
    let len = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes"));
    if !(5..=FRAME_BYTES_MAX).contains(&len) {
        return Err(FrameError::BadLength { len });
    }
    let body_len = len as usize - 5;
    let got = frame.len() - HEADER_BYTES;
    if got < body_len {
        return Err(FrameError::Truncated {
            part: "body",
            wanted: body_len,
            got,
        });
    }
    if frame[4] != FRAME_VERSION {
        return Err(FrameError::BadVersion { got: frame[4] });
    }
    let want = u32::from_le_bytes(frame[5..9].try_into().expect("4 bytes"));
    let body = &frame[HEADER_BYTES..HEADER_BYTES + body_len];
    let got = crc32fast::hash(body);
    if got != want {
        return Err(FrameError::BadChecksum { want, got });
    }
    Ok(body)
}

/// Decode a checked body.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, FrameError> {
    ciborium::from_reader(body).map_err(|e| FrameError::Decode(e.to_string()))
}

/// Decode one whole frame.
pub fn decode<T: DeserializeOwned>(frame: &[u8]) -> Result<T, FrameError> {
    decode_body(open(frame)?)
}

/// Read one frame from `r`: `Ok(None)` at a clean end of stream (between frames).
pub fn read<T: DeserializeOwned>(r: &mut impl Read) -> Result<Option<T>, FrameError> {
    let mut buf = vec![0u8; HEADER_BYTES];
    let got = read_full(r, &mut buf)?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_BYTES {
        return Err(FrameError::Truncated {
            part: "header",
            wanted: HEADER_BYTES,
            got,
        });
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes"));
    if !(5..=FRAME_BYTES_MAX).contains(&len) {
        return Err(FrameError::BadLength { len });
    }
    let body_len = len as usize - 5;
    buf.resize(HEADER_BYTES + body_len, 0);
    let got = read_full(r, &mut buf[HEADER_BYTES..])?;
    if got < body_len {
        return Err(FrameError::Truncated {
            part: "body",
            wanted: body_len,
            got,
        });
    }
    decode(&buf).map(Some)
}

/// Write `value` as one frame to `w`.
pub fn write<T: Serialize>(w: &mut impl Write, value: &T) -> Result<(), FrameError> {
    w.write_all(&encode(value)?)?;
    Ok(())
}

/// Read until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_nodes::quorum::msg::{Msg, Op};

    fn sample() -> Msg {
        Msg::Fetch {
            req: 7 << 32,
            key: 42,
        }
    }

    #[test]
    fn a_frame_round_trips_through_a_stream() {
        let mut wire = Vec::new();
        write(&mut wire, &sample()).unwrap();
        write(&mut wire, &Op::Delete { key: 3 }).unwrap();
        let mut r = &wire[..];
        assert_eq!(read::<Msg>(&mut r).unwrap(), Some(sample()));
        assert_eq!(read::<Op>(&mut r).unwrap(), Some(Op::Delete { key: 3 }));
        assert!(read::<Op>(&mut r).unwrap().is_none(), "clean end");
    }

    #[test]
    fn a_wrong_version_byte_is_refused_by_name() {
        let mut f = encode(&sample()).unwrap();
        f[4] = 9;
        let e = decode::<Msg>(&f).unwrap_err();
        assert!(matches!(e, FrameError::BadVersion { got: 9 }), "{e}");
        assert!(e.to_string().contains("version 9"), "{e}");
    }

    #[test]
    fn a_flipped_body_bit_fails_the_checksum() {
        let mut f = encode(&sample()).unwrap();
        let last = f.len() - 1;
        f[last] ^= 0x10;
        let e = decode::<Msg>(&f).unwrap_err();
        assert!(matches!(e, FrameError::BadChecksum { .. }), "{e}");
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_truncated_not_a_clean_end() {
        let f = encode(&sample()).unwrap();
        for cut in [1, HEADER_BYTES - 1, HEADER_BYTES, f.len() - 1] {
            let mut r = &f[..cut];
            let e = read::<Msg>(&mut r).unwrap_err();
            assert!(matches!(e, FrameError::Truncated { .. }), "cut {cut}: {e}");
        }
        assert!(matches!(
            open(&f[..f.len() - 1]),
            Err(FrameError::Truncated { part: "body", .. })
        ));
    }

    #[test]
    fn an_absurd_length_is_refused_before_allocating() {
        let mut f = encode(&sample()).unwrap();
        f[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut r = &f[..];
        assert!(matches!(
            read::<Msg>(&mut r),
            Err(FrameError::BadLength { len: u32::MAX })
        ));
    }

    #[test]
    fn a_body_of_another_type_fails_to_decode_with_a_message() {
        let f = encode(&"not a message").unwrap();
        let e = decode::<Msg>(&f).unwrap_err();
        assert!(matches!(e, FrameError::Decode(_)), "{e}");
    }
}
