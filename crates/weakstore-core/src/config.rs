//! How a store's collector behaves: [`Config`], given to
//! [`crate::Store::new`].
//!
//! # Invariants
//! - A `Config` is read-only once the store is created; every subsystem
//!   reads its own fields (`threads` the cycle, `budget_bytes` and
//!   `growth_percent` the scheduler's pacing, `background` the priority,
//!   `max_bytes` the byte accounting (`Shared::charge`), `on_phase` the
//!   cycle driver).

use crate::collector::phase::Phase;

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
    /// The most bytes (as `Stats::bytes` counts them) the store may hold.
    /// An allocation or write that would pass it first waits for a cycle
    /// (unless `manual`), then fails with `Error::OutOfMemory`, changing
    /// nothing. Automatic cycles start early as the store nears it.
    /// `usize::MAX`: no cap.
    pub max_bytes: usize,
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
            .field("max_bytes", &self.max_bytes)
            .field("on_phase", &self.on_phase.is_some())
            .finish()
    }
}

impl Default for Config {
    /// One collector thread per core but one (the program's), 1 to 4:
    /// nice values alone do not keep a busy collector off the program's
    /// core (docs/BENCHMARKS.md, "One core left to the program").
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            threads: cores.saturating_sub(1).clamp(1, 4),
            budget_bytes: 8 << 20,
            growth_percent: 100,
            manual: false,
            background: true,
            max_bytes: usize::MAX,
            on_phase: None,
        }
    }
}
