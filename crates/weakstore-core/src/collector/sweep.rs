//! Sweeping: free what marking left white.
//!
//! Each worker walks its blocks of the table. An unmarked live slot is
//! freed: its payload is taken under the slot mutex, its generation bumped
//! (clearing every weak reference to it for good), the slot recycled, and
//! its finalization cells moved to the delivery queue, its ephemeron entries
//! dropped (reporting those whose value the embedder holds). Payloads are
//! dropped outside every lock.
//!
//! # Invariants
//! - Only slots unmarked in this cycle's epoch are freed. Objects allocated
//!   during the cycle carry the epoch (allocation is black), and mutators
//!   cannot root, dereference or store an unmarked object once
//!   `ProcessWeak` has begun, so an unmarked slot stays unreachable while
//!   the sweeper looks at it.
//! - A slot with a non-zero root count is never freed, even if unmarked:
//!   that would be a collector bug, and it is counted (`Stats::anomalies`,
//!   which every test checks) rather than turned into a use-after-free.

use crate::collector::mark::blocks;
use crate::id::ObjId;
use crate::shared::Shared;
use crate::stats::CycleStats;
use crate::sync::{AtomicUsize, Ordering};
use crate::weak::ephemeron::EphemeronValue;

/// What the sweep of one cycle freed so far, over all its workers and
/// attempts (a cycle that fails is retried, and what its first attempt
/// freed stays freed). Reset by the scheduler as each cycle starts.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) freed: AtomicUsize,
    pub(crate) freed_bytes: AtomicUsize,
    pub(crate) fired: AtomicUsize,
    /// Ephemeron entries dropped with their keys.
    pub(crate) entries: AtomicUsize,
}

impl Tally {
    /// `stats` with the freed figures of this tally.
    pub(crate) fn figures(&self, stats: CycleStats) -> CycleStats {
        // Relaxed: the sweepers' adds happen-before the joins of their
        // threads, which happen-before this read (`run_cycle`,
        // `run_attempts`).
        CycleStats {
            freed: self.freed.load(Ordering::Relaxed),
            freed_bytes: self.freed_bytes.load(Ordering::Relaxed),
            finalizers_queued: self.fired.load(Ordering::Relaxed),
            ephemerons_dropped: self.entries.load(Ordering::Relaxed),
            ..stats
        }
    }

    pub(crate) fn reset(&self) {
        // Relaxed: statistics (see `Shared::objects`); the scheduler resets
        // them before the cycle's threads start and reads them after they
        // were joined.
        for counter in [&self.freed, &self.freed_bytes, &self.fired, &self.entries] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// One worker's sweep: what it freed and must still hand back. Dropping
/// it (at the end, or while a panic unwinds) accounts for every object it
/// freed and recycles their slots, so the store's totals stay exact even
/// when the sweep fails half-way.
struct Sweeper<'a> {
    shared: &'a Shared,
    freed: usize,
    freed_bytes: usize,
    fired: usize,
    anomalies: usize,
    entries: usize,
    recycled: Vec<u32>,
    dead_external: Vec<(u32, ObjId)>,
}

impl Drop for Sweeper<'_> {
    fn drop(&mut self) {
        let shared = self.shared;
        shared.table.recycle(&mut self.recycled);
        if !self.dead_external.is_empty() {
            shared.weak.dead_external.lock().append(&mut self.dead_external);
        }
        // Relaxed: statistics (see `Shared::objects`).
        shared.weak.ephemeron_entries.fetch_sub(self.entries, Ordering::Relaxed);
        shared.anomalies.fetch_add(self.anomalies, Ordering::Relaxed);
        shared.objects.fetch_sub(self.freed, Ordering::Relaxed);
        shared.bytes.fetch_sub(self.freed_bytes, Ordering::Relaxed);
        let tally = &shared.tally;
        tally.freed.fetch_add(self.freed, Ordering::Relaxed);
        tally.freed_bytes.fetch_add(self.freed_bytes, Ordering::Relaxed);
        tally.fired.fetch_add(self.fired, Ordering::Relaxed);
        tally.entries.fetch_add(self.entries, Ordering::Relaxed);
    }
}

/// Sweeps worker `worker`'s blocks of the table; its figures go to
/// `Shared::tally`.
pub(crate) fn sweep(shared: &Shared, epoch: u32, worker: usize, workers: usize) {
    let mut swept = Sweeper {
        shared,
        freed: 0,
        freed_bytes: 0,
        fired: 0,
        anomalies: 0,
        entries: 0,
        recycled: Vec::new(),
        dead_external: Vec::new(),
    };
    let end = shared.table.high_water();
    for range in blocks(worker, workers, end) {
        crate::collector::scheduler::keep_pace(shared);
        for index in range {
            let Some(slot) = shared.table.slot(index) else { continue };
            // Acquire; pairs with the Release in `Table::publish`, so the
            // mark stored before publication is visible.
            let state = slot.state.load(Ordering::Acquire);
            // Relaxed: marks set by markers were stored before the pause
            // that ended marking (the phase lock orders them before this
            // phase); marks of objects allocated since were stored before
            // the state the Acquire load above read.
            if state & 1 == 0 || slot.mark.load(Ordering::Relaxed) == epoch {
                continue;
            }
            let mut guard = slot.lock();
            // Relaxed: `state` only changes under the slot lock we hold;
            // the mark as above.
            if slot.state.load(Ordering::Relaxed) != state || slot.mark.load(Ordering::Relaxed) == epoch {
                continue;
            }
            // Relaxed: as in `Marker::scan_roots`. An object that is
            // rooted now was rooted while `visible` let mutators name it,
            // i.e. before `ProcessWeak` (phase lock) with the root barrier.
            if slot.roots.load(Ordering::Relaxed) > 0 {
                // Counted in `Stats::anomalies`; every test asserts it is 0.
                swept.anomalies += 1;
                continue;
            }
            let Some(object) = guard.take() else { continue };
            if shared.table.kill(slot, &mut guard) {
                swept.recycled.push(index);
            }
            drop(guard);
            swept.freed += 1;
            swept.freed_bytes += object.measure();
            if let Some(weak) = &object.side {
                let id = ObjId::new(index, state >> 1);
                if !weak.cells.is_empty() {
                    let mut table = shared.weak.finalization.lock();
                    for &cell in &weak.cells {
                        swept.fired += usize::from(table.fire(cell, id));
                    }
                }
                if !weak.entries.is_empty() {
                    swept.entries += weak.entries.len();
                    let external = weak
                        .entries
                        .iter()
                        .filter(|e| e.value == EphemeronValue::External && e.table.is_alive())
                        .map(|e| (e.table.id(), id));
                    swept.dead_external.extend(external);
                }
            }
            drop(object);
        }
        if swept.recycled.len() >= 1024 {
            shared.table.recycle(&mut swept.recycled);
        }
        crate::faults::point(crate::faults::Site::Sweep);
    }
}
