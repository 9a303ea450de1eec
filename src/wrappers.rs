//! The wrapper cache: one canonical JavaScript `Handle` per live object,
//! held weakly through Node-API references, outside V8's heap.
//!
//! Each store keeps, per object slot, at most one *tracked* handle: its
//! object id, a Node-API reference with a finalizer (`napi_add_finalizer`)
//! and a ticket. The reference gives the handle back while it lives (a
//! field read or a `WeakRef` returns the same handle); the finalizer tells
//! us it died, and drops its root in Rust, without a JavaScript callback.
//!
//! This replaced a V8 `WeakRef` per handle in a JavaScript `Map`, plus a
//! `FinalizationRegistry` registration per handle with the handle as
//! unregister token (docs/BENCHMARKS.md, "The wrapper cache"): V8's weak
//! references cost ~1 µs each when a job makes a million, the token ~0.5 µs
//! more, and every cell stayed in V8's heap until its cleanup task ran.
//!
//! # Invariants
//! - **Each table entry owns exactly one root** on its object. The root
//!   is dropped by whoever removes the entry: `release`, the entry's own
//!   finalizer, or `destroy`. An entry replaced because its handle died
//!   before its finalizer ran passes its root to the new entry.
//! - **A finalizer acts only on its own entry**: its data is the slot and
//!   the entry's ticket. A finalizer whose entry was released or replaced
//!   finds another ticket (or none) and does nothing, so correctness does
//!   not depend on whether Node still runs a finalizer whose reference was
//!   deleted (Node 20 does not, as far as the tests can see; a death queued
//!   before the entry was replaced reaches us either way).
//! - A finalizer never touches another store: its hint is the store's
//!   index *and* serial, and a store reusing the index has another serial.
//! - Nothing here runs JavaScript. The finalizer only queues the death in
//!   `BACKLOG` (it may run inside V8's collector, where Node-API calls and
//!   the store's locks are off limits) and never unwinds into Node; the
//!   queue is drained on the JavaScript thread before the tables are used.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, JsValue};
use rustc_hash::FxHashMap;
use weakstore_core::ObjId;

use crate::stores::{self, Entry};

/// One tracked handle.
#[derive(Clone, Copy)]
struct Tracked {
    id: ObjId,
    ticket: u32,
    reference: sys::napi_ref,
}

/// How many consecutive slots share one table entry.
const CHUNK: usize = 8;

/// A tracked handle as the table keeps it (16 bytes): its slot is implied
/// by its place, its id is that slot plus this generation. A null
/// reference marks an empty place.
#[derive(Clone, Copy)]
struct Place {
    generation: u32,
    ticket: u32,
    reference: sys::napi_ref,
}

const EMPTY: Place = Place { generation: 0, ticket: 0, reference: ptr::null_mut() };

impl Place {
    /// The tracked handle this place holds for `slot`, if any.
    fn tracked(self, slot: u32) -> Option<Tracked> {
        if self.reference.is_null() {
            return None;
        }
        let id = ObjId::from_bits((u64::from(self.generation) << 32) | u64::from(slot))?;
        Some(Tracked { id, ticket: self.ticket, reference: self.reference })
    }
}

/// A store's tracked handles, by object slot, in chunks of [`CHUNK`]
/// consecutive slots in a hash map (FxHash).
///
/// Why chunks: allocation hands out consecutive slots, and a program
/// releases or drops its handles in about the order it made them. One
/// entry per slot with a scattering hash cost a cache miss per operation
/// (a million handles: `release()` of all of them 265 → 556–659 ms, the
/// dropped-wrapper collection 638 → 1,049–1,296 ms); a hash that kept
/// consecutive slots in consecutive buckets avoided the misses but left
/// long runs of tombstones once entries were removed, and a lookup that
/// misses (every fresh object's) scanned whole runs (28% of a loop
/// allocating into reused slots). A chunk is removed when its last place
/// empties, so tombstones stay few and scattered, and a handle alone in
/// its chunk costs 128 bytes instead of 16.
#[derive(Default)]
pub struct Wrappers {
    chunks: FxHashMap<u32, [Place; CHUNK]>,
    len: usize,
    next_ticket: u32,
}

impl Wrappers {
    /// How many handles are tracked (live, or dead and not finalized yet).
    pub fn len(&self) -> usize {
        self.len
    }

    /// The objects of every tracked handle (each owns one root).
    pub fn ids(&self) -> Vec<ObjId> {
        let mut ids: Vec<ObjId> = self
            .chunks
            .iter()
            .flat_map(|(&key, places)| {
                places
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, p)| p.tracked(key * CHUNK as u32 + i as u32))
                    .map(|t| t.id)
            })
            .collect();
        ids.sort_unstable_by_key(|id| id.index());
        ids
    }

    fn key(slot: u32) -> (u32, usize) {
        (slot / CHUNK as u32, slot as usize % CHUNK)
    }

    /// The tracked handle in `slot`, if any.
    fn get(&self, slot: u32) -> Option<Tracked> {
        let (key, i) = Self::key(slot);
        self.chunks.get(&key)?[i].tracked(slot)
    }

    /// Removes the tracked handle in `slot` if `mine` says it is the one
    /// sought (one lookup: this is the path of every release and death).
    fn remove_if(&mut self, slot: u32, mine: impl FnOnce(&Tracked) -> bool) -> Option<Tracked> {
        let (key, i) = Self::key(slot);
        let chunk = self.chunks.get_mut(&key)?;
        let t = chunk[i].tracked(slot)?;
        if !mine(&t) {
            return None;
        }
        chunk[i] = EMPTY;
        if chunk.iter().all(|p| p.reference.is_null()) {
            self.chunks.remove(&key);
        }
        self.len -= 1;
        Some(t)
    }

    /// Tracks `t` in its slot, which must be empty.
    fn insert(&mut self, t: Tracked) {
        let slot = slot_of(t.id);
        let (key, i) = Self::key(slot);
        let chunk = self.chunks.entry(key).or_insert([EMPTY; CHUNK]);
        debug_assert!(chunk[i].reference.is_null(), "slot {slot} is tracked already");
        chunk[i] = Place { generation: (t.id.bits() >> 32) as u32, ticket: t.ticket, reference: t.reference };
        self.len += 1;
    }

    /// Removes every tracked handle.
    fn drain(&mut self) -> impl Iterator<Item = sys::napi_ref> + '_ {
        self.len = 0;
        self.chunks.drain().flat_map(|(_, c)| c).map(|p| p.reference).filter(|r| !r.is_null())
    }
}

thread_local! {
    /// Deaths reported by finalizers, not handled yet: (data, hint).
    static BACKLOG: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
    /// Sentinels finalized so far (see [`plant_sentinel`]).
    static SENTINELS: Cell<u32> = const { Cell::new(0) };
    /// Tests only: leave queued deaths queued (see [`hold_deaths`]).
    static HOLD: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread's env has our cleanup hook (see [`hook_teardown`]).
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

fn slot_of(id: ObjId) -> u32 {
    id.bits() as u32
}

/// The finalizer hint for the store at `index` with `serial`.
fn hint_of(index: u32, e: &Entry) -> u64 {
    (u64::from(e.serial) << 32) | u64::from(index)
}

/// The referenced value, or `None` once V8 collected it.
fn value_of(env: &Env, reference: sys::napi_ref) -> Option<sys::napi_value> {
    let mut value = ptr::null_mut();
    // SAFETY: `reference` is an entry's reference, not deleted (entries
    // delete their reference only when they are removed), created in this
    // env; the value is a local of the current scope.
    let status = unsafe { sys::napi_get_reference_value(env.raw(), reference, &mut value) };
    (status == sys::Status::napi_ok && !value.is_null()).then_some(value)
}

fn delete(env: &Env, reference: sys::napi_ref) {
    // SAFETY: called once per reference, by whoever removes its entry; the
    // reference belongs to this env (see `adopt`).
    let _ = unsafe { sys::napi_delete_reference(env.raw(), reference) };
}

/// The canonical handle of `id` if it is tracked and alive.
pub fn handle_of(env: &Env, e: &Entry, id: ObjId) -> Option<sys::napi_value> {
    drain_backlog(env);
    let w = e.wrappers.borrow();
    let t = w.get(slot_of(id)).filter(|t| t.id == id)?;
    value_of(env, t.reference)
}

/// Tracks `handle` as the canonical handle of `id`, taking over one root
/// the caller owns. Returns the canonical handle: a live tracked one (the
/// caller's root is then dropped), or `handle`.
pub fn adopt(env: &Env, index: u32, e: &Entry, id: ObjId, handle: sys::napi_value) -> Result<sys::napi_value> {
    drain_backlog(env);
    let mut w = e.wrappers.borrow_mut();
    let slot = slot_of(id);
    let mut caller_root = true;
    if let Some(old) = w.get(slot) {
        if old.id == id {
            if let Some(live) = value_of(env, old.reference) {
                let _ = e.store.unroot(id);
                return Ok(live);
            }
            // Died, finalizer pending: its root passes to the new entry
            // (the stale finalizer will find another ticket).
            caller_root = false;
        }
        // (An entry of an older object in this slot cannot exist: it owns
        // a root, so that object could not have been freed.)
        let old = w.remove_if(slot, |_| true).expect("just found");
        delete(env, old.reference);
    }
    if !caller_root {
        let _ = e.store.unroot(id);
    }
    w.next_ticket = w.next_ticket.wrapping_add(1);
    let ticket = w.next_ticket;
    let data = (u64::from(ticket) << 32) | u64::from(slot);
    let mut reference = ptr::null_mut();
    // SAFETY: `handle` is an object of this call's scope. The data and hint
    // are integers, never dereferenced; the finalizer is a plain function
    // that reads them. The reference is ours to delete (non-null result).
    let status = unsafe {
        sys::napi_add_finalizer(
            env.raw(),
            handle,
            data as usize as *mut c_void,
            Some(on_handle_death),
            hint_of(index, e) as usize as *mut c_void,
            &mut reference,
        )
    };
    if status != sys::Status::napi_ok {
        let _ = e.store.unroot(id);
        return Err(Error::new(Status::GenericFailure, "weakstore: could not track a handle".to_owned()));
    }
    w.insert(Tracked { id, ticket, reference });
    Ok(handle)
}

/// Untracks the handle of `id` being released. Returns whether it was
/// tracked; the caller then owns (and must drop) its root.
pub fn release(env: &Env, e: &Entry, id: ObjId) -> bool {
    drain_backlog(env);
    let mut w = e.wrappers.borrow_mut();
    let slot = slot_of(id);
    match w.remove_if(slot, |t| t.id == id) {
        Some(t) => {
            delete(env, t.reference);
            true
        }
        None => false,
    }
}

/// Deletes every reference of a store being destroyed (their finalizers
/// will not find it).
pub fn destroy(env: &Env, e: &Entry) {
    for reference in e.wrappers.borrow_mut().drain() {
        delete(env, reference);
    }
}

/// Tracked handles of one store died (`deaths`: the finalizers' data):
/// drop each entry's root and reference, if the entry is still its own.
/// `None`: the tables were busy.
fn handles_died(env: &Env, hint: u64, deaths: &[(u64, u64)]) -> Option<()> {
    let (index, serial) = (hint as u32, (hint >> 32) as u32);
    stores::try_with_entry(index, |e| {
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
        // The entries' roots: they exist (entries own one), so no drop can
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
unsafe extern "C" fn on_handle_death(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
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
            stores::try_with_entry(hint as u32, |e| e.wake.poke());
        }
    });
    // A panic must not unwind into Node; nothing useful is left to do.
    drop(result);
}

/// Handles the queued deaths. Called before any use of the tables, with
/// none of them borrowed, on the JavaScript thread.
pub fn drain_backlog(env: &Env) {
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

/// Makes sure every reference is deleted before Node tears this thread's
/// env down (process exit, a worker ending). Node then runs the finalizers
/// of the references still alive, but references we own are never freed
/// by Node: the deaths those finalizers queue would never be drained, and
/// the references (72 B each, valgrind: "definitely lost") would leak
/// with every worker that ends holding handles. Our hook runs before
/// Node-API's own teardown (hooks run in reverse order of registration,
/// and Node-API registers its hook when the module is loaded).
pub fn hook_teardown(env: &Env) {
    if HOOKED.try_with(|h| h.replace(true)).unwrap_or(true) {
        return;
    }
    unsafe extern "C" fn teardown(arg: *mut c_void) {
        let _ = std::panic::catch_unwind(|| {
            // `arg` is the env this hook was added to; Node runs the hook
            // while that env is still usable.
            let env = Env::from_raw(arg.cast());
            drain_backlog(&env);
            stores::for_each(|e| destroy(&env, e));
        });
    }
    // SAFETY: `env` is the current call's env; the hook is a plain function
    // and its argument the env itself, which outlives the hook's run.
    let status = unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(teardown), env.raw().cast()) };
    if status != sys::Status::napi_ok {
        let _ = HOOKED.try_with(|h| h.set(false));
    }
}

/// Tests only: while `hold` is set, deaths stay queued. A test can then
/// make a handle die and read its object again before its death is
/// handled: the entry is replaced, and the queued death turns stale.
/// (Otherwise the window is short: Node runs finalizers a turn after the
/// collection, and the next use of the tables handles what they queued.)
pub fn hold_deaths(hold: bool) {
    let _ = HOLD.try_with(|h| h.set(hold));
}

/// Attaches a counting finalizer to a fresh object that nobody keeps:
/// once [`sentinels_seen`] moves past the returned count, V8 collected it
/// and Node ran the finalizers queued with it (one batch per collection).
pub fn plant_sentinel(env: &Env) -> Result<u32> {
    unsafe extern "C" fn seen(_env: sys::napi_env, _data: *mut c_void, _hint: *mut c_void) {
        let _ = SENTINELS.try_with(|s| s.set(s.get().wrapping_add(1)));
    }
    let object = Object::new(env)?;
    // SAFETY: `object` is a fresh object of this scope; the finalizer only
    // touches a thread-local counter; a null result leaves the reference to
    // Node, which deletes it after the finalizer ran.
    let status = unsafe {
        sys::napi_add_finalizer(env.raw(), object.raw(), ptr::null_mut(), Some(seen), ptr::null_mut(), ptr::null_mut())
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(Status::GenericFailure, "weakstore: napi_add_finalizer failed".to_owned()));
    }
    Ok(sentinels_seen())
}

/// How many sentinels were finalized on this thread so far.
pub fn sentinels_seen() -> u32 {
    SENTINELS.try_with(Cell::get).unwrap_or(0)
}
