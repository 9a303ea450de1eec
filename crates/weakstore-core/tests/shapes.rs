//! Shapes and dictionary mode while a cycle runs: an object that changes
//! mode (a middle key deleted, a key past the shape's cap), loses its last
//! key or gains keys while the collector is frozen in each phase keeps
//! every object it still refers to, and lets go of the ones it no longer
//! does. Also: reads and writes by key id agree with reads by name.

mod common;

use common::{manual, obj, Freeze};
use weakstore_core::{Phase, Value};

/// Past this many keys an object is in dictionary mode (`heap::shape`).
const PAST_THE_CAP: usize = 70;

fn mid_cycle(at: Phase) {
    let (mut store, freeze) = Freeze::store(at, 2);
    let parent = obj(&store, &[]);
    // Three children behind keys a, b, c, each only reachable from there.
    let kids: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|k| {
            let kid = obj(&store, &[("tag", Value::String((*k).into()))]);
            store.set(parent, *k, Value::Ref(kid)).unwrap();
            store.unroot(kid).unwrap();
            kid
        })
        .collect();
    let cycle = freeze.start(&store);
    // A middle key deleted: the object becomes a dictionary, carrying a
    // and c over; b is cut loose.
    assert_eq!(store.delete(parent, "b"), Ok(true));
    // Many more keys, each to a new object (black while the cycle runs).
    let extra: Vec<_> = (0..PAST_THE_CAP)
        .map(|i| {
            let o = obj(&store, &[("i", Value::Number(i as f64))]);
            store.set(parent, format!("x{i}").as_str(), Value::Ref(o)).unwrap();
            store.unroot(o).unwrap();
            o
        })
        .collect();
    freeze.resume();
    store.wait_for(cycle);
    store.collect();
    store.collect();
    assert!(store.is_alive(kids[0]) && store.is_alive(kids[2]), "{at:?}: a and c are still fields");
    assert!(!store.is_alive(kids[1]), "{at:?}: b was deleted");
    for (i, o) in extra.iter().enumerate() {
        assert!(store.is_alive(*o), "{at:?}: x{i}");
        assert_eq!(store.get(parent, format!("x{i}").as_str()), Ok(Some(Value::Ref(*o))));
    }
    assert_eq!(store.field_count(parent), Ok(2 + PAST_THE_CAP));
    let keys = store.keys(parent).unwrap();
    assert_eq!(&keys[..3], ["a", "c", "x0"], "{at:?}: insertion order survives the mode change");
    let stats = store.stats();
    assert_eq!((stats.failed_cycles, stats.anomalies), (0, 0));
    assert_eq!(stats.objects, 1 + 2 + PAST_THE_CAP);
    // Ends the collector threads before the test does (Miri checks that
    // no thread outlives the process's main thread).
    store.close();
}

#[test]
fn mode_changes_mid_cycle_keep_what_is_referenced_in_every_phase() {
    for at in [Phase::ScanRoots, Phase::Mark, Phase::ProcessWeak, Phase::Sweep] {
        mid_cycle(at);
    }
}

#[test]
fn deleting_the_last_key_mid_mark_lets_its_object_go() {
    let (mut store, freeze) = Freeze::store(Phase::Mark, 1);
    let parent = obj(&store, &[("n", Value::Number(1.0))]);
    let kid = obj(&store, &[]);
    store.set(parent, "kid", Value::Ref(kid)).unwrap();
    store.unroot(kid).unwrap();
    let cycle = freeze.start(&store);
    assert_eq!(store.delete(parent, "kid"), Ok(true));
    freeze.resume();
    store.wait_for(cycle);
    store.collect();
    assert!(!store.is_alive(kid));
    assert_eq!(store.keys(parent).unwrap(), ["n"]);
    store.close();
}

#[test]
fn key_ids_read_and_write_what_names_do() {
    let mut store = manual(1);
    let a = obj(&store, &[("i", Value::Number(1.0)), ("next", Value::Null)]);
    let i = store.key_id("i").expect("a shape uses i");
    assert_eq!(store.key_id("never used"), None);
    assert_eq!(store.get(a, i), Ok(Some(Value::Number(1.0))));
    store.set(a, i, Value::Number(2.0)).unwrap();
    assert_eq!(store.get(a, "i"), Ok(Some(Value::Number(2.0))));
    // The same id on a dictionary-mode object.
    store.delete(a, "i").unwrap();
    store.set(a, "i", Value::Number(3.0)).unwrap();
    assert_eq!(store.delete(a, "next"), Ok(true), "i is last again; next goes from the middle");
    assert_eq!(store.get(a, i), Ok(Some(Value::Number(3.0))));
    assert!(store.has(a, i).unwrap());
    assert_eq!(store.delete(a, i), Ok(true));
    assert_eq!(store.get(a, i), Ok(None));
    assert!(store.keys(a).unwrap().is_empty());
    store.close();
}

#[test]
fn objects_of_one_layout_share_its_shapes() {
    let mut store = manual(1);
    let n = if cfg!(miri) { 100 } else { 1000 };
    for n in 0..n {
        let o = obj(&store, &[("i", Value::Number(f64::from(n)))]);
        store.set(o, "next", Value::Null).unwrap();
        store.unroot(o).unwrap();
    }
    assert_eq!(store.stats().shapes, 3, "{{}}, {{i}}, {{i, next}}");
    store.close();
}
