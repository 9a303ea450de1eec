'use strict'
// Delivery: the path from a finished cycle to the cleanup callbacks, read
// top to bottom.
//
// 1. The collector finishes a cycle (crates/weakstore-core, collector/
//    scheduler.rs) and calls its host, the binding's NodeHost::wake_cleanup
//    (src/delivery.rs): the store's wake latch is armed, and the store's
//    threadsafe function is called with the store's index (non-blocking;
//    at most one wake-up is outstanding).
// 2. On the store's JavaScript thread, Node calls `pumpStore(index)` below,
//    which finds the store's Delivery and runs `pump()`:
//    a. drains the deaths of handles V8 collected (their roots go);
//    b. delivers: flushes queued registrations, takes the batch of fired
//       cells with `beginDelivery` (which clears the latch first, so a later
//       cycle wakes the pump again), and for each cell calls
//       finalization.js's `deliver`, which takes the registration's held
//       value out of the store's Registrations and calls the registry's
//       callback; `finishDelivery` then frees the batch's cells and drops
//       the roots of held handles;
//    c. tells WeakMaps which keys died (they drop the JavaScript values
//       they held for them);
//    d. publishes the cycles' diagnostics_channel events (diagnostics.js);
//    e. resolves the collect() promises whose cycle has completed.
//
// # Invariants
// - One pump runs at a time per store: a callback that makes the pump run
//   again (through collect(), say) only marks it to go around once more.
// - Queued unregistrations reach the store before a batch is taken, and a
//   batch's cells stay registered until finishDelivery: a callback that
//   unregisters cancels the batch's undelivered cells, and a callback that
//   registers cannot be given one of their ids.

const native = require('../native.js')
const { V8WeakRef } = require('./builtins')
const { publishCycles } = require('./diagnostics')
const { deliver } = require('./finalization')
const { purge } = require('./weakmap')
const { withCode } = require('./errors')

/** index -> V8 WeakRef(Delivery), for the module-wide threadsafe function. */
const deliveries = new Map()

const noop = () => {}

/** collect()'s error when a cycle failed on every attempt (a collector bug). */
function cycleFailed(figures) {
  const error = withCode(
    new Error(
      `Store.prototype.collect: collection cycle ${figures.cycle} failed (a collector thread panicked twice; ` +
        `${figures.freed} objects were freed before it stopped). The store is intact and the next cycle starts afresh; ` +
        'please report this as a weakstore bug.',
    ),
    'ERR_WEAKSTORE_CYCLE_FAILED',
  )
  error.cycle = figures
  return error
}

/** The threadsafe function's target: one for the whole module (step 2). */
function pumpStore(index) {
  const ref = deliveries.get(index)
  const d = ref && ref.deref()
  if (d !== undefined) d.pump()
}

class Delivery {
  constructor(st) {
    this.st = st
    this.waiting = [] // collect() promises: { cycle, resolve }
    this.pumping = false
    this.pumpAgain = false
    this.keepAlive = null // an interval that holds the loop open while someone waits
    this.publishedCycle = 0 // the last cycle diagnostics.js published or skipped
    deliveries.set(st.index, new V8WeakRef(this))
  }

  /** Stops receiving wake-ups (the store is closing). */
  forget() {
    deliveries.delete(this.st.index)
    this.#unrefLoop()
  }

  /** Step 2: everything a finished cycle left for this thread. */
  pump() {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      do {
        this.pumpAgain = false
        this.st.drainDeaths()
        this.#deliver()
        this.#purgeDeadEntries()
        publishCycles(this)
        this.#resolveWaiting()
      } while (this.pumpAgain)
    } finally {
      this.pumping = false
    }
  }

  /** Step 2b. */
  #deliver() {
    const st = this.st
    // Queued unregistrations first: a batch must not hand out (and then
    // free) a cell whose removal is still queued.
    st.registrations.flush()
    const fired = native.beginDelivery(st.index)
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
          const ref = st.registries.get(id)
          registry = ref && ref.deref()
        }
        // A collected registry's callbacks are dropped (deliver only
        // forgets the cell); finishDelivery drops the roots of its held handles.
        deliver(st, registry, id, fired[i + 1] >>> 0, fired[i + 2])
      }
    } finally {
      // Before finishDelivery frees the batch's ids and drops its held
      // roots: the callbacks' unregistrations, then their registrations.
      st.registrations.flush()
      native.finishDelivery(st.index, fired)
    }
  }

  /** Step 2c. */
  #purgeDeadEntries() {
    const st = this.st
    if (st.tables.size === 0) return
    const dead = native.takeDeadEntries(st.index)
    for (let i = 0; i < dead.length; i += 2) {
      const ref = st.tables.get(dead[i] >>> 0)
      const map = ref && ref.deref()
      if (map !== undefined) purge(st, map, dead[i + 1])
    }
  }

  /** Step 2e. */
  #resolveWaiting() {
    if (this.waiting.length === 0) return
    const index = this.st.index
    const completed = native.completed(index)
    const ready = this.waiting.filter((w) => w.cycle <= completed)
    if (ready.length === 0) return
    this.waiting = this.waiting.filter((w) => w.cycle > completed)
    if (this.waiting.length === 0) this.#unrefLoop()
    const figures = native.lastCycle(index)
    if (figures.failed) {
      // Every attempt at the latest cycle failed: what collect() promises
      // (all that was unreachable is freed) does not hold.
      for (const w of ready) w.reject(cycleFailed(figures))
    } else {
      for (const w of ready) w.resolve(figures)
    }
  }

  /**
   * A promise for the figures of cycle `cycle`, once it completed; it
   * rejects if the latest cycle then failed.
   */
  waitFor(cycle) {
    return new Promise((resolve, reject) => {
      this.waiting.push({ cycle, resolve, reject })
      // The threadsafe function is unref'd so that a process with live
      // objects can exit; while someone awaits a cycle, hold the loop open.
      if (this.keepAlive === null) this.keepAlive = setInterval(noop, 1 << 30)
      // The cycle may have finished before we queued ourselves.
      if (native.completed(this.st.index) >= cycle) this.pump()
    })
  }

  #unrefLoop() {
    if (this.keepAlive !== null) {
      clearInterval(this.keepAlive)
      this.keepAlive = null
    }
  }
}

/** Forgets the Delivery of store `index` (the store was collected). */
function forgetStore(index) {
  deliveries.delete(index)
}

module.exports = { Delivery, pumpStore, forgetStore }
