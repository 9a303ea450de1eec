//! The heap: the object table, its chunks and the objects in its slots.
//!
//! - `table`: slots addressed by generation-checked ids, in chunks that
//!   never move; a slot holds an object's state word, mark, root count and
//!   (behind its lock) payload.
//! - `chunk`: a chunk's memory, initialised one slot at a time.
//! - `object`: an object's fields and its weak payload (ephemeron entries
//!   and finalization cells it is the key or target of).
//! - `shape`, `keys`, `dict`: how fields are laid out: shapes shared by
//!   objects with the same keys, the store's interned key names, and the
//!   hashed dictionary mode for the rest.
//!
//! The heap knows nothing of the collector's phases: marking, barriers and
//! sweeping (`crate::collector`) and weak semantics (`crate::weak`) use it.
//!
//! # Invariants
//! - See `table`: slots below the high-water mark are initialised; a slot's
//!   state word turns live only after its payload is in place and dead
//!   only after the payload is taken, both under the slot's lock.

pub(crate) mod chunk;
pub(crate) mod dict;
pub(crate) mod keys;
pub(crate) mod object;
pub(crate) mod shape;
pub(crate) mod table;
pub(crate) mod values;
