'use strict'
// StoreState: everything one Store keeps on the JavaScript side.
//
// - the wrapper cache: object slot -> V8 WeakRef of its canonical Handle;
// - wrapper deaths: a V8 FinalizationRegistry tells us a Handle died; the
//   roots of dead wrappers are dropped in one native call per batch. A
//   handle is registered at the end of the job that made it (a handle
//   released within its job never is), with itself as the unregister
//   token, and release() unregisters it: otherwise every released handle
//   left V8 a weak cell that survived its next major GC (cleared cells
//   wait for the cleanup task), V8 sized its heap on them, and a program
//   that releases everything saw V8's heap ratchet up (soak, --drop=0:
//   heapTotal 90 -> 196 MB over 10M operations; flat now);
// - KeepDuringJob: a handle that `deref()` returned or `new WeakRef()`
//   targeted is stamped (on its cache entry) with the current job number.
//   Releasing it before
//   the job ends defers the root drop to the end of the job, as ES2021
//   keeps deref'd targets alive (a handle that is merely dropped keeps its
//   root until V8 reports it dead, which never happens within the job);
// - delivery: the collector wakes `pump` through a threadsafe function;
//   pump hands fired finalization cells to their registries, tells WeakMaps
//   which keys died (so they drop the JavaScript values they held for
//   them), and resolves `collect()` promises whose cycle has completed.

const native = require('../native.js')
const { V8WeakRef, V8FinalizationRegistry } = require('./builtins')
const { Handle, CONSTRUCT, markReleased, cellOf, setCell } = require('./handle')

/** Held value the wrapper-death registry uses for collect()'s sentinel. */
const SENTINEL = -1

/**
 * The wrapper cache's entry for one handle: a V8 WeakRef to it that also
 * carries the object id (zeroed by release()).
 *
 * The wrapper-death registry holds each handle's *slot index* (a small
 * integer, nothing to keep alive), not its entry: a death report for slot
 * s drops the root of s's cache entry if that entry's handle is dead, and
 * is ignored otherwise. That is exact because each cache entry owns one
 * root: adopt() replacing a dead, not yet reported entry takes over its root
 * (and drops the new one), release() removes its entry and root at once, and
 * a slot's entry outlives its object only while it holds the root.
 */
class WrapperRef extends V8WeakRef {
  constructor(h, id) {
    super(h)
    this.id = id
    // The job (StoreState.job) in which deref() or new WeakRef() last
    // returned or targeted the handle: KeepDuringJob, see StoreState.keep.
    this.kept = -1
  }
}

/**
 * The wrapper cache's key for object `id`: its slot index (`id` mod 2^32,
 * see the core's id.rs). Ids past 2^32 are heap numbers, which V8's Map
 * hashes several times slower than small integers; a slot holds one live
 * object at a time, and a cached wrapper keeps its object alive, so the
 * index names the entry (lookups still compare the full id).
 */
const slotOf = (id) => id >>> 0

/** index -> V8 WeakRef(StoreState), for the module-wide pump. */
const states = new Map()

const noop = () => {}

class StoreState {
  constructor(index, store) {
    this.index = index
    this.store = store
    this.cache = new Map()
    this.deaths = new V8FinalizationRegistry((ref) => this.#onWrapperDeath(ref))
    this.dead = []
    this.flushQueued = false
    this.fresh = [] // handles made this job, registered in deaths at its end
    this.freshQueued = false
    this.job = 0 // incremented when the job that kept objects has ended
    this.deferred = []
    this.keepQueued = false
    this.registries = new Map() // core registry id -> V8 WeakRef(registry)
    this.deliverTo = null // set by finalization.js: (state, registry, cell, held) => void
    this.tables = new Map() // ephemeron table id -> V8 WeakRef(WeakMap or WeakSet)
    this.purgeTo = null // set by weakmap.js: (state, map, keyId) => void
    // Queued registrations and unregistrations (see registrations.js).
    this.pending = [] // Registration records, in order
    this.unregistered = [] // [registry, cell] pairs
    // cell id -> entry / held value / token list (see registrations.js)
    this.cellEntry = []
    this.cellHeld = []
    this.cellTokens = []
    this.pendingQueued = false // a microtask will flush them
    this.queuedIndex = null // token -> queued registrations
    this.indexedUpTo = 0 // how much of `pending` queuedIndex covers
    this.spare = null // a cancelled record register() may reuse
    this.flushRegistrations = null // set by finalization.js: (state) => void
    this.waiting = [] // { cycle, resolve }
    this.pumping = false
    this.pumpAgain = false
    this.keepAlive = null
    this.sentinels = []
    states.set(index, new V8WeakRef(this))
  }

  /** The wrapper cache's entry for `id`, or undefined. */
  entry(id) {
    const ref = this.cache.get(slotOf(id))
    return ref !== undefined && ref.id === id ? ref : undefined
  }

  /** A canonical handle for `id` whose root this call created or reused. */
  wrap(id) {
    const ref = this.entry(id)
    if (ref !== undefined) {
      const h = ref.deref()
      if (h !== undefined) return h
    }
    if (!native.root(this.index, id)) return undefined
    return this.adopt(id)
  }

  /** Wraps `id`, taking over one root the caller owns. */
  adopt(id) {
    const ref = this.entry(id)
    if (ref !== undefined) {
      // Either the canonical handle lives, or it died and its report is
      // pending: then its root passes to the new handle. Either way the
      // caller's root goes.
      native.unroot(this.index, id)
      const h = ref.deref()
      if (h !== undefined) return h
    }
    const h = new Handle(CONSTRUCT, this, id)
    const entry = new WrapperRef(h, id)
    setCell(h, entry)
    const slot = slotOf(id)
    this.cache.set(slot, entry)
    // Held strongly until registered, so V8 cannot collect it unreported.
    this.fresh.push(h)
    if (!this.freshQueued) {
      this.freshQueued = true
      queueMicrotask(() => this.#registerFresh())
    }
    return h
  }

  /** Registers this job's unreleased handles for death reports. */
  #registerFresh() {
    this.freshQueued = false
    const fresh = this.fresh
    this.fresh = []
    for (let i = 0; i < fresh.length; i++) {
      const h = fresh[i]
      const ref = cellOf(h)
      // Released meanwhile: its entry's id is 0 and it owns no root.
      if (ref.id !== 0) this.deaths.register(h, slotOf(ref.id), h)
    }
  }

  /** Queues a registration (finalization.js); sent at the end of the job. */
  queue(registration) {
    this.queueFlush()
    this.pending.push(registration)
  }

  /** Makes sure the queues are flushed when the job ends. */
  queueFlush() {
    if (!this.pendingQueued) {
      this.pendingQueued = true
      queueMicrotask(() => this.flushPending())
    }
  }

  /** Forgets cancelled registrations at the end of the queue. */
  dropCancelled() {
    const pending = this.pending
    while (pending.length !== 0 && pending[pending.length - 1].cancelled) {
      const r = pending.pop()
      r.held = undefined // a spare record holds nothing
      r.token = undefined
      this.spare = r
    }
    if (this.indexedUpTo > pending.length) this.indexedUpTo = pending.length
  }

  /**
   * Sends the queued registrations to the store. Called before every root
   * drop: a queued registration's target must not die before it exists.
   */
  flushPending() {
    this.pendingQueued = false
    if (this.pending.length !== 0 || this.unregistered.length !== 0) this.flushRegistrations(this)
  }

  release(h, id) {
    this.flushPending()
    markReleased(h)
    // The handle's own cache entry (no V8 deref: that would add the handle
    // to V8's kept-objects set, one hash insertion per release).
    const ref = cellOf(h)
    let kept = false
    if (ref !== undefined && ref.id === id && this.cache.get(slotOf(id)) === ref) {
      kept = ref.kept === this.job
      ref.id = 0 // a death report already queued is ignored
      this.cache.delete(slotOf(id))
      // No weak cell left behind (a handle released in the job that made
      // it was never registered: then this is a quick miss).
      this.deaths.unregister(h)
    }
    if (this.keepQueued && kept) this.deferred.push(id)
    else native.unroot(this.index, id)
  }

  /**
   * AddToKeptObjects: the object of the handle whose cache entry is `cell`
   * stays alive until the current job ends.
   */
  keep(cell) {
    cell.kept = this.job
    if (!this.keepQueued) {
      this.keepQueued = true
      setImmediate(() => this.#clearKept())
    }
  }

  #clearKept() {
    this.keepQueued = false
    this.job++
    if (this.deferred.length > 0) {
      this.flushPending()
      const ids = Float64Array.from(this.deferred)
      this.deferred.length = 0
      native.unrootMany(this.index, ids)
    }
  }

  #onWrapperDeath(slot) {
    if (slot === SENTINEL) {
      const waiting = this.sentinels
      this.sentinels = []
      // The cleanup task may still hold other dead wrappers of this GC;
      // let it finish before reporting.
      setImmediate(() => waiting.forEach((resolve) => resolve()))
      return
    }
    this.dead.push(slot)
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(() => this.flushDeaths())
    }
  }

  /** Drops the roots of the cache entries whose handles V8 reported dead. */
  flushDeaths() {
    this.flushQueued = false
    this.flushPending()
    if (this.dead.length === 0) return
    const ids = new Float64Array(this.dead.length)
    let n = 0
    for (let i = 0; i < this.dead.length; i++) {
      const slot = this.dead[i]
      const ref = this.cache.get(slot)
      // No entry: released (or reported) already. A live handle: a newer
      // wrapper, with its own root (the report was a released one's).
      if (ref === undefined || ref.deref() !== undefined) continue
      ids[n++] = ref.id
      this.cache.delete(slot)
    }
    this.dead.length = 0
    if (n !== 0) native.unrootMany(this.index, ids.subarray(0, n))
  }

  /** Runs V8's full GC and waits until its wrapper deaths are reported. */
  collectWrappers(gc) {
    return new Promise((resolve) => {
      this.sentinels.push(resolve)
      this.#plantSentinel()
      gc()
    })
  }

  #plantSentinel() {
    this.deaths.register({}, SENTINEL)
  }

  /** Called (through the threadsafe function) when a cycle finished. */
  pump() {
    // A callback may (indirectly) pump again; run one pump at a time.
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        this.#deliver()
        this.#purgeDeadEntries()
        this.#resolveWaiting()
      } while (this.pumpAgain)
    } finally {
      this.pumping = false
    }
  }

  #deliver() {
    // The batch's cells stay registered until finishDelivery: a callback
    // that unregisters a token cancels the ones not yet delivered, and a
    // callback that registers cannot reuse their ids.
    // Queued unregistrations first: a batch must not hand out (and then
    // free) a cell whose removal is still queued.
    this.flushPending()
    const fired = native.beginDelivery(this.index)
    if (fired.length === 0) return
    try {
      // Registry and cell ids are u32: `>>> 0` makes them small integers
      // (a Float64Array element is a heap number, which V8's Map compares
      // through a slow runtime call). One registry's cells come in runs.
      let lastId = -1
      let registry
      for (let i = 0; i < fired.length; i += 3) {
        const id = fired[i] >>> 0
        if (id !== lastId) {
          lastId = id
          const ref = this.registries.get(id)
          registry = ref && ref.deref()
        }
        // A collected registry's callbacks are dropped; finishDelivery
        // drops the roots of its held handles.
        if (registry !== undefined) this.deliverTo(this, registry, fired[i + 1] >>> 0, fired[i + 2])
      }
    } finally {
      // Before finishDelivery frees the batch's ids and drops its held
      // roots: the callbacks' unregistrations, then their registrations.
      this.flushPending()
      native.finishDelivery(this.index, fired)
    }
  }

  #purgeDeadEntries() {
    if (this.tables.size === 0) return
    const dead = native.takeDeadEntries(this.index)
    for (let i = 0; i < dead.length; i += 2) {
      const ref = this.tables.get(dead[i] >>> 0)
      const map = ref && ref.deref()
      if (map !== undefined) this.purgeTo(this, map, dead[i + 1])
    }
  }

  #resolveWaiting() {
    if (this.waiting.length === 0) return
    const completed = native.completed(this.index)
    const ready = this.waiting.filter((w) => w.cycle <= completed)
    if (ready.length === 0) return
    this.waiting = this.waiting.filter((w) => w.cycle > completed)
    if (this.waiting.length === 0) this.#unrefLoop()
    const figures = native.lastCycle(this.index)
    for (const w of ready) w.resolve(figures)
  }

  /** A promise for the figures of cycle `cycle`, once it completed. */
  waitFor(cycle) {
    return new Promise((resolve) => {
      this.waiting.push({ cycle, resolve })
      // The threadsafe function is unref'd so that a process with live
      // objects can exit; while someone awaits a cycle, hold the loop open.
      if (this.keepAlive === null) this.keepAlive = setInterval(noop, 1 << 30)
      // The cycle may have finished before we queued ourselves.
      if (native.completed(this.index) >= cycle) this.pump()
    })
  }

  #unrefLoop() {
    if (this.keepAlive !== null) {
      clearInterval(this.keepAlive)
      this.keepAlive = null
    }
  }
}

/** The threadsafe function's target: one for the whole module. */
function pumpStore(index) {
  const ref = states.get(index)
  const st = ref && ref.deref()
  if (st !== undefined) st.pump()
}

function forgetStore(index) {
  states.delete(index)
}

module.exports = { StoreState, pumpStore, forgetStore }
