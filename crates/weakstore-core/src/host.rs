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
        // SeqCst (an AcqRel swap would do): the swap orders the collector's
        // publication of the cycle before the flag the reader clears;
        // pairs with the store in `clear`.
        !self.queued.swap(true, crate::sync::Ordering::SeqCst)
    }

    /// The reader is about to look: later cycles must wake it again.
    pub fn clear(&self) {
        // SeqCst; pairs with the swap in `arm`, and keeps the reader's
        // loads of the store after this store.
        self.queued.store(false, crate::sync::Ordering::SeqCst);
    }
}
