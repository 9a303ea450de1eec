'use strict'
// FinalizationRegistry for handles: the surface of the built-in, with
// targets that are store objects.
//
// The native store keeps the cells (target weakly, a handle held value
// strongly through a root, the token as an opaque number). The JavaScript
// side keeps what only JavaScript can hold: the callback, and held values
// that are not handles of the target's store. Object and symbol tokens are
// numbered through a module-wide WeakMap, so a token that dies can no
// longer be named, and its registrations stay, as in the built-in.

const native = require('../native.js')
const { V8WeakRef, V8FinalizationRegistry, V8WeakMap } = require('./builtins')
const { typeError, released } = require('./errors')
const { idOf, keyOf, stateOf } = require('./handle')

const tokenKeys = new V8WeakMap()
let nextTokenKey = 0
const NO_TOKEN = -1
const NO_HELD = -1
/** Stands in the held-value map for a held handle (its object id travels with the cell). */
const HELD_HANDLE = Symbol('weakstore.heldHandle')

function canBeHeldWeakly(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function' ||
    (typeof v === 'symbol' && Symbol.keyFor(v) === undefined)
}

/** The number that names `token` in `st`, or undefined if it has none. */
function tokenKey(st, token, create) {
  // A handle of this store, live or released, is keyed by its object id
  // (ids are >= 2^32, above every counter key).
  const id = keyOf(token)
  if (id !== undefined && stateOf(token) === st) return id
  let key = tokenKeys.get(token)
  if (key === undefined && create) {
    key = ++nextTokenKey // below 2^32 for the first four billion tokens
    tokenKeys.set(token, key)
  }
  return key
}

// A registry that V8 collects drops its cells in every store it used.
const registries = new V8FinalizationRegistry(({ st, registry }) => {
  st.registries.delete(registry)
  native.dropRegistry(st.index, registry)
})

let deliver

class FinalizationRegistry {
  #callback
  #perStore = new Map() // StoreState -> { registry, held: Map<cell, value> }

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
      if (entry === undefined || !entry.held.has(cell)) return
      let held = entry.held.get(cell)
      entry.held.delete(cell)
      // The cell's root holds the object until the batch ends; the handle
      // takes its own.
      if (held === HELD_HANDLE) held = st.wrap(heldId)
      try {
        Reflect.apply(self.#callback, undefined, [held])
      } catch (err) {
        // Report like an uncaught exception, after the other callbacks.
        process.nextTick(() => { throw err })
      }
    }
  }

  #entry(st) {
    let entry = this.#perStore.get(st)
    if (entry === undefined) {
      const registry = native.newRegistry(st.index)
      entry = { registry, held: new Map() }
      this.#perStore.set(st, entry)
      st.registries.set(registry, new V8WeakRef(this))
      st.deliverTo = deliver
      registries.register(this, { st, registry })
    }
    return entry
  }

  /** Calls the callback with `heldValue` once `target` is collected. */
  register(target, heldValue, unregisterToken = undefined) {
    if (!(#callback in this)) {
      throw typeError('FinalizationRegistry.prototype.register', 'a weakstore FinalizationRegistry as this', this)
    }
    const id = idOf(target)
    if (id === undefined) throw typeError('FinalizationRegistry.prototype.register', 'a weakstore Handle as target', target)
    if (id === 0) throw released('FinalizationRegistry.prototype.register (target)')
    if (target === heldValue) {
      throw new TypeError('FinalizationRegistry.prototype.register: target and held value must not be the same')
    }
    if (unregisterToken !== undefined && !canBeHeldWeakly(unregisterToken)) {
      throw typeError('FinalizationRegistry.prototype.register',
        'an object or non-registered symbol as unregister token (or undefined)', unregisterToken)
    }
    const st = stateOf(target)
    const heldHandle = idOf(heldValue)
    let heldId = NO_HELD
    if (heldHandle !== undefined && stateOf(heldValue) === st) {
      if (heldHandle === 0) throw released('FinalizationRegistry.prototype.register (held value)')
      heldId = heldHandle
    }
    const entry = this.#entry(st)
    const token = unregisterToken === undefined ? NO_TOKEN : tokenKey(st, unregisterToken, true)
    const cell = native.register(st.index, entry.registry, id, heldId, token)
    entry.held.set(cell, heldId === NO_HELD ? heldValue : HELD_HANDLE)
    return undefined
  }

  /** Removes every registration made with `unregisterToken`. */
  unregister(unregisterToken) {
    if (!(#callback in this)) {
      throw typeError('FinalizationRegistry.prototype.unregister', 'a weakstore FinalizationRegistry as this', this)
    }
    if (!canBeHeldWeakly(unregisterToken)) {
      throw typeError('FinalizationRegistry.prototype.unregister',
        'an object or non-registered symbol as unregister token', unregisterToken)
    }
    let removed = false
    for (const [st, entry] of this.#perStore) {
      const key = tokenKey(st, unregisterToken, false)
      if (key === undefined) continue
      const cells = native.unregister(st.index, entry.registry, key)
      for (let i = 0; i < cells.length; i++) entry.held.delete(cells[i])
      if (cells.length > 0) removed = true
    }
    return removed
  }
}

Object.defineProperty(FinalizationRegistry.prototype, Symbol.toStringTag, {
  value: 'FinalizationRegistry', writable: false, enumerable: false, configurable: true,
})

module.exports = { FinalizationRegistry }
