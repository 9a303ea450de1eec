//! The thread's queue of handle deaths.
//!
//! A tracked handle's finalizer (`on_handle_death`) may run inside V8's
//! collector, where neither Node-API calls nor the store's locks are safe,
//! so it only queues `(data, hint)` here and pokes the store's pump. The
//! queue is drained on the JavaScript thread by the next call that uses
//! the tables, and by the pump.
//!
//! # Invariants
//! - A queued death is handled exactly once, or dropped when its store is
//!   gone; `handles_died` acts only on the tracked handle whose slot *and* ticket
//!   match, so a stale death (its handle released or replaced) does nothing.
//! - Nothing here runs JavaScript or unwinds into Node.

#[cfg(feature = "test-hooks")]
use std::cell::Cell;
use std::cell::RefCell;
use std::ffi::c_void;

use napi::bindgen_prelude::*;
use napi::sys;

use super::refs::delete;
use crate::stores;

thread_local! {
    /// Deaths reported by finalizers, not handled yet: (data, hint).
    static BACKLOG: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

#[cfg(feature = "test-hooks")]
thread_local! {
    /// Tests only: leave queued deaths queued (see [`hold_deaths`]).
    static HOLD: Cell<bool> = const { Cell::new(false) };
}

/// Tracked handles of one store died (`deaths`: the finalizers' data):
/// drop each one's root and reference, if it is still tracked (same ticket).
/// `None`: the tables were busy.
fn handles_died(env: &Env, hint: u64, deaths: &[(u64, u64)]) -> Option<()> {
    let (index, serial) = (hint as u32, (hint >> 32) as u32);
    stores::try_with_store(index, |e| {
        if e.serial != serial {
            return Some(()); // another store now; ours is gone
        }
        let mut w = e.wrappers.try_borrow_mut().ok()?;
        let mut roots = Vec::with_capacity(deaths.len());
        for &(data, _) in deaths {
            let (slot, ticket) = (data as u32, (data >> 32) as u32);
            if let Some(t) = w.remove_if(slot, |t| t.ticket == ticket) {
                delete(env, t.reference);
                roots.push(t.id);
            }
        }
        drop(w);
        // The tracked handles' roots: they exist (each owns one), so no drop can
        // be refused short of a weakstore bug, which a finalizer has
        // nobody to report to.
        e.store.unroot_many(roots);
        Some(())
    })
    .unwrap_or(Some(())) // store gone, or the thread is ending
}

/// The `napi_finalize` of a tracked handle. It only queues the death: it
/// may run inside V8's collector (Node versions and modes differ), where
/// neither Node-API calls nor the store's locks are safe. The queue is
/// drained by the next call that uses the tables, and by the pump, which
/// the first queued death wakes.
pub(super) unsafe extern "C" fn on_handle_death(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    let (data, hint) = (data as u64, hint as u64);
    let result = std::panic::catch_unwind(|| {
        let was_empty = BACKLOG
            .try_with(|b| {
                let mut b = b.borrow_mut();
                b.push((data, hint));
                b.len() == 1
            })
            .unwrap_or(false);
        if was_empty {
            // The wake is a threadsafe function: safe from anywhere.
            stores::try_with_store(hint as u32, |e| e.wake.poke());
        }
    });
    // A panic must not unwind into Node; nothing useful is left to do.
    drop(result);
}

/// Handles the queued deaths. Called before any use of the tables, with
/// none of them borrowed, on the JavaScript thread.
pub fn drain_backlog(env: &Env) {
    #[cfg(feature = "test-hooks")]
    if HOLD.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let pending = BACKLOG.try_with(|b| std::mem::take(&mut *b.borrow_mut())).unwrap_or_default();
    // One store's deaths come in runs: one table lookup and one borrow each.
    for run in pending.chunk_by(|a, b| a.1 == b.1) {
        if handles_died(env, run[0].1, run).is_none() {
            // Cannot happen (callers hold no table borrow); keep them
            // queued rather than lose root drops.
            let _ = BACKLOG.try_with(|b| b.borrow_mut().extend_from_slice(run));
        }
    }
}

/// Tests only: while `hold` is set, deaths stay queued. A test can then
/// make a handle die and read its object again before its death is
/// handled: the tracked handle is replaced, and the queued death turns stale.
/// (Otherwise the window is short: Node runs finalizers a turn after the
/// collection, and the next use of the tables handles what they queued.)
/// Built with the feature `test-hooks` only.
#[cfg(feature = "test-hooks")]
pub fn hold_deaths(hold: bool) {
    let _ = HOLD.try_with(|h| h.set(hold));
}
