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
    /// The store's collector thread could not be started: the operating
    /// system's error number (`None`: a test's injected refusal).
    ThreadStart(Option<i32>),
    /// The operation needed this many more bytes than the store's cap
    /// (`Config::max_bytes`) leaves, after a collection (unless `manual`).
    OutOfMemory(usize),
    /// The allocator refused this many bytes for a value (no cap involved).
    AllocationFailed(usize),
    /// A key id this store never gave out ([`crate::Store::key_id`]).
    UnknownKey(u32),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Dead(id) => write!(f, "object {id:?} was collected or never existed"),
            Error::NotRooted(id) => write!(f, "object {id:?} has no root to remove"),
            Error::UnknownRegistry(r) => write!(f, "finalization registry {r} does not exist"),
            Error::HeldIsTarget(id) => write!(f, "object {id:?} cannot be both target and held value"),
            Error::ThreadStart(Some(errno)) => {
                let why = std::io::Error::from_raw_os_error(*errno);
                write!(f, "the collector thread could not be started: {why}")
            }
            Error::ThreadStart(None) => {
                write!(f, "the collector thread could not be started: refused (injected fault)")
            }
            Error::OutOfMemory(bytes) => write!(f, "{bytes} more bytes would pass the store's byte cap"),
            Error::AllocationFailed(bytes) => write!(f, "could not allocate {bytes} bytes"),
            Error::UnknownKey(k) => write!(f, "key id {k} names no key of this store"),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a store operation.
pub type Result<T> = std::result::Result<T, Error>;
