'use strict'
// Every error weakstore's JavaScript layer throws is made here, so messages
// stay consistent: they name the method, say what was expected, and what
// was given.

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'object') {
    const name = value.constructor && value.constructor.name
    return name ? `an instance of ${name}` : 'an object'
  }
  if (typeof value === 'string') return 'a string'
  return `${typeof value} ${String(value)}`
}

function typeError(where, expected, value) {
  return new TypeError(`${where}: expected ${expected}, got ${describe(value)}`)
}

function released(where) {
  return new TypeError(`${where}: this handle was released; it can no longer be used`)
}

function rangeError(where, expected, value) {
  return new RangeError(`${where}: expected ${expected}, got ${describe(value)}`)
}

module.exports = { describe, typeError, released, rangeError }
