//! An object event: what a producer emits for each committed change, and how it is stored.
//!
//! Modelled on S3's event notifications: an `ObjectCreated` or `ObjectRemoved` record for a
//! key, with a version id and a `sequencer` that orders the events of one key. Here the
//! producer's commit counter is all three: the event id (unique per run), the version id and the
//! sequencer (it only grows, so it orders each key's events, as S3's per-key sequencer does).
//! `poison` marks an event the function always fails on — a malformed record — so that the
//! dead-letter queue has real work in every run.

/// What happened to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A PUT committed (`s3:ObjectCreated:Put`).
    Created,
    /// A DELETE committed (`s3:ObjectRemoved:Delete`).
    Removed,
}

/// One event; see the module docs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Event {
    /// Event id, version id and sequencer in one (the producer's commit counter).
    pub seq: u64,
    /// The object's key (bucket is implicit: one bucket).
    pub key: u32,
    /// Created or removed.
    pub kind: Kind,
    /// The function fails on this event every time (it must end in the dead-letter queue).
    pub poison: bool,
}

impl std::fmt::Debug for Event {
    /// `e17:k3+` (created), `e18:k3-` (removed), `!` for poison.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = match self.kind {
            Kind::Created => '+',
            Kind::Removed => '-',
        };
        let p = if self.poison { "!" } else { "" };
        write!(f, "e{}:k{}{k}{p}", self.seq, self.key)
    }
}

/// Bytes of an encoded event.
pub const EVENT_BYTES: usize = 14;

impl Event {
    /// `seq` (8, LE) · `key` (4, LE) · kind (1) · poison (1).
    pub fn encode(&self) -> [u8; EVENT_BYTES] {
        let mut b = [0u8; EVENT_BYTES];
        b[0..8].copy_from_slice(&self.seq.to_le_bytes());
        b[8..12].copy_from_slice(&self.key.to_le_bytes());
        b[12] = match self.kind {
            Kind::Created => 0,
            Kind::Removed => 1,
        };
        b[13] = u8::from(self.poison);
        b
    }

    /// The inverse of [`Event::encode`] over the first [`EVENT_BYTES`] of `b`.
    pub fn decode(b: &[u8]) -> Result<Event, String> {
        if b.len() < EVENT_BYTES {
            return Err(format!(
                "event is {} bytes, expected {EVENT_BYTES}",
                b.len()
            ));
        }
        let kind = match b[12] {
            0 => Kind::Created,
            1 => Kind::Removed,
            k => return Err(format!("unknown event kind {k}")),
        };
        let poison = match b[13] {
            0 => false,
            1 => true,
            p => return Err(format!("poison flag {p} is not 0 or 1")),
        };
        Ok(Event {
            seq: u64_at(b, 0),
            key: u32_at(b, 8),
            kind,
            poison,
        })
    }
}

/// The little-endian `u64` at `at` (the caller checked the length).
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The little-endian `u32` at `at` (the caller checked the length).
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let e = Event {
            seq: 9,
            key: 3,
            kind: Kind::Removed,
            poison: true,
        };
        assert_eq!(Event::decode(&e.encode()).unwrap(), e);
        let mut b = e.encode();
        b[12] = 7;
        assert!(Event::decode(&b).unwrap_err().contains("kind 7"));
        assert!(Event::decode(&b[..5]).unwrap_err().contains("5 bytes"));
        assert_eq!(format!("{e:?}"), "e9:k3-!");
    }
}
