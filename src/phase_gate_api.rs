//! Tests only (the `test-hooks` feature): the exported phase gate, which
//! holds a store's collector at the start of a phase (`holdPhase`) and
//! tells where it is held (`heldPhase`). The gate itself:
//! `crate::phase_gate`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::stores;

/// Tests only: holds the store's collector at the start of `phase` (a
/// phase name, as `stats().phase` gives it), or lets it go (`null`).
#[napi(catch_unwind)]
pub fn hold_phase(env: &Env, store: u32, phase: Option<String>) -> Result<()> {
    stores::with(env, store, |e| {
        e.store.gate.hold(phase);
        Ok(())
    })
}

/// Tests only: the phase the store's collector is held in, or `null`.
#[napi(catch_unwind)]
pub fn held_phase(env: &Env, store: u32) -> Result<Option<String>> {
    stores::with(env, store, |e| Ok(e.store.gate.held().map(str::to_owned)))
}
