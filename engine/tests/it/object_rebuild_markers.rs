//! Delete markers and bucket settings on the data side (`object/describe.rs`), on real files,
//! K = 4, M = 2: after every metadata copy is deleted, `repair` brings back exactly the
//! versions, the delete markers (with their version ids, in their order) and every bucket's
//! settings — so a deleted object stays deleted — and a bucket or marker removed before the
//! loss stays removed.

use seedbed_engine::lsm::Options;
use seedbed_engine::object::bucket_config::{ObjectOwnership, PublicAccessBlock};
use seedbed_engine::object::meta::BucketMeta;
use seedbed_engine::object::{
    repair, NewBucket, ObjectError, ObjectStore, PutOptions, VersionSummary, Versioning,
};

use crate::common::replicated_env::{data, Env};

fn env() -> Env {
    crate::common::replicated_env::env("object-rebuild-markers-")
}

fn put(store: &ObjectStore, bucket: &str, key: &str, len: usize, salt: u8) {
    let d = data(len, salt);
    store
        .put_object(
            bucket,
            key,
            &mut d.as_slice(),
            len as u64,
            &PutOptions::default(),
        )
        .unwrap();
}

/// Everything a user sees of the store: every bucket record (settings and all), and per bucket
/// every version and delete marker in listing order, with the bytes of each version.
type Snapshot = (
    Vec<BucketMeta>,
    Vec<(String, Vec<(VersionSummary, Option<Vec<u8>>)>)>,
);

fn snapshot(store: &ObjectStore) -> Snapshot {
    let buckets = store.list_buckets().unwrap();
    let contents = buckets
        .iter()
        .map(|b| {
            let page = store.list_versions(&b.name, &Default::default()).unwrap();
            assert!(!page.is_truncated);
            let entries = page
                .entries
                .into_iter()
                .map(|v| {
                    let bytes = (!v.delete_marker).then(|| {
                        let mut out = Vec::new();
                        store
                            .get_object(&b.name, &v.key, Some(&v.version_id), None, &mut out)
                            .unwrap();
                        out
                    });
                    (v, bytes)
                })
                .collect();
            (b.name.clone(), entries)
        })
        .collect();
    (buckets, contents)
}

fn lose_every_metadata_copy(e: &Env) {
    e.lose_every_metadata_copy();
}

fn repair_from_shards(e: &Env) -> repair::RepairReport {
    e.repair_from_shards()
}

fn is_no_such_key(r: Result<seedbed_engine::object::ObjectInfo, ObjectError>) -> bool {
    matches!(r, Err(ObjectError::NoSuchKey { .. }))
}

#[test]
fn delete_markers_and_bucket_settings_come_back_from_the_data_side() {
    let e = env();
    let before = {
        let store = e.create();
        // A versioned bucket: markers on top, in the middle, alone, and one removed again.
        store.create_bucket("vers").unwrap();
        store.set_versioning("vers", true).unwrap();
        put(&store, "vers", "gone", 3000, 1);
        put(&store, "vers", "gone", 20_000, 2); // shard files
        store.delete_object("vers", "gone", None).unwrap();
        put(&store, "vers", "back", 100, 3);
        store.delete_object("vers", "back", None).unwrap();
        put(&store, "vers", "back", 200, 4);
        store.delete_object("vers", "only-markers", None).unwrap();
        store.delete_object("vers", "only-markers", None).unwrap();
        put(&store, "vers", "unmarked", 10, 5);
        let m = store.delete_object("vers", "unmarked", None).unwrap();
        store
            .delete_object("vers", "unmarked", m.version_id.as_deref())
            .unwrap();
        // A suspended bucket: a `null` delete marker replacing the `null` version.
        store.create_bucket("susp").unwrap();
        put(&store, "susp", "a", 500, 6);
        store.set_versioning("susp", true).unwrap();
        put(&store, "susp", "a", 600, 7);
        store.set_versioning("susp", false).unwrap();
        put(&store, "susp", "b", 700, 8);
        store.delete_object("susp", "b", None).unwrap();
        // A bucket with every setting and no object at all.
        let owner = seedbed_engine::object::Owner {
            account: "111122223333".into(),
            id: "ab".repeat(32),
            display_name: "alice".into(),
        };
        store
            .create_bucket_with(
                "configured",
                &NewBucket {
                    owner: Some(owner),
                    acl: None,
                    ownership: None,
                    location: Some("eu-west-1".into()),
                    object_lock: false,
                },
            )
            .unwrap();
        store
            .put_bucket_policy(
                "configured",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::configured/*"}]}"#,
            )
            .unwrap();
        store
            .set_object_ownership("configured", Some(ObjectOwnership::BucketOwnerPreferred))
            .unwrap();
        store
            .set_public_access_block(
                "configured",
                Some(PublicAccessBlock {
                    block_public_acls: true,
                    ignore_public_acls: false,
                    block_public_policy: true,
                    restrict_public_buckets: false,
                }),
            )
            .unwrap();
        store
            .put_bucket_tagging(
                "configured",
                vec![
                    ("team".into(), "storage".into()),
                    ("cost".into(), String::new()),
                ],
            )
            .unwrap();
        let rule = seedbed_engine::object::lifecycle::LifecycleRule {
            id: "logs".into(),
            enabled: true,
            prefix: Some("logs/".into()),
            filter: None,
            expiration: Some(seedbed_engine::object::lifecycle::Expiration::Days(30)),
            noncurrent_expiration: None,
            abort_incomplete_upload_days: Some(2),
            transitions: Vec::new(),
            noncurrent_transitions: Vec::new(),
        };
        store
            .put_bucket_lifecycle("configured", vec![rule])
            .unwrap();
        // A bucket deleted before the loss, and one deleted and made again (unversioned).
        store.create_bucket("deleted").unwrap();
        store.set_versioning("deleted", true).unwrap();
        store.delete_bucket("deleted").unwrap();
        store.create_bucket("again").unwrap();
        store.set_versioning("again", true).unwrap();
        store.delete_bucket("again").unwrap();
        store.create_bucket("again").unwrap();
        put(&store, "again", "x", 50, 9);

        assert!(is_no_such_key(store.head_object("vers", "gone", None)));
        snapshot(&store)
    };
    let names: Vec<&str> = before.0.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["again", "configured", "susp", "vers"]);

    lose_every_metadata_copy(&e);
    let report = repair_from_shards(&e);
    assert!(report.whole(), "{report:#?}");
    let r = report.rebuilt.as_ref().expect("rebuilt from the shards");
    let got: Vec<(&str, Versioning, Option<u64>, u64, u64)> = r
        .buckets
        .iter()
        .map(|b| {
            (
                b.name.as_str(),
                b.versioning,
                b.settings_generation.map(|_| 1),
                b.versions,
                b.delete_markers,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("again", Versioning::Unversioned, Some(1), 1, 0),
            ("configured", Versioning::Unversioned, Some(1), 0, 0),
            ("susp", Versioning::Suspended, Some(1), 3, 1),
            ("vers", Versioning::Enabled, Some(1), 9, 4),
        ]
    );

    let store = e.open().unwrap();
    let after = snapshot(&store);
    // Every bucket record equal, settings and all; every version and marker, in order.
    assert_eq!(after.0, before.0);
    assert_eq!(after.1, before.1);
    assert!(
        is_no_such_key(store.head_object("vers", "gone", None)),
        "a deleted object must stay deleted"
    );
    assert!(is_no_such_key(store.head_object("susp", "b", None)));
    assert!(store.head_object("vers", "unmarked", None).is_ok());
    assert!(matches!(
        store.bucket("deleted"),
        Err(ObjectError::NoSuchBucket(_))
    ));
    let configured = store.bucket("configured").unwrap();
    assert_eq!(configured.location.as_deref(), Some("eu-west-1"));
    assert_eq!(store.bucket_lifecycle("configured").unwrap()[0].id, "logs");
    assert!(configured.policy.is_some());
    assert_eq!(
        store.bucket_tagging("configured").unwrap(),
        [
            ("team".to_string(), "storage".to_string()),
            ("cost".to_string(), String::new())
        ]
    );

    // The store works on: a marker removed by its version id brings the object back, and
    // that survives a second loss too (the marker's record went with it).
    let top = store
        .list_versions("vers", &Default::default())
        .unwrap()
        .entries
        .into_iter()
        .find(|v| v.key == "gone" && v.is_latest)
        .unwrap();
    assert!(top.delete_marker);
    store
        .delete_object("vers", "gone", Some(&top.version_id))
        .unwrap();
    store.set_versioning("vers", false).unwrap();
    let again = snapshot(&store);
    drop(store);
    lose_every_metadata_copy(&e);
    assert!(repair_from_shards(&e).whole());
    let store = e.open().unwrap();
    assert_eq!(snapshot(&store), again);
    assert_eq!(
        store.bucket("vers").unwrap().versioning,
        Versioning::Suspended
    );
    let mut out = Vec::new();
    store
        .get_object("vers", "gone", None, None, &mut out)
        .unwrap();
    assert_eq!(out, data(20_000, 2));
}

#[test]
fn scrub_heals_the_records_of_markers_and_settings_on_lost_disks() {
    let e = env();
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        store.set_versioning("bkt", true).unwrap();
        put(&store, "bkt", "k", 100, 1);
        store.delete_object("bkt", "k", None).unwrap();
    }
    // Two disks lost whole (M = 2): metadata copies, pack files, everything.
    for i in [1, 4] {
        std::fs::remove_dir_all(e.disk(i)).unwrap();
        std::fs::create_dir(e.disk(i)).unwrap();
    }
    let store = e.open().unwrap();
    let report = store.scrub(true, &mut |_, _| {}).unwrap();
    assert!(report.failures.is_empty(), "{report:#?}");
    let before = snapshot(&store);
    drop(store);
    // Then two other disks, whole, and the metadata of the rest: the records must read back
    // from the four disks left, two of them healed by the scrub.
    for i in [0, 2] {
        std::fs::remove_dir_all(e.disk(i)).unwrap();
        std::fs::create_dir(e.disk(i)).unwrap();
    }
    for i in [1, 3, 4, 5] {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    assert!(repair_from_shards(&e).whole());
    let store = e.open().unwrap();
    assert_eq!(snapshot(&store), before);
    assert!(is_no_such_key(store.head_object("bkt", "k", None)));
}

/// A store written before buckets and delete markers had data-side records: its bucket records
/// name no settings record and its markers no blob. Its first open writes the records they
/// lack, so that a later loss of every metadata copy still brings them back.
#[test]
fn an_older_store_gets_its_records_at_open() {
    use seedbed_engine::object::meta::{self, VersionMeta};
    use seedbed_engine::object::{lsm_meta, MetaStore};

    let e = env();
    let before = {
        let store = e.create();
        store.create_bucket("old").unwrap();
        store.set_versioning("old", true).unwrap();
        store.put_bucket_policy(
            "old",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::old/*"}]}"#,
        )
        .unwrap();
        put(&store, "old", "k", 100, 1);
        store.delete_object("old", "k", None).unwrap();
        snapshot(&store)
    };
    // Make the metadata look as an older store's did: no `settings_blob`, markers without a
    // segment (their records, now named by nothing, are orphans for the sweep).
    {
        let layout = ObjectStore::read_layout(&*e.fs, &e.root).unwrap();
        let (meta, _) = lsm_meta::open_replicated(
            e.fs.clone(),
            &e.root,
            &layout,
            Options::small_for_tests(),
            e.clock.clone(),
        )
        .unwrap();
        let mut ops = Vec::new();
        for (k, v) in meta.scan(b"B", b"C", usize::MAX).unwrap() {
            let mut b: BucketMeta = meta::from_json(&k, &v).unwrap();
            assert!(b.settings_blob.is_some());
            b.settings_blob = None;
            b.settings_gen = 0;
            ops.push((k, Some(meta::to_json(&b))));
        }
        let mut markers = 0;
        for (k, v) in meta.scan(b"O", b"P", usize::MAX).unwrap() {
            let mut vm: VersionMeta = meta::from_json(&k, &v).unwrap();
            if vm.delete_marker {
                assert_eq!(vm.segments.len(), 1);
                vm.segments.clear();
                markers += 1;
                ops.push((k, Some(meta::to_json(&vm))));
            }
        }
        assert_eq!(markers, 1);
        meta.commit(ops, true).unwrap();
    }
    {
        let store = e.open().unwrap();
        let b = store.bucket("old").unwrap();
        assert!(b.settings_blob.is_some(), "open wrote the bucket's record");
        let mut now = snapshot(&store);
        // Only the record's name and generation changed.
        now.0[0].settings_blob = before.0[0].settings_blob.clone();
        now.0[0].settings_gen = before.0[0].settings_gen;
        assert_eq!(now, before);
    }
    lose_every_metadata_copy(&e);
    let report = repair_from_shards(&e);
    assert!(report.whole(), "{report:#?}");
    let r = report.rebuilt.as_ref().unwrap();
    assert_eq!(r.buckets.len(), 1);
    assert!(r.buckets[0].settings_generation.is_some());
    assert_eq!(r.buckets[0].delete_markers, 1);
    let store = e.open().unwrap();
    assert!(is_no_such_key(store.head_object("old", "k", None)));
    let b = store.bucket("old").unwrap();
    assert_eq!(b.versioning, Versioning::Enabled);
    assert!(b.policy.is_some());
}
