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
const { V8WeakRef, V8FinalizationRegistry } = require('./builtins')
const { publishCallbackError } = require('./diagnostics')
const { isObject, typeError, invalidThis, invalidValue, released, closed } = require('./errors')
const { idOf, stateOf } = require('./handle')
const {
  NO_HELD, GONE, newEntry, forgetEntry, tokenKeyOf, queueRegistration, cancelQueued, unregisterCells,
  takeForDelivery, flushRegistrations,
} = require('./registrations')

function canBeHeldWeakly(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function' ||
    (typeof v === 'symbol' && Symbol.keyFor(v) === undefined)
}

// A registry that V8 collects drops its cells in every store it used.
const registries = new V8FinalizationRegistry(({ st, registry, entry }) => {
  st.flushPending() // queued unregistrations name this registry's cells
  forgetEntry(st, entry)
  st.registries.delete(registry)
  if (!st.closed) native.dropRegistry(st.index, registry)
})

let deliver

class FinalizationRegistry {
  #callback
  #perStore = new Map() // StoreState -> entry (see #entry)
  #entries = [] // the same entries, for unregister's loop
  #last = null // the entry #entry returned last

  constructor(cleanupCallback) {
    if (typeof cleanupCallback !== 'function') {
      throw typeError('FinalizationRegistry', 'a cleanup callback function', cleanupCallback)
    }
    this.#callback = cleanupCallback
  }

  static {
    deliver = (st, self, cell, heldId) => {
      const entry = self.#perStore.get(st)
      // Unregistered by an earlier callback of the same batch: cancelled.
      let held = entry === undefined ? GONE : takeForDelivery(st, entry, cell)
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
    let entry = this.#last
    if (entry !== null && entry.st === st) return entry
    entry = this.#perStore.get(st)
    if (entry !== undefined) {
      this.#last = entry
      return entry
    }
    const registry = native.newRegistry(st.index)
    entry = newEntry(st, registry)
    this.#perStore.set(st, entry)
    this.#entries.push(entry)
    this.#last = entry
    st.registries.set(registry, new V8WeakRef(this))
    st.deliverTo = deliver
    st.flushRegistrations = flushRegistrations
    registries.register(this, { st, registry, entry })
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
    if (st.closed) throw closed('FinalizationRegistry.prototype.register (target)')
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
    queueRegistration(st, entry, target, id, heldId, heldValue,
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
    let removed = false
    const entries = this.#entries
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]
      const st = entry.st
      if (st.closed) continue // its registrations went with the store
      const token = tokenKeyOf(st, unregisterToken)
      if (entry.queuedTokens !== 0 && cancelQueued(st, entry, token)) removed = true
      if (entry.count !== 0 && unregisterCells(st, entry, token)) removed = true
    }
    return removed
  }
}

Object.defineProperty(FinalizationRegistry.prototype, Symbol.toStringTag, {
  value: 'FinalizationRegistry', writable: false, enumerable: false, configurable: true,
})

module.exports = { FinalizationRegistry }
