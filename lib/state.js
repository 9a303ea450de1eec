'use strict'
// StoreState: everything one Store keeps on the JavaScript side.
//
// - handles: the canonical handle of each object is tracked by the
//   binding (src/wrappers/: a Node-API reference with a finalizer, off
//   V8's heap); `wrap` asks it for the live one or roots the object for a
//   new one. A handle that V8 collects has its root dropped by its
//   finalizer; `release()` untracks the handle and drops the root at once;
// - KeepDuringJob: a handle that `deref()` returned or `new WeakRef()`
//   targeted is stamped with the current job number. Releasing it before
//   the job ends defers the root drop to the end of the job, as ES2021
//   keeps deref'd targets alive (a handle that is merely dropped keeps its
//   root until its finalizer runs, which is never within the job). The
//   binding keeps the deferred roots (src/attachments.rs: a thread that
//   ends must drop them without running JavaScript);
// - registrations (registrations.js) and delivery (delivery.js): each its
//   own object, owned here.

const native = require('../native.js')
const { Registrations } = require('./registrations')
const { Delivery } = require('./delivery')
const { Handle, CONSTRUCT, idOf, markReleased, setId, keptOf, setKept, scopeOf } = require('./handle')

/** The index of a closed store: no store has it (see StoreState.close). */
const CLOSED = 0xffffffff

/** Resolves after the current job and one event-loop turn. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** How many scoped releases are queued before their roots are dropped in one call. */
const RELEASE_BATCH = 256

/** How many turns collect() waits for Node to finalize dead handles. */
const SENTINEL_TURNS = 1000

class StoreState {
  constructor(index, store) {
    this.index = index
    this.store = store
    this.key = native.storeKey(index) // names the store in handle ids and share() values
    this.job = 0 // incremented when the job that kept objects has ended
    this.deferred = false // whether the binding holds roots to drop at the end of the job
    this.keepQueued = false
    this.registries = new Map() // core registry id -> V8 WeakRef(registry)
    this.registryDeaths = null // V8 FinalizationRegistry (finalization.js)
    this.tables = new Map() // ephemeron table id -> V8 WeakRef(WeakMap or WeakSet)
    this.tableDeaths = null // V8 FinalizationRegistry (weakmap.js)
    this.registrations = new Registrations(this) // queued, filed and delivered registrations
    this.closing = null // close()'s promise, once called
    this.collects = new Set() // the promises of collect() calls in flight
    this.delivery = new Delivery(this) // the cycle -> callbacks path
    // Field name -> the store's key id for it, learned from writes by name
    // (setValue / setRef return it). Only names a shape holds get an id,
    // and a store makes at most 8,192 shapes, so this stays small; names
    // without one (dictionary-mode objects' own) go by string.
    this.keyIds = new Map()
    // Scoped handles' releases not yet dropped from the store: (scope
    // number, place) pairs, dropped in one call per RELEASE_BATCH, and
    // before anything that shows or counts roots (flushReleases).
    this.releases = null
    this.releaseCount = 0
  }

  /** Queues the release of the root at `place` of scope `number` (lib/scope.js). */
  releaseScoped(number, place) {
    if (this.releases === null) this.releases = new Uint32Array(2 * RELEASE_BATCH)
    const n = this.releaseCount
    this.releases[n] = number
    this.releases[n + 1] = place
    this.releaseCount = n + 2
    if (this.releaseCount === this.releases.length) this.flushReleases()
  }

  /** Drops the roots of the queued scoped releases. */
  flushReleases() {
    const n = this.releaseCount
    if (n === 0) return
    this.releaseCount = 0
    if (this.closed) return
    this.registrations.flush() // a queued registration's target is kept by its handle's root
    native.releaseScoped(this.index, this.releases, n)
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
    this.delivery.pump() // the callbacks already due
    forget()
    this.delivery.forget()
    const index = this.index
    // Every later native call names no store (and never a later store that
    // reuses the index): it throws ERR_WEAKSTORE_CLOSED.
    this.index = CLOSED
    this.deferred = false
    this.registrations.clear()
    // The last thread's close ends the collector thread and frees the
    // store on the libuv pool (a promise); any other's is done (null).
    await native.closeStore(index)
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
    if (this.closed) return undefined
    const h = native.handleOf(this.index, id)
    if (h !== null) return h
    return native.rootHandle(this.index, id, new Handle(CONSTRUCT, this, id)) ?? undefined
  }

  /** The canonical handle of object `id`, whose root the caller owns (a shared store's read). */
  adopt(id) {
    return native.adoptHandle(this.index, id, new Handle(CONSTRUCT, this, id))
  }

  release(h, id) {
    if (this.closed) return markReleased(h)
    this.registrations.flush()
    markReleased(h)
    // Kept until the end of the job (see keep): the root goes then.
    const defer = this.keepQueued && keptOf(h) === this.job
    if (native.releaseHandle(this.index, id, defer) && defer) this.deferred = true
  }

  /**
   * AddToKeptObjects: the object of handle `h` stays alive until the
   * current job ends, even if `h` is released.
   */
  keep(h) {
    // A scoped handle's root goes when its scope closes, which may be
    // within the job: the job takes a root of its own, once.
    if (scopeOf(h) !== null && keptOf(h) !== this.job && native.keepForJob(this.index, idOf(h))) this.deferred = true
    setKept(h, this.job)
    if (!this.keepQueued) {
      this.keepQueued = true
      setImmediate(() => this.#clearKept())
    }
  }

  #clearKept() {
    this.keepQueued = false
    this.job++
    if (this.deferred && !this.closed) {
      this.registrations.flush()
      this.deferred = false
      native.dropDeferred(this.index)
    }
  }

  /** Drops the roots of the handles whose finalizers ran, and of scoped handles released. */
  drainDeaths() {
    // Registered before any root drop (the binding also drains on its
    // own, inside other calls: queued records hold their handles for that).
    this.registrations.flush()
    this.flushReleases()
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
}

module.exports = { StoreState, nextTurn, CLOSED }
