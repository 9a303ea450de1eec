//! The object table: slots in geometrically growing chunks.
//!
//! A slot is the fixed home of one object incarnation: its generation and
//! liveness, its mark epoch, its root count and its payload, inline. Chunk
//! `k` holds `FIRST_CHUNK << k` slots, so the table grows without ever
//! moving a slot and a slot's address is stable for the life of the store;
//! the collector reads slots while JavaScript allocates new ones, without
//! a table-wide lock. A chunk's memory is allocated when the table reaches
//! it, but its slots are initialised one at a time (`heap::chunk`), so no
//! allocation pays for a whole chunk.
//!
//! # Invariants
//! - Slots `0..high_water` are initialised; `high_water` only grows, and
//!   is published (Release) after the new slot is written. Readers load it
//!   with Acquire (`Table::high_water`) and touch no slot at or above it.
//! - `state` is `generation << 1 | live`. It turns live only after the
//!   payload is in place, and turns dead (with the next generation) only
//!   after the payload is taken, both under the slot's lock.
//! - A free slot is on exactly one free list, or retired (generation at
//!   [`MAX_GEN`]) and never handed out again.

use std::ops::{Deref, DerefMut};

use crate::heap::chunk::Chunk;
use crate::heap::object::Object;
use crate::id::{ObjId, MAX_GEN};
use crate::sync::{AtomicU32, CellMut, Mutex, OnceLock, Ordering, RawLock, UnsafeCell};

#[cfg(not(loom))]
const FIRST_CHUNK_BITS: u32 = 10;
/// Loom models touch a handful of slots; tiny chunks keep them small.
#[cfg(loom)]
const FIRST_CHUNK_BITS: u32 = 1;
const FIRST_CHUNK: u64 = 1 << FIRST_CHUNK_BITS;
/// Enough chunks for 2^32 slots.
const CHUNKS: usize = (33 - FIRST_CHUNK_BITS) as usize;

pub(crate) struct Slot {
    /// `generation << 1 | live`.
    pub(crate) state: AtomicU32,
    /// The collector epoch in which this slot was last marked.
    pub(crate) mark: AtomicU32,
    /// Strong references from outside the object graph: handles, kept
    /// objects, held values of finalization cells.
    pub(crate) roots: AtomicU32,
    /// Guards `object`. A bare lock word beside the fields above rather
    /// than a `Mutex<Option<Object>>`, so that it sits in their padding:
    /// the slot is 32 bytes, not 40 (see `slot_is_32_bytes`).
    lock: RawLock,
    /// The object, inline: one allocation fewer per object than a box
    /// (and one free fewer for the sweeper to hand to the allocator). Only
    /// touched through an [`ObjectGuard`].
    object: UnsafeCell<Option<Object>>,
}

// SAFETY: `object` is the only field that is not `Sync`; it is only reached
// through an `ObjectGuard`, which holds `lock`, so one thread at a time
// touches it (the lock's unlock/lock pair orders their accesses).
// `Option<Object>` is `Send`, so it may be used from whichever thread
// holds the lock.
unsafe impl Sync for Slot {}

/// The `Sync` impl above relies on this: the payload may move between
/// threads with the lock.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Option<Object>>();
};

/// Exclusive access to a slot's payload; unlocks when dropped.
pub(crate) struct ObjectGuard<'a> {
    slot: &'a Slot,
    /// The payload access, for as long as the lock is held. `Drop` ends it
    /// explicitly before unlocking (hence `ManuallyDrop`: as a plain field
    /// it would drop after the unlock, and loom would see the access
    /// outlive the lock).
    object: std::mem::ManuallyDrop<CellMut<'a, Option<Object>>>,
    /// Not `Send`: the thread that locked unlocks.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Deref for ObjectGuard<'_> {
    type Target = Option<Object>;
    #[inline]
    fn deref(&self) -> &Option<Object> {
        &self.object
    }
}

impl DerefMut for ObjectGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Option<Object> {
        &mut self.object
    }
}

impl Drop for ObjectGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: dropped once, here, before the unlock: the payload access
        // ends while the lock is still held.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.object) };
        // SAFETY: the guard was created holding the lock and is dropped once.
        unsafe { self.slot.lock.unlock() }
    }
}

/// A locked slot that holds an object (see [`Slot::lock_live`]).
pub(crate) struct LiveGuard<'a>(ObjectGuard<'a>);

impl Deref for LiveGuard<'_> {
    type Target = Object;
    #[inline]
    fn deref(&self) -> &Object {
        match &*self.0 {
            Some(object) => object,
            None => unreachable!("lock_live checked the slot holds an object, and it cannot change under the lock"),
        }
    }
}

impl DerefMut for LiveGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Object {
        match &mut *self.0 {
            Some(object) => object,
            None => unreachable!("lock_live checked the slot holds an object, and it cannot change under the lock"),
        }
    }
}

impl Slot {
    pub(super) fn new() -> Slot {
        Slot {
            state: AtomicU32::new(1 << 1),
            mark: AtomicU32::new(0),
            roots: AtomicU32::new(0),
            lock: RawLock::new(),
            object: UnsafeCell::new(None),
        }
    }

    /// Locks the payload.
    #[inline]
    pub(crate) fn lock(&self) -> ObjectGuard<'_> {
        self.lock.lock();
        // SAFETY: this thread holds `lock` until the guard drops (which ends
        // this access first), and the previous holder's access ended before
        // its unlock, which happens-before our lock.
        let object = std::mem::ManuallyDrop::new(unsafe { self.object.get_mut() });
        ObjectGuard { slot: self, object, _not_send: std::marker::PhantomData }
    }

    /// Whether `id`'s incarnation is the live one.
    #[inline]
    pub(crate) fn is(&self, id: ObjId) -> bool {
        // Acquire; pairs with the Release in `Table::publish` so a caller
        // that sees the slot live also sees its payload and mark.
        self.state.load(Ordering::Acquire) == (id.generation() << 1 | 1)
    }

    /// Marks this slot in `epoch`; true if this call did it (the caller then
    /// owns tracing it).
    #[inline]
    pub(crate) fn try_mark(&self, epoch: u32) -> bool {
        // Relaxed pre-check: a stale read only costs the swap below.
        if self.mark.load(Ordering::Relaxed) == epoch {
            return false;
        }
        // Relaxed: the swap's atomicity alone makes one caller the winner
        // (the one thread that traces the slot); the payload it then reads
        // is ordered by the slot lock, the gray index it hands on by the
        // barrier buffer's or the mark pool's mutex. Readers of the mark
        // after marking are ordered by the phase lock
        // (`PhaseState::sees`, sweep).
        self.mark.swap(epoch, Ordering::Relaxed) != epoch
    }

    /// Locks the object if `id` still names it: the guard reaches the
    /// object itself, checked once here.
    #[inline]
    pub(crate) fn lock_live(&self, id: ObjId) -> Option<LiveGuard<'_>> {
        self.lock_if(id).map(LiveGuard)
    }

    /// Locks the payload if `id` still names it.
    pub(crate) fn lock_if(&self, id: ObjId) -> Option<ObjectGuard<'_>> {
        let guard = self.lock();
        // The state only changes under this lock, so this check is stable
        // while the guard lives.
        (self.is(id) && guard.is_some()).then_some(guard)
    }
}

pub(crate) struct Table {
    chunks: [OnceLock<Chunk>; CHUNKS],
    high_water: AtomicU32,
    free: Mutex<Vec<u32>>,
    /// Slots whose generation ran out; kept for the statistics.
    retired: AtomicU32,
}

#[inline]
fn locate(index: u32) -> (usize, usize) {
    let i = u64::from(index) + FIRST_CHUNK;
    let chunk = (63 - i.leading_zeros() - FIRST_CHUNK_BITS) as usize;
    (chunk, (i - (FIRST_CHUNK << chunk)) as usize)
}

impl Table {
    pub(crate) fn new() -> Table {
        Table {
            chunks: std::array::from_fn(|_| OnceLock::new()),
            high_water: AtomicU32::new(0),
            free: Mutex::new(Vec::new()),
            retired: AtomicU32::new(0),
        }
    }

    /// Number of slots ever handed out; every index below it has a slot.
    #[inline]
    pub(crate) fn high_water(&self) -> u32 {
        // Acquire; pairs with the Release in `reserve`, so the chunk of
        // every index below the value read is initialised.
        self.high_water.load(Ordering::Acquire)
    }

    /// The slot at `index`, if it was ever handed out.
    #[inline]
    pub(crate) fn slot(&self, index: u32) -> Option<&Slot> {
        if index >= self.high_water() {
            return None;
        }
        let (chunk, offset) = locate(index);
        // SAFETY: `index < high_water` (Acquire), so the slot was
        // initialised before `reserve` published that mark (Release), and
        // `locate` keeps `offset` inside chunk `chunk`.
        self.chunks[chunk].get().map(|c| unsafe { c.get(offset) })
    }

    /// The slot `id` names, if that incarnation is live.
    #[inline]
    pub(crate) fn live(&self, id: ObjId) -> Option<&Slot> {
        self.slot(id.index()).filter(|s| s.is(id))
    }

    /// Reserves a free slot and returns its index. The slot is dead until
    /// [`Table::publish`].
    pub(crate) fn reserve(&self) -> u32 {
        let mut free = self.free.lock();
        if let Some(index) = free.pop() {
            return index;
        }
        // Bump allocation happens under the free-list lock, so only one
        // thread grows the table at a time; Relaxed: that lock orders this
        // load after the previous bump.
        let index = self.high_water.load(Ordering::Relaxed);
        assert!(index < u32::MAX, "weakstore: object table is full (2^32 slots)");
        let (chunk, offset) = locate(index);
        let chunk = self.chunks[chunk].get_or_init(|| Chunk::new((FIRST_CHUNK << chunk) as usize));
        // SAFETY: `locate` keeps `offset` inside the chunk. The slot is at
        // the high-water mark, so it was never initialised and no reader
        // touches it; only this thread, holding the free-list lock, bumps
        // the mark, and it publishes the slot with the Release below.
        unsafe { chunk.init(offset) };
        // Release; pairs with the Acquire in `high_water`.
        self.high_water.store(index + 1, Ordering::Release);
        index
    }

    /// Installs `object` in the reserved slot `index` and makes it live.
    pub(crate) fn publish(&self, index: u32, object: Object, mark: u32, roots: u32) -> ObjId {
        let slot = self.slot(index).expect("reserved slot exists");
        let mut guard = slot.lock();
        debug_assert!(guard.is_none());
        *guard = Some(object);
        // Relaxed: published by the Release store of `state` below; the
        // generation only changes under the slot lock, which we hold.
        slot.roots.store(roots, Ordering::Relaxed);
        slot.mark.store(mark, Ordering::Relaxed);
        let generation = slot.state.load(Ordering::Relaxed) >> 1;
        // Release; pairs with the Acquire in `Slot::is`: whoever sees the
        // slot live sees the roots and mark stored above.
        slot.state.store(generation << 1 | 1, Ordering::Release);
        ObjId::new(index, generation)
    }

    /// Kills the incarnation in `slot` (whose payload the caller took under
    /// `guard`) and bumps its generation. Returns whether the slot may be
    /// reused.
    pub(crate) fn kill(&self, slot: &Slot, guard: &mut ObjectGuard<'_>) -> bool {
        debug_assert!(guard.is_none());
        // Relaxed: `state` only changes under the slot lock (`guard`).
        let generation = slot.state.load(Ordering::Relaxed) >> 1;
        if generation >= MAX_GEN {
            // Release: readers that see the slot dead see it dead for good.
            slot.state.store(generation << 1, Ordering::Release);
            // Relaxed: a statistic.
            self.retired.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        // Release; pairs with the Acquire in `Slot::is`.
        slot.state.store((generation + 1) << 1, Ordering::Release);
        true
    }

    /// Returns swept slots to the free list.
    pub(crate) fn recycle(&self, indices: &mut Vec<u32>) {
        self.free.lock().append(indices);
    }

    pub(crate) fn free_slots(&self) -> usize {
        self.free.lock().len()
    }

    pub(crate) fn retired(&self) -> u32 {
        // Relaxed: a statistic.
        self.retired.load(Ordering::Relaxed)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // `&mut self`: no other thread is left; Relaxed is enough.
        let mut left = u64::from(self.high_water.load(Ordering::Relaxed));
        for (k, chunk) in self.chunks.iter_mut().enumerate() {
            let Some(chunk) = chunk.get_mut() else { break };
            let initialised = left.min(FIRST_CHUNK << k);
            left -= initialised;
            // SAFETY: slots are initialised in index order up to the
            // high-water mark, so this chunk's first `initialised` slots are
            // exactly its initialised ones; `drop` runs once.
            unsafe { chunk.drop_slots(initialised as usize) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::collector::barrier::Admitted;

    #[test]
    fn chunks_tile_the_index_space() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(1023), (0, 1023));
        assert_eq!(locate(1024), (1, 0));
        assert_eq!(locate(3071), (1, 2047));
        assert_eq!(locate(3072), (2, 0));
        let (chunk, offset) = locate(u32::MAX);
        assert!(chunk < CHUNKS);
        assert!((offset as u64) < FIRST_CHUNK << chunk);
    }

    /// Slots are written one at a time across chunk boundaries, stay where
    /// they are, and the table frees exactly the initialised ones (Miri
    /// checks the unsafe half: no uninitialised read, no leak, no double
    /// drop, with a partly used last chunk).
    #[test]
    fn slots_initialise_lazily_across_chunks_and_drop_once() {
        let table = Table::new();
        let shapes = crate::heap::shape::Shapes::new();
        let n = FIRST_CHUNK as u32 * 3 + 5; // chunks 0 and 1 full, chunk 2 partly used
        let mut ids = Vec::new();
        for i in 0..n {
            let index = table.reserve();
            assert_eq!(index, i);
            assert!(table.slot(index).is_some_and(|s| s.state.load(Ordering::Relaxed) == 1 << 1));
            if i % 3 != 0 {
                let fields = vec![("i".into(), crate::value::Value::String(i.to_string().into()))];
                let fields = fields.into_iter().map(|(k, v)| (k, Admitted::unchecked(v))).collect();
                ids.push(table.publish(index, Object::with_fields(&shapes, fields), 1, 1));
            }
        }
        assert!(table.slot(n).is_none());
        let first = table.slot(0).map(std::ptr::from_ref);
        let _ = table.reserve();
        assert_eq!(table.slot(0).map(std::ptr::from_ref), first, "slots never move");
        for id in ids {
            let slot = table.live(id).expect("published slot is live");
            assert!(slot.lock().is_some());
        }
    }

    /// The slot's size is the collector's per-object overhead (docs/BENCHMARKS.md,
    /// "Memory": at most 32 bytes). The lock shares the padding after the
    /// three counters, and the object header is two pointers (the shaped
    /// fields, the side box).
    #[test]
    fn slot_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Object>(), 16);
        assert_eq!(std::mem::size_of::<Option<Object>>(), 16);
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }

    /// The guard is the lock: two threads incrementing a counter field
    /// through it lose no update.
    #[test]
    fn slot_guard_excludes() {
        let table = Table::new();
        let shapes = crate::heap::shape::Shapes::new();
        let index = table.reserve();
        let id = table.publish(
            index,
            Object::with_fields(&shapes, vec![("n".into(), Admitted::unchecked(crate::value::Value::Number(0.0)))]),
            1,
            1,
        );
        let n_key = crate::heap::object::Key::Name("n", shapes.keys.find("n"));
        let slot = table.live(id).expect("live");
        let rounds = if cfg!(miri) { 50 } else { 10_000 };
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..rounds {
                        let mut guard = slot.lock();
                        let object = guard.as_mut().expect("live");
                        let n = match object.get(&shapes, n_key) {
                            Some(crate::value::Value::Number(n)) => *n,
                            _ => unreachable!(),
                        };
                        let _ =
                            object.insert(&shapes, n_key, Admitted::unchecked(crate::value::Value::Number(n + 1.0)));
                    }
                });
            }
        });
        assert!(
            matches!(slot.lock().as_ref().and_then(|o| o.get(&shapes, n_key)), Some(crate::value::Value::Number(n)) if *n == f64::from(2 * rounds))
        );
    }
}
