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
/// The store's collector thread could not be started.
pub const THREAD: &str = "ERR_WEAKSTORE_THREAD";
/// The store is at its cap (`maxBytes`), or the allocator refused a value.
pub const OUT_OF_MEMORY: &str = "ERR_WEAKSTORE_OUT_OF_MEMORY";

/// Throws a `TypeError` with `code` and `message`.
pub fn type_error<T>(env: &Env, code: &str, message: &str) -> Result<T> {
    env.throw_type_error(message, Some(code))?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Throws a `RangeError` with `ERR_OUT_OF_RANGE` and `message`.
pub fn range_error<T>(env: &Env, message: &str) -> Result<T> {
    range_error_with(env, OUT_OF_RANGE, message)
}

/// Throws a `RangeError` with `code` and `message`.
pub fn range_error_with<T>(env: &Env, code: &str, message: &str) -> Result<T> {
    env.throw_range_error(message, Some(code))?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// Throws a plain `Error` with `code` and `message`.
pub fn plain_error<T>(env: &Env, code: &str, message: &str) -> Result<T> {
    env.throw_error(message, Some(code))?;
    Err(Error::new(Status::PendingException, message.to_owned()))
}

/// The `ERR_WEAKSTORE_OUT_OF_MEMORY` error of a value of `bytes` bytes
/// that the allocator refused (no cap involved).
pub fn allocation_refused<T>(env: &Env, where_: &str, bytes: usize) -> Result<T> {
    range_error_with(
        env,
        OUT_OF_MEMORY,
        &format!("{where_}: could not allocate {bytes} bytes for the value (the system is out of memory)"),
    )
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
        E::AllocationFailed(bytes) => allocation_refused(env, where_, bytes),
        E::OutOfMemory(bytes) => range_error_with(
            env,
            OUT_OF_MEMORY,
            &format!(
                "{where_}: the store is full: {bytes} more bytes would pass its maxBytes (see stats().headroom); \
                 release objects or raise maxBytes"
            ),
        ),
        E::ThreadStart(errno) => {
            let why = errno.map_or_else(
                || "refused (injected fault)".to_owned(),
                |e| std::io::Error::from_raw_os_error(e).to_string(),
            );
            plain_error(
                env,
                THREAD,
                &format!(
                    "{where_}: could not start the collector thread ({why}); the process may be at its thread \
                     limit (ulimit -u, a cgroup's pids.max, systemd's TasksMax)"
                ),
            )
        }
        E::UnknownKey(k) => type_error(env, INVALID_ARG_VALUE, &format!("{where_}: {k} is not a key id of this store")),
        E::NotRooted(_) | E::UnknownRegistry(_) => {
            Err(Error::new(Status::GenericFailure, format!("{where_}: internal weakstore error: {error}")))
        }
    }
}
