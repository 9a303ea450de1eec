//! The core's [`Host`] for Node: wake-ups reach the JavaScript thread that
//! owns the store through a weak (unref'd) threadsafe function.
//!
//! # Invariants
//! - At most one wake-up is queued at a time and none is lost: the core's
//!   [`WakeLatch`] (model-checked with loom) is armed before the call and
//!   cleared by the pump (in `begin_delivery`) *before* it reads the store.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use weakstore_core::{CycleStats, Host, WakeLatch};

/// Calls `pump(index)` on the store's JavaScript thread; weak, so it never
/// keeps the event loop alive.
pub type PumpFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

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
}

pub struct NodeHost(pub Arc<Wake>);

impl Host for NodeHost {
    fn wake_cleanup(&self, _cycle: &CycleStats) {
        if self.0.latch.arm() {
            // Closing (the environment is shutting down) is not an error:
            // nobody is left to deliver to.
            let _ = self.0.pump.call(self.0.index, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
