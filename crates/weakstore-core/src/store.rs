//! The mutator's interface: allocate, read and write fields, root and
//! unroot, dereference weak ids, register finalization cells, collect.
//!
//! Every operation takes the phase lock for reading once, so it runs
//! entirely inside one phase, and runs the barriers that phase asks for
//! ([`crate::Phase::barriers_on`], [`crate::Phase::unmarked_is_dead`]).
//!
//! # Invariants
//! - An id returned by `alloc` carries one root owned by the caller; so
//!   does an id for which `root` returned `true`, and each `Ref` that
//!   `get_rooted` returns.
//! - A mutator only stores references to objects it can name legitimately:
//!   a `Ref` written into a field must be alive *and* visible (not unmarked
//!   after marking ended); otherwise the write fails with `Error::Dead`.
//! - Plain `get` returns `Ref` ids without a root: sound only while no
//!   other thread can remove the edge before the caller roots the id (one
//!   mutator thread per store, as in the Node binding). Threads sharing a
//!   store use `get_rooted`.

use crate::collector::phase::PhaseState;
use crate::collector::scheduler;
use crate::error::{Error, Result};
use crate::heap::object::Object;
use crate::heap::table::Slot;
use crate::heap::{Config, Shared};
use crate::host::Host;
use crate::id::ObjId;
use crate::stats::{CycleStats, Stats};
use crate::sync::{Arc, Ordering};
use crate::value::Value;
use crate::weak::finalization::{Cell, Fired, Removed};

/// An off-heap object store with its own concurrent collector.
pub struct Store {
    pub(crate) shared: Arc<Shared>,
    collector: Option<crate::sync::thread::JoinHandle<()>>,
}

impl Store {
    /// A store with its collector thread started.
    pub fn new(config: Config, host: impl Host) -> Store {
        let shared = Arc::new(Shared::new(config, Box::new(host)));
        let collector = Some(scheduler::spawn(Arc::clone(&shared)));
        Store { shared, collector }
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    pub(crate) fn live_slot(&self, id: ObjId, state: &PhaseState) -> Result<&Slot> {
        self.shared
            .table
            .live(id)
            .filter(|slot| Shared::visible(slot, state))
            .ok_or(Error::Dead(id))
    }

    /// Checks that `value`'s reference (if any) may be stored now, and runs
    /// the insertion half of the barrier.
    pub(crate) fn admit(&self, value: &Value, state: &PhaseState) -> Result<()> {
        if let Some(target) = value.as_ref() {
            self.live_slot(target, state)?;
            if state.phase.barriers_on() {
                self.shared.shade(target.index(), state.epoch);
            }
        }
        Ok(())
    }

    /// The deletion half of the barrier, for a reference being dropped.
    pub(crate) fn forget(&self, old: Option<&Value>, state: &PhaseState) {
        if let (Some(old), true) = (old.and_then(Value::as_ref), state.phase.barriers_on()) {
            self.shared.shade(old.index(), state.epoch);
        }
    }

    /// Allocates an object with `fields`; the id comes with one root.
    pub fn alloc(&self, fields: Vec<(Box<str>, Value)>) -> Result<ObjId> {
        let state = self.shared.phase.read();
        for (_, value) in &fields {
            self.admit(value, &state)?;
        }
        let object = Object::new(fields);
        let bytes = object.measure();
        let index = self.shared.table.reserve();
        // Black allocation: the new object carries the current epoch, so
        // neither this cycle's sweep nor its marker needs to visit it.
        let id = self.shared.table.publish(index, object, state.epoch, 1);
        drop(state);
        // Relaxed: statistics (see `Shared::objects`).
        self.shared.objects.fetch_add(1, Ordering::Relaxed);
        self.shared.bytes.fetch_add(bytes, Ordering::Relaxed);
        scheduler::on_allocate(&self.shared, bytes);
        Ok(id)
    }

    /// Sets field `key` of `id`.
    pub fn set(&self, id: ObjId, key: &str, value: Value) -> Result<()> {
        let state = self.shared.phase.read();
        self.admit(&value, &state)?;
        let slot = self.live_slot(id, &state)?;
        let mut guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        let object = guard.as_mut().expect("lock_if checked");
        let (old, delta) = object.insert(key, value);
        drop(guard);
        self.forget(old.as_ref(), &state);
        drop(state);
        self.shared.add_bytes(delta);
        if delta > 0 {
            scheduler::on_allocate(&self.shared, delta as usize);
        }
        Ok(())
    }

    /// Runs `f` on field `key` of `id` (absent: `None`) without copying it.
    pub fn with_field<R>(&self, id: ObjId, key: &str, f: impl FnOnce(Option<&Value>) -> R) -> Result<R> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        Ok(f(guard.as_ref().expect("lock_if checked").get(key)))
    }

    /// A copy of field `key`; `Ref` ids come without a root (see module
    /// docs).
    pub fn get(&self, id: ObjId, key: &str) -> Result<Option<Value>> {
        self.with_field(id, key, |v| v.cloned())
    }

    /// A copy of field `key`; a `Ref` comes with a root owned by the caller.
    pub fn get_rooted(&self, id: ObjId, key: &str) -> Result<Option<Value>> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        let value = guard.as_ref().expect("lock_if checked").get(key).cloned();
        if let Some(child) = value.as_ref().and_then(Value::as_ref) {
            // The edge is still in place (we hold the parent's lock), so the
            // child is alive and, after marking, marked.
            let child_slot = self.shared.table.live(child).ok_or(Error::Dead(child))?;
            self.add_root(child_slot, child, &state);
        }
        Ok(value)
    }

    /// Whether `id` has field `key`.
    pub fn has(&self, id: ObjId, key: &str) -> Result<bool> {
        self.with_field(id, key, |v| v.is_some())
    }

    /// Removes field `key`; whether it existed.
    pub fn delete(&self, id: ObjId, key: &str) -> Result<bool> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let mut guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        let object = guard.as_mut().expect("lock_if checked");
        let removed = object.remove(key);
        drop(guard);
        let Some((old, bytes)) = removed else { return Ok(false) };
        self.forget(Some(&old), &state);
        drop(state);
        self.shared.add_bytes(-(bytes as isize));
        Ok(true)
    }

    /// The field names of `id`, in insertion order.
    pub fn keys(&self, id: ObjId) -> Result<Vec<String>> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        Ok(guard.as_ref().expect("lock_if checked").fields.iter().map(|(k, _)| k.to_string()).collect())
    }

    fn add_root(&self, slot: &Slot, id: ObjId, state: &PhaseState) {
        // Relaxed: the count publishes no other data. The root scan reads
        // it with Relaxed too (`Marker::scan_roots`): a change made before
        // the `Snapshot` pause is ordered before the scan by the phase lock
        // (this operation holds it for reading), and a change made while
        // barriers are on shades the object below, which is what makes it
        // count for this cycle.
        slot.roots.fetch_add(1, Ordering::Relaxed);
        if state.phase.barriers_on() {
            self.shared.shade(id.index(), state.epoch);
        }
    }

    fn drop_root(&self, id: ObjId, state: &PhaseState) -> Result<()> {
        let slot = self.shared.table.live(id).ok_or(Error::Dead(id))?;
        slot.roots
            // Relaxed: as in `add_root`; the phase lock and the barrier
            // below order it against the root scan.
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
            .map_err(|_| Error::NotRooted(id))?;
        // Deletion barrier for roots: the object was reachable at the
        // snapshot through this root, so it must end up marked.
        if state.phase.barriers_on() {
            self.shared.shade(id.index(), state.epoch);
        }
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

    /// A new finalization registry.
    pub fn new_registry(&self) -> u32 {
        self.shared.finalization.lock().new_registry()
    }

    /// Forgets `registry` and every cell in it, fired or not; their held
    /// objects lose the root the cells owned.
    pub fn drop_registry(&self, registry: u32) {
        let state = self.shared.phase.read();
        let cells = self.shared.finalization.lock().drop_registry(registry);
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
                if let Some(mut guard) = slot.lock_if(cell.target) {
                    let weak = guard.as_mut().expect("lock_if checked").weak_mut();
                    weak.stale_cells += 1;
                    if weak.stale_cells >= 8 && weak.stale_cells * 2 >= weak.cells.len() {
                        // Lock order: slot payload, then the finalization
                        // table (nothing takes them the other way round).
                        let table = self.shared.finalization.lock();
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
            let mut table = self.shared.finalization.lock();
            if !table.has_registry(registry) {
                drop(table);
                if let Some(held) = held {
                    let _ = self.drop_root(held, &state);
                }
                return Err(Error::UnknownRegistry(registry));
            }
            table.insert(Cell { registry, target, held, fired: false, delivering: false, cancelled: false, pos: 0 })
        };
        match target_slot.lock_if(target) {
            Some(mut guard) => {
                guard.as_mut().expect("lock_if checked").weak_mut().cells.push(id);
                Ok(id)
            }
            None => {
                // The target was live a moment ago and the caller must hold
                // it; this only happens to embedders that break that rule.
                self.shared.finalization.lock().remove(id);
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
            let mut table = self.shared.finalization.lock();
            cells.into_iter().filter_map(|(registry, id)| Some((id, table.remove_of(registry, id)?))).collect()
        };
        let n = removed.len();
        self.release_cells(removed, &state);
        n
    }

    /// First step of a delivery batch: appends the fired cells not yet
    /// handed out to `out`. They stay registered (each still owning its
    /// held object's root) until [`Store::finish_delivery`], so that
    /// callbacks of the batch can still unregister them, and their ids are
    /// not reused meanwhile.
    pub fn begin_delivery(&self, out: &mut Vec<Fired>) {
        self.shared.finalization.lock().begin_delivery(out);
    }

    /// Second step: removes the batch's cells (those not unregistered or
    /// dropped meanwhile) and drops their held objects' roots. A caller that
    /// wants a held object must root it itself before this.
    pub fn finish_delivery(&self, cells: impl IntoIterator<Item = u32>) {
        let state = self.shared.phase.read();
        let removed: Vec<(u32, Removed)> = {
            let mut table = self.shared.finalization.lock();
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

    /// Asks for a full cycle without waiting; returns its number, to pass
    /// to [`Store::completed`] or [`Store::wait_for`].
    pub fn request_collection(&self) -> u64 {
        scheduler::request(&self.shared, true)
    }

    /// Number of the last completed cycle.
    pub fn completed(&self) -> u64 {
        self.shared.schedule.lock().completed
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
        self.shared.last_cycle.lock().clone()
    }

    /// The figures of the finished cycles numbered above `cycle`, oldest
    /// first: at most the last [`crate::stats::CYCLE_HISTORY`].
    pub fn cycles_after(&self, cycle: u64) -> Vec<CycleStats> {
        self.shared.history.lock().iter().filter(|c| c.cycle > cycle).cloned().collect()
    }

    /// Totals at this instant.
    pub fn stats(&self) -> Stats {
        let (collections, failed_cycles) = {
            let schedule = self.shared.schedule.lock();
            (schedule.completed, schedule.failed)
        };
        let phase = self.shared.phase.read().phase;
        let finalization = self.shared.finalization.lock();
        // Relaxed loads below: statistics, each exact on its own; they are
        // not a consistent snapshot of one another.
        Stats {
            objects: self.shared.objects.load(Ordering::Relaxed),
            bytes: self.shared.bytes.load(Ordering::Relaxed),
            collections,
            allocated_since_cycle: self.shared.allocated.load(Ordering::Relaxed),
            next_cycle_at: self.shared.trigger.load(Ordering::Relaxed),
            finalization_cells: finalization.live_cells(),
            pending_finalizations: finalization.pending(),
            ephemeron_tables: self.shared.ephemeron_tables.load(Ordering::Relaxed),
            ephemeron_entries: self.shared.ephemeron_entries.load(Ordering::Relaxed),
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

impl Store {
    /// Stops the collector and waits for its thread to end (a cycle in
    /// flight is finished first), then drops the store and its objects.
    /// Unlike a plain drop, no collector thread of this store is left
    /// running when `close` returns.
    pub fn close(mut self) {
        scheduler::shutdown(&self.shared);
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        scheduler::shutdown(&self.shared);
        // Detach: a cycle in flight finishes on its own thread with its own
        // reference to the shared state; the dropping thread never waits.
        #[cfg(not(loom))]
        drop(self.collector.take());
        // Loom models must end every thread they start.
        #[cfg(loom)]
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
    }
}
