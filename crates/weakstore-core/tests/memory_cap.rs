//! The store's cap on its bytes (`Config::max_bytes`): refused growth
//! changes nothing, freeing makes room again, an automatic store collects
//! before it refuses, and threads racing for the last bytes never pass it.

mod common;

use std::sync::Arc;

use common::{CountingHost, Embedder};
use weakstore_core::{Config, EphemeronValue, Error, ObjId, Store, Value};

const CAP: usize = 256 << 10;

fn capped(manual: bool) -> Store {
    Store::new(Config { threads: 2, manual, max_bytes: CAP, ..Config::default() }, CountingHost::default())
}

fn payload(i: usize) -> Value {
    Value::String(format!("payload {i:>200}").into())
}

/// Allocates rooted objects until the cap refuses one; returns them.
fn fill(s: &Store) -> Vec<ObjId> {
    let mut kept = Vec::new();
    loop {
        match s.alloc(vec![("i".into(), Value::Number(kept.len() as f64)), ("p".into(), payload(kept.len()))]) {
            Ok(id) => kept.push(id),
            Err(Error::OutOfMemory(requested)) => {
                let in_use = s.stats().bytes;
                assert!(in_use + requested > CAP && in_use <= CAP, "{in_use} + {requested}");
                return kept;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
}

fn assert_intact(s: &Store, kept: &[ObjId]) {
    for (i, &id) in kept.iter().enumerate() {
        assert_eq!(s.get(id, "i").unwrap(), Some(Value::Number(i as f64)));
        assert_eq!(s.get(id, "p").unwrap(), Some(payload(i)));
    }
}

#[test]
fn a_full_store_refuses_growth_and_keeps_every_object() {
    let s = capped(true);
    let kept = fill(&s);
    assert!(kept.len() > 100, "{} objects fit", kept.len());
    let stats = s.stats();
    assert_eq!(stats.max_bytes, CAP);
    assert!(stats.bytes <= CAP);
    assert_intact(&s, &kept);

    // A write that would grow an object is refused and changes nothing; one
    // that shrinks it is not refused.
    let first = kept[0];
    let big = Value::String("x".repeat(CAP).into());
    assert!(matches!(s.set(first, "p", big.clone()), Err(Error::OutOfMemory(_))));
    assert!(matches!(s.set(first, "new", big), Err(Error::OutOfMemory(_))));
    assert_eq!(s.keys(first).unwrap(), ["i", "p"]);
    assert_intact(&s, &kept);
    let bytes = s.stats().bytes;
    s.set(first, "p", Value::Null).unwrap();
    assert!(s.stats().bytes < bytes);
    s.set(first, "p", payload(0)).unwrap();

    // An ephemeron entry is charged too.
    let table = s.new_ephemeron_table();
    let huge = EphemeronValue::Field(Value::Bytes(vec![0; CAP].into()));
    assert!(matches!(s.ephemeron_set(&table, first, huge), Err(Error::OutOfMemory(_))));
    assert!(s.ephemeron_with(&table, first, |v| v.is_none()));

    // Freeing half makes room again.
    for &id in &kept[kept.len() / 2..] {
        s.unroot(id).unwrap();
    }
    s.collect();
    let more = fill(&s);
    assert!(more.len() >= kept.len() / 2 - 1, "{} refilled after freeing {}", more.len(), kept.len() / 2);
    assert_intact(&s, &kept[..kept.len() / 2]);
    assert_eq!(s.stats().anomalies, 0);
}

/// An automatic store collects before it refuses: a program whose live
/// data fits never sees the cap, however much garbage it makes.
#[test]
fn an_automatic_store_collects_garbage_before_refusing() {
    let s = capped(false);
    let live = s.alloc(vec![("p".into(), payload(0))]).unwrap();
    for i in 0..20_000 {
        let id = s.alloc(vec![("p".into(), payload(i))]).expect("garbage is collected to make room");
        s.unroot(id).unwrap();
        assert!(s.stats().bytes <= CAP);
    }
    assert_eq!(s.get(live, "p").unwrap(), Some(payload(0)));
    assert!(s.stats().collections > 0);
    // Finalization cells still fire for what the cap's cycles freed.
    let mut embedder = Embedder::default();
    let registry = s.new_registry(0);
    let target = s.alloc(Vec::new()).unwrap();
    embedder.register(&s, registry, target, None, None).unwrap();
    s.unroot(target).unwrap();
    s.collect();
    let mut fired = Vec::new();
    embedder.deliver(&s, &mut fired);
    assert_eq!(fired.len(), 1);
}

/// Four threads race for the last bytes: the cap is never passed, and the
/// totals stay exact.
#[test]
fn threads_racing_for_the_last_bytes_never_pass_the_cap() {
    let s = Arc::new(capped(true));
    let per_thread: Vec<Vec<ObjId>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = &s;
                scope.spawn(move || {
                    let mut kept = Vec::new();
                    while let Ok(id) = s.alloc(vec![("p".into(), payload(1))]) {
                        assert!(s.stats().bytes <= CAP);
                        kept.push(id);
                    }
                    kept
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let count: usize = per_thread.iter().map(Vec::len).sum();
    let stats = s.stats();
    assert_eq!(stats.objects, count);
    assert!(stats.bytes <= CAP);
    let one = stats.bytes / count;
    assert!(CAP - stats.bytes < one, "the store is full: {} of {CAP} used, {one} per object", stats.bytes);
}
