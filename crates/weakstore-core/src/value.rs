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
}
