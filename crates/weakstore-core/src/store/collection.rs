//! Collections on request, and the figures the store publishes.
//!
//! # Invariants
//! - A request names the first cycle that starts after it
//!   (`scheduler::request`), so waiting for it sees every earlier change.
//! - `make_room` waits with no lock held: the cycle it waits for takes the
//!   phase lock for writing.

use crate::collector::scheduler;
use crate::stats::{CycleStats, Stats};
use crate::store::Store;
use crate::sync::Ordering;

impl Store {
    /// Asks for a full cycle without waiting; returns its number, to pass
    /// to [`Store::completed`] or [`Store::wait_for`].
    pub fn request_collection(&self) -> u64 {
        scheduler::request(&self.shared, true)
    }

    /// Number of the last completed cycle.
    pub fn completed(&self) -> u64 {
        self.shared.scheduler.schedule.lock().completed
    }

    /// Blocks until cycle `cycle` completed; the last cycle's figures.
    pub fn wait_for(&self, cycle: u64) -> CycleStats {
        scheduler::wait_for(&self.shared, cycle)
    }

    /// Runs a full cycle that starts after this call and waits for it.
    pub fn collect(&self) -> CycleStats {
        let cycle = self.request_collection();
        self.wait_for(cycle)
    }

    /// Figures of the last completed cycle.
    pub fn last_cycle(&self) -> CycleStats {
        self.shared.scheduler.last_cycle.lock().clone()
    }

    /// The figures of the finished cycles numbered above `cycle`, oldest
    /// first: at most the last [`crate::stats::CYCLE_HISTORY`].
    pub fn cycles_after(&self, cycle: u64) -> Vec<CycleStats> {
        self.shared.scheduler.history.lock().iter().filter(|c| c.cycle > cycle).cloned().collect()
    }

    /// Before a growth of up to `bytes`: if it would pass the store's cap,
    /// waits for a full cycle to free what it can (never in a `manual`
    /// store, whose cycles only start on request). The caller holds no
    /// lock of the store.
    pub(crate) fn make_room(&self, bytes: usize) {
        if self.shared.over_cap(bytes) && !self.shared.config.manual {
            let cycle = scheduler::request(&self.shared, false);
            scheduler::wait_for(&self.shared, cycle);
        }
    }

    /// Totals at this instant.
    pub fn stats(&self) -> Stats {
        let (collections, failed_cycles) = {
            let schedule = self.shared.scheduler.schedule.lock();
            (schedule.completed, schedule.failed)
        };
        let phase = self.shared.phase.read().phase;
        let finalization = self.shared.weak.finalization.lock();
        // Relaxed loads below: statistics, each exact on its own; they are
        // not a consistent snapshot of one another.
        Stats {
            objects: self.shared.objects.load(Ordering::Relaxed),
            bytes: self.shared.bytes.load(Ordering::Relaxed),
            max_bytes: self.shared.config.max_bytes,
            collections,
            allocated_since_cycle: self.shared.scheduler.pacing.allocated.load(Ordering::Relaxed),
            next_cycle_at: self.shared.scheduler.pacing.trigger.load(Ordering::Relaxed),
            finalization_cells: finalization.live_cells(),
            pending_finalizations: finalization.pending(),
            ephemeron_tables: self.shared.weak.ephemeron_tables.load(Ordering::Relaxed),
            ephemeron_entries: self.shared.weak.ephemeron_entries.load(Ordering::Relaxed),
            pins: self.shared.pins.len(),
            shapes: self.shared.shapes.count(),
            shape_bytes: self.shared.shapes.bytes(),
            slots: self.shared.table.high_water(),
            free_slots: self.shared.table.free_slots(),
            retired_slots: self.shared.table.retired(),
            failed_cycles,
            anomalies: self.shared.anomalies.load(Ordering::Relaxed),
            phase: phase.name(),
            last_cycle: self.last_cycle(),
        }
    }

    /// Bytes held by live objects now (one atomic load; for embedders that
    /// report external memory on every allocation).
    pub fn live_bytes(&self) -> usize {
        // Relaxed: a statistic (see `Shared::bytes`).
        self.shared.bytes.load(Ordering::Relaxed)
    }
}
