//! The boundary between the core and its embedder.
//!
//! The core never calls into JavaScript. It tells its host two things, from
//! a collector thread, after each cycle: that there may be finalization
//! cells and finished cycles to hand out (the host wakes its cleanup pump,
//! which then calls [`crate::Store::begin_delivery`] and
//! [`crate::Store::finish_delivery`] on its own thread), and how many
//! bytes the store now holds (so the host can tell its own garbage
//! collector about external memory).
//!
//! # Invariants
//! - Host methods are called without any core lock held, and must not
//!   block: they run on the collector's coordinator thread.

use crate::stats::CycleStats;

/// The embedder's side of the store.
pub trait Host: Send + Sync + 'static {
    /// A cycle finished; deliver what it queued. Must not block.
    fn wake_cleanup(&self, cycle: &CycleStats);

    /// The store's live bytes after a cycle.
    fn external_memory(&self, _live_bytes: usize) {}
}

/// A host that ignores everything, for embedders that poll.
pub struct NoopHost;

impl Host for NoopHost {
    fn wake_cleanup(&self, _cycle: &CycleStats) {}
}

/// Coalesces wake-ups: at most one is outstanding at a time, and none is
/// lost.
///
/// The collector calls [`WakeLatch::arm`] after each cycle and wakes its
/// embedder only if it returns `true`; the embedder calls
/// [`WakeLatch::clear`] *before* it reads the store. A cycle that finishes
/// after the clear arms the latch again and wakes again, so every finished
/// cycle is followed by at least one read that sees it.
///
/// Why: the collector publishes a cycle under the store's locks (the
/// finalization table, the schedule, the cycle history) before `arm`, and
/// the reader takes those locks after `clear`. If the reader's lock comes
/// after the publication in that lock's order, the reader sees the cycle.
/// Otherwise `clear` happens-before `arm` (through the reader's unlock and
/// the collector's later lock), so by coherence `arm`'s swap reads the
/// `false` that `clear` stored, or the `true` of an `arm` in between that
/// then sent a wake-up itself: either way a wake-up follows the clear. That
/// argument needs no ordering on the latch itself. SeqCst (on both sides)
/// covers the other case, data published through SeqCst atomics: the single
/// total order then puts the reader's later SeqCst loads after its `clear`.
/// It does not order the reader's later *non*-SeqCst loads after `clear`;
/// nothing here relies on that. Loom checks both cases
/// (`delivery_wake_ups_are_never_lost`, `..._with_locked_data`).
#[derive(Default)]
pub struct WakeLatch {
    queued: crate::sync::AtomicBool,
}

impl WakeLatch {
    /// A latch with nothing queued.
    pub fn new() -> WakeLatch {
        WakeLatch::default()
    }

    /// Whether the caller must send a wake-up now.
    pub fn arm(&self) -> bool {
        // SeqCst; pairs with the store in `clear` (see the type's docs for
        // what it does and does not order).
        !self.queued.swap(true, crate::sync::Ordering::SeqCst)
    }

    /// The reader is about to look: later cycles must wake it again.
    pub fn clear(&self) {
        // SeqCst; pairs with the swap in `arm`: in the SeqCst total order
        // this store precedes the reader's later SeqCst loads (not its
        // plain or Acquire ones, which the locks order instead: see the
        // type's docs).
        self.queued.store(false, crate::sync::Ordering::SeqCst);
    }
}
