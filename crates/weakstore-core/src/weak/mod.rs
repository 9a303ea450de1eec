//! Weak semantics.
//!
//! - Weak references are generation-checked [`crate::ObjId`]s: the sweeper's
//!   generation bump clears every one of them at once, and `ProcessWeak`
//!   makes them read empty even before the sweeper reaches the slot.
//! - [`finalization`]: registries, cells and unregister tokens.
//! - Ephemerons (`WeakMap`/`WeakSet`) will live here too; they are resolved
//!   inside `Mark`, before `ProcessWeak`.

pub(crate) mod finalization;
