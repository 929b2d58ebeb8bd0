//! The signing key — the secret, narrowed by four HMACs to one day, region and service, so a
//! leaked key is worth one day of one service — and the signature it makes.

use std::cell::RefCell;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The signing key of a secret for one day (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// [`signing_key`], remembered for the last (secret, date, region, service) this thread asked
/// for: a key is valid for a whole day, and deriving it is four HMACs per request otherwise
/// (AWS's SDKs cache it the same way). A server thread that serves many keys just derives
/// more often; the answer is always the key of the arguments given.
pub fn signing_key_cached(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    type Entry = ([String; 4], [u8; 32]);
    thread_local! {
        static LAST: RefCell<Option<Entry>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((id, key)) = last.as_ref() {
            if id[0] == secret && id[1] == date && id[2] == region && id[3] == service {
                return *key;
            }
        }
        let key = signing_key(secret, date, region, service);
        *last = Some((
            [secret.into(), date.into(), region.into(), service.into()],
            key,
        ));
        key
    })
}

/// Lower-case hex signature of a string to sign.
pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example ("Create a signing key" and "Calculate the signature" in the
    /// SigV4 documentation, IAM ListUsers of 2015-08-30).
    #[test]
    fn aws_documentation_example() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            signature(&key, sts),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    /// The per-thread cache gives the key of the arguments asked, not of the last call.
    #[test]
    fn cached_signing_key_follows_its_arguments() {
        for (secret, date) in [("s1", "20260101"), ("s1", "20260102"), ("s2", "20260102")] {
            for _ in 0..2 {
                assert_eq!(
                    signing_key_cached(secret, date, "us-east-1", "dynamodb"),
                    signing_key(secret, date, "us-east-1", "dynamodb"),
                    "{secret} {date}"
                );
            }
        }
        assert_ne!(
            signing_key_cached("s2", "20260102", "eu-west-1", "dynamodb"),
            signing_key("s2", "20260102", "us-east-1", "dynamodb")
        );
        assert_ne!(
            signing_key_cached("s2", "20260102", "us-east-1", "s3"),
            signing_key("s2", "20260102", "us-east-1", "dynamodb")
        );
    }
}
