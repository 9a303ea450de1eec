'use strict'
// The `fields` argument of alloc() (Store.prototype.alloc and
// Scope.prototype.alloc): which objects it takes, and how a new object is
// filled from one.

const { types } = require('node:util')
const { V8WeakRef, V8FinalizationRegistry } = require('./builtins')
const { typeError, withCode, closed } = require('./errors')
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
 * What a field value of kind `value` is, if no field can hold it (the
 * kinds `set` refuses by type), for an error that names the field.
 */
function refusedKind(value) {
  switch (typeof value) {
    case 'undefined': return 'undefined'
    case 'function': return 'a function'
    case 'symbol': return 'a symbol'
    case 'object':
      if (value === null || idOf(value) !== undefined || types.isUint8Array(value)) return null
      if (Array.isArray(value)) return 'an array'
      if (types.isTypedArray(value)) return `a ${value.constructor.name} (only Uint8Array and Buffer are)`
      return 'an object'
    default: return null
  }
}

/**
 * A new object from `make()` with the fields of `fields` (not undefined
 * or null: the callers make an empty object for those themselves), for
 * the method `where` of a store whose state is `st`.
 */
function allocWith(where, st, fields, make) {
  if (typeof fields !== 'object' || idOf(fields) !== undefined || !isFields(fields)) {
    throw typeError(where, 'a plain object of fields (or nothing)', fields)
  }
  // Every field is read before anything is allocated: a getter that
  // throws, or closes the store, leaves nothing behind.
  const keys = Object.keys(fields)
  const values = new Array(keys.length)
  for (let i = 0; i < keys.length; i++) values[i] = fields[keys[i]]
  for (let i = 0; i < keys.length; i++) {
    const kind = refusedKind(values[i])
    if (kind === null) continue
    const hint = kind === 'an object'
      ? `. To nest an object, allocate it and store its handle: alloc({ ${JSON.stringify(keys[i])}: store.alloc({ ... }) })`
      : kind === 'an array'
        ? '. Arrays are not supported yet: an object with fields \'0\', \'1\', ... can hold the elements'
        : ''
    throw withCode(new TypeError(
      `${where}: field '${keys[i]}' is ${kind}; a field holds null, a boolean, number, string, bigint, ` +
      `Buffer/Uint8Array, or a handle of the same store${hint}`,
    ), 'ERR_INVALID_ARG_TYPE')
  }
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
