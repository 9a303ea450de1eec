'use strict'
// The bookkeeping behind FinalizationRegistry: queued registrations,
// unregister tokens, and the batches that carry both to the store.
//
// One `Registrations` per store, owned by its StoreState (`st.registrations`),
// keeps all of it. For every registration the store has it keeps four
// arrays indexed by cell id (the store's cell ids are small and dense):
// `cellEntry` (its entry), `cellHeld` (its held value, unless that is a
// handle of the store: the store roots that object and reports its id when
// the cell fires), `cellTokens` (its token's list, or null) and `cellPos`
// (its index in its entry's `cells`). Parallel arrays rather than one record
// per registration: a million registrations are then four arrays for V8's
// GC to scan, not a million objects to mark. A cell without an entry was
// unregistered: its callback will not run, whatever the store still says.
// The arrays shrink after a peak: once fewer than a quarter of their
// entries are live cells, the free entries at their end go (the store
// reuses its lowest cell ids first while its table is that sparse, so the
// live cells gather at the start).
//
// One *entry* exists per (registry, store) pair:
//   { st, registry, cells, tokens, idTokens, queuedTokens, dropped }
// - `cells`: the ids of this entry's cells (a cell leaves it by swapping
//   with the last, through `cellPos`), so that dropping a registry costs
//   its own registrations, not the store's;
// - `tokens` / `idTokens` (tokens.js): unregister token -> its TokenList of cell ids. Object and symbol tokens live in a V8 WeakMap (a dead token can no
//   longer be named, and its registrations stay, as in the built-in). A
//   handle of the store is keyed by its object id instead (live or
//   released, and whichever wrapper names it), in a Map pruned as its cells
//   go. A registration points to its token's list (`cellTokens`), never to
//   the token itself (that would keep the token alive); a cell leaves the
//   list when it is delivered, and a list entry counts only if the cell
//   still points to that list.
//
// Registrations are queued: register() only pushes a record, and the queue
// reaches the store in one native call at the end of the job (a
// microtask), or earlier before anything that could let a target die:
// every root drop calls `flush()` first. While queued, a
// registration's target and held handle are still rooted by their handles,
// so no cycle can collect them before the registration exists in the store.
// An unregister() in the same job as its register() cancels the record and
// never reaches native code.
//
// Unregistrations of registrations the store has are queued too: the
// record leaves `held` at once (so the callback can no longer run) and the
// cell is removed from the store in the same batch, *before* the queued
// registrations, a delivery batch, or a dropped registry can free or reuse
// cell ids (`flush()` runs first in each of those).

const native = require('../native.js')
const { tokenKeyOf, newEntry, tokenMap, fileToken, unfileToken } = require('./tokens')

const NO_HELD = -1
/** registerMany's cell id for a registration the store refused. */
const REFUSED = 0xffffffff
/** Queues this short are searched; longer ones get a token index. */
const SCAN = 32

/** One registration: queued, then (once flushed) the record of its cell. */
class Registration {
  constructor(entry, handle, target, heldId, held, token) {
    this.reset(entry, handle, target, heldId, held, token)
  }

  reset(entry, handle, target, heldId, held, token) {
    this.entry = entry
    // The target's handle (and the held handle), kept alive while queued:
    // the record names their objects by id, and a handle that died would
    // let its object's root go, whenever the binding drains its death,
    // before the registration exists in the store.
    this.handle = handle
    this.heldHandle = heldId === NO_HELD ? undefined : held
    this.target = target // object id
    this.heldId = heldId // object id of a held handle of the store, or NO_HELD
    this.held = heldId === NO_HELD ? held : undefined // the held value itself otherwise
    this.token = token // token key (see tokenKeyOf), or undefined
    this.cancelled = false
  }
}

/** Cancels `r` if it is a live queued registration of `entry` with `token`. */
function cancel(r, entry, token) {
  if (r.entry !== entry || r.token !== token || r.cancelled) return false
  r.cancelled = true
  entry.queuedTokens--
  return true
}

/** takeForDelivery's answer for a cell that was unregistered meanwhile. */
const GONE = Symbol('weakstore.gone')

/** A store's registrations: queued, filed by token, and delivered. */
class Registrations {
  constructor(st) {
    this.st = st
    this.pending = [] // Registration records, in order
    this.unregistered = [] // [registry, cell] pairs
    // cell id -> entry / held value / token list / index in the entry's cells
    this.cellEntry = []
    this.cellHeld = []
    this.cellTokens = []
    this.cellPos = []
    this.liveCells = 0 // cells with an entry
    this.flushQueued = false // a microtask will flush the queues
    this.queuedIndex = null // token -> queued registrations
    this.indexedUpTo = 0 // how much of `pending` queuedIndex covers
    this.spare = null // a cancelled record register() may reuse
  }

  /**
   * Sends the queued registrations and unregistrations to the store. Called
   * before every root drop: a queued registration's target must not die
   * before it exists.
   */
  flush() {
    this.flushQueued = false
    if (this.st.closed) {
      // Nothing can reach a closed store; what was queued for it is moot.
      this.clear()
      return
    }
    if (this.pending.length !== 0 || this.unregistered.length !== 0) this.#send()
  }

  /** Drops what is queued, and the records of the cells (the store was closed: they went with it). */
  clear() {
    this.pending.length = 0
    this.unregistered.length = 0
    this.queuedIndex = null
    this.indexedUpTo = 0
    this.cellEntry.length = 0
    this.cellHeld.length = 0
    this.cellTokens.length = 0
    this.cellPos.length = 0
    this.liveCells = 0
  }

  #queue(registration) {
    this.#scheduleFlush()
    this.pending.push(registration)
  }

  /** Makes sure the queues are flushed when the job ends. */
  #scheduleFlush() {
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(() => this.flush())
    }
  }

  /** Forgets cancelled registrations at the end of the queue. */
  #dropCancelled() {
    const pending = this.pending
    while (pending.length !== 0 && pending[pending.length - 1].cancelled) {
      const r = pending.pop()
      r.held = undefined // a spare record holds nothing
      r.handle = undefined
      r.heldHandle = undefined
      r.token = undefined
      this.spare = r
    }
    if (pending.length === 0) {
      // Nothing queued: nothing for the token index to find.
      this.queuedIndex = null
      this.indexedUpTo = 0
    } else if (this.indexedUpTo > pending.length) {
      this.indexedUpTo = pending.length
    }
  }

  /**
   * Queues a registration (reusing the spare record a cancellation left).
   * `held` is the held value; `heldId` names it when it is a handle of the
   * store (whose object the cell will root), NO_HELD otherwise.
   */
  register(entry, handle, target, heldId, held, token) {
    let r = this.spare
    if (r !== null && this.queuedIndex === null) {
      this.spare = null
      r.reset(entry, handle, target, heldId, held, token)
    } else {
      r = new Registration(entry, handle, target, heldId, held, token)
    }
    this.#queue(r)
    if (token !== undefined) entry.queuedTokens++
  }

  /**
   * Cancels `entry`'s queued registrations made with `token`; whether there
   * were any. A register() followed by its unregister() finds its record at
   * the end of a short queue; a long queue is indexed by token, incrementally
   * (this.queuedIndex covers this.pending up to this.indexedUpTo). The index is
   * built only when needed: a Map insertion per registration would cost more
   * than the rest of register() (V8 reallocates a Map's table under
   * insert/delete churn, and a growing map of young tokens slows every
   * scavenge).
   */
  cancelQueued(entry, token) {
    const queue = this.pending
    let removed = false
    if (this.queuedIndex === null && queue.length <= SCAN) {
      for (let i = queue.length - 1; i >= 0; i--) {
        if (cancel(queue[i], entry, token)) removed = true
      }
    } else {
      if (this.queuedIndex === null) this.queuedIndex = new Map()
      const index = this.queuedIndex
      for (let i = this.indexedUpTo; i < queue.length; i++) {
        const r = queue[i]
        if (r.token === undefined || r.cancelled) continue
        const prev = index.get(r.token)
        if (prev === undefined) index.set(r.token, r)
        else if (Array.isArray(prev)) prev.push(r)
        else index.set(r.token, [prev, r])
      }
      this.indexedUpTo = queue.length
      // The index lists only live queued records: what is cancelled here
      // leaves it (the token's other records belong to other registries).
      const found = index.get(token)
      if (Array.isArray(found)) {
        let kept = 0
        for (let i = 0; i < found.length; i++) {
          const r = found[i]
          if (cancel(r, entry, token)) removed = true
          if (!r.cancelled) found[kept++] = r
        }
        found.length = kept
        if (kept === 0) index.delete(token)
        else if (kept === 1) index.set(token, found[0])
      } else if (found !== undefined && cancel(found, entry, token)) {
        removed = true
        index.delete(token)
      }
    }
    if (removed) this.#dropCancelled()
    return removed
  }

  /** Forgets cell `cell` (delivered or unregistered). */
  #clearCell(entry, cell) {
    this.cellEntry[cell] = undefined
    this.cellHeld[cell] = undefined
    this.cellTokens[cell] = null
    const cells = entry.cells
    const last = cells.pop()
    if (last !== cell) {
      const at = this.cellPos[cell]
      cells[at] = last
      this.cellPos[last] = at
    }
    if (--this.liveCells * 4 < this.cellEntry.length) this.#shrink()
  }

  /**
   * Drops the free entries at the end of the per-cell arrays, once fewer
   * than a quarter of their entries are live. Costs one step per entry
   * dropped, plus one: nothing when the last entry is live.
   */
  #shrink() {
    const entries = this.cellEntry
    let n = entries.length
    while (n > 0 && entries[n - 1] === undefined) n--
    if (n === entries.length) return
    entries.length = n
    this.cellHeld.length = n
    this.cellTokens.length = n
    this.cellPos.length = n
  }

  /**
   * Unregisters `entry`'s registrations made with `token` that the store
   * has; whether there were any. Their cells leave the store with the next
   * flush.
   */
  unregisterCells(entry, token) {
    const map = tokenMap(entry, token, false)
    if (map === null) return false
    const list = map.get(token)
    if (list === undefined) return false
    map.delete(token)
    let removed = false
    const cells = list.cells
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]
      if (this.cellTokens[cell] !== list) continue // stale: delivered, id reused
      this.#clearCell(entry, cell)
      this.unregistered.push(entry.registry, cell)
      removed = true
    }
    if (removed) this.#scheduleFlush()
    return removed
  }

  /**
   * The held value of `entry`'s cell `cell`, taken out for delivery (undefined
   * for a held handle: the store reports its id), or GONE if the registration
   * was unregistered (by an earlier callback of the same batch, say).
   */
  takeForDelivery(entry, cell) {
    if (this.cellEntry[cell] !== entry) return GONE
    const held = this.cellHeld[cell]
    const list = this.cellTokens[cell]
    this.#clearCell(entry, cell)
    if (list !== null) unfileToken(entry, list, cell)
    return held
  }

  /** Sends the queued unregistrations, then the queued registrations. */
  #send() {
    if (this.unregistered.length !== 0) {
      const pairs = Float64Array.from(this.unregistered)
      this.unregistered.length = 0
      native.unregisterMany(this.st.index, pairs)
    }
    if (this.pending.length === 0) return
    const queued = this.pending
    this.pending = []
    this.queuedIndex = null
    this.indexedUpTo = 0
    const triples = new Float64Array(queued.length * 3)
    let n = 0
    for (let i = 0; i < queued.length; i++) {
      const r = queued[i]
      const entry = r.entry
      entry.queuedTokens = 0
      if (r.cancelled || entry.dropped) {
        queued[i] = null
        continue
      }
      triples[n] = entry.registry
      triples[n + 1] = r.target
      triples[n + 2] = r.heldId
      n += 3
    }
    if (n === 0) return
    const cells = native.registerMany(this.st.index, triples.subarray(0, n))
    let refused = 0
    for (let i = 0, c = 0; i < queued.length; i++) {
      const r = queued[i]
      if (r === null) continue
      const cell = cells[c++]
      if (cell === REFUSED) {
        refused++
        continue
      }
      this.cellEntry[cell] = r.entry
      this.cellHeld[cell] = r.held
      this.cellTokens[cell] = r.token === undefined ? null : fileToken(r, cell)
      this.cellPos[cell] = r.entry.cells.length
      r.entry.cells.push(cell)
      this.liveCells++
    }
    if (refused !== 0) {
      process.emitWarning(`the store refused ${refused} registration(s) (a weakstore bug: please report it)`,
        { type: 'WeakstoreWarning', code: 'WEAKSTORE_REGISTRATION_REFUSED' })
    }
  }

  /** Forgets the records of a dropped registry's cells (the store freed them). */
  forgetEntry(entry) {
    entry.dropped = true // its queued registrations are skipped
    const cells = entry.cells
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]
      if (this.cellEntry[cell] !== entry) continue // forgotten with the closed store
      this.cellEntry[cell] = undefined
      this.cellHeld[cell] = undefined
      this.cellTokens[cell] = null
      this.liveCells--
    }
    entry.cells = []
    if (this.liveCells * 4 < this.cellEntry.length) this.#shrink()
  }
}

module.exports = { Registrations, NO_HELD, GONE, newEntry, tokenKeyOf }
