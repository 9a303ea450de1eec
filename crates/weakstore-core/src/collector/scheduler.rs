//! When cycles run: explicit requests and the allocation budget.
//!
//! One coordinator thread per store sleeps on `Scheduler::changed` until a
//! cycle is requested, runs it, publishes its figures and wakes the host.
//! A request names the first cycle that *starts* after it, so a caller that
//! waits for that cycle knows the whole collection saw its prior changes.
//!
//! # Invariants
//! - `completed <= started <= completed + 1`, and `started < requested`
//!   means a cycle is owed.
//! - The host is woken after `completed` is published, so a pump woken for
//!   cycle `n` sees `completed >= n`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::collections::VecDeque;

use crate::collector::cycle::run_cycle;
use crate::collector::phase::Phase;
use crate::config::Config;
use crate::shared::Shared;
use crate::stats::{CycleStats, Trigger, CYCLE_HISTORY};
use crate::sync::thread::JoinHandle;
use crate::sync::{Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

/// The scheduler's part of a store's shared state.
pub(crate) struct Scheduler {
    pub(crate) schedule: Mutex<Schedule>,
    /// Signalled when `schedule` changes (a request, a completion, shutdown).
    pub(crate) changed: Condvar,
    pub(crate) last_cycle: Mutex<CycleStats>,
    /// The last finished cycles' figures (`CYCLE_HISTORY`).
    pub(crate) history: Mutex<VecDeque<CycleStats>>,
    pub(crate) pacing: Pacing,
}

/// Pacing counters and hints, updated by every allocation (`on_allocate`).
/// All Relaxed: see `on_allocate`.
pub(crate) struct Pacing {
    /// Bytes allocated since the last `Snapshot`.
    pub(crate) allocated: AtomicUsize,
    /// Allocation (`allocated`) that requests the next cycle: the budget,
    /// paced on the live size after each cycle (`pace`).
    pub(crate) trigger: AtomicUsize,
    /// `allocated` reached `trigger` and a cycle was requested for it.
    /// Cleared at each `Snapshot`.
    pub(crate) auto_requested: AtomicBool,
    /// The program allocated twice the trigger since the cycle in flight
    /// began: collector threads drop their background priority
    /// (`collector::priority`, `keep_pace`). Cleared at each `Snapshot`.
    pub(crate) behind: AtomicBool,
}

impl Scheduler {
    pub(crate) fn new(config: &Config) -> Scheduler {
        Scheduler {
            schedule: Mutex::new(Schedule::default()),
            changed: Condvar::new(),
            last_cycle: Mutex::new(CycleStats::default()),
            history: Mutex::new(VecDeque::new()),
            pacing: Pacing {
                allocated: AtomicUsize::new(0),
                trigger: AtomicUsize::new(config.budget_bytes),
                auto_requested: AtomicBool::new(false),
                behind: AtomicBool::new(false),
            },
        }
    }
}

/// On a collector thread: if the program is outrunning the cycle, stop
/// yielding the CPU to it (see `collector::priority`).
#[inline]
pub(crate) fn keep_pace(shared: &Shared) {
    // Relaxed: a hint; a late read only delays the boost a little.
    if shared.config.background && shared.scheduler.pacing.behind.load(Ordering::Relaxed) {
        crate::collector::priority::restore_current_thread();
    }
}

#[derive(Default)]
pub(crate) struct Schedule {
    pub(crate) requested: u64,
    pub(crate) started: u64,
    pub(crate) completed: u64,
    /// The latest cycle an explicit request asked for (its trigger).
    pub(crate) explicit: u64,
    pub(crate) shutdown: bool,
    /// Cycle attempts whose work panicked (a collector bug; reported in
    /// stats). Each was retried (`run_attempts`).
    pub(crate) failed: u64,
}

/// Starts the store's coordinator thread; the error if it cannot start.
pub(crate) fn spawn(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    crate::sync::spawn("weakstore-gc", move || coordinator(&shared))
}

/// Attempts at one cycle: the configured threads, then the coordinator
/// alone (a collector worker panicked; a second panic fails the cycle).
const ATTEMPTS: u32 = 2;

/// Runs cycle `cycle`, retrying it on one thread if an attempt panics.
fn run_attempts(shared: &Shared, cycle: u64) -> CycleStats {
    shared.tally.reset();
    let mut workers = shared.config.threads;
    let mut retries = 0;
    loop {
        match catch_unwind(AssertUnwindSafe(|| run_cycle(shared, cycle, workers))) {
            Ok(stats) => return CycleStats { retries, ..stats },
            Err(_) => {
                // Leave no phase behind: Idle is always safe (nothing was
                // freed that marking did not prove dead), and the next
                // attempt starts from a new `Snapshot`.
                shared.phase.write().phase = Phase::Idle;
                shared.scheduler.schedule.lock().failed += 1;
                retries += 1;
                workers = 1;
            }
        }
        if retries == ATTEMPTS {
            return shared.tally.figures(CycleStats {
                cycle,
                retries,
                failed: true,
                // Relaxed: statistics (see `Shared::objects`).
                live_objects: shared.objects.load(Ordering::Relaxed),
                live_bytes: shared.bytes.load(Ordering::Relaxed),
                ..CycleStats::default()
            });
        }
    }
}

fn coordinator(shared: &Shared) {
    loop {
        if shared.config.background {
            // Back in the background for each new cycle (a cycle that fell
            // behind left this thread at normal priority).
            crate::collector::priority::lower_current_thread();
        }
        let cycle = {
            let mut schedule = shared.scheduler.schedule.lock();
            while schedule.requested <= schedule.started && !schedule.shutdown {
                schedule = shared.scheduler.changed.wait(schedule);
            }
            if schedule.shutdown {
                return;
            }
            schedule.started += 1;
            let trigger = if schedule.explicit >= schedule.started { Trigger::Request } else { Trigger::Allocation };
            (schedule.started, trigger)
        };
        let (cycle, trigger) = cycle;
        let started_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let stats = run_attempts(shared, cycle);
        // Relaxed: a hint for `on_allocate`; an allocation that reads the
        // previous trigger requests a cycle a little early or late.
        shared.scheduler.pacing.trigger.store(pace(&shared.config, stats.live_bytes), Ordering::Relaxed);
        // Relaxed: `behind` is a hint set by allocations during the cycle.
        let boosted = shared.scheduler.pacing.behind.load(Ordering::Relaxed);
        let stats = CycleStats { trigger, boosted, started_at_ms, ..stats };
        *shared.scheduler.last_cycle.lock() = stats.clone();
        {
            let mut history = shared.scheduler.history.lock();
            if history.len() == CYCLE_HISTORY {
                history.pop_front();
            }
            history.push_back(stats.clone());
        }
        {
            let mut schedule = shared.scheduler.schedule.lock();
            schedule.completed = cycle;
        }
        shared.scheduler.changed.notify_all();
        shared.host.external_memory(stats.live_bytes);
        shared.host.wake_cleanup(&stats);
    }
}

/// Asks for a full cycle; returns the number of the cycle that will do it.
/// `explicit`: the embedder asked (not the allocation budget).
pub(crate) fn request(shared: &Shared, explicit: bool) -> u64 {
    let mut schedule = shared.scheduler.schedule.lock();
    let target = schedule.started + 1;
    if explicit {
        schedule.explicit = target;
    }
    if schedule.requested < target {
        schedule.requested = target;
        drop(schedule);
        shared.scheduler.changed.notify_all();
    }
    target
}

/// The allocation that starts the cycle after one that left `live_bytes`.
pub(crate) fn pace(config: &Config, live_bytes: usize) -> usize {
    let paced = live_bytes.saturating_mul(config.growth_percent) / 100;
    config.budget_bytes.max(paced)
}

/// Counts `bytes` against the trigger; requests a cycle once it is
/// reached, or once the store is within an eighth of its cap
/// (`Config::max_bytes`), so that a capped store collects before an
/// allocation has to wait for it (`Store::make_room`).
///
/// "Reached", not "crossed": the trigger moves at the end of every cycle
/// (`pace`), and a cycle that ends with a lower trigger than the one it
/// began with may find the program's allocation already past it. Testing
/// for the crossing would then never request another cycle
/// (`a_lowered_trigger_already_passed_still_starts_a_cycle`). The
/// `auto_requested` flag makes it one request per cycle.
#[inline]
pub(crate) fn on_allocate(shared: &Shared, bytes: usize) {
    // Relaxed throughout: these are counters and hints. The reset at each
    // `Snapshot` may race with an allocation; the worst outcome is one
    // extra cycle requested, or one request made by the next allocation.
    let total = shared.scheduler.pacing.allocated.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
    let trigger = shared.scheduler.pacing.trigger.load(Ordering::Relaxed);
    if !shared.config.manual
        && (total >= trigger || shared.over_cap(shared.config.max_bytes / 8))
        && !shared.scheduler.pacing.auto_requested.load(Ordering::Relaxed)
        && !shared.scheduler.pacing.auto_requested.swap(true, Ordering::Relaxed)
    {
        request(shared, false);
    }
    // Twice the trigger since the cycle in flight began: it is falling
    // behind. (A saturating double: budgets may be huge.)
    if total >= trigger.saturating_mul(2) && !shared.scheduler.pacing.behind.load(Ordering::Relaxed) {
        shared.scheduler.pacing.behind.store(true, Ordering::Relaxed);
    }
}

/// Blocks until cycle `target` has completed; returns the latest figures.
pub(crate) fn wait_for(shared: &Shared, target: u64) -> CycleStats {
    let mut schedule = shared.scheduler.schedule.lock();
    while schedule.completed < target && !schedule.shutdown {
        schedule = shared.scheduler.changed.wait(schedule);
    }
    drop(schedule);
    shared.scheduler.last_cycle.lock().clone()
}

pub(crate) fn shutdown(shared: &Shared) {
    shared.scheduler.schedule.lock().shutdown = true;
    shared.scheduler.changed.notify_all();
}
