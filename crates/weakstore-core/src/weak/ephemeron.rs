//! Ephemeron tables: the core of `WeakMap` and `WeakSet`.
//!
//! An entry maps a key object to a value, and keeps the value alive only
//! while the key is alive. Entries are stored *with their key*, in the key
//! object's payload, tagged with their table. Marking a key therefore traces
//! its entries' values in the same pass that traces its fields: a value
//! becomes reachable exactly when its key does, chains of any length resolve
//! in one linear marking pass, and a value that refers back to its own key
//! cannot keep it alive (the key must be reached first). There is no
//! fixpoint iteration to bound, and nothing quadratic.
//!
//! A table is alive while its embedder holds it; [`Store::drop_ephemeron_table`]
//! marks it dead, after which its entries neither keep values alive nor
//! answer lookups, and are purged the next time the marker traces their key
//! (or when the key is freed).
//!
//! # Invariants
//! - A key's payload holds at most one entry per table.
//! - `WeakState::ephemeron_entries` counts entries in payloads (of live and
//!   dead tables alike, until purged).
//! - An entry whose value is [`EphemeronValue::External`] has a counterpart
//!   on the embedder's side; when its key is freed while the table is
//!   alive, the sweeper reports `(table, key)` so the embedder can drop it.
//!
//! [`Store::drop_ephemeron_table`]: crate::Store::drop_ephemeron_table

use crate::id::ObjId;
use crate::sync::{Arc, AtomicBool, Ordering};
use crate::value::Value;

/// One `WeakMap` or `WeakSet`, as the core sees it.
#[derive(Debug)]
pub struct EphemeronTable {
    id: u32,
    alive: AtomicBool,
}

impl EphemeronTable {
    pub(crate) fn new(id: u32) -> Arc<EphemeronTable> {
        Arc::new(EphemeronTable { id, alive: AtomicBool::new(true) })
    }

    /// The table's id, unique within its store.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Whether the table was not dropped.
    #[inline]
    pub fn is_alive(&self) -> bool {
        // Acquire; pairs with the Release in `kill`: a marker that still
        // sees the table alive traces the value, which is always safe.
        self.alive.load(Ordering::Acquire)
    }

    pub(crate) fn kill(&self) {
        // Release; pairs with the Acquire in `is_alive`: a marker that sees
        // the table dead (and purges its entries) also sees whatever the
        // dropping thread did before.
        self.alive.store(false, Ordering::Release);
    }
}

/// What an entry maps its key to.
#[derive(Clone, Debug, PartialEq)]
pub enum EphemeronValue {
    /// A field value kept in the store (a `Ref` is traced when the key is).
    Field(Value),
    /// A value only the embedder can hold (a JavaScript object, say); the
    /// core keeps the entry's existence, the embedder keeps the value.
    External,
}

impl EphemeronValue {
    pub(crate) fn as_ref(&self) -> Option<ObjId> {
        match self {
            EphemeronValue::Field(v) => v.as_ref(),
            EphemeronValue::External => None,
        }
    }
}

pub(crate) struct Entry {
    pub(crate) table: Arc<EphemeronTable>,
    pub(crate) value: EphemeronValue,
}

impl Entry {
    pub(crate) fn of<'a>(entries: &'a [Entry], table: &Arc<EphemeronTable>) -> Option<&'a Entry> {
        entries.iter().find(|e| Arc::ptr_eq(&e.table, table))
    }

    pub(crate) fn position(entries: &[Entry], table: &Arc<EphemeronTable>) -> Option<usize> {
        entries.iter().position(|e| Arc::ptr_eq(&e.table, table))
    }
}
