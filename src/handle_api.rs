//! Exported functions over the wrapper cache (see [`crate::wrappers`]).
//!
//! The JavaScript layer makes the `Handle` objects; these functions root
//! objects for them, track them, find them again and untrack them.
//! `dropDeferred` is here rather than with delivery (`crate::delivery_api`):
//! it finishes what `releaseHandle` with `defer` began (a released handle's
//! root kept until the job ends, KeepDuringJob), and the job's end calls
//! it (`lib/state.js`), not the pump.

use napi::bindgen_prelude::*;
use napi::{sys, JsValue};
use napi_derive::napi;

use crate::errors::core_error;
use crate::ids::{object_id, parse_id};
use crate::stores::{self, sync_external_memory};
use crate::wrappers;

/// A JavaScript value this module already holds (a tracked handle).
pub struct Raw(sys::napi_value);

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

/// Allocates an empty object whose root `handle` owns; returns its id.
#[napi(catch_unwind)]
pub fn alloc_handle(env: &Env, store: u32, handle: Unknown) -> Result<f64> {
    stores::with(env, store, |e| {
        let id = e.store.alloc(Vec::new()).or_else(|err| core_error(env, "Store.prototype.alloc", err))?;
        sync_external_memory(env, e);
        // A fresh object has no tracked handle: `handle` is canonical.
        wrappers::adopt(env, store, e, id, handle.raw())?;
        Ok(id.bits() as f64)
    })
}

/// The live canonical handle of object `id`, or `null`.
#[napi(catch_unwind, ts_return_type = "object | null")]
pub fn handle_of(env: &Env, store: u32, id: f64) -> Result<Option<Raw>> {
    let Some(id) = parse_id(id) else { return Ok(None) };
    stores::with(env, store, |e| Ok(wrappers::handle_of(env, e, id).map(Raw)))
}

/// Roots object `id` for `handle` and tracks it; returns the canonical
/// handle (`handle`, or one that came alive meanwhile), or `null` if the
/// object was collected.
#[napi(catch_unwind, ts_return_type = "object | null")]
pub fn root_handle(env: &Env, store: u32, id: f64, handle: Unknown) -> Result<Option<Raw>> {
    let Some(id) = parse_id(id) else { return Ok(None) };
    stores::with(env, store, |e| {
        if !e.store.root(id) {
            return Ok(None);
        }
        wrappers::adopt(env, store, e, id, handle.raw()).map(|h| Some(Raw(h)))
    })
}

/// Untracks the handle of `id` that is being released and drops its root,
/// or, with `defer` (the object is kept until the end of the job), moves
/// the root to the attachment's deferred roots, which `dropDeferred`
/// drops. Returns whether it was tracked.
#[napi(catch_unwind)]
pub fn release_handle(env: &Env, store: u32, id: f64, defer: bool) -> Result<bool> {
    let id = object_id(env, "Handle.prototype.release", id)?;
    stores::with(env, store, |e| {
        // Not tracked: not a canonical unreleased handle, so it owns no
        // root here (the JavaScript layer never gets there).
        let tracked = wrappers::release(env, e, id);
        if tracked && defer {
            e.deferred.borrow_mut().push(id);
        } else if tracked {
            e.store.unroot(id).or_else(|err| core_error(env, "Handle.prototype.release", err))?;
        }
        Ok(tracked)
    })
}

/// Drops the roots of handles released during the job that has ended
/// (`releaseHandle` with `defer`).
#[napi(catch_unwind)]
pub fn drop_deferred(env: &Env, store: u32) -> Result<()> {
    stores::with(env, store, |e| {
        let ids = std::mem::take(&mut *e.deferred.borrow_mut());
        e.store.unroot_many(ids);
        Ok(())
    })
}

/// Tracks `handle` as the canonical handle of `id`, whose root JavaScript
/// owns (a shared store's field read, `pinned`); returns the canonical
/// handle (`handle`, or the live one, whose object then loses that root).
#[napi(catch_unwind, ts_return_type = "object")]
pub fn adopt_handle(env: &Env, store: u32, id: f64, handle: Unknown) -> Result<Raw> {
    let id = object_id(env, "adoptHandle", id)?;
    stores::with(env, store, |e| wrappers::adopt(env, store, e, id, handle.raw()).map(Raw))
}

/// Drops the roots of handles whose finalizers ran (the pump and
/// `collect()` call it; every other function here does too).
#[napi(catch_unwind)]
pub fn drain_handle_deaths(env: &Env) -> Result<()> {
    wrappers::drain_backlog(env);
    Ok(())
}

/// Tests only (`__test__/`): while set, handle deaths stay queued. Built
/// with the feature `test-hooks` only.
#[cfg(feature = "test-hooks")]
#[napi(catch_unwind)]
pub fn hold_handle_deaths(hold: bool) -> Result<()> {
    wrappers::hold_deaths(hold);
    Ok(())
}

/// A fresh object with a counting finalizer; returns the count before it.
#[napi(catch_unwind)]
pub fn plant_sentinel(env: &Env) -> Result<u32> {
    crate::sentinels::plant_sentinel(env)
}

/// Sentinels finalized on this thread so far.
#[napi(catch_unwind)]
pub fn sentinels_seen() -> Result<u32> {
    Ok(crate::sentinels::sentinels_seen())
}
