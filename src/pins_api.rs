//! Exported functions for named roots (`store.pin`): names are visible
//! from every thread attached to the store (see `weakstore_core`'s pins).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::core_error;
use crate::ids::object_id;
use crate::stores;

/// Pins object `id` under `name`, replacing what `name` held.
#[napi(catch_unwind)]
pub fn pin(env: &Env, store: u32, name: String, id: f64) -> Result<()> {
    const WHERE: &str = "Store.prototype.pin";
    let id = object_id(env, WHERE, id)?;
    stores::with(env, store, |e| e.store.pin(&name, id).or_else(|err| core_error(env, WHERE, err)))
}

/// Removes the pin `name`; whether there was one.
#[napi(catch_unwind)]
pub fn unpin(env: &Env, store: u32, name: String) -> Result<bool> {
    stores::with(env, store, |e| Ok(e.store.unpin(&name)))
}

/// The object pinned under `name`, with a root for the caller to adopt
/// (`adoptHandle`), or 0.
#[napi(catch_unwind)]
pub fn pinned(env: &Env, store: u32, name: String) -> Result<f64> {
    stores::with(env, store, |e| Ok(e.store.pinned(&name).map_or(0.0, |id| id.bits() as f64)))
}

/// The pinned names, sorted.
#[napi(catch_unwind)]
pub fn pin_names(env: &Env, store: u32) -> Result<Vec<String>> {
    stores::with(env, store, |e| Ok(e.store.pins()))
}
