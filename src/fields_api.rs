//! The exported field operations: read, write, test and delete a field,
//! list the keys.
//!
//! A field is named by its string or by its key id (see
//! `weakstore_core::KeyId`): the JavaScript layer caches the id a write
//! by name returns and passes that number from then on, so a hot read or
//! write crosses the boundary with numbers only (`getAt`, `setNumberAt`).
//! Reads, tests and deletes by an id the store never gave out find no
//! field; a write by one is a `TypeError`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::{try_copy, FieldKey, Store, Value};

use crate::errors::core_error;
use crate::ids::{key_id, object_id};
use crate::stores::{self, sync_external_memory, NativeStore};
use crate::values::{from_js, Out};

const SET: &str = "Handle.prototype.set";
const GET: &str = "Handle.prototype.get";

/// The key id of `key` after a write by name (the write interned it, if a
/// shape holds the field), or -1 (a dictionary-mode object's own key).
fn learned(store: &Store, key: &str) -> i64 {
    store.key_id(key).map_or(-1, |k| i64::from(k.index()))
}

/// Sets a plain-data field; returns the key's id, or -1 (see [`learned`]).
#[napi(catch_unwind)]
pub fn set_value(env: &Env, store: u32, id: f64, key: String, value: Unknown) -> Result<i64> {
    let id = object_id(env, SET, id)?;
    let value = from_js(env, SET, value)?;
    stores::with(env, store, |e| {
        e.store.set(id, &key, value).or_else(|err| core_error(env, SET, err))?;
        sync_external_memory(env, e);
        Ok(learned(&e.store, &key))
    })
}

/// Sets a field to a reference to object `target`; returns the key's id,
/// or -1.
#[napi(catch_unwind)]
pub fn set_ref(env: &Env, store: u32, id: f64, key: String, target: f64) -> Result<i64> {
    let id = object_id(env, SET, id)?;
    let target = object_id(env, SET, target)?;
    stores::with(env, store, |e| {
        e.store.set(id, &key, Value::Ref(target)).or_else(|err| core_error(env, SET, err))?;
        Ok(learned(&e.store, &key))
    })
}

/// Sets the field with key id `key` to a plain-data value.
#[napi(catch_unwind)]
pub fn set_value_at(env: &Env, store: u32, id: f64, key: f64, value: Unknown) -> Result<()> {
    let (id, key) = (object_id(env, SET, id)?, key_id(env, SET, key)?);
    let value = from_js(env, SET, value)?;
    stores::with(env, store, |e| {
        e.store.set(id, key, value).or_else(|err| core_error(env, SET, err))?;
        sync_external_memory(env, e);
        Ok(())
    })
}

/// Sets the field with key id `key` to a number.
#[napi(catch_unwind)]
pub fn set_number_at(env: &Env, store: u32, id: f64, key: f64, value: f64) -> Result<()> {
    let (id, key) = (object_id(env, SET, id)?, key_id(env, SET, key)?);
    stores::with(env, store, |e| e.store.set(id, key, Value::Number(value)).or_else(|err| core_error(env, SET, err)))
}

/// Sets the field with key id `key` to a reference to object `target`.
#[napi(catch_unwind)]
pub fn set_ref_at(env: &Env, store: u32, id: f64, key: f64, target: f64) -> Result<()> {
    let (id, key) = (object_id(env, SET, id)?, key_id(env, SET, key)?);
    let target = object_id(env, SET, target)?;
    stores::with(env, store, |e| e.store.set(id, key, Value::Ref(target)).or_else(|err| core_error(env, SET, err)))
}

/// The value of a field for JavaScript: a reference comes back as its
/// object's live canonical handle, or else as `[id]`, unrooted (the
/// JavaScript layer roots it before anything else can run), or, in a
/// shared store, as `[id, 1]`: rooted already, since another thread could
/// remove the edge and let the object die before JavaScript roots it.
fn read<'k>(env: &Env, e: &NativeStore, id: weakstore_core::ObjId, key: impl FieldKey<'k>) -> Result<Out> {
    // One lookup copies the value out under the object's lock: a buffer
    // straight into the vector the JavaScript `Buffer` takes over (one
    // copy, not two), a shared store's reference not at all (it needs its
    // root taken under that lock: `get_rooted` below).
    let shared = e.store.is_shared();
    let copied = e.store.with_field(id, key, |v| match v {
        None => Ok(Some(Out::Undefined)),
        Some(Value::Bytes(b)) => try_copy(b).map(|copy| Some(Out::Buffer(copy))),
        Some(Value::Ref(_)) if shared => Ok(None),
        Some(v) => v.try_clone().map(|v| Some(Out::Value(v))),
    });
    match copied {
        Ok(Ok(Some(out))) => Ok(out.canonical(env, e)),
        Ok(Ok(None)) => match e.store.get_rooted(id, key) {
            Ok(v) => Ok(Out::rooted(env, e, v)),
            Err(err) => core_error(env, GET, err),
        },
        Ok(Err(err)) | Err(err) => core_error(env, GET, err),
    }
}

/// The value of field `key` (see [`read`]).
#[napi(
    catch_unwind,
    ts_return_type = "null | boolean | number | string | bigint | Buffer | object | [number] | [number, 1] | undefined"
)]
pub fn get(env: &Env, store: u32, id: f64, key: String) -> Result<Out> {
    let id = object_id(env, GET, id)?;
    stores::with(env, store, |e| read(env, e, id, &key))
}

/// The value of the field with key id `key` (see [`read`]).
#[napi(
    catch_unwind,
    ts_return_type = "null | boolean | number | string | bigint | Buffer | object | [number] | [number, 1] | undefined"
)]
pub fn get_at(env: &Env, store: u32, id: f64, key: f64) -> Result<Out> {
    let (id, key) = (object_id(env, GET, id)?, key_id(env, GET, key)?);
    stores::with(env, store, |e| read(env, e, id, key))
}

#[napi(catch_unwind)]
pub fn has(env: &Env, store: u32, id: f64, key: String) -> Result<bool> {
    const WHERE: &str = "Handle.prototype.has";
    let id = object_id(env, WHERE, id)?;
    stores::with(env, store, |e| e.store.has(id, &key).or_else(|err| core_error(env, WHERE, err)))
}

#[napi(catch_unwind)]
pub fn has_at(env: &Env, store: u32, id: f64, key: f64) -> Result<bool> {
    const WHERE: &str = "Handle.prototype.has";
    let (id, key) = (object_id(env, WHERE, id)?, key_id(env, WHERE, key)?);
    stores::with(env, store, |e| e.store.has(id, key).or_else(|err| core_error(env, WHERE, err)))
}

#[napi(catch_unwind)]
pub fn del(env: &Env, store: u32, id: f64, key: String) -> Result<bool> {
    const WHERE: &str = "Handle.prototype.delete";
    let id = object_id(env, WHERE, id)?;
    stores::with(env, store, |e| e.store.delete(id, &key).or_else(|err| core_error(env, WHERE, err)))
}

#[napi(catch_unwind)]
pub fn del_at(env: &Env, store: u32, id: f64, key: f64) -> Result<bool> {
    const WHERE: &str = "Handle.prototype.delete";
    let (id, key) = (object_id(env, WHERE, id)?, key_id(env, WHERE, key)?);
    stores::with(env, store, |e| e.store.delete(id, key).or_else(|err| core_error(env, WHERE, err)))
}

/// How many fields object `id` has.
#[napi(catch_unwind)]
pub fn field_count(env: &Env, store: u32, id: f64) -> Result<u32> {
    const WHERE: &str = "Handle.prototype.size";
    let id = object_id(env, WHERE, id)?;
    stores::with(env, store, |e| e.store.field_count(id).map(|n| n as u32).or_else(|err| core_error(env, WHERE, err)))
}

#[napi(catch_unwind)]
pub fn keys(env: &Env, store: u32, id: f64) -> Result<Vec<String>> {
    const WHERE: &str = "Handle.prototype.keys";
    let id = object_id(env, WHERE, id)?;
    stores::with(env, store, |e| e.store.keys(id).or_else(|err| core_error(env, WHERE, err)))
}
