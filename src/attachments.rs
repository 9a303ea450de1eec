//! A thread's attachment to a store: how it begins ([`attachment`]) and
//! how it ends ([`detach`]), whichever way the thread lets go: `close()`,
//! its `Store` collected by V8 (`destroyStore`), or the thread ending (the
//! environment cleanup hook, [`hook_teardown`]).
//!
//! The attachment is the thread's entry in its table (`crate::stores`);
//! the store it names is shared by every thread attached to it
//! (`crate::sharing`).
//!
//! Roots are per thread: every root a thread's JavaScript owns is recorded
//! in its attachment (a tracked handle's root, a scoped handle's root, a
//! root deferred to the end of the job), and every registration belongs to the thread's owner
//! number. `detach` drops them all, which is how a thread that closes the
//! store, drops it, or ends lets go of what it kept alive.
//!
//! # Invariants
//! - `detach` removes the thread's wake-up before anything else, so the
//!   collector never calls into a thread that is going away.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::delivery::{PumpFn, Wake};
use crate::sharing::SharedStore;
use crate::stores::{self, NativeStore};
use crate::wrappers;

thread_local! {
    /// Whether this thread's env has our cleanup hook (see [`hook_teardown`]).
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

/// A new attachment of `shared` for the calling thread, whose pump is
/// `pump` and whose table index will be `index`.
pub fn attachment(shared: Arc<SharedStore>, index: u32, pump: PumpFn, serial: u32) -> NativeStore {
    let owner = shared.new_owner();
    let wake = Wake::new(index, pump);
    shared.wakes.add(owner, Arc::clone(&wake));
    NativeStore::new(shared, owner, wake, serial)
}

/// Ends the calling thread's attachment: its wake-up, its handles' and
/// deferred roots, its registrations and its ephemeron tables go. Returns
/// the store if no other thread has it attached. `env` is the attachment's
/// own thread's environment (still usable: the teardown hook runs before
/// Node-API's).
pub fn detach(env: &Env, native: NativeStore) -> Option<SharedStore> {
    native.store.wakes.remove(native.owner);
    // Deaths already queued for this attachment name an index the table no
    // longer maps to it: they are dropped when drained; its tracked handles
    // are all untracked here.
    let mut roots = wrappers::untrack_all(env, &native);
    roots.append(&mut native.deferred.borrow_mut());
    roots.append(&mut native.scopes.borrow_mut().drain());
    native.store.unroot_many(roots);
    native.store.drop_owner(native.owner);
    for (_, table) in native.tables.borrow_mut().drain() {
        native.store.drop_ephemeron_table(&table);
    }
    let _ = env.adjust_external_memory(-native.reported.get());
    let NativeStore { store, wake, .. } = native;
    // This thread's threadsafe function is released here, on its thread.
    drop(wake);
    Arc::into_inner(store)
}

/// Makes sure every attachment of this thread is detached before Node
/// tears this thread's env down (process exit, a worker ending or being
/// terminated): its roots and registrations are dropped, so a store that
/// other threads still use no longer keeps what this thread held, and its
/// wake-up is never called again. Every reference is deleted too: Node
/// runs the finalizers of the references still alive, but references we
/// own are never freed by Node, and the deaths those finalizers queue
/// would never be drained (72 B each, valgrind: "definitely lost", with
/// every worker that ends holding handles). Our hook runs before Node-API's
/// own teardown (hooks run in reverse order of registration, and Node-API
/// registers its hook when the module is loaded).
pub fn hook_teardown(env: &Env) {
    if HOOKED.try_with(|h| h.replace(true)).unwrap_or(true) {
        return;
    }
    unsafe extern "C" fn teardown(arg: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            // `arg` is the env this hook was added to; Node runs the hook
            // while that env is still usable.
            let env = Env::from_raw(arg.cast());
            wrappers::drain_backlog(&env);
            for native in stores::take_all() {
                // The last thread's store is dropped: its collector ends
                // after the cycle in flight, detached.
                drop(detach(&env, native));
            }
        });
    }
    // SAFETY: `env` is the current call's env; the hook is a plain function
    // and its argument the env itself, which outlives the hook's run.
    let status = unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(teardown), env.raw().cast()) };
    if status != sys::Status::napi_ok {
        let _ = HOOKED.try_with(|h| h.set(false));
    }
}
