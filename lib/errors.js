'use strict'
// Every error weakstore's JavaScript layer throws is made here, so messages
// stay consistent: they name the method, say what was expected, and what
// was given; and each carries a Node-style `code` (listed in the README):
//
//   ERR_INVALID_ARG_TYPE     an argument of the wrong type
//   ERR_INVALID_ARG_VALUE    an argument of the right type that is refused
//   ERR_OUT_OF_RANGE         a number outside its range
//   ERR_INVALID_THIS         a method called on the wrong kind of object
//   ERR_ILLEGAL_CONSTRUCTOR  `new Handle()`
//   ERR_WEAKSTORE_RELEASED   a released handle was used
//   ERR_WEAKSTORE_CLOSED     the store was closed (from the close() call on)
//   ERR_WEAKSTORE_NATIVE_MISSING  no compiled addon for this platform (lib/load.js)
//   ERR_WEAKSTORE_CYCLE_FAILED    collect(): every attempt at the cycle failed (lib/delivery.js)
// and, from the binding (src/errors.rs): ERR_WEAKSTORE_COLLECTED,
// ERR_WEAKSTORE_THREAD (the collector thread could not start) and
// ERR_WEAKSTORE_OUT_OF_MEMORY (the store's maxBytes, or the allocator).

function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'object') {
    const name = value.constructor && value.constructor.name
    return name ? `an instance of ${name}` : 'an object'
  }
  if (typeof value === 'string') return 'a string'
  return `${typeof value} ${String(value)}`
}

/** Whether `value` can carry private fields (a method's receiver may be anything). */
const isObject = (value) => value !== null && (typeof value === 'object' || typeof value === 'function')

/** Sets `code` as Node's own errors have it: a plain own property. */
function withCode(error, code) {
  error.code = code
  return error
}

function typeError(where, expected, value) {
  return withCode(new TypeError(`${where}: expected ${expected}, got ${describe(value)}`), 'ERR_INVALID_ARG_TYPE')
}

function invalidThis(where, expected, value) {
  return withCode(new TypeError(`${where}: expected ${expected} as this, got ${describe(value)}`), 'ERR_INVALID_THIS')
}

function invalidValue(message) {
  return withCode(new TypeError(message), 'ERR_INVALID_ARG_VALUE')
}

function released(where, why = 'was released') {
  return withCode(new TypeError(`${where}: this handle ${why}; it can no longer be used`), 'ERR_WEAKSTORE_RELEASED')
}

function closed(where) {
  return withCode(new TypeError(`${where}: this Store was closed; its objects can no longer be used`), 'ERR_WEAKSTORE_CLOSED')
}

function rangeError(where, expected, value) {
  return withCode(new RangeError(`${where}: expected ${expected}, got ${describe(value)}`), 'ERR_OUT_OF_RANGE')
}

module.exports = { describe, isObject, withCode, typeError, invalidThis, invalidValue, released, closed, rangeError }
