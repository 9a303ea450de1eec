//! Collector threads run at a lower scheduling priority than the program,
//! unless the collector is falling behind.
//!
//! On a machine with as many busy threads as cores, the kernel time-slices
//! the JavaScript thread against the collector's, and the event loop stalls
//! for whole scheduler slices (milliseconds) although the collector never
//! blocks it. Raising the collector threads' nice value makes the kernel
//! prefer the program's threads whenever they are runnable, while the
//! collector still gets every idle cycle.
//!
//! On a machine with *no* idle cycles that would starve the collector while
//! the program keeps allocating, and memory would grow without bound. So
//! when the program has allocated twice the budget since the cycle began
//! (`Pacing::behind`, set by the allocation path), collector threads go
//! back to the program's priority until the cycle ends: the low priority
//! only ever trades collector latency for event-loop latency while memory
//! is within bounds.
//!
//! # Invariants
//! - Only the calling thread's priority changes (Linux applies nice values
//!   per thread), and a failure to change it is ignored: priority is a
//!   preference, never a requirement.
//! - A thread lowered here remembers its original nice value and `restore`
//!   goes back to exactly that.
//! - Under Miri (which cannot call `getpriority`) priorities are left alone.

use std::cell::Cell;

/// How much nicer than the program collector threads run (nice values go
/// from -20, most favoured, to 19).
pub const COLLECTOR_NICE: i32 = 10;

thread_local! {
    /// The nice value this thread had before `lower`, while lowered.
    static ORIGINAL: Cell<Option<i32>> = const { Cell::new(None) };
}

#[cfg(all(target_os = "linux", not(miri)))]
fn tid() -> libc::id_t {
    // SAFETY: `gettid` has no preconditions and cannot fail.
    (unsafe { libc::syscall(libc::SYS_gettid) }) as libc::id_t
}

#[cfg(all(target_os = "linux", not(miri)))]
fn get() -> i32 {
    // SAFETY: `getpriority` only reads its integer arguments. (-1 is both
    // a valid nice value and the error value; either way it is usable.)
    unsafe { libc::getpriority(libc::PRIO_PROCESS, tid()) }
}

#[cfg(all(target_os = "linux", not(miri)))]
fn set(nice: i32) {
    // SAFETY: `setpriority` only reads its integer arguments; for
    // PRIO_PROCESS with a thread id it changes that thread's nice value.
    // Its result is deliberately ignored (see the module docs).
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid(), nice) };
}

#[cfg(any(not(target_os = "linux"), miri))]
fn get() -> i32 {
    0
}

#[cfg(any(not(target_os = "linux"), miri))]
fn set(_nice: i32) {}

/// Lowers the calling thread's priority by [`COLLECTOR_NICE`] (to 19 at
/// most). Idempotent.
pub(crate) fn lower_current_thread() {
    ORIGINAL.with(|original| {
        if original.get().is_none() {
            let nice = get();
            original.set(Some(nice));
            set((nice + COLLECTOR_NICE).min(19));
        }
    });
}

/// Puts a lowered thread back at its original priority. Idempotent.
pub(crate) fn restore_current_thread() {
    ORIGINAL.with(|original| {
        if let Some(nice) = original.take() {
            set(nice);
        }
    });
}
