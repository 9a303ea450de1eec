//! The one place the core takes its synchronization primitives from.
//!
//! Every atomic, lock and condition variable in the core is imported from
//! here, never from `std` or `parking_lot` directly, so that a `--cfg loom`
//! build swaps in loom's model-checked primitives without touching the
//! algorithms (the approach crossbeam-epoch takes).
//!
//! # Invariants
//! - The wrappers expose only the operations the core uses: `lock`,
//!   `read`, `write`, `wait`, `notify_*`. None of them poison: a panic on a
//!   collector thread must not turn every later JavaScript call into a panic.

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
