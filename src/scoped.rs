//! The roots this thread's scopes hold (see `lib/scope.js`): one record
//! per open scope, of the roots its handles took, in the order they took
//! them. No Node-API call happens here.
//!
//! A scoped handle is a plain JavaScript object with no Node-API reference
//! and no finalizer; it knows its scope's number and its place in that
//! scope's record. Its `release()` empties its place; closing the scope
//! empties them all. The records live here, beside the attachment's
//! tracked handles, so that whatever ends the attachment (`close()`, the
//! thread ending) drops every root even of a scope never closed, and so
//! that `whyAlive` and heap snapshots can name them.
//!
//! Places are handed out in order and never reused while the scope is
//! open: a record grows by one place (8 bytes) per handle its scope made,
//! released or not, until the scope closes.
//!
//! # Invariants
//! - A place holds an id's bits while the root it records is held, 0 once
//!   it is dropped (ids are never 0: their generation is at least 1).
//! - `roots` is the number of non-empty places over all records.
//! - A closed scope's number may be given to a later scope: the
//!   JavaScript layer uses a number only while its scope is open.

use weakstore_core::ObjId;

/// What a caller asked that its scope's record cannot do.
#[derive(Debug, PartialEq, Eq)]
pub enum Misuse {
    /// No open scope has that number.
    NoScope,
    /// The place is not the next one of the scope's record.
    Place,
}

/// Every open scope's record, by scope number.
#[derive(Default)]
pub struct Scopes {
    records: Vec<Option<Vec<u64>>>,
    free: Vec<u32>,
    roots: usize,
}

impl Scopes {
    /// A new scope's number.
    pub fn open(&mut self) -> u32 {
        if let Some(n) = self.free.pop() {
            self.records[n as usize] = Some(Vec::new());
            return n;
        }
        self.records.push(Some(Vec::new()));
        (self.records.len() - 1) as u32
    }

    fn record(&mut self, scope: u32) -> Result<&mut Vec<u64>, Misuse> {
        self.records.get_mut(scope as usize).and_then(Option::as_mut).ok_or(Misuse::NoScope)
    }

    /// Whether `place` is where scope `scope`'s next root goes (a check
    /// before the root is taken).
    pub fn is_next(&self, scope: u32, place: u32) -> Result<(), Misuse> {
        match self.records.get(scope as usize).and_then(Option::as_ref) {
            None => Err(Misuse::NoScope),
            Some(r) if r.len() == place as usize => Ok(()),
            Some(_) => Err(Misuse::Place),
        }
    }

    /// Records a root on `id` in the next place of scope `scope`, which
    /// [`Scopes::is_next`] checked.
    pub fn push(&mut self, scope: u32, id: ObjId) {
        if let Ok(record) = self.record(scope) {
            record.push(id.bits());
            self.roots += 1;
        }
    }

    /// Empties place `place` of scope `scope`; the root it recorded, if
    /// any, which the caller drops.
    pub fn take(&mut self, scope: u32, place: u32) -> Option<ObjId> {
        let bits = std::mem::take(self.record(scope).ok()?.get_mut(place as usize)?);
        let id = ObjId::from_bits(bits)?;
        self.roots -= 1;
        Some(id)
    }

    /// Closes scope `scope`: the roots its record held, which the caller
    /// drops (none if no open scope has that number).
    pub fn close(&mut self, scope: u32) -> Vec<ObjId> {
        let Some(record) = self.records.get_mut(scope as usize).and_then(Option::take) else { return Vec::new() };
        self.free.push(scope);
        let ids: Vec<ObjId> = record.into_iter().filter_map(ObjId::from_bits).collect();
        self.roots -= ids.len();
        ids
    }

    /// Closes every scope: all the roots held.
    pub fn drain(&mut self) -> Vec<ObjId> {
        let ids = self.ids().collect();
        *self = Scopes::default();
        ids
    }

    /// The objects of every root held (an object once per root).
    pub fn ids(&self) -> impl Iterator<Item = ObjId> + '_ {
        self.records.iter().flatten().flatten().filter_map(|&bits| ObjId::from_bits(bits))
    }

    /// How many roots are held.
    pub fn roots(&self) -> usize {
        self.roots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(slot: u64) -> ObjId {
        ObjId::from_bits((1 << 32) | slot).unwrap()
    }

    #[test]
    fn records_take_and_close() {
        let mut s = Scopes::default();
        let a = s.open();
        let b = s.open();
        assert_eq!(s.is_next(a, 0), Ok(()));
        assert_eq!(s.is_next(a, 1), Err(Misuse::Place));
        s.push(a, id(1));
        s.push(a, id(2));
        s.push(b, id(1));
        assert_eq!(s.roots(), 3);
        assert_eq!(s.take(a, 0), Some(id(1)));
        assert_eq!(s.take(a, 0), None, "a place is emptied once");
        assert_eq!(s.take(a, 7), None, "a place never handed out");
        assert_eq!(s.roots(), 2);
        assert_eq!(s.close(a), vec![id(2)]);
        assert_eq!(s.close(a), vec![], "closing twice drops nothing");
        assert_eq!(s.is_next(a, 0), Err(Misuse::NoScope));
        assert_eq!(s.take(a, 1), None);
        let c = s.open();
        assert_eq!(c, a, "a closed scope's number is reused");
        assert_eq!(s.is_next(c, 0), Ok(()), "with an empty record");
        assert_eq!(s.ids().collect::<Vec<_>>(), vec![id(1)]);
        assert_eq!(s.drain(), vec![id(1)]);
        assert_eq!(s.roots(), 0);
        assert_eq!(s.ids().count(), 0);
    }
}
