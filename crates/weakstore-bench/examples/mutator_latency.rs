//! What a cycle costs the program's thread, without V8 in the way.
//!
//!   cargo run --release -p weakstore-bench --example mutator_latency [N]
//!
//! Builds a store of N live objects (default 1,000,000) in chains of 1,000
//! held by one root each (the shape `bench/pauses.js` uses), then runs the
//! mutator step of that script on this thread — 64 times: allocate an
//! object, store it in a chain head's `extra` field, write the head's `n`,
//! drop the new object's root — while a cycle runs on the collector
//! threads. It prints the step's latency (median, 99th percentile, max)
//! with no cycle and during each phase of a cycle, and the slowest single
//! operation, so a slow step can be pinned to the operation that makes it
//! slow; every operation over 1 ms is listed with the collector's phase
//! changes on one time line.
//!
//! `--features mimalloc` runs it on mimalloc instead of the system
//! allocator; `BACKGROUND=0` keeps the collector threads at the program's
//! priority. Findings are in docs/BENCHMARKS.md ("Where the pauses come
//! from").

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use weakstore_core::{Config, NoopHost, Phase, Store, Value};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CHAIN: usize = 1000;
const PER_STEP: usize = 64;

type Log = Arc<Mutex<Vec<(Instant, String)>>>;

fn build(n: usize, phase: Arc<AtomicU8>, log: Log) -> (Store, Vec<weakstore_core::ObjId>) {
    let on_phase: Arc<dyn Fn(Phase) + Send + Sync> = Arc::new(move |p: Phase| {
        phase.store(p as u8, Ordering::Relaxed);
        log.lock().expect("log").push((Instant::now(), format!("collector enters {p:?}")));
    });
    // BACKGROUND=0: collector threads at the program's priority.
    let background = std::env::var("BACKGROUND").map_or(true, |v| v != "0");
    let store =
        Store::new(Config { manual: true, background, on_phase: Some(on_phase), ..Config::default() }, NoopHost);
    let mut roots = Vec::new();
    for c in 0..n.div_ceil(CHAIN) {
        let root = store
            .alloc(vec![("chain".into(), Value::Number(c as f64)), ("n".into(), Value::Number(0.0))])
            .expect("alloc");
        let mut prev = root;
        for i in 1..CHAIN {
            let o = store.alloc(vec![("i".into(), Value::Number(i as f64))]).expect("alloc");
            store.set(prev, "next", Value::Ref(o)).expect("set");
            if prev != root {
                store.unroot(prev).expect("unroot");
            }
            prev = o;
        }
        if prev != root {
            store.unroot(prev).expect("unroot");
        }
        roots.push(root);
    }
    (store, roots)
}

#[derive(Default)]
struct Samples {
    steps: Vec<f64>,
    worst_op: (f64, &'static str),
}

impl Samples {
    fn report(&mut self, label: &str) {
        if self.steps.is_empty() {
            return;
        }
        self.steps.sort_by(f64::total_cmp);
        let at = |q: f64| self.steps[((self.steps.len() - 1) as f64 * q) as usize];
        println!(
            "{label:>14}: {:>6} steps  median {:>7.1} us  p99 {:>7.1} us  max {:>8.1} us  slowest op {:>8.1} us ({})",
            self.steps.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            self.worst_op.0,
            self.worst_op.1
        );
    }
}

fn main() {
    let n: usize = std::env::args().nth(1).map_or(1_000_000, |a| a.parse().expect("N"));
    let phase = Arc::new(AtomicU8::new(Phase::Idle as u8));
    let log: Log = Arc::default();
    let (store, roots) = build(n, phase.clone(), log.clone());
    let allocator = if cfg!(feature = "mimalloc") { "mimalloc" } else { "system allocator" };
    println!("{n} objects, {} chains, {allocator}, {:?}", roots.len(), store.config());
    store.collect(); // untimed first cycle: the garbage of building
    let mut k = 0usize;
    let mut step = |samples: &mut [Samples; 9], in_cycle: bool| {
        let started = Instant::now();
        let label = if in_cycle { phase.load(Ordering::Relaxed) } else { 8 };
        let mut worst = (0.0, "");
        for i in 0..PER_STEP {
            let root = roots[(k * 7919 + i) % roots.len()];
            let t = Instant::now();
            let o = store.alloc(vec![("k".into(), Value::Number(k as f64))]).expect("alloc");
            let t1 = Instant::now();
            store.set(root, "extra", Value::Ref(o)).expect("set");
            let t2 = Instant::now();
            store.set(root, "n", Value::Number(k as f64)).expect("set");
            let t3 = Instant::now();
            store.unroot(o).expect("unroot");
            let t4 = Instant::now();
            for (d, name) in [(t1 - t, "alloc"), (t2 - t1, "set ref"), (t3 - t2, "set number"), (t4 - t3, "unroot")] {
                let us = d.as_secs_f64() * 1e6;
                if us > worst.0 {
                    worst = (us, name);
                }
                if us > 1000.0 {
                    log.lock().expect("log").push((t, format!("{name} took {us:.0} us")));
                }
            }
        }
        k += 1;
        let s = &mut samples[label as usize % 9];
        s.steps.push(started.elapsed().as_secs_f64() * 1e6);
        if worst.0 > s.worst_op.0 {
            s.worst_op = worst;
        }
    };
    let mut samples: [Samples; 9] = Default::default();
    // Baseline: the same steps with no cycle running.
    let until = Instant::now() + std::time::Duration::from_millis(500);
    while Instant::now() < until {
        step(&mut samples, false);
    }
    for _ in 0..3 {
        let target = store.request_collection();
        let t0 = Instant::now();
        while store.completed() < target {
            step(&mut samples, true);
        }
        println!(
            "cycle {target}: {:.1} ms, collector stats {:?}",
            t0.elapsed().as_secs_f64() * 1e3,
            store.last_cycle()
        );
    }
    let log = log.lock().expect("log");
    let first = log.iter().position(|(_, what)| what.ends_with("ScanRoots")).unwrap_or(0);
    let t0 = log.get(first).map_or_else(Instant::now, |e| e.0);
    println!("events since the first timed cycle (ms):");
    for (t, what) in &log[first..] {
        println!("  {:>9.3}  {what}", t.saturating_duration_since(t0).as_secs_f64() * 1e3);
    }
    let names =
        ["Idle", "Snapshot", "ScanRoots", "Mark", "FinishMarking", "ProcessWeak", "Sweep", "Deliver", "no cycle"];
    for (i, s) in samples.iter_mut().enumerate() {
        s.report(names.get(i).copied().unwrap_or("?"));
    }
}
