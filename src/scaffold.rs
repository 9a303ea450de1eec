//! napi-rs 3 API-pattern scaffold (from the build-scaffold task): one small
//! function per pattern the binding relies on, exercised by
//! `__test__/scaffold.test.js`. Compiled only when `src/lib.rs` declares
//! `mod scaffold;` -- keep that line (and the test) to guard the pinned napi
//! versions, or delete this file and the test together.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{JsValue, ValueType};
use napi_derive::napi;

// ---------------------------------------------------------------------------
// Error helpers
// ---------------------------------------------------------------------------

/// Throw a JS `TypeError` and return the `Err` napi-rs expects afterwards.
/// `Status::PendingException` tells napi-rs an exception is already pending,
/// so it does not overwrite it with a generic `Error`.
fn type_error<T>(env: &Env, msg: &str) -> Result<T> {
    env.throw_type_error(msg, None)?;
    Err(Error::new(Status::PendingException, msg.to_owned()))
}

/// Run `f`, turning a Rust panic into a JS `Error` instead of aborting the
/// process (a panic unwinding out of the generated `extern "C"` trampoline
/// aborts). Equivalent to `#[napi(catch_unwind)]` but usable around any block,
/// with no `UnwindSafe` bound on the captures.
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "unknown panic".to_owned()
            };
            Err(Error::new(
                Status::GenericFailure,
                format!("internal panic: {msg}"),
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// a. plain numbers
// ---------------------------------------------------------------------------

#[napi]
pub fn scaffold_numbers(a: u32, b: f64) -> f64 {
    a as f64 * b
}

// ---------------------------------------------------------------------------
// b. dispatch on the type of an unknown JS value
// ---------------------------------------------------------------------------

/// Describes `value`: "null", "bool:true", "number:1.5", "string:abc",
/// "bigint:-:[1,2]" (sign + u64 words, little-endian), "bytes:[1,2,3]".
/// Anything else throws a TypeError.
#[napi]
pub fn scaffold_describe(env: &Env, value: Unknown) -> Result<String> {
    match value.get_type()? {
        ValueType::Null => Ok("null".into()),
        ValueType::Boolean => Ok(format!("bool:{}", unsafe { value.cast::<bool>() }?)),
        ValueType::Number => Ok(format!("number:{}", unsafe { value.cast::<f64>() }?)),
        ValueType::String => Ok(format!("string:{}", unsafe { value.cast::<String>() }?)),
        ValueType::BigInt => {
            let big = unsafe { value.cast::<BigInt>() }?;
            let sign = if big.sign_bit { "-" } else { "+" };
            Ok(format!("bigint:{sign}:{:?}", big.words))
        }
        ValueType::Object if value.is_typedarray()? || value.is_buffer()? => {
            // Buffer is a Uint8Array subclass, so one conversion covers both. The
            // slice borrows JS memory: copy out before returning to JS.
            match unsafe { value.cast::<Uint8ArraySlice>() } {
                Ok(bytes) => Ok(format!("bytes:{:?}", bytes.to_vec())),
                Err(_) => type_error(
                    env,
                    "scaffoldDescribe: only Uint8Array/Buffer typed arrays are supported",
                ),
            }
        }
        other => type_error(
            env,
            &format!("scaffoldDescribe: unsupported value type {other}"),
        ),
    }
}

// ---------------------------------------------------------------------------
// c. return a JS value whose type is chosen at runtime
// ---------------------------------------------------------------------------

/// Variant 1: return `Unknown<'env>`, built with `ToNapiValue::into_unknown`.
#[napi(ts_return_type = "null | boolean | number | string | bigint | Buffer | undefined")]
pub fn scaffold_make_value<'env>(env: &'env Env, kind: String) -> Result<Unknown<'env>> {
    match kind.as_str() {
        "null" => Null.into_unknown(env),
        "bool" => true.into_unknown(env),
        "number" => 2.5f64.into_unknown(env),
        "string" => "hello".into_unknown(env),
        // -(2^64 + 5): words are little-endian u64 limbs.
        "bigint" => BigInt {
            sign_bit: true,
            words: vec![5, 1],
        }
        .into_unknown(env),
        // A NEW Buffer holding a copy of the bytes.
        "buffer" => BufferSlice::copy_from(env, vec![1u8, 2, 3])?.into_unknown(env),
        "undefined" => ().into_unknown(env),
        _ => type_error(env, "scaffoldMakeValue: unknown kind"),
    }
}

/// Variant 2 (no Env, no lifetimes): a Rust enum with a hand-written
/// `ToNapiValue`. Cheap, and the natural shape for a store's value type.
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Big { negative: bool, words: Vec<u64> },
    Bytes(Vec<u8>),
    Undefined,
}

impl ToNapiValue for Value {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        unsafe {
            match val {
                Value::Null => Null::to_napi_value(env, Null),
                Value::Bool(b) => bool::to_napi_value(env, b),
                Value::Num(n) => f64::to_napi_value(env, n),
                Value::Str(s) => String::to_napi_value(env, s),
                Value::Big { negative, words } => BigInt::to_napi_value(
                    env,
                    BigInt {
                        sign_bit: negative,
                        words,
                    },
                ),
                // `Buffer::from(Vec<u8>)` hands the Vec to JS (external memory).
                Value::Bytes(v) => Buffer::to_napi_value(env, Buffer::from(v)),
                Value::Undefined => <()>::to_napi_value(env, ()),
            }
        }
    }
}

#[napi(ts_return_type = "null | boolean | number | string | bigint | Buffer | undefined")]
pub fn scaffold_make_value_enum(kind: u32) -> Value {
    match kind {
        0 => Value::Null,
        1 => Value::Bool(false),
        2 => Value::Num(-0.5),
        3 => Value::Str("enum".into()),
        4 => Value::Big {
            negative: false,
            words: vec![0, 0, 1],
        }, // 2^128
        5 => Value::Bytes(vec![9, 8, 7]),
        _ => Value::Undefined,
    }
}

// ---------------------------------------------------------------------------
// d. Float64Array in / out
// ---------------------------------------------------------------------------

/// Borrow a Float64Array's contents (no copy; valid only during this call).
#[napi]
pub fn scaffold_sum_f64(values: Float64ArraySlice) -> f64 {
    // Not `.sum()`: f64's Sum starts at -0.0, so an empty sum would be -0.
    values.iter().fold(0.0, |a, b| a + b)
}

/// Return a NEW Float64Array that takes ownership of a Vec<f64>.
#[napi]
pub fn scaffold_make_f64(len: u32) -> Float64Array {
    Float64Array::new((0..len).map(|i| i as f64 * 0.5).collect())
}

// ---------------------------------------------------------------------------
// e. weak (unref'd) ThreadsafeFunction kept in a thread_local table
// ---------------------------------------------------------------------------

/// <T = (), Return = (), CallJsBackArgs = (), ErrorStatus, CalleeHandled = false, Weak = true>
type WeakTsfn = ThreadsafeFunction<(), (), (), Status, false, true>;

thread_local! {
  // Only touched on the JS main thread; worker threads get a cloned Arc.
  static CALLBACKS: RefCell<HashMap<u32, Arc<WeakTsfn>>> = RefCell::new(HashMap::new());
  static NEXT_CALLBACK: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// Register `callback` as a weak TSFN; returns its id. A weak TSFN does not
/// keep the event loop alive, so a process that registers one still exits.
#[napi]
pub fn scaffold_register_callback(callback: Function<(), ()>) -> Result<u32> {
    let tsfn: WeakTsfn = callback
        .build_threadsafe_function::<()>()
        .weak::<true>()
        .build()?;
    let id = NEXT_CALLBACK.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    CALLBACKS.with(|t| t.borrow_mut().insert(id, Arc::new(tsfn)));
    Ok(id)
}

/// Spawn a std::thread that, after ~10 ms, queues a non-blocking call of the
/// registered callback; the JS callback then runs on the main thread.
#[napi]
pub fn scaffold_fire_callback_later(env: &Env, id: u32) -> Result<()> {
    let Some(tsfn) = CALLBACKS.with(|t| t.borrow().get(&id).cloned()) else {
        return type_error(env, "scaffoldFireCallbackLater: unknown callback id");
    };
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        // Returns Status::Closing if the env is gone; nothing to do then.
        let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
    });
    Ok(())
}

#[napi]
pub fn scaffold_unregister_callback(id: u32) -> bool {
    CALLBACKS.with(|t| t.borrow_mut().remove(&id).is_some())
}

// ---------------------------------------------------------------------------
// f. Env access: adjust_external_memory
// ---------------------------------------------------------------------------

/// Report `delta` bytes of off-heap memory to V8 (negative to release).
/// Returns V8's new total of externally allocated memory.
#[napi]
pub fn scaffold_adjust_external_memory(env: &Env, delta: i64) -> Result<i64> {
    env.adjust_external_memory(delta)
}

// ---------------------------------------------------------------------------
// g. thread_local table of Arc<Struct> keyed by u32
// ---------------------------------------------------------------------------

pub struct Handle {
    pub name: String,
    pub counter: AtomicU64,
}

thread_local! {
  static HANDLES: RefCell<HashMap<u32, Arc<Handle>>> = RefCell::new(HashMap::new());
  static NEXT_HANDLE: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

fn handle(env: &Env, id: u32) -> Result<Arc<Handle>> {
    match HANDLES.with(|t| t.borrow().get(&id).cloned()) {
        Some(h) => Ok(h),
        None => type_error(env, "invalid handle"),
    }
}

#[napi]
pub fn scaffold_handle_create(name: String) -> u32 {
    let id = NEXT_HANDLE.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let h = Arc::new(Handle {
        name,
        counter: AtomicU64::new(0),
    });
    HANDLES.with(|t| t.borrow_mut().insert(id, h));
    id
}

/// Increment the handle's counter; returns "name:count".
#[napi]
pub fn scaffold_handle_bump(env: &Env, id: u32) -> Result<String> {
    let h = handle(env, id)?;
    let n = h.counter.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(format!("{}:{}", h.name, n))
}

#[napi]
pub fn scaffold_handle_destroy(id: u32) -> bool {
    HANDLES.with(|t| t.borrow_mut().remove(&id).is_some())
}

#[napi]
pub fn scaffold_handle_count() -> u32 {
    HANDLES.with(|t| t.borrow().len() as u32)
}

// ---------------------------------------------------------------------------
// h. panics -> JS exceptions
// ---------------------------------------------------------------------------

/// napi-rs 3 does NOT catch panics by default; `#[napi(catch_unwind)]` opts in
/// (the panic message becomes a JS Error with code "GenericFailure").
#[napi(catch_unwind)]
pub fn scaffold_panic_attr(should_panic: bool) -> u32 {
    if should_panic {
        panic!("boom from attr");
    }
    7
}

/// Same, with the local `guard` helper (works for any closure and lets us
/// prefix / classify the message).
#[napi]
pub fn scaffold_panic_guard(should_panic: bool) -> Result<u32> {
    guard(|| {
        if should_panic {
            panic!("boom from guard");
        }
        Ok(8)
    })
}

/// Debug id of the calling OS thread (the test compares the value seen inside
/// the TSFN callback with the one seen at top level: same thread = main).
#[napi]
pub fn scaffold_thread_id() -> String {
    format!("{:?}", std::thread::current().id())
}

/// Panics with no guard: the process aborts ("panic in a function that cannot
/// unwind"). Exists only so the test can prove panics are not caught by default.
#[napi]
pub fn scaffold_panic_unguarded() {
    panic!("unguarded boom");
}
