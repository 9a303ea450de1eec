//! The free ids of a table whose slots are reused (the finalization
//! table's cells).
//!
//! While the table is dense, the free ids are a stack: the id freed last is
//! reused first, in O(1). While it is sparse (after a peak), they are a
//! min-heap: the lowest ids are reused first, so the live entries gather
//! at the start, the end of the table empties, and the table (with the
//! embedder's arrays indexed by the same ids) can shrink.
//!
//! # Invariants
//! - Every free slot below the table's length is in the list. The list may
//!   also hold *stale* ids, at or beyond the length (their slots went when
//!   the table's end was trimmed): `take` drops them when it meets them.
//! - `take` returns `None` only when the list holds no id below the length,
//!   and then it is empty: so a table that grows by one slot never finds
//!   that slot's id, stale, in the list later.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(crate) enum FreeIds {
    Stack(Vec<u32>),
    Heap(BinaryHeap<Reverse<u32>>),
}

impl Default for FreeIds {
    fn default() -> Self {
        FreeIds::Stack(Vec::new())
    }
}

impl FreeIds {
    pub(crate) fn push(&mut self, id: u32) {
        match self {
            FreeIds::Stack(ids) => ids.push(id),
            FreeIds::Heap(ids) => ids.push(Reverse(id)),
        }
    }

    /// A free id below `len` (the table's length): the last freed (stack)
    /// or the lowest (heap). Stale ids met on the way are dropped.
    pub(crate) fn take(&mut self, len: usize) -> Option<u32> {
        match self {
            FreeIds::Stack(ids) => {
                while let Some(id) = ids.pop() {
                    if (id as usize) < len {
                        return Some(id);
                    }
                }
                None
            }
            FreeIds::Heap(ids) => {
                let Reverse(id) = ids.pop()?;
                if (id as usize) < len {
                    return Some(id);
                }
                // The lowest is stale: all are.
                ids.clear();
                None
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            FreeIds::Stack(ids) => ids.len(),
            FreeIds::Heap(ids) => ids.len(),
        }
    }

    pub(crate) fn is_heap(&self) -> bool {
        matches!(self, FreeIds::Heap(_))
    }

    /// Drops the stale ids (those not below `len`), and becomes a heap if
    /// `sparse`, else a stack. O(n): the caller amortises it.
    pub(crate) fn rebuild(&mut self, len: usize, sparse: bool) {
        let mut ids = match std::mem::take(self) {
            FreeIds::Stack(ids) => ids,
            FreeIds::Heap(ids) => ids.into_iter().map(|Reverse(id)| id).collect(),
        };
        ids.retain(|&id| (id as usize) < len);
        *self = if sparse {
            FreeIds::Heap(ids.into_iter().map(Reverse).collect())
        } else {
            ids.shrink_to_fit();
            FreeIds::Stack(ids)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_reuses_the_last_freed_and_a_heap_the_lowest() {
        let mut free = FreeIds::default();
        for id in [5, 1, 9, 3] {
            free.push(id);
        }
        assert_eq!(free.take(10), Some(3));
        free.rebuild(10, true);
        assert!(free.is_heap());
        assert_eq!([free.take(10), free.take(10), free.take(10)], [Some(1), Some(5), Some(9)]);
        assert_eq!(free.take(10), None);
    }

    #[test]
    fn stale_ids_are_dropped_and_never_returned() {
        let mut stack = FreeIds::default();
        for id in [2, 7, 8, 1] {
            stack.push(id);
        }
        // The table was trimmed to 5 slots: 7 and 8 are stale.
        assert_eq!(stack.take(5), Some(1));
        assert_eq!(stack.take(5), Some(2));
        assert_eq!(stack.take(5), None);
        assert_eq!(stack.len(), 0, "emptied");
        let mut heap = FreeIds::default();
        for id in [7, 8, 6] {
            heap.push(id);
        }
        heap.rebuild(9, true);
        assert_eq!(heap.take(7), Some(6));
        assert_eq!(heap.take(7), None);
        assert_eq!(heap.len(), 0, "the lowest was stale, so all were");
        let mut both = FreeIds::default();
        for id in [4, 12, 3, 10] {
            both.push(id);
        }
        both.rebuild(5, false);
        assert_eq!(both.len(), 2);
        assert!(!both.is_heap());
    }
}
