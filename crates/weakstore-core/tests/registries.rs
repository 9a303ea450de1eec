//! Registries side by side: each registry's cells are indexed on their own,
//! so removing cells of one in any order (unregister, firing, delivery)
//! and dropping it leave every other registry's cells exactly as they were.

mod common;

use common::{manual, obj, Embedder};
use weakstore_core::Fired;

#[test]
fn dropping_one_registry_removes_exactly_its_cells_after_mixed_removals() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let (keep, drop) = (store.new_registry(0), store.new_registry(0));
    let objs: Vec<_> = (0..300).map(|_| obj(&store, &[])).collect();
    let held: Vec<_> = (0..300).map(|_| obj(&store, &[])).collect();
    let mut kept = 0;
    for (i, &o) in objs.iter().enumerate() {
        // Interleaved ids, so that each registry's list is reordered by the
        // other's removals' swaps as well as its own.
        emb.register(&store, drop, o, Some(held[i]), Some(i as u64 % 7)).unwrap();
        emb.register(&store, keep, o, None, Some(i as u64 % 5)).unwrap();
        kept += 1;
    }
    for &h in &held {
        store.unroot(h).unwrap(); // the dropped registry's cells root them now
    }
    assert_eq!(emb.unregister(&store, drop, 3), 43);
    assert_eq!(emb.unregister(&store, keep, 4), 60);
    kept -= 60;
    // A third of the targets die: both registries' cells for them fire.
    for &o in objs.iter().step_by(3) {
        store.unroot(o).unwrap();
    }
    store.collect();
    let mut out = Vec::new();
    store.begin_delivery(0, &mut out);
    let fired_keep = out.iter().filter(|f| f.registry == keep).count();
    store.finish_delivery(out.iter().map(|f| f.cell));
    kept -= fired_keep;
    assert!(fired_keep > 50, "{fired_keep}");
    store.drop_registry(drop);
    assert_eq!(store.stats().finalization_cells, kept, "only the dropped registry's cells went");
    assert_eq!(emb.unregister(&store, drop, 1), 0, "the dropped registry has no cells");
    // Its held objects lost their roots.
    store.collect();
    assert!(held.iter().all(|&h| !store.is_alive(h)));
    // The kept registry's cells are intact: every one fires, once.
    for (i, &o) in objs.iter().enumerate() {
        if i % 3 != 0 {
            store.unroot(o).unwrap();
        }
    }
    store.collect();
    let mut out: Vec<Fired> = Vec::new();
    emb.deliver(&store, &mut out);
    assert!(out.iter().all(|f| f.registry == keep));
    assert_eq!(out.len(), kept);
    assert_eq!(store.stats().finalization_cells, 0);
}

#[test]
fn a_registry_dropped_mid_delivery_leaves_the_batch_consistent() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let (a, b) = (store.new_registry(0), store.new_registry(0));
    let objs: Vec<_> = (0..20).map(|_| obj(&store, &[])).collect();
    for &o in &objs {
        store.register(a, o, None).unwrap();
        store.register(b, o, None).unwrap();
    }
    for &o in &objs[..10] {
        store.unroot(o).unwrap();
    }
    store.collect();
    let mut out = Vec::new();
    store.begin_delivery(0, &mut out);
    assert_eq!(out.len(), 20);
    store.drop_registry(a); // its delivering cells become tombstones
    store.finish_delivery(out.iter().map(|f| f.cell));
    assert_eq!(store.stats().finalization_cells, 10, "b's ten live cells remain");
    for &o in &objs[10..] {
        store.unroot(o).unwrap();
    }
    store.collect();
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|f| f.registry == b));
}

#[test]
fn pending_finalizations_counts_only_cells_still_due() {
    let store = manual(1);
    let registry = store.new_registry(0);
    let fire = |n: usize| -> Vec<u32> {
        let objs: Vec<_> = (0..n).map(|_| obj(&store, &[])).collect();
        let cells = objs.iter().map(|&o| store.register(registry, o, None).unwrap()).collect();
        for &o in &objs {
            store.unroot(o).unwrap();
        }
        store.collect();
        cells
    };
    let first = fire(3);
    assert_eq!(store.stats().pending_finalizations, 3);
    // Unregistered after they fired: no longer due, though their queue
    // entries stay until the next delivery.
    assert_eq!(store.unregister_many(first[..2].iter().map(|&c| (registry, c))), 2);
    assert_eq!(store.stats().pending_finalizations, 1);
    // New cells take the freed ids and fire too: each is counted once.
    let second = fire(2);
    assert!(second.iter().all(|c| first[..2].contains(c)), "{second:?} reuse {first:?}");
    assert_eq!(store.stats().pending_finalizations, 3);
    let mut out = Vec::new();
    store.begin_delivery(0, &mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(store.stats().pending_finalizations, 0, "handed out: no longer pending");
    store.finish_delivery(out.iter().map(|f| f.cell));
    assert_eq!(store.stats().pending_finalizations, 0);
    assert_eq!(store.stats().finalization_cells, 0);
}
