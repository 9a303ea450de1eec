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

#[test]
fn the_table_shrinks_after_a_peak() {
    const PEAK: u32 = 10_000;
    let (mut t, r, ids) = table(PEAK);
    assert_eq!(t.slots(), PEAK as usize);
    // Every cell but the first ten goes, the last of them ending up last
    // in the table.
    for &id in ids[10..].iter().rev().step_by(2).chain(ids[10..].iter().step_by(2)) {
        t.remove_of(r, id).unwrap();
    }
    assert_eq!(t.live_cells(), 10);
    assert_eq!(t.slots(), 10, "the free slots at the end went");
    assert!(t.cells.capacity() < 256, "capacity {}", t.cells.capacity());
    let fresh: Vec<u32> = (0..100).map(|i| t.insert(cell(r, PEAK + i))).collect();
    assert_eq!(fresh, (10..110).collect::<Vec<u32>>());
    // A cell at the end keeps the table that long, and no longer.
    let (mut t, r, ids) = table(PEAK);
    for &id in &ids[..PEAK as usize - 1] {
        t.remove_of(r, id).unwrap();
    }
    assert_eq!(t.slots(), PEAK as usize);
    t.remove_of(r, ids[PEAK as usize - 1]).unwrap();
    assert_eq!(t.slots(), 0);
    assert_eq!(t.insert(cell(r, 0)), 0);
}

#[test]
fn a_sparse_table_reuses_its_lowest_ids_so_that_its_end_can_go() {
    const PEAK: u32 = 10_000;
    let (mut t, r, ids) = table(PEAK);
    let last = ids[PEAK as usize - 1];
    // All but the first ten and the last go, in an order that leaves the
    // highest freed last (a stack would reuse it first).
    let gone = &ids[10..PEAK as usize - 1];
    for &id in gone.iter().rev().filter(|&&id| id % 2 == 1).chain(gone.iter().filter(|&&id| id % 2 == 0)) {
        t.remove_of(r, id).unwrap();
    }
    assert_eq!(t.live_cells(), 11);
    assert_eq!(t.slots(), PEAK as usize, "the last cell holds the end");
    let fresh: Vec<u32> = (0..100).map(|i| t.insert(cell(r, PEAK + i))).collect();
    assert_eq!(fresh, (10..110).collect::<Vec<u32>>(), "the lowest free ids first");
    t.remove_of(r, last).unwrap();
    assert_eq!(t.slots(), 110, "then the end goes with the last cell");
    // Half full again: ids are reused last-freed first.
    let (a, b) = (t.insert(cell(r, 0)), t.insert(cell(r, 1)));
    assert_eq!((a, b), (110, 111));
    t.remove_of(r, 50).unwrap();
    t.remove_of(r, 20).unwrap();
    assert_eq!(t.insert(cell(r, 2)), 20);
    assert_eq!(t.insert(cell(r, 3)), 50);
}
