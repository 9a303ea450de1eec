//! Every JavaScript error the binding throws is made here.
//!
//! napi-rs turns an `Err` into a plain `Error`; for `TypeError` and
//! `RangeError` we throw the right constructor ourselves and return
//! `PendingException`, which napi-rs leaves alone.

use napi::bindgen_prelude::*;

/// Throws a `TypeError` with `message`.
pub fn type_error<T>(env: &Env, message: &str) -> Result<T> {
    env.throw_type_error(message, None)?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Throws a `RangeError` with `message`.
pub fn range_error<T>(env: &Env, message: &str) -> Result<T> {
    env.throw_range_error(message, None)?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Maps a core error to the JavaScript error a user should see.
pub fn core_error<T>(env: &Env, where_: &str, error: weakstore_core::Error) -> Result<T> {
    use weakstore_core::Error as E;
    match error {
        E::Dead(_) => type_error(env, &format!("{where_}: the object was collected (its handle was released or never valid)")),
        E::HeldIsTarget(_) => type_error(env, &format!("{where_}: target and held value must not be the same object")),
        E::NotRooted(_) | E::UnknownRegistry(_) => {
            Err(Error::new(Status::GenericFailure, format!("{where_}: internal weakstore error: {error}")))
        }
    }
}
