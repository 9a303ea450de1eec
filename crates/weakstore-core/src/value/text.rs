//! The payloads of string and buffer values, one word each on the heap
//! side so that a [`Value`](super::Value) is 16 bytes.
//!
//! - [`Str`]: a UTF-8 string. Up to [`INLINE`] bytes live inside the value
//!   itself (no allocation: most field strings are short: names, kinds,
//!   tags); longer ones in a thin vector, whose length and capacity sit in
//!   its allocation.
//! - [`Bytes`]: an owned byte buffer in a thin vector.
//!
//! # Invariants
//! - A `Str`'s bytes are valid UTF-8: it is only built from `&str`.
//! - [`alloc_bytes`] is the accounting rule for one heap block: what the
//!   allocator holds for a request, with its rounding, so that
//!   `stats().bytes` follows resident memory (see `heap::object`).

use std::fmt;
use std::ops::Deref;

use thin_vec::ThinVec;

use crate::error::{Error, Result};

/// The longest string kept inside the value.
pub const INLINE: usize = 14;

/// The bytes the allocator holds for a request of `n` bytes, as the Node
/// addon's allocator (mimalloc 2, 16-byte alignment on x86-64) rounds
/// them: 8 bytes for the smallest requests, then multiples of 16 up to 64
/// bytes, then one of four size classes per power of two; no header. Other
/// allocators round differently; this is the figure the store accounts.
#[inline]
pub(crate) const fn alloc_bytes(n: usize) -> usize {
    let words = n.div_ceil(8);
    if words <= 1 {
        return words * 8;
    }
    if words <= 8 {
        return words.next_multiple_of(2) * 8;
    }
    let top = usize::BITS - 1 - (words - 1).leading_zeros();
    let step = 1 << (top - 2);
    words.div_ceil(step) * step * 8
}

/// A thin vector's header (length and capacity).
const THIN_HEADER: usize = 2 * std::mem::size_of::<usize>();

#[cfg(test)]
#[test]
fn alloc_bytes_follows_the_size_classes() {
    let classes = [
        (0, 0),
        (1, 8),
        (8, 8),
        (9, 16),
        (24, 32),
        (40, 48),
        (48, 48),
        (64, 64),
        (65, 80),
        (88, 96),
        (100, 112),
        (130, 160),
    ];
    for (n, held) in classes {
        assert_eq!(alloc_bytes(n), held, "{n}");
    }
}

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(ThinVec<u8>),
}

/// A string value (see the module docs).
#[derive(Clone)]
pub struct Str(Repr);

impl Str {
    /// A copy of `s`, or [`Error::AllocationFailed`] if the allocator
    /// refuses its bytes.
    pub fn try_from_str(s: &str) -> Result<Str> {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            return Ok(Str(Repr::Inline { len: s.len() as u8, bytes }));
        }
        Ok(Str(Repr::Heap(try_thin(s.as_bytes())?)))
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        let bytes = match &self.0 {
            Repr::Inline { len, bytes } => &bytes[..*len as usize],
            Repr::Heap(v) => v.as_slice(),
        };
        // SAFETY: a `Str` is only built from a `&str` (`try_from_str`), and
        // its bytes never change after: they are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Bytes held outside the value (0 for an inline string).
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(v) => alloc_bytes(THIN_HEADER + v.capacity()),
        }
    }
}

impl Deref for Str {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Infallible conversions, for tests and embedders that allocate anyway
/// (an allocation failure aborts, as any Rust allocation does).
impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::try_from_str(s).unwrap_or_else(|_| std::alloc::handle_alloc_error(layout_of(s.len())))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Str {
        Str::from(&*s)
    }
}

/// A buffer value.
#[derive(Clone, PartialEq)]
pub struct Bytes(ThinVec<u8>);

impl Bytes {
    /// A copy of `b`, or [`Error::AllocationFailed`].
    pub fn try_from_slice(b: &[u8]) -> Result<Bytes> {
        Ok(Bytes(try_thin(b)?))
    }

    /// Bytes held outside the value.
    pub(crate) fn heap_bytes(&self) -> usize {
        if self.0.capacity() == 0 {
            0
        } else {
            alloc_bytes(THIN_HEADER + self.0.capacity())
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Bytes {
        Bytes::try_from_slice(b).unwrap_or_else(|_| std::alloc::handle_alloc_error(layout_of(b.len())))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(b: Vec<u8>) -> Bytes {
        Bytes::from(b.as_slice())
    }
}

impl From<Box<[u8]>> for Bytes {
    fn from(b: Box<[u8]>) -> Bytes {
        Bytes::from(&*b)
    }
}

fn layout_of(n: usize) -> std::alloc::Layout {
    std::alloc::Layout::array::<u8>(n.max(1)).unwrap_or(std::alloc::Layout::new::<u8>())
}

/// A thin vector holding a copy of `b`, or [`Error::AllocationFailed`].
fn try_thin(b: &[u8]) -> Result<ThinVec<u8>> {
    if b.is_empty() {
        return Ok(ThinVec::new());
    }
    // ThinVec has no fallible reserve: ask the allocator first with the
    // same size, so that a refusal is an error here rather than an abort
    // inside ThinVec (the probe is freed at once).
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(THIN_HEADER + b.len()).map_err(|_| Error::AllocationFailed(b.len()))?;
    drop(probe);
    let mut v = ThinVec::with_capacity(b.len());
    v.extend_from_slice(b);
    Ok(v)
}
