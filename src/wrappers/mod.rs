//! The wrapper cache: one canonical JavaScript `Handle` per live object,
//! held weakly through Node-API references, outside V8's heap.
//!
//! Each store keeps, per object slot, at most one *tracked* handle: its
//! object id, a Node-API reference with a finalizer (`napi_add_finalizer`)
//! and a ticket. The reference gives the handle back while it lives (a
//! field read or a `WeakRef` returns the same handle); the finalizer tells
//! us it died, and drops its root in Rust, without a JavaScript callback.
//!
//! Why Node-API references rather than V8 `WeakRef`s and a
//! `FinalizationRegistry`: docs/BENCHMARKS.md, "The wrapper cache".
//!
//! # Invariants
//! - **Each tracked handle owns exactly one root** on its object. The root
//!   is dropped by whoever untracks it: `release`, its own
//!   finalizer, or `destroy`. A tracked handle replaced because it died
//!   before its finalizer ran passes its root to its replacement.
//! - **A finalizer acts only on its own tracked handle**: its data is the slot
//!   and the ticket. A finalizer whose handle was released or replaced
//!   finds another ticket (or none) and does nothing, so correctness does
//!   not depend on whether Node still runs a finalizer whose reference was
//!   deleted (Node 20 does not, as far as the tests can see; a death queued
//!   before the handle was replaced reaches us either way).
//! - A finalizer never touches another store: its hint is the store's
//!   index *and* serial, and a store reusing the index has another serial.
//! - Nothing here runs JavaScript. The finalizer only queues the death
//!   (`deaths`: it may run inside V8's collector, where Node-API calls and
//!   the store's locks are off limits) and never unwinds into Node; the
//!   queue is drained on the JavaScript thread before the tables are used.
//!
//! Layout: the table itself is `crate::tracked` (pure, no Node-API calls);
//! this module makes the Node-API calls (references, finalizers), the two
//! that both it and `deaths` make on a reference in `refs`; `deaths` is
//! the thread-local queue of handle deaths. The environment cleanup
//! hook that untracks a thread's handles when it ends is
//! `crate::attachments::hook_teardown`.

mod deaths;
mod refs;

use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use weakstore_core::ObjId;

pub use deaths::drain_backlog;
#[cfg(feature = "test-hooks")]
pub use deaths::hold_deaths;

use crate::stores::NativeStore;
use crate::tracked::{slot_of, Tracked};
use refs::{delete, value_of};

/// The finalizer hint for the store at `index` with `serial`.
pub(crate) fn hint_of(index: u32, e: &NativeStore) -> u64 {
    (u64::from(e.serial) << 32) | u64::from(index)
}

/// The canonical handle of `id` if it is tracked and alive.
pub fn handle_of(env: &Env, e: &NativeStore, id: ObjId) -> Option<sys::napi_value> {
    deaths::drain_backlog(env);
    let w = e.wrappers.borrow();
    let t = w.get(slot_of(id)).filter(|t| t.id == id)?;
    value_of(env, t.reference)
}

/// Tracks `handle` as the canonical handle of `id`, taking over one root
/// the caller owns. Returns the canonical handle: a live tracked one (the
/// caller's root is then dropped), or `handle`.
pub fn adopt(env: &Env, index: u32, e: &NativeStore, id: ObjId, handle: sys::napi_value) -> Result<sys::napi_value> {
    deaths::drain_backlog(env);
    let mut w = e.wrappers.borrow_mut();
    let slot = slot_of(id);
    let mut caller_root = true;
    if let Some(old) = w.get(slot) {
        if old.id == id {
            if let Some(live) = value_of(env, old.reference) {
                let _ = e.store.unroot(id);
                return Ok(live);
            }
            // Died, finalizer pending: its root passes to the new tracked handle
            // (the stale finalizer will find another ticket).
            caller_root = false;
        }
        // (A tracked handle of an older object in this slot cannot exist: it owns
        // a root, so that object could not have been freed.)
        let old = w.remove_if(slot, |_| true).expect("just found");
        delete(env, old.reference);
    }
    if !caller_root {
        let _ = e.store.unroot(id);
    }
    let ticket = w.next_ticket();
    let data = (u64::from(ticket) << 32) | u64::from(slot);
    let mut reference = ptr::null_mut();
    // SAFETY: `handle` is an object of this call's scope. The data and hint
    // are integers, never dereferenced; the finalizer is a plain function
    // that reads them. The reference is ours to delete (non-null result).
    let status = unsafe {
        sys::napi_add_finalizer(
            env.raw(),
            handle,
            data as usize as *mut c_void,
            Some(deaths::on_handle_death),
            hint_of(index, e) as usize as *mut c_void,
            &mut reference,
        )
    };
    if status != sys::Status::napi_ok {
        let _ = e.store.unroot(id);
        return Err(Error::new(Status::GenericFailure, "weakstore: could not track a handle".to_owned()));
    }
    w.insert(Tracked { id, ticket, reference });
    Ok(handle)
}

/// Untracks the handle of `id` being released. Returns whether it was
/// tracked; the caller then owns (and must drop) its root.
pub fn release(env: &Env, e: &NativeStore, id: ObjId) -> bool {
    deaths::drain_backlog(env);
    let mut w = e.wrappers.borrow_mut();
    let slot = slot_of(id);
    match w.remove_if(slot, |t| t.id == id) {
        Some(t) => {
            delete(env, t.reference);
            true
        }
        None => false,
    }
}

/// Untracks every handle of an attachment being detached; returns their
/// objects, whose roots the caller now owns (see `crate::attachments::detach`).
pub fn untrack_all(env: &Env, e: &NativeStore) -> Vec<ObjId> {
    e.wrappers
        .borrow_mut()
        .drain()
        .map(|t| {
            delete(env, t.reference);
            t.id
        })
        .collect()
}
