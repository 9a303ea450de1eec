//! Objects and their fields: allocate, read, write, delete, list.
//!
//! A field is named by its string or by its [`KeyId`] (see `heap::keys`):
//! every operation takes either ([`FieldKey`]). An embedder that caches a
//! key's id ([`Store::key_id`]) reads a shaped object's field without
//! hashing the string.
//!
//! # Invariants
//! - A write checks its new reference with `barrier::admit` (alive,
//!   visible, insertion barrier) before it changes anything, and runs the
//!   deletion barrier on the reference it replaces or removes: the types
//!   see to both (`Object::insert` takes only an `Admitted` value, what
//!   leaves a field is a `#[must_use]` `Removed`).
//! - `Shared::bytes` changes by exactly what `Object::insert` / `remove`
//!   report, so it stays the sum of live objects' `measure`. Growth is
//!   charged (`Shared::charge`, the store's cap) before the object changes,
//!   so a refused write leaves the object as it was.

use crate::collector::{barrier, scheduler};
use crate::error::{Error, Result};
use crate::heap::keys::KeyId;
use crate::heap::object::{Key, Object, OBJECT_OVERHEAD};
use crate::id::ObjId;
use crate::store::Store;
use crate::sync::Ordering;
use crate::value::Value;

/// What names a field in the [`Store`]'s field operations: a string
/// (`&str`, `&String`) or a [`KeyId`].
pub trait FieldKey<'a>: Copy {
    /// The key as the heap takes it.
    #[doc(hidden)]
    fn resolve(self, store: &Store) -> Key<'a>;
}

impl<'a> FieldKey<'a> for &'a str {
    #[inline]
    fn resolve(self, store: &Store) -> Key<'a> {
        Key::Name(self, store.shared.shapes.keys.find(self))
    }
}

impl<'a> FieldKey<'a> for &'a String {
    #[inline]
    fn resolve(self, store: &Store) -> Key<'a> {
        self.as_str().resolve(store)
    }
}

impl<'a> FieldKey<'a> for KeyId {
    #[inline]
    fn resolve(self, _: &Store) -> Key<'a> {
        Key::Id(self)
    }
}

impl Store {
    /// Allocates an object with `fields`; the id comes with one root.
    pub fn alloc(&self, fields: Vec<(Box<str>, Value)>) -> Result<ObjId> {
        if self.shared.capped() {
            let bound = fields.iter().map(|(k, v)| Object::insert_bound(k.len(), v)).sum::<usize>();
            self.make_room(OBJECT_OVERHEAD + bound);
        }
        let state = self.shared.phase.read();
        let fields = fields
            .into_iter()
            .map(|(k, v)| Ok((k, barrier::admit(&self.shared, v, &state)?)))
            .collect::<Result<Vec<_>>>()?;
        let object = Object::with_fields(&self.shared.shapes, fields);
        let bytes = object.measure();
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

    /// The id of field name `name` in this store, if any object was ever
    /// given a field of that name in shaped mode. Ids never change while
    /// the store lives; a name without one is on no shaped object.
    pub fn key_id(&self, name: &str) -> Option<KeyId> {
        self.shared.shapes.keys.find(name)
    }

    /// Sets field `key` of `id`.
    pub fn set<'k>(&self, id: ObjId, key: impl FieldKey<'k>, value: Value) -> Result<()> {
        self.set_key(id, key.resolve(self), value)
    }

    fn set_key(&self, id: ObjId, key: Key<'_>, value: Value) -> Result<()> {
        let shapes = &self.shared.shapes;
        if let Key::Id(k) = key {
            // Reads ignore an unknown id (no field has it); a write would
            // put it in a shape.
            if !shapes.keys.knows(k) {
                return Err(Error::UnknownKey(k.index()));
            }
        }
        if self.shared.capped() {
            let key_len = match key {
                Key::Name(name, _) => name.len(),
                Key::Id(_) => 0, // an interned name is accounted with the shapes
            };
            self.make_room(Object::insert_bound(key_len, &value));
        }
        let state = self.shared.phase.read();
        let value = barrier::admit(&self.shared, value, &state)?;
        let slot = self.live_slot(id, &state)?;
        let mut object = slot.lock_live(id).ok_or(Error::Dead(id))?;
        // With a cap, growth is charged before the object changes (a
        // refusal changes nothing); without one, the change is counted
        // after, saving a second search for the key.
        let charged = if self.shared.capped() {
            let cost = object.insert_cost(shapes, key, &value);
            if cost > 0 {
                self.shared.charge(cost as usize)?;
            }
            cost.max(0)
        } else {
            0
        };
        let (old, delta) = object.insert(shapes, key, value);
        drop(object);
        drop(old.map(|old| old.barrier(&self.shared, &state)));
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
    pub fn with_field<'k, R>(
        &self,
        id: ObjId,
        key: impl FieldKey<'k>,
        f: impl FnOnce(Option<&Value>) -> R,
    ) -> Result<R> {
        self.read_field(id, key, false, f)
    }

    /// A copy of field `key`; `Ref` ids come without a root (see module
    /// docs).
    pub fn get<'k>(&self, id: ObjId, key: impl FieldKey<'k>) -> Result<Option<Value>> {
        self.with_field(id, key, |v| v.map(Value::try_clone).transpose())?
    }

    /// A copy of field `key`; a `Ref` comes with a root owned by the caller.
    pub fn get_rooted<'k>(&self, id: ObjId, key: impl FieldKey<'k>) -> Result<Option<Value>> {
        self.with_field_rooted(id, key, |v| v.map(Value::try_clone).transpose())?
    }

    /// Runs `f` on field `key` of `id` as [`Store::with_field`] does; if the
    /// field is a `Ref`, its object gets a root owned by the caller first.
    pub fn with_field_rooted<'k, R>(
        &self,
        id: ObjId,
        key: impl FieldKey<'k>,
        f: impl FnOnce(Option<&Value>) -> R,
    ) -> Result<R> {
        self.read_field(id, key, true, f)
    }

    /// [`Store::with_field`], and with `root` [`Store::with_field_rooted`].
    fn read_field<'k, R>(
        &self,
        id: ObjId,
        key: impl FieldKey<'k>,
        root: bool,
        f: impl FnOnce(Option<&Value>) -> R,
    ) -> Result<R> {
        let key = key.resolve(self);
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let object = slot.lock_live(id).ok_or(Error::Dead(id))?;
        let value = object.get(&self.shared.shapes, key);
        if let Some(child) = value.and_then(Value::as_ref).filter(|_| root) {
            // The edge is still in place (we hold the parent's lock), so the
            // child is alive and, after marking, marked.
            let child_slot = self.shared.table.live(child).ok_or(Error::Dead(child))?;
            self.add_root(child_slot, child, &state);
        }
        Ok(f(value))
    }

    /// Whether `id` has field `key`.
    pub fn has<'k>(&self, id: ObjId, key: impl FieldKey<'k>) -> Result<bool> {
        self.with_field(id, key, |v| v.is_some())
    }

    /// Removes field `key`; whether it existed.
    pub fn delete<'k>(&self, id: ObjId, key: impl FieldKey<'k>) -> Result<bool> {
        let key = key.resolve(self);
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let mut object = slot.lock_live(id).ok_or(Error::Dead(id))?;
        let removed = object.remove(&self.shared.shapes, key);
        drop(object);
        let Some((old, delta)) = removed else { return Ok(false) };
        drop(old.barrier(&self.shared, &state));
        drop(state);
        self.shared.add_bytes(delta);
        Ok(true)
    }

    /// The field names of `id`, in insertion order.
    pub fn keys(&self, id: ObjId) -> Result<Vec<String>> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let object = slot.lock_live(id).ok_or(Error::Dead(id))?;
        Ok(object.keys(&self.shared.shapes))
    }

    /// The number of fields of `id`.
    pub fn field_count(&self, id: ObjId) -> Result<usize> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        let object = slot.lock_live(id).ok_or(Error::Dead(id))?;
        Ok(object.len())
    }
}
