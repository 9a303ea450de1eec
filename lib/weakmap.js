'use strict'
// WeakMap and WeakSet for handles, with ephemeron semantics: an entry keeps
// its value alive only while its key's object is alive, and a value that
// refers back to its key does not keep the key alive.
//
// Keys are identified by store object, not by wrapper: an entry survives
// its key's handle being collected (or released) and is found again through
// any later handle of the same object.
//
// Where values live:
// - primitives (null, booleans, numbers, strings, bigints) and handles of
//   the key's store are kept in the store, off the V8 heap, and traced by
//   weakstore's collector when the key is live;
// - every other JavaScript value (objects, functions, Buffers, undefined,
//   handles of other stores) is kept by this map in a JavaScript Map keyed
//   by object id, and dropped when the store reports the key collected.
//   Such a value is strong from V8's point of view: if it (directly or
//   through a closure) holds a handle of its own key, that handle is a root
//   and the key never dies. Store handles, not wrappers-in-closures, as
//   values to avoid that cycle through the V8 heap.

const { inspect } = require('node:util')
const native = require('../native.js')
const { V8WeakRef, V8WeakMap, V8FinalizationRegistry } = require('./builtins')
const { isObject, typeError, invalidThis, withCode, released, closed } = require('./errors')
const { fallbackPrototype } = require('./construct')
const { idOf, keyOf, stateOf } = require('./handle')

// A map or set that V8 collects drops its table in every store it used
// that is still alive. Each store watches the maps and sets that used it
// with a V8 FinalizationRegistry of its own (st.tableDeaths), which goes
// with the store: a long-lived map keeps no store alive (its per-store
// records are in a V8 WeakMap keyed by the store's state).
function dropTable({ st, table }) {
  st.tables.delete(table)
  if (!st.closed) native.dropTable(st.index, table)
}

// Strings with lone surrogates cannot round-trip through the store's UTF-8;
// JavaScript keeps those.
const isNativePrimitive = (v) =>
  v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' ||
  (typeof v === 'string' && v.isWellFormed())

/** The live key id of a handle for set/add, or a TypeError. */
function liveKey(where, key) {
  const id = idOf(key)
  if (id === undefined) throw typeError(where, 'a weakstore Handle as key', key)
  if (id === 0) throw released(`${where} (key)`)
  if (stateOf(key).closing !== null) throw closed(`${where} (key)`)
  return id
}

/** Creates the per-store table record of `self` on first use. */
function tableFor(self, perStore, st) {
  let entry = perStore.get(st)
  if (entry === undefined) {
    const table = native.newTable(st.index)
    entry = { table, js: new Map() }
    perStore.set(st, entry)
    st.tables.set(table, new V8WeakRef(self))
    if (st.tableDeaths === null) st.tableDeaths = new V8FinalizationRegistry(dropTable)
    st.tableDeaths.register(self, { st, table })
  }
  return entry
}

/** Whether `key`'s object has an entry in the table record `perStore` keeps for its store. */
function hasKey(perStore, key) {
  const id = keyOf(key)
  if (id === undefined) return false
  const st = stateOf(key)
  const entry = perStore.get(st)
  return entry !== undefined && st.closing === null && native.ephHas(st.index, entry.table, id)
}

/** Removes `key`'s object's entry; whether there was one. */
function deleteKey(perStore, key) {
  const id = keyOf(key)
  if (id === undefined) return false
  const st = stateOf(key)
  const entry = perStore.get(st)
  if (entry === undefined || st.closing !== null) return false
  entry.js.delete(id)
  return native.ephDelete(st.index, entry.table, id)
}

/** Iterates `iterable`, calling `adder` on `self` per item; for-of closes the iterator on error. */
function addAll(self, iterable, adderName, pairs) {
  const adder = self[adderName]
  if (typeof adder !== 'function') throw withCode(new TypeError(`'${String(adder)}' returned for property '${adderName}' of object is not a function`), 'ERR_INVALID_ARG_TYPE')
  for (const item of iterable) {
    if (pairs) {
      if (item === null || (typeof item !== 'object' && typeof item !== 'function')) {
        throw withCode(new TypeError(`Iterator value ${typeof item === 'symbol' ? 'a symbol' : String(item)} is not an entry object`), 'ERR_INVALID_ARG_TYPE')
      }
      Reflect.apply(adder, self, [item[0], item[1]])
    } else {
      Reflect.apply(adder, self, [item])
    }
  }
}

let purge
let checkMap
let checkSet

class WeakMap {
  #perStore = new V8WeakMap() // StoreState -> { table, js: Map<keyId, value> }

  constructor(iterable = undefined) {
    if (new.target !== WeakMap) fallbackPrototype(this, new.target, WeakMap.prototype)
    if (iterable !== undefined && iterable !== null) addAll(this, iterable, 'set', true)
  }

  static {
    // A method's receiver (a private method would throw V8's own error on a
    // foreign receiver before we could check it).
    checkMap = (self, where) => {
      if (!isObject(self) || !(#perStore in self)) {
        throw invalidThis(`WeakMap.prototype.${where}`, 'a weakstore WeakMap', self)
      }
    }
    purge = (st, self, keyId) => {
      if (!(#perStore in self)) return // a WeakSet: it holds no JavaScript values
      const entry = self.#perStore.get(st)
      if (entry !== undefined) entry.js.delete(keyId)
    }
  }


  /** The value for `key`, or undefined. */
  get(key) {
    checkMap(this, 'get')
    const id = keyOf(key)
    if (id === undefined) return undefined
    const st = stateOf(key)
    const entry = this.#perStore.get(st)
    if (entry === undefined || st.closing !== null) return undefined
    const v = native.ephGet(st.index, entry.table, id)
    if (!Array.isArray(v)) return v
    return v.length === 0 ? entry.js.get(id) : st.wrap(v[0])
  }

  /** Maps `key` to `value`; returns this map. */
  set(key, value) {
    checkMap(this, 'set')
    const id = liveKey('WeakMap.prototype.set', key)
    const st = stateOf(key)
    const entry = tableFor(this, this.#perStore, st)
    const ref = idOf(value)
    if (ref !== undefined && ref !== 0 && stateOf(value) === st) {
      native.ephSetRef(st.index, entry.table, id, ref)
      entry.js.delete(id)
    } else if (isNativePrimitive(value)) {
      native.ephSetValue(st.index, entry.table, id, value)
      entry.js.delete(id)
    } else {
      native.ephSetExternal(st.index, entry.table, id)
      entry.js.set(id, value)
    }
    return this
  }

  /** Whether `key` has an entry. */
  has(key) {
    checkMap(this, 'has')
    return hasKey(this.#perStore, key)
  }

  /** Removes `key`'s entry; whether there was one. */
  delete(key) {
    checkMap(this, 'delete')
    return deleteKey(this.#perStore, key)
  }

  /** The value for `key`; if absent, sets it to `value` first. */
  getOrInsert(key, value) {
    checkMap(this, 'getOrInsert')
    liveKey('WeakMap.prototype.getOrInsert', key)
    if (this.has(key)) return this.get(key)
    this.set(key, value)
    return value
  }

  /** The value for `key`; if absent, sets it to `callbackfn(key)` first. */
  getOrInsertComputed(key, callbackfn) {
    checkMap(this, 'getOrInsertComputed')
    liveKey('WeakMap.prototype.getOrInsertComputed', key)
    if (typeof callbackfn !== 'function') {
      throw typeError('WeakMap.prototype.getOrInsertComputed', 'a callback function', callbackfn)
    }
    if (this.has(key)) return this.get(key)
    const value = Reflect.apply(callbackfn, undefined, [key])
    // The callback may have released the key; set() reports that.
    this.set(key, value)
    return value
  }
}

class WeakSet {
  #perStore = new V8WeakMap() // StoreState -> { table, js }

  constructor(iterable = undefined) {
    if (new.target !== WeakSet) fallbackPrototype(this, new.target, WeakSet.prototype)
    if (iterable !== undefined && iterable !== null) addAll(this, iterable, 'add', false)
  }

  static {
    checkSet = (self, where) => {
      if (!isObject(self) || !(#perStore in self)) {
        throw invalidThis(`WeakSet.prototype.${where}`, 'a weakstore WeakSet', self)
      }
    }
  }

  /** Adds `value` (a handle); returns this set. */
  add(value) {
    checkSet(this, 'add')
    const id = liveKey('WeakSet.prototype.add', value)
    const st = stateOf(value)
    native.ephSetValue(st.index, tableFor(this, this.#perStore, st).table, id, true)
    return this
  }

  /** Whether `value`'s object is in the set. */
  has(value) {
    checkSet(this, 'has')
    return hasKey(this.#perStore, value)
  }

  /** Removes `value`'s object; whether it was there. */
  delete(value) {
    checkSet(this, 'delete')
    return deleteKey(this.#perStore, value)
  }
}

for (const [C, tag] of [[WeakMap, 'WeakMap'], [WeakSet, 'WeakSet']]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, {
    value: tag, writable: false, enumerable: false, configurable: true,
  })
  // As the built-ins print: the entries cannot be listed.
  Object.defineProperty(C.prototype, inspect.custom, {
    value: function (depth, options) {
      return `${tag} { ${options.stylize('<items unknown>', 'special')} }`
    },
    writable: true, enumerable: false, configurable: true,
  })
}

module.exports = { WeakMap, WeakSet, purge }
