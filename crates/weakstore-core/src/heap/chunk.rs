//! A chunk of the object table: memory for many slots, allocated at once
//! and initialised one slot at a time, as the table hands slots out.
//!
//! A chunk's memory comes from the allocator uninitialised (for large
//! chunks, fresh pages the kernel maps on first touch), and
//! [`Table::reserve`] writes each slot just before it publishes the new
//! high-water mark: no allocation pays for initialising a whole chunk,
//! which would stall it for a time that doubles with every chunk
//! (docs/DESIGN.md, "The object table").
//!
//! # Invariants
//! - A chunk's first `n` slots are initialised, where `n` is the number of
//!   the table's slots below its high-water mark that fall in this chunk;
//!   the rest of the chunk is uninitialised memory nobody reads. The chunk
//!   does not store `n`: the table derives it (`Table::drop`).
//! - Slots are initialised in index order, by the one thread holding the
//!   table's free-list lock, and only at the high-water mark, which no
//!   reader looks at or past.
//!
//! [`Table::reserve`]: super::table::Table::reserve

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use super::table::Slot;

pub(crate) struct Chunk {
    slots: NonNull<Slot>,
    len: usize,
}

// SAFETY: a chunk owns its slots like a `Box<[Slot]>` would, and `Slot` is
// `Send + Sync` (atomics and a mutex); the raw pointer is the only reason
// these are not derived.
unsafe impl Send for Chunk {}
// SAFETY: see `Send` above; shared access only hands out `&Slot`.
unsafe impl Sync for Chunk {}

impl Chunk {
    fn layout(len: usize) -> Layout {
        Layout::array::<Slot>(len).expect("a chunk of at most 2^32 slots fits in memory's address space")
    }

    /// Memory for `len` slots, none of them initialised.
    pub(crate) fn new(len: usize) -> Chunk {
        assert!(len > 0);
        let layout = Self::layout(len);
        // SAFETY: `layout` has a non-zero size (`len > 0` and `Slot` is not
        // zero-sized).
        let raw = unsafe { alloc(layout) };
        let Some(slots) = NonNull::new(raw.cast::<Slot>()) else { handle_alloc_error(layout) };
        Chunk { slots, len }
    }

    /// Writes a fresh slot at `offset`.
    ///
    /// # Safety
    /// `offset < len`; the slot at `offset` is not initialised (so nothing
    /// is overwritten without being dropped), and no other thread reads or
    /// writes it until the caller publishes it with a Release store that the
    /// readers' Acquire loads pair with.
    pub(crate) unsafe fn init(&self, offset: usize) {
        debug_assert!(offset < self.len);
        // SAFETY: in bounds and unaliased by the caller's contract; `write`
        // does not read or drop the uninitialised memory it replaces.
        unsafe { self.slots.as_ptr().add(offset).write(Slot::new()) }
    }

    /// The slot at `offset`.
    ///
    /// # Safety
    /// `offset < len`, and the slot's initialisation happens-before this
    /// call (the caller observed it through the table's high-water mark).
    #[inline]
    pub(crate) unsafe fn get(&self, offset: usize) -> &Slot {
        debug_assert!(offset < self.len);
        // SAFETY: in bounds and initialised by the caller's contract; the
        // slot lives as long as the chunk, which `&self` borrows.
        unsafe { &*self.slots.as_ptr().add(offset) }
    }

    /// Drops the first `initialised` slots. Without this call they leak
    /// (nothing unsound: the memory is still freed by `Drop`).
    ///
    /// # Safety
    /// Exactly the first `initialised` slots are initialised (so
    /// `initialised <= len`), and this is called at most once.
    pub(crate) unsafe fn drop_slots(&mut self, initialised: usize) {
        debug_assert!(initialised <= self.len);
        let slots = std::ptr::slice_from_raw_parts_mut(self.slots.as_ptr(), initialised);
        // SAFETY: these slots are initialised (caller's contract), owned by
        // this chunk, and `&mut self` excludes any other access; the caller
        // calls this once, so none is dropped twice.
        unsafe { std::ptr::drop_in_place(slots) }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // SAFETY: `slots` came from `alloc` with this same layout (`new`);
        // whatever slots were initialised were dropped by `drop_slots` or are
        // leaked on purpose, never read again.
        unsafe { dealloc(self.slots.as_ptr().cast::<u8>(), Self::layout(self.len)) }
    }
}
