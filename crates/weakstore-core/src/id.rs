//! Object ids: a slot index plus the slot's generation.
//!
//! An [`ObjId`] names one *incarnation* of a slot in the object table. When
//! the sweeper frees a slot it bumps the slot's generation, so every id that
//! still names the old incarnation (a `WeakRef`, a stale field, a handle
//! that outlived its store object) compares unequal and is refused.
//!
//! # Invariants
//! - `bits()` is below 2^53, so an id survives a round trip through a
//!   JavaScript number exactly: the index takes the low 32 bits and the
//!   generation the next [`GEN_BITS`].
//! - Generations start at 1, so no valid id has bits 0.
//! - A slot whose generation reaches [`MAX_GEN`] is retired instead of being
//!   reused: generations never wrap, so a stale id can never name a reused
//!   slot.

/// Bits of generation kept in an id.
pub const GEN_BITS: u32 = 21;
/// The last generation a slot may have; a slot freed at this generation is
/// retired for good.
pub const MAX_GEN: u32 = (1 << GEN_BITS) - 1;

/// A generation-checked reference to a store object.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(u64);

impl ObjId {
    pub(crate) fn new(index: u32, generation: u32) -> ObjId {
        debug_assert!((1..=MAX_GEN).contains(&generation));
        ObjId(u64::from(generation) << 32 | u64::from(index))
    }

    /// The slot index.
    pub fn index(self) -> u32 {
        self.0 as u32
    }

    /// The slot generation this id was issued for.
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The id as an integer below 2^53 (exact as a JavaScript number).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Rebuilds an id from [`ObjId::bits`]; `None` for values no id can have.
    pub fn from_bits(bits: u64) -> Option<ObjId> {
        let generation = bits >> 32;
        if generation == 0 || generation > u64::from(MAX_GEN) {
            None
        } else {
            Some(ObjId(bits))
        }
    }
}

impl std::fmt::Debug for ObjId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}v{}", self.index(), self.generation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_f64() {
        let id = ObjId::new(u32::MAX, MAX_GEN);
        assert!(id.bits() < 1 << 53);
        assert_eq!(ObjId::from_bits(id.bits() as f64 as u64), Some(id));
        assert_eq!(id.index(), u32::MAX);
        assert_eq!(id.generation(), MAX_GEN);
    }

    #[test]
    fn rejects_impossible_bits() {
        assert_eq!(ObjId::from_bits(0), None);
        assert_eq!(ObjId::from_bits(7), None, "generation 0 is never issued");
        assert_eq!(ObjId::from_bits(u64::from(MAX_GEN + 1) << 32), None);
    }
}
