//! One collection cycle, driven phase by phase (see [`Phase`]).
//!
//! The coordinator thread runs this; the parallel phases borrow
//! `threads - 1` helper threads for their duration.
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
use crate::collector::sweep::{sweep, Swept};
use crate::shared::Shared;
use crate::stats::CycleStats;
use crate::sync::Ordering;

/// Runs `work(worker)` for every worker, in parallel (worker 0 on this
/// thread); helpers inherit the coordinator's (lowered) priority when
/// `background` is set.
fn parallel<T: Send + 'static>(workers: usize, background: bool, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    crate::sync::fork_join(workers, |w| {
        if background && w != 0 {
            crate::collector::priority::lower_current_thread();
        }
        work(w)
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

pub(crate) fn run_cycle(shared: &Shared, cycle: u64) -> CycleStats {
    let started = Instant::now();
    let workers = shared.config.threads.max(1);
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
        parallel(workers, shared.config.background, |w| Marker::scan_roots(shared, epoch, w, workers))
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
        let marker = Marker::new(shared, epoch, workers, std::mem::take(&mut gray));
        parallel(workers, shared.config.background, |_| marker.run());
        // Relaxed: the workers' adds happen-before their threads' joins.
        marked += marker.traced.load(Ordering::Relaxed);
        entries_traced += marker.entries_traced.load(Ordering::Relaxed);
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
    let mut swept = Swept::default();
    for part in parallel(workers, shared.config.background, |w| sweep(shared, epoch, w, workers)) {
        swept.add(part);
    }
    let sweep_ns = sweep_start.elapsed().as_nanos() as u64;

    // Deliver: publish, then back to Idle. The scheduler wakes the host.
    pauses.enter(shared, Phase::Deliver, |_| ());
    shared.observe(Phase::Deliver);
    let stats = CycleStats {
        cycle,
        marked,
        freed: swept.freed,
        freed_bytes: swept.freed_bytes,
        finalizers_queued: swept.fired,
        mark_rounds: rounds,
        ephemerons_traced: entries_traced,
        ephemerons_dropped: swept.entries,
        max_pause_ns: 0,
        mark_ns,
        sweep_ns,
        total_ns: 0,
        // Relaxed: statistics (see `Shared::objects`).
        live_objects: shared.objects.load(Ordering::Relaxed),
        live_bytes: shared.bytes.load(Ordering::Relaxed),
        // Filled in by the scheduler, which knows why the cycle ran.
        ..CycleStats::default()
    };
    pauses.enter(shared, Phase::Idle, |_| ());
    CycleStats { max_pause_ns: pauses.max_ns, total_ns: started.elapsed().as_nanos() as u64, ..stats }
}
