//! Translation between JavaScript values and store field values.
//!
//! In: `null`, booleans, numbers, strings, bigints and `Uint8Array`s
//! (`Buffer` included; bytes are copied). Anything else is a `TypeError`.
//! Handles never come through here: the JavaScript layer passes their ids
//! to `setRef`.
//!
//! Out: the same kinds, with bytes as a new `Buffer` (a copy), and a
//! reference as its object's live canonical handle, or, when it has none,
//! as a one-element array `[id]` that the JavaScript layer turns into a new
//! canonical handle (no field value is ever an array, so the shape is
//! unambiguous). An ephemeron value that JavaScript holds itself comes out
//! as `[]`.

use napi::bindgen_prelude::*;
use napi::ValueType;
use weakstore_core::{BigInt as CoreBigInt, Bytes, Str, Value};

use crate::errors::{allocation_refused, type_error, INVALID_ARG_TYPE};

const EXPECTED: &str =
    "a field value: null, a boolean, number, string, bigint, Buffer/Uint8Array, or a Handle of the same store";

fn kind(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Symbol => "a symbol",
        ValueType::Function => "a function",
        ValueType::Object => "an object",
        ValueType::External => "an external",
        _ => "an unsupported value",
    }
}

/// Converts a JavaScript value into a field value (copying its contents).
pub fn from_js(env: &Env, where_: &str, value: Unknown) -> Result<Value> {
    let t = value.get_type()?;
    // `from_unknown` goes through napi_get_value_*, which check the type
    // themselves; each arm converts to the type `get_type` just reported.
    Ok(match t {
        ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(bool::from_unknown(value)?),
        ValueType::Number => Value::Number(f64::from_unknown(value)?),
        ValueType::String => Value::String(string(env, where_, value)?),
        ValueType::BigInt => {
            let big = BigInt::from_unknown(value)?;
            Value::BigInt(Box::new(CoreBigInt { negative: big.sign_bit, words: big.words.into_boxed_slice() }))
        }
        ValueType::Object if value.is_typedarray()? => match Uint8ArraySlice::from_unknown(value) {
            Ok(bytes) => match Bytes::try_from_slice(&bytes) {
                Ok(copy) => Value::Bytes(copy),
                Err(_) => return allocation_refused(env, where_, bytes.len()),
            },
            Err(_) => {
                return type_error(
                    env,
                    INVALID_ARG_TYPE,
                    &format!("{where_}: expected {EXPECTED}; typed arrays other than Uint8Array are not accepted"),
                )
            }
        },
        other => {
            return type_error(env, INVALID_ARG_TYPE, &format!("{where_}: expected {EXPECTED}, got {}", kind(other)))
        }
    })
}

/// A JavaScript string's UTF-8 copy (lone surrogates become U+FFFD, as in
/// every Node-API string read), or `ERR_WEAKSTORE_OUT_OF_MEMORY` if the
/// allocator refuses its bytes.
fn string(env: &Env, where_: &str, value: Unknown) -> Result<Str> {
    let (raw_env, raw) = (env.raw(), value.raw());
    // Most field strings are short: read them into a stack buffer, so that
    // one held inline by the value allocates nothing.
    let mut short = [0u8; 64];
    let mut written = 0;
    // SAFETY: `raw_env` is this call's live environment and `raw` a value
    // of it that `get_type` reported as a string; `short` has room for
    // `short.len()` bytes, the NUL included.
    let status =
        unsafe { sys::napi_get_value_string_utf8(raw_env, raw, short.as_mut_ptr().cast(), short.len(), &mut written) };
    check_status!(status, "{where_}: could not read a string")?;
    if written + 4 < short.len() {
        // Node-API stops a character early when the next one would not fit
        // with the NUL; with 4 bytes (a whole character) to spare, the
        // string was shorter than the buffer and came whole.
        // SAFETY: Node-API writes well-formed UTF-8 (lone surrogates become
        // U+FFFD) and truncates only at a character boundary.
        let s = unsafe { std::str::from_utf8_unchecked(&short[..written]) };
        return Str::try_from_str(s).or_else(|_| allocation_refused(env, where_, written));
    }
    let mut len = 0;
    // SAFETY: as above; a null buffer asks for the length alone.
    let status = unsafe { sys::napi_get_value_string_utf8(raw_env, raw, std::ptr::null_mut(), 0, &mut len) };
    check_status!(status, "{where_}: could not read a string")?;
    let mut bytes: Vec<u8> = Vec::new();
    if bytes.try_reserve_exact(len + 1).is_err() {
        return allocation_refused(env, where_, len);
    }
    let mut written = 0;
    // SAFETY: as above; `bytes` has room for `len + 1` bytes (the string
    // and the terminating NUL that Node-API writes), and `written` is set
    // to the bytes written before that NUL.
    let status =
        unsafe { sys::napi_get_value_string_utf8(raw_env, raw, bytes.as_mut_ptr().cast(), len + 1, &mut written) };
    check_status!(status, "{where_}: could not read a string")?;
    // SAFETY: Node-API wrote `written <= len` initialised bytes.
    unsafe { bytes.set_len(written.min(len)) };
    // SAFETY: `napi_get_value_string_utf8` writes well-formed UTF-8 (V8's
    // `WriteUtf8` replaces lone surrogates with U+FFFD) and truncates only
    // at a character boundary; the buffer held the whole string.
    let s = unsafe { std::str::from_utf8_unchecked(&bytes) };
    Str::try_from_str(s).or_else(|_| allocation_refused(env, where_, len))
}

/// A field value on its way out to JavaScript.
pub enum Out {
    Undefined,
    Value(Value),
    /// A buffer's bytes, copied once: the `Buffer` takes the vector over.
    Buffer(Vec<u8>),
    /// An ephemeron value the JavaScript side holds: `[]`.
    External,
    /// A reference whose object has a live canonical handle: the handle.
    Handle(sys::napi_value),
    /// A reference with a root owned by JavaScript now (a shared store's
    /// read): `[id, 1]`.
    Rooted(weakstore_core::ObjId),
}

impl Out {
    /// A reference becomes its object's live canonical handle, if it has
    /// one (so JavaScript needs no second call to find it).
    pub fn canonical(self, env: &Env, e: &crate::stores::NativeStore) -> Out {
        match self {
            Out::Value(Value::Ref(id)) => match crate::wrappers::handle_of(env, e, id) {
                Some(handle) => Out::Handle(handle),
                None => Out::Value(Value::Ref(id)),
            },
            other => other,
        }
    }

    /// A field read with its reference rooted (`Store::get_rooted`): the
    /// object's live canonical handle (the new root is dropped), or
    /// `Rooted`, whose root JavaScript adopts.
    pub fn rooted(env: &Env, e: &crate::stores::NativeStore, value: Option<Value>) -> Out {
        match value {
            Some(Value::Ref(id)) => match crate::wrappers::handle_of(env, e, id) {
                Some(handle) => {
                    let _ = e.store.unroot(id);
                    Out::Handle(handle)
                }
                None => Out::Rooted(id),
            },
            Some(v) => Out::Value(v),
            None => Out::Undefined,
        }
    }
}

impl ToNapiValue for Out {
    unsafe fn to_napi_value(env: sys::napi_env, out: Self) -> Result<sys::napi_value> {
        // SAFETY: the caller (napi-rs's generated glue) passes the live
        // `env` of the current call; each delegate below has the same
        // contract.
        unsafe {
            match out {
                Out::Undefined => <()>::to_napi_value(env, ()),
                Out::Value(Value::Null) => Null::to_napi_value(env, Null),
                Out::Value(Value::Bool(b)) => bool::to_napi_value(env, b),
                Out::Value(Value::Number(n)) => f64::to_napi_value(env, n),
                Out::Value(Value::String(s)) => <&str>::to_napi_value(env, s.as_str()),
                Out::Value(Value::BigInt(b)) => {
                    BigInt::to_napi_value(env, BigInt { sign_bit: b.negative, words: b.words.into_vec() })
                }
                Out::Buffer(bytes) => Buffer::to_napi_value(env, Buffer::from(bytes)),
                Out::Value(Value::Bytes(b)) => match weakstore_core::try_copy(&b) {
                    // The buffer takes the copy over (no second copy).
                    Ok(copy) => Buffer::to_napi_value(env, Buffer::from(copy)),
                    Err(_) => allocation_refused(&Env::from_raw(env), "Handle.prototype.get", b.len()),
                },
                Out::Value(Value::Ref(id)) => Vec::<f64>::to_napi_value(env, vec![id.bits() as f64]),
                Out::Rooted(id) => Vec::<f64>::to_napi_value(env, vec![id.bits() as f64, 1.0]),
                Out::External => Vec::<f64>::to_napi_value(env, Vec::new()),
                Out::Handle(handle) => Ok(handle),
            }
        }
    }
}
