//! Loom models of every concurrent hand-off between mutators and the
//! collector. Each model names the bug it would catch.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release -p weakstore-core --test loom`
//! (a separate CARGO_TARGET_DIR keeps the normal build's cache). Under
//! `cfg(loom)` the table's chunks and the marker's packets are tiny, so the
//! models stay small; `LOOM_MAX_PREEMPTIONS` bounds the search.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weakstore_core::{ObjId, Store, Value, WakeLatch};

mod loom_common;

use loom_common::store_with_threads;

/// A store with one collector thread (see `loom_common`).
fn store() -> Store {
    store_with_threads(1)
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    loom_common::builder().check(move || {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!("loom explored {} executions", RUNS.swap(0, std::sync::atomic::Ordering::Relaxed));
}

fn obj(s: &Store) -> ObjId {
    s.alloc(Vec::new()).unwrap()
}

/// Runs one full cycle on the collector thread while `mutate` runs here.
fn cycle_during<R>(s: &Arc<Store>, mutate: impl FnOnce(&Store) -> R) -> R {
    let waiter = {
        let s = Arc::clone(s);
        thread::spawn(move || {
            let c = s.request_collection();
            s.wait_for(c);
        })
    };
    let r = mutate(s);
    waiter.join().unwrap();
    r
}

/// Bug caught: a missing deletion or insertion barrier. The mutator moves
/// `y` from `x.f` (possibly already traced) into a fresh, black `z` (never
/// traced) and cuts the old path; without barriers `y` is freed while
/// reachable from `z`.
#[test]
fn write_barrier_against_the_marker() {
    model(|| {
        let s = Arc::new(store());
        let x = obj(&s);
        let y = obj(&s);
        s.set(x, "f", Value::Ref(y)).unwrap();
        s.unroot(y).unwrap();
        let z = cycle_during(&s, |s| {
            let y = s.get_rooted(x, "f").unwrap().unwrap().as_ref().unwrap();
            let z = obj(s);
            s.set(z, "g", Value::Ref(y)).unwrap();
            s.unroot(y).unwrap();
            s.delete(x, "f").unwrap();
            z
        });
        assert!(s.is_alive(z));
        assert!(s.is_alive(y), "y is reachable through z");
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}

/// Bug caught: resurrection. A `deref` (root) racing the end of marking
/// must either keep its target (it was marked) or fail (it was already
/// known dead); never succeed on an object the sweeper then frees.
#[test]
fn deref_during_marking_against_weak_processing() {
    model(|| {
        let s = Arc::new(store());
        let w = obj(&s);
        s.unroot(w).unwrap();
        let rooted = cycle_during(&s, |s| s.root(w));
        assert_eq!(s.is_alive(w), rooted, "alive exactly when the deref succeeded");
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}

/// Bug caught: a root created while roots are scanned. The mutator waits
/// until the root scan is over (the collector has entered `Mark`), then
/// roots `a` (reachable only through `holder.a`, unrooted when the scan
/// passed it) and cuts the edge, racing the marker's trace of `holder`:
/// without the root barrier (shade on root) or the deletion barrier, `a`
/// ends up rooted but unmarked, which the sweeper counts as an anomaly
/// instead of freeing. The second half moves a root into the graph: `b` is
/// stored into the holder and loses its own root.
#[test]
fn root_add_and_remove_against_root_scanning() {
    model(|| {
        let marking = Arc::new(AtomicBool::new(false));
        let observer: weakstore_core::PhaseObserver = {
            let marking = marking.clone();
            std::sync::Arc::new(move |phase| {
                if phase == weakstore_core::Phase::Mark {
                    marking.store(true, Ordering::SeqCst);
                }
                thread::yield_now();
            })
        };
        let s = Arc::new(loom_common::store_observed(1, observer));
        let holder = obj(&s);
        let a = obj(&s);
        let b = obj(&s);
        s.set(holder, "a", Value::Ref(a)).unwrap();
        s.unroot(a).unwrap();
        cycle_during(&s, |s| {
            while !marking.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            // Keeps the root it takes, as a JavaScript handle would.
            let _root = s.get_rooted(holder, "a").unwrap();
            s.delete(holder, "a").unwrap();
            s.set(holder, "b", Value::Ref(b)).unwrap();
            s.unroot(b).unwrap();
        });
        assert!(s.is_alive(a), "rooted");
        assert!(s.is_alive(b), "reachable from the rooted holder");
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}

/// Bug caught: allocation that is not black. An object allocated (and
/// linked from another new object) while the cycle runs must survive it.
#[test]
fn allocation_during_marking() {
    model(|| {
        let s = Arc::new(store());
        let (a, b) = cycle_during(&s, |s| {
            let a = obj(s);
            let b = s.alloc(vec![("a".into(), Value::Ref(a))]).unwrap();
            s.unroot(a).unwrap();
            (a, b)
        });
        assert!(s.is_alive(b));
        assert!(s.is_alive(a), "reachable from b");
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}

/// Bug caught: a lost wake-up between the collector and the JavaScript
/// thread's pump. Every finished cycle must be followed by a wake-up whose
/// read sees it, however the latch's arm and clear interleave.
#[test]
fn delivery_wake_ups_are_never_lost() {
    model(|| {
        let latch = Arc::new(WakeLatch::new());
        let completed = Arc::new(AtomicUsize::new(0));
        let wakes = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let collector = {
            let (latch, completed, wakes, done) = (latch.clone(), completed.clone(), wakes.clone(), done.clone());
            thread::spawn(move || {
                for cycle in 1..=2 {
                    completed.store(cycle, Ordering::SeqCst);
                    if latch.arm() {
                        wakes.fetch_add(1, Ordering::SeqCst);
                    }
                }
                done.store(true, Ordering::SeqCst);
            })
        };
        let (mut handled, mut seen) = (0, 0);
        loop {
            if wakes.load(Ordering::SeqCst) > handled {
                handled += 1;
                latch.clear();
                seen = completed.load(Ordering::SeqCst);
            } else if done.load(Ordering::SeqCst) && wakes.load(Ordering::SeqCst) == handled {
                break;
            } else {
                thread::yield_now();
            }
        }
        collector.join().unwrap();
        assert_eq!(seen, 2, "the last cycle was seen after a wake-up");
    });
}

/// As `delivery_wake_ups_are_never_lost`, with the cycle published the way
/// the core publishes it: under a mutex the reader takes after `clear`
/// (the finalization table, the schedule). Bug caught: a latch whose
/// correctness relied on SeqCst loads the reader does not make.
#[test]
fn delivery_wake_ups_are_never_lost_with_locked_data() {
    model(|| {
        let latch = Arc::new(WakeLatch::new());
        let completed = Arc::new(loom::sync::Mutex::new(0usize));
        let wakes = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let collector = {
            let (latch, completed, wakes, done) = (latch.clone(), completed.clone(), wakes.clone(), done.clone());
            thread::spawn(move || {
                for cycle in 1..=2 {
                    *completed.lock().unwrap() = cycle;
                    if latch.arm() {
                        wakes.fetch_add(1, Ordering::Release);
                    }
                }
                done.store(true, Ordering::Release);
            })
        };
        let (mut handled, mut seen) = (0, 0);
        loop {
            if wakes.load(Ordering::Acquire) > handled {
                handled += 1;
                latch.clear();
                seen = *completed.lock().unwrap();
            } else if done.load(Ordering::Acquire) && wakes.load(Ordering::Acquire) == handled {
                break;
            } else {
                thread::yield_now();
            }
        }
        collector.join().unwrap();
        assert_eq!(seen, 2, "the last cycle was seen after a wake-up");
    });
}

/// Bugs caught: a lost condition-variable wake-up in the request / complete
/// hand-off (loom reports the deadlock), and a request satisfied by a cycle
/// that started before it (the object unrooted before the request would
/// survive).
#[test]
fn requests_start_a_later_cycle_and_always_complete() {
    model(|| {
        let s = Arc::new(store());
        let a = obj(&s);
        let other = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                let c = s.request_collection();
                s.wait_for(c);
                c
            })
        };
        s.unroot(a).unwrap();
        let c = s.request_collection();
        s.wait_for(c);
        assert!(!s.is_alive(a), "the cycle started after the unroot");
        let c2 = other.join().unwrap();
        assert!(s.completed() >= c.max(c2));
    });
}

/// Bugs caught: the mark pool's termination with two collector threads
/// (a worker that waits while the other ends the round, or ends it while
/// packets are left, deadlocks or leaves a reachable object unmarked), and
/// races between the workers' root scan, tracing and sweep of shared slots
/// (their payloads are loom cells). A root fans out to three children, one
/// packet each can hold two, and the blocks of the table alternate between
/// the workers, so both scan roots, share gray work and sweep.
#[test]
fn two_collector_threads_mark_and_sweep_exactly() {
    model(|| {
        let s = store_with_threads(2);
        let root = obj(&s);
        let kids: Vec<ObjId> = (0..6).map(|_| obj(&s)).collect();
        for (i, &kid) in kids.iter().enumerate() {
            s.set(root, &i.to_string(), Value::Ref(kid)).unwrap();
            s.unroot(kid).unwrap();
        }
        let garbage = obj(&s);
        s.unroot(garbage).unwrap();
        let c = s.request_collection();
        let stats = s.wait_for(c);
        assert!(kids.iter().all(|&k| s.is_alive(k)), "reachable from the root");
        assert!(!s.is_alive(garbage));
        assert_eq!(stats.marked, 7);
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}

/// Two mutator threads and the collector. Bugs caught: a reference or a
/// pin handed from one thread to another without a root of the reader's
/// own (a `get_rooted` or `pinned` that does not root what it returns, a
/// pin that does not own its root: the reader's `unroot` then fails or
/// takes another owner's root, and the final counts disagree), a lock
/// cycle between the pin map, the phase lock and the object locks (loom
/// reports the deadlock), and any interleaving of the two threads'
/// operations and barriers with the cycle that frees an object a thread
/// holds a root on or leaves a rooted object unmarked (an anomaly).
/// Two mutators share the rooted `r`, whose field `f` points at `a`; one
/// cycle runs concurrently with both. Mutator 1 reads `r.f` with
/// `get_rooted` twice and uses the child, then looks up the pin `b`.
/// Mutator 2 allocates `b`, stores it into `r.f`, pins it, drops its own
/// root and unpins it again. Every id a thread holds a root on must read
/// as alive with its tag; after both join and a final cycle, exactly `r`
/// and `b` are left, with no root on `b`, no pin and no anomaly.
#[test]
fn two_mutators_share_references_through_a_field_and_a_pin() {
    model(|| {
        let s = Arc::new(store());
        let r = obj(&s);
        let a = s.alloc(vec![("tag".into(), Value::Number(1.0))]).unwrap();
        s.set(r, "f", Value::Ref(a)).unwrap();
        s.unroot(a).unwrap();
        let cycle = s.request_collection();
        let writer = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                let b = s.alloc(vec![("tag".into(), Value::Number(2.0))]).unwrap();
                s.set(r, "f", Value::Ref(b)).unwrap();
                s.pin("b", b).unwrap();
                s.unroot(b).unwrap();
                assert_eq!(s.get(b, "tag"), Ok(Some(Value::Number(2.0))), "pinned");
                assert!(s.unpin("b"));
                b
            })
        };
        let tag_of = |id: ObjId| if id == a { 1.0 } else { 2.0 };
        for _ in 0..2 {
            let child = s.get_rooted(r, "f").unwrap().and_then(|v| v.as_ref()).expect("r.f is a reference");
            assert!(s.is_alive(child), "rooted by this thread");
            assert_eq!(s.get(child, "tag"), Ok(Some(Value::Number(tag_of(child)))));
            s.unroot(child).unwrap();
        }
        if let Some(pinned) = s.pinned("b") {
            assert_eq!(s.get(pinned, "tag"), Ok(Some(Value::Number(2.0))), "rooted by this thread");
            s.unroot(pinned).unwrap();
        }
        let b = writer.join().unwrap();
        s.wait_for(cycle);
        s.collect();
        assert!(s.is_alive(r) && s.is_alive(b), "b is reachable from r");
        assert!(!s.is_alive(a), "a lost its last edge and had no root");
        assert_eq!(s.root_count(b), 0, "every root taken on b was dropped");
        let stats = s.stats();
        assert_eq!(stats.objects, 2);
        assert_eq!(stats.pins, 0);
        assert_eq!(stats.failed_cycles, 0);
        assert_eq!(stats.anomalies, 0);
    });
}

/// Two mutators extend objects along the same shape path at once while a
/// cycle runs: one makes each shape, the other finds it, whichever takes
/// the transition lock first. The second mutator then deletes the middle
/// key, moving its object into dictionary mode mid-cycle. Bugs caught: a
/// transition made twice (two shapes for one layout: the shape count
/// disagrees), a value in another key's slot, and a reference lost in the
/// move to dictionary mode or in a shape change racing the marker (the
/// child freed while its parent still refers to it).
#[test]
fn two_mutators_share_shape_transitions_during_a_cycle() {
    model(|| {
        let s = Arc::new(store());
        let kids = [obj(&s), obj(&s)];
        let parents = [obj(&s), obj(&s)];
        let shapes_before = s.stats().shapes;
        let other = {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                s.set(parents[1], "a", Value::Ref(kids[1])).unwrap();
                s.set(parents[1], "b", Value::Number(2.0)).unwrap();
                s.delete(parents[1], "a").unwrap();
                s.set(parents[1], "a", Value::Ref(kids[1])).unwrap();
                s.unroot(kids[1]).unwrap();
            })
        };
        cycle_during(&s, |s| {
            s.set(parents[0], "a", Value::Ref(kids[0])).unwrap();
            s.unroot(kids[0]).unwrap();
            s.set(parents[0], "b", Value::Number(1.0)).unwrap();
        });
        other.join().unwrap();
        assert_eq!(s.stats().shapes, shapes_before + 2, "{{a}} and {{a, b}}, made once");
        assert_eq!(s.get(parents[0], "b"), Ok(Some(Value::Number(1.0))));
        assert_eq!(s.keys(parents[1]).unwrap(), ["b", "a"]);
        s.collect();
        assert!(kids.iter().all(|&k| s.is_alive(k)), "both children are still fields");
        assert_eq!(s.stats().anomalies, 0);
    });
}
