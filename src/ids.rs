//! Object ids, key ids and other whole numbers from JavaScript, for every
//! exported function.
//!
//! An id travels as a JavaScript number (`generation << 32 | slot`, below
//! 2^53). Anything else JavaScript passes is refused here, before it
//! reaches the core.
//!
//! # Invariants
//! - `parse_id` accepts exactly the numbers `ObjId::bits` produces; a
//!   function that must throw on a bad id uses `object_id`, one that must
//!   miss silently (the built-ins' `get`/`has`/`delete`) uses `parse_id`.

use napi::bindgen_prelude::*;
use weakstore_core::{KeyId, ObjId};

use crate::errors::{type_error, INVALID_ARG_VALUE};

/// An object id from a JavaScript number: a positive safe integer that
/// `ObjId::from_bits` accepts; `None` for anything else (NaN, fractions,
/// negatives, impossible generations).
pub(crate) fn parse_id(id: f64) -> Option<ObjId> {
    (id.fract() == 0.0 && id > 0.0 && id < 9007199254740992.0).then(|| ObjId::from_bits(id as u64)).flatten()
}

/// A whole number from 0 to `u32::MAX`, or `None` (NaN, fractions,
/// negatives, larger numbers).
pub(crate) fn parse_u32(n: f64) -> Option<u32> {
    (n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n)).then_some(n as u32)
}

/// The key id `key` names (whether the store gave it out is the core's
/// check), or a `TypeError` naming `where_`.
pub(crate) fn key_id(env: &Env, where_: &str, key: f64) -> Result<KeyId> {
    match parse_u32(key) {
        Some(k) => Ok(KeyId::from_index(k)),
        None => type_error(env, INVALID_ARG_VALUE, &format!("{where_}: {key} is not a key id")),
    }
}

/// The id `id` names, or a `TypeError` naming `where_`.
pub(crate) fn object_id(env: &Env, where_: &str, id: f64) -> Result<ObjId> {
    match parse_id(id) {
        Some(id) => Ok(id),
        None => type_error(env, INVALID_ARG_VALUE, &format!("{where_}: {id} is not an object id")),
    }
}
