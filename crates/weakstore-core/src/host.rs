//! The boundary between the core and its embedder.
//!
//! The core never calls into JavaScript. It tells its host two things, from
//! a collector thread, after each cycle: that there may be finalization
//! cells and finished cycles to hand out (the host wakes its cleanup pump,
//! which then calls [`crate::Store::take_finalized`] on its own thread), and
//! how many bytes the store now holds (so the host can tell its own
//! garbage collector about external memory).
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
