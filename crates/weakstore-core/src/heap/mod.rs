//! The state one store shares between its mutators and its collector.
//!
//! `Shared` owns the object table, the phase lock, the mutators' barrier
//! buffer (objects they shaded during marking), the finalization table and
//! the scheduler state. Mutator operations live in [`crate::store`], the
//! collector's phases in [`crate::collector`]; both reach the data through
//! the helpers here.
//!
//! # Invariants
//! - Lock order: the phase lock (read or write), then at most one slot's
//!   payload mutex, then the finalization table; nothing takes a payload
//!   mutex while holding the finalization table. The barrier buffer, the
//!   dead-entry queue and the scheduler mutex are leaves.
//! - A mutator takes the phase lock for reading once per operation and never
//!   re-enters it (the lock is task-fair: a nested read behind a waiting
//!   writer would deadlock).
//! - `objects` and `bytes` are the exact totals over live slots (updated by
//!   `alloc`, field writes and the sweeper).

pub(crate) mod chunk;
pub(crate) mod object;
pub(crate) mod table;

use crate::collector::phase::{Phase, PhaseState};
use crate::collector::scheduler::Schedule;
use crate::host::Host;
use crate::stats::CycleStats;
use crate::id::ObjId;
use crate::sync::{AtomicBool, AtomicU32, AtomicUsize, Condvar, Mutex, Ordering, RwLock};
use crate::weak::finalization::FinalizationTable;
use table::{Slot, Table};

/// Called by the collector as it enters a phase, on the collector thread and
/// with no lock held. Tests use it to freeze a cycle mid-phase.
pub type PhaseObserver = std::sync::Arc<dyn Fn(Phase) + Send + Sync>;

/// How a store's collector behaves.
#[derive(Clone)]
pub struct Config {
    /// Collector threads used for marking and sweeping (at least 1).
    pub threads: usize,
    /// The least allocation (bytes since the last cycle began) that starts
    /// a new cycle.
    pub budget_bytes: usize,
    /// Pacing: the next cycle starts once the program has allocated
    /// `max(budget_bytes, live_bytes * growth_percent / 100)`, where
    /// `live_bytes` is what the last cycle left. 0: always `budget_bytes`.
    /// Garbage then stays proportional to the live data (a store of 10 GB
    /// is not re-marked after every 8 MB), and a small store keeps little.
    pub growth_percent: usize,
    /// No automatic cycles: only explicit requests start one.
    pub manual: bool,
    /// Run collector threads at a lower priority than the program's
    /// (`collector::priority`), so a busy machine time-slices the
    /// collector, not the event loop. Default: true.
    pub background: bool,
    /// Observer of phase changes (`ScanRoots`, `Mark`, `ProcessWeak`,
    /// `Sweep`, `Deliver`), if any.
    pub on_phase: Option<PhaseObserver>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("threads", &self.threads)
            .field("budget_bytes", &self.budget_bytes)
            .field("growth_percent", &self.growth_percent)
            .field("manual", &self.manual)
            .field("background", &self.background)
            .field("on_phase", &self.on_phase.is_some())
            .finish()
    }
}

impl Default for Config {
    /// One collector thread per core but one (the program's), 1 to 4.
    /// Nice values alone do not keep a busy collector off the program's
    /// core: with as many collector threads as cores, the JavaScript thread
    /// lost the CPU for 1-8 ms at a time during marking (2 cores, measured
    /// with `bench/pauses.js`); with one core left to it, those losses went.
    /// (The gaps that remain have other causes: docs/BENCHMARKS.md.)
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            threads: cores.saturating_sub(1).clamp(1, 4),
            budget_bytes: 8 << 20,
            growth_percent: 100,
            manual: false,
            background: true,
            on_phase: None,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) table: Table,
    pub(crate) phase: RwLock<PhaseState>,
    /// Objects mutators shaded while barriers were on: gray work for the
    /// marker.
    pub(crate) barrier: Mutex<Vec<u32>>,
    /// `barrier` is non-empty (a hint; the buffer itself is the truth).
    pub(crate) barrier_pending: AtomicBool,
    pub(crate) finalization: Mutex<FinalizationTable>,
    /// Ephemeron entries in key payloads.
    pub(crate) ephemeron_entries: AtomicUsize,
    /// Ephemeron tables created and not dropped.
    pub(crate) ephemeron_tables: AtomicUsize,
    pub(crate) next_table: AtomicU32,
    /// `(table, key)` of freed keys whose entry's value the embedder holds.
    pub(crate) dead_external: Mutex<Vec<(u32, ObjId)>>,
    /// Live objects. This and the other counters here (`bytes`,
    /// `allocated`, `anomalies`, `ephemeron_*`) are statistics and pacing
    /// inputs: updated and read with Relaxed, they order no other data.
    pub(crate) objects: AtomicUsize,
    /// Rooted objects the sweeper found unmarked (and kept): collector bugs.
    pub(crate) anomalies: AtomicUsize,
    pub(crate) bytes: AtomicUsize,
    /// Bytes allocated since the last `Snapshot`.
    pub(crate) allocated: AtomicUsize,
    /// Allocation (`allocated`) that requests the next cycle: the budget,
    /// paced on the live size after each cycle (`scheduler::pace`).
    pub(crate) trigger: AtomicUsize,
    /// `allocated` reached `trigger` and a cycle was requested for it.
    /// Cleared at each `Snapshot`.
    pub(crate) auto_requested: AtomicBool,
    /// The program allocated twice the trigger since the cycle in flight
    /// began: collector threads drop their background priority
    /// (`collector::priority`). Cleared at each `Snapshot`.
    pub(crate) behind: AtomicBool,
    pub(crate) schedule: Mutex<Schedule>,
    pub(crate) schedule_changed: Condvar,
    pub(crate) last_cycle: Mutex<CycleStats>,
    /// The last finished cycles' figures (`stats::CYCLE_HISTORY`).
    pub(crate) history: Mutex<std::collections::VecDeque<CycleStats>>,
    pub(crate) host: Box<dyn Host>,
    pub(crate) config: Config,
}

impl Shared {
    pub(crate) fn new(config: Config, host: Box<dyn Host>) -> Shared {
        Shared {
            table: Table::new(),
            phase: RwLock::new(PhaseState { phase: Phase::Idle, epoch: 1 }),
            barrier: Mutex::new(Vec::new()),
            barrier_pending: AtomicBool::new(false),
            finalization: Mutex::new(FinalizationTable::default()),
            ephemeron_entries: AtomicUsize::new(0),
            ephemeron_tables: AtomicUsize::new(0),
            next_table: AtomicU32::new(0),
            dead_external: Mutex::new(Vec::new()),
            objects: AtomicUsize::new(0),
            anomalies: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            allocated: AtomicUsize::new(0),
            trigger: AtomicUsize::new(config.budget_bytes),
            auto_requested: AtomicBool::new(false),
            behind: AtomicBool::new(false),
            schedule: Mutex::new(Schedule::default()),
            schedule_changed: Condvar::new(),
            last_cycle: Mutex::new(CycleStats::default()),
            history: Mutex::new(std::collections::VecDeque::new()),
            host,
            config,
        }
    }

    /// Marks `slot` in `epoch`; true if this call did it (the caller then
    /// owns tracing it).
    #[inline]
    pub(crate) fn try_mark(slot: &Slot, epoch: u32) -> bool {
        // Relaxed pre-check: a stale read only costs the swap below.
        if slot.mark.load(Ordering::Relaxed) == epoch {
            return false;
        }
        // Relaxed: the swap's atomicity alone makes one caller the winner
        // (the one thread that traces the slot); the payload it then reads
        // is ordered by the slot lock, the gray index it hands on by the
        // barrier buffer's or the mark pool's mutex. Readers of the mark
        // after marking are ordered by the phase lock (`visible`, sweep).
        slot.mark.swap(epoch, Ordering::Relaxed) != epoch
    }

    /// The mutator's shade: mark `index` and hand it to the marker through
    /// the barrier buffer. Caller holds the phase lock for reading with
    /// barriers on.
    pub(crate) fn shade(&self, index: u32, epoch: u32) {
        let Some(slot) = self.table.slot(index) else { return };
        if Shared::try_mark(slot, epoch) {
            self.barrier.lock().push(index);
            // Release; pairs with the Acquire in `Marker::take_barrier`.
            self.barrier_pending.store(true, Ordering::Release);
        }
    }

    /// Whether `slot` counts as alive for a mutator in `state`.
    #[inline]
    pub(crate) fn visible(slot: &Slot, state: &PhaseState) -> bool {
        // Relaxed: while unmarked objects are dead (`ProcessWeak`, `Sweep`)
        // barriers are off, so marks change only by allocation. Every mark
        // a marker set was stored before the `FinishMarking` pause that
        // entered `ProcessWeak` (collector threads joined, then the phase
        // lock's write side released) and this operation holds the read
        // side; a new object's mark was stored before the Release store of
        // its state that the caller's `Table::live` (Acquire) read.
        !state.phase.unmarked_is_dead() || slot.mark.load(Ordering::Relaxed) == state.epoch
    }

    /// On a collector thread: if the program is outrunning the cycle, stop
    /// yielding the CPU to it (see `collector::priority`).
    #[inline]
    pub(crate) fn keep_pace(&self) {
        // Relaxed: a hint; a late read only delays the boost a little.
        if self.config.background && self.behind.load(Ordering::Relaxed) {
            crate::collector::priority::restore_current_thread();
        }
    }

    /// Tells the phase observer, if any, that `phase` began.
    pub(crate) fn observe(&self, phase: Phase) {
        if let Some(observer) = &self.config.on_phase {
            observer(phase);
        }
    }

    pub(crate) fn add_bytes(&self, delta: isize) {
        // Relaxed: statistics (see `Shared::objects`).
        if delta >= 0 {
            self.bytes.fetch_add(delta as usize, Ordering::Relaxed);
        } else {
            self.bytes.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }
}
