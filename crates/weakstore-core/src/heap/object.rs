//! The payload of one live slot: named fields, the finalization cells that
//! target it, and the ephemeron entries it is the key of.
//!
//! Objects are small maps from string keys to [`Value`]s kept in insertion
//! order (so `keys()` reads like `Object.keys` of a plain object). They are
//! only ever touched under their slot's mutex.
//!
//! The header is two pointers (16 bytes, inline in the object's slot): the
//! fields live in a thin vector, whose length and capacity sit in its own
//! allocation (none while the object has no field), and the weak side in
//! an optional box. An object's byte count is not stored: every mutation
//! returns how much it changed [`Object::measure`], and the sweeper measures
//! what it frees.
//!
//! # Invariants
//! - The store's live-byte total is the sum of [`Object::measure`] over
//!   live objects: every mutation reports its change to it.
//! - `cells` lists the finalization cells whose target is this object; the
//!   finalization table lists the same cells with this object as target.
//! - `entries` holds the ephemeron entries keyed by this object, at most one
//!   per table (see `weak::ephemeron`).
//! - Both live behind one optional box (`weak`), so an object that is
//!   nobody's target or key pays one pointer for them.

use thin_vec::ThinVec;

use crate::value::Value;
use crate::weak::ephemeron::{Entry, EphemeronValue};

/// Fixed cost charged per object on top of its fields: its slot, which
/// holds the object header inline.
pub(crate) const OBJECT_OVERHEAD: usize = std::mem::size_of::<crate::heap::table::Slot>();
const FIELD_OVERHEAD: usize = std::mem::size_of::<(Box<str>, Value)>();
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Entry>();

/// What one ephemeron entry with `value` adds to its key's byte count.
pub(crate) fn entry_bytes(value: &EphemeronValue) -> usize {
    ENTRY_OVERHEAD
        + match value {
            EphemeronValue::Field(v) => v.heap_bytes(),
            EphemeronValue::External => 0,
        }
}

pub(crate) struct Object {
    pub(crate) fields: ThinVec<(Box<str>, Value)>,
    pub(crate) weak: Option<Box<WeakSide>>,
}

/// What weak structures attach to an object.
#[derive(Default)]
pub(crate) struct WeakSide {
    /// Finalization cells targeting this object, possibly with some that
    /// were unregistered since (`stale_cells` counts them).
    pub(crate) cells: Vec<u32>,
    pub(crate) stale_cells: usize,
    pub(crate) entries: Vec<Entry>,
}

impl Object {
    pub(crate) fn new(fields: Vec<(Box<str>, Value)>) -> Object {
        // Later duplicates win, as in an object literal.
        let mut object = Object { fields: ThinVec::with_capacity(fields.len()), weak: None };
        for (key, value) in fields {
            if let Some((_, slot)) = object.fields.iter_mut().find(|(k, _)| *k == key) {
                *slot = value;
            } else {
                object.fields.push((key, value));
            }
        }
        object
    }

    /// The bytes this object accounts for: its slot, its fields and the
    /// ephemeron entries it is the key of.
    pub(crate) fn measure(&self) -> usize {
        OBJECT_OVERHEAD
            + self.fields.iter().map(|(k, v)| FIELD_OVERHEAD + k.len() + v.heap_bytes()).sum::<usize>()
            + self.entries().iter().map(|e| entry_bytes(&e.value)).sum::<usize>()
    }

    /// The weak side, created on first use.
    pub(crate) fn weak_mut(&mut self) -> &mut WeakSide {
        self.weak.get_or_insert_with(Default::default)
    }

    /// Ephemeron entries keyed by this object.
    pub(crate) fn entries(&self) -> &[Entry] {
        self.weak.as_ref().map_or(&[], |w| &w.entries)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    /// The change in [`Object::measure`] that `insert(key, value)` would
    /// make.
    pub(crate) fn insert_cost(&self, key: &str, value: &Value) -> isize {
        let added = value.heap_bytes() as isize;
        match self.get(key) {
            Some(old) => added - old.heap_bytes() as isize,
            None => (FIELD_OVERHEAD + key.len()) as isize + added,
        }
    }

    /// The most [`Object::measure`] can grow by setting `key` to `value`.
    pub(crate) fn insert_bound(key: &str, value: &Value) -> usize {
        FIELD_OVERHEAD + key.len() + value.heap_bytes()
    }

    /// Sets `key`, returning the value it replaces and the change in
    /// [`Object::measure`]. The key is only allocated when the field is new.
    pub(crate) fn insert(&mut self, key: &str, value: Value) -> (Option<Value>, isize) {
        let added = value.heap_bytes() as isize;
        if let Some((_, slot)) = self.fields.iter_mut().find(|(k, _)| &**k == key) {
            let old = std::mem::replace(slot, value);
            let removed = old.heap_bytes() as isize;
            (Some(old), added - removed)
        } else {
            self.fields.push((key.into(), value));
            (None, (FIELD_OVERHEAD + key.len()) as isize + added)
        }
    }

    /// Removes `key`, keeping the order of the others; returns its value
    /// and the bytes [`Object::measure`] lost.
    pub(crate) fn remove(&mut self, key: &str) -> Option<(Value, usize)> {
        let at = self.fields.iter().position(|(k, _)| &**k == key)?;
        let (k, v) = self.fields.remove(at);
        let removed = FIELD_OVERHEAD + k.len() + v.heap_bytes();
        Some((v, removed))
    }
}
