//! The mutators' barriers, and the buffer that hands what they shade to
//! the marker.
//!
//! The collector is snapshot-at-the-beginning: everything reachable when
//! `Snapshot` ran survives the cycle. While [`Phase::barriers_on`] holds,
//! each mutator operation calls the barrier named for what it does:
//!
//! - [`insertion`]: a reference is being stored (field write, ephemeron
//!   value); shades the new target.
//! - [`deletion`]: a reference is being overwritten or deleted; shades the
//!   old target.
//! - [`root_added`] / [`root_dropped`]: a root count goes up or down;
//!   shades the object (a `deref` during marking keeps its target; a root
//!   that held an object at the snapshot still counts).
//!
//! Field writes cannot skip them: a field takes only an [`Admitted`]
//! value, which [`admit`] makes after the liveness check and the insertion
//! barrier, and what leaves a field comes back as [`Removed`], which must
//! be passed through [`Removed::barrier`] (the deletion barrier) to be
//! used or dropped (`#[must_use]`, an error under the project's lints; a
//! debug build also checks on drop).
//!
//! Allocation is black (the new object carries the current epoch), which
//! needs no barrier call. "Shade" marks the slot (one atomic swap decides
//! who traces it) and pushes it to the buffer, which marking workers drain
//! when they run dry and `FinishMarking` drains under the phase write lock.
//!
//! # Invariants
//! - Every barrier is called with the phase lock held for reading, so it
//!   runs entirely inside one phase; with barriers off it does nothing.
//! - An index is in the buffer only if this cycle's `try_mark` of it
//!   succeeded in `shade`: each shaded object is traced exactly once.
//! - `pending` is true whenever the buffer is non-empty (it may also be
//!   true when the buffer is empty: it is a hint).
//!
//! [`Phase::barriers_on`]: crate::Phase::barriers_on

use crate::collector::phase::PhaseState;
use crate::error::{Error, Result};
use crate::heap::table::Table;
use crate::id::ObjId;
use crate::shared::Shared;
use crate::sync::{AtomicBool, Mutex, Ordering};
use crate::value::Value;

/// A field value that may be stored now: its reference, if any, names a
/// live object the mutator may see in this phase, and the insertion
/// barrier has run on it. Only [`admit`] makes one (and tests, for objects
/// outside any store).
pub(crate) struct Admitted(Value);

impl Admitted {
    /// The value, for storing.
    #[inline]
    pub(crate) fn into_inner(self) -> Value {
        self.0
    }

    /// A value for an object no collector sees (heap unit tests).
    #[cfg(test)]
    pub(crate) fn unchecked(value: Value) -> Admitted {
        Admitted(value)
    }
}

impl std::ops::Deref for Admitted {
    type Target = Value;
    #[inline]
    fn deref(&self) -> &Value {
        &self.0
    }
}

/// Checks that `value`'s reference (if any) may be stored now (alive and
/// visible) and runs the insertion barrier on it.
#[inline]
pub(crate) fn admit(shared: &Shared, value: Value, state: &PhaseState) -> Result<Admitted> {
    if let Some(target) = value.as_ref() {
        shared.table.live(target).filter(|slot| state.sees(slot)).ok_or(Error::Dead(target))?;
        insertion(shared, target, state);
    }
    Ok(Admitted(value))
}

/// A value that left a field (overwritten or deleted). Its reference must
/// get the deletion barrier: [`Removed::barrier`] runs it and gives the
/// value back.
#[must_use = "a value that leaves a field needs the deletion barrier: call Removed::barrier"]
pub(crate) struct Removed(Value);

impl Removed {
    /// What left the field (the heap makes these).
    #[inline]
    pub(crate) fn new(value: Value) -> Removed {
        Removed(value)
    }

    /// Runs the deletion barrier on the value's reference, if any.
    #[inline]
    pub(crate) fn barrier(mut self, shared: &Shared, state: &PhaseState) -> Value {
        if let Some(old) = self.0.as_ref() {
            deletion(shared, old, state);
        }
        std::mem::replace(&mut self.0, Value::Null)
    }

    /// The value of an object no collector sees (heap unit tests).
    #[cfg(test)]
    pub(crate) fn unchecked(mut self) -> Value {
        std::mem::replace(&mut self.0, Value::Null)
    }
}

/// `#[must_use]` catches a `Removed` dropped where it is made, not one
/// bound to a name first: debug builds (every test) also check on drop
/// that no reference leaves without its barrier.
impl Drop for Removed {
    fn drop(&mut self) {
        debug_assert!(self.0.as_ref().is_none(), "a reference left a field without the deletion barrier");
    }
}

/// Objects mutators shaded while barriers were on: gray work for the
/// marker.
pub(crate) struct Barrier {
    buffer: Mutex<Vec<u32>>,
    /// `buffer` is non-empty (a hint; the buffer itself is the truth).
    pending: AtomicBool,
}

impl Barrier {
    pub(crate) fn new() -> Barrier {
        Barrier { buffer: Mutex::new(Vec::new()), pending: AtomicBool::new(false) }
    }

    /// Marks `index` and queues it for tracing, if this call marked it.
    fn shade(&self, table: &Table, index: u32, epoch: u32) {
        let Some(slot) = table.slot(index) else { return };
        if slot.try_mark(epoch) {
            self.buffer.lock().push(index);
            // Release; pairs with the Acquire in `take`.
            self.pending.store(true, Ordering::Release);
        }
    }

    /// For a marking worker that ran dry: moves the shaded objects onto
    /// `local` (which is empty); whether there were any.
    pub(crate) fn take(&self, local: &mut Vec<u32>) -> bool {
        // Acquire; pairs with the Release in `shade`.
        if !self.pending.load(Ordering::Acquire) {
            return false;
        }
        let mut buffer = self.buffer.lock();
        // Relaxed: written under the buffer's mutex, which orders it with
        // `shade`'s push and store.
        self.pending.store(false, Ordering::Relaxed);
        if buffer.is_empty() {
            return false;
        }
        std::mem::swap(local, &mut *buffer);
        true
    }

    /// For `FinishMarking`, under the phase write lock: everything shaded
    /// since the last drain.
    pub(crate) fn drain(&self) -> Vec<u32> {
        std::mem::take(&mut *self.buffer.lock())
    }
}

#[inline]
fn shade_if_on(shared: &Shared, id: ObjId, state: &PhaseState) {
    if state.phase.barriers_on() {
        shared.barrier.shade(&shared.table, id.index(), state.epoch);
    }
}

/// Insertion barrier: a reference to `target` is being stored.
#[inline]
pub(crate) fn insertion(shared: &Shared, target: ObjId, state: &PhaseState) {
    shade_if_on(shared, target, state);
}

/// Deletion barrier: a reference to `old` is being overwritten or deleted.
#[inline]
pub(crate) fn deletion(shared: &Shared, old: ObjId, state: &PhaseState) {
    shade_if_on(shared, old, state);
}

/// Root barrier: `id` gained a root.
#[inline]
pub(crate) fn root_added(shared: &Shared, id: ObjId, state: &PhaseState) {
    shade_if_on(shared, id, state);
}

/// Root barrier (the deletion barrier for roots): `id` lost a root. It was
/// reachable at the snapshot through this root, so it must end up marked.
#[inline]
pub(crate) fn root_dropped(shared: &Shared, id: ObjId, state: &PhaseState) {
    shade_if_on(shared, id, state);
}
