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
//!   inline size, so the store's byte accounting is exact up to allocator
//!   rounding.

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
    String(Box<str>),
    /// An arbitrary-precision integer.
    BigInt(BigInt),
    /// An owned byte buffer (copied in).
    Bytes(Box<[u8]>),
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
            Value::String(s) => s.len(),
            Value::BigInt(b) => b.words.len() * 8,
            Value::Bytes(b) => b.len(),
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
            Value::String(s) => {
                let mut copy = String::new();
                copy.try_reserve_exact(s.len()).map_err(|_| refused(s.len()))?;
                copy.push_str(s);
                Value::String(copy.into_boxed_str())
            }
            Value::Bytes(b) => Value::Bytes(try_copy(b)?.into_boxed_slice()),
            other => other.clone(),
        })
    }
}

/// A copy of `bytes` in a new vector, or [`Error::AllocationFailed`].
pub fn try_copy(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(bytes.len()).map_err(|_| refused(bytes.len()))?;
    copy.extend_from_slice(bytes);
    Ok(copy)
}

/// The allocator refused `bytes` (no cap involved).
fn refused(bytes: usize) -> Error {
    Error::AllocationFailed(bytes)
}
