//! The figures a store publishes: its totals (`stats()`) and the figures
//! of its cycles (`lastCycle`, `cyclesAfter`, what `collect()` resolves
//! with).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::{CycleStats, Trigger};

use crate::stores;

/// Figures of one collection cycle.
#[napi(object)]
pub struct CycleFigures {
    pub cycle: f64,
    pub marked: f64,
    pub freed: f64,
    pub freed_bytes: f64,
    pub finalizers_queued: f64,
    pub mark_rounds: u32,
    /// Ephemeron entries whose values were traced (their keys were live).
    pub ephemerons_traced: f64,
    /// Ephemeron entries dropped with their keys.
    pub ephemerons_dropped: f64,
    /// Longest time JavaScript could have waited for the collector, in ms.
    pub max_pause_ms: f64,
    pub mark_ms: f64,
    pub sweep_ms: f64,
    pub total_ms: f64,
    pub live_objects: f64,
    pub live_bytes: f64,
    /// What started the cycle: `'collect'` (an explicit request) or `'allocation'` (the budget).
    #[napi(ts_type = "'collect' | 'allocation'")]
    pub trigger: String,
    /// The collector left its background priority to keep up with allocation.
    pub boosted: bool,
    /// When the cycle started, in ms since the Unix epoch.
    pub started_at: f64,
    /// Attempts that failed (a collector worker panicked) before the cycle
    /// ran on one thread; 0 normally.
    pub retries: u32,
    /// Every attempt failed: `collect()` rejects with
    /// `ERR_WEAKSTORE_CYCLE_FAILED`; `freed` counts what the failed
    /// attempts freed.
    pub failed: bool,
}

impl From<CycleStats> for CycleFigures {
    fn from(c: CycleStats) -> Self {
        let ms = |ns: u64| ns as f64 / 1e6;
        CycleFigures {
            cycle: c.cycle as f64,
            marked: c.marked as f64,
            freed: c.freed as f64,
            freed_bytes: c.freed_bytes as f64,
            finalizers_queued: c.finalizers_queued as f64,
            mark_rounds: c.mark_rounds,
            ephemerons_traced: c.ephemerons_traced as f64,
            ephemerons_dropped: c.ephemerons_dropped as f64,
            max_pause_ms: ms(c.max_pause_ns),
            mark_ms: ms(c.mark_ns),
            sweep_ms: ms(c.sweep_ns),
            total_ms: ms(c.total_ns),
            live_objects: c.live_objects as f64,
            live_bytes: c.live_bytes as f64,
            retries: c.retries,
            failed: c.failed,
            trigger: match c.trigger {
                Trigger::Request => "collect".to_owned(),
                Trigger::Allocation => "allocation".to_owned(),
            },
            boosted: c.boosted,
            started_at: c.started_at_ms,
        }
    }
}

#[napi(catch_unwind)]
pub fn last_cycle(env: &Env, store: u32) -> Result<CycleFigures> {
    stores::with(env, store, |e| Ok(e.store.last_cycle().into()))
}

/// The figures of the finished cycles numbered above `cycle` (the last 64
/// at most), oldest first.
#[napi(catch_unwind)]
pub fn cycles_after(env: &Env, store: u32, cycle: f64) -> Result<Vec<CycleFigures>> {
    stores::with(env, store, |e| Ok(e.store.cycles_after(cycle as u64).into_iter().map(Into::into).collect()))
}

/// Totals of a store.
#[napi(object)]
pub struct StoreStats {
    pub objects: f64,
    pub bytes: f64,
    /// The cap on `bytes` (`maxBytes`); `Infinity` when there is none.
    pub max_bytes: f64,
    /// `maxBytes - bytes`: what the store may still grow by.
    pub headroom: f64,
    pub collections: f64,
    pub allocated_since_cycle: f64,
    pub next_cycle_at: f64,
    pub finalization_cells: f64,
    pub pending_finalizations: f64,
    pub ephemeron_tables: f64,
    pub ephemeron_entries: f64,
    pub slots: f64,
    pub free_slots: f64,
    pub threads: u32,
    /// Cycle attempts that failed with a collector panic, each retried on
    /// one thread (always 0 unless a bug).
    pub failed_cycles: f64,
    /// Rooted objects a sweep found unmarked and kept (always 0 unless a
    /// bug).
    pub anomalies: f64,
    pub phase: String,
    /// The figures of the last cycle; `null` before the first.
    #[napi(ts_type = "CycleFigures | null")]
    pub last_cycle: Either<CycleFigures, Null>,
    /// This thread's tracked handles: live, or dead and not yet finalized
    /// by Node.
    pub handles: f64,
    /// Roots this thread's open scopes hold (see `Store.prototype.scope`).
    pub scoped_roots: f64,
    /// Named roots (`pin`), of every thread.
    pub pins: f64,
    /// Shapes (key layouts shared by objects) the store has made.
    pub shapes: f64,
    /// Bytes the shapes and their interned key names hold, beside `bytes`.
    pub shape_bytes: f64,
    /// Threads that have the store attached (1 unless shared).
    pub attached: u32,
}

#[napi(catch_unwind)]
pub fn stats(env: &Env, store: u32) -> Result<StoreStats> {
    crate::wrappers::drain_backlog(env);
    stores::with(env, store, |e| {
        let s = e.store.stats();
        Ok(StoreStats {
            objects: s.objects as f64,
            bytes: s.bytes as f64,
            max_bytes: cap(s.max_bytes),
            headroom: cap(s.max_bytes) - s.bytes as f64,
            collections: s.collections as f64,
            allocated_since_cycle: s.allocated_since_cycle as f64,
            next_cycle_at: s.next_cycle_at as f64,
            finalization_cells: s.finalization_cells as f64,
            pending_finalizations: s.pending_finalizations as f64,
            ephemeron_tables: s.ephemeron_tables as f64,
            ephemeron_entries: s.ephemeron_entries as f64,
            slots: f64::from(s.slots),
            free_slots: s.free_slots as f64,
            threads: e.store.config().threads as u32,
            failed_cycles: s.failed_cycles as f64,
            anomalies: s.anomalies as f64,
            phase: s.phase.to_owned(),
            last_cycle: if s.last_cycle.cycle == 0 { Either::B(Null) } else { Either::A(s.last_cycle.into()) },
            handles: e.wrappers.borrow().len() as f64,
            scoped_roots: e.scopes.borrow().roots() as f64,
            pins: s.pins as f64,
            shapes: s.shapes as f64,
            shape_bytes: s.shape_bytes as f64,
            attached: e.store.wakes.len() as u32,
        })
    })
}

/// A byte cap as JavaScript sees it: `Infinity` for none.
fn cap(max_bytes: usize) -> f64 {
    if max_bytes == usize::MAX {
        f64::INFINITY
    } else {
        max_bytes as f64
    }
}
