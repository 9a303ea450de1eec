//! A concurrent map from names to values, for state that every embedder
//! thread reads and writes at once (the named roots, `Store::pin`).
//!
//! Outside loom it is a [`dashmap::DashMap`] (sharded read-write locks, so
//! readers of different names never contend); under loom, one loom
//! `Mutex` around a `HashMap`, so that the model sees every access.
//!
//! # Invariants
//! - Every method copies what it returns and releases the map's locks
//!   before it returns: no guard ever escapes, so a caller cannot hold a
//!   shard lock across a call into the store (which takes the phase lock:
//!   the other order would be possible too, and the two could deadlock).

#[cfg(loom)]
use std::collections::HashMap;

#[cfg(not(loom))]
pub(crate) struct NameMap<V>(dashmap::DashMap<Box<str>, V>);

#[cfg(loom)]
pub(crate) struct NameMap<V>(super::Mutex<HashMap<Box<str>, V>>);

#[cfg(not(loom))]
impl<V: Copy> NameMap<V> {
    pub(crate) fn new() -> Self {
        NameMap(dashmap::DashMap::new())
    }

    /// Sets `name` to `value`; returns the value it replaced.
    pub(crate) fn insert(&self, name: &str, value: V) -> Option<V> {
        self.0.insert(name.into(), value)
    }

    pub(crate) fn remove(&self, name: &str) -> Option<V> {
        self.0.remove(name).map(|(_, v)| v)
    }

    pub(crate) fn get(&self, name: &str) -> Option<V> {
        self.0.get(name).map(|v| *v)
    }

    /// Every entry, in no particular order.
    pub(crate) fn entries(&self) -> Vec<(String, V)> {
        self.0.iter().map(|e| (e.key().to_string(), *e.value())).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(loom)]
impl<V: Copy> NameMap<V> {
    pub(crate) fn new() -> Self {
        NameMap(super::Mutex::new(HashMap::new()))
    }

    pub(crate) fn insert(&self, name: &str, value: V) -> Option<V> {
        self.0.lock().insert(name.into(), value)
    }

    pub(crate) fn remove(&self, name: &str) -> Option<V> {
        self.0.lock().remove(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<V> {
        self.0.lock().get(name).copied()
    }

    pub(crate) fn entries(&self) -> Vec<(String, V)> {
        self.0.lock().iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.lock().len()
    }
}
