//! Small objects read hot: through the pack files the store keeps open, with the checksum
//! table taken from memory when it is there (`blob/pack_readers.rs`, `File::read_cached`).
//! Damage written into the pack files while the store is open and has just read every object
//! is seen by the next GET all the same — M damaged disks are rebuilt from parity with exact
//! bytes, one more is an error naming the object, never wrong bytes.

use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::common::{get_data as get, put_random, real_store};
use seedbed_engine::object::ObjectError;
use seedbed_engine::rng::DetRng;

/// Flip every byte of every pack file on disk `disk`, in place: the same inode, so a handle
/// the store keeps reads the damage, and so does the page cache.
fn damage_packs(root: &Path, disk: usize) {
    let dir = root.join(format!("disk{disk}/packs"));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "LOCK" {
            continue;
        }
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        bytes.iter_mut().for_each(|b| *b = !*b);
        f.rewind().unwrap();
        f.write_all(&bytes).unwrap();
    }
}

#[test]
fn damage_under_an_open_store_is_caught_by_hot_reads() {
    let tmp = tempfile::Builder::new()
        .prefix("object-pack-reads-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let root = tmp.path().join("store");
    let mut rng = DetRng::new(21);
    let store = real_store(&root, true, 23);
    store.create_bucket("data").unwrap();
    let objects: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| {
            let key = format!("hot-{i}");
            (
                key.clone(),
                put_random(&store, "data", &key, 500 + 700 * i, &mut rng),
            )
        })
        .collect();
    for (key, data) in &objects {
        assert_eq!(&get(&store, key).unwrap(), data, "{key}");
    }
    // Disk 0 first: the one whose trailer a hot read takes its checksum table from.
    for disk in [0, 1] {
        damage_packs(&root, disk);
        for (key, data) in &objects {
            assert_eq!(
                &get(&store, key).unwrap(),
                data,
                "{key}, disk {disk} damaged"
            );
        }
    }
    damage_packs(&root, 2);
    for (key, _) in &objects {
        match get(&store, key) {
            Err(e @ ObjectError::DataLoss { .. }) => {
                assert!(e.to_string().contains(&format!("data/{key}")), "{e}");
            }
            other => panic!("{key}: three disks damaged, expected data loss, got {other:?}"),
        }
    }
}
