//! The exported store lifecycle: create a store, share it, attach another
//! thread to it, and let go of it (`closeStore`, or `destroyStore` once V8
//! collected the `Store`).
//!
//! A thread's use of a store is an attachment in that thread's table
//! (`crate::stores`); the store itself is shared by every thread attached
//! to it (`crate::sharing`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::Config;

use crate::attachments;
use crate::delivery::PumpFn;
use crate::errors::{core_error, range_error};
use crate::sharing::{self, SharedStore};
use crate::stores;

/// `new Store()`'s options, checked by the JavaScript layer and again
/// here: `threads`, `budget` and `maxBytes` 0 and a negative `growth` mean
/// the defaults; `background` runs the collector below the program's
/// priority.
#[napi(object)]
pub struct StoreConfig {
    pub threads: u32,
    pub budget: f64,
    pub growth: f64,
    pub manual: bool,
    pub background: bool,
    pub max_bytes: f64,
}

/// Creates a store.
#[napi(catch_unwind)]
pub fn create_store(env: &Env, options: StoreConfig, pump: Function<u32, ()>) -> Result<u32> {
    let StoreConfig { threads, budget, growth, manual, background, max_bytes } = options;
    let mut config = Config { manual, background, ..Config::default() };
    if threads > 64 {
        return range_error(env, "new Store: options.threads must be from 1 to 64");
    }
    if threads > 0 {
        config.threads = threads as usize;
    }
    if budget != 0.0 {
        if !(budget.is_finite() && budget >= 1024.0) {
            return range_error(env, "new Store: options.budget must be a byte count of at least 1024");
        }
        config.budget_bytes = budget as usize;
    }
    if growth.is_finite() && growth >= 0.0 {
        config.growth_percent = growth as usize;
    }
    if max_bytes != 0.0 {
        if !(max_bytes.is_finite() && max_bytes >= 1024.0 && max_bytes.fract() == 0.0) {
            return range_error(env, "new Store: options.maxBytes must be a byte count of at least 1024");
        }
        config.max_bytes = max_bytes as usize;
    }
    let shared = SharedStore::new(config).or_else(|e| core_error(env, "new Store", e))?;
    let pump: PumpFn = pump.build_threadsafe_function::<u32>().weak::<true>().build()?;
    Ok(attach(env, shared, pump))
}

/// Attaches the calling thread to the shared store `key` if `secret` is
/// its secret (a value of `share()`); returns its index in this thread's
/// table.
#[napi(catch_unwind)]
pub fn attach_store(env: &Env, key: f64, secret: String, pump: Function<u32, ()>) -> Result<u32> {
    let shared = match SharedStore::find(key, &secret) {
        Ok(shared) => shared,
        Err(refused) => return refused.throw(env),
    };
    let pump: PumpFn = pump.build_threadsafe_function::<u32>().weak::<true>().build()?;
    Ok(attach(env, shared, pump))
}

fn attach(env: &Env, shared: Arc<SharedStore>, pump: PumpFn) -> u32 {
    attachments::hook_teardown(env);
    let index = stores::next_index();
    let got = stores::insert(attachments::attachment(shared, index, pump, stores::next_serial()));
    debug_assert_eq!(got, index);
    index
}

/// Checks a value of `share()` as `attachStore` does, without attaching
/// (`Store.attach` in a thread that has the store attached already).
#[napi(catch_unwind)]
pub fn check_shared(env: &Env, key: f64, secret: String) -> Result<()> {
    match SharedStore::find(key, &secret) {
        Ok(_) => Ok(()),
        Err(refused) => refused.throw(env),
    }
}

/// Makes the store attachable from other threads; returns the secret its
/// `share()` values carry (32 lowercase hexadecimal digits).
#[napi(catch_unwind)]
pub fn share_store(env: &Env, store: u32) -> Result<String> {
    stores::with(env, store, |e| match e.store.share() {
        Ok(secret) => Ok(crate::secret::to_hex(&secret)),
        Err(err) => {
            Err(Error::from_reason(format!("Store.prototype.share: the operating system gave no random secret: {err}")))
        }
    })
}

/// The store's key (the first part of its handles' ids).
#[napi(catch_unwind)]
pub fn store_key(env: &Env, store: u32) -> Result<f64> {
    stores::with(env, store, |e| Ok(e.store.key as f64))
}

/// Ends this thread's use of a store (its handles' roots, its
/// registrations): its V8 object was collected. The last thread's drop
/// drops the store (its collector finishes the cycle in flight, detached).
#[napi(catch_unwind)]
pub fn destroy_store(env: &Env, store: u32) -> Result<()> {
    if let Some(native) = stores::remove(store) {
        drop(attachments::detach(env, native));
    }
    Ok(())
}

/// Closes this thread's use of a store; the last thread to let go closes
/// the store itself, and gets a promise that resolves once its collector
/// thread has ended (after the cycle in flight) and its objects are freed:
/// that wait runs on the libuv thread pool, never on the JavaScript thread.
/// Any other thread's close is done on return (`null`).
#[napi(catch_unwind)]
pub fn close_store(env: &Env, store: u32) -> Option<AsyncTask<sharing::Closing>> {
    let last = stores::remove(store).and_then(|native| attachments::detach(env, native))?;
    Some(AsyncTask::new(sharing::Closing(Some(last))))
}
