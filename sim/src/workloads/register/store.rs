//! A replica's durable state: one small file, replaced atomically.
//!
//! Format (40 bytes, little-endian): `magic "SBRG"` (4) · `counter` (8) · `writer` (4) ·
//! `nonce` (8) · `value` (8) · `check` (8), where `check` is a stable hash of the first 32
//! bytes. A new state is written to `reg.tmp`, synced, renamed over
//! `reg` and the directory synced — only then may the replica acknowledge it. A torn or
//! bit-flipped file fails the check and is reported, never trusted.

use std::path::Path;

use seedbed_engine::io::{Fs, IoError, OpenOptions};
use seedbed_engine::rng::stable_hash;

use super::msg::Stamp;

const MAGIC: &[u8; 4] = b"SBRG";
/// Bytes of a state file.
pub const STATE_BYTES: usize = 40;
const PATH: &str = "/reg";
const TMP: &str = "/reg.tmp";
const DIR: &str = "/";

/// What a replica holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// The newest write's stamp.
    pub stamp: Stamp,
    /// Its value.
    pub value: u64,
}

/// Why a state could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The disk failed.
    #[error("{0}")]
    Io(#[from] IoError),
    /// The bytes are not a valid state.
    #[error("state file corrupt: {0}")]
    Corrupt(&'static str),
}

fn encode(s: &State) -> [u8; STATE_BYTES] {
    let mut b = [0u8; STATE_BYTES];
    b[0..4].copy_from_slice(MAGIC);
    b[4..12].copy_from_slice(&s.stamp.counter.to_le_bytes());
    b[12..16].copy_from_slice(&s.stamp.writer.to_le_bytes());
    b[16..24].copy_from_slice(&s.stamp.nonce.to_le_bytes());
    b[24..32].copy_from_slice(&s.value.to_le_bytes());
    let check = stable_hash(&b[..32]);
    b[32..40].copy_from_slice(&check.to_le_bytes());
    b
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

fn decode(b: &[u8]) -> Result<State, LoadError> {
    if b.len() != STATE_BYTES {
        return Err(LoadError::Corrupt("wrong length"));
    }
    if &b[0..4] != MAGIC {
        return Err(LoadError::Corrupt("bad magic"));
    }
    if stable_hash(&b[..32]) != u64_at(b, 32) {
        return Err(LoadError::Corrupt("checksum mismatch"));
    }
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[12..16]);
    Ok(State {
        stamp: Stamp {
            counter: u64_at(b, 4),
            writer: u32::from_le_bytes(w),
            nonce: u64_at(b, 16),
        },
        value: u64_at(b, 24),
    })
}

/// Write `state` durably. With `sync` off (the planted `no-fsync` bug) nothing is synced, so a
/// crash may lose it.
pub fn save(fs: &dyn Fs, state: &State, sync: bool) -> Result<(), IoError> {
    let tmp = Path::new(TMP);
    let f = fs.open(tmp, OpenOptions::create_truncate())?;
    f.write_at(&encode(state), 0)?;
    if sync {
        f.sync_data()?;
    }
    drop(f);
    fs.rename(tmp, Path::new(PATH))?;
    if sync {
        fs.sync_dir(Path::new(DIR))?;
    }
    Ok(())
}

/// Read the state back: `Ok(None)` when there is no file (nothing was ever acknowledged).
pub fn load(fs: &dyn Fs) -> Result<Option<State>, LoadError> {
    let path = Path::new(PATH);
    match seedbed_engine::io::read_file(fs, path) {
        Ok(bytes) => decode(&bytes).map(Some),
        Err(IoError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::io::sim::{SimConfig, SimFs};

    #[test]
    fn round_trip_and_corruption_is_caught() {
        let fs = SimFs::new(1, SimConfig::default());
        assert!(load(&fs).unwrap().is_none());
        let s = State {
            stamp: Stamp {
                counter: 3,
                writer: 1,
                nonce: 9,
            },
            value: 42,
        };
        save(&fs, &s, true).unwrap();
        assert_eq!(load(&fs).unwrap(), Some(s));
        fs.corrupt(Path::new(PATH), 25, 0x10).unwrap();
        assert!(matches!(load(&fs), Err(LoadError::Corrupt(_))));
    }

    #[test]
    fn synced_state_survives_a_crash() {
        let fs = SimFs::new(2, SimConfig::default());
        let s = State {
            stamp: Stamp {
                counter: 1,
                writer: 0,
                nonce: 1,
            },
            value: 7,
        };
        save(&fs, &s, true).unwrap();
        fs.crash();
        assert_eq!(load(&fs).unwrap(), Some(s));
    }
}
