//! Finalization registries and cells, on the mutator's side: register,
//! unregister by `(registry, cell)`, drop a registry, and the two steps of
//! delivery. The table itself is `crate::weak::finalization`.
//!
//! # Invariants
//! - A cell's held object gains a root when the cell is created and loses
//!   it exactly once: when the cell is unregistered, its registry dropped,
//!   or its delivery finished (`release_cells`, `finish_delivery`).
//! - Lock order: the target's payload lock, then the finalization table.

use crate::collector::phase::PhaseState;
use crate::error::{Error, Result};
use crate::id::ObjId;
use crate::store::Store;
use crate::weak::finalization::{Cell, Fired, Removed};

impl Store {
    /// A new finalization registry of `owner` (the embedder's number for
    /// the thread that delivers its callbacks; 0 with a single thread).
    pub fn new_registry(&self, owner: u32) -> u32 {
        self.shared.weak.finalization.lock().new_registry(owner)
    }

    /// Forgets every registry of `owner` (a thread that ended) and every
    /// cell in them, fired or not, as [`Store::drop_registry`] does for one.
    /// A delivery batch of `owner` in progress is abandoned: its cells are
    /// freed now, and `owner` must not call `finish_delivery` for it.
    pub fn drop_owner(&self, owner: u32) {
        let state = self.shared.phase.read();
        let cells = self.shared.weak.finalization.lock().drop_owner(owner);
        self.release_cells(cells, &state);
    }

    /// Forgets `registry` and every cell in it, fired or not; their held
    /// objects lose the root the cells owned.
    pub fn drop_registry(&self, registry: u32) {
        let state = self.shared.phase.read();
        let cells = self.shared.weak.finalization.lock().drop_registry(registry);
        self.release_cells(cells, &state);
    }

    /// Drops removed cells' held roots, and lets their targets forget them.
    ///
    /// A target's cell list is cleaned lazily: each removal only counts a
    /// stale entry, and the list is compacted (against the finalization
    /// table) once stale entries outnumber live ones. So removing a cell is
    /// O(1) amortized even on a target with many registrations.
    fn release_cells(&self, cells: Vec<(u32, Removed)>, state: &PhaseState) {
        for (_, cell) in cells {
            if let Some(slot) = self.shared.table.live(cell.target) {
                if let Some(mut object) = slot.lock_live(cell.target) {
                    let weak = object.side_mut();
                    weak.stale_cells += 1;
                    if weak.stale_cells >= 8 && weak.stale_cells * 2 >= weak.cells.len() {
                        // Lock order: slot payload, then the finalization
                        // table (nothing takes them the other way round).
                        let table = self.shared.weak.finalization.lock();
                        weak.cells.retain(|&c| table.is_cell_of(c, cell.target));
                        weak.cells.sort_unstable();
                        weak.cells.dedup();
                        weak.stale_cells = 0;
                    }
                }
            }
            if let Some(held) = cell.held {
                let _ = self.drop_root(held, state);
            }
        }
    }

    /// Registers `target` in `registry`. `held` (if any) gains a root owned
    /// by the cell. Returns the cell id.
    pub fn register(&self, registry: u32, target: ObjId, held: Option<ObjId>) -> Result<u32> {
        if held == Some(target) {
            return Err(Error::HeldIsTarget(target));
        }
        let state = self.shared.phase.read();
        let target_slot = self.live_slot(target, &state)?;
        if let Some(held) = held {
            let held_slot = self.live_slot(held, &state)?;
            self.add_root(held_slot, held, &state);
        }
        let id = {
            let mut table = self.shared.weak.finalization.lock();
            if !table.has_registry(registry) {
                drop(table);
                if let Some(held) = held {
                    let _ = self.drop_root(held, &state);
                }
                return Err(Error::UnknownRegistry(registry));
            }
            table.insert(Cell { registry, target, held, fired: false, delivering: false, cancelled: false, pos: 0 })
        };
        match target_slot.lock_live(target) {
            Some(mut object) => {
                object.side_mut().cells.push(id);
                Ok(id)
            }
            None => {
                // The target was live a moment ago and the caller must hold
                // it; this only happens to embedders that break that rule.
                self.shared.weak.finalization.lock().remove(id);
                if let Some(held) = held {
                    let _ = self.drop_root(held, &state);
                }
                Err(Error::Dead(target))
            }
        }
    }

    /// Removes the given cells, each named with its registry as
    /// `(registry, cell)` (the embedder keeps unregister tokens itself); a
    /// pair that names no live cell of that registry is skipped. Returns how
    /// many were removed. A cell of a delivery batch in progress is
    /// cancelled: its id stays reserved until the batch finishes.
    pub fn unregister_many(&self, cells: impl IntoIterator<Item = (u32, u32)>) -> usize {
        let state = self.shared.phase.read();
        let removed: Vec<(u32, Removed)> = {
            let mut table = self.shared.weak.finalization.lock();
            cells.into_iter().filter_map(|(registry, id)| Some((id, table.remove_of(registry, id)?))).collect()
        };
        let n = removed.len();
        self.release_cells(removed, &state);
        n
    }

    /// First step of a delivery batch: appends the fired cells of `owner`'s
    /// registries not yet handed out to `out`. They stay registered (each still owning its
    /// held object's root) until [`Store::finish_delivery`], so that
    /// callbacks of the batch can still unregister them, and their ids are
    /// not reused meanwhile.
    pub fn begin_delivery(&self, owner: u32, out: &mut Vec<Fired>) {
        self.shared.weak.finalization.lock().begin_delivery(owner, out);
    }

    /// Second step: removes the batch's cells (those not unregistered or
    /// dropped meanwhile) and drops their held objects' roots. A caller that
    /// wants a held object must root it itself before this.
    pub fn finish_delivery(&self, cells: impl IntoIterator<Item = u32>) {
        let state = self.shared.phase.read();
        let removed: Vec<(u32, Removed)> = {
            let mut table = self.shared.weak.finalization.lock();
            cells.into_iter().filter_map(|id| Some((id, table.finish_delivery(id)?))).collect()
        };
        for (_, cell) in removed {
            // The target is gone (that is why the cell fired): only the
            // held root is left to drop.
            if let Some(held) = cell.held {
                let _ = self.drop_root(held, &state);
            }
        }
    }
}
