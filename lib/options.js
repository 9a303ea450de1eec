'use strict'
// The options of `new Store(options)`: their names, types and ranges, and
// the configuration the binding's createStore takes.

const { typeError, rangeError, withCode } = require('./errors')

/** Reads `options[name]`: a wrong type is a TypeError, a number out of range a RangeError. */
function option(options, name, type, check, expected, fallback) {
  const value = options[name]
  if (value === undefined) return fallback
  if (typeof value !== type) throw typeError(`new Store: options.${name}`, expected, value)
  if (!check(value)) throw rangeError(`new Store: options.${name}`, expected, value)
  return value
}

/** The options `new Store` reads. */
const OPTION_NAMES = ['threads', 'budget', 'growth', 'manual', 'background', 'maxBytes']

/** The number of single-character edits from `a` to `b` (Levenshtein). */
function edits(a, b) {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]
}

/**
 * Refuses an own option `new Store` does not know (a typo such as
 * `manul` would otherwise be ignored), naming the nearest one it does.
 */
function checkOptionNames(options) {
  for (const name of Object.keys(options)) {
    if (OPTION_NAMES.includes(name)) continue
    const near = OPTION_NAMES.find((known) => known.toLowerCase() === name.toLowerCase() || edits(known, name) <= 2)
    throw withCode(new TypeError(`new Store: unknown option '${name}'` + (near ? ` (did you mean '${near}'?)` : '') +
      `; the options are ${OPTION_NAMES.join(', ')}`), 'ERR_INVALID_ARG_VALUE')
  }
}

/**
 * The binding's configuration for `new Store(options)`: every option
 * checked (a wrong type is a TypeError, a number out of range a
 * RangeError, an unknown name a TypeError naming the nearest known one),
 * defaults filled in (0 and -1: the binding's own).
 */
function storeConfig(options) {
  if (options === undefined || options === null) options = {}
  else if (typeof options !== 'object') throw typeError('new Store', 'an options object', options)
  checkOptionNames(options)
  const threads = option(options, 'threads', 'number', (v) => Number.isInteger(v) && v >= 1 && v <= 64,
    'an integer from 1 to 64', 0)
  const budget = option(options, 'budget', 'number', (v) => Number.isSafeInteger(v) && v >= 1024,
    'a byte count of at least 1024', 0)
  const growth = option(options, 'growth', 'number', (v) => Number.isInteger(v) && v >= 0 && v <= 100000,
    'a percentage (an integer from 0 to 100000)', -1)
  const manual = option(options, 'manual', 'boolean', () => true, 'a boolean', false)
  const background = option(options, 'background', 'boolean', () => true, 'a boolean', true)
  const maxBytes = option(options, 'maxBytes', 'number', (v) => v === Infinity || (Number.isSafeInteger(v) && v >= 1024),
    'a byte count of at least 1024, or Infinity', Infinity)
  const config = { threads, budget, growth, manual, background, maxBytes: maxBytes === Infinity ? 0 : maxBytes }
  return config
}

module.exports = { storeConfig }
