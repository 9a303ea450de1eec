//! Roots: strong references from outside the object graph (handles,
//! objects kept for the current job, held values of finalization cells).
//!
//! # Invariants
//! - A root is added only to a live, visible object, and the root barrier
//!   runs on every change while barriers are on, so an object rooted during
//!   a cycle ends up marked.
//! - A count never goes below zero: `unroot` of an unrooted id fails.

use crate::collector::barrier;
use crate::collector::phase::PhaseState;
use crate::error::{Error, Result};
use crate::heap::table::Slot;
use crate::id::ObjId;
use crate::store::Store;
use crate::sync::Ordering;

impl Store {
    /// Adds a root to the live `slot` of `id`, with the root barrier.
    pub(crate) fn add_root(&self, slot: &Slot, id: ObjId, state: &PhaseState) {
        // Relaxed: the count publishes no other data. The root scan reads
        // it with Relaxed too (`Marker::scan_roots`): a change made before
        // the `Snapshot` pause is ordered before the scan by the phase lock
        // (this operation holds it for reading), and a change made while
        // barriers are on shades the object below, which is what makes it
        // count for this cycle.
        slot.roots.fetch_add(1, Ordering::Relaxed);
        barrier::root_added(&self.shared, id, state);
    }

    /// Removes a root from `id`, with the root barrier.
    pub(crate) fn drop_root(&self, id: ObjId, state: &PhaseState) -> Result<()> {
        let slot = self.shared.table.live(id).ok_or(Error::Dead(id))?;
        slot.roots
            // Relaxed: as in `add_root`; the phase lock and the barrier
            // below order it against the root scan.
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
            .map_err(|_| Error::NotRooted(id))?;
        barrier::root_dropped(&self.shared, id, state);
        Ok(())
    }

    /// Adds a root to `id` if it is still alive: the strong half of
    /// `WeakRef.deref`. `false` once the object is collected (or known dead
    /// and awaiting the sweeper); it never comes back after that.
    pub fn root(&self, id: ObjId) -> bool {
        let state = self.shared.phase.read();
        match self.live_slot(id, &state) {
            Ok(slot) => {
                self.add_root(slot, id, &state);
                true
            }
            Err(_) => false,
        }
    }

    /// Removes one root from `id`.
    pub fn unroot(&self, id: ObjId) -> Result<()> {
        let state = self.shared.phase.read();
        self.drop_root(id, &state)
    }

    /// Removes one root from each id; returns how many were refused.
    pub fn unroot_many(&self, ids: impl IntoIterator<Item = ObjId>) -> usize {
        let state = self.shared.phase.read();
        ids.into_iter().filter(|&id| self.drop_root(id, &state).is_err()).count()
    }

    /// Whether `id` is alive (and not known dead), without rooting it.
    pub fn is_alive(&self, id: ObjId) -> bool {
        let state = self.shared.phase.read();
        self.live_slot(id, &state).is_ok()
    }

    /// Current root count of `id` (0 for dead ids).
    pub fn root_count(&self, id: ObjId) -> u32 {
        // Relaxed: a figure for the caller; it orders nothing.
        self.shared.table.live(id).map_or(0, |s| s.roots.load(Ordering::Relaxed))
    }
}
