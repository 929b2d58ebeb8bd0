//! The store's disks while the server runs: a lost disk is said once, and its shards are
//! rebuilt when it is back — without stopping the server.
//!
//! A disk whose directory disappears (pulled, deleted), or whose mount point is left empty (the
//! disk not mounted: the store tells by the disk's identity file, `blob/disk_id.rs`), costs no
//! request: GETs read around it through parity and PUTs are written past it, a shard short
//! (`engine/src/object/blob/degraded.rs`). What it costs is redundancy, until a scrub rebuilds
//! the missing shards onto the disk that is at that path again. So the server looks at its disk
//! directories every `--disk-check` seconds, and:
//!
//! - a disk that has gone or is not mounted is logged (a warning, once), with what to do;
//! - a disk that is there but failed writes since the last look (EIO, a file system gone
//!   read-only: the PUTs went on without it, as for a lost disk) is logged, with the shards it
//!   cost and its last error — once per look, for as long as it keeps failing;
//! - a disk that is back (mounted again, or the directory made again), or a new disk in its
//!   place (a mount point without the store's identity file), starts a scrub with healing —
//!   which formats a new disk first — as does a store whose metadata copies were rebuilt when
//!   it opened (a disk lost or replaced while the server was stopped);
//! - with `--scrub-every`, a scrub also runs on that schedule, for the rot no request reads.
//!
//! A scrub runs beside requests (each blob is pinned while checked; the engine's `scrub_until`)
//! on a blocking thread, one at a time, and a stopping server ends it at its next blob.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use seedbed_engine::object::blob::DiskState;
use seedbed_engine::object::ObjectStore;

/// When the watcher looks, and when it scrubs.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// How often the watcher wakes: to look at the disk directories if `disks`, and to see
    /// whether a scrub is due.
    pub check: Duration,
    /// Whether the disk directories are looked at.
    pub disks: bool,
    /// How often a whole scrub runs regardless (`None`: only when a disk comes back).
    pub scrub_every: Option<Duration>,
    /// Scrub once at start (the store's metadata copies were rebuilt when it opened).
    pub scrub_at_start: bool,
}

/// Watch the disks until `stop`.
pub async fn watch(store: Arc<ObjectStore>, schedule: Schedule, mut stop: crate::http::Stop) {
    let mut tick = tokio::time::interval(schedule.check);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut missing: BTreeSet<PathBuf> = BTreeSet::new();
    // Disks waiting to be formatted (new ones in place): a scrub when one appears.
    let mut new: BTreeSet<PathBuf> = BTreeSet::new();
    let mut last_scrub = Instant::now();
    let mut pending = schedule
        .scrub_at_start
        .then_some("metadata copies were rebuilt when the store opened");
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let s = store.clone();
        // One look at every disk: gone or not mounted (said once), or new (scrubbed).
        let states = if schedule.disks {
            match tokio::task::spawn_blocking(move || s.disk_states()).await {
                Ok(Ok(states)) => states,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot look at the disks");
                    continue;
                }
                Err(_) => continue,
            }
        } else {
            Vec::new()
        };
        let (now_new, now_missing): (Vec<_>, Vec<_>) = states
            .into_iter()
            .filter(|(_, s)| matches!(s, DiskState::Gone | DiskState::NotMounted | DiskState::New))
            .partition(|(_, s)| *s == DiskState::New);
        let (k, width) = (store.layout().k, store.layout().width());
        for (gone, state) in &now_missing {
            if missing.contains(gone) {
                continue;
            }
            let why = state.why_absent().unwrap_or("absent");
            tracing::warn!(
                disk = %gone.display(),
                missing = now_missing.len(),
                "disk is missing ({why}): GETs read around it through parity, and PUTs are \
                 written past it (a shard short) while at least {k} of the {width} disks are \
                 there; mount it again, or put a new disk in its place, and its shards are \
                 rebuilt"
            );
        }
        let now_missing: BTreeSet<PathBuf> = now_missing.into_iter().map(|(d, _)| d).collect();
        let arrived: Vec<&PathBuf> = now_new
            .iter()
            .map(|(d, _)| d)
            .filter(|d| !new.contains(*d))
            .collect();
        for disk in &arrived {
            tracing::info!(disk = %disk.display(), "a new disk is in place: formatting it and rebuilding its shards");
        }
        if !arrived.is_empty() {
            pending = Some("a new disk is in place");
        }
        new = now_new.into_iter().map(|(d, _)| d).collect();
        // Cheap (a lock and a swap): no blocking thread needed.
        for f in store.disk_failures() {
            tracing::warn!(
                disk = %f.disk.display(),
                shards = f.shards,
                last_error = %f.last_error,
                "disk failed writes: PUTs went on without it (a shard short each) while at \
                 least {k} of the {width} disks took theirs; replace or repair the disk, then \
                 scrub (--scrub-every, or `seedbed object --store DIR scrub` with the server \
                 stopped) rebuilds the shards"
            );
        }
        let back: Vec<&PathBuf> = missing.difference(&now_missing).collect();
        for disk in &back {
            tracing::info!(disk = %disk.display(), "disk is back: rebuilding its shards");
        }
        if !back.is_empty() {
            pending = Some("a disk came back");
        }
        missing = now_missing;
        if pending.is_none()
            && schedule
                .scrub_every
                .is_some_and(|every| last_scrub.elapsed() >= every)
        {
            pending = Some("--scrub-every");
        }
        let Some(why) = pending.take() else {
            continue;
        };
        last_scrub = Instant::now();
        if !scrub(&store, why, &mut stop).await {
            return;
        }
    }
}

/// One scrub with healing, logged; `false` if the server is stopping.
async fn scrub(store: &Arc<ObjectStore>, why: &'static str, stop: &mut crate::http::Stop) -> bool {
    let s = store.clone();
    let started = Instant::now();
    let Some(done) =
        crate::http::halting_pass(stop, move |halt| s.scrub_until(true, &mut |_, _| {}, halt))
            .await
    else {
        return false;
    };
    let secs = started.elapsed().as_secs_f64();
    match done {
        Ok(Ok(r)) if r.failures.is_empty() => tracing::info!(
            why,
            objects = r.objects,
            blobs = r.blobs,
            bytes = r.bytes,
            bad_blocks = r.bad_blocks,
            shards_healed = r.files_healed,
            disks_formatted = ?r.disks_formatted,
            disks_absent = ?r.disks_absent,
            shards_absent = r.shards_absent,
            orphans_removed = r.orphans_removed,
            metadata_copies_healed = r.meta_copies_healed,
            secs,
            "scrub"
        ),
        Ok(Ok(r)) => tracing::error!(
            why,
            objects = r.objects,
            blobs = r.blobs,
            bad_blocks = r.bad_blocks,
            shards_healed = r.files_healed,
            unrecoverable = r.failures.len(),
            failures = ?r.failures,
            secs,
            "scrub: objects that parity cannot rebuild"
        ),
        Ok(Err(e)) => tracing::warn!(why, error = %e, "scrub failed"),
        Err(e) => tracing::warn!(why, error = %e, "scrub did not finish"),
    }
    true
}
