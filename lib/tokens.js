'use strict'
// Unregister tokens of FinalizationRegistry registrations, per entry (one
// per registry and store, see registrations.js): token -> its TokenList,
// the ids of the cells registered with it. Object and symbol tokens are
// kept in a V8 WeakMap, handle tokens of the store by object id in a Map.

const { V8WeakMap } = require('./builtins')
const { keyOf, stateOf } = require('./handle')

/**
 * The key `token` is filed under in `st`: a handle of the store by its
 * object id, anything else as itself.
 */
function tokenKeyOf(st, token) {
  const id = keyOf(token)
  return id !== undefined && stateOf(token) === st ? id : token
}

function newEntry(st, registry) {
  return { st, registry, cells: [], tokens: null, idTokens: null, queuedTokens: 0, dropped: false }
}

function tokenMap(entry, token, create) {
  if (typeof token === 'number') {
    if (entry.idTokens === null && create) entry.idTokens = new Map()
    return entry.idTokens
  }
  if (entry.tokens === null && create) entry.tokens = new V8WeakMap()
  return entry.tokens
}

/** The cells registered with one token in one entry. */
class TokenList {
  constructor(key) {
    this.key = key // the id of a handle token (for pruning), else null
    this.cells = []
  }
}

/** Files flushed registration `r` (cell `cell`) under its token; its list. */
function fileToken(r, cell) {
  const map = tokenMap(r.entry, r.token, true)
  let list = map.get(r.token)
  if (list === undefined) {
    list = new TokenList(typeof r.token === 'number' ? r.token : null)
    map.set(r.token, list)
  }
  list.cells.push(cell)
  return list
}

/** Takes delivered cell `cell` of `entry` off its token's list. */
function unfileToken(entry, list, cell) {
  const cells = list.cells
  const at = cells.indexOf(cell)
  if (at >= 0) cells.splice(at, 1)
  // An id token's list goes with its last cell; an object token's empty
  // list goes with the token.
  if (cells.length === 0 && list.key !== null && entry.idTokens.get(list.key) === list) {
    entry.idTokens.delete(list.key)
  }
}

module.exports = { tokenKeyOf, newEntry, tokenMap, fileToken, unfileToken }
