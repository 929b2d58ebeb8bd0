//! The archive classes on real files with a clock the test moves: what a client of S3's
//! GLACIER and DEEP_ARCHIVE relies on — the data is refused until a restore completes, HEAD
//! still answers, a restore takes S3's time for its tier (a share of the lifecycle day, or a
//! fixed time), the copy lasts its days and then lapses, a second restore while one runs is
//! refused and one after extends the copy, and the restore survives a reopen.

use std::sync::Arc;

use seedbed_engine::clock::{Clock, VirtualClock};
use seedbed_engine::object::lifecycle::DayLength;
use seedbed_engine::object::restore::{RestoreOutcome, RestoreTiming, Tier};
use seedbed_engine::object::{ObjectError, ObjectStore, PutOptions, SystemMeta};

use crate::common::real_store_at;

const MS: u64 = 1_000_000; // nanoseconds
const DAY_MS: u64 = 86_400_000;
const HOUR_MS: u64 = 3_600_000;

fn put_in(store: &ObjectStore, key: &str, class: &str, body: &[u8]) {
    let o = PutOptions {
        system: SystemMeta {
            storage_class: Some(class.into()),
            ..SystemMeta::default()
        },
        ..PutOptions::default()
    };
    store
        .put_object("arc", key, &mut &body[..], body.len() as u64, &o)
        .unwrap();
}

fn read(store: &ObjectStore, key: &str) -> Result<Vec<u8>, ObjectError> {
    let mut out = Vec::new();
    store.get_object("arc", key, None, None, &mut out)?;
    Ok(out)
}

fn archived(r: Result<Vec<u8>, ObjectError>) -> bool {
    matches!(r, Err(ObjectError::InvalidObjectState { .. }))
}

const REAL: RestoreTiming = RestoreTiming {
    day: DayLength::REAL,
    fixed_ms: None,
};

#[test]
fn an_archived_object_reads_only_between_its_restore_and_the_copys_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 1, clock.clone());
    store.create_bucket("arc").unwrap();
    put_in(&store, "cold", "GLACIER", b"frozen bytes");
    put_in(&store, "instant", "GLACIER_IR", b"read at once");

    assert_eq!(read(&store, "instant").unwrap(), b"read at once");
    let e = read(&store, "cold").unwrap_err();
    assert!(
        matches!(&e, ObjectError::InvalidObjectState { class, .. } if class == "GLACIER"),
        "{e}"
    );
    assert_eq!(e.http_status(), 403);
    // HEAD reads metadata and is not refused; a copy reads data and is.
    assert_eq!(
        store.head_object("arc", "cold", None).unwrap().restore,
        None
    );
    assert!(matches!(
        store.copy_object("arc", "cold", None, "arc", "copy", &PutOptions::default()),
        Err(ObjectError::InvalidObjectState { .. })
    ));
    // A class that reads at once has nothing to restore.
    assert!(matches!(
        store.restore_object("arc", "instant", None, 1, Tier::Standard, REAL),
        Err(ObjectError::InvalidObjectState { .. })
    ));

    // Standard tier on GLACIER: 5 hours.
    let (_, o) = store
        .restore_object("arc", "cold", None, 2, Tier::Standard, REAL)
        .unwrap();
    assert_eq!(o, RestoreOutcome::Started);
    let r = store
        .head_object("arc", "cold", None)
        .unwrap()
        .restore
        .unwrap();
    assert_eq!(r.ready_ms, t0 + 5 * HOUR_MS);
    // Two days from the completion, rounded up to midnight UTC.
    assert_eq!(r.expiry_ms, t0 + 3 * DAY_MS);
    assert!(matches!(
        store.restore_object("arc", "cold", None, 2, Tier::Expedited, REAL),
        Err(ObjectError::RestoreAlreadyInProgress(_))
    ));
    clock.advance(5 * HOUR_MS * MS - MS);
    assert!(
        archived(read(&store, "cold")),
        "not before the restore completes"
    );
    clock.advance(MS);
    assert_eq!(read(&store, "cold").unwrap(), b"frozen bytes");
    store
        .copy_object("arc", "cold", None, "arc", "copy", &PutOptions::default())
        .unwrap();
    assert_eq!(
        read(&store, "copy").unwrap(),
        b"frozen bytes",
        "a copy is STANDARD"
    );

    // The restore is on the version's record: a reopen keeps it.
    drop(store);
    let store = real_store_at(dir.path(), false, 1, clock.clone());
    assert_eq!(read(&store, "cold").unwrap(), b"frozen bytes");

    // Asked again while readable: the copy lasts its days from now (200, not 202).
    clock.advance(DAY_MS * MS);
    let (_, o) = store
        .restore_object("arc", "cold", None, 3, Tier::Bulk, REAL)
        .unwrap();
    assert_eq!(o, RestoreOutcome::Extended);
    let r = store
        .head_object("arc", "cold", None)
        .unwrap()
        .restore
        .unwrap();
    assert_eq!(r.expiry_ms, t0 + 5 * DAY_MS);
    clock.advance((t0 + 5 * DAY_MS - clock.unix_millis()) * MS - MS);
    assert_eq!(read(&store, "cold").unwrap(), b"frozen bytes");
    clock.advance(MS);
    assert!(archived(read(&store, "cold")), "the copy lapsed");
    // A lapsed copy is restored anew.
    let (_, o) = store
        .restore_object("arc", "cold", None, 1, Tier::Expedited, REAL)
        .unwrap();
    assert_eq!(o, RestoreOutcome::Started);
}

#[test]
fn restore_times_follow_the_tier_the_class_and_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 1, clock.clone());
    store.create_bucket("arc").unwrap();
    put_in(&store, "deep", "DEEP_ARCHIVE", b"deep");
    put_in(&store, "fixed", "DEEP_ARCHIVE", b"fixed");

    // DEEP_ARCHIVE has no Expedited tier.
    assert!(matches!(
        store.restore_object("arc", "deep", None, 1, Tier::Expedited, REAL),
        Err(ObjectError::InvalidArgument(_))
    ));
    // Bulk on DEEP_ARCHIVE: 48 hours of a real day; on a 24-second day, 48 seconds.
    let fast = RestoreTiming {
        day: DayLength::debug_ms(24_000),
        fixed_ms: None,
    };
    store
        .restore_object("arc", "deep", None, 1, Tier::Bulk, fast)
        .unwrap();
    let r = store
        .head_object("arc", "deep", None)
        .unwrap()
        .restore
        .unwrap();
    assert_eq!(r.ready_ms - t0, 48_000);
    assert_eq!(
        r.expiry_ms - r.ready_ms,
        24_000,
        "a debug day is not rounded"
    );
    // A fixed time replaces S3's (`seedbed serve --restore-secs`).
    let fixed = RestoreTiming {
        day: DayLength::REAL,
        fixed_ms: Some(0),
    };
    store
        .restore_object("arc", "fixed", None, 1, Tier::Bulk, fixed)
        .unwrap();
    assert_eq!(read(&store, "fixed").unwrap(), b"fixed", "restored at once");
}
