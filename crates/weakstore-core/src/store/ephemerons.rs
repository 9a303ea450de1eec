//! The mutator's side of ephemeron tables (`WeakMap` / `WeakSet`).
//!
//! Each operation locks the key's payload, where the key's entries live
//! (see [`crate::weak::ephemeron`]), under the phase lock like every other
//! mutator operation, with the same barriers: a stored `Ref` value is
//! shaded while marking (so an entry set during marking cannot lose its
//! value), a replaced or deleted one too.

use crate::collector::barrier::{self, Removed};
use crate::error::{Error, Result};
use crate::heap::object::entry_bytes;
use crate::id::ObjId;
use crate::store::Store;
use crate::sync::{Arc, Ordering};
use crate::weak::ephemeron::{Entry, EphemeronTable, EphemeronValue};

impl Store {
    /// A new, empty ephemeron table.
    pub fn new_ephemeron_table(&self) -> Arc<EphemeronTable> {
        // Relaxed: a unique number (the RMW's atomicity) and statistics.
        let id = self.shared.weak.next_table.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.shared.weak.ephemeron_tables.fetch_add(1, Ordering::Relaxed);
        EphemeronTable::new(id)
    }

    /// Drops `table`: its entries stop keeping values alive at once and are
    /// purged lazily. Idempotent.
    pub fn drop_ephemeron_table(&self, table: &EphemeronTable) {
        if table.is_alive() {
            table.kill();
            // Relaxed: statistics.
            self.shared.weak.ephemeron_tables.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Maps `key` to `value` in `table` (replacing any previous value).
    pub fn ephemeron_set(&self, table: &Arc<EphemeronTable>, key: ObjId, value: EphemeronValue) -> Result<()> {
        let added = entry_bytes(&value);
        self.make_room(added);
        let state = self.shared.phase.read();
        // The entry's value is traced like a field: the same barriers.
        let value = match value {
            EphemeronValue::Field(v) => EphemeronValue::Field(barrier::admit(&self.shared, v, &state)?.into_inner()),
            external => external,
        };
        let slot = self.live_slot(key, &state)?;
        let mut object = slot.lock_live(key).ok_or(Error::Dead(key))?;
        let at = Entry::position(object.entries(), table);
        let removed = at.map_or(0, |at| entry_bytes(&object.entries()[at].value));
        if added > removed {
            // Charged before the entry changes: a refusal changes nothing.
            self.shared.charge(added - removed)?;
        }
        let entries = &mut object.side_mut().entries;
        let old = match at {
            Some(at) => Some(std::mem::replace(&mut entries[at].value, value)),
            None => {
                entries.push(Entry { table: Arc::clone(table), value });
                None
            }
        };
        drop(object);
        let replaced = old.is_some();
        if let Some(EphemeronValue::Field(old)) = old {
            drop(Removed::new(old).barrier(&self.shared, &state));
        }
        drop(state);
        if !replaced {
            // Relaxed: statistics.
            self.shared.weak.ephemeron_entries.fetch_add(1, Ordering::Relaxed);
        }
        if removed > added {
            self.shared.add_bytes(-((removed - added) as isize));
        }
        Ok(())
    }

    /// Runs `f` on `key`'s value in `table` (`None` if absent, if the table
    /// was dropped, or if the key is dead).
    pub fn ephemeron_with<R>(
        &self,
        table: &Arc<EphemeronTable>,
        key: ObjId,
        f: impl FnOnce(Option<&EphemeronValue>) -> R,
    ) -> R {
        let state = self.shared.phase.read();
        let Ok(slot) = self.live_slot(key, &state) else { return f(None) };
        let Some(object) = slot.lock_live(key) else { return f(None) };
        f(Entry::of(object.entries(), table).filter(|e| e.table.is_alive()).map(|e| &e.value))
    }

    /// A copy of `key`'s value in `table`; `Ref`s come without a root.
    pub fn ephemeron_get(&self, table: &Arc<EphemeronTable>, key: ObjId) -> Option<EphemeronValue> {
        self.ephemeron_with(table, key, |v| v.cloned())
    }

    /// Whether `table` has an entry for `key`.
    pub fn ephemeron_has(&self, table: &Arc<EphemeronTable>, key: ObjId) -> bool {
        self.ephemeron_with(table, key, |v| v.is_some())
    }

    /// Removes `key`'s entry from `table`; whether there was one.
    pub fn ephemeron_delete(&self, table: &Arc<EphemeronTable>, key: ObjId) -> bool {
        let state = self.shared.phase.read();
        let Ok(slot) = self.live_slot(key, &state) else { return false };
        let Some(mut object) = slot.lock_live(key) else { return false };
        let Some(weak) = object.side.as_mut() else { return false };
        let Some(at) = Entry::position(&weak.entries, table) else { return false };
        let entry = weak.entries.swap_remove(at);
        let removed = entry_bytes(&entry.value);
        drop(object);
        if let EphemeronValue::Field(old) = entry.value {
            drop(Removed::new(old).barrier(&self.shared, &state));
        }
        drop(state);
        // Relaxed: statistics.
        self.shared.weak.ephemeron_entries.fetch_sub(1, Ordering::Relaxed);
        self.shared.add_bytes(-(removed as isize));
        table.is_alive()
    }

    /// Moves the `(table, key)` pairs of freed keys whose entries had
    /// [`EphemeronValue::External`] values to `out`.
    pub fn take_dead_external(&self, out: &mut Vec<(u32, ObjId)>) {
        out.append(&mut self.shared.weak.dead_external.lock());
    }
}
