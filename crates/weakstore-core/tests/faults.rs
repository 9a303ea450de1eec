//! The collector under injected faults: threads that cannot start and
//! collector workers that panic. Built with `--features fault-injection`
//! (`npm test` passes it). The fault counters are process-wide, so the
//! cases run one at a time (`serial`).
#![cfg(feature = "fault-injection")]

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::CountingHost;
use weakstore_core::faults::{limit_thread_starts, panic_workers, refuse_every_nth_thread_start, Site};
use weakstore_core::{Config, CycleStats, Error, ObjId, Store, Value};

/// Holds the process's fault counters for one case; lifts every fault
/// when dropped (also when the case fails).
struct Serial(#[allow(dead_code)] MutexGuard<'static, ()>);

fn serial() -> Serial {
    static LOCK: Mutex<()> = Mutex::new(());
    Serial(LOCK.lock().unwrap_or_else(|e| e.into_inner()))
}

impl Drop for Serial {
    fn drop(&mut self) {
        limit_thread_starts(None);
        panic_workers(Site::Mark, 0);
        panic_workers(Site::Sweep, 0);
    }
}

fn store(threads: usize) -> Store {
    Store::new(Config { threads, manual: true, ..Config::default() }, CountingHost::default())
}

/// More live objects and more garbage than one block of the table, so
/// that every worker has blocks to scan and sweep.
const LIVE: usize = 10_000;
const GARBAGE: usize = 9_000;

/// A rooted list of `LIVE` nodes (only the head is rooted), and `GARBAGE`
/// unrooted objects in pairs that point at each other, interleaved.
fn populate(s: &Store) -> ObjId {
    let head = s.alloc(vec![("i".into(), Value::Number(0.0))]).unwrap();
    let mut tail = head;
    let mut garbage = 0;
    for i in 1..LIVE {
        let node = s.alloc(vec![("i".into(), Value::Number(i as f64))]).unwrap();
        s.set(tail, "next", Value::Ref(node)).unwrap();
        s.unroot(node).unwrap();
        tail = node;
        if garbage < GARBAGE {
            let a = s.alloc(Vec::new()).unwrap();
            let b = s.alloc(vec![("a".into(), Value::Ref(a))]).unwrap();
            s.set(a, "b", Value::Ref(b)).unwrap();
            s.unroot(a).unwrap();
            s.unroot(b).unwrap();
            garbage += 2;
        }
    }
    assert_eq!(garbage, GARBAGE);
    head
}

/// The list from `head` reads back whole.
fn assert_list(s: &Store, head: ObjId) {
    let mut node = Some(head);
    let mut i = 0;
    while let Some(id) = node {
        assert_eq!(s.get(id, "i").unwrap(), Some(Value::Number(i as f64)), "node {i}");
        node = s.get(id, "next").unwrap().and_then(|v| v.as_ref());
        i += 1;
    }
    assert_eq!(i, LIVE);
}

/// One full cycle, which must end within a minute (a deadlocked collector
/// fails the case instead of hanging the suite).
fn collect(s: &Arc<Store>) -> CycleStats {
    let (tx, rx) = mpsc::channel();
    let waiter = Arc::clone(s);
    std::thread::spawn(move || {
        let _ = tx.send(waiter.collect());
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the cycle ended (the collector is not deadlocked)")
}

#[test]
fn a_store_whose_thread_cannot_start_is_an_error_not_a_panic() {
    let _serial = serial();
    limit_thread_starts(Some(0));
    let refused = Store::try_new(Config::default(), CountingHost::default());
    assert!(matches!(&refused, Err(Error::ThreadStart(None))), "{:?}", refused.err());
    let message = refused.err().unwrap().to_string();
    assert_eq!(message, "the collector thread could not be started: refused (injected fault)");
    limit_thread_starts(None);
    let s = Store::try_new(Config::default(), CountingHost::default()).expect("starts once allowed");
    s.collect();
}

/// Every count of helpers that can start, at every phase: cycles end and
/// free exactly the garbage.
#[test]
fn helpers_that_cannot_start_leave_the_cycle_to_the_threads_that_did() {
    let _serial = serial();
    for starts in 0..=10 {
        limit_thread_starts(None);
        let s = Arc::new(store(4));
        let head = populate(&s);
        limit_thread_starts(Some(starts));
        let stats = collect(&s);
        assert_eq!((stats.freed, stats.retries, stats.failed), (GARBAGE, 0, false), "{starts} starts allowed");
        assert_eq!(stats.marked, LIVE, "{starts} starts allowed");
        assert_list(&s, head);
        let totals = s.stats();
        assert_eq!((totals.objects, totals.failed_cycles, totals.anomalies), (LIVE, 0, 0));
        assert_eq!(totals.phase, "idle");
    }
    for nth in 2..=4 {
        limit_thread_starts(None);
        let s = Arc::new(store(4));
        let head = populate(&s);
        refuse_every_nth_thread_start(nth);
        let stats = collect(&s);
        assert_eq!((stats.freed, stats.marked, stats.failed), (GARBAGE, LIVE, false), "every {nth}th refused");
        assert_list(&s, head);
    }
}

/// A marking worker that panics fails the attempt before anything is
/// freed; the retry on one thread frees exactly the garbage.
#[test]
fn a_panicking_marker_is_retried_on_one_thread() {
    let _serial = serial();
    for threads in [1, 3] {
        let s = Arc::new(store(threads));
        let head = populate(&s);
        panic_workers(Site::Mark, 1);
        let stats = collect(&s);
        assert_eq!((stats.freed, stats.marked, stats.retries, stats.failed), (GARBAGE, LIVE, 1, false));
        assert_list(&s, head);
        let totals = s.stats();
        assert_eq!((totals.objects, totals.failed_cycles, totals.anomalies), (LIVE, 1, 0));
    }
}

/// A sweeper that panics after freeing part of the garbage: the cycle's
/// figures still count every object freed, by the failed attempt and the
/// retry together, and the store's totals stay exact.
#[test]
fn a_panicking_sweeper_keeps_the_figures_true() {
    let _serial = serial();
    for threads in [1, 2] {
        let s = Arc::new(store(threads));
        let head = populate(&s);
        let bytes_before = s.stats().bytes;
        panic_workers(Site::Sweep, 1);
        let stats = collect(&s);
        assert_eq!((stats.freed, stats.retries, stats.failed), (GARBAGE, 1, false), "{threads} threads");
        assert_list(&s, head);
        let totals = s.stats();
        assert_eq!((totals.objects, totals.anomalies), (LIVE, 0));
        assert_eq!(totals.bytes, bytes_before - stats.freed_bytes);
        assert_eq!(totals.bytes, stats.live_bytes);
    }
}

/// Both attempts fail: the cycle says so, its figures count what the
/// failed sweeps freed, and the next cycle frees the rest.
#[test]
fn a_cycle_that_fails_twice_says_so_and_the_next_one_recovers() {
    let _serial = serial();
    for site in [Site::Mark, Site::Sweep] {
        // One worker per attempt, so each armed panic fails one attempt.
        let s = Arc::new(store(1));
        let head = populate(&s);
        panic_workers(site, 2);
        let failed = collect(&s);
        assert!(failed.failed, "{site:?}");
        assert_eq!(failed.retries, 2);
        assert_eq!(s.stats().objects, LIVE + GARBAGE - failed.freed, "{site:?}");
        if site == Site::Mark {
            assert_eq!(failed.freed, 0, "nothing is freed on an incomplete mark");
        }
        let next = collect(&s);
        assert!(!next.failed);
        assert_eq!(failed.freed + next.freed, GARBAGE, "{site:?}");
        assert_list(&s, head);
        let totals = s.stats();
        assert_eq!((totals.objects, totals.failed_cycles, totals.anomalies), (LIVE, 2, 0));
    }
}
