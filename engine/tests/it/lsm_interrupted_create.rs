//! A database whose creation was interrupted before its CURRENT file was durable (a crash or a
//! disk error during the first open) opens again as a fresh database; table files without a
//! CURRENT file are still refused, since they mean real damage.

use std::sync::Arc;

use seedbed_engine::clock::VirtualClock;
use seedbed_engine::io::{posix::PosixFs, write_file_durable, FsHandle};
use seedbed_engine::lsm::{Db, Options};

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("lsm-create-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

#[test]
fn leftover_manifest_without_current_is_a_fresh_database() {
    let tmp = scratch();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let dir = tmp.path().join("db");
    fs.create_dir_all(&dir).unwrap();
    write_file_durable(&*fs, &dir.join("MANIFEST-000001"), b"half a manifest").unwrap();
    let db = Db::open(
        fs.clone(),
        &dir,
        Options::small_for_tests(),
        Arc::new(VirtualClock::new()),
    )
    .expect("an interrupted creation opens as a fresh database");
    db.put(b"k", b"v").unwrap();
    assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
}

#[test]
fn tables_without_current_are_refused() {
    let tmp = scratch();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let dir = tmp.path().join("db");
    fs.create_dir_all(&dir).unwrap();
    write_file_durable(&*fs, &dir.join("000007.sst"), b"a table").unwrap();
    let opened = Db::open(
        fs,
        &dir,
        Options::small_for_tests(),
        Arc::new(VirtualClock::new()),
    );
    let Err(err) = opened else {
        panic!("tables without CURRENT were accepted");
    };
    assert!(err.to_string().contains("no CURRENT"), "{err}");
}
