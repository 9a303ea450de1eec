//! Delivery, the binding's half: how a finished cycle reaches the
//! JavaScript threads that use the store (this module: the wake-ups), and
//! the calls their pumps make (`crate::delivery_api`). (`lib/delivery.js`
//! is the JavaScript half; its opening comment follows the whole path,
//! step by step.)
//!
//! 1. The core's scheduler finishes a cycle and calls
//!    [`NodeHost::wake_cleanup`]: for each thread attached to the store
//!    (see `crate::sharing`), that thread's [`WakeLatch`] is armed and its
//!    threadsafe function is called, non-blocking, with the store's index
//!    in that thread's table.
//! 2. On that thread the pump calls
//!    [`begin_delivery`](crate::delivery_api::begin_delivery) (which clears
//!    the latch before it reads, so a later cycle wakes it again, reports
//!    the store's size to V8, and hands out only the fired cells of the
//!    thread's own registries), runs the callbacks, and calls
//!    [`finish_delivery`](crate::delivery_api::finish_delivery).
//! 3. `collect()` asks for a cycle with
//!    [`request_collection`](crate::delivery_api::request_collection) and
//!    learns that it finished from [`completed`](crate::delivery_api::completed).
//!
//! # Invariants
//! - At most one wake-up per thread is queued at a time and none is lost:
//!   the core's [`WakeLatch`] (model-checked with loom) is armed before the
//!   call and cleared by the pump (in `begin_delivery`) *before* it reads
//!   the store.
//! - A thread's wake-up is called only while it is in [`Wakes`]: it is
//!   removed (under the list's lock, which the collector holds while it
//!   calls) before its thread's environment goes away, so no threadsafe
//!   function is called after its thread ended.
//! - A batch's cells stay registered until `finish_delivery`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use parking_lot::Mutex;
use weakstore_core::{CycleStats, Host, WakeLatch};

/// Calls `pump(index)` on one JavaScript thread; weak, so it never keeps
/// the event loop alive.
pub type PumpFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// One thread's wake-up: its pump, and the store's index in its table.
pub struct Wake {
    latch: WakeLatch,
    index: u32,
    pump: PumpFn,
}

impl Wake {
    pub fn new(index: u32, pump: PumpFn) -> Arc<Wake> {
        Arc::new(Wake { latch: WakeLatch::new(), index, pump })
    }

    /// Calls the pump outside the latch (handles died: the pump drops
    /// their roots; an extra pump finds nothing else to do).
    pub fn poke(&self) {
        let _ = self.pump.call(self.index, ThreadsafeFunctionCallMode::NonBlocking);
    }

    /// The pump is about to read the store: later cycles must wake it again.
    pub fn clear(&self) {
        self.latch.clear();
    }

    /// A cycle finished: wakes the pump unless a wake-up is queued already.
    fn wake(&self) {
        if self.latch.arm() {
            // Closing (the environment is shutting down) is not an error:
            // nobody is left to deliver to.
            let _ = self.pump.call(self.index, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// The wake-ups of every thread attached to a store, by owner (the
/// thread's registry owner number in the core).
#[derive(Default)]
pub struct Wakes(Mutex<Vec<(u32, Arc<Wake>)>>);

impl Wakes {
    pub fn add(&self, owner: u32, wake: Arc<Wake>) {
        self.0.lock().push((owner, wake));
    }

    /// Removes `owner`'s wake-up; once this returns, the collector never
    /// calls it again (it calls them under this lock).
    pub fn remove(&self, owner: u32) {
        self.0.lock().retain(|(o, _)| *o != owner);
    }

    /// How many threads are attached.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }
}

/// The core's host: wakes every attached thread after each cycle.
pub struct NodeHost(pub Arc<Wakes>);

impl Host for NodeHost {
    fn wake_cleanup(&self, _cycle: &CycleStats) {
        // Non-blocking calls, so the lock is held only briefly.
        for (_, wake) in self.0 .0.lock().iter() {
            wake.wake();
        }
    }
}
