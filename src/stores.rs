//! The thread's store table: JavaScript names a store by a small integer,
//! so hot calls pass numbers instead of unwrapping a class instance.
//!
//! An entry is the thread's *attachment* to a store (see `crate::sharing`):
//! the store itself is shared by every thread attached to it; the entry
//! holds what belongs to this thread alone.
//!
//! # Invariants
//! - The table is thread-local: an index names an attachment of the
//!   JavaScript thread (main or worker) that made it, and nothing else.
//!   When the thread ends, its attachments are detached by the environment
//!   cleanup hook (`crate::attachments::hook_teardown`).
//! - No JavaScript runs while the table is borrowed.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use weakstore_core::EphemeronTable;

use weakstore_core::ObjId;

use crate::delivery::Wake;
use crate::errors::{type_error, CLOSED};
use crate::scoped::Scopes;
use crate::sharing::SharedStore;
use crate::tracked::Wrappers;

/// A store as this thread's binding holds it: the shared store, and what
/// this thread keeps beside it (its owner number, its wake-up, its
/// external-memory report, its ephemeron tables, its tracked handles and
/// its deferred roots).
pub struct NativeStore {
    pub store: Arc<SharedStore>,
    /// The owner of this thread's registries in the core.
    pub owner: u32,
    pub wake: Arc<Wake>,
    /// Bytes reported to V8 as external memory so far.
    pub reported: Cell<i64>,
    /// Ephemeron tables (`WeakMap`/`WeakSet`) by id.
    pub tables: RefCell<HashMap<u32, Arc<EphemeronTable>>>,
    /// The canonical handles (see `wrappers`).
    pub wrappers: RefCell<Wrappers>,
    /// Tells this store from an earlier one at the same index (finalizer
    /// hints carry both).
    pub serial: u32,
    /// Roots of released handles kept until the end of the job
    /// (KeepDuringJob), dropped by `dropDeferred`.
    pub deferred: RefCell<Vec<ObjId>>,
    /// The open scopes' roots (see `crate::scoped`).
    pub scopes: RefCell<Scopes>,
}

impl NativeStore {
    pub fn new(store: Arc<SharedStore>, owner: u32, wake: Arc<Wake>, serial: u32) -> NativeStore {
        NativeStore {
            store,
            owner,
            wake,
            reported: Cell::new(0),
            tables: Default::default(),
            wrappers: Default::default(),
            serial,
            deferred: Default::default(),
            scopes: Default::default(),
        }
    }

    /// The table `id`, if it was not dropped.
    pub fn table(&self, env: &Env, id: u32) -> Result<Arc<EphemeronTable>> {
        match self.tables.borrow().get(&id) {
            Some(t) => Ok(Arc::clone(t)),
            None => type_error(env, CLOSED, "weakstore: this WeakMap/WeakSet table was dropped"),
        }
    }
}

thread_local! {
    static STORES: RefCell<Vec<Option<NativeStore>>> = const { RefCell::new(Vec::new()) };
}

/// The index the next `insert` will use.
pub fn next_index() -> u32 {
    STORES.with(|t| {
        let t = t.borrow();
        t.iter().position(Option::is_none).unwrap_or(t.len()) as u32
    })
}

/// Adds `store`; returns its index.
pub fn insert(store: NativeStore) -> u32 {
    STORES.with(|t| {
        let mut t = t.borrow_mut();
        let index = t.iter().position(Option::is_none).unwrap_or_else(|| {
            t.push(None);
            t.len() - 1
        });
        t[index] = Some(store);
        index as u32
    })
}

/// Removes the store at `index`; returns it.
pub fn remove(index: u32) -> Option<NativeStore> {
    STORES.with(|t| t.borrow_mut().get_mut(index as usize).and_then(Option::take))
}

/// A serial for a new store: unique on this thread until it wraps (2^32).
pub fn next_serial() -> u32 {
    thread_local! {
        static NEXT: Cell<u32> = const { Cell::new(0) };
    }
    NEXT.with(|n| {
        n.set(n.get().wrapping_add(1));
        n.get()
    })
}

/// Runs `f` with the store at `index`, if there is one and the table is
/// not being changed (finalizers may run at odd times, or while the
/// thread ends).
pub fn try_with_store<R>(index: u32, f: impl FnOnce(&NativeStore) -> R) -> Option<R> {
    STORES
        .try_with(|t| match t.try_borrow().ok()?.get(index as usize) {
            Some(Some(store)) => Some(f(store)),
            _ => None,
        })
        .ok()
        .flatten()
}

/// Takes every attachment out of this thread's table (the thread is ending).
pub fn take_all() -> Vec<NativeStore> {
    STORES
        .try_with(|t| t.try_borrow_mut().map(|mut t| t.drain(..).flatten().collect()).unwrap_or_default())
        .unwrap_or_default()
}

/// Runs `f` with the store at `index`.
#[inline]
pub fn with<R>(env: &Env, index: u32, f: impl FnOnce(&NativeStore) -> Result<R>) -> Result<R> {
    STORES.with(|t| match t.borrow().get(index as usize) {
        Some(Some(store)) => f(store),
        _ => type_error(env, CLOSED, "weakstore: this Store was closed"),
    })
}

const REPORT_STEP: i64 = 1 << 20;

/// Tells V8 how much memory the store holds, in steps of 1 MiB, so that
/// V8 collects dead handle wrappers sooner when the store grows.
pub fn sync_external_memory(env: &Env, native: &NativeStore) {
    let live = native.store.live_bytes() as i64;
    let delta = live - native.reported.get();
    if delta.abs() >= REPORT_STEP && env.adjust_external_memory(delta).is_ok() {
        native.reported.set(live);
    }
}
