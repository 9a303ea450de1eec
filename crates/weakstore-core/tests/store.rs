//! Mutator operations and whole-cycle behaviour, one rule per test.

mod common;

use common::{manual, obj, Embedder, Freeze};
use weakstore_core::{BigInt, Error, Fired, ObjId, Phase, Value};

#[test]
fn fields_round_trip_every_value_kind() {
    let store = manual(1);
    let other = obj(&store, &[]);
    let values = [
        Value::Null,
        Value::Bool(true),
        Value::Number(-0.5),
        Value::String("héllo".into()),
        Value::BigInt(Box::new(BigInt { negative: true, words: vec![1, 2].into() })),
        Value::Bytes(vec![0, 255, 7].into()),
        Value::Ref(other),
    ];
    let a = obj(&store, &[]);
    for (i, v) in values.iter().enumerate() {
        store.set(a, &format!("k{i}"), v.clone()).unwrap();
    }
    for (i, v) in values.iter().enumerate() {
        assert_eq!(store.get(a, &format!("k{i}")).unwrap().as_ref(), Some(v));
    }
    assert_eq!(store.get(a, "missing").unwrap(), None);
    assert!(store.has(a, "k0").unwrap());
    assert!(store.delete(a, "k0").unwrap());
    assert!(!store.delete(a, "k0").unwrap());
    assert_eq!(store.keys(a).unwrap(), vec!["k1", "k2", "k3", "k4", "k5", "k6"]);
}

#[test]
fn byte_accounting_follows_payloads() {
    let store = manual(1);
    let base = store.stats().bytes;
    let a = obj(&store, &[("b", Value::Bytes(vec![0; 10_000].into()))]);
    let with = store.stats().bytes;
    assert!(with - base >= 10_000);
    store.set(a, "b", Value::Null).unwrap();
    assert!(store.stats().bytes < with - 9_000);
    store.unroot(a).unwrap();
    store.collect();
    assert_eq!(store.stats().bytes, base);
    assert_eq!(store.stats().objects, 0);
}

#[test]
fn unrooted_objects_and_cycles_are_collected_rooted_graph_survives() {
    let store = manual(2);
    let root = obj(&store, &[]);
    let child = obj(&store, &[("n", Value::Number(1.0))]);
    store.set(root, "child", Value::Ref(child)).unwrap();
    store.unroot(child).unwrap();
    // A two-object cycle with no roots.
    let x = obj(&store, &[]);
    let y = obj(&store, &[("x", Value::Ref(x))]);
    store.set(x, "y", Value::Ref(y)).unwrap();
    store.unroot(x).unwrap();
    store.unroot(y).unwrap();

    let stats = store.collect();
    assert_eq!(stats.freed, 2);
    assert!(store.is_alive(root) && store.is_alive(child));
    assert!(!store.is_alive(x) && !store.is_alive(y));
    assert_eq!(store.get(x, "y"), Err(Error::Dead(x)));
    assert_eq!(store.get(child, "n").unwrap(), Some(Value::Number(1.0)));

    store.unroot(root).unwrap();
    store.collect();
    assert!(!store.is_alive(root) && !store.is_alive(child));
    assert_eq!(store.stats().objects, 0);
}

#[test]
fn stale_ids_never_reach_a_reused_slot() {
    let store = manual(1);
    let a = obj(&store, &[]);
    store.unroot(a).unwrap();
    store.collect();
    let b = obj(&store, &[]);
    assert_eq!(a.index(), b.index(), "the freed slot is reused");
    assert_ne!(a, b);
    assert!(!store.root(a), "a weak id of the old incarnation stays cleared");
    assert_eq!(store.set(a, "k", Value::Null), Err(Error::Dead(a)));
    assert!(store.is_alive(b));
}

#[test]
fn root_is_the_strong_half_of_deref() {
    let store = manual(1);
    let a = obj(&store, &[]);
    assert!(store.root(a));
    store.unroot(a).unwrap();
    store.unroot(a).unwrap();
    assert_eq!(store.unroot(a), Err(Error::NotRooted(a)));
    store.collect();
    assert!(!store.root(a));
}

#[test]
fn finalization_cells_fire_once_for_collected_targets() {
    let store = manual(2);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let t1 = obj(&store, &[]);
    let t2 = obj(&store, &[]);
    let held = obj(&store, &[("v", Value::Number(7.0))]);
    let c1 = emb.register(&store, reg, t1, Some(held), Some(42)).unwrap();
    let c2 = store.register(reg, t2, None).unwrap();
    store.unroot(held).unwrap(); // the cell keeps it alive
    store.unroot(t1).unwrap();
    let stats = store.collect();
    assert_eq!(stats.finalizers_queued, 1);
    assert!(store.is_alive(held));
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    assert_eq!(out, vec![Fired { registry: reg, cell: c1, held: Some(held) }]);
    emb.deliver(&store, &mut out);
    assert_eq!(out.len(), 1, "a cell is handed out once");
    // The root on `held` is ours now; dropping it lets it go.
    store.unroot(held).unwrap();
    store.collect();
    assert!(!store.is_alive(held));
    assert_eq!(emb.unregister(&store, reg, 42), 0, "a delivered cell is gone");
    store.unroot(t2).unwrap();
    store.collect();
    out.clear();
    emb.deliver(&store, &mut out);
    assert_eq!(out, vec![Fired { registry: reg, cell: c2, held: None }]);
}

#[test]
fn unregister_cancels_pending_and_fired_cells() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let a = obj(&store, &[]);
    let b = obj(&store, &[]);
    let held = obj(&store, &[]);
    emb.register(&store, reg, a, Some(held), Some(1)).unwrap();
    emb.register(&store, reg, b, None, Some(1)).unwrap();
    emb.register(&store, reg, b, None, Some(2)).unwrap();
    store.unroot(held).unwrap();
    store.unroot(a).unwrap();
    store.unroot(b).unwrap();
    store.collect();
    assert_eq!(store.stats().pending_finalizations, 3);
    assert_eq!(emb.unregister(&store, reg, 1), 2, "fired but untaken cells can still be unregistered");
    assert_eq!(emb.unregister(&store, reg, 1), 0);
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    assert_eq!(out.len(), 1);
    store.collect();
    assert!(!store.is_alive(held), "unregister released the held root");
}

#[test]
fn unregister_keeps_the_target_list_clean() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let a = obj(&store, &[]);
    for _ in 0..1000 {
        emb.register(&store, reg, a, None, Some(9)).unwrap();
        assert_eq!(emb.unregister(&store, reg, 9), 1);
    }
    assert_eq!(store.stats().finalization_cells, 0);
    store.unroot(a).unwrap();
    store.collect();
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    assert!(out.is_empty());
}

#[test]
fn registry_errors_and_drop() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let a = obj(&store, &[]);
    let held = obj(&store, &[]);
    assert_eq!(store.register(reg, a, Some(a)), Err(Error::HeldIsTarget(a)));
    assert_eq!(store.register(reg + 100, a, Some(held)), Err(Error::UnknownRegistry(reg + 100)));
    assert_eq!(store.root_count(held), 1, "a failed register leaves no root behind");
    store.register(reg, a, Some(held)).unwrap();
    store.unroot(held).unwrap();
    store.drop_registry(reg);
    store.unroot(a).unwrap();
    store.collect();
    assert!(!store.is_alive(held));
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    assert!(out.is_empty(), "a dropped registry's cells never fire");
}

#[test]
fn ids_survive_f64_round_trips() {
    let store = manual(1);
    let a = obj(&store, &[]);
    let bits = a.bits() as f64;
    assert_eq!(ObjId::from_bits(bits as u64), Some(a));
}

// --- Barriers, with the collector frozen inside a phase ---

#[test]
fn write_barrier_keeps_an_object_moved_behind_a_black_one() {
    let (store, freeze) = Freeze::store(Phase::Mark, 1);
    let x = obj(&store, &[]);
    let y = obj(&store, &[("tag", Value::Number(5.0))]);
    store.set(x, "f", Value::Ref(y)).unwrap();
    store.unroot(y).unwrap();
    let cycle = freeze.start(&store);
    // Roots are scanned; nothing is traced yet. Move y behind a new
    // (black, never traced) object and cut every other path to it.
    let z = obj(&store, &[]);
    let y_again = store.get_rooted(x, "f").unwrap().unwrap().as_ref().unwrap();
    store.set(z, "g", Value::Ref(y_again)).unwrap();
    store.unroot(y_again).unwrap();
    store.delete(x, "f").unwrap();
    freeze.resume();
    let stats = store.wait_for(cycle);
    assert_eq!(store.stats().failed_cycles, 0);
    assert_eq!(store.stats().anomalies, 0);
    assert!(store.is_alive(y), "y is reachable through z");
    assert_eq!(store.get(y, "tag").unwrap(), Some(Value::Number(5.0)));
    assert!(stats.mark_rounds <= 1);
}

#[test]
fn deref_during_marking_marks_its_target() {
    let (store, freeze) = Freeze::store(Phase::Mark, 2);
    let w = obj(&store, &[]);
    store.unroot(w).unwrap();
    let cycle = freeze.start(&store);
    assert!(store.root(w), "still alive while marking runs");
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(w));
    assert_eq!(store.stats().failed_cycles, 0);
    assert_eq!(store.stats().anomalies, 0);
}

#[test]
fn after_marking_an_unmarked_target_reads_cleared_and_stays_cleared() {
    let (store, freeze) = Freeze::store(Phase::ProcessWeak, 1);
    let keep = obj(&store, &[]);
    let w = obj(&store, &[]);
    store.unroot(w).unwrap();
    let reg = store.new_registry(0);
    let cycle = freeze.start(&store);
    assert!(!store.root(w), "no resurrection after marking");
    assert!(!store.is_alive(w));
    assert_eq!(store.set(keep, "w", Value::Ref(w)), Err(Error::Dead(w)));
    assert_eq!(store.register(reg, w, None), Err(Error::Dead(w)));
    assert!(store.root(keep), "marked objects are unaffected");
    freeze.resume();
    store.wait_for(cycle);
    assert!(!store.root(w));
}

#[test]
fn objects_allocated_during_a_cycle_survive_it() {
    let (store, freeze) = Freeze::store(Phase::Mark, 1);
    let cycle = freeze.start(&store);
    let fresh = obj(&store, &[]);
    store.unroot(fresh).unwrap();
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(fresh), "black allocation");
    store.collect();
    assert!(!store.is_alive(fresh), "and the next cycle frees it");
}

#[test]
fn allocation_during_sweep_is_not_swept() {
    let (store, freeze) = Freeze::store(Phase::Sweep, 2);
    let dead = obj(&store, &[]);
    store.unroot(dead).unwrap();
    let cycle = freeze.start(&store);
    let fresh = obj(&store, &[("k", Value::Bool(true))]);
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(fresh));
    assert!(!store.is_alive(dead));
}

#[test]
fn unroot_during_marking_keeps_the_snapshot() {
    let (store, freeze) = Freeze::store(Phase::ScanRoots, 1);
    let a = obj(&store, &[]);
    let cycle = freeze.start(&store);
    store.unroot(a).unwrap();
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(a), "reachable at the snapshot: survives this cycle");
    store.collect();
    assert!(!store.is_alive(a));
}

#[test]
fn budget_triggers_cycles_without_requests() {
    let store = weakstore_core::Store::new(
        weakstore_core::Config { threads: 1, budget_bytes: 1 << 20, ..Default::default() },
        weakstore_core::NoopHost,
    );
    for _ in 0..200 {
        let a = obj(&store, &[("b", Value::Bytes(vec![0; 64 * 1024].into()))]);
        store.unroot(a).unwrap();
    }
    // The budget crossing requested cycles; wait for the last requested one.
    let done = store.wait_for(store.completed().max(1));
    assert!(done.cycle >= 1);
    assert!(store.stats().collections >= 1);
    let collected = store.collect();
    assert!(collected.live_objects == 0);
    assert!(store.stats().bytes < 1 << 20);
}

#[test]
fn many_registrations_on_one_target_unregister_and_fire_exactly() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let target = obj(&store, &[]);
    // Shared tokens (sets) and distinct tokens (short lists), interleaved.
    let mut expected = std::collections::HashSet::new();
    for i in 0..20_000u64 {
        let token = if i % 2 == 0 { 1 } else { 1000 + i };
        let cell = emb.register(&store, reg, target, None, Some(token)).unwrap();
        if i % 4 == 1 {
            expected.insert(cell);
        }
    }
    assert_eq!(emb.unregister(&store, reg, 1), 10_000, "every cell sharing the token");
    for i in (0..20_000u64).filter(|i| i % 4 == 3) {
        assert_eq!(emb.unregister(&store, reg, 1000 + i), 1);
    }
    // Re-register on the same target so reused cell ids meet stale ones.
    for _ in 0..100 {
        expected.insert(store.register(reg, target, None).unwrap());
    }
    store.unroot(target).unwrap();
    store.collect();
    let mut out = Vec::new();
    emb.deliver(&store, &mut out);
    let fired: std::collections::HashSet<u32> = out.iter().map(|f| f.cell).collect();
    assert_eq!(out.len(), fired.len(), "no cell fires twice");
    assert_eq!(fired, expected);
}

#[test]
fn two_step_delivery_lets_callbacks_cancel_their_batch_and_keeps_ids() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let held = obj(&store, &[("v", Value::Number(1.0))]);
    let a = obj(&store, &[]);
    let b = obj(&store, &[]);
    let ca = emb.register(&store, reg, a, Some(held), Some(1)).unwrap();
    let cb = emb.register(&store, reg, b, None, Some(2)).unwrap();
    store.unroot(held).unwrap();
    store.unroot(a).unwrap();
    store.unroot(b).unwrap();
    store.collect();
    let mut batch = Vec::new();
    store.begin_delivery(0, &mut batch);
    assert_eq!(batch.iter().map(|f| f.cell).collect::<Vec<_>>().len(), 2);
    // A callback of the batch unregisters b's token before b is delivered.
    assert_eq!(emb.unregister(&store, reg, 2), 1, "still registered while the batch runs");
    // Another registers anew: it must not take a batch cell's id.
    let fresh_target = obj(&store, &[]);
    let fresh = store.register(reg, fresh_target, None).unwrap();
    assert_ne!(fresh, ca);
    assert!(store.is_alive(held), "the cell's root holds it until the batch ends");
    let mut again = Vec::new();
    store.begin_delivery(0, &mut again);
    assert!(again.is_empty(), "a cell is handed out once");
    store.finish_delivery(batch.iter().map(|f| f.cell));
    assert_eq!(store.stats().finalization_cells, 1, "only the fresh registration is left");
    store.collect();
    assert!(!store.is_alive(held), "finish_delivery dropped the held root");
    assert_eq!(store.stats().anomalies, 0);
    let _ = cb;
}

#[test]
fn unregister_many_removes_named_cells_of_their_registry_only() {
    let store = manual(1);
    let reg = store.new_registry(0);
    let other = store.new_registry(0);
    let held = obj(&store, &[]);
    let a = obj(&store, &[]);
    let b = obj(&store, &[]);
    let ca = store.register(reg, a, Some(held)).unwrap();
    let cb = store.register(reg, b, None).unwrap();
    let co = store.register(other, b, None).unwrap();
    // Wrong registry and unknown ids are skipped; each cell goes once.
    assert_eq!(store.unregister_many([(other, ca), (reg, 9999), (reg, ca), (reg, ca)]), 1);
    store.unroot(held).unwrap();
    store.collect();
    assert!(!store.is_alive(held), "the removed cell dropped its held root");
    // A cell of a batch being delivered is cancelled, its id kept reserved.
    store.unroot(b).unwrap();
    store.collect();
    let mut batch = Vec::new();
    store.begin_delivery(0, &mut batch);
    let mut cells: Vec<u32> = batch.iter().map(|f| f.cell).collect();
    cells.sort_unstable();
    assert_eq!(cells, {
        let mut v = vec![cb, co];
        v.sort_unstable();
        v
    });
    assert_eq!(store.unregister_many([(reg, cb)]), 1);
    let fresh_target = obj(&store, &[]);
    let fresh = store.register(reg, fresh_target, None).unwrap();
    assert!(fresh != cb && fresh != co, "a cancelled batch cell's id is not reused before the batch ends");
    store.finish_delivery(cells);
    assert_eq!(store.stats().finalization_cells, 1, "only the fresh registration is left");
    assert_eq!(store.stats().anomalies, 0);
}

#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot call getpriority")]
fn collector_threads_run_at_background_priority() {
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let observer = {
        let seen = Arc::clone(&seen);
        move |phase: Phase| {
            // SAFETY: gettid/getpriority read no memory of ours.
            let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::syscall(libc::SYS_gettid) as libc::id_t) };
            seen.lock().unwrap().push((phase, nice));
        }
    };
    for (background, expected) in [(true, weakstore_core::collector::priority::COLLECTOR_NICE), (false, 0)] {
        seen.lock().unwrap().clear();
        let store = weakstore_core::Store::new(
            weakstore_core::Config {
                threads: 1,
                manual: true,
                background,
                on_phase: Some(Arc::new(observer.clone())),
                ..Default::default()
            },
            weakstore_core::NoopHost,
        );
        store.collect();
        let seen = seen.lock().unwrap();
        assert!(!seen.is_empty());
        // The test process itself may run niced; compare with our own.
        // SAFETY: as above.
        let base = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        assert!(seen.iter().all(|&(_, nice)| nice == (base + expected).min(19)), "{seen:?}");
    }
}

/// A collector that falls behind the program's allocation goes back to the
/// program's priority for the rest of the cycle (memory stays bounded on a
/// saturated machine), and back to the background for the next one.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot call getpriority")]
fn a_collector_falling_behind_leaves_the_background() {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    let nice_at_deliver = Arc::new(Mutex::new(Vec::new()));
    let (arrived_tx, arrived) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let gate = Mutex::new((arrived_tx, go_rx, true));
    let observer = {
        let nice_at_deliver = Arc::clone(&nice_at_deliver);
        move |phase: Phase| {
            let mut gate = gate.lock().unwrap();
            if phase == Phase::Mark && gate.2 {
                gate.2 = false;
                gate.0.send(()).unwrap();
                gate.1.recv().unwrap();
            }
            if phase == Phase::Deliver {
                // SAFETY: gettid/getpriority read no memory of ours.
                let nice =
                    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::syscall(libc::SYS_gettid) as libc::id_t) };
                nice_at_deliver.lock().unwrap().push(nice);
            }
        }
    };
    let budget = 64 * 1024;
    let store = weakstore_core::Store::new(
        weakstore_core::Config {
            threads: 1,
            budget_bytes: budget,
            manual: true,
            on_phase: Some(Arc::new(observer)),
            ..Default::default()
        },
        weakstore_core::NoopHost,
    );
    let cycle = store.request_collection();
    arrived.recv().unwrap();
    // While the cycle is frozen in Mark, allocate past twice the budget.
    let big = obj(&store, &[("b", Value::Bytes(vec![0; 3 * budget].into()))]);
    go.send(()).unwrap();
    store.wait_for(cycle);
    store.unroot(big).unwrap();
    store.collect(); // a quiet cycle
                     // SAFETY: as above.
    let base = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let seen = nice_at_deliver.lock().unwrap().clone();
    assert_eq!(seen, vec![base, (base + weakstore_core::collector::priority::COLLECTOR_NICE).min(19)]);
}

/// Regression (found by the API fuzzer): a callback of a batch unregisters
/// a later cell of the same batch and then registers anew; the new cell
/// must not get the cancelled cell's id, or it would be delivered in its
/// place.
#[test]
fn a_cell_cancelled_mid_batch_keeps_its_id_until_the_batch_ends() {
    let store = manual(1);
    let mut emb = Embedder::default();
    let reg = store.new_registry(0);
    let a = obj(&store, &[]);
    let b = obj(&store, &[]);
    emb.register(&store, reg, a, None, Some(1)).unwrap();
    let cb = emb.register(&store, reg, b, None, Some(2)).unwrap();
    store.unroot(a).unwrap();
    store.unroot(b).unwrap();
    store.collect();
    let mut batch = Vec::new();
    store.begin_delivery(0, &mut batch);
    assert_eq!(batch.len(), 2);
    assert_eq!(emb.unregister(&store, reg, 2), 1, "b's callback is cancelled");
    let live = obj(&store, &[]);
    let fresh = emb.register(&store, reg, live, None, Some(3)).unwrap();
    assert_ne!(fresh, cb, "the cancelled id stays reserved during the batch");
    store.finish_delivery(batch.iter().map(|f| f.cell));
    assert_eq!(store.stats().finalization_cells, 1);
    assert_eq!(emb.unregister(&store, reg, 3), 1, "the new registration is intact");
}

/// The trigger for the next automatic cycle is the budget, paced on the
/// live size the last cycle left (`growth_percent`), and never below the
/// budget; growth 0 keeps the budget fixed.
#[test]
fn the_next_cycle_is_paced_on_the_live_size() {
    let paced = |growth_percent| {
        weakstore_core::Store::new(
            weakstore_core::Config {
                threads: 1,
                budget_bytes: 1 << 20,
                growth_percent,
                manual: true,
                ..Default::default()
            },
            weakstore_core::NoopHost,
        )
    };
    for (growth, expect_paced) in [(200, true), (0, false)] {
        let store = paced(growth);
        assert_eq!(store.stats().next_cycle_at, 1 << 20, "before any cycle: the budget");
        // 4 MiB kept alive: above the budget.
        let ids: Vec<_> =
            (0..64).map(|_| store.alloc(vec![("b".into(), Value::Bytes(vec![0; 64 << 10].into()))]).unwrap()).collect();
        store.collect();
        let live = store.stats().bytes;
        assert!(live >= 4 << 20);
        let next = store.stats().next_cycle_at;
        if expect_paced {
            assert_eq!(next, live * 2, "growth 200%: twice the live bytes");
        } else {
            assert_eq!(next, 1 << 20, "growth 0: the budget");
        }
        for id in ids {
            store.unroot(id).unwrap();
        }
        store.collect();
        assert_eq!(store.stats().next_cycle_at, 1 << 20, "an empty store: back to the budget");
    }
}

/// A cycle that ends with a lower trigger than it began with (its live size
/// fell) may find the program's allocation already past the new trigger.
/// Automatic cycles must go on: with a crossing test ("before < trigger
/// <= after") no allocation would ever cross it again, and the store would
/// grow without bound. This freezes a cycle in `Mark`, allocates 1 MiB of
/// garbage into one field meanwhile (under the old 2 MiB trigger), lets the
/// cycle end with ~70 KiB live, and expects the next allocations to start a
/// cycle by themselves.
#[test]
fn a_lowered_trigger_already_passed_still_starts_a_cycle() {
    let budget = 64 << 10;
    let (store, freeze) = Freeze::with_config(
        Phase::Mark,
        weakstore_core::Config { threads: 1, budget_bytes: budget, growth_percent: 100, ..Default::default() },
    );
    let blob = |n: usize| Value::Bytes(vec![1; n].into());
    let x = store.alloc(vec![]).unwrap();
    let big: Vec<_> = (0..32).map(|_| store.alloc(vec![("b".into(), blob(64 << 10))]).unwrap()).collect();
    store.collect();
    assert!(store.stats().next_cycle_at >= 2 << 20, "paced on 2 MiB live");
    for id in big {
        store.unroot(id).unwrap();
    }
    freeze.arm();
    let cycle = freeze.start(&store);
    // 1 MiB of garbage through one field: under the 2 MiB trigger.
    for _ in 0..16 {
        store.set(x, "b", Value::Null).unwrap();
        store.set(x, "b", blob(64 << 10)).unwrap();
    }
    let before = store.stats().collections;
    freeze.resume();
    store.wait_for(cycle);
    let stats = store.stats();
    assert!(stats.next_cycle_at < 1 << 20, "the trigger fell to ~the live size: {}", stats.next_cycle_at);
    assert!(stats.allocated_since_cycle >= 1 << 20, "and the program is past it already");
    let done = stats.collections;
    assert!(done > before);
    // Now allocation alone must start a cycle (waits up to 20 s for it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut n = 0;
    while store.stats().collections == done {
        assert!(
            std::time::Instant::now() < deadline,
            "no automatic cycle after {n} more allocations: the store would grow without bound"
        );
        store.set(x, "b", Value::Null).unwrap();
        store.set(x, "b", blob(1 << 10)).unwrap();
        n += 1;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(store.stats().anomalies, 0);
}

/// A host that says when it is dropped: the store's shared state (table,
/// objects, host) goes with the last thread that holds it.
struct DropFlagHost(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl weakstore_core::Host for DropFlagHost {
    fn wake_cleanup(&self, _cycle: &weakstore_core::CycleStats) {}
}

impl Drop for DropFlagHost {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn close_waits_for_the_collector_and_frees_everything_before_returning() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    for _ in 0..20 {
        let dropped = Arc::new(AtomicBool::new(false));
        let config = weakstore_core::Config { threads: 2, ..weakstore_core::Config::default() };
        let mut store = weakstore_core::Store::new(config, DropFlagHost(Arc::clone(&dropped)));
        let a = obj(&store, &[]);
        store.set(a, "k", Value::String("v".into())).unwrap();
        // A cycle may be in flight when close is called: close waits for it,
        // so the collector thread no longer holds the shared state.
        store.request_collection();
        store.close();
        drop(store);
        assert!(dropped.load(Ordering::SeqCst), "close returned while the collector still held the store");
    }
}

#[test]
fn cycles_report_their_trigger_and_the_history_keeps_each_one() {
    use weakstore_core::{Config, NoopHost, Store, Trigger, CYCLE_HISTORY};
    // A budget of one small allocation: allocating starts cycles on its own.
    let store = Store::new(Config { threads: 1, budget_bytes: 1, growth_percent: 0, ..Config::default() }, NoopHost);
    let explicit = store.collect();
    assert_eq!(explicit.trigger, Trigger::Request);
    assert!(explicit.started_at_ms > 1.0e12, "a wall-clock start time");
    let before = explicit.cycle;
    // Allocation alone requests the next cycle; wait for it.
    let a = obj(&store, &[("k", Value::String("x".repeat(64).into()))]);
    let auto = store.wait_for(before + 1);
    assert_eq!(auto.cycle, before + 1);
    assert_eq!(auto.trigger, Trigger::Allocation);
    let history = store.cycles_after(0);
    assert_eq!(history.iter().map(|c| c.cycle).collect::<Vec<_>>(), (1..=history.len() as u64).collect::<Vec<_>>());
    assert_eq!(history[0].trigger, Trigger::Request);
    assert!(store.cycles_after(before).iter().all(|c| c.cycle > before));
    store.unroot(a).unwrap();
    for _ in 0..CYCLE_HISTORY + 5 {
        store.collect();
    }
    let kept = store.cycles_after(0);
    assert_eq!(kept.len(), CYCLE_HISTORY);
    assert_eq!(kept.last().unwrap().cycle, store.last_cycle().cycle);
}
