//! The graph copy, "why is this alive" and the heap snapshot writer.

mod common;

use common::{manual, obj};
use weakstore_core::inspect::path::{why_alive, RootKind, Step};
use weakstore_core::inspect::snapshot;
use weakstore_core::{EphemeronValue, RootSets, Value};

fn handles(ids: &[weakstore_core::ObjId]) -> RootSets {
    RootSets { handles: vec![("main".into(), ids.to_vec())], ..RootSets::default() }
}

#[test]
fn the_graph_copies_objects_edges_sizes_and_names() {
    let store = manual(1);
    let b = obj(&store, &[("name", Value::String("b".into()))]);
    let a = obj(&store, &[("type", Value::String("Node".into())), ("next", Value::Ref(b)), ("n", Value::Number(1.0))]);
    store.unroot(b).unwrap();
    let g = store.inspector().graph();
    assert_eq!(g.len(), 2);
    assert_eq!(g.dangling, 0);
    let (na, nb) = (g.node_of(a).unwrap(), g.node_of(b).unwrap());
    let edges: Vec<_> = g.edges(na).map(|(to, name, _)| (to, name.to_owned())).collect();
    assert_eq!(edges, vec![(nb, "next".to_owned())]);
    assert_eq!(g.size_and_roots(na).1, 1);
    assert_eq!(g.size_and_roots(nb).1, 0);
    let total: u64 = (0..g.len() as u32).map(|n| g.size_and_roots(n).0).sum();
    assert_eq!(total as usize, store.stats().bytes, "node sizes add up to the store's bytes");
}

#[test]
fn why_alive_finds_the_shortest_path_and_ignores_the_handle_asked_about() {
    let store = manual(1);
    let target = obj(&store, &[]);
    let mid = obj(&store, &[("t", Value::Ref(target))]);
    let far = obj(&store, &[]);
    let between = obj(&store, &[("f", Value::Ref(far))]);
    let long = obj(&store, &[("m", Value::Ref(between))]);
    store.set(far, "t", Value::Ref(target)).unwrap();
    store.unroot(mid).unwrap();
    store.unroot(far).unwrap();
    store.unroot(between).unwrap();
    let holder = obj(&store, &[("mid", Value::Ref(mid))]);
    // Roots: target (the handle asked about), long, holder. Shortest: holder.mid.t.
    let g = store.inspector().graph();
    let path = why_alive(&g, &handles(&[target, long, holder]), target).unwrap();
    assert_eq!(
        path,
        vec![
            Step::Root { kind: RootKind::Handle, thread: Some("main".into()), pin: None, id: holder },
            Step::Field { key: "mid".into(), id: mid, count: 1 },
            Step::Field { key: "t".into(), id: target, count: 1 },
        ]
    );
    // Without the holder, only the longer path is left.
    store.unroot(holder).unwrap();
    let g = store.inspector().graph();
    let path = why_alive(&g, &handles(&[target, long]), target).unwrap();
    assert_eq!(path.len(), 4);
    assert_eq!(path[0], Step::Root { kind: RootKind::Handle, thread: Some("main".into()), pin: None, id: long });
    // Nothing but its own handle: no reason.
    store.unroot(long).unwrap();
    let g = store.inspector().graph();
    assert_eq!(why_alive(&g, &handles(&[target]), target), None);
}

#[test]
fn why_alive_names_held_values_ephemerons_and_unnamed_roots() {
    let store = manual(1);
    let registry = store.new_registry(0);
    let target = obj(&store, &[]);
    let held = obj(&store, &[]);
    store.register(registry, target, Some(held)).unwrap();
    let g = store.inspector().graph();
    let path = why_alive(&g, &handles(&[target, held]), held).unwrap();
    assert_eq!(path, vec![Step::Root { kind: RootKind::Held, thread: None, pin: None, id: held }]);

    let table = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let value = obj(&store, &[]);
    store.ephemeron_set(&table, key, EphemeronValue::Field(Value::Ref(value))).unwrap();
    store.unroot(value).unwrap();
    let g = store.inspector().graph();
    let path = why_alive(&g, &handles(&[key]), value).unwrap();
    assert_eq!(
        path,
        vec![
            Step::Root { kind: RootKind::Handle, thread: Some("main".into()), pin: None, id: key },
            Step::Ephemeron { table: table.id(), id: value },
        ]
    );
    // A root the embedder does not name.
    let g = store.inspector().graph();
    let path = why_alive(&g, &RootSets::default(), key).unwrap();
    assert_eq!(path, vec![Step::Root { kind: RootKind::Other, thread: None, pin: None, id: key }]);
}

#[test]
fn the_snapshot_has_one_node_per_object_plus_the_synthetic_ones() {
    let store = manual(1);
    let b = obj(&store, &[("name", Value::String("b \"quoted\"\n".into()))]);
    let a = obj(&store, &[("next", Value::Ref(b))]);
    let garbage = obj(&store, &[]);
    store.unroot(b).unwrap();
    store.unroot(garbage).unwrap();
    let registry = store.new_registry(0);
    store.register(registry, a, None).unwrap();
    let g = store.inspector().graph();
    let mut out = Vec::new();
    let w = snapshot::write(&g, &handles(&[a]), &mut out).unwrap();
    // root + (handles: main) + (FinalizationRegistry #r)
    assert_eq!(w.synthetic, 3);
    assert_eq!(w.nodes, 3 + 3);
    assert_eq!(w.unreachable, 1, "the unrooted object is marked unreachable");
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with(r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"]"#));
    assert!(text.contains(&format!(r#""node_count":{}"#, w.nodes)));
    assert!(text.contains(r#""b \"quoted\"\n""#), "strings are escaped");
    assert!(text.contains(r#""(FinalizationRegistry #"#));
    assert!(text.contains(r#""(handles: main)""#));
}

#[test]
fn the_walk_runs_beside_mutators_and_a_collector_without_harm() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let store = std::sync::Arc::new(weakstore_core::Store::new(
        weakstore_core::Config { threads: 2, budget_bytes: 64 << 10, ..weakstore_core::Config::default() },
        weakstore_core::NoopHost,
    ));
    let keep = obj(&store, &[]);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let mutator = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut prev = keep;
            while !stop.load(Ordering::Relaxed) {
                let o = obj(&store, &[("prev", Value::Ref(prev)), ("s", Value::String("x".repeat(32).into()))]);
                store.set(keep, "last", Value::Ref(o)).unwrap();
                store.unroot(o).unwrap();
                prev = o;
            }
        })
    };
    for _ in 0..20 {
        let g = store.inspector().graph();
        assert!(g.node_of(keep).is_some());
        // Every copied edge points at a copied object.
        for n in 0..g.len() as u32 {
            for (to, _, _) in g.edges(n) {
                assert!((to as usize) < g.len());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    mutator.join().unwrap();
    store.collect();
    let g = store.inspector().graph();
    assert_eq!(g.dangling, 0, "a quiescent store is copied exactly");
    assert_eq!(g.len(), store.stats().objects);
}

#[test]
fn why_alive_names_objects_kept_for_the_job() {
    let store = manual(1);
    let a = obj(&store, &[]);
    store.root(a); // the job's root, beside the handle's
    let g = store.inspector().graph();
    let sets = RootSets { handles: vec![("main".into(), vec![a])], job: vec![a], ..RootSets::default() };
    assert_eq!(why_alive(&g, &sets, a), Some(vec![Step::Root { kind: RootKind::Job, thread: None, pin: None, id: a }]));
    // Once the job's root is gone, only the handle asked about is left.
    store.unroot(a).unwrap();
    let g = store.inspector().graph();
    assert_eq!(why_alive(&g, &sets, a), None);
}

#[test]
fn a_pinned_object_is_alive_because_of_its_pin() {
    let store = manual(1);
    let child = obj(&store, &[]);
    let holder = obj(&store, &[("child", Value::Ref(child))]);
    store.pin("catalog", holder).unwrap();
    store.unroot(holder).unwrap();
    store.unroot(child).unwrap();
    let sets = RootSets { pins: store.pinned_objects(), ..RootSets::default() };
    let g = store.inspector().graph();
    let path = why_alive(&g, &sets, child).unwrap();
    assert_eq!(
        path,
        vec![
            Step::Root { kind: RootKind::Pin, thread: None, pin: Some("catalog".into()), id: holder },
            Step::Field { key: "child".into(), id: child, count: 1 },
        ]
    );
}

#[test]
fn why_alive_folds_a_run_of_the_same_field_into_one_step() {
    let store = manual(1);
    let e = obj(&store, &[]);
    let d = obj(&store, &[("child", Value::Ref(e))]);
    let c = obj(&store, &[("next", Value::Ref(d))]);
    let b = obj(&store, &[("next", Value::Ref(c))]);
    let a = obj(&store, &[("next", Value::Ref(b))]);
    for id in [b, c, d] {
        store.unroot(id).unwrap();
    }
    let g = store.inspector().graph();
    let path = why_alive(&g, &handles(&[e, a]), e).unwrap();
    assert_eq!(
        path,
        vec![
            Step::Root { kind: RootKind::Handle, thread: Some("main".into()), pin: None, id: a },
            Step::Field { key: "next".into(), id: d, count: 3 },
            Step::Field { key: "child".into(), id: e, count: 1 },
        ]
    );
}
