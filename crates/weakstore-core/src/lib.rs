//! weakstore-core: an off-heap object store with its own concurrent
//! garbage collector and ES2021-style weak semantics, with no JavaScript
//! engine in sight.
//!
//! A [`Store`] holds objects (small maps from string keys to [`Value`]s,
//! where a value may be a strong edge to another object) in a table of
//! slots addressed by generation-checked [`ObjId`]s. What keeps objects
//! alive is their *roots* (counts of strong references from outside the
//! graph, such as JavaScript handles) and the edges between them. A
//! collector thread traces from the roots concurrently with the mutators
//! and frees the rest, cycles included. Weak references are plain ids:
//! once their object is collected they never dereference again.
//! Finalization cells queue up when their target is freed, for the
//! embedder to deliver on its own thread after the [`Host`] wakes it.
//!
//! Module map (folders follow the design):
//! - [`collector`]: the cycle ([`collector::phase::Phase`] lists it in
//!   order), the mutators' barriers, marking, sweeping, scheduling and
//!   pacing.
//! - `heap`: the object table, its chunks and the objects in its slots.
//! - `store`: the mutator operations, one file per concept.
//! - `shared`: the state one store's mutators and collector share, one
//!   field per subsystem; `config`: how the collector behaves.
//! - [`weak`]: ephemeron tables (`WeakMap`/`WeakSet`) and finalization
//!   registries and cells.
//! - [`inspect`]: copies of the graph taken while everything runs, for
//!   heap snapshots and "why is this alive".
//! - [`host`]: the one trait the embedder implements.
//! - `faults`: thread starts refused and workers panicking, injected by
//!   tests (public with the `fault-injection` feature).
//!
//! # Invariants
//! - Never free a reachable object: an object reachable from a root when a
//!   cycle's `Snapshot` pause ran, or allocated, rooted or stored into a
//!   field since, is marked before that cycle's `ProcessWeak`, and only
//!   unmarked objects are swept.
//! - Never resurrect: once `ProcessWeak` has begun, an unmarked object
//!   cannot be rooted, dereferenced, stored or registered; after the sweep
//!   its id is stale forever.
//! - No core lock is held while calling the host, and no mutator operation
//!   waits for marking or sweeping, only for the O(1) phase-change pauses.

#![warn(missing_docs)]

pub mod collector;
mod config;
mod error;
#[cfg(any(loom, feature = "fault-injection"))]
pub mod faults;
#[cfg(not(any(loom, feature = "fault-injection")))]
mod faults;
mod heap;
pub mod host;
mod id;
pub mod inspect;
mod shared;
mod stats;
mod store;
pub(crate) mod sync;
mod value;
pub mod weak;

pub use collector::phase::Phase;
pub use config::{Config, PhaseObserver};
pub use error::{Error, Result};
pub use heap::keys::KeyId;
pub use host::{Host, NoopHost, WakeLatch};
pub use id::{ObjId, GEN_BITS, MAX_GEN};
pub use inspect::{Graph, Inspector, RootSets};
pub use stats::{CycleStats, Stats, Trigger, CYCLE_HISTORY};
pub use store::fields::FieldKey;
pub use store::Store;
pub use value::{try_copy, BigInt, Bytes, Str, Value};
pub use weak::ephemeron::{EphemeronTable, EphemeronValue};
pub use weak::finalization::Fired;
