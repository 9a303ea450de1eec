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
mod host;
mod stores;
mod values;
