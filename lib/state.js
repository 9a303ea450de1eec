'use strict'
// StoreState: everything one Store keeps on the JavaScript side.
//
// - handles: the canonical handle of each object is tracked by the
//   binding (src/wrappers.rs: a Node-API reference with a finalizer, off
//   V8's heap); `wrap` asks it for the live one or roots the object for a
//   new one. A handle that V8 collects has its root dropped by its
//   finalizer; `release()` untracks the handle and drops the root at once;
// - KeepDuringJob: a handle that `deref()` returned or `new WeakRef()`
//   targeted is stamped with the current job number. Releasing it before
//   the job ends defers the root drop to the end of the job, as ES2021
//   keeps deref'd targets alive (a handle that is merely dropped keeps its
//   root until its finalizer runs, which is never within the job);
// - delivery: the collector wakes `pump` through a threadsafe function;
//   pump drops the roots of dead handles, hands fired finalization cells
//   to their registries, tells WeakMaps which keys died (so they drop the
//   JavaScript values they held for them), and resolves `collect()`
//   promises whose cycle has completed.

const native = require('../native.js')
const { V8WeakRef } = require('./builtins')
const { publishCycles } = require('./diagnostics')
const { Registrations } = require('./registrations')
const { deliver } = require('./finalization')
const { purge } = require('./weakmap')
const { Handle, CONSTRUCT, markReleased, setId, keptOf, setKept } = require('./handle')

/** index -> V8 WeakRef(StoreState), for the module-wide pump. */
const states = new Map()

const noop = () => {}

/** The index of a closed store: no store has it (see StoreState.close). */
const CLOSED = 0xffffffff

/** Resolves after the current job and one event-loop turn. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** How many turns collect() waits for Node to finalize dead handles. */
const SENTINEL_TURNS = 1000

class StoreState {
  constructor(index, store) {
    this.index = index
    this.store = store
    this.job = 0 // incremented when the job that kept objects has ended
    this.deferred = []
    this.keepQueued = false
    this.registries = new Map() // core registry id -> V8 WeakRef(registry)
    this.registryDeaths = null // V8 FinalizationRegistry (finalization.js)
    this.tables = new Map() // ephemeron table id -> V8 WeakRef(WeakMap or WeakSet)
    this.tableDeaths = null // V8 FinalizationRegistry (weakmap.js)
    this.registrations = new Registrations(this) // queued, filed and delivered registrations
    this.waiting = [] // { cycle, resolve }
    this.pumping = false
    this.pumpAgain = false
    this.keepAlive = null
    this.closing = null // close()'s promise, once called
    this.collects = new Set() // the promises of collect() calls in flight
    this.publishedCycle = 0 // the last cycle diagnostics.js published or skipped
    states.set(index, new V8WeakRef(this))
  }

  /** True once the native store is gone (see close). */
  get closed() {
    return this.index === CLOSED
  }

  /** Store.prototype.close: `forget` unregisters the store from its V8 finalizer. */
  close(forget) {
    if (this.closing === null) this.closing = this.#close(forget)
    return this.closing
  }

  async #close(forget) {
    await nextTurn() // the job that called close() keeps what it deref'd
    while (this.collects.size !== 0) await Promise.allSettled(this.collects)
    this.pump() // the callbacks already due
    forget()
    forgetStore(this.index)
    this.#unrefLoop()
    const index = this.index
    // Every later native call names no store (and never a later store that
    // reuses the index): it throws ERR_WEAKSTORE_CLOSED.
    this.index = CLOSED
    this.deferred.length = 0
    this.registrations.clear()
    native.closeStore(index)
  }

  /** A new empty object and its canonical handle. */
  alloc() {
    const h = new Handle(CONSTRUCT, this, 0)
    setId(h, native.allocHandle(this.index, h))
    return h
  }

  /**
   * The canonical handle of object `id`: the live one, or a new one that
   * roots the object; undefined if the object was collected.
   */
  wrap(id) {
    if (this.index === CLOSED) return undefined
    const h = native.handleOf(this.index, id)
    if (h !== null) return h
    return native.rootHandle(this.index, id, new Handle(CONSTRUCT, this, id)) ?? undefined
  }

  release(h, id) {
    if (this.index === CLOSED) return markReleased(h)
    this.registrations.flush()
    markReleased(h)
    // Kept until the end of the job (see keep): the root goes then.
    const defer = this.keepQueued && keptOf(h) === this.job
    if (native.releaseHandle(this.index, id, defer) && defer) this.deferred.push(id)
  }

  /**
   * AddToKeptObjects: the object of handle `h` stays alive until the
   * current job ends, even if `h` is released.
   */
  keep(h) {
    setKept(h, this.job)
    if (!this.keepQueued) {
      this.keepQueued = true
      setImmediate(() => this.#clearKept())
    }
  }

  #clearKept() {
    this.keepQueued = false
    this.job++
    if (this.deferred.length > 0) {
      this.registrations.flush()
      const ids = Float64Array.from(this.deferred)
      this.deferred.length = 0
      native.unrootMany(this.index, ids)
    }
  }

  /** Drops the roots of the handles whose finalizers ran. */
  drainDeaths() {
    // Registered before any root drop (the binding also drains on its
    // own, inside other calls: queued records hold their handles for that).
    this.registrations.flush()
    native.drainHandleDeaths()
  }

  /**
   * Runs V8's full GC and waits until Node has run the finalizers of the
   * handles it collected (a sentinel object is finalized in the same batch).
   */
  async collectWrappers(gc) {
    const before = native.plantSentinel()
    gc()
    for (let turn = 0; turn < SENTINEL_TURNS && native.sentinelsSeen() === before; turn++) await nextTurn()
    await nextTurn()
    this.drainDeaths()
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
        this.drainDeaths()
        this.#deliver()
        this.#purgeDeadEntries()
        publishCycles(this)
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
    this.registrations.flush()
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
        // A collected registry's callbacks are dropped (deliver only
        // forgets the cell); finishDelivery drops the roots of its held handles.
        deliver(this, registry, id, fired[i + 1] >>> 0, fired[i + 2])
      }
    } finally {
      // Before finishDelivery frees the batch's ids and drops its held
      // roots: the callbacks' unregistrations, then their registrations.
      this.registrations.flush()
      native.finishDelivery(this.index, fired)
    }
  }

  #purgeDeadEntries() {
    if (this.tables.size === 0) return
    const dead = native.takeDeadEntries(this.index)
    for (let i = 0; i < dead.length; i += 2) {
      const ref = this.tables.get(dead[i] >>> 0)
      const map = ref && ref.deref()
      if (map !== undefined) purge(this, map, dead[i + 1])
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

module.exports = { StoreState, pumpStore, forgetStore, nextTurn, CLOSED }
