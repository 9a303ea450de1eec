//! The exported finalization functions: make and drop a registry,
//! register and unregister in batches.
//!
//! The JavaScript layer (`lib/finalization.js`, `lib/registrations.js`)
//! keeps the unregister tokens and batches registrations and
//! unregistrations; the store names each registration by its registry and
//! cell. Handing out fired cells is delivery's (`crate::delivery_api`).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::range_error;
use crate::ids::{parse_id, parse_u32};
use crate::stores;

#[napi(catch_unwind)]
pub fn new_registry(env: &Env, store: u32) -> Result<u32> {
    stores::with(env, store, |e| Ok(e.store.new_registry(e.owner)))
}

#[napi(catch_unwind)]
pub fn drop_registry(store: u32, registry: u32) {
    // The store may already be gone (closed, or collected before the
    // registry's finalizer ran): nothing left to drop then, and nothing to
    // throw.
    stores::try_with_store(store, |e| e.store.drop_registry(registry));
}

/// Registers a batch: `triples` holds `[registry, target, held]` per
/// registration, `held` an object id or -1 (unregister tokens are kept by
/// the JavaScript layer). Returns one cell id per registration, `u32::MAX`
/// where the core refused it (a dead target or a dropped registry: the
/// JavaScript layer rules both out, so a refusal is a weakstore bug,
/// reported there rather than thrown mid-batch).
#[napi(catch_unwind)]
pub fn register_many(env: &Env, store: u32, triples: Float64ArraySlice) -> Result<Uint32Array> {
    if !triples.len().is_multiple_of(3) {
        return range_error(env, "registerMany: expected [registry, target, held] triples");
    }
    stores::with(env, store, |e| {
        let cells = triples
            .chunks_exact(3)
            .map(|t| {
                let (Some(registry), Some(target)) = (parse_u32(t[0]), parse_id(t[1])) else {
                    return u32::MAX;
                };
                let held = if t[2] < 0.0 {
                    None
                } else {
                    match parse_id(t[2]) {
                        Some(held) => Some(held),
                        None => return u32::MAX,
                    }
                };
                e.store.register(registry, target, held).unwrap_or(u32::MAX)
            })
            .collect::<Vec<u32>>();
        Ok(Uint32Array::new(cells))
    })
}

/// Removes cells named by `[registry, cell]` pairs (the JavaScript layer
/// keeps object tokens itself and batches their unregistrations); returns
/// how many were removed.
#[napi(catch_unwind)]
pub fn unregister_many(env: &Env, store: u32, pairs: Float64ArraySlice) -> Result<u32> {
    if !pairs.len().is_multiple_of(2) {
        return range_error(env, "unregisterMany: expected [registry, cell] pairs");
    }
    stores::with(env, store, |e| {
        let cells = pairs.chunks_exact(2).filter_map(|p| Some((parse_u32(p[0])?, parse_u32(p[1])?)));
        Ok(e.store.unregister_many(cells) as u32)
    })
}
