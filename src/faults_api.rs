//! Tests only (the `test-hooks` feature): the core's injected faults,
//! for Node tests of a thread that cannot start and of a cycle that fails.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::faults::{self, Site};

use crate::errors::{type_error, INVALID_ARG_VALUE};

/// Lets `starts` more threads start, then refuses every start; a negative
/// number lifts the limit. Process-wide.
#[napi(catch_unwind)]
pub fn limit_thread_starts(starts: i32) {
    faults::limit_thread_starts(usize::try_from(starts).ok());
}

fn site(env: &Env, name: &str) -> Result<Site> {
    match name {
        "mark" => Ok(Site::Mark),
        "sweep" => Ok(Site::Sweep),
        _ => type_error(env, INVALID_ARG_VALUE, "the fault site must be 'mark' or 'sweep'"),
    }
}

/// Makes the next `times` collector workers that reach `site` (`'mark'` or
/// `'sweep'`) panic. Process-wide.
#[napi(catch_unwind)]
pub fn panic_collector_workers(env: &Env, at: String, times: u32) -> Result<()> {
    faults::panic_workers(site(env, &at)?, times as usize);
    Ok(())
}

/// While `on`, collector workers that reach `site` wait there (10 s at
/// most). Process-wide.
#[napi(catch_unwind)]
pub fn stall_collector_workers(env: &Env, at: String, on: bool) -> Result<()> {
    faults::stall_workers(site(env, &at)?, on);
    Ok(())
}
