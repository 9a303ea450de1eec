//! A workload with the operation mix of dumpster's "multiref" benchmark,
//! written for weakstore: N random operations on a set of rooted objects
//! that point at each other — create (a new rooted object), drop (a root),
//! link (a -> b) and unlink — then a full collection. Run against
//! weakstore's core, `dumpster::sync::Gc` and `Arc` (which leaks the cycles
//! this workload makes: it is the speed baseline, not a collector).
//!
//! Also: one full marking of a large graph with 1 and with 2 collector
//! threads.
//!
//! `cargo bench -p weakstore-bench` (OPS=1000000 RUNS=5 MARK_OBJECTS=2000000)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dumpster::Trace;
use weakstore_bench::Rng;
use weakstore_core::{Config, NoopHost, ObjId, Store, Value};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The operations, drawn once so all implementations replay the same list.
#[derive(Clone, Copy)]
enum Op {
    Create,
    Drop(usize),
    Link(usize, usize),
    Unlink(usize),
}

fn ops(n: usize) -> Vec<Op> {
    let mut rng = Rng::new(0x00c0_ffee);
    let mut live = 0usize;
    (0..n)
        .map(|_| {
            let choice = if live < 2 { 0 } else { rng.below(4) };
            match choice {
                0 => {
                    live += 1;
                    Op::Create
                }
                1 => {
                    live -= 1;
                    Op::Drop(rng.below(live + 1))
                }
                2 => Op::Link(rng.below(live), rng.below(live)),
                _ => Op::Unlink(rng.below(live)),
            }
        })
        .collect()
}

fn weakstore(ops: &[Op]) -> Duration {
    let store = Store::new(Config { manual: true, ..Config::default() }, NoopHost);
    let start = Instant::now();
    let mut roots: Vec<ObjId> = Vec::new();
    for &op in ops {
        match op {
            Op::Create => roots.push(store.alloc(Vec::new()).unwrap()),
            Op::Drop(i) => store.unroot(roots.swap_remove(i)).unwrap(),
            Op::Link(a, b) => store.set(roots[a], "next", Value::Ref(roots[b])).unwrap(),
            Op::Unlink(a) => {
                store.delete(roots[a], "next").unwrap();
            }
        }
    }
    for id in roots.drain(..) {
        store.unroot(id).unwrap();
    }
    let stats = store.collect();
    let elapsed = start.elapsed();
    assert_eq!(stats.live_objects, 0, "everything was collected");
    elapsed
}

#[derive(Trace)]
struct DumpsterNode {
    next: Mutex<Option<dumpster::sync::Gc<DumpsterNode>>>,
}

fn dumpster_sync(ops: &[Op]) -> Duration {
    use dumpster::sync::Gc;
    let start = Instant::now();
    let mut roots: Vec<Gc<DumpsterNode>> = Vec::new();
    for &op in ops {
        match op {
            Op::Create => roots.push(Gc::new(DumpsterNode { next: Mutex::new(None) })),
            Op::Drop(i) => drop(roots.swap_remove(i)),
            Op::Link(a, b) => *roots[a].next.lock().unwrap() = Some(roots[b].clone()),
            Op::Unlink(a) => *roots[a].next.lock().unwrap() = None,
        }
    }
    roots.clear();
    dumpster::sync::collect();
    start.elapsed()
}

struct ArcNode {
    next: Mutex<Option<Arc<ArcNode>>>,
}

fn arc(ops: &[Op]) -> Duration {
    let start = Instant::now();
    let mut roots: Vec<Arc<ArcNode>> = Vec::new();
    for &op in ops {
        match op {
            Op::Create => roots.push(Arc::new(ArcNode { next: Mutex::new(None) })),
            Op::Drop(i) => drop(roots.swap_remove(i)),
            Op::Link(a, b) => *roots[a].next.lock().unwrap() = Some(roots[b].clone()),
            Op::Unlink(a) => *roots[a].next.lock().unwrap() = None,
        }
    }
    roots.clear();
    start.elapsed()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// One full cycle over `n` live objects in chains hanging off 1,000 roots.
fn marking(n: usize, threads: usize) -> (Duration, Duration) {
    let store = Store::new(Config { threads, manual: true, ..Config::default() }, NoopHost);
    let heads: Vec<ObjId> = (0..1000).map(|_| store.alloc(Vec::new()).unwrap()).collect();
    for i in 0..n.saturating_sub(heads.len()) {
        let head = heads[i % heads.len()];
        let prev = store.get(head, "next").unwrap();
        let fields = prev.map(|p| vec![("next".into(), p)]).unwrap_or_default();
        let id = store.alloc(fields).unwrap();
        store.set(head, "next", Value::Ref(id)).unwrap();
        store.unroot(id).unwrap();
    }
    store.collect(); // warm-up: every slot touched once
    let stats = store.collect();
    assert_eq!(stats.marked, n);
    (Duration::from_nanos(stats.mark_ns), Duration::from_nanos(stats.total_ns))
}

fn main() {
    let n = env("OPS", 1_000_000);
    let runs = env("RUNS", 5);
    let list = ops(n);
    println!("multiref workload: {n} operations (create/drop/link/unlink, 1/4 each), median of {runs} runs");
    let mut rows = Vec::new();
    for (name, f) in [
        ("weakstore-core", weakstore as fn(&[Op]) -> Duration),
        ("dumpster::sync::Gc", dumpster_sync),
        ("Arc (leaks cycles)", arc),
    ] {
        let t = median((0..runs).map(|_| f(&list)).collect());
        rows.push((name, t));
    }
    let arc_t = rows[2].1.as_secs_f64();
    for (name, t) in &rows {
        println!(
            "  {name:<22} {:>9.1} ms  {:>6.1} ns/op  {:>5.2}x Arc",
            t.as_secs_f64() * 1e3,
            t.as_nanos() as f64 / n as f64,
            t.as_secs_f64() / arc_t
        );
    }
    let objects = env("MARK_OBJECTS", 2_000_000);
    println!("full cycle over {objects} live objects (1,000 chains), median of {runs}:");
    let mut one = Duration::ZERO;
    for threads in [1, 2] {
        let results: Vec<(Duration, Duration)> = (0..runs).map(|_| marking(objects, threads)).collect();
        let mark = median(results.iter().map(|r| r.0).collect());
        let total = median(results.iter().map(|r| r.1).collect());
        if threads == 1 {
            one = mark;
        }
        println!(
            "  {threads} thread(s): mark {:>7.1} ms, whole cycle {:>7.1} ms, marking speed-up {:.2}x",
            mark.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            one.as_secs_f64() / mark.as_secs_f64()
        );
    }
}
