//! Named roots (`Store::pin`), one rule per test: a pin is a root like any
//! other (its object and everything reachable from it survive a cycle with
//! no other root, and go with the next cycle after `unpin`), each pin owns
//! exactly one root (replacing a pin, or pinning the same object twice
//! under one name, moves or keeps that one root, never leaks or doubles
//! it), `pinned` hands the caller a root of its own, and the names and
//! figures (`pins`, `pinned_objects`, `Stats::pins`) follow the map. A pin
//! taken while marking runs is shaded like every root, and one taken after
//! marking on an unmarked object is refused.

mod common;

use common::{manual, obj, Freeze};
use weakstore_core::{Error, Phase, Value};

#[test]
fn a_pinned_object_and_its_children_survive_until_unpinned() {
    let store = manual(1);
    let a = obj(&store, &[("n", Value::Number(7.0))]);
    let child = obj(&store, &[]);
    store.set(a, "child", Value::Ref(child)).unwrap();
    store.unroot(child).unwrap();
    store.pin("a", a).unwrap();
    assert_eq!(store.root_count(a), 2, "the caller's root and the pin's");
    store.unroot(a).unwrap();
    assert_eq!(store.root_count(a), 1, "the pin's root");

    store.collect();
    store.collect();
    assert!(store.is_alive(a), "pinned, no other root");
    assert!(store.is_alive(child), "reachable from a pinned object");
    assert_eq!(store.get(a, "n").unwrap(), Some(Value::Number(7.0)));
    assert_eq!(store.stats().objects, 2);

    assert!(store.unpin("a"));
    assert_eq!(store.root_count(a), 0, "unpin dropped the pin's root");
    assert!(!store.unpin("a"), "already unpinned");
    store.collect();
    assert!(!store.is_alive(a) && !store.is_alive(child));
    assert_eq!(store.stats().objects, 0);
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn replacing_a_pin_drops_the_old_objects_root_only() {
    let store = manual(1);
    let old = obj(&store, &[]);
    let new = obj(&store, &[]);
    store.pin("x", old).unwrap();
    store.unroot(old).unwrap();
    store.pin("x", new).unwrap();
    store.unroot(new).unwrap();
    assert_eq!(store.root_count(old), 0, "the replaced pin's root is gone");
    assert_eq!(store.root_count(new), 1);
    assert_eq!(store.pinned_objects(), vec![("x".to_string(), new)]);
    assert_eq!(store.stats().pins, 1);

    store.collect();
    assert!(!store.is_alive(old), "no longer pinned");
    assert!(store.is_alive(new));

    // Re-pinning the same object under the same name keeps one root.
    store.pin("x", new).unwrap();
    assert_eq!(store.root_count(new), 1, "a pin owns exactly one root");
    assert!(store.unpin("x"));
    store.collect();
    assert!(!store.is_alive(new));
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn one_object_under_two_names_has_a_root_per_name() {
    let store = manual(1);
    let a = obj(&store, &[]);
    store.pin("first", a).unwrap();
    store.pin("second", a).unwrap();
    store.unroot(a).unwrap();
    assert_eq!(store.root_count(a), 2);
    assert!(store.unpin("first"));
    store.collect();
    assert!(store.is_alive(a), "still pinned under the other name");
    assert!(store.unpin("second"));
    store.collect();
    assert!(!store.is_alive(a));
}

#[test]
fn pinned_hands_out_a_root_of_the_callers_own() {
    let store = manual(1);
    let a = obj(&store, &[]);
    store.pin("a", a).unwrap();
    store.unroot(a).unwrap();
    assert_eq!(store.pinned("missing"), None);
    assert_eq!(store.pinned("a"), Some(a));
    assert_eq!(store.root_count(a), 2, "the pin's root and the one just handed out");
    assert_eq!(store.pinned("a"), Some(a));
    assert_eq!(store.root_count(a), 3);

    // The caller's roots outlive the pin.
    assert!(store.unpin("a"));
    assert_eq!(store.pinned("a"), None, "unpinned");
    store.collect();
    assert!(store.is_alive(a), "the caller still holds two roots");
    store.unroot_many([a, a]);
    store.collect();
    assert!(!store.is_alive(a));
    assert_eq!(store.pinned("a"), None, "unpinned and collected");
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn names_are_listed_sorted_and_counted() {
    let store = manual(1);
    assert!(store.pins().is_empty());
    assert_eq!(store.stats().pins, 0);
    let ids: Vec<_> = (0..5).map(|_| obj(&store, &[])).collect();
    for (name, &id) in ["delta", "alpha", "echo", "charlie", "bravo"].iter().zip(&ids) {
        store.pin(name, id).unwrap();
    }
    assert_eq!(store.pins(), ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(store.stats().pins, 5);
    assert_eq!(
        store.pinned_objects(),
        vec![
            ("alpha".to_string(), ids[1]),
            ("bravo".to_string(), ids[4]),
            ("charlie".to_string(), ids[3]),
            ("delta".to_string(), ids[0]),
            ("echo".to_string(), ids[2]),
        ]
    );
    store.pin("alpha", ids[0]).unwrap();
    assert_eq!(store.stats().pins, 5, "a replaced pin is not a new one");
    assert!(store.unpin("charlie"));
    assert!(!store.unpin("zulu"));
    assert_eq!(store.pins(), ["alpha", "bravo", "delta", "echo"]);
    assert_eq!(store.stats().pins, 4);
}

#[test]
fn pinning_a_dead_object_fails_and_keeps_the_old_pin() {
    let store = manual(1);
    let kept = obj(&store, &[]);
    let dead = obj(&store, &[]);
    store.pin("x", kept).unwrap();
    store.unroot(kept).unwrap();
    store.unroot(dead).unwrap();
    store.collect();
    assert_eq!(store.pin("x", dead), Err(Error::Dead(dead)));
    assert_eq!(store.pin("y", dead), Err(Error::Dead(dead)));
    assert_eq!(store.pinned_objects(), vec![("x".to_string(), kept)]);
    assert_eq!(store.root_count(kept), 1);
    store.collect();
    assert!(store.is_alive(kept));
}

#[test]
fn a_pin_taken_while_marking_keeps_an_unrooted_object() {
    // `w` has no root and no referrer: only the pin's root barrier can get
    // it marked in this cycle (without it the sweeper would find a rooted,
    // unmarked object: an anomaly).
    let (store, freeze) = Freeze::store(Phase::Mark, 2);
    let w = obj(&store, &[]);
    store.unroot(w).unwrap();
    let cycle = freeze.start(&store);
    store.pin("w", w).unwrap();
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(w));
    assert_eq!(store.stats().failed_cycles, 0);
    assert_eq!(store.stats().anomalies, 0);
    store.collect();
    assert!(store.is_alive(w), "still pinned");
}

#[test]
fn an_unpin_while_marking_keeps_the_snapshot() {
    let (store, freeze) = Freeze::store(Phase::ScanRoots, 1);
    let a = obj(&store, &[]);
    store.pin("a", a).unwrap();
    store.unroot(a).unwrap();
    let cycle = freeze.start(&store);
    assert!(store.unpin("a"));
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(a), "pinned at the snapshot: survives this cycle");
    store.collect();
    assert!(!store.is_alive(a));
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn after_marking_an_unmarked_object_cannot_be_pinned() {
    let (store, freeze) = Freeze::store(Phase::ProcessWeak, 1);
    let w = obj(&store, &[]);
    store.unroot(w).unwrap();
    let cycle = freeze.start(&store);
    assert_eq!(store.pin("w", w), Err(Error::Dead(w)), "no resurrection through a pin");
    assert!(store.pins().is_empty());
    freeze.resume();
    store.wait_for(cycle);
    assert!(!store.is_alive(w));
    assert_eq!(store.pinned("w"), None);
    assert_eq!(store.stats().anomalies, 0);
}
