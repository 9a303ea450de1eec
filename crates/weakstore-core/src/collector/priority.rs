//! Collector threads run at a lower scheduling priority than the program.
//!
//! On a machine with as many busy threads as cores, the kernel time-slices
//! the JavaScript thread against the collector's, and the event loop stalls
//! for whole scheduler slices (milliseconds) although the collector never
//! blocks it. Raising the collector threads' nice value makes the kernel
//! prefer the program's threads whenever they are runnable, while the
//! collector still gets every idle cycle.
//!
//! # Invariants
//! - Only the calling thread's priority changes (Linux applies nice values
//!   per thread), and a failure to change it is ignored: priority is a
//!   preference, never a requirement.

/// How much nicer than the program collector threads run (nice values go
/// from -20, most favoured, to 19).
pub const COLLECTOR_NICE: i32 = 10;

/// Lowers the calling thread's priority by [`COLLECTOR_NICE`] (to 19 at
/// most).
#[cfg(target_os = "linux")]
pub(crate) fn lower_current_thread() {
    // SAFETY: `gettid` has no preconditions and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
    // SAFETY: `getpriority` only reads its integer arguments. (-1 is both a
    // valid nice value and the error value; either way the sum below is a
    // sane nice value.)
    let current = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid) };
    // SAFETY: `setpriority` only reads its integer arguments; for
    // PRIO_PROCESS with a thread id it changes that thread's nice value.
    // Its result is deliberately ignored (see the module docs).
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, (current + COLLECTOR_NICE).min(19)) };
}

/// Elsewhere: no change.
#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_current_thread() {}
