'use strict'
// The `fields` argument of alloc() (Store.prototype.alloc and
// Scope.prototype.alloc): which objects it takes, and how a new object is
// filled from one.

const { types } = require('node:util')
const { V8WeakRef, V8FinalizationRegistry } = require('./builtins')
const { typeError, closed } = require('./errors')
const { idOf } = require('./handle')
const { WeakRef } = require('./weakref')
const { FinalizationRegistry } = require('./finalization')
const { WeakMap, WeakSet } = require('./weakmap')

// Required on first use: store.js requires this module.
const storeState = (value) => require('./store').stateOf(value)

/**
 * Whether alloc() takes `fields` (an object that is not a handle). It
 * copies the own enumerable properties, so it refuses arrays (not
 * supported yet) and objects whose contents are not their own properties:
 * a Map's entries, a Date's time, a Buffer's bytes, an Error's message, a
 * weak collection, a Store. Plain and null-prototype objects pass at once;
 * instances of other classes by these checks.
 */
function isFields(fields) {
  const proto = Object.getPrototypeOf(fields)
  if (proto === Object.prototype || proto === null) return true
  return !(Array.isArray(fields) || types.isMap(fields) || types.isSet(fields) || types.isWeakMap(fields) ||
    types.isWeakSet(fields) || types.isDate(fields) || types.isRegExp(fields) || types.isPromise(fields) ||
    types.isNativeError(fields) || types.isAnyArrayBuffer(fields) || types.isArrayBufferView(fields) ||
    types.isBoxedPrimitive(fields) || fields instanceof V8WeakRef || fields instanceof V8FinalizationRegistry ||
    fields instanceof WeakRef || fields instanceof FinalizationRegistry || fields instanceof WeakMap ||
    fields instanceof WeakSet || storeState(fields) !== undefined)
}

/**
 * A new object from `make()` with the fields of `fields` (nothing, or a
 * plain object), for the method `where` of a store whose state is `st`.
 */
function allocWith(where, st, fields, make) {
  if (fields === undefined || fields === null) return make()
  if (typeof fields !== 'object' || idOf(fields) !== undefined || !isFields(fields)) {
    throw typeError(where, 'a plain object of fields (or nothing)', fields)
  }
  // Every field is read before anything is allocated: a getter that
  // throws, or closes the store, leaves nothing behind.
  const keys = Object.keys(fields)
  const values = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) values[i] = fields[keys[i]]
  if (st.closing !== null) throw closed(where)
  const h = make()
  try {
    for (let i = 0; i < keys.length; i++) h.set(keys[i], values[i])
  } catch (err) {
    h.release()
    throw err
  }
  return h
}

module.exports = { allocWith }
