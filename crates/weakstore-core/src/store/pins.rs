//! Named roots: `pin(name, id)` keeps an object alive, under a name every
//! thread of the embedder can look up, until `unpin(name)`.
//!
//! The names live in a concurrent map ([`crate::sync::NameMap`]) in
//! `Shared::pins`; what keeps a pinned object alive is the root its pin
//! owns, counted in its slot like every other root, so the collector's
//! root scan needs nothing new and never reads the map.
//!
//! # Invariants
//! - Each entry of the map owns exactly one root on its object: taken
//!   before the entry is inserted, dropped after the entry is removed or
//!   replaced, by whichever call removed or replaced it (the map hands each
//!   old value to exactly one caller).
//! - Lock order: the phase lock, then one shard of the map, which is a leaf
//!   (no map method calls back into the store, none returns a guard).

use crate::error::Result;
use crate::id::ObjId;
use crate::store::Store;

impl Store {
    /// Pins `id` under `name`, replacing (and unpinning) what `name` held.
    /// Fails with `Error::Dead` if `id` is not alive.
    pub fn pin(&self, name: &str, id: ObjId) -> Result<()> {
        let state = self.shared.phase.read();
        let slot = self.live_slot(id, &state)?;
        self.add_root(slot, id, &state);
        if let Some(old) = self.shared.pins.insert(name, id) {
            // The old entry's root, owned by the entry we just replaced.
            let _ = self.drop_root(old, &state);
        }
        Ok(())
    }

    /// Removes the pin `name`; whether there was one.
    pub fn unpin(&self, name: &str) -> bool {
        let state = self.shared.phase.read();
        match self.shared.pins.remove(name) {
            Some(old) => {
                let _ = self.drop_root(old, &state);
                true
            }
            None => false,
        }
    }

    /// The object pinned under `name`, with a root owned by the caller;
    /// `None` if nothing is pinned there (or the pin was removed and its
    /// object collected while this ran).
    pub fn pinned(&self, name: &str) -> Option<ObjId> {
        let id = self.shared.pins.get(name)?;
        // The pin may be removed between the lookup and the root: `root`
        // then either finds the object still alive (rooting it is sound
        // whatever happened to the pin) or refuses it.
        self.root(id).then_some(id)
    }

    /// The names pinned now, sorted.
    pub fn pins(&self) -> Vec<String> {
        self.pinned_objects().into_iter().map(|(name, _)| name).collect()
    }

    /// Every pin: (name, object), sorted by name.
    pub fn pinned_objects(&self) -> Vec<(String, ObjId)> {
        let mut pins = self.shared.pins.entries();
        pins.sort_unstable();
        pins
    }
}
