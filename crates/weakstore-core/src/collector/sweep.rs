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
use crate::sync::Ordering;
use crate::weak::ephemeron::EphemeronValue;

#[derive(Default)]
pub(crate) struct Swept {
    pub(crate) freed: usize,
    pub(crate) freed_bytes: usize,
    pub(crate) fired: usize,
    pub(crate) anomalies: usize,
    /// Ephemeron entries dropped with their keys.
    pub(crate) entries: usize,
}

impl Swept {
    pub(crate) fn add(&mut self, other: Swept) {
        self.freed += other.freed;
        self.freed_bytes += other.freed_bytes;
        self.fired += other.fired;
        self.anomalies += other.anomalies;
        self.entries += other.entries;
    }
}

pub(crate) fn sweep(shared: &Shared, epoch: u32, worker: usize, workers: usize) -> Swept {
    let mut swept = Swept::default();
    let mut recycled = Vec::new();
    let mut dead_external = Vec::new();
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
                recycled.push(index);
            }
            drop(guard);
            swept.freed += 1;
            swept.freed_bytes += object.measure();
            if let Some(weak) = &object.weak {
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
                    dead_external.extend(external);
                }
            }
            drop(object);
        }
        if recycled.len() >= 1024 {
            shared.table.recycle(&mut recycled);
        }
    }
    shared.table.recycle(&mut recycled);
    if !dead_external.is_empty() {
        shared.weak.dead_external.lock().append(&mut dead_external);
    }
    // Relaxed: statistics (see `Shared::objects`).
    shared.weak.ephemeron_entries.fetch_sub(swept.entries, Ordering::Relaxed);
    shared.anomalies.fetch_add(swept.anomalies, Ordering::Relaxed);
    shared.objects.fetch_sub(swept.freed, Ordering::Relaxed);
    shared.bytes.fetch_sub(swept.freed_bytes, Ordering::Relaxed);
    swept
}
