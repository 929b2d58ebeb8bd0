//! # seedbed-sigv4
//!
//! AWS Signature Version 4, written out, for every place Seedbed signs or checks a request: the
//! DynamoDB endpoint verifies with it (s3s, which serves S3, has its own checks, including
//! presigned URLs and aws-chunked bodies), and the S3 and DynamoDB load generators sign with it.
//! One implementation, tested against AWS's published examples.
//!
//! ```text
//! canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//! string to sign    = "AWS4-HMAC-SHA256" \n AMZ-DATE \n DATE/REGION/SERVICE/aws4_request \n hex(SHA256(canonical request))
//! signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, DATE), REGION), SERVICE), "aws4_request")
//! signature         = hex(HMAC(signing key, string to sign))
//! ```
//!
//! * [`encode`] — SigV4's URI encoding, percent-decoding, query strings into pairs;
//! * [`canonical`] — the canonical request and the string to sign;
//! * [`key`] — the signing key (and a per-thread cache of it) and the signature;
//! * [`date`] — `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`) to and from Unix seconds;
//! * [`sign`] — [`Signer`], the client's side;
//! * [`verify`] — parsing an `Authorization` header and checking it, the server's side.
//!
//! The cost per request matters (the endpoints verify every request, the load generators sign
//! thousands a second): the canonical request is built in one string, hex comes from the `hex`
//! crate, and the four HMACs of the signing key are paid once per key and day, as AWS's SDKs do.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod canonical;
pub mod date;
pub mod encode;
pub mod key;
pub mod sign;
pub mod verify;

pub use canonical::{scope, string_to_sign, CanonicalInput};
pub use date::{format_amz_date, parse_amz_date};
pub use encode::uri_encode;
pub use key::{signature, signing_key};
pub use sign::Signer;
pub use verify::{verify, Authorization, Payload, SigError, MAX_SKEW_SECS};

use sha2::{Digest, Sha256};

/// The algorithm's name, first word of the `Authorization` header and of the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The payload hash of a body the signature does not cover (S3 over TLS, presigned URLs).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Lower-case hex of SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
