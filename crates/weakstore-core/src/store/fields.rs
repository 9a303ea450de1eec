//! Objects and their fields: allocate, read, write, delete, list.
//!
//! # Invariants
//! - A write checks its new reference with `Store::admit` (alive, visible,
//!   insertion barrier) before it changes anything, and runs the deletion
//!   barrier on the reference it replaces or removes.
//! - `Shared::bytes` changes by exactly what `Object::insert` / `remove`
//!   report, so it stays the sum of live objects' `measure`. Growth is
//!   charged (`Shared::charge`, the store's cap) before the object changes,
//!   so a refused write leaves the object as it was.

use crate::collector::scheduler;
use crate::error::{Error, Result};
use crate::heap::object::Object;
use crate::id::ObjId;
use crate::store::Store;
use crate::sync::Ordering;
use crate::value::Value;

impl Store {
    /// Allocates an object with `fields`; the id comes with one root.
    pub fn alloc(&self, fields: Vec<(Box<str>, Value)>) -> Result<ObjId> {
        let object = Object::new(fields);
        let bytes = object.measure();
        self.make_room(bytes);
        let state = self.shared.phase.read();
        for (_, value) in &object.fields {
            self.admit(value, &state)?;
        }
        self.shared.charge(bytes)?;
        let index = self.shared.table.reserve();
        // Black allocation: the new object carries the current epoch, so
        // neither this cycle's sweep nor its marker needs to visit it.
        let id = self.shared.table.publish(index, object, state.epoch, 1);
        drop(state);
        // Relaxed: statistics (see `Shared::objects`).
        self.shared.objects.fetch_add(1, Ordering::Relaxed);
        scheduler::on_allocate(&self.shared, bytes);
        Ok(id)
    }

    /// Sets field `key` of `id`.
    pub fn set(&self, id: ObjId, key: &str, value: Value) -> Result<()> {
        self.make_room(Object::insert_bound(key, &value));
        let state = self.shared.phase.read();
        self.admit(&value, &state)?;
        let slot = self.live_slot(id, &state)?;
        let mut guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        let object = guard.as_mut().expect("lock_if checked");
        // With a cap, growth is charged before the object changes (a
        // refusal changes nothing); without one, the change is counted
        // after, saving a second search for the key.
        let charged = if self.shared.capped() {
            let cost = object.insert_cost(key, &value);
            if cost > 0 {
                self.shared.charge(cost as usize)?;
            }
            cost.max(0)
        } else {
            0
        };
        let (old, delta) = object.insert(key, value);
        drop(guard);
        self.overwritten(old.as_ref(), &state);
        drop(state);
        if delta != charged {
            self.shared.add_bytes(delta - charged);
        }
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
        self.with_field(id, key, |v| v.map(Value::try_clone).transpose())?
    }

    /// A copy of field `key`; a `Ref` comes with a root owned by the caller.
    pub fn get_rooted(&self, id: ObjId, key: &str) -> Result<Option<Value>> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let guard = slot.lock_if(id).ok_or(Error::Dead(id))?;
        let value = guard.as_ref().expect("lock_if checked").get(key).map(Value::try_clone).transpose()?;
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
        self.overwritten(Some(&old), &state);
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
}
