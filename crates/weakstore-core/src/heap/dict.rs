//! Dictionary mode: an object's own hashed key table, for objects that
//! left the shape tree (too many keys, a deleted key, the shape cap).
//!
//! Entries sit in insertion order in one vector; a hash table maps each
//! key to its entry. A delete leaves a hole (so the others keep their
//! order and their positions) and the vector is compacted once holes
//! outnumber live entries, so every operation is O(1) amortised and a
//! catalog of a hundred thousand keys answers as fast as one of five.
//!
//! Keys are the object's own strings, never interned (`heap::keys` says
//! why); short ones live inside the entry.
//!
//! # Invariants
//! - `index` holds exactly the positions of the `Some` entries, each once,
//!   hashed by its key; keys are distinct.
//! - `holes` counts the `None` entries.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::value::{alloc_bytes, Str, Value};

pub(crate) struct Dict {
    entries: Vec<Option<(Str, Value)>>,
    index: HashTable<u32>,
    holes: usize,
}

impl Dict {
    pub(crate) fn with_capacity(n: usize) -> Dict {
        Dict { entries: Vec::with_capacity(n), index: HashTable::with_capacity(n), holes: 0 }
    }

    fn position(&self, h: &DefaultHashBuilder, name: &str) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(h.hash_one(name), |&i| entries[i as usize].as_ref().is_some_and(|(k, _)| &**k == name))
            .map(|&i| i as usize)
    }

    pub(crate) fn get(&self, h: &DefaultHashBuilder, name: &str) -> Option<&Value> {
        let at = self.position(h, name)?;
        self.entries[at].as_ref().map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, h: &DefaultHashBuilder, name: &str) -> Option<&mut Value> {
        let at = self.position(h, name)?;
        self.entries[at].as_mut().map(|(_, v)| v)
    }

    /// Appends `name` (which must be absent).
    pub(crate) fn push(&mut self, h: &DefaultHashBuilder, name: Str, value: Value) {
        let at = self.entries.len() as u32;
        let hash = h.hash_one(&*name);
        self.entries.push(Some((name, value)));
        let entries = &self.entries;
        self.index.insert_unique(hash, at, |&i| h.hash_one(entry_key(entries, i)));
    }

    /// Removes `name`; its key and value.
    pub(crate) fn remove(&mut self, h: &DefaultHashBuilder, name: &str) -> Option<(Str, Value)> {
        let entries = &self.entries;
        let found = self
            .index
            .find_entry(h.hash_one(name), |&i| entries[i as usize].as_ref().is_some_and(|(k, _)| &**k == name))
            .ok()?;
        let (at, _) = found.remove();
        let removed = self.entries[at as usize].take();
        self.holes += 1;
        if self.holes > 8 && self.holes * 2 > self.entries.len() {
            self.compact(h);
        }
        removed
    }

    /// Drops the holes, keeping the order.
    fn compact(&mut self, h: &DefaultHashBuilder) {
        self.entries.retain(Option::is_some);
        self.entries.shrink_to(self.entries.len() * 2);
        self.holes = 0;
        let entries = &self.entries;
        let mut index = HashTable::with_capacity(entries.len());
        for i in 0..entries.len() as u32 {
            index.insert_unique(h.hash_one(entry_key(entries, i)), i, |&j| h.hash_one(entry_key(entries, j)));
        }
        self.index = index;
    }

    /// The number of live entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len() - self.holes
    }

    /// The live entries, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Str, &Value)> {
        self.entries.iter().flatten().map(|(k, v)| (k, v))
    }

    /// What the dictionary's own allocations hold (not its keys' and
    /// values' out-of-line bytes).
    pub(crate) fn container_bytes(&self) -> usize {
        let buckets = if self.index.capacity() == 0 { 0 } else { (self.index.capacity() * 8 / 7).next_power_of_two() };
        alloc_bytes(std::mem::size_of::<Dict>())
            + alloc_bytes(self.entries.capacity() * std::mem::size_of::<Option<(Str, Value)>>())
            + alloc_bytes(buckets * 5 + 16)
    }
}

fn entry_key(entries: &[Option<(Str, Value)>], i: u32) -> &str {
    entries[i as usize].as_ref().map_or("", |(k, _)| k)
}
