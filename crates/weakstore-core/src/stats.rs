//! Figures the store publishes: totals, and the figures of each cycle.

/// What started a cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trigger {
    /// An explicit request (`Store::request_collection`, `collect()`).
    #[default]
    Request,
    /// The allocation budget (`Config::budget_bytes`, paced by growth).
    Allocation,
}

/// How many finished cycles' figures a store keeps for
/// [`crate::Store::cycles_after`].
pub const CYCLE_HISTORY: usize = 64;

/// Figures of one finished collection cycle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CycleStats {
    /// 1 for the first cycle of a store.
    pub cycle: u64,
    /// Objects found reachable (roots included).
    pub marked: usize,
    /// Objects freed by this cycle's sweep.
    pub freed: usize,
    /// Bytes freed by this cycle's sweep.
    pub freed_bytes: usize,
    /// Finalization cells moved to the delivery queue.
    pub finalizers_queued: usize,
    /// Times marking resumed after `FinishMarking` found barrier work.
    pub mark_rounds: u32,
    /// Ephemeron entries whose value marking traced (their key was live).
    /// Ephemerons need no fixpoint rounds: a key's values are traced in the
    /// same pass as its fields.
    pub ephemerons_traced: usize,
    /// Ephemeron entries dropped because their key was freed.
    pub ephemerons_dropped: usize,
    /// Longest time the collector held the phase lock (a mutator's longest
    /// possible wait), in nanoseconds.
    pub max_pause_ns: u64,
    /// Wall time of the root scan and marking, in nanoseconds.
    pub mark_ns: u64,
    /// Wall time of the sweep, in nanoseconds.
    pub sweep_ns: u64,
    /// Wall time of the whole cycle, in nanoseconds.
    pub total_ns: u64,
    /// Live objects after the sweep.
    pub live_objects: usize,
    /// Live bytes after the sweep.
    pub live_bytes: usize,
    /// What started the cycle (an explicit request wins when both did).
    pub trigger: Trigger,
    /// The program allocated twice the trigger while the cycle ran, so its
    /// threads left their background priority (`collector::priority`).
    pub boosted: bool,
    /// When the cycle started, in milliseconds since the Unix epoch.
    pub started_at_ms: f64,
    /// Attempts that failed (a collector worker panicked) before this
    /// cycle ran to the end on fewer threads; 0 normally.
    pub retries: u32,
    /// Every attempt failed: marking did not finish, so this cycle freed
    /// only what the failed sweeps had freed (`freed`) and its weak
    /// references and callbacks are not all processed. The next cycle
    /// starts afresh.
    pub failed: bool,
}

/// Totals of a store at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Live (not yet swept) objects.
    pub objects: usize,
    /// Bytes held by live objects: slots, headers, fields and payloads.
    pub bytes: usize,
    /// The store's cap on `bytes` (`Config::max_bytes`; `usize::MAX`: none).
    pub max_bytes: usize,
    /// Finished collection cycles.
    pub collections: u64,
    /// Bytes allocated since the last cycle started.
    pub allocated_since_cycle: usize,
    /// `allocated_since_cycle` at which the next automatic cycle starts:
    /// the budget, paced on the live size the last cycle left.
    pub next_cycle_at: usize,
    /// Finalization cells registered and not yet delivered.
    pub finalization_cells: usize,
    /// Ephemeron tables alive (`WeakMap`s and `WeakSet`s).
    pub ephemeron_tables: usize,
    /// Ephemeron entries held in key objects.
    pub ephemeron_entries: usize,
    /// Named roots (`Store::pin`).
    pub pins: usize,
    /// Shapes made (key layouts shared by objects, `heap::shape`).
    pub shapes: usize,
    /// Bytes the shapes and the interned key names hold; not part of
    /// `bytes`, which is what objects hold (a heap snapshot's sizes add
    /// up to it). Bounded by the shape cap.
    pub shape_bytes: usize,
    /// Cells collected and waiting for the embedder to take them.
    pub pending_finalizations: usize,
    /// Slots in the table (live, free and retired).
    pub slots: u32,
    /// Free slots ready for reuse.
    pub free_slots: usize,
    /// Slots retired because their generation ran out.
    pub retired_slots: u32,
    /// Cycle attempts that failed with a collector panic, each retried on
    /// one thread (always 0 unless a bug, or a test's injected fault).
    pub failed_cycles: u64,
    /// Rooted objects a sweep found unmarked and refused to free (always 0
    /// unless a bug: a barrier missed them).
    pub anomalies: usize,
    /// The phase the collector is in.
    pub phase: &'static str,
    /// Figures of the last finished cycle.
    pub last_cycle: CycleStats,
}
