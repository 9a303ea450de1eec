//! The payload of one live slot: its fields, the finalization cells that
//! target it, and the ephemeron entries it is the key of.
//!
//! Fields are kept in one of two modes, in insertion order either way (so
//! `keys()` reads like `Object.keys` of a plain object):
//! - shaped: a shared [`Shape`] (the key list, `heap::shape`) and a flat
//!   vector of 16-byte values, one per key: no key is stored in the
//!   object;
//! - dictionary: the object's own hashed table (`heap::dict`), for
//!   objects with very many keys, deleted keys, or past the shape cap.
//!
//! Objects are only ever touched under their slot's lock. The header,
//! inline in the slot, is two words: the shaped fields (`heap::values`:
//! one pointer to the shape and the values) and an optional box for what
//! is rare (the weak side, and the fields in dictionary mode). An object's byte
//! count is not stored: every mutation returns how much it changed
//! [`Object::measure`], and the sweeper measures what it frees.
//!
//! # Invariants
//! - Shaped: `values.len() == shape.len()`, value `i` is key `i`'s.
//! - Dictionary mode: `side.dict` is `Some` and `values` empty.
//! - The store's live-byte total is the sum of [`Object::measure`] over
//!   live objects: every mutation reports its change to it.
//! - `cells` lists the finalization cells whose target is this object; the
//!   finalization table lists the same cells with this object as target.
//! - `entries` holds the ephemeron entries keyed by this object, at most one
//!   per table (see `weak::ephemeron`).
//! - Both live behind one optional box (`weak`), so an object that is
//!   nobody's target or key pays one pointer for them.

use crate::collector::barrier::{Admitted, Removed};
use crate::heap::dict::Dict;
use crate::heap::keys::KeyId;
use crate::heap::shape::Shapes;
use crate::heap::values::Values;
use crate::value::{Str, Value};
use crate::weak::ephemeron::{Entry, EphemeronValue};

/// Fixed cost charged per object on top of its fields: its slot, which
/// holds the object header inline.
pub(crate) const OBJECT_OVERHEAD: usize = std::mem::size_of::<crate::heap::table::Slot>();
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Entry>();
/// The most one new field adds to an object beyond its value's own bytes
/// (a dictionary entry and its share of the index, or a grown value
/// vector); a cap check's bound (see [`Object::insert_bound`]).
const FIELD_BOUND: usize = 64;

/// What one ephemeron entry with `value` adds to its key's byte count.
pub(crate) fn entry_bytes(value: &EphemeronValue) -> usize {
    ENTRY_OVERHEAD
        + match value {
            EphemeronValue::Field(v) => v.heap_bytes(),
            EphemeronValue::External => 0,
        }
}

/// A field name as the store received it: a string (with its key id, if
/// some shape interned it: otherwise no shaped object has it), or an id.
#[derive(Copy, Clone)]
pub enum Key<'a> {
    /// A name, with its id if it has one.
    Name(&'a str, Option<KeyId>),
    /// An interned name's id.
    Id(KeyId),
}

/// The fields, as one of the two modes (see the module docs).
enum Fields<'a> {
    Shaped(&'a Values),
    Dict(&'a Dict),
}

pub(crate) struct Object {
    /// The shape and one value per key of it (none in dictionary mode).
    values: Values,
    /// What is rare enough to live out of line: the weak side and the
    /// dictionary.
    pub(crate) side: Option<Box<Side>>,
}

/// What an object holds out of line: weak structures that attach to it,
/// and its fields in dictionary mode.
#[derive(Default)]
pub(crate) struct Side {
    /// Finalization cells targeting this object, possibly with some that
    /// were unregistered since (`stale_cells` counts them).
    pub(crate) cells: Vec<u32>,
    pub(crate) stale_cells: usize,
    pub(crate) entries: Vec<Entry>,
    /// The fields, in dictionary mode; `None` in shaped mode. Boxed, so
    /// that a side box made for the weak side alone stays small.
    dict: Option<Box<Dict>>,
}

impl Object {
    /// An object without fields (the empty shape, no allocation).
    pub(crate) fn new() -> Object {
        Object { values: Values::new(), side: None }
    }

    /// An object with `fields`; later duplicates win, as in an object
    /// literal.
    pub(crate) fn with_fields(shapes: &Shapes, fields: Vec<(Box<str>, Admitted)>) -> Object {
        let mut object = Object::new();
        for (name, value) in fields {
            let key = Key::Name(&name, shapes.keys.find(&name));
            // A duplicate name's earlier value: no barrier needed, the
            // object is not published yet, so no marker has seen it.
            let (_old, _) = object.insert(shapes, key, value);
        }
        object
    }

    /// The bytes this object accounts for: its slot, its fields and the
    /// ephemeron entries it is the key of.
    pub(crate) fn measure(&self) -> usize {
        let fields = match self.fields() {
            Fields::Shaped(values) => {
                values.heap_bytes() + values.as_slice().iter().map(Value::heap_bytes).sum::<usize>()
            }
            Fields::Dict(d) => {
                d.container_bytes() + d.iter().map(|(k, v)| k.heap_bytes() + v.heap_bytes()).sum::<usize>()
            }
        };
        OBJECT_OVERHEAD + fields + self.entries().iter().map(|e| entry_bytes(&e.value)).sum::<usize>()
    }

    /// The side box, created on first use.
    pub(crate) fn side_mut(&mut self) -> &mut Side {
        self.side.get_or_insert_with(Default::default)
    }

    /// Ephemeron entries keyed by this object.
    pub(crate) fn entries(&self) -> &[Entry] {
        self.side.as_ref().map_or(&[], |w| &w.entries)
    }

    fn fields(&self) -> Fields<'_> {
        match self.side.as_ref().and_then(|s| s.dict.as_deref()) {
            Some(d) => Fields::Dict(d),
            None => Fields::Shaped(&self.values),
        }
    }

    fn dict_mut(&mut self) -> Option<&mut Dict> {
        self.side.as_mut().and_then(|s| s.dict.as_deref_mut())
    }

    /// Runs `f` on the value of each field.
    #[inline]
    pub(crate) fn for_each_value(&self, mut f: impl FnMut(&Value)) {
        match self.fields() {
            Fields::Shaped(values) => values.as_slice().iter().for_each(f),
            Fields::Dict(d) => d.iter().for_each(|(_, v)| f(v)),
        }
    }

    /// Runs `f` on each field's name and value, in insertion order.
    pub(crate) fn for_each_field(&self, shapes: &Shapes, mut f: impl FnMut(&str, &Value)) {
        match self.fields() {
            Fields::Shaped(values) => shapes.keys.with_names(|names| {
                for (k, v) in values.shape(shapes.root()).keys().iter().zip(values.as_slice()) {
                    f(names[k.index() as usize].as_str(), v)
                }
            }),
            Fields::Dict(d) => d.iter().for_each(|(k, v)| f(k, v)),
        }
    }

    /// The field names, in insertion order.
    pub(crate) fn keys(&self, shapes: &Shapes) -> Vec<String> {
        match self.fields() {
            Fields::Shaped(values) => shapes.keys.names(values.shape(shapes.root()).keys().iter().copied()),
            Fields::Dict(d) => d.iter().map(|(k, _)| k.to_string()).collect(),
        }
    }

    /// The number of fields.
    pub(crate) fn len(&self) -> usize {
        match self.fields() {
            Fields::Shaped(values) => values.len(),
            Fields::Dict(d) => d.len(),
        }
    }

    pub(crate) fn get(&self, shapes: &Shapes, key: Key<'_>) -> Option<&Value> {
        match self.fields() {
            Fields::Shaped(values) => {
                let id = match key {
                    Key::Name(_, id) => id?,
                    Key::Id(id) => id,
                };
                values.shape(shapes.root()).slot(id).map(|i| &values.as_slice()[i])
            }
            Fields::Dict(d) => match key {
                Key::Name(name, _) => d.get(&shapes.hasher, name),
                Key::Id(id) => shapes.keys.with_name(id, |name| name.and_then(|n| d.get(&shapes.hasher, n))),
            },
        }
    }

    fn get_mut(&mut self, shapes: &Shapes, key: Key<'_>) -> Option<&mut Value> {
        if self.dict_mut().is_none() {
            let id = match key {
                Key::Name(_, id) => id?,
                Key::Id(id) => id,
            };
            let slot = self.values.shape(shapes.root()).slot(id)?;
            return Some(&mut self.values.as_mut_slice()[slot]);
        }
        let d = self.dict_mut()?;
        match key {
            Key::Name(name, _) => d.get_mut(&shapes.hasher, name),
            Key::Id(id) => shapes.keys.with_name(id, |name| name.and_then(|n| d.get_mut(&shapes.hasher, n))),
        }
    }

    /// The change in [`Object::measure`] that `insert(key, value)` would
    /// make, or at most that much (a new field's share of its container is
    /// bounded, not computed).
    pub(crate) fn insert_cost(&self, shapes: &Shapes, key: Key<'_>, value: &Value) -> isize {
        let added = value.heap_bytes() as isize;
        match self.get(shapes, key) {
            Some(old) => added - old.heap_bytes() as isize,
            None => Self::insert_bound(key_len(shapes, key), value) as isize,
        }
    }

    /// The most [`Object::measure`] can grow by setting a key of
    /// `key_len` bytes to `value`.
    pub(crate) fn insert_bound(key_len: usize, value: &Value) -> usize {
        FIELD_BOUND + key_len + value.heap_bytes()
    }

    /// Sets `key`, returning the value it replaces and the change in
    /// [`Object::measure`].
    pub(crate) fn insert(&mut self, shapes: &Shapes, key: Key<'_>, value: Admitted) -> (Option<Removed>, isize) {
        self.insert_value(shapes, key, value.into_inner())
    }

    /// `insert` of a value its caller admitted.
    fn insert_value(&mut self, shapes: &Shapes, key: Key<'_>, value: Value) -> (Option<Removed>, isize) {
        let added = value.heap_bytes() as isize;
        if let Some(slot) = self.get_mut(shapes, key) {
            let old = std::mem::replace(slot, value);
            let removed = old.heap_bytes() as isize;
            return (Some(Removed::new(old)), added - removed);
        }
        let before = self.container_bytes();
        if self.dict_mut().is_none() {
            let shape = self.values.shape(shapes.root());
            let next = match key {
                Key::Name(name, id) => shapes.extend(shape, name, id),
                Key::Id(id) => shapes.extend_by(shape, id),
            };
            if let Some(next) = next {
                self.values.push(next, value);
                return (None, (self.values.heap_bytes() - before) as isize + added);
            }
            return self.insert_as_dict(shapes, key, value);
        }
        let Some(d) = self.dict_mut() else { unreachable!("checked above") };
        let name = match key {
            Key::Name(name, _) => Str::from(name),
            Key::Id(id) => shapes.keys.with_name(id, |name| Str::from(name.unwrap_or_default())),
        };
        let key_bytes = name.heap_bytes() as isize;
        d.push(&shapes.hasher, name, value);
        (None, self.container_bytes() as isize - before as isize + key_bytes + added)
    }

    /// Removes `key`, keeping the order of the others; returns its value
    /// and the change in [`Object::measure`] (a gain, when the delete
    /// turned the object into a dictionary).
    pub(crate) fn remove(&mut self, shapes: &Shapes, key: Key<'_>) -> Option<(Removed, isize)> {
        self.get(shapes, key)?;
        let before = self.container_bytes();
        if self.dict_mut().is_none() {
            let id = match key {
                Key::Name(_, id) => id?,
                Key::Id(id) => id,
            };
            let shape = self.values.shape(shapes.root());
            if shape.slot(id) == Some(self.values.len() - 1) {
                // The last key: back to the parent shape, still shared.
                let parent = shape.parent().expect("a shape with keys has a parent").clone();
                let old = self.values.pop(parent).expect("a shape's last slot");
                let freed = before - self.values.heap_bytes() + old.heap_bytes();
                return Some((Removed::new(old), -(freed as isize)));
            }
            let grown = self.make_dict(shapes);
            let (old, delta) = self.remove(shapes, key)?;
            return Some((old, grown + delta));
        }
        let Some(d) = self.dict_mut() else { unreachable!("checked above") };
        let (name, old) = match key {
            Key::Name(name, _) => d.remove(&shapes.hasher, name),
            Key::Id(id) => shapes.keys.with_name(id, |name| d.remove(&shapes.hasher, name.unwrap_or_default())),
        }?;
        let freed = before - self.container_bytes() + name.heap_bytes() + old.heap_bytes();
        Some((Removed::new(old), -(freed as isize)))
    }

    /// `insert` of a new key into a shaped object that cannot take it.
    fn insert_as_dict(&mut self, shapes: &Shapes, key: Key<'_>, value: Value) -> (Option<Removed>, isize) {
        let grown = self.make_dict(shapes);
        let (old, delta) = self.insert_value(shapes, key, value);
        (old, grown + delta)
    }

    /// Moves the fields into a dictionary (shaped objects only); returns
    /// the change in [`Object::measure`].
    fn make_dict(&mut self, shapes: &Shapes) -> isize {
        if self.dict_mut().is_some() {
            return 0;
        }
        let before = self.measure() as isize;
        let mut d = Dict::with_capacity(self.values.len() + 1);
        if let Some((shape, values)) = self.values.take() {
            shapes.keys.with_names(|names| {
                for (k, v) in shape.keys().iter().zip(values) {
                    d.push(&shapes.hasher, names[k.index() as usize].clone(), v);
                }
            });
        }
        self.side_mut().dict = Some(Box::new(d));
        self.measure() as isize - before
    }

    /// What the field containers hold (not the values' out-of-line bytes
    /// nor the keys' in dictionary mode).
    fn container_bytes(&self) -> usize {
        match self.fields() {
            Fields::Shaped(values) => values.heap_bytes(),
            Fields::Dict(d) => d.container_bytes(),
        }
    }
}

/// The byte length of a key's name.
fn key_len(shapes: &Shapes, key: Key<'_>) -> usize {
    match key {
        Key::Name(name, _) => name.len(),
        Key::Id(id) => shapes.keys.with_name(id, |n| n.map_or(0, str::len)),
    }
}

#[cfg(test)]
#[path = "object_tests.rs"]
mod tests;
