//! What the loom model files share: the search bounds and the store.
#![allow(dead_code)]

use loom::thread;
use weakstore_core::{Config, NoopHost, Store};

/// A model builder: at most two preemptions unless `LOOM_MAX_PREEMPTIONS`
/// says otherwise.
pub fn builder() -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    // The longest single execution, not the number explored: setting up
    // a graph takes the key table's and the shape tree's locks once per
    // new key, on top of each object's own.
    builder.max_branches = 10_000;
    builder
}

/// A manual store with `threads` collector threads whose collector yields
/// at every phase change: voluntary switch points there cost loom no
/// preemptions, so every model explores mutator operations landing
/// between any two phases.
pub fn store_with_threads(threads: usize) -> Store {
    store_observed(threads, std::sync::Arc::new(|_| thread::yield_now()))
}

/// As [`store_with_threads`], with the phase observer `on_phase` (which
/// should yield as well).
pub fn store_observed(threads: usize, on_phase: weakstore_core::PhaseObserver) -> Store {
    Store::new(
        Config {
            threads,
            budget_bytes: usize::MAX,
            growth_percent: 0,
            manual: true,
            background: false,
            max_bytes: usize::MAX,
            on_phase: Some(on_phase),
        },
        NoopHost,
    )
}
