//! Backpressure: before a write goes in, the active memtable must have room and L0 must not
//! be at its stop trigger. If not, the write *stalls* — it waits for the background thread
//! (`MaintenanceMode::Background`) or runs the needed flush or compaction itself
//! (`MaintenanceMode::Manual`, the simulator's mode). Every stall is counted, timed and its
//! reason kept for `StatsSnapshot::last_stall_reason`.

use std::sync::MutexGuard;
use std::time::Duration;

use super::{lock, DbInner, WriteState};
use crate::lsm::error::{LsmError, Result};
use crate::lsm::options::MaintenanceMode;
use crate::lsm::stats::Stats;

/// Longest a stalled writer sleeps before re-checking (background mode).
const STALL_WAIT: Duration = Duration::from_millis(5);

impl DbInner {
    pub(super) fn make_room<'a>(
        &'a self,
        mut w: MutexGuard<'a, WriteState>,
    ) -> Result<MutexGuard<'a, WriteState>> {
        let mut stalled_since: Option<u64> = None;
        let result = loop {
            if let Err(e) = self.check_bg_error() {
                break Err(e);
            }
            let st = self.current();
            let l0 = st.version.levels[0].len();
            let reason = if l0 >= self.opts.l0_stop_writes_trigger {
                Some(format!(
                    "L0 has {l0} tables (stop trigger {})",
                    self.opts.l0_stop_writes_trigger
                ))
            } else if w.mem.approx_bytes() < self.opts.write_buffer_bytes {
                break Ok(());
            } else if st.imms.len() >= self.opts.max_immutable_memtables {
                Some(format!(
                    "{} immutable memtables waiting for flush (limit {})",
                    st.imms.len(),
                    self.opts.max_immutable_memtables
                ))
            } else {
                if let Err(e) = self.rotate(&mut w) {
                    self.set_bg_error(&e);
                    break Err(e);
                }
                break Ok(());
            };
            let reason = reason.expect("stalled");
            if stalled_since.is_none() {
                stalled_since = Some(self.clock.now_nanos());
                Stats::add(&self.stats.stalls, 1);
                *lock(&self.stats.last_stall_reason) = Some(reason);
            }
            match self.opts.maintenance {
                MaintenanceMode::Background => {
                    self.wake_bg();
                    w = self
                        .stall_cv
                        .wait_timeout(w, STALL_WAIT)
                        .map(|r| r.0)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                MaintenanceMode::Manual => match self.maintenance_step() {
                    Ok(true) => {}
                    Ok(false) => {
                        break Err(LsmError::InvalidArgument(
                            "write stalled and maintenance cannot make progress".into(),
                        ))
                    }
                    Err(e) => break Err(e),
                },
            }
        };
        if let Some(t) = stalled_since {
            Stats::add(
                &self.stats.stall_micros,
                self.clock.now_nanos().saturating_sub(t) / 1000,
            );
        }
        result.map(|()| w)
    }
}
