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
use weakstore_core::{BigInt as CoreBigInt, Value};

use crate::errors::{type_error, INVALID_ARG_TYPE};

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
        ValueType::String => Value::String(String::from_unknown(value)?.into_boxed_str()),
        ValueType::BigInt => {
            let big = BigInt::from_unknown(value)?;
            Value::BigInt(CoreBigInt { negative: big.sign_bit, words: big.words.into_boxed_slice() })
        }
        ValueType::Object if value.is_typedarray()? => match Uint8ArraySlice::from_unknown(value) {
            Ok(bytes) => Value::Bytes(bytes.to_vec().into_boxed_slice()),
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

/// A field value on its way out to JavaScript.
pub enum Out {
    Undefined,
    Value(Value),
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
                Out::Value(Value::String(s)) => String::to_napi_value(env, s.into_string()),
                Out::Value(Value::BigInt(b)) => {
                    BigInt::to_napi_value(env, BigInt { sign_bit: b.negative, words: b.words.into_vec() })
                }
                Out::Value(Value::Bytes(b)) => Buffer::to_napi_value(env, Buffer::from(b.into_vec())),
                Out::Value(Value::Ref(id)) => Vec::<f64>::to_napi_value(env, vec![id.bits() as f64]),
                Out::Rooted(id) => Vec::<f64>::to_napi_value(env, vec![id.bits() as f64, 1.0]),
                Out::External => Vec::<f64>::to_napi_value(env, Vec::new()),
                Out::Handle(handle) => Ok(handle),
            }
        }
    }
}
