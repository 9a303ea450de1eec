'use strict'
// FinalizationRegistry for handles: the surface of the built-in, with
// targets that are store objects.
//
// The native store keeps the cells (target weakly, a handle held value
// strongly through a root). The JavaScript side keeps what only JavaScript
// can hold: the callback, held values that are not handles of the target's
// store, and unregister tokens. Registrations and unregistrations are
// queued and reach the store in batches: see registrations.js.

const native = require('../native.js')
const { V8WeakRef, V8WeakMap, V8FinalizationRegistry } = require('./builtins')
const { publishCallbackError } = require('./diagnostics')
const { isObject, typeError, invalidThis, invalidValue, released, closed } = require('./errors')
const { fallbackPrototype } = require('./construct')
const { idOf, stateOf } = require('./handle')
const { NO_HELD, GONE, newEntry, tokenKeyOf } = require('./registrations')

function canBeHeldWeakly(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function' ||
    (typeof v === 'symbol' && Symbol.keyFor(v) === undefined)
}

// A registry that V8 collects drops its cells in every store it used that
// is still alive. Each store watches the registries that used it with a V8
// FinalizationRegistry of its own (st.registryDeaths), which goes with the
// store: nothing a long-lived registry keeps holds a store alive (see
// #perStore), and a dead store leaves nothing behind to clean.
function dropEntry(entry) {
  const st = entry.st
  st.registrations.flush() // queued unregistrations name this registry's cells
  st.registrations.forgetEntry(entry)
  st.registries.delete(entry.registry)
  if (!st.closed) native.dropRegistry(st.index, entry.registry)
}

/** Unregisters `entry`'s registrations made with `unregisterToken`; whether there were any. */
function unregisterIn(entry, unregisterToken) {
  const st = entry.st
  if (st.closed) return false // its registrations went with the store
  const token = tokenKeyOf(st, unregisterToken)
  let removed = false
  if (entry.queuedTokens !== 0 && st.registrations.cancelQueued(entry, token)) removed = true
  if (entry.cells.length !== 0 && st.registrations.unregisterCells(entry, token)) removed = true
  return removed
}

/** How long #entries may grow (in weak references) before dead ones are pruned. */
const PRUNE_AT = 8

// The registries whose job-scoped cache (#hot) is set, as their clearing
// functions; one microtask at the end of the job clears them all (a
// microtask per registry would be one more closure that holds it).
const hot = []
let coolQueued = false

function coolAll() {
  coolQueued = false
  for (let i = 0; i < hot.length; i++) hot[i]()
  hot.length = 0
}

let deliver

class FinalizationRegistry {
  #callback
  // StoreState -> entry (see #entry). Held weakly, as everything else the
  // registry keeps per store: the registry must not keep a store alive.
  #perStore = new V8WeakMap()
  // V8 WeakRefs to the same entries, for unregister's loop; the dead ones
  // (their store was collected) are pruned when the list has doubled.
  #entries = []
  #pruneAt = PRUNE_AT
  // The entry register() used last, held strongly only until the end of the
  // job (coolAll clears it): register() skips the WeakMap lookup, and
  // unregister() in the same job the WeakRef when there is one store.
  #hot = null
  #cool = () => {
    this.#hot = null
  }

  constructor(cleanupCallback) {
    if (new.target !== FinalizationRegistry) fallbackPrototype(this, new.target, FinalizationRegistry.prototype)
    if (typeof cleanupCallback !== 'function') {
      throw typeError('FinalizationRegistry', 'a cleanup callback function', cleanupCallback)
    }
    this.#callback = cleanupCallback
  }

  static {
    deliver = (st, self, registryId, cell, heldId) => {
      if (self === undefined) {
        // A collected registry whose entry is not dropped yet: its record
        // of the cell goes now, as finishDelivery frees the cell's id (a
        // new registration may get it before dropEntry runs).
        const entry = st.registrations.cellEntry[cell]
        if (entry !== undefined && entry.registry === registryId) st.registrations.takeForDelivery(entry, cell)
        return
      }
      const entry = self.#perStore.get(st)
      // Unregistered by an earlier callback of the same batch: cancelled.
      let held = entry === undefined ? GONE : st.registrations.takeForDelivery(entry, cell)
      if (held === GONE) return
      // A held handle: the cell's root holds its object until the batch
      // ends; the handle takes its own.
      if (heldId !== 0) held = st.wrap(heldId)
      try {
        const callback = self.#callback
        callback(held) // a plain call: `this` is undefined, as in the built-in
      } catch (err) {
        publishCallbackError(err, held, self)
        // Report like an uncaught exception, after the other callbacks.
        process.nextTick(() => { throw err })
      }
    }
  }

  #entry(st) {
    const last = this.#hot
    if (last !== null && last.st === st) return last
    const entry = this.#perStore.get(st) ?? this.#newEntry(st)
    if (last === null) {
      hot.push(this.#cool)
      if (!coolQueued) {
        coolQueued = true
        queueMicrotask(coolAll)
      }
    }
    this.#hot = entry
    return entry
  }

  #newEntry(st) {
    const registry = native.newRegistry(st.index)
    const entry = newEntry(st, registry)
    this.#perStore.set(st, entry)
    if (this.#entries.length >= this.#pruneAt) {
      this.#entries = this.#entries.filter((ref) => ref.deref() !== undefined)
      this.#pruneAt = Math.max(PRUNE_AT, 2 * this.#entries.length)
    }
    this.#entries.push(new V8WeakRef(entry))
    st.registries.set(registry, new V8WeakRef(this))
    if (st.registryDeaths === null) st.registryDeaths = new V8FinalizationRegistry(dropEntry)
    // st.registryDeaths holds the entry strongly: it must not reach this
    // registry (it names it by its core id only).
    st.registryDeaths.register(this, entry)
    return entry
  }

  /** Calls the callback with `heldValue` once `target` is collected. */
  register(target, heldValue, unregisterToken = undefined) {
    if (!isObject(this) || !(#callback in this)) {
      throw invalidThis('FinalizationRegistry.prototype.register', 'a weakstore FinalizationRegistry', this)
    }
    const id = idOf(target)
    if (id === undefined) throw typeError('FinalizationRegistry.prototype.register', 'a weakstore Handle as target', target)
    if (id === 0) throw released('FinalizationRegistry.prototype.register (target)')
    if (target === heldValue) {
      throw invalidValue('FinalizationRegistry.prototype.register: target and held value must not be the same')
    }
    if (unregisterToken !== undefined && !canBeHeldWeakly(unregisterToken)) {
      throw typeError('FinalizationRegistry.prototype.register',
        'an object or non-registered symbol as unregister token (or undefined)', unregisterToken)
    }
    const st = stateOf(target)
    if (st.closing !== null) throw closed('FinalizationRegistry.prototype.register (target)')
    const heldHandle = idOf(heldValue)
    let heldId = NO_HELD
    if (heldHandle !== undefined && stateOf(heldValue) === st) {
      if (heldHandle === 0) throw released('FinalizationRegistry.prototype.register (held value)')
      heldId = heldHandle
    }
    const entry = this.#entry(st)
    // A held handle is kept by its id (the cell roots its object), not as
    // a JavaScript reference that would keep its wrapper alive (the queued
    // record holds it only until the end of the job).
    st.registrations.register(entry, target, id, heldId, heldValue,
      unregisterToken === undefined ? undefined : tokenKeyOf(st, unregisterToken))
    return undefined
  }

  /** Removes every registration made with `unregisterToken`. */
  unregister(unregisterToken) {
    if (!isObject(this) || !(#callback in this)) {
      throw invalidThis('FinalizationRegistry.prototype.unregister', 'a weakstore FinalizationRegistry', this)
    }
    if (!canBeHeldWeakly(unregisterToken)) {
      throw typeError('FinalizationRegistry.prototype.unregister',
        'an object or non-registered symbol as unregister token', unregisterToken)
    }
    const entries = this.#entries
    const hot = this.#hot
    if (hot !== null && entries.length === 1) return unregisterIn(hot, unregisterToken)
    let removed = false
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e].deref()
      // undefined: its store was collected
      if (entry !== undefined && unregisterIn(entry, unregisterToken)) removed = true
    }
    return removed
  }
}

Object.defineProperty(FinalizationRegistry.prototype, Symbol.toStringTag, {
  value: 'FinalizationRegistry', writable: false, enumerable: false, configurable: true,
})

module.exports = { FinalizationRegistry, deliver }
