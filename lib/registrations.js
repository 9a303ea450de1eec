'use strict'
// The bookkeeping behind FinalizationRegistry: queued registrations,
// unregister tokens, and the batches that carry both to the store.
//
// The store's state keeps `cells`: an array from cell id (the store's cell
// ids are small and dense) to the registration record (a Registration), for
// every registration the store has. A cell without a record was
// unregistered: its callback will not run, whatever the store still says.
//
// One *entry* exists per (registry, store) pair:
//   { st, registry, count, tokens, idTokens, queuedTokens, dropped }
// - `count`: how many of `cells` are this entry's;
// - `tokens` / `idTokens`: unregister token -> its list (an array) of cell
//   ids. Object and symbol tokens live in a V8 WeakMap (a dead token can no
//   longer be named, and its registrations stay, as in the built-in). A
//   handle of the store is keyed by its object id instead (live or
//   released, and whichever wrapper names it), in a Map pruned as its cells
//   go. A registration's record points to its token's list, never to the
//   token itself (that would keep the token alive); a cell leaves the list
//   when it is delivered, and a list entry counts only if the cell's record
//   still points to that list.
//
// Registrations are queued: register() only pushes a record on the store's
// state, and the queue reaches the store in one native call at the end of
// the job (a microtask), or earlier before anything that could let a target
// die: every root drop calls StoreState.flushPending. While queued, a
// registration's target and held handle are still rooted by their handles,
// so no cycle can collect them before the registration exists in the store.
// An unregister() in the same job as its register() cancels the record and
// never reaches native code.
//
// Unregistrations of registrations the store has are queued too: the
// record leaves `held` at once (so the callback can no longer run) and the
// cell is removed from the store in the same batch, *before* the queued
// registrations, a delivery batch, or a dropped registry can free or reuse
// cell ids (flushPending runs first in each of those).

const native = require('../native.js')
const { V8WeakMap } = require('./builtins')
const { keyOf, stateOf } = require('./handle')

const NO_HELD = -1
const NO_TOKEN = -1
/** registerMany's cell id for a registration the store refused. */
const REFUSED = 0xffffffff
/** Queues this short are searched; longer ones get a token index. */
const SCAN = 32

/** One registration: queued, then (once flushed) the record of its cell. */
class Registration {
  constructor(entry, target, heldId, held, token) {
    this.reset(entry, target, heldId, held, token)
  }

  reset(entry, target, heldId, held, token) {
    this.entry = entry
    this.target = target // object id
    this.heldId = heldId // object id of a held handle of the store, or NO_HELD
    this.held = held // the held value itself otherwise
    // Token key (see tokenKeyOf) or undefined; an object token is dropped
    // once the registration reaches the store, and tokenList kept instead.
    this.token = token
    this.tokenList = null
    this.cancelled = false
  }
}

/**
 * The key `token` is filed under in `st`: a handle of the store by its
 * object id, anything else as itself.
 */
function tokenKeyOf(st, token) {
  const id = keyOf(token)
  return id !== undefined && stateOf(token) === st ? id : token
}

function newEntry(st, registry) {
  return { st, registry, count: 0, tokens: null, idTokens: null, queuedTokens: 0, dropped: false }
}

/** Queues a registration (reusing the spare record a cancellation left). */
function queueRegistration(st, entry, target, heldId, held, token) {
  let r = st.spare
  if (r !== null && st.queuedIndex === null) {
    st.spare = null
    r.reset(entry, target, heldId, held, token)
  } else {
    r = new Registration(entry, target, heldId, held, token)
  }
  st.queue(r)
  if (token !== undefined) entry.queuedTokens++
}

/** Cancels `r` if it is a live queued registration of `entry` with `token`. */
function cancel(r, entry, token) {
  if (r.entry !== entry || r.token !== token || r.cancelled) return false
  r.cancelled = true
  entry.queuedTokens--
  return true
}

/**
 * Cancels `entry`'s queued registrations made with `token`; whether there
 * were any. A register() followed by its unregister() finds its record at
 * the end of a short queue; a long queue is indexed by token, incrementally
 * (st.queuedIndex covers st.pending up to st.indexedUpTo). The index is
 * built only when needed: a Map insertion per registration would cost more
 * than the rest of register() (V8 reallocates a Map's table under
 * insert/delete churn, and a growing map of young tokens slows every
 * scavenge).
 */
function cancelQueued(st, entry, token) {
  const queue = st.pending
  let removed = false
  if (st.queuedIndex === null && queue.length <= SCAN) {
    for (let i = queue.length - 1; i >= 0; i--) {
      if (cancel(queue[i], entry, token)) removed = true
    }
  } else {
    if (st.queuedIndex === null) st.queuedIndex = new Map()
    const index = st.queuedIndex
    for (let i = st.indexedUpTo; i < queue.length; i++) {
      const r = queue[i]
      if (r.token === undefined || r.cancelled) continue
      const prev = index.get(r.token)
      if (prev === undefined) index.set(r.token, r)
      else if (Array.isArray(prev)) prev.push(r)
      else index.set(r.token, [prev, r])
    }
    st.indexedUpTo = queue.length
    const found = index.get(token)
    if (Array.isArray(found)) {
      for (const r of found) if (cancel(r, entry, token)) removed = true
    } else if (found !== undefined && cancel(found, entry, token)) {
      removed = true
    }
  }
  if (removed) st.dropCancelled()
  return removed
}

function tokenMap(entry, token, create) {
  if (typeof token === 'number') {
    if (entry.idTokens === null && create) entry.idTokens = new Map()
    return entry.idTokens
  }
  if (entry.tokens === null && create) entry.tokens = new V8WeakMap()
  return entry.tokens
}

/** Files flushed registration `r` (cell `cell`) under its token. */
function fileToken(r, cell) {
  const map = tokenMap(r.entry, r.token, true)
  let list = map.get(r.token)
  if (list === undefined) {
    list = []
    map.set(r.token, list)
  }
  list.push(cell)
  r.tokenList = list
  if (typeof r.token !== 'number') r.token = undefined
}

/** Takes delivered registration `r` (cell `cell`) off its token's list. */
function unfileToken(r, cell) {
  const list = r.tokenList
  r.tokenList = null
  const at = list.indexOf(cell)
  if (at >= 0) list.splice(at, 1)
  // An id token's list goes with its last cell; an object token's empty
  // list goes with the token.
  if (list.length === 0 && typeof r.token === 'number') {
    const map = r.entry.idTokens
    if (map.get(r.token) === list) map.delete(r.token)
  }
}

/**
 * Unregisters `entry`'s registrations made with `token` that the store
 * has; whether there were any. Their cells leave the store with the next
 * flush.
 */
function unregisterCells(st, entry, token) {
  const map = tokenMap(entry, token, false)
  if (map === null) return false
  const list = map.get(token)
  if (list === undefined) return false
  map.delete(token)
  let removed = false
  for (let i = 0; i < list.length; i++) {
    const cell = list[i]
    const r = st.cells[cell]
    if (r === undefined || r.tokenList !== list) continue
    st.cells[cell] = undefined
    entry.count--
    st.unregistered.push(entry.registry, cell)
    removed = true
  }
  if (removed) st.queueFlush()
  return removed
}

/**
 * The registration of `cell`, taken out for delivery; undefined if it was
 * unregistered (by an earlier callback of the same batch, say).
 */
function takeForDelivery(st, entry, cell) {
  const r = st.cells[cell]
  if (r === undefined || r.entry !== entry) return undefined
  st.cells[cell] = undefined
  entry.count--
  if (r.tokenList !== null) unfileToken(r, cell)
  return r
}

/** Sends `st`'s queued unregistrations, then its queued registrations. */
function flushRegistrations(st) {
  if (st.unregistered.length !== 0) {
    const pairs = Float64Array.from(st.unregistered)
    st.unregistered.length = 0
    native.unregisterMany(st.index, pairs)
  }
  if (st.pending.length === 0) return
  const queued = st.pending
  st.pending = []
  st.queuedIndex = null
  st.indexedUpTo = 0
  const quads = new Float64Array(queued.length * 4)
  let n = 0
  for (let i = 0; i < queued.length; i++) {
    const r = queued[i]
    const entry = r.entry
    entry.queuedTokens = 0
    if (r.cancelled || entry.dropped) {
      queued[i] = null
      continue
    }
    quads[n] = entry.registry
    quads[n + 1] = r.target
    quads[n + 2] = r.heldId
    quads[n + 3] = NO_TOKEN // tokens are kept here, not in the store
    n += 4
  }
  if (n === 0) return
  const cells = native.registerMany(st.index, quads.subarray(0, n))
  let refused = 0
  for (let i = 0, c = 0; i < queued.length; i++) {
    const r = queued[i]
    if (r === null) continue
    const cell = cells[c++]
    if (cell === REFUSED) {
      refused++
      continue
    }
    st.cells[cell] = r
    r.entry.count++
    if (r.token !== undefined) fileToken(r, cell)
  }
  if (refused !== 0) {
    process.emitWarning(`weakstore: the store refused ${refused} registration(s) (a weakstore bug: please report it)`)
  }
}

/** Forgets the records of a dropped registry's cells (the store freed them). */
function forgetEntry(st, entry) {
  entry.dropped = true // its queued registrations are skipped
  if (entry.count === 0) return
  const cells = st.cells
  for (let i = 0; i < cells.length; i++) {
    if (cells[i] !== undefined && cells[i].entry === entry) cells[i] = undefined
  }
  entry.count = 0
}

module.exports = {
  forgetEntry,
  NO_HELD, newEntry, tokenKeyOf, queueRegistration, cancelQueued, unregisterCells,
  takeForDelivery, flushRegistrations,
}
