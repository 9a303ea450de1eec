//! Registries belong to owners (the embedder's threads): a delivery batch
//! for one owner hands out only the fired cells of that owner's
//! registries, whatever order the owners drain their queues in, and
//! `drop_owner` (a thread that ended) forgets exactly that owner's
//! registries and cells (fired, pending or mid-batch), drops the roots its
//! cells held once, and leaves every other owner's registrations working.
//! Cell ids are reused across owners; a queue entry left behind by one
//! owner never hands another owner's cell to the wrong thread.

mod common;

use common::{manual, obj};
use weakstore_core::{Error, Fired};

fn drain(store: &weakstore_core::Store, owner: u32) -> Vec<Fired> {
    let mut out = Vec::new();
    store.begin_delivery(owner, &mut out);
    out
}

fn cells(batch: &[Fired]) -> Vec<u32> {
    let mut cells: Vec<u32> = batch.iter().map(|f| f.cell).collect();
    cells.sort_unstable();
    cells
}

#[test]
fn each_owner_is_handed_only_its_own_registries_cells() {
    let store = manual(1);
    let (a, b) = (1, 2);
    let (ra1, ra2, rb) = (store.new_registry(a), store.new_registry(a), store.new_registry(b));
    let targets: Vec<_> = (0..6).map(|_| obj(&store, &[])).collect();
    let held_b = obj(&store, &[]);
    let mut mine_a = vec![
        store.register(ra1, targets[0], None).unwrap(),
        store.register(ra2, targets[1], None).unwrap(),
        store.register(ra1, targets[2], None).unwrap(),
    ];
    let mut mine_b = vec![
        store.register(rb, targets[3], Some(held_b)).unwrap(),
        store.register(rb, targets[4], None).unwrap(),
        // Both owners watch the same target.
        store.register(rb, targets[0], None).unwrap(),
    ];
    store.unroot(held_b).unwrap();
    for &t in &targets {
        store.unroot(t).unwrap();
    }
    store.collect();
    mine_a.sort_unstable();
    mine_b.sort_unstable();

    assert!(drain(&store, 0).is_empty(), "owner 0 has no registry");
    assert!(drain(&store, 3).is_empty(), "nor has owner 3");
    // Owner b drains first: owner a's queue is untouched by it.
    let batch_b = drain(&store, b);
    assert_eq!(cells(&batch_b), mine_b);
    assert!(batch_b.iter().all(|f| f.registry == rb));
    assert_eq!(batch_b.iter().find(|f| f.held.is_some()).unwrap().held, Some(held_b));
    let batch_a = drain(&store, a);
    assert_eq!(cells(&batch_a), mine_a);
    assert!(batch_a.iter().all(|f| f.registry == ra1 || f.registry == ra2));
    assert!(drain(&store, a).is_empty() && drain(&store, b).is_empty(), "each cell is handed out once");

    store.finish_delivery(cells(&batch_a));
    store.finish_delivery(cells(&batch_b));
    assert_eq!(store.stats().finalization_cells, 0);
    store.collect();
    assert!(!store.is_alive(held_b), "the finished cell dropped its held root");
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn drop_owner_forgets_its_cells_drops_their_held_roots_and_spares_the_others() {
    let store = manual(1);
    let (a, b) = (1, 2);
    let (ra, rb) = (store.new_registry(a), store.new_registry(b));
    // Owner a: one cell pending (target alive), one fired and never
    // delivered; each holds an object only the cell keeps alive.
    let (pending_target, fired_target) = (obj(&store, &[]), obj(&store, &[]));
    let (held_pending, held_fired) = (obj(&store, &[]), obj(&store, &[]));
    store.register(ra, pending_target, Some(held_pending)).unwrap();
    store.register(ra, fired_target, Some(held_fired)).unwrap();
    // Owner b: one cell on a target that dies before the drop, one after;
    // both with held objects.
    let (b_early, b_late) = (obj(&store, &[]), obj(&store, &[]));
    let (held_b_early, held_b_late) = (obj(&store, &[]), obj(&store, &[]));
    let b_early_cell = store.register(rb, b_early, Some(held_b_early)).unwrap();
    let b_late_cell = store.register(rb, b_late, Some(held_b_late)).unwrap();
    for h in [held_pending, held_fired, held_b_early, held_b_late] {
        store.unroot(h).unwrap();
    }
    store.unroot(fired_target).unwrap();
    store.unroot(b_early).unwrap();
    store.collect();
    assert_eq!(store.stats().pending_finalizations, 2, "a's fired cell and b's");

    store.drop_owner(a);
    assert_eq!(store.stats().finalization_cells, 2, "only b's cells are left");
    assert_eq!(store.stats().pending_finalizations, 1, "a's queue went with it");
    assert_eq!(store.root_count(held_pending), 0);
    assert_eq!(store.root_count(held_fired), 0);
    assert_eq!(store.register(ra, pending_target, None), Err(Error::UnknownRegistry(ra)));
    store.collect();
    assert!(!store.is_alive(held_pending) && !store.is_alive(held_fired), "a's held objects are collectable");
    assert!(store.is_alive(held_b_early) && store.is_alive(held_b_late), "b's cells still hold theirs");
    assert!(store.is_alive(pending_target), "the caller's root: registrations never kept targets");

    // a's fired cell is never handed to anyone, not even to a new thread
    // that is given the same owner number.
    let ra_again = store.new_registry(a);
    assert!(drain(&store, a).is_empty());
    // b's registrations keep working: the fired one is delivered, and the
    // other fires when its target dies.
    let batch = drain(&store, b);
    assert_eq!(batch, vec![Fired { registry: rb, cell: b_early_cell, held: Some(held_b_early) }]);
    store.finish_delivery(cells(&batch));
    store.unroot(b_late).unwrap();
    store.collect();
    assert!(drain(&store, a).is_empty());
    let batch = drain(&store, b);
    assert_eq!(batch, vec![Fired { registry: rb, cell: b_late_cell, held: Some(held_b_late) }]);
    store.finish_delivery(cells(&batch));
    // And so do the new registries of a reused owner number.
    let cell = store.register(ra_again, pending_target, None).unwrap();
    store.unroot(pending_target).unwrap();
    store.collect();
    assert_eq!(drain(&store, a), vec![Fired { registry: ra_again, cell, held: None }]);
    store.finish_delivery([cell]);
    assert_eq!(store.stats().finalization_cells, 0);
    store.collect();
    assert_eq!(store.stats().objects, 0, "every held object went with its cell");
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn drop_owner_in_the_middle_of_its_batch_drops_each_held_root_once_and_frees_the_batch() {
    // A thread that ends while its cleanup job runs: it will never finish
    // the batch, so nothing of it may stay reserved.
    let store = manual(1);
    let owner = 4;
    let registry = store.new_registry(owner);
    let target = obj(&store, &[]);
    let held = obj(&store, &[]);
    let cell = store.register(registry, target, Some(held)).unwrap();
    store.unroot(held).unwrap();
    store.unroot(target).unwrap();
    store.collect();
    let batch = drain(&store, owner);
    assert_eq!(batch, vec![Fired { registry, cell, held: Some(held) }]);
    assert!(store.root(held), "the callback's handle");
    assert_eq!(store.root_count(held), 2);
    store.drop_owner(owner);
    assert_eq!(store.root_count(held), 1, "the cell's root went with the owner");
    assert_eq!(store.stats().finalization_cells, 0);
    // The abandoned batch's cell id is free at once (no tombstone is left
    // for a finish_delivery that will never come).
    let other = store.new_registry(5);
    let t2 = obj(&store, &[]);
    assert_eq!(store.register(other, t2, None), Ok(cell));
    store.unroot(held).unwrap();
    store.collect();
    assert!(!store.is_alive(held));
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn a_cell_id_reused_by_another_owner_is_delivered_to_that_owner_only() {
    for b_drains_first in [false, true] {
        let store = manual(1);
        let (a, b) = (1, 2);
        let (ra, rb) = (store.new_registry(a), store.new_registry(b));
        // a's cell fires, then a unregisters it before draining its queue:
        // the queue entry stays behind, naming a free id.
        let t1 = obj(&store, &[]);
        let cell = store.register(ra, t1, None).unwrap();
        store.unroot(t1).unwrap();
        store.collect();
        assert_eq!(store.unregister_many([(ra, cell)]), 1);
        // b's registration gets the id, and fires.
        let t2 = obj(&store, &[]);
        let held = obj(&store, &[]);
        assert_eq!(store.register(rb, t2, Some(held)).unwrap(), cell, "the freed id is reused");
        store.unroot(held).unwrap();
        store.unroot(t2).unwrap();
        store.collect();
        let mine = Fired { registry: rb, cell, held: Some(held) };
        if b_drains_first {
            assert_eq!(drain(&store, b), vec![mine.clone()]);
            assert!(drain(&store, a).is_empty(), "a's stale entry names b's cell");
        } else {
            assert!(drain(&store, a).is_empty(), "a's stale entry names b's cell");
            assert_eq!(drain(&store, b), vec![mine.clone()]);
        }
        assert!(drain(&store, b).is_empty(), "handed out once");
        store.finish_delivery([cell]);
        assert_eq!(store.stats().finalization_cells, 0);
        store.collect();
        assert!(!store.is_alive(held));
    }
}

#[test]
fn a_stale_entry_and_a_live_one_for_the_same_id_hand_the_cell_out_once() {
    // Owner a's queue names id c twice: once for a cell it unregistered,
    // once for the cell that reused the id and fired too.
    let store = manual(1);
    let owner = 1;
    let registry = store.new_registry(owner);
    let t1 = obj(&store, &[]);
    let cell = store.register(registry, t1, None).unwrap();
    store.unroot(t1).unwrap();
    store.collect();
    assert_eq!(store.unregister_many([(registry, cell)]), 1);
    let t2 = obj(&store, &[]);
    assert_eq!(store.register(registry, t2, None), Ok(cell));
    store.unroot(t2).unwrap();
    store.collect();
    assert_eq!(drain(&store, owner), vec![Fired { registry, cell, held: None }]);
    store.finish_delivery([cell]);
    assert!(drain(&store, owner).is_empty());
    assert_eq!(store.stats().finalization_cells, 0);
}
