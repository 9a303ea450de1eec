//! Weak semantics.
//!
//! - Weak references are generation-checked [`crate::ObjId`]s: the sweeper's
//!   generation bump clears every one of them at once, and `ProcessWeak`
//!   makes them read empty even before the sweeper reaches the slot.
//! - `finalization`: registries and cells (`free_ids`: their free ids).
//! - [`ephemeron`]: tables for `WeakMap`/`WeakSet`, whose entries live with
//!   their keys so that `Mark` resolves them in its single pass.

pub mod ephemeron;
pub(crate) mod finalization;
mod free_ids;

use crate::id::ObjId;
use crate::sync::{AtomicU32, AtomicUsize, Mutex};
use finalization::FinalizationTable;

/// A store's weak state: its finalization table and its ephemeron
/// bookkeeping (the entries themselves live in their keys' payloads).
pub(crate) struct WeakState {
    pub(crate) finalization: Mutex<FinalizationTable>,
    /// Ephemeron entries in key payloads (a statistic: Relaxed).
    pub(crate) ephemeron_entries: AtomicUsize,
    /// Ephemeron tables created and not dropped (a statistic: Relaxed).
    pub(crate) ephemeron_tables: AtomicUsize,
    /// The last ephemeron table number handed out.
    pub(crate) next_table: AtomicU32,
    /// `(table, key)` of freed keys whose entry's value the embedder holds.
    pub(crate) dead_external: Mutex<Vec<(u32, ObjId)>>,
}

impl WeakState {
    pub(crate) fn new() -> WeakState {
        WeakState {
            finalization: Mutex::new(FinalizationTable::default()),
            ephemeron_entries: AtomicUsize::new(0),
            ephemeron_tables: AtomicUsize::new(0),
            next_table: AtomicU32::new(0),
            dead_external: Mutex::new(Vec::new()),
        }
    }
}
