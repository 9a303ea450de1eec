//! Marking: the root scan and parallel tracing with work sharing.
//!
//! Each worker keeps a local stack of gray slot indices. A worker whose
//! stack grows past two packets while another worker is hungry gives half
//! of it to the shared pool. A worker that runs dry first drains the
//! mutators' barrier buffer, then takes a packet from the pool, then waits;
//! when every worker waits at once, the round is over.
//!
//! # Invariants
//! - An object is traced by exactly one worker per cycle: the one whose
//!   `try_mark` swap turned it black (`Slot::try_mark`).
//! - Termination is exact: `idle == workers` is only reached with the pool
//!   empty and every local stack empty. Work mutators add afterwards is
//!   picked up by `FinishMarking`, under the phase lock.
//! - `workers` counts threads that exist and run `run` (`fork_join` builds
//!   the marker for the helpers it could start). A worker that leaves by
//!   panicking takes itself out of the count, so the others still
//!   terminate; its unfinished stack is lost, and the panic then fails the
//!   cycle before `ProcessWeak` (nothing is freed on an incomplete mark).

use crate::heap::object::entry_bytes;
use crate::shared::Shared;
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// Gray objects handed between workers in one go.
#[cfg(not(loom))]
pub(crate) const PACKET: usize = 512;
#[cfg(loom)]
pub(crate) const PACKET: usize = 2;
/// Slots a root-scan or sweep worker takes as one contiguous block.
#[cfg(not(loom))]
pub(crate) const BLOCK: u32 = 4096;
#[cfg(loom)]
pub(crate) const BLOCK: u32 = 2;

struct Pool {
    packets: Vec<Vec<u32>>,
    idle: usize,
    /// Workers still taking part (see the invariants).
    workers: usize,
    done: bool,
}

pub(crate) struct Marker<'a> {
    shared: &'a Shared,
    epoch: u32,
    pool: Mutex<Pool>,
    work_added: Condvar,
    /// Workers waiting for a packet (a hint for donation).
    hungry: AtomicUsize,
}

/// What one worker traced in a round.
#[derive(Clone, Copy, Default)]
pub(crate) struct Traced {
    pub(crate) objects: usize,
    /// Ephemeron entries whose values were traced.
    pub(crate) entries: usize,
}

/// Takes a worker out of the pool's count if it leaves `run` by panicking.
struct Leaving<'m, 'a>(&'m Marker<'a>);

impl Drop for Leaving<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut pool = self.0.pool.lock();
            pool.workers -= 1;
            if pool.idle >= pool.workers {
                pool.done = true;
            }
            drop(pool);
            self.0.work_added.notify_all();
        }
    }
}

/// The blocks of `0..end` that worker `worker` of `workers` owns.
pub(crate) fn blocks(worker: usize, workers: usize, end: u32) -> impl Iterator<Item = std::ops::Range<u32>> {
    (0..end.div_ceil(BLOCK))
        .filter(move |b| *b as usize % workers == worker)
        .map(move |b| b * BLOCK..((b + 1) * BLOCK).min(end))
}

impl<'a> Marker<'a> {
    pub(crate) fn new(shared: &'a Shared, epoch: u32, workers: usize, packets: Vec<Vec<u32>>) -> Self {
        let packets = packets.into_iter().filter(|p| !p.is_empty()).collect();
        Marker {
            shared,
            epoch,
            pool: Mutex::new(Pool { packets, idle: 0, workers, done: false }),
            work_added: Condvar::new(),
            hungry: AtomicUsize::new(0),
        }
    }

    /// Shades every rooted slot in this worker's blocks; returns them gray.
    pub(crate) fn scan_roots(shared: &Shared, epoch: u32, worker: usize, workers: usize) -> Vec<u32> {
        let mut gray = Vec::new();
        // Slots published after this load were allocated black.
        let end = shared.table.high_water();
        for range in blocks(worker, workers, end) {
            crate::collector::scheduler::keep_pace(shared);
            for index in range {
                let Some(slot) = shared.table.slot(index) else { continue };
                // Relaxed suffices: every root change made before the
                // `Snapshot` pause happens-before it through the phase
                // lock; changes made since shade through the root barrier.
                if slot.state.load(Ordering::Relaxed) & 1 == 1
                    && slot.roots.load(Ordering::Relaxed) > 0
                    && slot.try_mark(epoch)
                {
                    gray.push(index);
                }
            }
        }
        gray
    }

    /// One worker's share of the round.
    pub(crate) fn run(&self) -> Traced {
        let _leaving = Leaving(self);
        crate::faults::point(crate::faults::Site::Mark);
        let mut local: Vec<u32> = Vec::new();
        let mut traced = Traced::default();
        loop {
            while let Some(index) = local.pop() {
                traced.entries += self.trace(index, &mut local);
                traced.objects += 1;
                if traced.objects.is_multiple_of(4096) {
                    crate::collector::scheduler::keep_pace(self.shared);
                }
                // Relaxed: `hungry` is a hint; the pool's mutex orders the
                // packet itself.
                if local.len() > 2 * PACKET && self.hungry.load(Ordering::Relaxed) > 0 {
                    let half = local.split_off(local.len() / 2);
                    self.pool.lock().packets.push(half);
                    self.work_added.notify_one();
                }
            }
            if self.shared.barrier.take(&mut local) {
                continue;
            }
            match self.steal() {
                Some(packet) => local = packet,
                None => break,
            }
        }
        traced
    }

    /// Shades the children of `index` onto `local`: its fields' targets
    /// and the values of the ephemeron entries it is the key of. Returns
    /// how many such entries it traced.
    fn trace(&self, index: u32, local: &mut Vec<u32>) -> usize {
        let Some(slot) = self.shared.table.slot(index) else { return 0 };
        let mut guard = slot.lock();
        let Some(object) = guard.as_mut() else { return 0 };
        object.for_each_value(|v| {
            if let Some(child) = v.as_ref() {
                self.shade_child(child, local);
            }
        });
        if let Some(weak) = object.side.as_mut() {
            if !weak.entries.is_empty() {
                // Entries of dropped tables keep nothing alive; purge them
                // while we hold the key's lock anyway.
                let (mut purged, mut bytes) = (0, 0);
                weak.entries.retain(|e| {
                    let alive = e.table.is_alive();
                    if !alive {
                        purged += 1;
                        bytes += entry_bytes(&e.value);
                    }
                    alive
                });
                if purged > 0 {
                    // Relaxed: statistics (see `Shared::objects`).
                    self.shared.weak.ephemeron_entries.fetch_sub(purged, Ordering::Relaxed);
                    // The store's byte total is the sum of live objects'
                    // `measure`, which no longer counts these entries.
                    self.shared.add_bytes(-(bytes as isize));
                }
                for child in weak.entries.iter().filter_map(|e| e.value.as_ref()) {
                    self.shade_child(child, local);
                }
                return weak.entries.len();
            }
        }
        0
    }

    #[inline]
    fn shade_child(&self, child: crate::id::ObjId, local: &mut Vec<u32>) {
        if let Some(child_slot) = self.shared.table.live(child) {
            if child_slot.try_mark(self.epoch) {
                local.push(child.index());
            }
        }
    }

    /// Takes a packet, or waits; `None` once every worker is out of work.
    fn steal(&self) -> Option<Vec<u32>> {
        let mut pool = self.pool.lock();
        loop {
            if let Some(packet) = pool.packets.pop() {
                return Some(packet);
            }
            if pool.done {
                return None;
            }
            if pool.idle + 1 >= pool.workers {
                pool.done = true;
                self.work_added.notify_all();
                return None;
            }
            pool.idle += 1;
            // Relaxed: a hint (see `run`).
            self.hungry.fetch_add(1, Ordering::Relaxed);
            pool = self.work_added.wait(pool);
            self.hungry.fetch_sub(1, Ordering::Relaxed);
            pool.idle -= 1;
        }
    }
}
