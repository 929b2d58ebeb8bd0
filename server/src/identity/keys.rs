//! Minting credentials: access key IDs, secrets and session tokens in AWS's shapes, from the
//! operating system's randomness (`/dev/urandom`).
//!
//! | what | shape |
//! |---|---|
//! | long-term access key ID | `AKIA` + 16 of `A-Z2-7` |
//! | temporary access key ID | `ASIA` + 16 of `A-Z2-7` |
//! | secret access key | 40 of `A-Za-z0-9+/` |
//! | session token | 64 of `A-Za-z0-9+/` |
//! | user, group, role ID | `AIDA`, `AGPA`, `AROA` + 17 of `A-Z2-7` |
//! | signing certificate ID | 32 of `A-Z2-7` |

use std::io::Read;

use super::IdentityError;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_bytes(n: usize) -> Result<Vec<u8>, IdentityError> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| IdentityError::Io {
            path: "/dev/urandom".into(),
            error: e.to_string(),
        })?;
    Ok(buf)
}

/// `n` characters drawn uniformly from `alphabet` (whose length divides 256).
fn random_string(alphabet: &[u8], n: usize) -> Result<String, IdentityError> {
    debug_assert!(256 % alphabet.len() == 0);
    Ok(random_bytes(n)?
        .into_iter()
        .map(|b| alphabet[b as usize % alphabet.len()] as char)
        .collect())
}

/// A new long-term access key ID.
pub fn access_key_id() -> Result<String, IdentityError> {
    Ok(format!("AKIA{}", random_string(BASE32, 16)?))
}

/// A new temporary (session) access key ID.
pub fn session_key_id() -> Result<String, IdentityError> {
    Ok(format!("ASIA{}", random_string(BASE32, 16)?))
}

/// A new unique ID of an IAM entity: `prefix` (`AIDA` a user, `AGPA` a group, `AROA` a role)
/// and 17 of `A-Z2-7`, as IAM's IDs look.
pub fn entity_id(prefix: &str) -> Result<String, IdentityError> {
    Ok(format!("{prefix}{}", random_string(BASE32, 17)?))
}

/// A new signing certificate ID: 32 of `A-Z2-7`.
pub fn certificate_id() -> Result<String, IdentityError> {
    random_string(BASE32, 32)
}

/// A new secret access key.
pub fn secret() -> Result<String, IdentityError> {
    random_string(BASE64, 40)
}

/// A new session token.
pub fn session_token() -> Result<String, IdentityError> {
    random_string(BASE64, 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_aws_shapes_and_differ() {
        let a = access_key_id().unwrap();
        assert!(a.starts_with("AKIA") && a.len() == 20, "{a}");
        assert!(a[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_ne!(a, access_key_id().unwrap());
        let s = secret().unwrap();
        assert_eq!(s.len(), 40);
        assert!(session_key_id().unwrap().starts_with("ASIA"));
        assert_eq!(session_token().unwrap().len(), 64);
    }
}
