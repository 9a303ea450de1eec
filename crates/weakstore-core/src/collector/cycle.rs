//! One collection cycle, driven phase by phase (see [`Phase`]).
//!
//! The coordinator thread runs this; the parallel phases borrow up to
//! `threads - 1` helper threads for their duration, and run with those
//! that could be started (`crate::sync::fork_join`).
//!
//! # Invariants
//! - Every phase change happens under the phase lock held for writing, and
//!   the work done while holding it is O(1) (`pause` measures it).
//! - `FinishMarking` leaves for `ProcessWeak` only after seeing the barrier
//!   buffer empty while holding the write lock, so no mutator can shade
//!   anything between the last drain and the moment unmarked objects start
//!   reading as dead.

use std::time::Instant;

use crate::collector::mark::Marker;

/// Roots per packet handed to marking workers.
#[cfg(not(loom))]
const ROOT_PACKET: usize = 64;
#[cfg(loom)]
const ROOT_PACKET: usize = 1;
use crate::collector::phase::Phase;
use crate::collector::sweep::sweep;
use crate::shared::Shared;
use crate::stats::CycleStats;
use crate::sync::Ordering;

/// Runs a parallel phase on up to `workers` threads (the coordinator and
/// the helpers that could be started; `crate::sync::fork_join`). Helpers
/// inherit the coordinator's (lowered) priority when `background` is set.
fn parallel<S: Send + Sync, T: Send + 'static>(
    workers: usize,
    background: bool,
    setup: impl FnOnce(usize) -> S,
    work: impl Fn(&S, usize, usize) -> T + Sync,
) -> Vec<T> {
    crate::sync::fork_join(workers, setup, |state, w, n| {
        if background && w != 0 {
            crate::collector::priority::lower_current_thread();
        }
        work(state, w, n)
    })
}

struct Pauses {
    max_ns: u64,
}

impl Pauses {
    /// Moves to `phase` under the write lock; `extra` runs inside the pause.
    fn enter<R>(
        &mut self,
        shared: &Shared,
        phase: Phase,
        extra: impl FnOnce(&mut crate::collector::phase::PhaseState) -> R,
    ) -> R {
        let mut state = shared.phase.write();
        let start = Instant::now();
        state.phase = phase;
        let result = extra(&mut state);
        self.max_ns = self.max_ns.max(start.elapsed().as_nanos() as u64);
        result
    }
}

/// Runs cycle `cycle` on up to `workers` threads. Its `freed` figures are
/// the cycle's tally (`Shared::tally`), which includes what an earlier,
/// failed attempt at the same cycle freed.
pub(crate) fn run_cycle(shared: &Shared, cycle: u64, workers: usize) -> CycleStats {
    let started = Instant::now();
    let workers = workers.max(1);
    let background = shared.config.background;
    let mut pauses = Pauses { max_ns: 0 };

    // Snapshot: flip the epoch (all objects turn white), barriers on.
    let epoch = pauses.enter(shared, Phase::Snapshot, |state| {
        state.epoch = state.epoch.wrapping_add(1).max(1);
        state.phase = Phase::ScanRoots;
        // Relaxed: pacing counters and hints (`scheduler::on_allocate`).
        shared.scheduler.pacing.allocated.store(0, Ordering::Relaxed);
        shared.scheduler.pacing.auto_requested.store(false, Ordering::Relaxed);
        shared.scheduler.pacing.behind.store(false, Ordering::Relaxed);
        state.epoch
    });

    // ScanRoots, then Mark until FinishMarking finds nothing new.
    shared.observe(Phase::ScanRoots);
    // Roots cluster in the table (long-lived objects are allocated first),
    // so hand them out in packets rather than per scanning worker.
    let mut gray: Vec<Vec<u32>> =
        parallel(workers, background, |_| (), |_, w, n| Marker::scan_roots(shared, epoch, w, n))
            .into_iter()
            .flat_map(|roots| roots.chunks(ROOT_PACKET).map(<[u32]>::to_vec).collect::<Vec<_>>())
            .collect();
    pauses.enter(shared, Phase::Mark, |_| ());
    shared.observe(Phase::Mark);
    // Every gray object (roots included) is traced exactly once.
    let mut marked = 0;
    let mut entries_traced = 0;
    let mut rounds = 0;
    loop {
        let packets = std::mem::take(&mut gray);
        let setup = |n| Marker::new(shared, epoch, n, packets);
        for traced in parallel(workers, background, setup, |marker, _, _| marker.run()) {
            marked += traced.objects;
            entries_traced += traced.entries;
        }
        let leftover = pauses.enter(shared, Phase::FinishMarking, |state| {
            let leftover = shared.barrier.drain();
            state.phase = if leftover.is_empty() { Phase::ProcessWeak } else { Phase::Mark };
            leftover
        });
        if leftover.is_empty() {
            break;
        }
        rounds += 1;
        gray.push(leftover);
    }
    let mark_ns = started.elapsed().as_nanos() as u64;

    // ProcessWeak happened inside the last pause: from now on unmarked
    // objects are dead to mutators, so weak references to them read empty.
    shared.observe(Phase::ProcessWeak);

    // Sweep.
    pauses.enter(shared, Phase::Sweep, |_| ());
    shared.observe(Phase::Sweep);
    let sweep_start = Instant::now();
    parallel(workers, background, |_| (), |_, w, n| sweep(shared, epoch, w, n));
    let sweep_ns = sweep_start.elapsed().as_nanos() as u64;

    // Deliver: publish, then back to Idle. The scheduler wakes the host.
    pauses.enter(shared, Phase::Deliver, |_| ());
    shared.observe(Phase::Deliver);
    let stats = shared.tally.figures(CycleStats {
        cycle,
        marked,
        mark_rounds: rounds,
        ephemerons_traced: entries_traced,
        max_pause_ns: 0,
        mark_ns,
        sweep_ns,
        total_ns: 0,
        // Relaxed: statistics (see `Shared::objects`).
        live_objects: shared.objects.load(Ordering::Relaxed),
        live_bytes: shared.bytes.load(Ordering::Relaxed),
        // Filled in by the scheduler, which knows why the cycle ran.
        ..CycleStats::default()
    });
    pauses.enter(shared, Phase::Idle, |_| ());
    CycleStats { max_pause_ns: pauses.max_ns, total_ns: started.elapsed().as_nanos() as u64, ..stats }
}
