//! Mutator threads rewrite a shared graph while cycles run back to back.
//! Every object carries its own id in a field; a reachable object freed by
//! mistake shows up as a `Dead` error or a mismatched tag when a thread
//! walks to it.

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

#[test]
fn mutators_racing_the_collector_never_lose_a_reachable_object() {
    let ops: usize = std::env::var("WEAKSTORE_STRESS_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let store = Arc::new(Store::new(Config { threads: 2, budget_bytes: 64 << 10, ..Config::default() }, NoopHost));
    // A few shared objects every thread reads and writes.
    let shared: Vec<ObjId> =
        (0..8).map(|i| store.alloc(vec![("tag".into(), Value::Number(i as f64))]).unwrap()).collect();
    for &s in &shared {
        store.set(s, "tag", Value::Number(s.bits() as f64)).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                store.collect();
                n += 1;
            }
            n
        })
    };
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
