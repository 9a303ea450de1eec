//! weakstore's Node binding: thin functions over `weakstore-core`.
//!
//! JavaScript names stores by index (see [`stores`]) and objects by their
//! 53-bit id, so every hot call is a plain function call with numbers, not
//! a class unwrap. The JavaScript layer in `lib/` builds the public classes
//! (`Store`, `Handle`, `WeakRef`, `FinalizationRegistry`) on top.
//!
//! Every exported function is `#[napi(catch_unwind)]`: a Rust panic becomes
//! a JavaScript `Error` instead of aborting the process.

#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks)]
// napi-derive registers the exported functions only in the cdylib build;
// in `cargo test`/`clippy --all-targets` builds they look unused.
#![cfg_attr(test, allow(dead_code))]

mod api;
mod ephemeron_api;
mod errors;
mod handle_api;
mod host;
mod ids;
mod inspect_api;
mod sentinels;
mod stores;
mod tracked;
mod values;
mod wrappers;

/// mimalloc 2.x rather than the system allocator. The collector frees, on
/// its own threads, what the JavaScript thread allocated; glibc keeps those
/// chunks in the JavaScript thread's arena and its next `malloc`s sort and
/// consolidate them under the arena lock, and it never returns the pages in
/// the middle of its heap. Measured (docs/BENCHMARKS.md, docs/TESTING.md):
/// the soak's RSS settles ~40 MB lower, and pages come back to the system
/// after a sweep (third session: 4 of 29 soak runs still grew by more than
/// 5% over their second half, against 3 of 17 with glibc; the causes found
/// since, V8's handle bookkeeping, are in TESTING, and the fifth session's
/// soak runs were flat in 11 of 11).
///
/// Two versions of it were tried and rejected first:
/// - mimalloc 3.3 (the crate's default) crashed the process with SIGSEGV in
///   `_mi_subproc`, initialising a collector thread's heap while workers
///   exited (`__test__/process.test.js`, "terminating busy workers": 15 of
///   40 runs; mimalloc 2.3: 0 of 80).
/// - With transparent huge pages (`no_thp` off), a page fault on a fresh
///   2 MiB region zero-filled all of it inside one allocation: a 4 ms stall
///   every ~12 ms of steady allocation (`perf`: `do_huge_pmd_anonymous_page`
///   → `clear_page_erms`; the `mutator_latency` example of weakstore-bench).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
