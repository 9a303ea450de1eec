//! The exported delivery calls: the pump's `beginDelivery` and
//! `finishDelivery`, and `collect()`'s `requestCollection` and `completed`.
//!
//! The path from a finished cycle to these calls, and its invariants:
//! `crate::delivery` (the wake-ups) and `lib/delivery.js` (the pump).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::Fired;

use crate::ids::parse_u32;
use crate::stores::{self, sync_external_memory};

/// Begins a delivery batch: fired cells as `[registry, cell, heldId or 0]`
/// triples, still registered until `finishDelivery`. Called first by the
/// pump, so it re-arms the wake-up before reading.
#[napi(catch_unwind)]
pub fn begin_delivery(env: &Env, store: u32) -> Result<Float64Array> {
    stores::with(env, store, |e| {
        e.wake.clear();
        let mut fired: Vec<Fired> = Vec::new();
        e.store.begin_delivery(e.owner, &mut fired);
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
    // Numbers that are no cell id name no cell: skipped, like unknown ones.
    let cells: Vec<u32> = fired.chunks_exact(3).filter_map(|t| parse_u32(t[1])).collect();
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
