//! The one place the core takes its synchronization primitives from.
//!
//! Every atomic, lock, condition variable, shared cell, lazily
//! initialised value and thread in the core is imported from here, never
//! from `std` or `parking_lot` directly, so that a `--cfg loom` build swaps
//! in loom's model-checked primitives without touching the algorithms (the
//! approach crossbeam-epoch takes). Outside this file, `std::sync`,
//! `std::cell` and `std::thread` appear only where no data is shared
//! between threads: the public `PhaseObserver` type's `Arc` (an embedder's
//! callback), `available_parallelism`, a thread-local `Cell` in
//! `collector::priority`, the test-only fault counters (`crate::faults`),
//! and unit tests. Threads start only through [`spawn`] and
//! [`fork_join`], which report a thread that cannot start instead of
//! panicking.
//!
//! # Invariants
//! - The wrappers expose only the operations the core uses: `lock`,
//!   `read`, `write`, `wait`, `notify_*`, `get_or_init`, `spawn`, `fork_join`, and
//!   the copying methods of [`NameMap`]. None
//!   of them poison: a panic on a collector thread must not turn every
//!   later JavaScript call into a panic.
//! - Under loom, every access to an [`UnsafeCell`]'s contents goes through
//!   a [`CellMut`] that loom tracks for its whole life, so a payload access
//!   not ordered by the slot lock is reported as a data race.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::thread;

#[cfg(not(loom))]
mod imp {
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
    pub(crate) type RwLockReadGuard<'a, T> = parking_lot::RwLockReadGuard<'a, T>;
    pub(crate) type RwLockWriteGuard<'a, T> = parking_lot::RwLockWriteGuard<'a, T>;

    /// A mutex that never poisons.
    #[derive(Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);
    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(parking_lot::Mutex::new(value))
        }
        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }
    }

    /// A task-fair reader-writer lock that never poisons.
    #[derive(Default)]
    pub(crate) struct RwLock<T>(parking_lot::RwLock<T>);
    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            RwLock(parking_lot::RwLock::new(value))
        }
        #[inline]
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read()
        }
        #[inline]
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write()
        }
    }

    #[derive(Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);
    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;
    pub(crate) type RwLockReadGuard<'a, T> = loom::sync::RwLockReadGuard<'a, T>;
    pub(crate) type RwLockWriteGuard<'a, T> = loom::sync::RwLockWriteGuard<'a, T>;

    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex::new(T::default())
        }
    }

    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);
    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            RwLock(loom::sync::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|e| e.into_inner())
        }
    }

    pub(crate) struct Condvar(loom::sync::Condvar);
    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(|e| e.into_inner())
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
}

pub(crate) use imp::{Condvar, Mutex, RwLock};

mod map;
pub(crate) use map::NameMap;

/// A bare lock word: `lock` / `unlock` with no data attached, for structs
/// that keep the lock beside the data it guards so the two share padding
/// (an object-table slot: see `heap::table::Slot`). One byte outside loom.
///
/// # Invariants
/// - `unlock` is only called by the holder of the lock, once per `lock`.
/// - Acquiring the lock happens-after the previous holder's `unlock`
///   (parking_lot's `RawMutex`; under loom, the Acquire / Release pair in
///   `loom_raw`), so the data it guards needs no other synchronisation.
#[cfg(not(loom))]
pub(crate) struct RawLock(parking_lot::RawMutex);

#[cfg(not(loom))]
impl RawLock {
    pub(crate) const fn new() -> Self {
        RawLock(<parking_lot::RawMutex as parking_lot::lock_api::RawMutex>::INIT)
    }
    #[inline]
    pub(crate) fn lock(&self) {
        parking_lot::lock_api::RawMutex::lock(&self.0);
    }
    /// # Safety
    /// The calling thread holds the lock (its `lock` returned and it has not
    /// unlocked since).
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock (this function's contract).
        unsafe { parking_lot::lock_api::RawMutex::unlock(&self.0) }
    }
}

#[cfg(loom)]
pub(crate) use loom_raw::RawLock;

#[cfg(loom)]
mod loom_raw {
    use loom::sync::atomic::{AtomicBool, Ordering};

    /// A spin lock loom can explore (it schedules another thread at every
    /// `yield_now`).
    pub(crate) struct RawLock(AtomicBool);
    impl RawLock {
        pub(crate) fn new() -> Self {
            RawLock(AtomicBool::new(false))
        }
        pub(crate) fn lock(&self) {
            // Acquire; pairs with the Release in `unlock`.
            while self.0.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                loom::thread::yield_now();
            }
        }
        /// # Safety
        /// The calling thread holds the lock.
        pub(crate) unsafe fn unlock(&self) {
            // Release; pairs with the Acquire in `lock`.
            self.0.store(false, Ordering::Release);
        }
    }
}

/// A cell whose contents are shared by a protocol the caller upholds (a
/// slot's payload behind its `RawLock`). Under loom, accesses are checked.
pub(crate) struct UnsafeCell<T> {
    #[cfg(not(loom))]
    inner: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::cell::UnsafeCell<T>,
}

/// Exclusive access to an [`UnsafeCell`]'s contents, for as long as it
/// lives (loom records the access from creation to drop).
pub(crate) struct CellMut<'a, T> {
    #[cfg(not(loom))]
    ptr: *mut T,
    #[cfg(loom)]
    ptr: loom::cell::MutPtr<T>,
    _cell: std::marker::PhantomData<&'a UnsafeCell<T>>,
}

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(not(loom))]
        let inner = std::cell::UnsafeCell::new(value);
        #[cfg(loom)]
        let inner = loom::cell::UnsafeCell::new(value);
        UnsafeCell { inner }
    }

    /// Exclusive access to the contents until the returned value drops.
    ///
    /// # Safety
    /// No other access to the contents (through another `CellMut`) overlaps
    /// the returned value's life, and the previous one happens-before this
    /// call.
    #[inline]
    pub(crate) unsafe fn get_mut(&self) -> CellMut<'_, T> {
        #[cfg(not(loom))]
        let ptr = self.inner.get();
        #[cfg(loom)]
        let ptr = self.inner.get_mut();
        CellMut { ptr, _cell: std::marker::PhantomData }
    }
}

impl<T> std::ops::Deref for CellMut<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: `UnsafeCell::get_mut`'s caller guaranteed exclusive access
        // for this value's life, which bounds the returned borrow.
        #[cfg(not(loom))]
        unsafe {
            &*self.ptr
        }
        // SAFETY: as above; loom checks it.
        #[cfg(loom)]
        unsafe {
            self.ptr.deref()
        }
    }
}

impl<T> std::ops::DerefMut for CellMut<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the borrow unique among
        // this value's own borrows.
        #[cfg(not(loom))]
        unsafe {
            &mut *self.ptr
        }
        // SAFETY: as above; loom checks it.
        #[cfg(loom)]
        unsafe {
            self.ptr.deref()
        }
    }
}

/// A value initialised once, on first use, by whichever thread gets there
/// first; readers that see it see it whole.
#[cfg(not(loom))]
pub(crate) use std::sync::OnceLock;

#[cfg(loom)]
pub(crate) use loom_once::OnceLock;

#[cfg(loom)]
mod loom_once {
    use loom::sync::atomic::{AtomicPtr, Ordering};

    /// `std::sync::OnceLock`'s contract on loom's atomics: the value is
    /// boxed, published with a Release compare-exchange and read with
    /// Acquire loads.
    pub(crate) struct OnceLock<T> {
        value: AtomicPtr<T>,
    }

    impl<T> OnceLock<T> {
        pub(crate) fn new() -> Self {
            OnceLock { value: AtomicPtr::new(std::ptr::null_mut()) }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            // Acquire; pairs with the Release in `get_or_init`.
            let ptr = self.value.load(Ordering::Acquire);
            // SAFETY: a non-null pointer came from `Box::into_raw` in
            // `get_or_init`, is never replaced, and is freed only in `drop`
            // (which `&self` excludes).
            unsafe { ptr.as_ref() }
        }

        pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
            if let Some(value) = self.get() {
                return value;
            }
            let fresh = Box::into_raw(Box::new(init()));
            // AcqRel: Release publishes the value; Acquire (on failure)
            // pairs with the winner's Release.
            match self.value.compare_exchange(std::ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
                // SAFETY: `fresh` is now owned by the lock, freed in `drop`.
                Ok(_) => unsafe { &*fresh },
                Err(winner) => {
                    // SAFETY: `fresh` was never shared; `winner` is as in
                    // `get`.
                    unsafe {
                        drop(Box::from_raw(fresh));
                        &*winner
                    }
                }
            }
        }

        pub(crate) fn get_mut(&mut self) -> Option<&mut T> {
            // SAFETY: as in `get`; `&mut self` makes the borrow unique.
            unsafe { self.value.with_mut(|ptr| ptr.as_mut()) }
        }
    }

    impl<T> Drop for OnceLock<T> {
        fn drop(&mut self) {
            let ptr = self.value.with_mut(|ptr| *ptr);
            if !ptr.is_null() {
                // SAFETY: from `Box::into_raw` in `get_or_init`, freed once.
                drop(unsafe { Box::from_raw(ptr) });
            }
        }
    }
}

mod threads;
pub(crate) use threads::{fork_join, spawn};
