//! The collection cycle, one phase after another.
//!
//! Read this enum top to bottom and you have read the collector. Phases
//! marked *pause* run while the collector holds the phase lock for writing:
//! mutator operations (which hold it for reading, one operation at a time)
//! wait for them. Every pause does O(1) work, or O(the mutator's barrier
//! buffer), never O(heap). The other phases run on collector threads
//! concurrently with JavaScript.
//!
//! # Invariants
//! - Mutators observe only `Idle`, `ScanRoots`, `Mark`, `ProcessWeak`,
//!   `Sweep` and `Deliver`: `Snapshot` and `FinishMarking` exist only while
//!   the collector holds the write lock.
//! - While [`Phase::barriers_on`] holds, every mutator operation that drops
//!   a strong reference (field overwrite, field delete, unroot, unregister
//!   of a held value) shades the old target, every reference a mutator
//!   creates shades its target, and allocation is black. Together these keep
//!   the snapshot-at-the-beginning invariant: every object reachable when
//!   `Snapshot` ran, or allocated or rooted since, ends up marked.
//! - While [`Phase::unmarked_is_dead`] holds, an unmarked object is garbage
//!   that has not been swept yet: it cannot be rooted, dereferenced,
//!   written into a field or registered again.

/// The phases of one collection cycle, in the order they run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Phase {
    /// No cycle in flight. Barriers are off; mutators pay nothing extra.
    Idle,
    /// *Pause.* Bump the mark epoch (so every object is white at once, with
    /// no clearing pass) and switch the barriers on. This instant is the
    /// snapshot the marking is "at the beginning" of.
    Snapshot,
    /// Concurrent. Shade every slot with a non-zero root count: live
    /// handles, objects a `deref` kept for the current job, held values of
    /// finalization cells.
    ScanRoots,
    /// Concurrent, in parallel. Trace fields from gray objects, and drain
    /// the objects mutators shaded through the barriers, until no gray
    /// object is left.
    Mark,
    /// *Pause.* If mutators shaded anything since the last drain, go back to
    /// `Mark` with it; otherwise marking is complete, and the cycle moves to
    /// `ProcessWeak` inside this same pause.
    FinishMarking,
    /// Entered inside the last `FinishMarking` pause; no work of its own.
    /// From here every unmarked object reads as dead: weak references to it
    /// are cleared (their generation-checked ids no longer dereference) and
    /// it can no longer be resurrected. Ephemeron entries were resolved in
    /// `Mark`, before this point (their values traced with their keys).
    ProcessWeak,
    /// Concurrent, in parallel. Free unmarked objects, bump their slots'
    /// generations, recycle the slots and move the finalization cells that
    /// targeted them to the delivery queue.
    Sweep,
    /// The cycle's figures are gathered; then back to `Idle`. After that
    /// the scheduler publishes the figures and wakes the host's cleanup
    /// pump (`scheduler`), which delivers finalization callbacks on the
    /// embedder's thread (`Store::begin_delivery`).
    Deliver,
}

impl Phase {
    /// Whether mutators must run the write, root and allocation barriers.
    #[inline]
    pub fn barriers_on(self) -> bool {
        matches!(self, Phase::Snapshot | Phase::ScanRoots | Phase::Mark | Phase::FinishMarking)
    }

    /// Whether an unmarked object is known garbage awaiting the sweeper.
    #[inline]
    pub fn unmarked_is_dead(self) -> bool {
        matches!(self, Phase::ProcessWeak | Phase::Sweep)
    }

    /// The phase's name, for statistics.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Snapshot => "snapshot",
            Phase::ScanRoots => "scan-roots",
            Phase::Mark => "mark",
            Phase::FinishMarking => "finish-marking",
            Phase::ProcessWeak => "process-weak",
            Phase::Sweep => "sweep",
            Phase::Deliver => "deliver",
        }
    }
}

/// What the phase lock protects: the phase and the current mark epoch.
#[derive(Copy, Clone, Debug)]
pub(crate) struct PhaseState {
    pub(crate) phase: Phase,
    /// A slot is marked in this cycle iff its `mark` equals `epoch`.
    pub(crate) epoch: u32,
}

impl PhaseState {
    /// Whether a mutator in this state may see `slot`'s object as alive
    /// (its caller checked the slot is live).
    #[inline]
    pub(crate) fn sees(&self, slot: &crate::heap::table::Slot) -> bool {
        // Relaxed: while unmarked objects are dead (`ProcessWeak`, `Sweep`)
        // barriers are off, so marks change only by allocation. Every mark
        // a marker set was stored before the `FinishMarking` pause that
        // entered `ProcessWeak` (collector threads joined, then the phase
        // lock's write side released) and the caller holds the read side;
        // a new object's mark was stored before the Release store of its
        // state that the caller's `Table::live` (Acquire) read.
        !self.phase.unmarked_is_dead() || slot.mark.load(crate::sync::Ordering::Relaxed) == self.epoch
    }
}
