//! Every JavaScript error the binding throws is made here, each with a
//! Node-style `code` (the README lists them).
//!
//! napi-rs turns an `Err` into a plain `Error`; for `TypeError` and
//! `RangeError` we throw the right constructor ourselves and return
//! `PendingException`, which napi-rs leaves alone.

use napi::bindgen_prelude::*;

/// A value of the wrong type.
pub const INVALID_ARG_TYPE: &str = "ERR_INVALID_ARG_TYPE";
/// A value of the right type that is not acceptable.
pub const INVALID_ARG_VALUE: &str = "ERR_INVALID_ARG_VALUE";
/// A number outside its range.
pub const OUT_OF_RANGE: &str = "ERR_OUT_OF_RANGE";
/// The object a handle names was collected.
pub const COLLECTED: &str = "ERR_WEAKSTORE_COLLECTED";
/// `Store.attach`: no store is shared under the value's key with its secret.
pub const UNKNOWN_STORE: &str = "ERR_WEAKSTORE_UNKNOWN_STORE";
/// The store was closed (or the table dropped).
pub const CLOSED: &str = "ERR_WEAKSTORE_CLOSED";

/// Throws a `TypeError` with `code` and `message`.
pub fn type_error<T>(env: &Env, code: &str, message: &str) -> Result<T> {
    env.throw_type_error(message, Some(code))?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Throws a `RangeError` with `ERR_OUT_OF_RANGE` and `message`.
pub fn range_error<T>(env: &Env, message: &str) -> Result<T> {
    env.throw_range_error(message, Some(OUT_OF_RANGE))?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Maps a core error to the JavaScript error a user should see.
pub fn core_error<T>(env: &Env, where_: &str, error: weakstore_core::Error) -> Result<T> {
    use weakstore_core::Error as E;
    match error {
        E::Dead(_) => type_error(
            env,
            COLLECTED,
            &format!("{where_}: the object was collected (its handle was released or never valid)"),
        ),
        E::HeldIsTarget(_) => {
            type_error(env, INVALID_ARG_VALUE, &format!("{where_}: target and held value must not be the same object"))
        }
        E::NotRooted(_) | E::UnknownRegistry(_) => {
            Err(Error::new(Status::GenericFailure, format!("{where_}: internal weakstore error: {error}")))
        }
    }
}
