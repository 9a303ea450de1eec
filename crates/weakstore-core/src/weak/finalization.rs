//! Finalization cells and registries.
//!
//! A registry is a number the embedder gets from
//! [`crate::Store::new_registry`]; its callback, held values and unregister
//! tokens live on the embedder's side. A cell records one
//! `register(target, held)`: the target is held weakly (the cell id is
//! listed in the target object's payload, which the collector does not
//! trace), the held value strongly when it is a store object (the cell owns
//! one root on it). Unregistering names cells by `(registry, cell)`
//! ([`crate::Store::unregister_many`]): the embedder maps its tokens to the
//! cell ids `register` returned.
//!
//! Each registry belongs to one *owner*: a number the embedder gives to
//! each of its threads (a store shared by several JavaScript threads gives
//! each its own), so that a thread is handed only its own registries'
//! cells and a thread that ends can drop all of its registrations at once
//! ([`crate::Store::drop_owner`]). An embedder with one thread uses owner 0.
//!
//! When the sweeper frees a target it moves the target's cells to their
//! owner's `fired` queue. The owner drains it on its own thread in two steps:
//! `begin_delivery` hands out the fired cells but leaves them in the table
//! (so a callback that unregisters a token still cancels the cells of the
//! same batch whose callbacks have not run, as the ES2021 cleanup job does,
//! and no cell id is reused while the batch runs), and `finish_delivery`
//! removes them and drops their held roots.
//!
//! # Invariants
//! - A cell is in `cells` from `register` until it is unregistered, its
//!   registry dropped, or its delivery finished; its id may then be reused,
//!   so every queue entry is checked against the cell it names (`fired`,
//!   and the target it was fired for). A cell removed while its delivery
//!   batch is running leaves a tombstone (`cancelled`) that keeps its id
//!   reserved until `finish_delivery` (or until its owner is dropped: an
//!   owner that is gone never finishes its batch).
//! - `registries[r]` lists exactly the live cells of registry `r`, and each
//!   such cell's `pos` is its index there: removing a cell is O(1), and
//!   dropping a registry costs its own cells, not the table's.
//! - A target's payload may still list cells that were unregistered (they
//!   are dropped lazily, see `Store::release_cells`); every use of such a
//!   list checks each id against this table (`fire`, `is_cell_of`).
//! - While a cell is live and has a held object, that object has one root
//!   owned by the cell; `finish_delivery` drops it.
//! - `begin_delivery(owner)` hands out only cells whose registry belongs to
//!   `owner` (a queue entry whose id was reused by another owner's cell is
//!   skipped there, and found in that owner's queue).
//! - `queued` counts the live cells that fired and were not handed out yet
//!   (what `pending()` reports), not the `fired` queues' entries: those may
//!   name cells removed since, and an id twice.
//! - The table shrinks after a peak (`trim`, after every freed slot): the
//!   free slots at its end go, and its capacity halves while it is less
//!   than a quarter full. While fewer than a quarter of its slots are live,
//!   the lowest free ids are reused first (`FreeIds`), so the cells gather
//!   at the start and the end can go; the embedder, which indexes its own
//!   arrays by cell id, can shrink them too.

use std::collections::HashMap;

use super::free_ids::FreeIds;
use crate::id::ObjId;

pub(crate) struct Cell {
    pub(crate) registry: u32,
    pub(crate) target: ObjId,
    pub(crate) held: Option<ObjId>,
    pub(crate) fired: bool,
    /// Handed out by `begin_delivery`, not yet finished.
    pub(crate) delivering: bool,
    /// Removed (unregistered, registry dropped) while delivering: a
    /// tombstone that keeps the id reserved until `finish_delivery`.
    pub(crate) cancelled: bool,
    /// Its index in its registry's cell list (set by `insert`).
    pub(crate) pos: u32,
}

/// What a removed cell leaves for the store to release: small and `Copy`,
/// so that removal does not move whole `Cell`s out of the table
/// (docs/BENCHMARKS.md, "`FinalizationTable::remove` returns a small
/// summary").
#[derive(Clone, Copy)]
pub(crate) struct Removed {
    pub(crate) registry: u32,
    pub(crate) target: ObjId,
    pub(crate) held: Option<ObjId>,
}

/// A collected target's cell, handed to the embedder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// The registry the cell belongs to.
    pub registry: u32,
    /// The cell id `register` returned.
    pub cell: u32,
    /// The held store object, if any. Its root now belongs to the caller,
    /// who must `unroot` it once done.
    pub held: Option<ObjId>,
}

/// Tables with fewer slots than this neither shrink nor reuse the lowest
/// ids first.
const SMALL: usize = 256;

#[derive(Default)]
pub(crate) struct FinalizationTable {
    cells: Vec<Option<Cell>>,
    free: FreeIds,
    live: usize,
    /// Live cells fired and not handed out yet.
    queued: usize,
    /// Live registries, each with its owner and its live cells.
    registries: HashMap<u32, Registry>,
    next_registry: u32,
    /// Fired cells not handed out yet, per owner.
    fired: HashMap<u32, Vec<u32>>,
}

#[derive(Default)]
struct Registry {
    owner: u32,
    cells: Vec<u32>,
}

impl FinalizationTable {
    pub(crate) fn new_registry(&mut self, owner: u32) -> u32 {
        self.next_registry = self.next_registry.wrapping_add(1);
        while self.registries.contains_key(&self.next_registry) {
            self.next_registry = self.next_registry.wrapping_add(1);
        }
        self.registries.insert(self.next_registry, Registry { owner, cells: Vec::new() });
        self.next_registry
    }

    pub(crate) fn has_registry(&self, registry: u32) -> bool {
        self.registries.contains_key(&registry)
    }

    /// Forgets `registry` and returns its cells (fired or not).
    pub(crate) fn drop_registry(&mut self, registry: u32) -> Vec<(u32, Removed)> {
        let Some(r) = self.registries.remove(&registry) else {
            return Vec::new();
        };
        r.cells.into_iter().filter_map(|id| Some((id, self.remove(id)?))).collect()
    }

    /// Forgets every registry of `owner`, and its fired queue; returns their
    /// cells (fired or not). The owner is gone and will not finish its
    /// delivery batch: the cells of that batch are freed at once rather
    /// than left as tombstones.
    pub(crate) fn drop_owner(&mut self, owner: u32) -> Vec<(u32, Removed)> {
        let mine: Vec<u32> = self.registries.iter().filter(|(_, r)| r.owner == owner).map(|(&id, _)| id).collect();
        let cells: Vec<(u32, Removed)> = mine.into_iter().flat_map(|registry| self.drop_registry(registry)).collect();
        for &(id, _) in &cells {
            if let Some(slot) = self.cells.get_mut(id as usize) {
                if slot.as_ref().is_some_and(|c| c.cancelled) {
                    *slot = None;
                    self.free.push(id);
                }
            }
        }
        self.fired.remove(&owner);
        self.trim();
        cells
    }

    /// Adds `cell` to the table and to its registry's list, which must exist
    /// (the caller checked `has_registry`).
    pub(crate) fn insert(&mut self, mut cell: Cell) -> u32 {
        let list = &mut self.registries.get_mut(&cell.registry).expect("insert: unknown registry").cells;
        cell.pos = list.len() as u32;
        let id = match self.free.take(self.cells.len()) {
            Some(id) => {
                self.cells[id as usize] = Some(cell);
                id
            }
            None => {
                self.cells.push(Some(cell));
                (self.cells.len() - 1) as u32
            }
        };
        list.push(id);
        self.live += 1;
        if self.free.is_heap() && self.live * 2 >= self.cells.len() {
            // Half full again: back to the stack, O(1) a reuse.
            self.free.rebuild(self.cells.len(), false);
        }
        id
    }

    /// Removes cell `id` and returns it. A cell being delivered leaves a
    /// tombstone behind, so that its id is not reused before its batch
    /// finishes (a callback of the batch that registers anew must not be
    /// handed an id the batch still names).
    pub(crate) fn remove(&mut self, id: u32) -> Option<Removed> {
        let slot = self.cells.get_mut(id as usize)?;
        let cell = slot.as_mut()?;
        if cell.cancelled {
            return None;
        }
        let removed = Removed { registry: cell.registry, target: cell.target, held: cell.held };
        let pos = cell.pos as usize;
        if cell.fired && !cell.delivering {
            self.queued -= 1;
        }
        let freed = !cell.delivering;
        if cell.delivering {
            cell.held = None;
            cell.cancelled = true;
        } else {
            *slot = None;
            self.free.push(id);
        }
        self.live -= 1;
        // Off its registry's list (already gone if the registry was dropped).
        if let Some(list) = self.registries.get_mut(&removed.registry).map(|r| &mut r.cells) {
            debug_assert_eq!(list.get(pos), Some(&id));
            list.swap_remove(pos);
            if let Some(&moved) = list.get(pos) {
                if let Some(Some(c)) = self.cells.get_mut(moved as usize) {
                    c.pos = pos as u32;
                }
            }
        }
        if freed {
            self.trim();
        }
        Some(removed)
    }

    /// After a slot was freed: drops the free slots at the end of the
    /// table, halves its capacity while it is less than a quarter full,
    /// and picks the free list's order (see the invariants). Each step
    /// is amortised over the frees that made it due.
    fn trim(&mut self) {
        while let Some(None) = self.cells.last() {
            self.cells.pop();
        }
        let len = self.cells.len();
        if self.cells.capacity() >= SMALL && self.cells.capacity() > 4 * len {
            self.cells.shrink_to(2 * len);
        }
        let sparse = len >= SMALL && self.live * 4 < len;
        if (sparse && !self.free.is_heap()) || self.free.len() > 2 * len + SMALL {
            self.free.rebuild(len, sparse);
        }
    }

    /// Removes cell `id` if it is a live cell of `registry`.
    pub(crate) fn remove_of(&mut self, registry: u32, id: u32) -> Option<Removed> {
        match self.cells.get(id as usize) {
            Some(Some(cell)) if cell.registry == registry => self.remove(id),
            _ => None,
        }
    }

    /// Whether cell `id` is live and targets `target`.
    pub(crate) fn is_cell_of(&self, id: u32, target: ObjId) -> bool {
        matches!(self.cells.get(id as usize), Some(Some(cell)) if cell.target == target)
    }

    /// Queues `id` for delivery, to its registry's owner, if it still
    /// targets `target`.
    pub(crate) fn fire(&mut self, id: u32, target: ObjId) -> bool {
        let Some(Some(cell)) = self.cells.get_mut(id as usize) else { return false };
        if cell.target != target || cell.fired {
            return false;
        }
        // A live cell's registry is live (dropping a registry removes its cells).
        let Some(registry) = self.registries.get(&cell.registry) else { return false };
        cell.fired = true;
        self.queued += 1;
        self.fired.entry(registry.owner).or_default().push(id);
        true
    }

    /// Hands out every fired cell of `owner`'s registries not yet handed
    /// out, oldest first, and marks it delivering; the cells stay in the
    /// table.
    pub(crate) fn begin_delivery(&mut self, owner: u32, out: &mut Vec<Fired>) {
        let Some(fired) = self.fired.get_mut(&owner).map(std::mem::take) else { return };
        for id in fired {
            let Some(Some(cell)) = self.cells.get_mut(id as usize) else { continue };
            let mine = self.registries.get(&cell.registry).is_some_and(|r| r.owner == owner);
            if mine && cell.fired && !cell.delivering {
                cell.delivering = true;
                self.queued -= 1;
                out.push(Fired { registry: cell.registry, cell: id, held: cell.held });
            }
        }
    }

    /// Ends the delivery of cell `id`: removes it (returning it) if it was
    /// still registered, frees its tombstone if it was cancelled meanwhile.
    pub(crate) fn finish_delivery(&mut self, id: u32) -> Option<Removed> {
        let cell = self.cells.get_mut(id as usize)?.as_mut()?;
        if !cell.delivering {
            return None;
        }
        if cell.cancelled {
            self.cells[id as usize] = None;
            self.free.push(id);
            self.trim();
            return None;
        }
        // Delivered: neither a tombstone nor due (`queued`) when removed.
        cell.delivering = false;
        cell.fired = false;
        self.remove(id)
    }

    /// Every cell not removed: (registry, target, held object).
    pub(crate) fn cells(&self) -> Vec<(u32, ObjId, Option<ObjId>)> {
        self.cells.iter().flatten().filter(|c| !c.cancelled).map(|c| (c.registry, c.target, c.held)).collect()
    }

    pub(crate) fn live_cells(&self) -> usize {
        self.live
    }

    /// Live cells fired and not handed out yet (`begin_delivery`).
    pub(crate) fn pending(&self) -> usize {
        self.queued
    }

    /// The table's length in slots (live, tombstones and free).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        self.cells.len()
    }
}

#[cfg(test)]
mod tests;
