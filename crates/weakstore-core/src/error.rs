//! Errors the core returns; the binding maps each to one JavaScript error.

use crate::id::ObjId;

/// Why a store operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The id names no live object: it was collected, or never existed.
    Dead(ObjId),
    /// `unroot` on an object with no roots left.
    NotRooted(ObjId),
    /// The registry id is unknown (never created, or dropped).
    UnknownRegistry(u32),
    /// A finalization target may not be its own held value.
    HeldIsTarget(ObjId),
    /// The store's collector thread could not be started (the operating
    /// system's message).
    ThreadStart(String),
    /// The operation needs `requested` more bytes than the store may hold:
    /// `in_use` of `max` were in use after a collection (`max` is
    /// `Config::max_bytes`; `usize::MAX` if the allocator itself refused).
    OutOfMemory {
        /// Bytes the operation needed.
        requested: usize,
        /// Bytes in use when it was refused.
        in_use: usize,
        /// The cap.
        max: usize,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Dead(id) => write!(f, "object {id:?} was collected or never existed"),
            Error::NotRooted(id) => write!(f, "object {id:?} has no root to remove"),
            Error::UnknownRegistry(r) => write!(f, "finalization registry {r} does not exist"),
            Error::HeldIsTarget(id) => write!(f, "object {id:?} cannot be both target and held value"),
            Error::ThreadStart(why) => write!(f, "the collector thread could not be started: {why}"),
            Error::OutOfMemory { requested, in_use, max } if *max == usize::MAX => {
                write!(f, "could not allocate {requested} bytes ({in_use} bytes in use)")
            }
            Error::OutOfMemory { requested, in_use, max } => {
                write!(f, "{requested} more bytes would pass the store's cap of {max} bytes ({in_use} in use)")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Result of a store operation.
pub type Result<T> = std::result::Result<T, Error>;
