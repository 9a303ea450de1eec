//! Weak semantics.
//!
//! - Weak references are generation-checked [`crate::ObjId`]s: the sweeper's
//!   generation bump clears every one of them at once, and `ProcessWeak`
//!   makes them read empty even before the sweeper reaches the slot.
//! - `finalization`: registries and cells.
//! - [`ephemeron`]: tables for `WeakMap`/`WeakSet`, whose entries live with
//!   their keys so that `Mark` resolves them in its single pass.

pub mod ephemeron;
pub(crate) mod finalization;
