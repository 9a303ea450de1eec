//! The core's [`Host`] for Node: wake-ups reach the JavaScript thread that
//! owns the store through a weak (unref'd) threadsafe function.
//!
//! # Invariants
//! - At most one wake-up is queued at a time: `queued` is set before the
//!   call and cleared by the pump (in `take_finalized`) *before* it reads
//!   the store, so a cycle that finishes after the clear queues a new one
//!   and none is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use weakstore_core::{CycleStats, Host};

/// Calls `pump(index)` on the store's JavaScript thread; weak, so it never
/// keeps the event loop alive.
pub type PumpFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

pub struct Wake {
    pub queued: AtomicBool,
    index: u32,
    pump: PumpFn,
}

impl Wake {
    pub fn new(index: u32, pump: PumpFn) -> Arc<Wake> {
        Arc::new(Wake { queued: AtomicBool::new(false), index, pump })
    }

    /// The pump is about to read the store: later cycles must wake it again.
    pub fn clear(&self) {
        // SeqCst: ordered before the pump's reads of the store, and against
        // the collector's `swap` in `wake_cleanup`.
        self.queued.store(false, Ordering::SeqCst);
    }
}

pub struct NodeHost(pub Arc<Wake>);

impl Host for NodeHost {
    fn wake_cleanup(&self, _cycle: &CycleStats) {
        // SeqCst; pairs with `Wake::clear`.
        if !self.0.queued.swap(true, Ordering::SeqCst) {
            // Closing (the environment is shutting down) is not an error:
            // nobody is left to deliver to.
            let _ = self.0.pump.call(self.0.index, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
