//! Model-based property tests of the object store against an in-memory model of S3's
//! semantics: versioning (unversioned, enabled, suspended), delete markers, GET by version,
//! listing order, prefixes and delimiters, continuation, multipart, copy — with reopens, so that
//! everything the model remembers must also come back from disk.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use md5::{Digest, Md5};
use proptest::prelude::*;
use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::{posix::PosixFs, FsHandle};
use seedbed_engine::lsm::Options;
use seedbed_engine::object::{
    lsm_meta, ListOptions, ObjectError, ObjectStore, PutOptions, StoreOptions, Versioning,
};
use seedbed_engine::rng::DetRng;
use sha2::Sha256;

const BUCKETS: [&str; 2] = ["alpha", "beta.logs"];
const KEYS: [&str; 9] = [
    "a", "a/b", "a/c", "a/b/c", "b", "b/x/y", "c\u{e9}", "d", "a\0z",
];
const PREFIXES: [&str; 6] = ["", "a", "a/", "b/", "z", "a/b"];

#[derive(Clone, Debug)]
enum Op {
    Versioning {
        b: usize,
        on: bool,
    },
    Put {
        b: usize,
        k: usize,
        len: usize,
        fill: u8,
    },
    Delete {
        b: usize,
        k: usize,
        version: Option<usize>,
    },
    Get {
        b: usize,
        k: usize,
        version: Option<usize>,
    },
    List {
        b: usize,
        p: usize,
        delimiter: bool,
        max_keys: usize,
    },
    ListVersions {
        b: usize,
        p: usize,
    },
    Multipart {
        b: usize,
        k: usize,
        parts: Vec<(u32, usize, u8)>,
        pick: Vec<bool>,
        abort: bool,
    },
    Copy {
        sb: usize,
        sk: usize,
        db: usize,
        dk: usize,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let b = 0..BUCKETS.len();
    let k = 0..KEYS.len();
    prop_oneof![
        1 => (b.clone(), any::<bool>()).prop_map(|(b, on)| Op::Versioning { b, on }),
        6 => (b.clone(), k.clone(), 0usize..20_000, any::<u8>())
            .prop_map(|(b, k, len, fill)| Op::Put { b, k, len, fill }),
        3 => (b.clone(), k.clone(), proptest::option::of(0usize..8))
            .prop_map(|(b, k, version)| Op::Delete { b, k, version }),
        4 => (b.clone(), k.clone(), proptest::option::of(0usize..8))
            .prop_map(|(b, k, version)| Op::Get { b, k, version }),
        3 => (b.clone(), 0..PREFIXES.len(), any::<bool>(), 1usize..5)
            .prop_map(|(b, p, delimiter, max_keys)| Op::List { b, p, delimiter, max_keys }),
        1 => (b.clone(), 0..PREFIXES.len()).prop_map(|(b, p)| Op::ListVersions { b, p }),
        1 => (
            b.clone(),
            k.clone(),
            proptest::collection::vec((1u32..5, 0usize..9000, any::<u8>()), 1..5),
            proptest::collection::vec(any::<bool>(), 4),
            proptest::bool::weighted(0.2)
        )
            .prop_map(|(b, k, parts, pick, abort)| Op::Multipart { b, k, parts, pick, abort }),
        1 => (b.clone(), k.clone(), b, k).prop_map(|(sb, sk, db, dk)| Op::Copy { sb, sk, db, dk }),
        1 => Just(Op::Reopen),
    ]
}

/// One version in the model.
#[derive(Clone, Debug)]
struct MV {
    id: String,
    marker: bool,
    data: Vec<u8>,
}

#[derive(Debug)]
struct ModelBucket {
    versioning: Versioning,
    /// Versions per key, newest first.
    keys: BTreeMap<String, Vec<MV>>,
}

struct Harness {
    fs: FsHandle,
    root: PathBuf,
    store: Option<ObjectStore>,
    clock: Arc<VirtualClock>,
    _tmp: tempfile::TempDir,
}

/// Durability is the crash tests' business; here syncs would only slow the search down.
fn options() -> StoreOptions {
    StoreOptions {
        sync: false,
        min_part_size: 1,
        ..StoreOptions::default()
    }
}

fn meta(
    fs: &FsHandle,
    root: &std::path::Path,
    clock: &Arc<VirtualClock>,
) -> Arc<dyn seedbed_engine::object::MetaStore> {
    lsm_meta::open_with(
        fs.clone(),
        &root.join("meta"),
        Options::small_for_tests(),
        clock.clone(),
    )
    .unwrap()
}

impl Harness {
    fn new() -> Harness {
        let tmp = tempfile::Builder::new()
            .prefix("object-model-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let root = tmp.path().join("store");
        let fs: FsHandle = Arc::new(PosixFs::new());
        let clock = Arc::new(VirtualClock::new());
        let m = meta(&fs, &root, &clock);
        let store = ObjectStore::create(
            fs.clone(),
            &root,
            2,
            1,
            4096,
            None,
            m,
            clock.clone(),
            DetRng::new(1),
            options(),
        )
        .unwrap();
        for b in BUCKETS {
            store.create_bucket(b).unwrap();
        }
        Harness {
            fs,
            root,
            store: Some(store),
            clock,
            _tmp: tmp,
        }
    }

    fn s(&self) -> &ObjectStore {
        self.store.as_ref().unwrap()
    }

    fn reopen(&mut self) {
        self.store = None; // closes the metadata engine
        let m = meta(&self.fs, &self.root, &self.clock);
        self.store = Some(
            ObjectStore::open(
                self.fs.clone(),
                &self.root,
                m,
                self.clock.clone(),
                DetRng::new(2),
                options(),
            )
            .unwrap(),
        );
    }
}

fn etag_of(data: &[u8]) -> String {
    format!("\"{}\"", hex(&Md5::digest(data)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn model_put(m: &mut ModelBucket, key: &str, id: &str, data: Vec<u8>, marker: bool) {
    let versions = m.keys.entry(key.to_string()).or_default();
    if m.versioning == Versioning::Enabled {
        assert_ne!(
            id, "null",
            "versioned PUT/DELETE must get a real version id"
        );
    } else {
        assert_eq!(
            id, "null",
            "unversioned/suspended writes use the null version"
        );
        versions.retain(|v| v.id != "null");
    }
    versions.insert(
        0,
        MV {
            id: id.to_string(),
            marker,
            data,
        },
    );
}

fn get(store: &ObjectStore, b: &str, k: &str, v: Option<&str>) -> Result<Vec<u8>, ObjectError> {
    let mut out = Vec::new();
    let info = store.get_object(b, k, v, None, &mut out)?;
    assert_eq!(info.size, out.len() as u64);
    Ok(out)
}

fn model_list(
    m: &ModelBucket,
    prefix: &str,
    delimiter: Option<&str>,
) -> (Vec<(String, u64)>, Vec<String>) {
    let mut keys = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for (k, versions) in m.keys.range(prefix.to_string()..) {
        if !k.starts_with(prefix) {
            break;
        }
        let Some(latest) = versions.first() else {
            continue;
        };
        if latest.marker {
            continue;
        }
        let rest = &k[prefix.len()..];
        match delimiter.and_then(|d| rest.find(d).map(|p| p + d.len())) {
            Some(end) => {
                let cp = format!("{prefix}{}", &rest[..end]);
                if prefixes.last() != Some(&cp) {
                    prefixes.push(cp);
                }
            }
            None => keys.push((k.clone(), latest.data.len() as u64)),
        }
    }
    (keys, prefixes)
}

fn run(ops: Vec<Op>) {
    let mut h = Harness::new();
    let mut model: BTreeMap<&str, ModelBucket> = BUCKETS
        .iter()
        .map(|b| {
            (
                *b,
                ModelBucket {
                    versioning: Versioning::Unversioned,
                    keys: BTreeMap::new(),
                },
            )
        })
        .collect();
    for (step, op) in ops.into_iter().enumerate() {
        h.clock.advance(1_000_000);
        let ctx = format!("step {step}: {op:?}");
        match op {
            Op::Versioning { b, on } => {
                let got = h.s().set_versioning(BUCKETS[b], on).unwrap();
                let m = model.get_mut(BUCKETS[b]).unwrap();
                // S3: suspending even a never-versioned bucket makes it Suspended.
                m.versioning = if on {
                    Versioning::Enabled
                } else {
                    Versioning::Suspended
                };
                assert_eq!(got.versioning, m.versioning, "{ctx}");
            }
            Op::Put { b, k, len, fill } => {
                let data: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                let r = h
                    .s()
                    .put_object(
                        BUCKETS[b],
                        KEYS[k],
                        &mut data.as_slice(),
                        len as u64,
                        &PutOptions::default(),
                    )
                    .unwrap();
                assert_eq!(r.etag, etag_of(&data), "{ctx}");
                assert_eq!(r.sha256, hex(&Sha256::digest(&data)), "{ctx}");
                model_put(
                    model.get_mut(BUCKETS[b]).unwrap(),
                    KEYS[k],
                    &r.version_id,
                    data,
                    false,
                );
            }
            Op::Delete { b, k, version } => {
                let m = model.get_mut(BUCKETS[b]).unwrap();
                let versions = m.keys.get(KEYS[k]).cloned().unwrap_or_default();
                match version {
                    Some(i) if !versions.is_empty() => {
                        let v = &versions[i % versions.len()];
                        let r = h
                            .s()
                            .delete_object(BUCKETS[b], KEYS[k], Some(&v.id))
                            .unwrap();
                        assert_eq!(r.version_id.as_deref(), Some(v.id.as_str()), "{ctx}");
                        assert_eq!(r.delete_marker, v.marker, "{ctx}");
                        m.keys.get_mut(KEYS[k]).unwrap().retain(|x| x.id != v.id);
                    }
                    Some(_) => {
                        let e = h
                            .s()
                            .delete_object(BUCKETS[b], KEYS[k], Some("nope"))
                            .unwrap_err();
                        assert_eq!(e.code(), "NoSuchVersion", "{ctx}");
                    }
                    None => {
                        let r = h.s().delete_object(BUCKETS[b], KEYS[k], None).unwrap();
                        if m.versioning == Versioning::Unversioned {
                            assert!(!r.delete_marker, "{ctx}");
                            m.keys.remove(KEYS[k]);
                        } else {
                            assert!(r.delete_marker, "{ctx}");
                            model_put(
                                m,
                                KEYS[k],
                                r.version_id.as_deref().unwrap(),
                                Vec::new(),
                                true,
                            );
                        }
                    }
                }
            }
            Op::Get { b, k, version } => {
                let m = &model[BUCKETS[b]];
                let versions = m.keys.get(KEYS[k]).cloned().unwrap_or_default();
                match version {
                    None => match versions.first() {
                        Some(v) if !v.marker => {
                            assert_eq!(
                                get(h.s(), BUCKETS[b], KEYS[k], None).unwrap(),
                                v.data,
                                "{ctx}"
                            )
                        }
                        _ => assert_eq!(
                            get(h.s(), BUCKETS[b], KEYS[k], None).unwrap_err().code(),
                            "NoSuchKey",
                            "{ctx}"
                        ),
                    },
                    Some(i) if !versions.is_empty() => {
                        let v = &versions[i % versions.len()];
                        let r = get(h.s(), BUCKETS[b], KEYS[k], Some(&v.id));
                        if v.marker {
                            assert_eq!(r.unwrap_err().code(), "MethodNotAllowed", "{ctx}");
                        } else {
                            assert_eq!(r.unwrap(), v.data, "{ctx}");
                        }
                    }
                    Some(_) => assert_eq!(
                        get(h.s(), BUCKETS[b], KEYS[k], Some("nope"))
                            .unwrap_err()
                            .code(),
                        "NoSuchVersion",
                        "{ctx}"
                    ),
                }
            }
            Op::List {
                b,
                p,
                delimiter,
                max_keys,
            } => {
                let delim = delimiter.then_some("/");
                let (want_keys, want_prefixes) = model_list(&model[BUCKETS[b]], PREFIXES[p], delim);
                let mut got_keys = Vec::new();
                let mut got_prefixes = Vec::new();
                let mut opts = ListOptions {
                    prefix: PREFIXES[p].to_string(),
                    delimiter: delim.map(str::to_string),
                    max_keys: Some(max_keys),
                    ..ListOptions::default()
                };
                for page_no in 0.. {
                    assert!(page_no < 100, "{ctx}: listing does not terminate");
                    let page = h.s().list_objects(BUCKETS[b], &opts).unwrap();
                    assert!(
                        page.entries.len() + page.common_prefixes.len() <= max_keys,
                        "{ctx}"
                    );
                    got_keys.extend(page.entries.into_iter().map(|o| (o.key, o.size)));
                    got_prefixes.extend(page.common_prefixes);
                    if !page.is_truncated {
                        break;
                    }
                    opts.continuation_token = page.next_token;
                }
                assert_eq!(got_keys, want_keys, "{ctx}");
                assert_eq!(got_prefixes, want_prefixes, "{ctx}");
            }
            Op::ListVersions { b, p } => {
                let page = h
                    .s()
                    .list_versions(
                        BUCKETS[b],
                        &ListOptions {
                            prefix: PREFIXES[p].into(),
                            ..ListOptions::default()
                        },
                    )
                    .unwrap();
                let got: Vec<(String, String, bool, bool)> = page
                    .entries
                    .into_iter()
                    .map(|v| (v.key, v.version_id, v.is_latest, v.delete_marker))
                    .collect();
                let want: Vec<(String, String, bool, bool)> = model[BUCKETS[b]]
                    .keys
                    .iter()
                    .filter(|(k, _)| k.starts_with(PREFIXES[p]))
                    .flat_map(|(k, vs)| {
                        vs.iter()
                            .enumerate()
                            .map(move |(i, v)| (k.clone(), v.id.clone(), i == 0, v.marker))
                    })
                    .collect();
                assert_eq!(got, want, "{ctx}");
            }
            Op::Multipart {
                b,
                k,
                parts,
                pick,
                abort,
            } => {
                let id = h
                    .s()
                    .create_multipart_upload(BUCKETS[b], KEYS[k], &PutOptions::default())
                    .unwrap();
                let mut uploaded: BTreeMap<u32, (Vec<u8>, String)> = BTreeMap::new();
                for (n, len, fill) in parts {
                    let data: Vec<u8> = (0..len)
                        .map(|i| fill.wrapping_mul(3).wrapping_add(i as u8))
                        .collect();
                    let etag = h
                        .s()
                        .upload_part(BUCKETS[b], &id, n, &mut data.as_slice(), len as u64)
                        .unwrap();
                    assert_eq!(etag, etag_of(&data), "{ctx}");
                    uploaded.insert(n, (data, etag));
                }
                let listed: Vec<u32> = h
                    .s()
                    .list_parts(BUCKETS[b], &id)
                    .unwrap()
                    .iter()
                    .map(|p| p.part_number)
                    .collect();
                assert_eq!(
                    listed,
                    uploaded.keys().copied().collect::<Vec<_>>(),
                    "{ctx}"
                );
                let chosen: Vec<(u32, String)> = uploaded
                    .iter()
                    .filter(|(n, _)| pick[(**n as usize - 1) % pick.len()])
                    .map(|(n, (_, e))| (*n, e.clone()))
                    .collect();
                if abort || chosen.is_empty() {
                    h.s().abort_multipart_upload(BUCKETS[b], &id).unwrap();
                    assert_eq!(
                        h.s().list_parts(BUCKETS[b], &id).unwrap_err().code(),
                        "NoSuchUpload"
                    );
                } else {
                    let r = h
                        .s()
                        .complete_multipart_upload(BUCKETS[b], &id, &chosen)
                        .unwrap();
                    let mut md5s = Md5::new();
                    let mut data = Vec::new();
                    for (n, _) in &chosen {
                        md5s.update(Md5::digest(&uploaded[n].0));
                        data.extend_from_slice(&uploaded[n].0);
                    }
                    assert_eq!(
                        r.etag,
                        format!("\"{}-{}\"", hex(&md5s.finalize()), chosen.len()),
                        "{ctx}"
                    );
                    model_put(
                        model.get_mut(BUCKETS[b]).unwrap(),
                        KEYS[k],
                        &r.version_id,
                        data,
                        false,
                    );
                    // A retried completion answers as the first did (S3), while the version it
                    // made is current.
                    assert_eq!(
                        h.s()
                            .complete_multipart_upload(BUCKETS[b], &id, &chosen)
                            .unwrap(),
                        r,
                        "{ctx}"
                    );
                }
            }
            Op::Copy { sb, sk, db, dk } => {
                let src = model[BUCKETS[sb]]
                    .keys
                    .get(KEYS[sk])
                    .and_then(|v| v.first())
                    .cloned();
                let r = h.s().copy_object(
                    BUCKETS[sb],
                    KEYS[sk],
                    None,
                    BUCKETS[db],
                    KEYS[dk],
                    &PutOptions::default(),
                );
                match src {
                    Some(v) if !v.marker => {
                        let r = r.unwrap();
                        assert_eq!(r.etag, etag_of(&v.data), "{ctx}");
                        model_put(
                            model.get_mut(BUCKETS[db]).unwrap(),
                            KEYS[dk],
                            &r.version_id,
                            v.data,
                            false,
                        );
                    }
                    _ => assert_eq!(r.unwrap_err().code(), "NoSuchKey", "{ctx}"),
                }
            }
            Op::Reopen => h.reopen(),
        }
    }
    // Everything the model holds is on disk, nothing else: a final scrub finds no damage and
    // no orphans.
    h.reopen();
    let report = h.s().scrub(true, &mut |_, _| {}).unwrap();
    assert_eq!(report.bad_blocks, 0, "{report:?}");
    assert_eq!(report.orphans_removed, 0, "{report:?}");
    assert!(report.failures.is_empty(), "{report:?}");
    let versions_in_model: usize = model
        .values()
        .flat_map(|m| m.keys.values())
        .map(Vec::len)
        .sum();
    assert_eq!(report.objects as usize, versions_in_model);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn object_store_matches_s3_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops);
    }
}

#[test]
fn buckets_follow_s3_rules() {
    let h = Harness::new();
    let s = h.s();
    assert_eq!(
        s.create_bucket("alpha").unwrap_err().code(),
        "BucketAlreadyOwnedByYou"
    );
    assert_eq!(
        s.create_bucket("Bad_Name").unwrap_err().code(),
        "InvalidBucketName"
    );
    assert_eq!(s.delete_bucket("nope").unwrap_err().code(), "NoSuchBucket");
    s.put_object("alpha", "k", &mut &b"x"[..], 1, &PutOptions::default())
        .unwrap();
    assert_eq!(
        s.delete_bucket("alpha").unwrap_err().code(),
        "BucketNotEmpty"
    );
    s.delete_object("alpha", "k", None).unwrap();
    // An upload in progress does not keep the bucket (S3 aborts it); its part's data goes.
    let blobs_before = s.blobs().list().unwrap().len();
    let upload = s
        .create_multipart_upload("alpha", "big", &PutOptions::default())
        .unwrap();
    s.upload_part("alpha", &upload, 1, &mut &b"part"[..], 4)
        .unwrap();
    assert_eq!(s.blobs().list().unwrap().len(), blobs_before + 1);
    s.delete_bucket("alpha").unwrap();
    // The part's blob is gone, and so is the bucket's settings record (`describe.rs`).
    assert_eq!(s.blobs().list().unwrap().len(), blobs_before - 1);
    assert_eq!(s.list_uploads("alpha").unwrap_err().code(), "NoSuchBucket");
    let names: Vec<String> = s
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["beta.logs"]);
    assert_eq!(
        s.put_object("alpha", "k", &mut &b"x"[..], 1, &PutOptions::default())
            .unwrap_err()
            .code(),
        "NoSuchBucket"
    );
}

#[test]
fn conditional_writes_and_ranges() {
    let h = Harness::new();
    let s = h.s();
    let create_only = PutOptions {
        if_none_match_any: true,
        ..PutOptions::default()
    };
    let r = s
        .put_object("alpha", "k", &mut &b"hello world"[..], 11, &create_only)
        .unwrap();
    assert_eq!(
        s.put_object("alpha", "k", &mut &b"again"[..], 5, &create_only)
            .unwrap_err()
            .code(),
        "PreconditionFailed"
    );
    let wrong = PutOptions {
        if_match: Some("\"00\"".into()),
        ..PutOptions::default()
    };
    assert_eq!(
        s.put_object("alpha", "k", &mut &b"x"[..], 1, &wrong)
            .unwrap_err()
            .code(),
        "PreconditionFailed"
    );
    let right = PutOptions {
        if_match: Some(r.etag.clone()),
        ..PutOptions::default()
    };
    s.put_object("alpha", "k", &mut &b"HELLO WORLD"[..], 11, &right)
        .unwrap();
    let mut out = Vec::new();
    s.get_object("alpha", "k", None, Some("6-".parse().unwrap()), &mut out)
        .unwrap();
    assert_eq!(out, b"WORLD");
    out.clear();
    s.get_object("alpha", "k", None, Some("-5".parse().unwrap()), &mut out)
        .unwrap();
    assert_eq!(out, b"WORLD");
    let e = s
        .get_object("alpha", "k", None, Some("11-20".parse().unwrap()), &mut out)
        .unwrap_err();
    assert_eq!(e.code(), "InvalidRange");
    // Nothing was left behind by the refused writes.
    assert_eq!(s.remove_orphans().unwrap(), 0);
}

#[test]
fn delimiter_groups_keys_once_per_common_prefix() {
    let h = Harness::new();
    let s = h.s();
    for k in ["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"] {
        s.put_object("alpha", k, &mut &b"x"[..], 1, &PutOptions::default())
            .unwrap();
    }
    s.set_versioning("alpha", true).unwrap();
    s.delete_object("alpha", "c/1", None).unwrap();
    s.delete_object("alpha", "c/2", None).unwrap(); // every key under c/ is now deleted
    let opts = ListOptions {
        delimiter: Some("/".into()),
        ..ListOptions::default()
    };
    let page = s.list_objects("alpha", &opts).unwrap();
    assert_eq!(page.common_prefixes, vec!["a/"]);
    let keys: Vec<String> = page.entries.into_iter().map(|o| o.key).collect();
    assert_eq!(keys, vec!["b", "d"]);
    // One entry per page: a/, then b, then d.
    let mut opts = ListOptions {
        max_keys: Some(1),
        ..opts
    };
    let mut seen = Vec::new();
    loop {
        let page = s.list_objects("alpha", &opts).unwrap();
        seen.extend(page.common_prefixes);
        seen.extend(page.entries.into_iter().map(|o| o.key));
        if !page.is_truncated {
            break;
        }
        opts.continuation_token = page.next_token;
    }
    assert_eq!(seen, vec!["a/", "b", "d"]);
    // Versions listing still shows the deleted prefix.
    let v = s.list_versions(
        "alpha",
        &ListOptions {
            delimiter: Some("/".into()),
            ..ListOptions::default()
        },
    );
    assert_eq!(v.unwrap().common_prefixes, vec!["a/", "c/"]);
}
