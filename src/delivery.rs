//! Delivery, the binding's half: how a finished cycle reaches the
//! JavaScript thread that owns the store, and the calls its pump makes.
//! (`lib/delivery.js` is the JavaScript half; its opening comment follows
//! the whole path, step by step.)
//!
//! 1. The core's scheduler finishes a cycle and calls
//!    [`NodeHost::wake_cleanup`]: the store's [`WakeLatch`] is armed and
//!    the store's threadsafe function is called, non-blocking, with the
//!    store's index.
//! 2. On the JavaScript thread the pump calls [`begin_delivery`] (which
//!    clears the latch before it reads, so a later cycle wakes it again,
//!    and reports the store's size to V8), runs the callbacks, and calls
//!    [`finish_delivery`].
//! 3. `collect()` asks for a cycle with [`request_collection`] and learns
//!    that it finished from [`completed`].
//!
//! # Invariants
//! - At most one wake-up is queued at a time and none is lost: the core's
//!   [`WakeLatch`] (model-checked with loom) is armed before the call and
//!   cleared by the pump (in `begin_delivery`) *before* it reads the store.
//! - A batch's cells stay registered until `finish_delivery`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use weakstore_core::{CycleStats, Fired, Host, WakeLatch};

use crate::stores::{self, sync_external_memory};

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

/// Begins a delivery batch: fired cells as `[registry, cell, heldId or 0]`
/// triples, still registered until `finishDelivery`. Called first by the
/// pump, so it re-arms the wake-up before reading.
#[napi(catch_unwind)]
pub fn begin_delivery(env: &Env, store: u32) -> Result<Float64Array> {
    stores::with(env, store, |e| {
        e.wake.clear();
        let mut fired: Vec<Fired> = Vec::new();
        e.store.begin_delivery(0, &mut fired);
        sync_external_memory(env, e);
        let mut out = Vec::with_capacity(fired.len() * 3);
        for f in fired {
            out.extend([f64::from(f.registry), f64::from(f.cell), f.held.map_or(0.0, |h| h.bits() as f64)]);
        }
        Ok(Float64Array::new(out))
    })
}

/// Ends a delivery batch: removes its cells (those still registered) and
/// drops their held roots. The `fired` array is the one `beginDelivery`
/// returned.
#[napi(catch_unwind)]
pub fn finish_delivery(env: &Env, store: u32, fired: Float64ArraySlice) -> Result<()> {
    let cells: Vec<u32> = fired.chunks_exact(3).map(|t| t[1] as u32).collect();
    stores::with(env, store, |e| {
        e.store.finish_delivery(cells);
        Ok(())
    })
}

/// Requests a full cycle; returns its number.
#[napi(catch_unwind)]
pub fn request_collection(env: &Env, store: u32) -> Result<f64> {
    stores::with(env, store, |e| Ok(e.store.request_collection() as f64))
}

/// The number of the last completed cycle.
#[napi(catch_unwind)]
pub fn completed(env: &Env, store: u32) -> Result<f64> {
    stores::with(env, store, |e| Ok(e.store.completed() as f64))
}
