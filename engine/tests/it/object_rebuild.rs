//! Rebuilding the metadata from the shards (`object/rebuild.rs`), on real files, K = 4, M = 2:
//! every blob describes its version in its shards (`object/describe.rs`), so after every
//! metadata copy is deleted, `repair` brings back every bucket, object and version — exact
//! bytes, ETag, user metadata, version ids, order — and lists what it cannot: a version with
//! fewer than K shards left, a multipart upload in flight.

use std::collections::BTreeSet;

use seedbed_engine::lsm::Options;
use seedbed_engine::object::{repair, ObjectStore, PutOptions, VersionSummary, Versioning};

use crate::common::replicated_env::{data, Env};

fn env() -> Env {
    crate::common::replicated_env::env("object-rebuild-")
}

/// Every version of every key of `bucket`: its listing entry, its HEAD and its bytes.
fn snapshot(
    store: &ObjectStore,
    bucket: &str,
) -> Vec<(VersionSummary, seedbed_engine::object::ObjectInfo, Vec<u8>)> {
    let page = store.list_versions(bucket, &Default::default()).unwrap();
    assert!(!page.is_truncated);
    page.entries
        .into_iter()
        .map(|v| {
            let mut bytes = Vec::new();
            let info = store
                .get_object(bucket, &v.key, Some(&v.version_id), None, &mut bytes)
                .unwrap();
            (v, info, bytes)
        })
        .collect()
}

/// The shard files under disk 0, by name.
fn shard_files(e: &Env) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let root = e.disk(0).join("blobs");
    for sub in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            out.insert(f.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn every_version_comes_back_from_the_shards_and_what_cannot_is_listed() {
    let e = env();
    let (vers, plain, doomed_id) = {
        let store = e.create();
        store.create_bucket("vers").unwrap();
        store.set_versioning("vers", true).unwrap();
        store.create_bucket("plain").unwrap();
        // Small objects (pack records), large ones (shard files), an empty one, user and
        // system metadata, a content type, several versions of one key.
        for (i, len) in [0usize, 10, 3000, 15_000, 20_000, 70_000]
            .into_iter()
            .enumerate()
        {
            for (bucket, salt) in [("vers", 0u8), ("plain", 50)] {
                let d = data(len, i as u8 + salt);
                let mut opts = PutOptions {
                    content_type: Some(format!("application/x-{i}")),
                    ..PutOptions::default()
                };
                opts.user_meta.insert("n".into(), i.to_string());
                opts.user_meta.insert("colour".into(), "blue".into());
                opts.system.cache_control = Some("max-age=60".into());
                store
                    .put_object(
                        bucket,
                        &format!("dir/k{i}"),
                        &mut d.as_slice(),
                        len as u64,
                        &opts,
                    )
                    .unwrap();
            }
        }
        for round in 0..3u8 {
            let d = data(2000 + round as usize * 9000, 200 + round);
            store
                .put_object(
                    "vers",
                    "dir/k1",
                    &mut d.as_slice(),
                    d.len() as u64,
                    &PutOptions::default(),
                )
                .unwrap();
        }
        // An overwrite in the unversioned bucket replaces the null version.
        let d = data(777, 9);
        store
            .put_object(
                "plain",
                "dir/k2",
                &mut d.as_slice(),
                777,
                &PutOptions::default(),
            )
            .unwrap();
        // A completed multipart object.
        let id = store
            .create_multipart_upload("vers", "multi", &PutOptions::default())
            .unwrap();
        let (p1, p2) = (data(9000, 7), data(100, 8));
        let e1 = store
            .upload_part("vers", &id, 1, &mut p1.as_slice(), 9000)
            .unwrap();
        let e2 = store
            .upload_part("vers", &id, 2, &mut p2.as_slice(), 100)
            .unwrap();
        store
            .complete_multipart_upload("vers", &id, &[(1, e1), (2, e2)])
            .unwrap();
        // An upload in flight: cannot come back, must be listed.
        let open = store
            .create_multipart_upload("plain", "unfinished", &PutOptions::default())
            .unwrap();
        let p = data(5000, 3);
        store
            .upload_part("plain", &open, 1, &mut p.as_slice(), 5000)
            .unwrap();
        // A large object that will lose three of its six shards (M = 2).
        let before = shard_files(&e);
        let d = data(40_000, 77);
        store
            .put_object(
                "plain",
                "doomed",
                &mut d.as_slice(),
                40_000,
                &PutOptions::default(),
            )
            .unwrap();
        let new: Vec<String> = shard_files(&e).difference(&before).cloned().collect();
        assert_eq!(new.len(), 1, "{new:?}");
        let doomed_id = new[0].split('.').next().unwrap().to_string();
        let vers = snapshot(&store, "vers");
        let mut plain = snapshot(&store, "plain");
        plain.retain(|(v, _, _)| v.key != "doomed");
        (vers, plain, doomed_id)
    };
    assert_eq!(vers.len(), 6 + 3 + 1);
    for i in 0..6 {
        std::fs::remove_dir_all(e.disk(i).join("meta")).unwrap();
    }
    for i in [0, 2, 5] {
        let dir = e.disk(i).join("blobs").join(&doomed_id[..2]);
        std::fs::remove_file(dir.join(format!("{doomed_id}.{i}"))).unwrap();
    }
    assert!(e
        .open()
        .unwrap_err()
        .contains("every copy of the metadata was lost"));

    let report = repair::repair(
        e.fs.clone(),
        &e.root,
        Options::small_for_tests(),
        e.clock.clone(),
        false,
    )
    .unwrap();
    let r = report.rebuilt.as_ref().expect("rebuilt from the shards");
    assert!(!report.whole(), "something could not be rebuilt");
    assert_eq!(r.not_rebuilt.len(), 2, "{:#?}", r.not_rebuilt);
    assert!(
        r.not_rebuilt
            .iter()
            .any(|l| l.contains("plain/doomed") && l.contains("fewer than K good shards")),
        "{:#?}",
        r.not_rebuilt
    );
    assert!(
        r.not_rebuilt
            .iter()
            .any(|l| l.contains("plain/unfinished: multipart upload") && l.contains("parts [1]")),
        "{:#?}",
        r.not_rebuilt
    );
    let by_name: Vec<(&str, Versioning, u64)> = r
        .buckets
        .iter()
        .map(|b| (b.name.as_str(), b.versioning, b.versions))
        .collect();
    assert_eq!(
        by_name,
        [
            ("plain", Versioning::Unversioned, 6),
            ("vers", Versioning::Enabled, 10)
        ]
    );

    // Every version is back: listing entries (ids, order, latest, sizes, ETags, times), HEAD
    // (content type, user and system metadata, checksums) and bytes — all equal.
    let store = e.open().unwrap();
    assert_eq!(snapshot(&store, "vers"), vers);
    assert_eq!(snapshot(&store, "plain"), plain);
    assert_eq!(
        store.head_object("vers", "dir/k3", None).unwrap().user_meta["colour"],
        "blue"
    );
    assert!(store.head_object("plain", "doomed", None).is_err());
    // The store works on: new versions go after the rebuilt ones.
    let d = data(100, 1);
    store
        .put_object(
            "vers",
            "dir/k1",
            &mut d.as_slice(),
            100,
            &PutOptions::default(),
        )
        .unwrap();
    let mut out = Vec::new();
    store
        .get_object("vers", "dir/k1", None, None, &mut out)
        .unwrap();
    assert_eq!(out, d);
    drop(store);
    // And a second repair finds the metadata whole.
    let again = repair::repair(
        e.fs.clone(),
        &e.root,
        Options::small_for_tests(),
        e.clock.clone(),
        false,
    )
    .unwrap();
    assert!(again.whole() && again.rebuilt.is_none(), "{again:?}");
}

#[test]
fn from_shards_refuses_to_overwrite_metadata_that_is_there() {
    let e = env();
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        store
            .put_object("bkt", "k", &mut &b"x"[..], 1, &PutOptions::default())
            .unwrap();
    }
    let err = repair::repair(
        e.fs.clone(),
        &e.root,
        Options::small_for_tests(),
        e.clock.clone(),
        true,
    )
    .unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}
