//! One store, many threads: the process-wide half of a store, and the
//! registry where another thread finds it to attach.
//!
//! A [`SharedStore`] is the core store and what every thread using it
//! shares: its key, its threads' wake-ups ([`Wakes`]) and whether it was
//! shared. Each JavaScript thread that uses it holds one *attachment*: a
//! `NativeStore` in that thread's table (`crate::stores`), with its own
//! index, owner number, wake-up, handles, deferred roots and ephemeron
//! tables; how an attachment begins and ends is `crate::attachments`.
//! `store.share()` puts the store in the process-wide [`REGISTRY`] under
//! its key; `Store.attach` in another thread finds it there.
//!
//! A `share()` value is a capability: the registry keeps each store's
//! secret (`crate::secret`) beside it, and attaching takes the key *and*
//! that secret.
//!
//! # Invariants
//! - The registry holds weak references: the store lives while any thread
//!   has it attached, and is dropped (its collector stopped) when the last
//!   attachment is detached. A key is never reused, so a stale `share()`
//!   value or handle id can never name a later store.
//! - A store's secret is made once, at its first `share()`, and never
//!   changes: every `share()` value of a store is the same. Nothing but its
//!   `share()` values carries it.
//! - A store is *shared* from the first `share()` on: before that no other
//!   thread can reach it, so reads may return unrooted references
//!   (`crate::fields_api::get`); after it, every reference read is rooted
//!   before the object's lock is released.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use napi::bindgen_prelude::*;
use parking_lot::Mutex;
use weakstore_core::{Config, Store};

use crate::delivery::{NodeHost, Wakes};
use crate::phase_gate::PhaseGate;
use crate::secret::{self, Refused, Secret};

/// The core store and what the threads attached to it share.
pub struct SharedStore {
    store: Store,
    /// Tests only: holds the collector in a phase (`crate::phase_gate`;
    /// empty unless built with `test-hooks`).
    pub gate: Arc<PhaseGate>,
    /// Names the store in `share()` values and handle ids; never reused.
    pub key: u64,
    pub wakes: Arc<Wakes>,
    shared: AtomicBool,
    next_owner: AtomicU32,
}

/// A shared store, as the registry keeps it.
struct Entry {
    store: Weak<SharedStore>,
    /// What its `share()` values carry, and `Store.attach` checks.
    secret: Secret,
}

/// Shared stores by key.
static REGISTRY: Mutex<Option<HashMap<u64, Entry>>> = Mutex::new(None);
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

impl Deref for SharedStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl SharedStore {
    /// A new store, or `Error::ThreadStart` if its collector thread
    /// cannot start.
    pub fn new(config: Config) -> weakstore_core::Result<Arc<SharedStore>> {
        let wakes = Arc::new(Wakes::default());
        let gate = Arc::new(PhaseGate::default());
        Ok(Arc::new(SharedStore {
            store: Store::try_new(gate.observe(config), NodeHost(Arc::clone(&wakes)))?,
            gate,
            // Relaxed: a counter; uniqueness is all it gives.
            key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
            wakes,
            shared: AtomicBool::new(false),
            next_owner: AtomicU32::new(0),
        }))
    }

    /// Whether another thread may use the store (see the invariants).
    #[inline]
    pub fn is_shared(&self) -> bool {
        // Relaxed: set by this thread's own `share()` (program order), or
        // before another thread could attach (the registry's lock orders
        // it before that thread's `attach`).
        self.shared.load(Ordering::Relaxed)
    }

    /// Makes the store attachable from other threads; returns its secret
    /// (made on the first call), or the random source's error.
    pub fn share(self: &Arc<SharedStore>) -> std::result::Result<Secret, getrandom::Error> {
        let mut registry = REGISTRY.lock();
        let map = registry.get_or_insert_with(HashMap::new);
        if let Some(entry) = map.get(&self.key) {
            return Ok(entry.secret);
        }
        let secret = secret::generate()?;
        // Relaxed: published to other threads by the registry's lock.
        self.shared.store(true, Ordering::Relaxed);
        map.insert(self.key, Entry { store: Arc::downgrade(self), secret });
        Ok(secret)
    }

    /// The shared store with `key` whose secret `secret` spells (32
    /// lowercase hexadecimal digits), if one is still attached somewhere.
    pub fn find(key: f64, secret: &str) -> std::result::Result<Arc<SharedStore>, Refused> {
        if !(key.fract() == 0.0 && key >= 1.0) {
            return Err(Refused::Unknown);
        }
        let registry = REGISTRY.lock();
        let entry = registry.as_ref().and_then(|map| map.get(&(key as u64))).ok_or(Refused::Unknown)?;
        match secret::parse(secret) {
            Some(given) if secret::same(&entry.secret, &given) => entry.store.upgrade().ok_or(Refused::Closed),
            _ => Err(Refused::WrongSecret),
        }
    }

    /// A new owner number, for a thread's registrations.
    pub fn new_owner(&self) -> u32 {
        // Relaxed: a counter; uniqueness is all it gives.
        self.next_owner.fetch_add(1, Ordering::Relaxed)
    }
}

impl Drop for SharedStore {
    fn drop(&mut self) {
        self.gate.hold(None);
        if let Some(map) = REGISTRY.lock().as_mut() {
            map.remove(&self.key);
        }
    }
}

/// The end of `closeStore`, off the JavaScript thread: closes a detached
/// store that no thread has attached (its collector thread ends after the
/// cycle in flight, and its objects are freed), then resolves. `compute`
/// takes the store out, so that it is dropped on the pool thread too.
pub struct Closing(pub Option<SharedStore>);

impl Task for Closing {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        if let Some(mut store) = self.0.take() {
            store.gate.hold(None);
            store.store.close();
        }
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}
