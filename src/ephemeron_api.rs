//! Exported functions for `WeakMap` and `WeakSet`: ephemeron tables of a
//! store, named by id, with keys named by object id.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::{EphemeronValue, Value};

use crate::errors::{core_error, type_error, INVALID_ARG_TYPE};
use crate::ids::{object_id, parse_id};
use crate::stores;
use crate::values::{from_js, Out};

#[napi(catch_unwind)]
pub fn new_table(env: &Env, store: u32) -> Result<u32> {
    stores::with(env, store, |e| {
        let table = e.store.new_ephemeron_table();
        let id = table.id();
        e.tables.borrow_mut().insert(id, table);
        Ok(id)
    })
}

/// Drops a table (its `WeakMap` was collected). Missing store: nothing to do.
#[napi(catch_unwind)]
pub fn drop_table(store: u32, table: u32) {
    // The store may already be gone (closed, or collected before the
    // table's finalizer ran): nothing left to drop then, and nothing to throw.
    stores::try_with_store(store, |e| {
        if let Some(t) = e.tables.borrow_mut().remove(&table) {
            e.store.drop_ephemeron_table(&t);
        }
    });
}

fn set(env: &Env, store: u32, table: u32, key: f64, value: EphemeronValue) -> Result<()> {
    const WHERE: &str = "WeakMap.prototype.set";
    let key = object_id(env, WHERE, key)?;
    stores::with(env, store, |e| {
        let t = e.table(env, table)?;
        e.store.ephemeron_set(&t, key, value).or_else(|err| core_error(env, WHERE, err))
    })
}

/// Sets a primitive value (null, boolean, number, string, bigint).
#[napi(catch_unwind)]
pub fn eph_set_value(env: &Env, store: u32, table: u32, key: f64, value: Unknown) -> Result<()> {
    let value = from_js(env, "WeakMap.prototype.set", value)?;
    if matches!(value, Value::Bytes(_)) {
        return type_error(
            env,
            INVALID_ARG_TYPE,
            "WeakMap.prototype.set: byte values are held by JavaScript, not copied",
        );
    }
    set(env, store, table, key, EphemeronValue::Field(value))
}

/// Sets a reference to object `target` of the same store.
#[napi(catch_unwind)]
pub fn eph_set_ref(env: &Env, store: u32, table: u32, key: f64, target: f64) -> Result<()> {
    let target = object_id(env, "WeakMap.prototype.set", target)?;
    set(env, store, table, key, EphemeronValue::Field(Value::Ref(target)))
}

/// Records that JavaScript holds the value for `key`.
#[napi(catch_unwind)]
pub fn eph_set_external(env: &Env, store: u32, table: u32, key: f64) -> Result<()> {
    set(env, store, table, key, EphemeronValue::External)
}

/// The value for `key`: a primitive, a reference as its live canonical
/// handle or else `[id]`, `[]` when JavaScript holds it, `undefined` when
/// absent.
#[napi(catch_unwind, ts_return_type = "null | boolean | number | string | bigint | object | [number] | [] | undefined")]
pub fn eph_get(env: &Env, store: u32, table: u32, key: f64) -> Result<Out> {
    let Some(key) = parse_id(key) else { return Ok(Out::Undefined) };
    stores::with(env, store, |e| {
        let t = e.table(env, table)?;
        let out = e.store.ephemeron_with(&t, key, |v| match v {
            None => Ok(Out::Undefined),
            Some(EphemeronValue::External) => Ok(Out::External),
            Some(EphemeronValue::Field(v)) => v.try_clone().map(Out::Value),
        });
        match out {
            Ok(out) => Ok(out.canonical(env, e)),
            Err(err) => core_error(env, "WeakMap.prototype.get", err),
        }
    })
}

#[napi(catch_unwind)]
pub fn eph_has(env: &Env, store: u32, table: u32, key: f64) -> Result<bool> {
    let Some(key) = parse_id(key) else { return Ok(false) };
    stores::with(env, store, |e| Ok(e.store.ephemeron_has(&e.table(env, table)?, key)))
}

#[napi(catch_unwind)]
pub fn eph_delete(env: &Env, store: u32, table: u32, key: f64) -> Result<bool> {
    let Some(key) = parse_id(key) else { return Ok(false) };
    stores::with(env, store, |e| Ok(e.store.ephemeron_delete(&e.table(env, table)?, key)))
}

/// `[table, key]` pairs of freed keys whose values JavaScript holds.
#[napi(catch_unwind)]
pub fn take_dead_entries(env: &Env, store: u32) -> Result<Float64Array> {
    stores::with(env, store, |e| {
        let mut dead = Vec::new();
        e.store.take_dead_external(&mut dead);
        Ok(Float64Array::new(dead.into_iter().flat_map(|(t, k)| [f64::from(t), k.bits() as f64]).collect()))
    })
}
