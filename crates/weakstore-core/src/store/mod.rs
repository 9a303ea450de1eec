//! The mutator's interface, one file per concept: [`Store`] itself here
//! (creation, configuration, teardown, the liveness check every operation
//! makes), then `fields` (allocate, read, write), `roots` (root, unroot,
//! `deref`), `pins` (named roots), `finalization` (registries, cells, delivery), `ephemerons`
//! (`WeakMap`/`WeakSet` tables) and `collection` (requests, figures).
//!
//! Every operation takes the phase lock for reading once, so it runs
//! entirely inside one phase, and calls the barriers that phase asks for
//! ([`crate::collector::barrier`], [`crate::Phase::barriers_on`],
//! [`crate::Phase::unmarked_is_dead`]).
//!
//! # Invariants
//! - An id returned by `alloc` carries one root owned by the caller; so
//!   does an id for which `root` returned `true`, and each `Ref` that
//!   `get_rooted` returns.
//! - A mutator only stores references to objects it can name legitimately:
//!   a `Ref` written into a field must be alive *and* visible (not unmarked
//!   after marking ended); otherwise the write fails with `Error::Dead`.
//! - Plain `get` returns `Ref` ids without a root: sound only while no
//!   other thread can remove the edge before the caller roots the id (one
//!   mutator thread per store). Threads sharing a store use `get_rooted`.
//! - Any number of threads may call any operation at once: each one is
//!   atomic (it holds the phase read lock, and its object's lock while it
//!   reads or writes fields), and the barriers do not depend on which
//!   thread runs them.

mod collection;
mod ephemerons;
pub(crate) mod fields;
mod finalization;
mod pins;
mod roots;

use crate::collector::phase::PhaseState;
use crate::collector::scheduler;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::heap::table::Slot;
use crate::host::Host;
use crate::id::ObjId;
use crate::shared::Shared;
use crate::sync::Arc;

/// An off-heap object store with its own concurrent collector.
pub struct Store {
    pub(crate) shared: Arc<Shared>,
    collector: Option<crate::sync::thread::JoinHandle<()>>,
}

impl Store {
    /// A store with its collector thread started; panics if the thread
    /// cannot start (see [`Store::try_new`]).
    pub fn new(config: Config, host: impl Host) -> Store {
        Store::try_new(config, host).unwrap_or_else(|e| panic!("weakstore: {e}"))
    }

    /// A store with its collector thread started, or
    /// [`Error::ThreadStart`] if the operating system refused the thread.
    pub fn try_new(config: Config, host: impl Host) -> Result<Store> {
        let shared = Arc::new(Shared::new(config, Box::new(host)));
        let collector = scheduler::spawn(Arc::clone(&shared)).map_err(|e| Error::ThreadStart(e.raw_os_error()))?;
        Ok(Store { shared, collector: Some(collector) })
    }

    /// The configuration the store runs with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The slot of `id` if a mutator in `state` may use it: live, and not
    /// known dead (`PhaseState::sees`).
    pub(crate) fn live_slot(&self, id: ObjId, state: &PhaseState) -> Result<&Slot> {
        self.shared.table.live(id).filter(|slot| state.sees(slot)).ok_or(Error::Dead(id))
    }
}

impl Store {
    /// Stops the collector and waits for its thread to end (a cycle in
    /// flight is finished first). Unlike a plain drop, no collector thread
    /// of this store is left running when `close` returns; the objects go
    /// when the store is dropped. No cycle runs after this.
    pub fn close(&mut self) {
        scheduler::shutdown(&self.shared);
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        scheduler::shutdown(&self.shared);
        // Detach: a cycle in flight finishes on its own thread with its own
        // reference to the shared state; the dropping thread never waits.
        #[cfg(not(loom))]
        drop(self.collector.take());
        // Loom models must end every thread they start.
        #[cfg(loom)]
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
    }
}
