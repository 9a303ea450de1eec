//! The finalization table on its own.

use super::*;

fn cell(registry: u32, index: u32) -> Cell {
    Cell {
        registry,
        target: ObjId::new(index, 1),
        held: None,
        fired: false,
        delivering: false,
        cancelled: false,
        pos: 0,
    }
}

/// A table with one registry of owner 0 and `n` cells, the i-th targeting slot i.
fn table(n: u32) -> (FinalizationTable, u32, Vec<u32>) {
    let mut t = FinalizationTable::default();
    let r = t.new_registry(0);
    let ids = (0..n).map(|i| t.insert(cell(r, i))).collect();
    (t, r, ids)
}

#[test]
fn pending_counts_fired_cells_until_handed_out_or_removed() {
    let (mut t, r, ids) = table(4);
    for (i, &id) in ids.iter().enumerate() {
        assert!(t.fire(id, ObjId::new(i as u32, 1)));
    }
    assert!(!t.fire(ids[0], ObjId::new(0, 1)), "a cell fires once");
    assert_eq!(t.pending(), 4);
    t.remove_of(r, ids[0]).unwrap();
    t.remove_of(r, ids[1]).unwrap();
    assert_eq!(t.pending(), 2, "removed cells are no longer due");
    // Their ids are reused by cells that fire: the stale queue entries do
    // not count twice.
    let again = [t.insert(cell(r, 10)), t.insert(cell(r, 11))];
    assert!(again.iter().all(|id| ids[..2].contains(id)));
    assert!(t.fire(again[0], ObjId::new(10, 1)));
    assert_eq!(t.pending(), 3);
    let mut out = Vec::new();
    t.begin_delivery(0, &mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(t.pending(), 0);
    // Removed while delivering (a tombstone), then finished: still 0.
    t.remove_of(r, out[0].cell).unwrap();
    for f in &out {
        t.finish_delivery(f.cell);
    }
    assert_eq!(t.pending(), 0);
    assert_eq!(t.live_cells(), 1);
    // Dropping the owner drops its fired, undelivered cells from the count.
    assert!(t.fire(again[1], ObjId::new(11, 1)));
    assert_eq!(t.pending(), 1);
    t.drop_owner(0);
    assert_eq!(t.pending(), 0);
}
