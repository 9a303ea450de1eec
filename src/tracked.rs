//! The pure half of the wrapper cache (see `crate::wrappers`): a store's
//! tracked handles by object slot. No Node-API call happens here; a
//! tracked handle's reference is only stored and handed back.
//!
//! # Invariants
//! - At most one tracked handle per slot; `len` counts them.
//! - A chunk is in the map only while one of its places is non-empty.

use std::ptr;

use napi::sys;
use rustc_hash::FxHashMap;
use weakstore_core::ObjId;

/// One tracked handle.
#[derive(Clone, Copy)]
pub struct Tracked {
    pub id: ObjId,
    pub ticket: u32,
    pub reference: sys::napi_ref,
}

/// How many consecutive slots share one chunk of the map.
const CHUNK: usize = 8;

/// A tracked handle as the table keeps it (16 bytes): its slot is implied
/// by its place, its id is that slot plus this generation. A null
/// reference marks an empty place.
#[derive(Clone, Copy)]
struct Place {
    generation: u32,
    ticket: u32,
    reference: sys::napi_ref,
}

const EMPTY: Place = Place { generation: 0, ticket: 0, reference: ptr::null_mut() };

impl Place {
    /// The tracked handle this place holds for `slot`, if any.
    fn tracked(self, slot: u32) -> Option<Tracked> {
        if self.reference.is_null() {
            return None;
        }
        let id = ObjId::from_bits((u64::from(self.generation) << 32) | u64::from(slot))?;
        Some(Tracked { id, ticket: self.ticket, reference: self.reference })
    }
}

/// A store's tracked handles, by object slot, in chunks of [`CHUNK`]
/// consecutive slots in a hash map (FxHash).
///
/// Why chunks: allocation hands out consecutive slots, and a program
/// releases or drops its handles in about the order it made them, so
/// consecutive operations hit one chunk instead of missing the cache once
/// each. A chunk is removed when its last place empties, so hash tombstones
/// stay few and scattered; a handle alone in its chunk costs 128 bytes
/// instead of 16. The layouts measured against this one: docs/BENCHMARKS.md,
/// "The wrapper cache".
#[derive(Default)]
pub struct Wrappers {
    chunks: FxHashMap<u32, [Place; CHUNK]>,
    len: usize,
    next_ticket: u32,
}

impl Wrappers {
    /// A ticket for a new tracked handle (wraps after 2^32).
    pub fn next_ticket(&mut self) -> u32 {
        self.next_ticket = self.next_ticket.wrapping_add(1);
        self.next_ticket
    }

    /// How many handles are tracked (live, or dead and not finalized yet).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The objects of every tracked handle (each owns one root).
    pub fn ids(&self) -> Vec<ObjId> {
        let mut ids: Vec<ObjId> = self
            .chunks
            .iter()
            .flat_map(|(&key, places)| {
                places
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, p)| p.tracked(key * CHUNK as u32 + i as u32))
                    .map(|t| t.id)
            })
            .collect();
        ids.sort_unstable_by_key(|id| id.index());
        ids
    }

    fn key(slot: u32) -> (u32, usize) {
        (slot / CHUNK as u32, slot as usize % CHUNK)
    }

    /// The tracked handle in `slot`, if any.
    pub fn get(&self, slot: u32) -> Option<Tracked> {
        let (key, i) = Self::key(slot);
        self.chunks.get(&key)?[i].tracked(slot)
    }

    /// Removes the tracked handle in `slot` if `mine` says it is the one
    /// sought (one lookup: this is the path of every release and death).
    pub fn remove_if(&mut self, slot: u32, mine: impl FnOnce(&Tracked) -> bool) -> Option<Tracked> {
        let (key, i) = Self::key(slot);
        let chunk = self.chunks.get_mut(&key)?;
        let t = chunk[i].tracked(slot)?;
        if !mine(&t) {
            return None;
        }
        chunk[i] = EMPTY;
        if chunk.iter().all(|p| p.reference.is_null()) {
            self.chunks.remove(&key);
        }
        self.len -= 1;
        Some(t)
    }

    /// Tracks `t` in its slot, which must be empty.
    pub fn insert(&mut self, t: Tracked) {
        let slot = slot_of(t.id);
        let (key, i) = Self::key(slot);
        let chunk = self.chunks.entry(key).or_insert([EMPTY; CHUNK]);
        debug_assert!(chunk[i].reference.is_null(), "slot {slot} is tracked already");
        chunk[i] = Place { generation: (t.id.bits() >> 32) as u32, ticket: t.ticket, reference: t.reference };
        self.len += 1;
    }

    /// Removes every tracked handle.
    pub fn drain(&mut self) -> impl Iterator<Item = Tracked> + '_ {
        self.len = 0;
        self.chunks.drain().flat_map(|(key, places)| {
            places.into_iter().enumerate().filter_map(move |(i, p)| p.tracked(key * CHUNK as u32 + i as u32))
        })
    }
}

/// The slot of `id` (its low 32 bits).
pub fn slot_of(id: ObjId) -> u32 {
    id.bits() as u32
}
