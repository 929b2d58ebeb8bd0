//! Pack compaction on real files: after most small objects are deleted, `compact_packs` moves
//! the live records out of the sparse packs and removes them; every object still reads back
//! exact, scrub finds nothing wrong, and a reopened store sees the same.

use crate::common::real_store;
use seedbed_engine::object::PutOptions;

fn data(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(salt))
        .collect()
}

/// Files under `root` this process holds open although they were deleted: their blocks go
/// back to the file system only when the last descriptor closes.
fn deleted_but_open(root: &std::path::Path) -> Vec<String> {
    let root = root.to_string_lossy();
    std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|t| t.starts_with(&*root) && t.ends_with(" (deleted)"))
        .collect()
}

#[test]
fn sparse_packs_give_their_space_back() {
    let tmp = tempfile::Builder::new()
        .prefix("object-compact-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let store = real_store(&root, true, 5);
    store.create_bucket("bkt").unwrap();
    let mut keep = Vec::new();
    for i in 0..40u8 {
        let d = data(3000 + usize::from(i), i);
        let key = format!("k{i:02}");
        store
            .put_object(
                "bkt",
                &key,
                &mut d.as_slice(),
                d.len() as u64,
                &PutOptions::default(),
            )
            .unwrap();
        if i % 8 == 0 {
            keep.push((key, d));
        } else {
            store.delete_object("bkt", &key, None).unwrap();
        }
    }
    // A store opened afresh, as `seedbed object compact` is: it has not started appending, and
    // its first record must not go to the pack being compacted.
    drop(store);
    let store = real_store(&root, false, 7);
    // Nothing is under a threshold of 0.
    assert_eq!(store.compact_packs(0.0).unwrap().packs_compacted, 0);
    let r = store.compact_packs(0.5).unwrap();
    assert_eq!(r.packs_compacted, 1, "{r:?}");
    // The live objects, and the bucket's settings record (`object/describe.rs`).
    assert_eq!(r.records_moved, keep.len() as u64 + 1, "{r:?}");
    assert!(r.pack_bytes_after < r.pack_bytes_before / 4, "{r:?}");
    // The store read the old pack to move its records, and keeps pack files open for reads:
    // none of the removed files may stay open, or its space would not come back.
    let held = deleted_but_open(&root);
    assert!(held.is_empty(), "removed pack files still open: {held:?}");
    let check = |store: &seedbed_engine::object::ObjectStore| {
        for (key, d) in &keep {
            let mut out = Vec::new();
            store.get_object("bkt", key, None, None, &mut out).unwrap();
            assert!(out == *d, "{key}");
        }
        let s = store.scrub(false, &mut |_, _| {}).unwrap();
        assert!(
            s.bad_blocks == 0 && s.failures.is_empty() && s.orphans_removed == 0,
            "{s:?}"
        );
    };
    check(&store);
    // Packed now: nothing more to do.
    assert_eq!(store.compact_packs(0.5).unwrap().records_moved, 0);
    drop(store);
    check(&real_store(&root, false, 6));
    assert!(
        std::fs::read_dir(root.join("disk0/packs")).unwrap().count() <= 2,
        "the old pack is gone (one pack and LOCK remain)"
    );
    let _ = std::fs::remove_dir_all(&root);
}
