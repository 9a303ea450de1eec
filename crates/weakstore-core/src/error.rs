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
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Dead(id) => write!(f, "object {id:?} was collected or never existed"),
            Error::NotRooted(id) => write!(f, "object {id:?} has no root to remove"),
            Error::UnknownRegistry(r) => write!(f, "finalization registry {r} does not exist"),
            Error::HeldIsTarget(id) => write!(f, "object {id:?} cannot be both target and held value"),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a store operation.
pub type Result<T> = std::result::Result<T, Error>;
