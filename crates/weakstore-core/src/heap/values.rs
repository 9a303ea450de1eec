//! A shaped object's fields in one allocation: its shape and its values.
//!
//! `[shape | value 0, value 1, …]`, reached through one pointer, so that
//! the object header inline in a slot stays two words (this and the side
//! box) and the slot 32 bytes. The shape says how many values there are
//! (one per key), and the allocation always has exactly that many, so no
//! length or capacity is stored: `{ i, next }` takes 8 + 2 × 16 bytes. An
//! object without fields allocates nothing: the pointer is a dangling
//! sentinel and the shape the store's empty one, which the caller passes
//! in.
//!
//! The vector grows and shrinks one value at a time, to the exact size
//! (objects have at most `shape::MAX_KEYS` values here; the allocator's
//! size classes make most of those reallocations in place).
//!
//! # Invariants
//! - `ptr` is either `NonNull::dangling()` (no allocation: no values, the
//!   empty shape) or a live allocation of `layout(n)`, `n =
//!   header.shape.len() >= 1`, whose header and `n` values are
//!   initialised.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use crate::heap::shape::Shape;
use crate::sync::Arc;
use crate::value::{alloc_bytes, Value};

struct Header {
    shape: Arc<Shape>,
}

/// The values of a shaped object, with their shape.
pub(crate) struct Values {
    ptr: NonNull<Header>,
}

// SAFETY: `Values` owns its allocation (a shape `Arc` and values, both
// `Send` and `Sync`) as a `Box` would; `&Values` gives only shared access.
unsafe impl Send for Values {}
// SAFETY: as above.
unsafe impl Sync for Values {}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Arc<Shape>>();
    assert_send_sync::<Value>();
};

/// The allocation for `cap` values, and the offset of the first.
fn layout(cap: usize) -> (Layout, usize) {
    let values = Layout::array::<Value>(cap).expect("at most MAX_KEYS values");
    let (layout, offset) = Layout::new::<Header>().extend(values).expect("a small layout");
    (layout.pad_to_align(), offset)
}

impl Values {
    /// No values (the empty shape).
    pub(crate) const fn new() -> Values {
        Values { ptr: NonNull::dangling() }
    }

    fn header(&self) -> Option<&Header> {
        if self.ptr == NonNull::dangling() {
            return None;
        }
        // SAFETY: not the sentinel, so a live allocation with its header
        // initialised (module invariants); `&self` keeps it alive.
        Some(unsafe { self.ptr.as_ref() })
    }

    fn data(&self) -> *mut Value {
        // SAFETY: the offset stays within the allocation (or, for the
        // sentinel, is never dereferenced: `len` is 0 then).
        unsafe { self.ptr.cast::<u8>().as_ptr().add(layout(0).1).cast::<Value>() }
    }

    /// The shape; `empty` if there are no values.
    #[inline]
    pub(crate) fn shape<'a>(&'a self, empty: &'a Arc<Shape>) -> &'a Arc<Shape> {
        self.header().map_or(empty, |h| &h.shape)
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.header().map_or(0, |h| h.shape.len())
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[Value] {
        let len = self.len();
        if len == 0 {
            return &[];
        }
        // SAFETY: the first `len` values are initialised (module
        // invariants) and aligned; `&self` keeps them alive and shared.
        unsafe { std::slice::from_raw_parts(self.data(), len) }
    }

    #[inline]
    pub(crate) fn as_mut_slice(&mut self) -> &mut [Value] {
        let len = self.len();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`; `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.data(), len) }
    }

    /// The bytes the allocation holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.header().map_or(0, |h| alloc_bytes(layout(h.shape.len()).0.size()))
    }

    /// Appends `value`, whose key `shape` adds to the current shape.
    pub(crate) fn push(&mut self, shape: Arc<Shape>, value: Value) {
        let len = self.len();
        debug_assert_eq!(shape.len(), len + 1);
        let (new, _) = layout(len + 1);
        let ptr = if len == 0 {
            // SAFETY: `new` has a non-zero size (a header at least).
            unsafe { alloc::alloc(new) }
        } else {
            // SAFETY: `ptr` is a live allocation of `layout(len)` (module
            // invariants), and the new size is non-zero and does not
            // overflow `isize`.
            unsafe { alloc::realloc(self.ptr.cast().as_ptr(), layout(len).0, new.size()) }
        };
        let Some(ptr) = NonNull::new(ptr.cast::<Header>()) else { alloc::handle_alloc_error(new) };
        if len == 0 {
            // SAFETY: a fresh allocation of `new`, aligned for `Header`.
            unsafe { ptr.as_ptr().write(Header { shape }) };
            self.ptr = ptr;
        } else {
            self.ptr = ptr;
            // SAFETY: the header moved with the allocation and is
            // initialised; no other reference to it exists (`&mut self`).
            // The old shape is dropped here (its parent lives on in the
            // new one).
            unsafe { (*ptr.as_ptr()).shape = shape };
        }
        // SAFETY: slot `len` lies within the new allocation's `len + 1`
        // values and is not initialised yet (the shape now says `len + 1`:
        // it is written before anything reads the values).
        unsafe { self.data().add(len).write(value) };
    }

    /// Removes the last value, going back to `parent` (the current
    /// shape's parent); `None` if there are no values.
    pub(crate) fn pop(&mut self, parent: Arc<Shape>) -> Option<Value> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        debug_assert_eq!(parent.len(), len - 1);
        // SAFETY: slot `len - 1` is initialised; reading it moves the value
        // out, and `len` drops below it at once.
        let value = unsafe { self.data().add(len - 1).read() };
        if len == 1 {
            // SAFETY: the header is initialised; it is dropped here, once,
            // and the allocation freed with the layout it was made with.
            unsafe {
                ptr::drop_in_place(self.ptr.as_ptr());
                alloc::dealloc(self.ptr.cast().as_ptr(), layout(1).0);
            }
            self.ptr = NonNull::dangling();
            drop(parent); // the empty shape: implied by the sentinel
            return Some(value);
        }
        // SAFETY: shrinking a live allocation of `layout(len)` to the
        // non-zero size of `layout(len - 1)`.
        let ptr = unsafe { alloc::realloc(self.ptr.cast().as_ptr(), layout(len).0, layout(len - 1).0.size()) };
        let Some(ptr) = NonNull::new(ptr.cast::<Header>()) else { alloc::handle_alloc_error(layout(len - 1).0) };
        self.ptr = ptr;
        // SAFETY: the header moved with the allocation; `&mut self`.
        unsafe { (*ptr.as_ptr()).shape = parent };
        Some(value)
    }

    /// Takes the shape and the values out, leaving no values.
    pub(crate) fn take(&mut self) -> Option<(Arc<Shape>, Vec<Value>)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let mut values = Vec::with_capacity(len);
        // SAFETY: the first `len` values are initialised; they are moved
        // out (bitwise), and the allocation is freed below without
        // dropping them again.
        unsafe {
            ptr::copy_nonoverlapping(self.data(), values.as_mut_ptr(), len);
            values.set_len(len);
        }
        // SAFETY: the header is initialised; read once (moving the shape
        // out), then the allocation is freed with its own layout.
        let header = unsafe { self.ptr.as_ptr().read() };
        // SAFETY: as above.
        unsafe { alloc::dealloc(self.ptr.cast().as_ptr(), layout(len).0) };
        self.ptr = NonNull::dangling();
        Some((header.shape, values))
    }
}

impl Drop for Values {
    fn drop(&mut self) {
        let Some(h) = self.header() else { return };
        let len = h.shape.len();
        // SAFETY: a live allocation: its `len` values and its header are
        // initialised and dropped here, once, then the memory is freed
        // with the layout it was made with.
        unsafe {
            ptr::drop_in_place(self.as_mut_slice());
            ptr::drop_in_place(self.ptr.as_ptr());
            alloc::dealloc(self.ptr.cast().as_ptr(), layout(len).0);
        }
    }
}
