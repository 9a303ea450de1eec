//! Exported functions for scopes and their handles (`lib/scope.js`):
//! objects rooted for a scope, with no Node-API reference and no
//! wrapper-cache entry. The roots are recorded in the attachment's
//! [`Scopes`](crate::scoped::Scopes); each function that takes one names
//! its scope and the place it goes in (the scope's next), which the
//! JavaScript layer counts.
//!
//! A read through a scoped handle roots the object a reference names under
//! the parent's lock, in the same call, so it needs no second call and is
//! safe in a shared store too. It returns a reference as a `bigint` (its
//! object id), which is cheaper to make than an array; a `bigint` field
//! value therefore comes back boxed, as `[value]`. Everything else comes
//! back as `Handle.prototype.get` returns it.

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use weakstore_core::{try_copy, FieldKey, ObjId, Value};

use crate::errors::{core_error, type_error, INVALID_ARG_VALUE};
use crate::ids::{key_id, object_id, parse_id};
use crate::scoped::Misuse;
use crate::stores::{self, sync_external_memory, NativeStore};
use crate::values::Out;

const GET: &str = "Handle.prototype.get";

/// Checks that `place` is scope `scope`'s next place.
fn check_place(env: &Env, e: &NativeStore, where_: &str, scope: u32, place: u32) -> Result<()> {
    match e.scopes.borrow().is_next(scope, place) {
        Ok(()) => Ok(()),
        Err(Misuse::NoScope) => type_error(env, INVALID_ARG_VALUE, &format!("{where_}: scope {scope} is not open")),
        Err(Misuse::Place) => {
            type_error(env, INVALID_ARG_VALUE, &format!("{where_}: {place} is not the next place of scope {scope}"))
        }
    }
}

/// Opens a scope; returns its number.
#[napi(catch_unwind)]
pub fn open_scope(env: &Env, store: u32) -> Result<u32> {
    stores::with(env, store, |e| Ok(e.scopes.borrow_mut().open()))
}

/// Closes scope `scope`: every root its handles still hold is dropped.
#[napi(catch_unwind)]
pub fn close_scope(env: &Env, store: u32, scope: u32) -> Result<()> {
    stores::with(env, store, |e| {
        let roots = e.scopes.borrow_mut().close(scope);
        e.store.unroot_many(roots);
        Ok(())
    })
}

/// Allocates an empty object rooted in place `place` of scope `scope`;
/// returns its id.
#[napi(catch_unwind)]
pub fn alloc_scoped(env: &Env, store: u32, scope: u32, place: u32) -> Result<f64> {
    const WHERE: &str = "Scope.prototype.alloc";
    stores::with(env, store, |e| {
        check_place(env, e, WHERE, scope, place)?;
        let id = e.store.alloc(Vec::new()).or_else(|err| core_error(env, WHERE, err))?;
        sync_external_memory(env, e);
        e.scopes.borrow_mut().push(scope, id);
        Ok(id.bits() as f64)
    })
}

/// Roots object `id` in place `place` of scope `scope`; whether it was
/// still alive (if not, the place stays free).
#[napi(catch_unwind)]
pub fn root_scoped(env: &Env, store: u32, scope: u32, place: u32, id: f64) -> Result<bool> {
    let Some(id) = parse_id(id) else { return Ok(false) };
    stores::with(env, store, |e| {
        check_place(env, e, "Scope.prototype.handle", scope, place)?;
        let alive = e.store.root(id);
        if alive {
            e.scopes.borrow_mut().push(scope, id);
        }
        Ok(alive)
    })
}

/// Drops the roots that scoped handles' `release()` queued: `pairs` holds
/// `count` numbers, `[scope, place, scope, place, ...]`. A place already
/// empty, or not handed out, or of a scope that is not open, is skipped.
#[napi(catch_unwind)]
pub fn release_scoped(env: &Env, store: u32, pairs: Uint32ArraySlice, count: u32) -> Result<()> {
    let count = (count as usize).min(pairs.len()) & !1;
    stores::with(env, store, |e| {
        let roots: Vec<ObjId> = {
            let mut scopes = e.scopes.borrow_mut();
            pairs[..count].chunks_exact(2).filter_map(|p| scopes.take(p[0], p[1])).collect()
        };
        e.store.unroot_many(roots);
        Ok(())
    })
}

/// Roots object `id` until the current job ends (KeepDuringJob for a
/// scoped handle: `dropDeferred` drops it); whether it was still alive.
#[napi(catch_unwind)]
pub fn keep_for_job(env: &Env, store: u32, id: f64) -> Result<bool> {
    let Some(id) = parse_id(id) else { return Ok(false) };
    stores::with(env, store, |e| {
        let alive = e.store.root(id);
        if alive {
            e.deferred.borrow_mut().push(id);
        }
        Ok(alive)
    })
}

/// A scoped read's result (see the module docs).
pub enum ScopedOut {
    Plain(Out),
    Ref(ObjId),
    BoxedBigInt(Out),
}

impl ToNapiValue for ScopedOut {
    unsafe fn to_napi_value(env: sys::napi_env, out: Self) -> Result<sys::napi_value> {
        match out {
            // SAFETY: napi-rs's glue passes this call's live `env`.
            ScopedOut::Plain(out) => unsafe { Out::to_napi_value(env, out) },
            ScopedOut::Ref(id) => {
                let mut value = std::ptr::null_mut();
                // SAFETY: `env` is this call's live env; `value` receives
                // the new bigint.
                let status = unsafe { sys::napi_create_bigint_uint64(env, id.bits(), &mut value) };
                check_status!(status, "could not make a bigint")?;
                Ok(value)
            }
            ScopedOut::BoxedBigInt(out) => {
                // SAFETY: as above.
                let big = unsafe { Out::to_napi_value(env, out)? };
                let mut array = std::ptr::null_mut();
                // SAFETY: as above; `array` receives the new array, and
                // `big` is a value of this env.
                unsafe {
                    check_status!(sys::napi_create_array_with_length(env, 1, &mut array), "could not make an array")?;
                    check_status!(sys::napi_set_element(env, array, 0, big), "could not fill an array")?;
                }
                Ok(array)
            }
        }
    }
}

fn read_scoped<'k>(
    env: &Env,
    e: &NativeStore,
    (scope, place): (u32, u32),
    id: ObjId,
    key: impl FieldKey<'k>,
) -> Result<ScopedOut> {
    check_place(env, e, GET, scope, place)?;
    // Only a reference is rooted, and copying one cannot fail: a copy that
    // fails leaves no root behind.
    let out = e.store.with_field_rooted(id, key, |v| match v {
        None => Ok(ScopedOut::Plain(Out::Undefined)),
        Some(Value::Ref(child)) => Ok(ScopedOut::Ref(*child)),
        Some(Value::Bytes(b)) => try_copy(b).map(|copy| ScopedOut::Plain(Out::Buffer(copy))),
        Some(v @ Value::BigInt(_)) => v.try_clone().map(|v| ScopedOut::BoxedBigInt(Out::Value(v))),
        Some(v) => v.try_clone().map(|v| ScopedOut::Plain(Out::Value(v))),
    });
    match out {
        Ok(Ok(out)) => {
            if let ScopedOut::Ref(child) = out {
                e.scopes.borrow_mut().push(scope, child);
            }
            Ok(out)
        }
        Ok(Err(err)) | Err(err) => core_error(env, GET, err),
    }
}

/// The value of field `key` read through a scoped handle; a reference's
/// root goes in place `place` of scope `scope` (see the module docs).
#[napi(catch_unwind, ts_return_type = "null | boolean | number | string | bigint | Buffer | [bigint] | undefined")]
pub fn get_scoped(env: &Env, store: u32, scope: u32, place: u32, id: f64, key: String) -> Result<ScopedOut> {
    let id = object_id(env, GET, id)?;
    stores::with(env, store, |e| read_scoped(env, e, (scope, place), id, &key))
}

/// The value of the field with key id `key` for a scoped handle.
#[napi(catch_unwind, ts_return_type = "null | boolean | number | string | bigint | Buffer | [bigint] | undefined")]
pub fn get_scoped_at(env: &Env, store: u32, scope: u32, place: u32, id: f64, key: f64) -> Result<ScopedOut> {
    let (id, key) = (object_id(env, GET, id)?, key_id(env, GET, key)?);
    stores::with(env, store, |e| read_scoped(env, e, (scope, place), id, key))
}
