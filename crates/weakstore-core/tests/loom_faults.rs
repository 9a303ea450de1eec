//! Loom models of the collector when threads cannot start. Each model
//! names the bug it would catch.
//!
//! Run with the other models: `bash ci/loom.sh` (it passes `--cfg loom`,
//! under which `weakstore_core::faults` is built).
#![cfg(loom)]

mod loom_common;

use loom_common::store_with_threads;
use weakstore_core::faults::{limit_thread_starts, refuse_every_nth_thread_start};
use weakstore_core::{ObjId, Value};

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::builder().check(f);
    limit_thread_starts(None);
}

/// Bugs caught: a parallel phase that counts a helper which could not
/// start (the marker's termination then waits for it for ever: loom
/// reports the deadlock), and a phase whose work is split for more
/// workers than run (a block of the table nobody scans or sweeps: a
/// reachable object freed, or garbage kept). The store asks for three
/// collector threads and every second thread start is refused: the
/// coordinator starts, then each parallel phase gets one helper or none
/// (the root scan none, the first marking round and the sweep one).
#[test]
fn helpers_that_cannot_start_leave_the_cycle_to_those_that_did() {
    model(|| {
        refuse_every_nth_thread_start(2);
        let s = store_with_threads(3);
        let root = s.alloc(Vec::new()).unwrap();
        let kids: Vec<ObjId> = (0..5).map(|_| s.alloc(Vec::new()).unwrap()).collect();
        for (i, &kid) in kids.iter().enumerate() {
            s.set(root, &i.to_string(), Value::Ref(kid)).unwrap();
            s.unroot(kid).unwrap();
        }
        let garbage = s.alloc(Vec::new()).unwrap();
        s.unroot(garbage).unwrap();
        let c = s.request_collection();
        let stats = s.wait_for(c);
        assert!(kids.iter().all(|&k| s.is_alive(k)), "reachable from the root");
        assert!(!s.is_alive(garbage));
        assert_eq!((stats.marked, stats.freed), (6, 1));
        assert_eq!(s.stats().failed_cycles, 0);
        assert_eq!(s.stats().anomalies, 0);
    });
}
