//! Mutator threads rewrite a shared graph while cycles run back to back.
//! Every object carries its own id in a field; a reachable object freed by
//! mistake shows up as a `Dead` error or a mismatched tag when a thread
//! walks to it.
//!
//! The second test shares one store the way the Node binding's threads do:
//! references are only read with `get_rooted` and `pinned`, and each thread
//! keeps a linked list under its own pin (pushing, popping and rewriting
//! nodes, replacing the pin on every push and pop) while it also walks the
//! other threads' lists, pins their nodes under names of its own and drops
//! garbage, and cycles run from a requesting thread and from a small
//! allocation budget. At the end a walk from each pin must find exactly the
//! nodes and payload sum its thread recorded, and with the pins gone the
//! store must be empty, with no anomaly.
//!
//! Sizes: `WEAKSTORE_STRESS_OPS=N` sets each thread's operation count
//! (defaults below keep both tests well under a second or two in a debug
//! build); a long run: `WEAKSTORE_STRESS_OPS=2000000 cargo test --release
//! -p weakstore-core --test stress`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use weakstore_core::{Config, NoopHost, ObjId, Store, Value};

const THREADS: usize = 3;

fn tag(store: &Store, id: ObjId) -> Value {
    store.get(id, "tag").unwrap_or_else(|e| panic!("reachable object lost: {e}")).unwrap()
}

/// A tiny deterministic generator (xorshift), one per thread.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Operations per thread: `WEAKSTORE_STRESS_OPS`, default 100,000.
fn stress_ops() -> usize {
    std::env::var("WEAKSTORE_STRESS_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// A thread that runs full cycles back to back until `stop`; joins to the
/// number it ran.
fn collect_until(store: &Arc<Store>, stop: &Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let (store, stop) = (Arc::clone(store), Arc::clone(stop));
    std::thread::spawn(move || {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            store.collect();
            n += 1;
        }
        n
    })
}

#[test]
fn mutators_racing_the_collector_never_lose_a_reachable_object() {
    let ops = stress_ops();
    let store = Arc::new(Store::new(Config { threads: 2, budget_bytes: 64 << 10, ..Config::default() }, NoopHost));
    // A few shared objects every thread reads and writes.
    let shared: Vec<ObjId> =
        (0..8).map(|i| store.alloc(vec![("tag".into(), Value::Number(i as f64))]).unwrap()).collect();
    for &s in &shared {
        store.set(s, "tag", Value::Number(s.bits() as f64)).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let collector = collect_until(&store, &stop);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (store, shared) = (Arc::clone(&store), shared.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                // The thread's "stack": ids it holds a root on.
                let mut held: Vec<ObjId> = Vec::new();
                for _ in 0..ops {
                    match rng.below(6) {
                        0 => {
                            let id =
                                store.alloc(vec![("blob".into(), Value::Bytes(vec![t as u8; 64].into()))]).unwrap();
                            store.set(id, "tag", Value::Number(id.bits() as f64)).unwrap();
                            if let Some(&other) = held.last() {
                                store.set(id, "next", Value::Ref(other)).unwrap();
                            }
                            held.push(id);
                        }
                        1 if !held.is_empty() => {
                            // Publish one of ours into a shared object.
                            let id = held[rng.below(held.len())];
                            let s = shared[rng.below(shared.len())];
                            store.set(s, &format!("slot{}", rng.below(4)), Value::Ref(id)).unwrap();
                        }
                        2 => {
                            // Take something from a shared object (rooted).
                            let s = shared[rng.below(shared.len())];
                            if let Some(Value::Ref(id)) = store.get_rooted(s, &format!("slot{}", rng.below(4))).unwrap()
                            {
                                assert_eq!(tag(&store, id), Value::Number(id.bits() as f64));
                                held.push(id);
                            }
                        }
                        3 if !held.is_empty() => {
                            let id = held.swap_remove(rng.below(held.len()));
                            store.unroot(id).unwrap();
                        }
                        4 => {
                            let s = shared[rng.below(shared.len())];
                            store.delete(s, &format!("slot{}", rng.below(4))).unwrap();
                        }
                        _ => {
                            // Walk a chain from a held object.
                            if let Some(&start) = held.last() {
                                let mut at = start;
                                for _ in 0..8 {
                                    assert_eq!(tag(&store, at), Value::Number(at.bits() as f64));
                                    match store.get_rooted(at, "next").unwrap() {
                                        Some(Value::Ref(next)) => {
                                            if at != start {
                                                store.unroot(at).unwrap();
                                            }
                                            at = next;
                                        }
                                        _ => break,
                                    }
                                }
                                if at != start {
                                    store.unroot(at).unwrap();
                                }
                            }
                        }
                    }
                    if held.len() > 64 {
                        let id = held.remove(0);
                        store.unroot(id).unwrap();
                    }
                }
                for id in held {
                    store.unroot(id).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let cycles = collector.join().unwrap();
    assert!(cycles > 0);
    for &s in &shared {
        store.delete(s, "slot0").unwrap();
        store.delete(s, "slot1").unwrap();
        store.delete(s, "slot2").unwrap();
        store.delete(s, "slot3").unwrap();
    }
    store.collect();
    let stats = store.stats();
    assert_eq!(stats.failed_cycles, 0);
    assert_eq!(stats.anomalies, 0);
    assert_eq!(stats.objects, shared.len(), "everything but the shared roots was freed");
}

const LIST_THREADS: usize = 4;

fn payload(store: &Store, id: ObjId) -> f64 {
    match store.get(id, "payload").unwrap_or_else(|e| panic!("rooted node lost: {e}")) {
        Some(Value::Number(n)) => n,
        other => panic!("node {id:?} has payload {other:?}"),
    }
}

/// The next node of `id` (rooted for the caller), if any.
fn next(store: &Store, id: ObjId) -> Option<ObjId> {
    store.get_rooted(id, "next").unwrap_or_else(|e| panic!("rooted node lost: {e}")).and_then(|v| v.as_ref())
}

#[test]
fn threads_sharing_lists_under_pins_keep_every_node() {
    let ops = stress_ops() / 5;
    let store = Arc::new(Store::new(Config { threads: 2, budget_bytes: 32 << 10, ..Config::default() }, NoopHost));
    let stop = Arc::new(AtomicBool::new(false));
    let requester = collect_until(&store, &stop);
    let workers: Vec<_> = (0..LIST_THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (t as u64 + 1));
                let list = format!("list{t}");
                // The bottom of the list: never popped.
                let bottom = store.alloc(vec![("payload".into(), Value::Number(0.0))]).unwrap();
                store.pin(&list, bottom).unwrap();
                store.unroot(bottom).unwrap();
                let (mut len, mut sum) = (1usize, 0f64);
                for _ in 0..ops {
                    match rng.below(8) {
                        0 | 1 => {
                            // Push: a new head pointing at the old one.
                            let head = store.pinned(&list).expect("own pin");
                            let v = rng.below(1000) as f64;
                            let node = store
                                .alloc(vec![("payload".into(), Value::Number(v)), ("next".into(), Value::Ref(head))])
                                .unwrap();
                            store.pin(&list, node).unwrap();
                            store.unroot_many([node, head]);
                            len += 1;
                            sum += v;
                        }
                        2 if len > 1 => {
                            // Pop: the pin moves to the second node.
                            let head = store.pinned(&list).expect("own pin");
                            let second = next(&store, head).expect("not the bottom");
                            store.pin(&list, second).unwrap();
                            sum -= payload(&store, head);
                            len -= 1;
                            assert_eq!(store.unroot_many([head, second]), 0);
                        }
                        3 => {
                            // Rewrite a node's payload a few steps down,
                            // leaving garbage behind on it.
                            let mut at = store.pinned(&list).expect("own pin");
                            for _ in 0..rng.below(len.min(6)) {
                                let n = next(&store, at).expect("within the list");
                                store.unroot(at).unwrap();
                                at = n;
                            }
                            if at != bottom {
                                let v = rng.below(1000) as f64;
                                sum += v - payload(&store, at);
                                store.set(at, "payload", Value::Number(v)).unwrap();
                            }
                            let junk =
                                store.alloc(vec![("blob".into(), Value::Bytes(vec![t as u8; 256].into()))]).unwrap();
                            store.set(at, "scratch", Value::Ref(junk)).unwrap();
                            store.unroot(junk).unwrap();
                            if rng.below(2) == 0 {
                                store.delete(at, "scratch").unwrap();
                            }
                            store.unroot(at).unwrap();
                        }
                        4 | 5 => {
                            // Walk another thread's list while it changes:
                            // every node reached is alive with a payload.
                            let other = format!("list{}", rng.below(LIST_THREADS));
                            let Some(mut at) = store.pinned(&other) else { continue };
                            for _ in 0..rng.below(8) {
                                payload(&store, at);
                                let Some(n) = next(&store, at) else { break };
                                store.unroot(at).unwrap();
                                at = n;
                            }
                            if rng.below(4) == 0 {
                                // Keep it a while under a pin of our own.
                                store.pin(&format!("peek{t}"), at).unwrap();
                            }
                            payload(&store, at);
                            store.unroot(at).unwrap();
                        }
                        6 => {
                            if let Some(p) = store.pinned(&format!("peek{t}")) {
                                payload(&store, p);
                                store.unroot(p).unwrap();
                            }
                            store.unpin(&format!("peek{t}"));
                        }
                        _ => {
                            // Garbage cycles.
                            let x = store.alloc(Vec::new()).unwrap();
                            let y = store.alloc(vec![("x".into(), Value::Ref(x))]).unwrap();
                            store.set(x, "y", Value::Ref(y)).unwrap();
                            store.unroot_many([x, y]);
                        }
                    }
                }
                store.unpin(&format!("peek{t}"));
                (len, sum)
            })
        })
        .collect();
    let expected: Vec<(usize, f64)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    let cycles = requester.join().unwrap();
    assert!(cycles > 0);
    store.collect();
    for (t, &(len, sum)) in expected.iter().enumerate() {
        let mut at = store.pinned(&format!("list{t}")).expect("every list is pinned");
        let (mut seen, mut total) = (1, payload(&store, at));
        while let Some(n) = next(&store, at) {
            store.unroot(at).unwrap();
            at = n;
            seen += 1;
            total += payload(&store, at);
        }
        store.unroot(at).unwrap();
        assert_eq!((seen, total), (len, sum), "list {t}: nodes and payload sum");
    }
    let stats = store.stats();
    assert_eq!(stats.failed_cycles, 0);
    assert_eq!(stats.anomalies, 0);
    assert_eq!(stats.pins, LIST_THREADS);
    for t in 0..LIST_THREADS {
        assert!(store.unpin(&format!("list{t}")));
    }
    store.collect();
    let stats = store.stats();
    assert_eq!(stats.objects, 0, "with the pins gone nothing is left");
    assert_eq!(stats.anomalies, 0);
}
