//! Tests of the simulated disk through the public `Fs`/`File` API: each fault kind, the
//! namespace durability rules, crashes and dead handles, latency, determinism.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::clock::Clock;
use crate::io::{read_file, write_file_durable, IoError};

fn quiet() -> SimConfig {
    SimConfig {
        faults: SimFaults::none(),
        latency: SimLatency::zero(),
    }
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

fn with_faults(faults: SimFaults) -> SimConfig {
    SimConfig {
        faults,
        latency: SimLatency::zero(),
    }
}

fn lose_all() -> SimFaults {
    SimFaults {
        crash: SimCrash::lose_all(),
        ..SimFaults::none()
    }
}

fn keep_all() -> SimFaults {
    SimFaults {
        crash: SimCrash::keep_all(),
        ..SimFaults::none()
    }
}

fn is_eio(e: &IoError) -> bool {
    e.to_string().contains("EIO")
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SimFs>();
    check::<SimFile>();
}

#[test]
fn synced_file_with_synced_entry_survives_any_crash() {
    for seed in 0..50 {
        let fs = SimFs::new(seed, quiet());
        write_file_durable(&fs, p("/f"), b"durable").unwrap();
        let f = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
        f.write_at(b"XX", 2).unwrap(); // unsynced
        fs.crash();
        let back = read_file(&fs, p("/f")).unwrap();
        assert!(
            back == b"durable" || back == b"duXXble",
            "seed {seed}: {back:?}"
        );
    }
}

#[test]
fn sync_all_does_not_make_a_new_entry_durable() {
    let fs = SimFs::new(1, with_faults(lose_all()));
    let f = fs.open(p("/new"), OpenOptions::create_new()).unwrap();
    f.write_at(b"data", 0).unwrap();
    f.sync_all().unwrap();
    let report = fs.crash();
    assert!(
        !fs.exists(p("/new")).unwrap(),
        "entry was never synced with sync_dir"
    );
    assert_eq!(report.dir_changes_lost, 1);
    assert_eq!(report.inodes_lost, 1);

    let fs = SimFs::new(1, with_faults(lose_all()));
    let f = fs.open(p("/new"), OpenOptions::create_new()).unwrap();
    f.write_at(b"data", 0).unwrap();
    f.sync_all().unwrap();
    fs.sync_dir(p("/")).unwrap();
    fs.crash();
    assert_eq!(read_file(&fs, p("/new")).unwrap(), b"data");
}

#[test]
fn entry_durable_but_data_not_gives_an_empty_file() {
    let fs = SimFs::new(2, with_faults(lose_all()));
    let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
    f.write_at(b"data", 0).unwrap();
    fs.sync_dir(p("/")).unwrap();
    fs.crash();
    assert_eq!(read_file(&fs, p("/f")).unwrap(), b"");
}

#[test]
fn rename_without_sync_dir_may_revert_and_with_it_survives() {
    // The classic atomic-replace recipe: write tmp, sync it, rename over the target, sync_dir.
    let fs = SimFs::new(3, with_faults(lose_all()));
    write_file_durable(&fs, p("/CURRENT"), b"v1").unwrap();
    write_file_durable(&fs, p("/CURRENT.tmp"), b"v2").unwrap();
    fs.rename(p("/CURRENT.tmp"), p("/CURRENT")).unwrap();
    fs.crash();
    assert_eq!(
        read_file(&fs, p("/CURRENT")).unwrap(),
        b"v1",
        "rename was lost"
    );
    assert_eq!(read_file(&fs, p("/CURRENT.tmp")).unwrap(), b"v2");
    fs.rename(p("/CURRENT.tmp"), p("/CURRENT")).unwrap();
    fs.sync_dir(p("/")).unwrap();
    fs.crash();
    assert_eq!(read_file(&fs, p("/CURRENT")).unwrap(), b"v2");
    assert!(!fs.exists(p("/CURRENT.tmp")).unwrap());
}

#[test]
fn removed_file_comes_back_unless_the_removal_is_synced() {
    let fs = SimFs::new(4, with_faults(lose_all()));
    write_file_durable(&fs, p("/f"), b"x").unwrap();
    fs.remove_file(p("/f")).unwrap();
    fs.crash();
    assert!(fs.exists(p("/f")).unwrap());
    fs.remove_file(p("/f")).unwrap();
    fs.sync_dir(p("/")).unwrap();
    fs.crash();
    assert!(!fs.exists(p("/f")).unwrap());
}

#[test]
fn new_directories_need_their_parent_synced() {
    let fs = SimFs::new(5, with_faults(lose_all()));
    fs.create_dir_all(p("/db/wal")).unwrap();
    write_file_durable(&fs, p("/db/wal/000001.log"), b"rec").unwrap();
    fs.crash();
    assert!(
        !fs.exists(p("/db")).unwrap(),
        "mkdir of /db was never synced in /"
    );

    fs.create_dir_all(p("/db/wal")).unwrap();
    fs.sync_dir(p("/")).unwrap();
    fs.sync_dir(p("/db")).unwrap();
    write_file_durable(&fs, p("/db/wal/000001.log"), b"rec").unwrap();
    fs.crash();
    assert_eq!(read_file(&fs, p("/db/wal/000001.log")).unwrap(), b"rec");
}

#[test]
fn keep_all_crash_keeps_everything() {
    let fs = SimFs::new(6, with_faults(keep_all()));
    fs.create_dir_all(p("/d")).unwrap();
    let f = fs.open(p("/d/f"), OpenOptions::create_new()).unwrap();
    f.write_at(&[9u8; 3000], 0).unwrap();
    f.truncate(2000).unwrap();
    let report = fs.crash();
    assert_eq!(read_file(&fs, p("/d/f")).unwrap(), vec![9u8; 2000]);
    assert_eq!((report.writes_kept, report.truncates_kept), (1, 1));
    assert_eq!(report.dir_changes_kept, 2);
}

#[test]
fn handles_die_in_a_crash() {
    let fs = SimFs::new(7, quiet());
    write_file_durable(&fs, p("/f"), b"abc").unwrap();
    let f = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
    fs.crash();
    let mut buf = [0u8; 3];
    for err in [
        f.read_at(&mut buf, 0).unwrap_err(),
        f.write_at(b"x", 0).unwrap_err(),
        f.append(b"x").unwrap_err(),
        f.sync_data().unwrap_err(),
        f.sync_all().unwrap_err(),
        f.len().unwrap_err(),
        f.truncate(0).unwrap_err(),
    ] {
        assert!(err.to_string().contains("predates a crash"), "{err}");
        assert!(is_stale_handle(&err));
    }
    assert!(!is_stale_handle(
        &fs.open(p("/nope"), OpenOptions::read_only()).unwrap_err()
    ));
    assert_eq!(f.path(), p("/f"));
    drop(f); // dropping a dead handle is fine
    let g = fs.open(p("/f"), OpenOptions::read_only()).unwrap();
    g.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"abc");
}

#[test]
fn unlinked_file_stays_readable_through_an_open_handle() {
    let fs = SimFs::new(8, quiet());
    write_file_durable(&fs, p("/f"), b"abc").unwrap();
    let f = fs.open(p("/f"), OpenOptions::read_only()).unwrap();
    fs.remove_file(p("/f")).unwrap();
    fs.sync_dir(p("/")).unwrap();
    let mut buf = [0u8; 3];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"abc");
    assert!(!fs.exists(p("/f")).unwrap());
}

#[test]
fn read_bit_flip_changes_one_bit_of_returned_data_only() {
    let fs = SimFs::new(9, quiet());
    let data = vec![0x55u8; 4096];
    write_file_durable(&fs, p("/f"), &data).unwrap();
    fs.set_faults(SimFaults {
        read_bit_flip: 1.0,
        ..SimFaults::none()
    });
    let f = fs.open(p("/f"), OpenOptions::read_only()).unwrap();
    let mut buf = vec![0u8; 4096];
    assert_eq!(f.read_at(&mut buf, 0).unwrap(), 4096);
    let flipped: u32 = buf
        .iter()
        .zip(&data)
        .map(|(a, b)| (a ^ b).count_ones())
        .sum();
    assert_eq!(flipped, 1);
    assert_eq!(fs.stats().faults.read_bit_flips, 1);
    fs.set_faults(SimFaults::none());
    assert_eq!(
        read_file(&fs, p("/f")).unwrap(),
        data,
        "the stored bytes are intact"
    );
}

#[test]
fn eio_on_read_write_and_sync() {
    let fs = SimFs::new(10, quiet());
    write_file_durable(&fs, p("/f"), b"abc").unwrap();
    let f = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
    fs.set_faults(SimFaults {
        read_eio: 1.0,
        write_eio: 1.0,
        sync_eio: 1.0,
        ..SimFaults::none()
    });
    let mut buf = [0u8; 3];
    assert!(is_eio(&f.read_at(&mut buf, 0).unwrap_err()));
    assert!(is_eio(&f.write_at(b"zzz", 0).unwrap_err()));
    assert!(is_eio(&f.sync_data().unwrap_err()));
    assert!(is_eio(&fs.sync_dir(p("/")).unwrap_err()));
    let faults = fs.stats().faults;
    assert_eq!(
        (faults.read_eios, faults.write_eios, faults.sync_eios),
        (1, 1, 2)
    );
    fs.set_faults(SimFaults::none());
    assert_eq!(
        read_file(&fs, p("/f")).unwrap(),
        b"abc",
        "failed write changed nothing"
    );
}

#[test]
fn failed_sync_loses_writes_for_good_fsyncgate() {
    let fs = SimFs::new(11, quiet());
    write_file_durable(&fs, p("/f"), b"old").unwrap();
    let f = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
    f.write_at(b"new", 0).unwrap();
    fs.set_faults(SimFaults {
        sync_eio: 1.0,
        crash: SimCrash::lose_all(), // the failed writeback lands nothing
        ..SimFaults::none()
    });
    assert!(f.sync_data().is_err());
    fs.set_faults(keep_all());
    f.sync_data().unwrap(); // "succeeds": the lost write is no longer pending
    let mut buf = [0u8; 3];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"new", "the page cache still shows it");
    assert_eq!(fs.durable_content(p("/f")).unwrap(), b"old");
    fs.crash();
    assert_eq!(read_file(&fs, p("/f")).unwrap(), b"old");
}

#[test]
fn torn_write_lands_a_sector_aligned_prefix_and_reports_eio() {
    let mut cuts = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let fs = SimFs::new(seed, quiet());
        let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
        fs.set_faults(SimFaults {
            torn_write: 1.0,
            ..SimFaults::none()
        });
        let data: Vec<u8> = (1..=2000u32).map(|i| (i % 200) as u8 + 1).collect();
        let err = f.write_at(&data, 300).unwrap_err();
        assert!(is_eio(&err), "{err}");
        let len = f.len().unwrap();
        // Landed: nothing (len 0), or up to 512, 1024, 1536, 2048 (boundaries inside 300..2300).
        assert!(
            [0, 512, 1024, 1536, 2048].contains(&len),
            "seed {seed}: len {len}"
        );
        if len > 0 {
            let mut back = vec![0u8; len as usize - 300];
            f.read_exact_at(&mut back, 300).unwrap();
            assert_eq!(back, &data[..back.len()]);
        }
        cuts.insert(len);
    }
    assert!(cuts.len() >= 4, "cuts vary with the seed: {cuts:?}");
}

#[test]
fn enospc_past_capacity_and_space_comes_back_after_remove() {
    let fs = SimFs::new(12, quiet());
    fs.set_faults(SimFaults {
        capacity_bytes: Some(10_000),
        ..SimFaults::none()
    });
    let f = fs.open(p("/a"), OpenOptions::create_new()).unwrap();
    f.write_at(&[1u8; 8000], 0).unwrap();
    let g = fs.open(p("/b"), OpenOptions::create_new()).unwrap();
    let err = g.write_at(&[2u8; 3000], 0).unwrap_err();
    assert!(matches!(err, IoError::NoSpace { .. }), "{err}");
    assert_eq!(g.len().unwrap(), 0, "nothing written");
    f.write_at(&[3u8; 100], 0).unwrap(); // overwriting needs no new space
    drop(f);
    fs.remove_file(p("/a")).unwrap();
    g.write_at(&[2u8; 3000], 0).unwrap();
    assert_eq!(fs.stats().faults.enospc, 1);
}

#[test]
fn corrupt_flips_stored_bytes() {
    let fs = SimFs::new(13, quiet());
    write_file_durable(&fs, p("/f"), b"hello").unwrap();
    fs.corrupt(p("/f"), 0, 0x20).unwrap();
    assert_eq!(read_file(&fs, p("/f")).unwrap(), b"Hello");
    fs.crash();
    assert_eq!(
        read_file(&fs, p("/f")).unwrap(),
        b"Hello",
        "it is on the medium"
    );
    assert!(fs.corrupt(p("/f"), 5, 1).is_err());
    assert!(fs.corrupt(p("/nope"), 0, 1).unwrap_err().is_not_found());
    fs.create_dir_all(p("/d")).unwrap();
    assert!(fs.corrupt(p("/d"), 0, 1).is_err());
}

#[test]
fn latency_is_charged_to_the_virtual_clock() {
    let clock = Arc::new(crate::clock::VirtualClock::new());
    let latency = SimLatency {
        read_ns: 100,
        write_ns: 200,
        sync_ns: 1_000,
        metadata_ns: 10,
        per_kib_ns: 1_024,
        jitter_ns_max: 0,
    };
    let cfg = SimConfig {
        faults: SimFaults::none(),
        latency,
    };
    let fs = SimFs::with_clock(14, cfg, Arc::clone(&clock));
    let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
    assert_eq!(clock.now_nanos(), 10);
    f.write_at(&[0u8; 2048], 0).unwrap();
    assert_eq!(clock.now_nanos(), 10 + 200 + 2048);
    f.sync_data().unwrap();
    let mut buf = [0u8; 1024];
    f.read_at(&mut buf, 0).unwrap();
    assert_eq!(clock.now_nanos(), 10 + 2248 + 1_000 + 100 + 1024);
    assert_eq!(fs.stats().latency_ns_total, clock.now_nanos());

    // A batch of 8 reads pays one base latency plus the transfer of all bytes.
    let before = clock.now_nanos();
    let mut bufs = vec![[0u8; 256]; 8];
    let mut ops: Vec<IoOp<'_>> = bufs
        .iter_mut()
        .map(|b| IoOp::Read {
            file: &*f,
            offset: 0,
            buf: b,
        })
        .collect();
    assert!(fs.submit(&mut ops).iter().all(|r| r.is_ok()));
    assert_eq!(clock.now_nanos() - before, 100 + 2048);
}

#[test]
fn jitter_does_not_change_fault_or_crash_decisions() {
    let run = |jitter_ns_max: u64| {
        let cfg = SimConfig {
            faults: SimFaults {
                write_eio: 0.3,
                ..SimFaults::none()
            },
            latency: SimLatency {
                jitter_ns_max,
                ..SimLatency::default()
            },
        };
        let fs = SimFs::new(15, cfg);
        let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
        let outcomes: Vec<bool> = (0..40u64)
            .map(|i| f.write_at(&[i as u8; 700], i * 700).is_ok())
            .collect();
        (outcomes, fs.crash(), fs.clock().now_nanos())
    };
    let (a, ra, ta) = run(0);
    let (b, rb, tb) = run(5_000);
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    assert!(tb > ta, "jitter adds time");
}

#[test]
fn same_seed_same_everything() {
    let run = |seed: u64| {
        let fs = SimFs::new(seed, with_faults(SimFaults::uniform(0.05)));
        let mut log = Vec::new();
        fs.create_dir_all(p("/d")).unwrap();
        fs.set_faults(SimFaults::none());
        fs.sync_dir(p("/")).unwrap();
        fs.set_faults(SimFaults::uniform(0.05));
        for i in 0..50u64 {
            let path = format!("/d/f{}", i % 5);
            let r = fs
                .open(p(&path), OpenOptions::create_truncate())
                .and_then(|f| {
                    f.write_at(&[i as u8; 1500], i * 13)?;
                    if i % 3 == 0 {
                        f.sync_data()?;
                    }
                    let mut buf = [0u8; 64];
                    f.read_at(&mut buf, i * 13)?;
                    Ok(buf.to_vec())
                });
            log.push(format!("{r:?}"));
            if i % 7 == 0 {
                log.push(format!("{:?}", fs.sync_dir(p("/d"))));
            }
        }
        (log, fs.crash(), fs.stats())
    };
    assert_eq!(run(77), run(77));
    let (a, b) = (run(77), run(78));
    assert_ne!((a.0, a.1), (b.0, b.1), "another seed, another run");
}

#[test]
fn direct_io_alignment_is_enforced() {
    let fs = SimFs::new(16, quiet());
    let f = fs
        .open(p("/d"), OpenOptions::create_new().with_direct(true))
        .unwrap();
    let block = crate::io::AlignedBuf::zeroed(4096);
    f.write_at(&block, 0).unwrap();
    assert!(f
        .write_at(&block, 512)
        .unwrap_err()
        .to_string()
        .contains("aligned"));
    assert!(f.append(&block[..100]).is_err());
    assert_eq!(f.append(&block).unwrap(), 4096);
}

#[test]
fn sync_dir_and_list_errors() {
    let fs = SimFs::new(17, quiet());
    write_file_durable(&fs, p("/f"), b"x").unwrap();
    assert!(fs.sync_dir(p("/nope")).unwrap_err().is_not_found());
    assert!(fs.sync_dir(p("/f")).is_err());
    assert!(fs.list(p("/f")).is_err());
    assert!(fs.open(p("/"), OpenOptions::read_only()).is_err());
    assert!(fs
        .open(p("/f/x"), OpenOptions::create_new())
        .unwrap_err()
        .to_string()
        .contains("Not a directory"));
    let huge = fs.open(p("/f"), OpenOptions::read_write()).unwrap();
    assert!(huge.write_at(b"x", u64::MAX).is_err());
    assert!(huge.truncate(FILE_BYTES_MAX + 1).is_err());
}

#[test]
fn unsynced_counts_pending_state() {
    let fs = SimFs::new(18, quiet());
    let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
    f.write_at(b"a", 0).unwrap();
    f.write_at(b"b", 1).unwrap();
    assert_eq!(
        fs.unsynced(),
        Unsynced {
            files: 1,
            file_ops: 2,
            dir_changes: 1
        }
    );
    f.sync_data().unwrap();
    fs.sync_dir(p("/")).unwrap();
    assert_eq!(fs.unsynced(), Unsynced::default());
    assert!(fs.crash().is_clean());
}

#[test]
fn removed_files_are_freed_once_nothing_can_bring_them_back() {
    let fs = SimFs::new(19, quiet());
    for i in 0..1000 {
        let path = format!("/f{i}");
        write_file_durable(&fs, p(&path), &[7u8; 100]).unwrap();
        fs.remove_file(p(&path)).unwrap();
        fs.sync_dir(p("/")).unwrap();
    }
    let held = fs.shared.disk().inode_count();
    assert!(held <= 1 + 64, "{held} inodes held for an empty disk");
    fs.crash();
    assert_eq!(
        fs.shared.disk().inode_count(),
        1,
        "a crash collects everything"
    );
}

#[test]
fn batches_run_in_a_seeded_order() {
    // A batch that writes and reads the same bytes is a bug (requests may complete in any
    // order); the simulated disk shows it by running requests shuffled, per seed.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let fs = SimFs::new(seed, quiet());
        let f = fs.open(p("/f"), OpenOptions::create_new()).unwrap();
        f.write_at(b"old", 0).unwrap();
        let mut buf = [0u8; 3];
        let mut ops = vec![
            IoOp::Write {
                file: &*f,
                offset: 0,
                buf: b"new",
            },
            IoOp::Read {
                file: &*f,
                offset: 0,
                buf: &mut buf,
            },
        ];
        let results = fs.submit(&mut ops);
        assert_eq!(results.len(), 2);
        assert_eq!(*results[0].as_ref().unwrap(), 3, "results in request order");
        seen.insert(buf);
    }
    assert_eq!(seen.len(), 2, "both orders happen: {seen:?}");
}

/// What a shrinker does to a run: replay its recorded draws into a run that read fewer table
/// files first and a shorter log (earlier appends cut). Every read flips a bit; the log read's
/// flip keeps its distance from the end of the log and its bit (the draw is a position from
/// the end, filed under the `.log` kind), so it lands in the same last record.
#[test]
fn a_replayed_read_flip_keeps_its_distance_from_the_end_of_a_shorter_log() {
    use crate::rng::{Choices, Tape};
    let flips = || {
        with_faults(SimFaults {
            read_bit_flip: 1.0,
            ..SimFaults::none()
        })
    };
    let log: Vec<u8> = (0..500u32).map(|i| (i * 7 + 3) as u8).collect();
    // Run `tables` table reads and then the log read; the log's flipped position and mask.
    let run = |tape: &Arc<Tape>, seed: u64, tables: usize, log: &[u8]| -> (usize, u8) {
        let root = DetRng::new(seed).taped(tape.clone(), "disk");
        let fs = SimFs::with_rng(root, flips(), Arc::new(VirtualClock::new()));
        for t in 0..tables {
            let path = format!("/{:06}.sst", t + 1);
            write_file_durable(&fs, p(&path), &[0x5a; 300]).unwrap();
            read_file(&fs, p(&path)).unwrap();
        }
        write_file_durable(&fs, p("/000009.log"), log).unwrap();
        let got = read_file(&fs, p("/000009.log")).unwrap();
        let diff: Vec<usize> = (0..log.len()).filter(|&i| got[i] != log[i]).collect();
        assert_eq!(diff.len(), 1, "one flipped byte");
        (diff[0], got[diff[0]] ^ log[diff[0]])
    };
    let mut shortened = 0;
    for seed in 0..10 {
        let tape = Arc::new(Tape::record());
        let (at, mask) = run(&tape, seed, 3, &log);
        let from_end = log.len() - 1 - at;
        let record: Choices = tape.recorded();
        // The log's tail, cut to hold the flipped byte and half of what came before it.
        let keep = from_end + 1 + at / 2;
        let short = &log[log.len() - keep..];
        let again = Arc::new(Tape::replay(record));
        let (at2, mask2) = run(&again, seed + 100, 1, short);
        assert_eq!(
            short.len() - 1 - at2,
            from_end,
            "seed {seed}: distance from the end"
        );
        assert_eq!(mask2, mask, "seed {seed}: the same bit");
        shortened += usize::from(keep < log.len());
    }
    assert!(shortened >= 5, "most seeds replayed into a shorter log");
}
