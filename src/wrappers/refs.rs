//! The Node-API calls on a tracked handle's reference that both the cache
//! (`super`) and the queue of deaths (`super::deaths`) make: read its value
//! back, delete it.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

/// The referenced value, or `None` once V8 collected it.
pub(super) fn value_of(env: &Env, reference: sys::napi_ref) -> Option<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: `reference` is a tracked handle's reference, not deleted (a
    // reference is deleted only when its handle is untracked), created in
    // this env; the value is a local of the current scope.
    let status = unsafe { sys::napi_get_reference_value(env.raw(), reference, &mut value) };
    (status == sys::Status::napi_ok && !value.is_null()).then_some(value)
}

/// Deletes a tracked handle's reference (its handle is being untracked).
pub(super) fn delete(env: &Env, reference: sys::napi_ref) {
    // SAFETY: called once per reference, by whoever untracks it; the
    // reference belongs to this env (see `super::adopt`).
    let _ = unsafe { sys::napi_delete_reference(env.raw(), reference) };
}
