//! weakstore's Node binding: thin functions over `weakstore-core`.
//!
//! JavaScript names stores by index (see [`stores`]) and objects by their
//! 53-bit id, so every hot call is a plain function call with numbers, not
//! a class unwrap. The JavaScript layer in `lib/` builds the public classes
//! (`Store`, `Handle`, `WeakRef`, `FinalizationRegistry`) on top.
//!
//! The exported functions live in the `*_api.rs` modules, one concept each,
//! much as the core's `store/` is split: `store_api` (create, share,
//! attach, close), `fields_api`, `handle_api` (handles and their roots), `scope_api` (scoped handles),
//! `pins_api`, `finalization_api`, `delivery_api` (the pump's calls and
//! collection requests), `ephemeron_api`, `stats_api`, `inspect_api`, and,
//! for tests only, `faults_api` and `phase_gate_api`. The other modules
//! export nothing: they are what those functions stand on (the thread's
//! table `stores`, `attachments`, `sharing`, `delivery`'s wake-ups, the
//! wrapper cache `wrappers` and `tracked`, ...).
//!
//! Arguments arrive validated by the JavaScript layer where that is cheap
//! (handles are live and of this store, keys are strings); every exported
//! function checks them again, because no JavaScript input may crash the
//! process.
//!
//! Every exported function is `#[napi(catch_unwind)]`: a Rust panic becomes
//! a JavaScript `Error` instead of aborting the process.

#![deny(clippy::all)]
#![deny(clippy::undocumented_unsafe_blocks)]
// napi-derive registers the exported functions only in the cdylib build;
// in `cargo test`/`clippy --all-targets` builds they look unused.
#![cfg_attr(test, allow(dead_code))]

mod attachments;
mod delivery;
mod delivery_api;
mod ephemeron_api;
mod errors;
#[cfg(feature = "test-hooks")]
mod faults_api;
mod fields_api;
mod finalization_api;
mod handle_api;
mod ids;
mod inspect_api;
mod phase_gate;
#[cfg(feature = "test-hooks")]
mod phase_gate_api;
mod pins_api;
mod scope_api;
mod scoped;
mod secret;
mod sentinels;
mod sharing;
mod stats_api;
mod store_api;
mod stores;
mod tracked;
mod values;
mod wrappers;

/// The addon's allocator: mimalloc 2.x, built without transparent huge
/// pages, rather than the system allocator.
/// - Not glibc: the collector frees, on its own threads, what the
///   JavaScript thread allocated; glibc serializes those frees on the
///   arena lock and keeps the pages.
/// - Not mimalloc 3.x: it crashes initialising a collector thread's heap
///   while worker threads exit (`__test__/process.test.js`).
/// - Not with transparent huge pages: touching a fresh huge page
///   zero-fills all of it inside one allocation, a stall of milliseconds.
///
/// The measurements behind each rule: docs/BENCHMARKS.md ("mimalloc,
/// tried, reverted, and back as 2.x").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
