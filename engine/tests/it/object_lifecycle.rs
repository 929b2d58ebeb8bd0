//! Lifecycle rules carried out on real files with a clock the test moves: what a bucket's
//! owner relies on — an object goes at the first midnight UTC after its days are up and not
//! before, a versioned bucket hides it behind a delete marker and later removes what is
//! noncurrent and the marker left alone, filters by prefix, tag and size pick what they say,
//! stale multipart uploads are aborted, Object Lock wins over every rule, and the rules
//! survive a reopen.

use std::sync::Arc;

use seedbed_engine::clock::{Clock, VirtualClock};
use seedbed_engine::object::lifecycle::{
    Candidate, DayLength, Expiration, Filter, LifecycleDone, LifecycleRule, NoncurrentExpiration,
    CREATE_DELETE_MARKER, EXPIRE_OBJECT,
};
use seedbed_engine::object::{
    ListOptions, ObjectError, ObjectLockConfig, ObjectStore, PutOptions, Retention,
};

use seedbed_engine::object::restore::Tier;

use crate::common::real_store_at;

const HOUR_NS: u64 = 3_600 * 1_000_000_000;
const DAY_MS: u64 = 86_400_000;
const REAL: DayLength = DayLength::REAL;

fn rule(id: &str, prefix: &str) -> LifecycleRule {
    LifecycleRule {
        id: id.into(),
        enabled: true,
        prefix: None,
        filter: Some(Filter {
            prefix: Some(prefix.into()),
            ..Filter::default()
        }),
        expiration: None,
        noncurrent_expiration: None,
        abort_incomplete_upload_days: None,
        transitions: Vec::new(),
        noncurrent_transitions: Vec::new(),
    }
}

fn put(store: &ObjectStore, bucket: &str, key: &str, body: &[u8]) -> String {
    put_with(store, bucket, key, body, PutOptions::default())
}

fn put_with(store: &ObjectStore, bucket: &str, key: &str, body: &[u8], o: PutOptions) -> String {
    store
        .put_object(bucket, key, &mut &body[..], body.len() as u64, &o)
        .unwrap()
        .version_id
}

fn keys(store: &ObjectStore, bucket: &str) -> Vec<String> {
    let page = store.list_objects(bucket, &ListOptions::default()).unwrap();
    page.entries.into_iter().map(|e| e.key).collect()
}

/// (key, delete marker) of every version, in listing order.
fn versions(store: &ObjectStore, bucket: &str) -> Vec<(String, bool)> {
    let page = store
        .list_versions(bucket, &ListOptions::default())
        .unwrap();
    page.entries
        .into_iter()
        .map(|e| (e.key, e.delete_marker))
        .collect()
}

#[test]
fn an_object_expires_at_the_first_midnight_after_its_days_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 1, clock.clone());
    store.create_bucket("bkt").unwrap();
    let mut r = rule("logs", "logs/");
    r.expiration = Some(Expiration::Days(1));
    store.put_bucket_lifecycle("bkt", vec![r]).unwrap();

    // Written at 10:30 on day 0: one day later is 10:30 on day 1, rounded up to day 2, 00:00.
    clock.advance(21 * HOUR_NS / 2);
    put(&store, "bkt", "logs/a", b"old");
    put(&store, "bkt", "keep/a", b"kept");
    let info = store.head_object("bkt", "logs/a", None).unwrap();
    let c = Candidate {
        key: "logs/a",
        size: info.size,
        tags: &info.tags,
    };
    let expiry = store
        .lifecycle_expiry("bkt", c, info.last_modified_ms, REAL)
        .unwrap();
    assert_eq!(expiry, Some((t0 + 2 * DAY_MS, "logs".to_string())));

    let before = store.apply_lifecycle_at(t0 + 2 * DAY_MS - 1, REAL).unwrap();
    assert_eq!(before.expired, 0);
    assert_eq!(keys(&store, "bkt"), ["keep/a", "logs/a"]);

    let at = store.apply_lifecycle_at(t0 + 2 * DAY_MS, REAL).unwrap();
    assert_eq!((at.buckets, at.expired), (1, 1));
    assert_eq!(
        keys(&store, "bkt"),
        ["keep/a"],
        "the unversioned object is gone"
    );
    assert!(matches!(
        store.head_object("bkt", "logs/a", None),
        Err(ObjectError::NoSuchKey { .. })
    ));

    // A disabled rule does nothing.
    put(&store, "bkt", "logs/b", b"new");
    let mut off = rule("logs", "logs/");
    off.expiration = Some(Expiration::Days(1));
    off.enabled = false;
    store.put_bucket_lifecycle("bkt", vec![off]).unwrap();
    store.apply_lifecycle_at(t0 + 100 * DAY_MS, REAL).unwrap();
    assert_eq!(keys(&store, "bkt"), ["keep/a", "logs/b"]);
}

#[test]
fn a_versioned_object_is_hidden_then_its_old_versions_then_its_marker_go() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 2, clock.clone());
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    let mut r = rule("all", "");
    r.expiration = Some(Expiration::Days(2));
    r.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: None,
    });
    let mut markers = rule("markers", "");
    markers.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
    // Two rules with the same prefix: S3 allows overlapping filters.
    store.put_bucket_lifecycle("ver", vec![r, markers]).unwrap();

    clock.advance(HOUR_NS);
    put(&store, "ver", "k", b"one");
    clock.advance(HOUR_NS);
    put(&store, "ver", "k", b"two"); // version one noncurrent from 02:00 on day 0

    // Noncurrent since 02:00 on day 0: a day later, rounded up, is day 2, 00:00.
    let r0 = store.apply_lifecycle_at(t0 + DAY_MS, REAL).unwrap();
    assert_eq!((r0.noncurrent_removed, r0.expired), (0, 0));
    let r1 = store.apply_lifecycle_at(t0 + 2 * DAY_MS, REAL).unwrap();
    assert_eq!((r1.noncurrent_removed, r1.expired), (1, 0));
    assert_eq!(versions(&store, "ver"), [("k".to_string(), false)]);

    // Two days from 02:00 on day 0 end at day 3, 00:00.
    assert_eq!(
        store
            .apply_lifecycle_at(t0 + 3 * DAY_MS - 1, REAL)
            .unwrap()
            .expired,
        0
    );
    clock.advance(3 * 24 * HOUR_NS - 2 * HOUR_NS);
    let r2 = store.apply_lifecycle_at(t0 + 3 * DAY_MS, REAL).unwrap();
    assert_eq!(r2.expired, 1);
    assert!(
        keys(&store, "ver").is_empty(),
        "hidden behind a delete marker"
    );
    assert_eq!(
        versions(&store, "ver"),
        [("k".to_string(), true), ("k".to_string(), false)]
    );

    // The version the marker hides goes a day later; the marker, alone, goes with it.
    let r3 = store.apply_lifecycle_at(t0 + 4 * DAY_MS, REAL).unwrap();
    assert_eq!((r3.noncurrent_removed, r3.markers_removed), (1, 1));
    assert!(versions(&store, "ver").is_empty());
}

/// Every removal is told to the pass's observer as S3's server access log names it: a removal
/// for good is `S3.EXPIRE.OBJECT` (with the version removed; none in an unversioned bucket),
/// an expiration that hides the current version is `S3.CREATE.DELETEMARKER` with the new
/// marker's id. The server writes these to the buckets' access logs.
#[test]
fn each_removal_is_reported_as_s3_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 2, clock.clone());
    store.create_bucket("plain").unwrap();
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    let mut r = rule("all", "");
    r.expiration = Some(Expiration::Days(1));
    r.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: None,
    });
    let mut markers = rule("markers", "");
    markers.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
    store
        .put_bucket_lifecycle("plain", vec![r.clone()])
        .unwrap();
    store.put_bucket_lifecycle("ver", vec![r, markers]).unwrap();
    clock.advance(HOUR_NS);
    put(&store, "plain", "a", b"x");
    let v1 = put(&store, "ver", "k", b"one");

    let seen = std::sync::Mutex::new(Vec::new());
    let observe = |d: &LifecycleDone| seen.lock().unwrap().push(d.clone());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let at = t0 + 2 * DAY_MS;
    let rep = store
        .apply_lifecycle_observed(at, REAL, &stop, &observe)
        .unwrap();
    assert_eq!(rep.expired, 2);
    let marker = store
        .list_versions("ver", &ListOptions::default())
        .unwrap()
        .entries
        .into_iter()
        .find(|v| v.delete_marker)
        .expect("the expiration added a marker")
        .version_id;
    let done = |op, bucket: &str, key: &str, v: Option<&str>, at_ms| LifecycleDone {
        operation: op,
        bucket: bucket.into(),
        key: key.into(),
        version_id: v.map(str::to_string),
        at_ms,
    };
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [
            done(EXPIRE_OBJECT, "plain", "a", None, at),
            done(CREATE_DELETE_MARKER, "ver", "k", Some(&marker), at),
        ]
    );

    // A day on, the version the marker hides goes, then the marker, alone: both for good.
    clock.advance(2 * 24 * HOUR_NS);
    let at = t0 + 4 * DAY_MS;
    store
        .apply_lifecycle_observed(at, REAL, &stop, &observe)
        .unwrap();
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [
            done(EXPIRE_OBJECT, "ver", "k", Some(&v1), at),
            done(EXPIRE_OBJECT, "ver", "k", Some(&marker), at),
        ]
    );
    // A pass with nothing due tells nothing.
    store
        .apply_lifecycle_observed(at, REAL, &stop, &observe)
        .unwrap();
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn newer_noncurrent_versions_are_kept_whatever_their_age() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 3, clock.clone());
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    let mut r = rule("keep2", "");
    r.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: Some(2),
    });
    store.put_bucket_lifecycle("ver", vec![r]).unwrap();
    let mut ids = Vec::new();
    for i in 0..5u8 {
        clock.advance(HOUR_NS);
        ids.push(put(&store, "ver", "k", &[i]));
    }
    let rep = store.apply_lifecycle_at(t0 + 10 * DAY_MS, REAL).unwrap();
    assert_eq!(rep.noncurrent_removed, 2);
    let left: Vec<String> = store
        .list_versions("ver", &ListOptions::default())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.version_id)
        .collect();
    // The current one and the two newest noncurrent ones.
    assert_eq!(left, [ids[4].clone(), ids[3].clone(), ids[2].clone()]);
}

#[test]
fn tag_and_size_filters_pick_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 4, clock.clone());
    store.create_bucket("bkt").unwrap();
    let mut tagged = rule("tmp", "");
    tagged.filter = Some(Filter {
        prefix: Some("t/".into()),
        tags: vec![("class".into(), "tmp".into())],
        and: true,
        ..Filter::default()
    });
    tagged.expiration = Some(Expiration::Days(1));
    let mut big = rule("big", "");
    big.filter = Some(Filter {
        size_greater_than: Some(4),
        ..Filter::default()
    });
    big.expiration = Some(Expiration::Days(5));
    store
        .put_bucket_lifecycle("bkt", vec![tagged, big])
        .unwrap();

    let tags = |v: &str| PutOptions {
        tags: vec![("class".into(), v.into())],
        ..PutOptions::default()
    };
    put_with(&store, "bkt", "t/tmp", b"x", tags("tmp"));
    put_with(&store, "bkt", "t/keep", b"x", tags("keep"));
    put_with(&store, "bkt", "u/tmp", b"x", tags("tmp"));
    put(&store, "bkt", "u/big", b"larger");
    put(&store, "bkt", "u/small", b"tiny");

    store.apply_lifecycle_at(t0 + DAY_MS, REAL).unwrap();
    assert_eq!(keys(&store, "bkt"), ["t/keep", "u/big", "u/small", "u/tmp"]);
    store.apply_lifecycle_at(t0 + 5 * DAY_MS, REAL).unwrap();
    assert_eq!(keys(&store, "bkt"), ["t/keep", "u/small", "u/tmp"]);
}

#[test]
fn stale_multipart_uploads_are_aborted_and_rules_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    {
        let store = real_store_at(dir.path(), true, 5, clock.clone());
        store.create_bucket("bkt").unwrap();
        let mut r = rule("mpu", "a/");
        r.abort_incomplete_upload_days = Some(2);
        store.put_bucket_lifecycle("bkt", vec![r]).unwrap();
        store
            .create_multipart_upload("bkt", "a/1", &PutOptions::default())
            .unwrap();
        store
            .create_multipart_upload("bkt", "b/1", &PutOptions::default())
            .unwrap();
    }
    let store = real_store_at(dir.path(), false, 6, clock.clone());
    assert_eq!(store.bucket_lifecycle("bkt").unwrap()[0].id, "mpu");
    assert_eq!(
        store
            .apply_lifecycle_at(t0 + DAY_MS, REAL)
            .unwrap()
            .uploads_aborted,
        0
    );
    assert_eq!(
        store
            .apply_lifecycle_at(t0 + 2 * DAY_MS, REAL)
            .unwrap()
            .uploads_aborted,
        1
    );
    let left: Vec<String> = store
        .list_uploads("bkt")
        .unwrap()
        .into_iter()
        .map(|u| u.key)
        .collect();
    assert_eq!(left, ["b/1"]);

    store.delete_bucket_lifecycle("bkt").unwrap();
    assert!(matches!(
        store.bucket_lifecycle("bkt"),
        Err(ObjectError::NoSuchLifecycleConfiguration(_))
    ));
    assert_eq!(
        store
            .apply_lifecycle_at(t0 + 9 * DAY_MS, REAL)
            .unwrap()
            .buckets,
        0
    );
}

#[test]
fn object_lock_wins_over_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    assert_eq!(t0 % DAY_MS, 0, "the virtual clock starts at a midnight");
    let store = real_store_at(dir.path(), true, 7, clock.clone());
    store.create_bucket("worm").unwrap();
    store.set_versioning("worm", true).unwrap();
    store
        .put_object_lock_configuration("worm", ObjectLockConfig::default())
        .unwrap();
    let mut r = rule("all", "");
    r.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: None,
    });
    store.put_bucket_lifecycle("worm", vec![r]).unwrap();
    let held = PutOptions {
        retention: Some(Retention {
            mode: seedbed_engine::object::LockMode::Compliance,
            until_ms: t0 + 30 * DAY_MS,
        }),
        ..PutOptions::default()
    };
    put_with(&store, "worm", "k", b"locked", held);
    put(&store, "worm", "k", b"newer");
    let rep = store.apply_lifecycle_at(t0 + 10 * DAY_MS, REAL).unwrap();
    assert_eq!((rep.noncurrent_removed, rep.locked), (0, 1));
    assert_eq!(versions(&store, "worm").len(), 2);
    // Hidden behind a marker, the locked version keeps its marker: removing the marker
    // would bring the version back into view.
    store.delete_object("worm", "k", None).unwrap();
    let mut both = rule("all", "");
    both.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: None,
    });
    both.expiration = Some(Expiration::ExpiredObjectDeleteMarker(true));
    store.put_bucket_lifecycle("worm", vec![both]).unwrap();
    let rep = store.apply_lifecycle_at(t0 + 20 * DAY_MS, REAL).unwrap();
    assert_eq!(
        (rep.noncurrent_removed, rep.locked, rep.markers_removed),
        (1, 1, 0),
        "the newer version goes, the locked one and the marker stay"
    );
    assert!(keys(&store, "worm").is_empty());
    assert_eq!(versions(&store, "worm").len(), 2);
    // Past its retention, the next pass removes it, and then the marker.
    clock.advance(31 * 24 * HOUR_NS);
    let rep = store.apply_lifecycle_at(t0 + 31 * DAY_MS, REAL).unwrap();
    assert_eq!(
        (rep.noncurrent_removed, rep.locked, rep.markers_removed),
        (1, 0, 1)
    );
    assert!(versions(&store, "worm").is_empty());
}

#[test]
fn a_debug_day_is_that_many_milliseconds_without_rounding() {
    let d = DayLength::debug_ms(10_000);
    assert_eq!(d.after(1_234, 3), 31_234);
    assert_eq!(REAL.after(1, 1), 2 * DAY_MS);
    assert_eq!(REAL.after(0, 1), DAY_MS, "exactly midnight stays");
}

#[test]
fn a_pass_asked_to_stop_leaves_the_rest_to_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 8, clock.clone());
    store.create_bucket("bkt").unwrap();
    let mut r = rule("all", "");
    r.expiration = Some(Expiration::Days(1));
    store.put_bucket_lifecycle("bkt", vec![r]).unwrap();
    put(&store, "bkt", "a", b"x");
    let stop = std::sync::atomic::AtomicBool::new(true);
    let rep = store
        .apply_lifecycle_until(t0 + 9 * DAY_MS, REAL, &stop)
        .unwrap();
    assert!(rep.stopped);
    assert_eq!(rep.expired, 0);
    assert_eq!(keys(&store, "bkt"), ["a"]);
    let rep = store.apply_lifecycle_at(t0 + 9 * DAY_MS, REAL).unwrap();
    assert!(!rep.stopped);
    assert_eq!(rep.expired, 1);
}

#[test]
fn a_dry_run_lists_what_the_pass_then_does_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 9, clock.clone());
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    let mut r = rule("logs", "logs/");
    r.expiration = Some(Expiration::Days(3));
    r.noncurrent_expiration = Some(NoncurrentExpiration {
        days: 1,
        newer_noncurrent_versions: None,
    });
    r.abort_incomplete_upload_days = Some(1);
    store.put_bucket_lifecycle("ver", vec![r]).unwrap();
    let old = put(&store, "ver", "logs/a", b"1");
    put(&store, "ver", "logs/a", b"2");
    put(&store, "ver", "other", b"x");
    let upload = store
        .create_multipart_upload("ver", "logs/big", &PutOptions::default())
        .unwrap();
    let before = versions(&store, "ver");

    let plan = store.plan_lifecycle_at(t0 + 9 * DAY_MS, REAL).unwrap();
    let listed: Vec<(&str, &str, Option<&str>, &str)> = plan
        .planned
        .iter()
        .map(|p| (p.action, p.key.as_str(), p.id.as_deref(), p.rule.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("expire", "logs/a", None, "logs"),
            ("remove-noncurrent", "logs/a", Some(old.as_str()), "logs"),
            ("abort-upload", "logs/big", Some(upload.as_str()), "logs"),
        ]
    );
    assert_eq!(versions(&store, "ver"), before, "a dry run changes nothing");
    assert_eq!(store.list_uploads("ver").unwrap().len(), 1);

    let done = store.apply_lifecycle_at(t0 + 9 * DAY_MS, REAL).unwrap();
    assert!(done.planned.is_empty());
    assert_eq!(
        (done.expired, done.noncurrent_removed, done.uploads_aborted),
        (plan.expired, plan.noncurrent_removed, plan.uploads_aborted)
    );
    assert!(store.list_uploads("ver").unwrap().is_empty());
}

/// A pass acts on due keys from several threads (deletes in flight share their commits):
/// over more keys than one scan chunk, every due key is acted on exactly once, the counts
/// add up, and what is not due is left alone.
#[test]
fn a_pass_over_many_keys_acts_on_each_due_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 11, clock.clone());
    store.create_bucket("many").unwrap();
    store.set_versioning("many", true).unwrap();
    let mut r = rule("old", "old/");
    r.expiration = Some(Expiration::Days(1));
    store.put_bucket_lifecycle("many", vec![r]).unwrap();
    const DUE: usize = 300;
    for i in 0..DUE {
        put(&store, "many", &format!("old/{i:04}"), b"x");
    }
    put(&store, "many", "new/kept", b"y");
    let rep = store.apply_lifecycle_at(t0 + 3 * DAY_MS, REAL).unwrap();
    assert_eq!(rep.expired, DUE as u64, "{rep:?}");
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    assert_eq!(keys(&store, "many"), ["new/kept"]);
    let all = versions(&store, "many");
    assert_eq!(
        all.len(),
        2 * DUE + 1,
        "one marker over each expired version"
    );
    assert_eq!(all.iter().filter(|(_, marker)| *marker).count(), DUE);
    // A second pass finds only markers over versions that are not due: nothing to do.
    let again = store.apply_lifecycle_at(t0 + 3 * DAY_MS, REAL).unwrap();
    assert_eq!((again.expired, again.markers_removed), (0, 0), "{again:?}");
}

/// (key, storage class) of every version, newest first per key; STANDARD where none is set.
fn classes(store: &ObjectStore, bucket: &str) -> Vec<(String, String)> {
    let page = store
        .list_versions(bucket, &ListOptions::default())
        .unwrap();
    page.entries
        .into_iter()
        .filter(|e| !e.delete_marker)
        .map(|e| (e.key, e.storage_class.unwrap_or_else(|| "STANDARD".into())))
        .collect()
}

#[test]
fn transitions_move_versions_down_to_the_coldest_class_due_and_never_back() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 2, clock.clone());
    store.create_bucket("tier").unwrap();
    store.set_versioning("tier", true).unwrap();

    // S3's rule: 30 days in a class before STANDARD_IA or ONEZONE_IA.
    let mut early = rule("early", "");
    early.transitions = vec![transition(Some(1), "STANDARD_IA")];
    let e = store.put_bucket_lifecycle("tier", vec![early]).unwrap_err();
    assert!(
        e.to_string()
            .contains("'Days' in Transition action must be greater than or equal to 30"),
        "{e}"
    );

    let mut r = rule("tiers", "logs/");
    r.transitions = vec![
        transition(Some(1), "INTELLIGENT_TIERING"),
        transition(Some(3), "GLACIER"),
    ];
    r.noncurrent_transitions = vec![transition(Some(1), "GLACIER_IR")];
    r.expiration = Some(Expiration::Days(10));
    // A second rule for the same keys with a warmer class, due later: it never brings a
    // version back up.
    let mut warm = rule("warm", "logs/");
    warm.transitions = vec![transition(Some(5), "GLACIER_IR")];
    store.put_bucket_lifecycle("tier", vec![r, warm]).unwrap();

    put(&store, "tier", "logs/a", b"v1");
    let deep = PutOptions {
        system: seedbed_engine::object::SystemMeta {
            storage_class: Some("DEEP_ARCHIVE".into()),
            ..Default::default()
        },
        ..PutOptions::default()
    };
    put_with(&store, "tier", "logs/deep", b"cold already", deep);
    put(&store, "tier", "keep/a", b"no rule");
    let at = |days: u64| t0 + days * DAY_MS;

    let plan = store.plan_lifecycle_at(at(1), REAL).unwrap();
    assert_eq!(plan.transitioned, 1, "{plan:?}");
    assert_eq!(plan.planned[0].action, "transition");
    assert_eq!(
        classes(&store, "tier")[1],
        ("logs/a".into(), "STANDARD".into()),
        "a dry run moves nothing"
    );

    let mut seen = Vec::new();
    let log = std::sync::Mutex::new(&mut seen);
    let r1 = store
        .apply_lifecycle_observed(
            at(1),
            REAL,
            &std::sync::atomic::AtomicBool::new(false),
            &|d: &LifecycleDone| log.lock().unwrap().push(d.operation),
        )
        .unwrap();
    assert_eq!(r1.transitioned, 1);
    assert_eq!(seen, ["S3.TRANSITION_INT.OBJECT"]);
    assert_eq!(
        classes(&store, "tier"),
        [
            ("keep/a".into(), "STANDARD".into()),
            ("logs/a".into(), "INTELLIGENT_TIERING".into()),
            ("logs/deep".into(), "DEEP_ARCHIVE".into()),
        ]
    );
    let info = store.head_object("tier", "logs/a", None).unwrap();
    assert_eq!(
        info.system.storage_class.as_deref(),
        Some("INTELLIGENT_TIERING")
    );

    // A new version on day 1 makes the first noncurrent: a day later that one moves to
    // GLACIER_IR (its noncurrent transition) and the new one to INTELLIGENT_TIERING.
    clock.advance(DAY_MS * 1_000_000);
    put(&store, "tier", "logs/a", b"v2");
    store.apply_lifecycle_at(at(2), REAL).unwrap();
    assert_eq!(
        classes(&store, "tier")[1..3],
        [
            ("logs/a".into(), "INTELLIGENT_TIERING".into()),
            ("logs/a".into(), "GLACIER_IR".into()),
        ]
    );
    // Day 4: three days after its write, the current version is due for GLACIER.
    let r4 = store.apply_lifecycle_at(at(4), REAL).unwrap();
    assert_eq!(r4.transitioned, 1, "{r4:?}");
    assert_eq!(classes(&store, "tier")[1].1, "GLACIER");
    // Day 7: the warmer rule is due too, and moves nothing back up.
    let r7 = store.apply_lifecycle_at(at(7), REAL).unwrap();
    assert_eq!(r7.transitioned, 0, "{r7:?}");
    assert_eq!(classes(&store, "tier")[1].1, "GLACIER");
    // Moved to GLACIER, the version is archived: no GET until a restore, after which the bytes
    // are where they were (a class is a label in this store).
    let mut body = Vec::new();
    assert!(matches!(
        store.get_object("tier", "logs/a", None, None, &mut body),
        Err(ObjectError::InvalidObjectState { .. })
    ));
    let at_once = seedbed_engine::object::restore::RestoreTiming {
        day: REAL,
        fixed_ms: Some(0),
    };
    store
        .restore_object("tier", "logs/a", None, 1, Tier::Standard, at_once)
        .unwrap();
    store
        .get_object("tier", "logs/a", None, None, &mut body)
        .unwrap();
    assert_eq!(body, b"v2");
    // Expiration comes first: on day 11 the current version is hidden, not moved.
    let r11 = store.apply_lifecycle_at(at(11), REAL).unwrap();
    assert_eq!((r11.expired, r11.transitioned), (2, 0), "{r11:?}");
    assert_eq!(keys(&store, "tier"), ["keep/a"]);
}

fn transition(days: Option<u32>, class: &str) -> seedbed_engine::object::lifecycle::Transition {
    seedbed_engine::object::lifecycle::Transition {
        days,
        date: None,
        storage_class: class.into(),
        newer_noncurrent_versions: None,
    }
}

#[test]
fn a_noncurrent_delete_marker_is_never_transitioned() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(VirtualClock::new());
    let t0 = clock.unix_millis();
    let store = real_store_at(dir.path(), true, 3, clock.clone());
    store.create_bucket("ver").unwrap();
    store.set_versioning("ver", true).unwrap();
    put(&store, "ver", "k", b"v1");
    store.delete_object("ver", "k", None).unwrap(); // a marker over v1
    put(&store, "ver", "k", b"v2"); // the marker becomes noncurrent
    let mut r = rule("cold", "");
    r.noncurrent_transitions = vec![transition(Some(1), "GLACIER_IR")];
    store.put_bucket_lifecycle("ver", vec![r]).unwrap();

    let moved = std::sync::Mutex::new(Vec::new());
    let rep = store
        .apply_lifecycle_observed(
            t0 + 2 * DAY_MS,
            REAL,
            &std::sync::atomic::AtomicBool::new(false),
            &|d: &LifecycleDone| moved.lock().unwrap().push(d.version_id.clone()),
        )
        .unwrap();
    assert_eq!(rep.transitioned, 1, "only v1 moves: {rep:?}");
    assert!(rep.errors.is_empty(), "a marker is not even tried: {rep:?}");
    assert_eq!(moved.lock().unwrap().len(), 1);
    assert_eq!(
        classes(&store, "ver"),
        [
            ("k".to_string(), "STANDARD".to_string()),
            ("k".to_string(), "GLACIER_IR".to_string()),
        ]
    );
}
