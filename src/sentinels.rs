//! Sentinels: objects nobody keeps, with a counting finalizer, so that the
//! JavaScript layer (`lib/state.js`, `collectWrappers`) can tell when V8
//! collected and Node ran the finalizers queued with them.
//!
//! # Invariants
//! - The counter is thread-local and only grows (wrapping at 2^32).

use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue};

thread_local! {
    /// Sentinels finalized so far (see [`plant_sentinel`]).
    static SENTINELS: Cell<u32> = const { Cell::new(0) };
}

/// Attaches a counting finalizer to a fresh object that nobody keeps:
/// once [`sentinels_seen`] moves past the returned count, V8 collected it
/// and Node ran the finalizers queued with it (one batch per collection).
pub fn plant_sentinel(env: &Env) -> Result<u32> {
    unsafe extern "C" fn seen(_env: sys::napi_env, _data: *mut c_void, _hint: *mut c_void) {
        let _ = SENTINELS.try_with(|s| s.set(s.get().wrapping_add(1)));
    }
    let object = Object::new(env)?;
    // SAFETY: `object` is a fresh object of this scope; the finalizer only
    // touches a thread-local counter; a null result leaves the reference to
    // Node, which deletes it after the finalizer ran.
    let status = unsafe {
        sys::napi_add_finalizer(env.raw(), object.raw(), ptr::null_mut(), Some(seen), ptr::null_mut(), ptr::null_mut())
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "weakstore: napi_add_finalizer failed".to_owned()));
    }
    Ok(sentinels_seen())
}

/// How many sentinels were finalized on this thread so far.
pub fn sentinels_seen() -> u32 {
    SENTINELS.try_with(Cell::get).unwrap_or(0)
}
