//! Faults that tests inject: thread starts the operating system refuses,
//! collector workers that panic (a collector bug), and workers that stall
//! (a long cycle).
//!
//! The hooks are built with the `fault-injection` feature (and under
//! loom); without it every check below is a constant and the release
//! build carries none of them. The counters are process-wide: a test that
//! arms one must not share its process with tests that start stores
//! concurrently (the core's `tests/faults.rs` runs its cases one at a
//! time; each Node test file is a process of its own).
//!
//! # Invariants
//! - An armed fault fires exactly as many times as it was armed for, then
//!   never again until re-armed.

#[cfg(any(loom, feature = "fault-injection"))]
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where a collector worker can be made to panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// A marking worker, as it starts tracing.
    Mark,
    /// A sweeping worker, after it swept a block of the table (so that
    /// some objects were already freed when it panics).
    Sweep,
}

/// Which thread starts are refused, and how many were tried since the
/// rule was set.
#[cfg(any(loom, feature = "fault-injection"))]
static STARTS: std::sync::Mutex<(StartRule, usize)> = std::sync::Mutex::new((StartRule::Allow, 0));

#[cfg(any(loom, feature = "fault-injection"))]
#[derive(Clone, Copy)]
enum StartRule {
    Allow,
    /// Starts after the first `n` are refused.
    After(usize),
    /// Every `n`th start is refused.
    Every(usize),
}

/// Panics still to inject, by [`Site`].
#[cfg(any(loom, feature = "fault-injection"))]
static PANICS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

#[cfg(any(loom, feature = "fault-injection"))]
fn set_rule(rule: StartRule) {
    *STARTS.lock().unwrap_or_else(|e| e.into_inner()) = (rule, 0);
}

/// Lets `n` more threads start, then refuses every start (as a full pids
/// cgroup would); `None` lifts the limit.
#[cfg(any(loom, feature = "fault-injection"))]
pub fn limit_thread_starts(n: Option<usize>) {
    set_rule(n.map_or(StartRule::Allow, StartRule::After));
}

/// Refuses every `n`th thread start from now on (`n` at least 1): a
/// parallel phase then gets some of its helpers and not others.
#[cfg(any(loom, feature = "fault-injection"))]
pub fn refuse_every_nth_thread_start(n: usize) {
    set_rule(StartRule::Every(n.max(1)));
}

/// Whether workers reaching a site wait there (`stall_workers`), by [`Site`].
#[cfg(any(loom, feature = "fault-injection"))]
static STALLS: [std::sync::atomic::AtomicBool; 2] =
    [std::sync::atomic::AtomicBool::new(false), std::sync::atomic::AtomicBool::new(false)];

/// How long a stalled worker waits at most, so that a test that forgets
/// to lift the stall cannot hang its process.
#[cfg(any(loom, feature = "fault-injection"))]
const STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// While `on`, collector workers that reach `site` wait there (10 s at
/// most): a cycle that takes as long as a test needs.
#[cfg(any(loom, feature = "fault-injection"))]
pub fn stall_workers(site: Site, on: bool) {
    // SeqCst: as in `limit_thread_starts`.
    STALLS[site as usize].store(on, Ordering::SeqCst);
}

/// Makes the next `times` workers that reach `site` panic.
#[cfg(any(loom, feature = "fault-injection"))]
pub fn panic_workers(site: Site, times: usize) {
    // SeqCst: as in `limit_thread_starts`.
    PANICS[site as usize].store(times, Ordering::SeqCst);
}

/// Takes one from `counter` unless it is 0.
#[cfg(any(loom, feature = "fault-injection"))]
fn take(counter: &AtomicUsize) -> bool {
    // SeqCst: a counter shared by the threads that consume it; nothing
    // else is ordered by it.
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

/// Whether the next thread may start.
#[inline]
pub(crate) fn thread_start_allowed() -> bool {
    #[cfg(any(loom, feature = "fault-injection"))]
    {
        let mut starts = STARTS.lock().unwrap_or_else(|e| e.into_inner());
        starts.1 += 1;
        match starts.0 {
            StartRule::Allow => true,
            StartRule::After(n) => starts.1 <= n,
            StartRule::Every(n) => !starts.1.is_multiple_of(n),
        }
    }
    #[cfg(not(any(loom, feature = "fault-injection")))]
    {
        true
    }
}

/// The error an injected refusal reports.
pub(crate) fn refused() -> std::io::Error {
    std::io::Error::other("thread start refused (injected fault)")
}

/// Panics if a panic is armed for `site`.
#[inline]
pub(crate) fn point(site: Site) {
    #[cfg(any(loom, feature = "fault-injection"))]
    if take(&PANICS[site as usize]) {
        panic!("weakstore: injected collector fault at {site:?}");
    }
    #[cfg(any(loom, feature = "fault-injection"))]
    {
        let since = std::time::Instant::now();
        // SeqCst: as in `limit_thread_starts`.
        while STALLS[site as usize].load(Ordering::SeqCst) && since.elapsed() < STALL_LIMIT {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    #[cfg(not(any(loom, feature = "fault-injection")))]
    let _ = site;
}
