//! Interned field names: each key a shape uses is stored once per store
//! and named by a [`KeyId`].
//!
//! Shapes (`heap::shape`) list their keys as ids, so an object with the
//! keys of a thousand others stores none of them itself. The embedder can
//! look a key's id up once ([`crate::Store::key_id`]) and then read and
//! write fields by id, without passing or hashing the string again.
//!
//! Only shapes intern keys. A dictionary-mode object keeps its own key
//! strings, so a program that uses ever new keys (ids as keys, in a cache
//! object) does not grow the table: the number of shapes is capped, and
//! each shape adds at most one key.
//!
//! # Invariants
//! - Ids are dense, `0..len`, and never reused or removed while the store
//!   lives: an id an embedder cached stays valid.
//! - `bytes` is what the table holds (the names, the index and the list),
//!   counted in the store's live bytes.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::sync::{AtomicUsize, Ordering, RwLock};
use crate::value::{alloc_bytes, Str};

/// A field name interned in one store (see the module docs). Ids of one
/// store mean nothing in another.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub(crate) u32);

impl KeyId {
    /// The id as a number (dense from 0).
    pub fn index(self) -> u32 {
        self.0
    }

    /// The id `index` names, if it is below `u32::MAX`.
    pub fn from_index(index: u32) -> KeyId {
        KeyId(index)
    }
}

#[derive(Default)]
struct Table {
    names: Vec<Str>,
    index: HashTable<u32>,
}

/// The store's key table.
pub(crate) struct Keys {
    table: RwLock<Table>,
    hasher: DefaultHashBuilder,
    bytes: AtomicUsize,
    /// `table.names.len()`, readable without the lock.
    len: AtomicUsize,
}

impl Keys {
    pub(crate) fn new() -> Keys {
        Keys {
            table: RwLock::new(Table::default()),
            hasher: DefaultHashBuilder::default(),
            bytes: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
        }
    }

    /// The id of `name`, if some shape uses it.
    pub(crate) fn find(&self, name: &str) -> Option<KeyId> {
        let hash = self.hasher.hash_one(name);
        let table = self.table.read();
        table.index.find(hash, |&i| &*table.names[i as usize] == name).map(|&i| KeyId(i))
    }

    /// The id of `name`, interning it if it is new.
    pub(crate) fn intern(&self, name: &str) -> KeyId {
        if let Some(id) = self.find(name) {
            return id;
        }
        let hash = self.hasher.hash_one(name);
        let mut table = self.table.write();
        let Table { names, index } = &mut *table;
        if let Some(&i) = index.find(hash, |&i| &*names[i as usize] == name) {
            return KeyId(i); // another thread interned it meanwhile
        }
        let id = names.len() as u32;
        let before = Self::held(names, index);
        names.push(Str::from(name));
        index.insert_unique(hash, id, |&i| self.hasher.hash_one(&*names[i as usize]));
        let after = Self::held(names, index) + names.last().map_or(0, Str::heap_bytes);
        // Relaxed: statistics (see `Shared::objects`).
        self.bytes.fetch_add(after - before, Ordering::Relaxed);
        // Release, under the write lock, after the push; pairs with the
        // Acquire in `knows`: whoever sees the id valid finds its name.
        self.len.store(names.len(), Ordering::Release);
        KeyId(id)
    }

    /// Runs `f` on the name of `id` (`None`: not an id of this store).
    pub(crate) fn with_name<R>(&self, id: KeyId, f: impl FnOnce(Option<&str>) -> R) -> R {
        let table = self.table.read();
        f(table.names.get(id.0 as usize).map(|s| &**s))
    }

    /// Whether `id` names a key of this table.
    pub(crate) fn knows(&self, id: KeyId) -> bool {
        // Acquire; pairs with the Release in `intern`.
        (id.0 as usize) < self.len.load(Ordering::Acquire)
    }

    /// Runs `f` on every name, indexed by id.
    pub(crate) fn with_names<R>(&self, f: impl FnOnce(&[Str]) -> R) -> R {
        f(&self.table.read().names)
    }

    /// The names of `ids`, in order.
    pub(crate) fn names(&self, ids: impl Iterator<Item = KeyId>) -> Vec<String> {
        let table = self.table.read();
        ids.map(|id| table.names[id.0 as usize].to_string()).collect()
    }

    /// Bytes the table holds.
    pub(crate) fn bytes(&self) -> usize {
        // Relaxed: statistics.
        self.bytes.load(Ordering::Relaxed)
    }

    /// The list's and the index's allocations (not the names' own bytes).
    fn held(names: &Vec<Str>, index: &HashTable<u32>) -> usize {
        let buckets = if index.capacity() == 0 { 0 } else { (index.capacity() * 8 / 7).next_power_of_two() };
        alloc_bytes(names.capacity() * std::mem::size_of::<Str>()) + alloc_bytes(buckets * 5 + 16)
    }
}
