//! The state one store shares between its mutators and its collector,
//! one field per subsystem.
//!
//! `Shared` holds the object table ([`crate::heap`]), the phase lock
//! ([`crate::collector::phase`]), the mutators' barrier buffer
//! ([`crate::collector::barrier`]), the scheduler's state and pacing
//! counters ([`crate::collector::scheduler`]), the finalization and
//! ephemeron state ([`crate::weak`]), the store's totals, its host and its
//! configuration. Mutator operations live in [`crate::store`], the
//! collector's phases in [`crate::collector`].
//!
//! # Invariants
//! - Lock order: the phase lock (read or write), then at most one slot's
//!   payload lock, then the finalization table; the pins map is a leaf; nothing takes a payload
//!   lock while holding the finalization table. The barrier buffer, the
//!   dead-entry queue and the scheduler's mutexes are leaves.
//! - A mutator takes the phase lock for reading once per operation and never
//!   re-enters it (the lock is task-fair: a nested read behind a waiting
//!   writer would deadlock).
//! - `objects` and `bytes` are the exact totals over live slots (updated by
//!   `alloc`, field writes and the sweeper).
//! - `bytes <= config.max_bytes`: every growth goes through `charge`
//!   before it is made visible.

use crate::collector::barrier::Barrier;
use crate::collector::phase::{Phase, PhaseState};
use crate::collector::scheduler::Scheduler;
use crate::collector::sweep::Tally;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::heap::shape::Shapes;
use crate::heap::table::Table;
use crate::host::Host;
use crate::id::ObjId;
use crate::sync::{AtomicUsize, NameMap, Ordering, RwLock};
use crate::weak::WeakState;

pub(crate) struct Shared {
    pub(crate) table: Table,
    /// The shape tree and the key table (after `table`, so that it drops
    /// after the objects that use its shapes).
    pub(crate) shapes: Shapes,
    pub(crate) phase: RwLock<PhaseState>,
    pub(crate) barrier: Barrier,
    pub(crate) scheduler: Scheduler,
    pub(crate) weak: WeakState,
    /// Named roots (`crate::store` `pins`): each entry owns one root.
    pub(crate) pins: NameMap<ObjId>,
    /// Live objects. This and the other counters here (`bytes`,
    /// `anomalies`) are statistics: updated and read with Relaxed, they
    /// order no other data.
    pub(crate) objects: AtomicUsize,
    pub(crate) bytes: AtomicUsize,
    /// Rooted objects the sweeper found unmarked (and kept): collector bugs.
    pub(crate) anomalies: AtomicUsize,
    /// What the cycle in flight has freed so far.
    pub(crate) tally: Tally,
    pub(crate) host: Box<dyn Host>,
    pub(crate) config: Config,
}

impl Shared {
    pub(crate) fn new(config: Config, host: Box<dyn Host>) -> Shared {
        Shared {
            table: Table::new(),
            shapes: Shapes::new(),
            phase: RwLock::new(PhaseState { phase: Phase::Idle, epoch: 1 }),
            barrier: Barrier::new(),
            scheduler: Scheduler::new(&config),
            weak: WeakState::new(),
            pins: NameMap::new(),
            objects: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            anomalies: AtomicUsize::new(0),
            tally: Tally::default(),
            host,
            config,
        }
    }

    /// Tells the phase observer, if any, that `phase` began.
    pub(crate) fn observe(&self, phase: Phase) {
        if let Some(observer) = &self.config.on_phase {
            observer(phase);
        }
    }

    /// Counts `bytes` more against the store's cap (`Config::max_bytes`),
    /// or refuses them, changing nothing.
    #[inline]
    pub(crate) fn charge(&self, bytes: usize) -> Result<()> {
        let max = self.config.max_bytes;
        // Relaxed throughout: `bytes` orders no other data (see `objects`);
        // the compare-exchange makes the check and the add one step, so
        // threads charging at once never pass the cap together.
        if max == usize::MAX {
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
            return Ok(());
        }
        self.bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |in_use| {
                in_use.checked_add(bytes).filter(|&total| total <= max)
            })
            .map(|_| ())
            .map_err(|_| Error::OutOfMemory(bytes))
    }

    /// Whether the store has a cap (`Config::max_bytes`).
    #[inline]
    pub(crate) fn capped(&self) -> bool {
        self.config.max_bytes != usize::MAX
    }

    /// Whether `bytes` more would pass the cap now.
    #[inline]
    pub(crate) fn over_cap(&self, bytes: usize) -> bool {
        let max = self.config.max_bytes;
        // Relaxed: a hint; `charge` decides.
        max != usize::MAX && self.bytes.load(Ordering::Relaxed).saturating_add(bytes) > max
    }

    pub(crate) fn add_bytes(&self, delta: isize) {
        // Relaxed: statistics (see `objects`).
        if delta >= 0 {
            self.bytes.fetch_add(delta as usize, Ordering::Relaxed);
        } else {
            self.bytes.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }
}
