//! Field values: what a store object may hold.
//!
//! A field holds plain data (copied in, never shared with the embedder) or a
//! strong reference to another object of the same store. Nothing here can
//! point back into the embedder's heap, so the store never takes part in a
//! cycle through a foreign garbage collector.
//!
//! # Invariants
//! - [`Value::Ref`] is the only variant the collector traces.
//! - [`Value::heap_bytes`] counts the bytes a value owns outside its own
//!   inline size, as the allocator holds them (`text::alloc_bytes`).
//! - A value is 16 bytes: strings, buffers and bigints keep one word inline
//!   (short strings none: they live in the value, see `text`).

mod text;

pub(crate) use text::alloc_bytes;
pub use text::{Bytes, Str};

use crate::error::{Error, Result};
use crate::id::ObjId;

/// An arbitrary-precision integer as sign and little-endian 64-bit words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BigInt {
    /// `true` for values below zero.
    pub negative: bool,
    /// The magnitude, least significant word first.
    pub words: Box<[u64]>,
}

/// One field value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A double, any bit pattern (NaN included).
    Number(f64),
    /// A UTF-8 string.
    String(Str),
    /// An arbitrary-precision integer (boxed: bigints are rare in fields).
    BigInt(Box<BigInt>),
    /// An owned byte buffer (copied in).
    Bytes(Bytes),
    /// A strong edge to another object of the same store.
    Ref(ObjId),
}

impl Value {
    /// The object this value refers to, if it is an edge.
    #[inline]
    pub fn as_ref(&self) -> Option<ObjId> {
        match self {
            Value::Ref(id) => Some(*id),
            _ => None,
        }
    }

    /// Bytes owned outside the value's inline size.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::String(s) => s.heap_bytes(),
            Value::BigInt(b) => alloc_bytes(std::mem::size_of::<BigInt>()) + alloc_bytes(b.words.len() * 8),
            Value::Bytes(b) => b.heap_bytes(),
            _ => 0,
        }
    }

    /// A copy, or [`Error::AllocationFailed`] if the allocator refuses the
    /// string's or the buffer's bytes (a value read out of the store may
    /// be large; failing to copy it must not abort the process).
    #[inline]
    pub fn try_clone(&self) -> Result<Value> {
        match self {
            Value::String(_) | Value::Bytes(_) => self.try_clone_owned(),
            // Copies, or a bigint's few words.
            other => Ok(other.clone()),
        }
    }

    /// `try_clone` of a string or a buffer (off the hot path of numbers).
    #[inline(never)]
    fn try_clone_owned(&self) -> Result<Value> {
        Ok(match self {
            Value::String(s) => Value::String(Str::try_from_str(s)?),
            Value::Bytes(b) => Value::Bytes(Bytes::try_from_slice(b)?),
            other => other.clone(),
        })
    }
}

/// A copy of `bytes` in a new vector, or [`Error::AllocationFailed`].
pub fn try_copy(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(bytes.len()).map_err(|_| Error::AllocationFailed(bytes.len()))?;
    copy.extend_from_slice(bytes);
    Ok(copy)
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);
