//! One process at a time: a database directory is locked while it is open, so a second opener
//! (another process, or the same one by mistake) gets a clear error instead of writing the same
//! WAL and tables.

use std::sync::Arc;

use seedbed_engine::clock::RealClock;
use seedbed_engine::io::posix::PosixFs;
use seedbed_engine::io::{FsHandle, IoError};
use seedbed_engine::lsm::{Db, LsmError, Options};

#[test]
fn a_second_open_of_the_same_directory_is_refused_until_the_first_closes() {
    let tmp = tempfile::Builder::new()
        .prefix("lsm-lock-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let fs: FsHandle = Arc::new(PosixFs::new());
    let open = || {
        Db::open(
            fs.clone(),
            tmp.path(),
            Options::small_for_tests(),
            Arc::new(RealClock::new()),
        )
    };
    let first = open().unwrap();
    first.put(b"k", b"v").unwrap();
    match open() {
        Err(LsmError::Io(IoError::Locked { path, holder })) => {
            assert_eq!(path, tmp.path().join("LOCK"));
            assert_eq!(holder, std::process::id().to_string());
        }
        other => panic!("expected the lock error, got {other:?}"),
    }
    let msg = open().unwrap_err().to_string();
    assert!(msg.contains("locked by another process"), "{msg}");
    // Closing releases it (the handle may live on; it refuses writes).
    first.close().unwrap();
    let again = open().unwrap();
    assert_eq!(again.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    drop(again);
    drop(first);
    open().unwrap();
}
