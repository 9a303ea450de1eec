'use strict'
// Store: one off-heap object store with its own collector threads.

const { inspect } = require('node:util')
const { isMainThread, threadId } = require('node:worker_threads')
const native = require('../native.js')
const { V8FinalizationRegistry } = require('./builtins')
const { isObject, typeError, invalidThis, invalidValue, closed } = require('./errors')
const { argumentId } = require('./handle')
const { StoreState, nextTurn } = require('./state')
const { pumpStore, forgetStore } = require('./delivery')
const sharing = require('./sharing')
const { allocWith } = require('./fields')
const { storeConfig } = require('./options')
const { openScope } = require('./scope')

// When a Store (and every handle, WeakRef and registry that could reach
// it) is gone, this thread's use of the native store ends: its roots and
// registrations go. The last thread's ends the store (its collector
// threads are detached).
const stores = new V8FinalizationRegistry((index) => {
  forgetStore(index)
  native.destroyStore(index)
})

// The index of the attachment Store.attach is wrapping, read once by the
// constructor; -1 otherwise.
let attaching = -1

// States with a collect() in flight. While one is pending, nothing else
// may need to reference the store (an `await store.collect()` in a
// function that holds nothing else): the promise, the store and its state
// would form an unreachable cycle for V8 to collect mid-way. This set
// roots them until their collect() calls settle (StoreState.collects).
const collecting = new Set()

/** How root groups name this thread in snapshots and paths. */
const threadLabel = isMainThread ? 'main' : `worker ${threadId}`

let snapshots = 0
/** A name like Node's v8.writeHeapSnapshot's: Store-YYYYMMDD-HHMMSS-pid-thread-n.heapsnapshot. */
function defaultSnapshotName() {
  const d = new Date()
  const p = (n, w = 2) => String(n).padStart(w, '0')
  const date = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`
  const time = `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`
  return `Store-${date}-${time}-${process.pid}-${threadId}-${p(++snapshots, 3)}.heapsnapshot`
}

/** How many steps of a whyAlive path are made between two turns of the event loop. */
const STEPS_PER_TURN = 20000

/**
 * The steps of a whyAlive path from its columns (src/inspect_api.rs,
 * WhyPath), a slice per event-loop turn: a path may be millions of steps
 * long (runs of one field come folded, but alternating fields do not).
 */
async function pathSteps(st, path) {
  const { root, thread, pin, id, ids, fields, names, counts, tables } = path
  const first = thread !== undefined && thread !== null ? { root, thread, id }
    : pin !== undefined && pin !== null ? { root, pin, id } : { root, id }
  const steps = [first]
  for (let i = 0; i < ids.length; i++) {
    if (i !== 0 && i % STEPS_PER_TURN === 0) await nextTurn()
    const field = fields[i]
    if (field !== 0xffffffff) {
      steps.push(counts[i] === 1 ? { field: names[field], id: ids[i] } : { field: names[field], id: ids[i], count: counts[i] })
    } else {
      const ref = st.tables.get(tables[i])
      steps.push({ ephemeron: ref && ref.deref(), table: tables[i], id: ids[i] })
    }
  }
  return steps
}

/** collect()'s steps; close() waits for them (StoreState.collects). */
async function fullCollection(st) {
  await nextTurn()
  if (typeof globalThis.gc === 'function') await st.collectWrappers(globalThis.gc)
  else st.drainDeaths()
  const cycle = native.requestCollection(st.index)
  return st.delivery.waitFor(cycle)
}

let stateOf
let brandState
let openState

class Store {
  #state

  /**
   * @param {{threads?: number, budget?: number, growth?: number, manual?: boolean, background?: boolean, maxBytes?: number}} [options]
   */
  constructor(options = undefined) {
    if (attaching !== -1) {
      const index = attaching
      attaching = -1
      this.#state = new StoreState(index, this)
      stores.register(this, index, this.#state)
      return
    }
    const config = storeConfig(options)
    const index = native.createStore(config, pumpStore)
    this.#state = new StoreState(index, this)
    stores.register(this, index, this.#state)
  }

  static {
    stateOf = (store) => (store !== null && typeof store === 'object' && #state in store ? store.#state : undefined)
    // A method's receiver: a brand check (a private method would throw V8's
    // own error on a foreign receiver before we could), then the state.
    brandState = (self, where) => {
      if (!isObject(self) || !(#state in self)) throw invalidThis(`Store.prototype.${where}`, 'a weakstore Store', self)
      return self.#state
    }
    // ... of a method that a closed store refuses.
    openState = (self, where) => {
      const st = brandState(self, where)
      if (st.closing !== null) throw closed(`Store.prototype.${where}`)
      return st
    }
  }


  /**
   * Allocates an object with the own enumerable fields of `fields`.
   * @returns {import('../index').Handle}
   */
  alloc(fields = undefined) {
    const st = openState(this, 'alloc')
    if (fields === undefined || fields === null) return st.alloc() // no closure on the common path
    return allocWith('Store.prototype.alloc', st, fields, () => st.alloc())
  }

  /**
   * A scope: handles that are released together (lib/scope.js). Without
   * `fn`, the open Scope, to close() (or `using`). With `fn`, calls
   * `fn(scope)` and closes the scope when `fn` returns, throws, or, if it
   * returns a promise, when that settles; returns what `fn` returns.
   */
  scope(fn = undefined) {
    const st = openState(this, 'scope')
    if (fn !== undefined && typeof fn !== 'function') throw typeError('Store.prototype.scope', 'a function (or nothing)', fn)
    const scope = openScope(st)
    if (fn === undefined) return scope
    let result
    try {
      result = fn(scope)
      if (isObject(result) && typeof result.then === 'function') {
        return Promise.resolve(result).finally(() => scope.close())
      }
    } catch (err) {
      scope.close()
      throw err
    }
    scope.close()
    return result
  }

  /**
   * A full collection. Lets the calling job end, lets V8 collect dead
   * handle wrappers (when `global.gc` is exposed), runs a full cycle and
   * delivers this thread's finalization callbacks; resolves with the
   * cycle's figures.
   */
  async collect() {
    const st = openState(this, 'collect')
    const done = fullCollection(st)
    collecting.add(st)
    st.collects.add(done)
    try {
      return await done
    } finally {
      st.collects.delete(done)
      if (st.collects.size === 0) collecting.delete(st)
    }
  }

  /**
   * A value to post to another thread (postMessage, workerData), where
   * `Store.attach(value)` gives a Store over this same store. It carries
   * the store's secret: whoever has the value can attach.
   * @returns {{ type: 'weakstore.Store', key: number, secret: string }}
   */
  share() {
    const st = openState(this, 'share')
    const secret = native.shareStore(st.index)
    sharing.rememberStore(st.key, this)
    return sharing.shareValue(st.key, secret)
  }

  /**
   * The calling thread's Store for the store that `shared` (a value of
   * `store.share()`, possibly from another thread) names; the same Store
   * each time within a thread, until it is closed. A value whose key names
   * no shared store, or whose secret is not that store's, throws
   * ERR_WEAKSTORE_UNKNOWN_STORE.
   */
  static attach(shared) {
    const { key, secret } = sharing.sharedValue(shared)
    const known = sharing.attachedStore(key)
    if (known !== undefined && !known.closed) {
      native.checkShared(key, secret) // the secret is checked here too
      return known
    }
    attaching = native.attachStore(key, secret, pumpStore)
    let store
    try {
      store = new Store()
    } finally {
      attaching = -1
    }
    sharing.rememberStore(key, store)
    return store
  }

  /**
   * Pins `handle`'s object under `name`, for every thread of the store: it
   * lives until `unpin(name)` (or another pin under the name replaces it).
   */
  pin(name, handle) {
    const st = openState(this, 'pin')
    sharing.pinName('Store.prototype.pin', name)
    native.pin(st.index, name, argumentId('Store.prototype.pin', st, handle))
  }

  /** The handle of the object pinned under `name`, in this thread; undefined if none. */
  pinned(name) {
    const st = openState(this, 'pinned')
    sharing.pinName('Store.prototype.pinned', name)
    const id = native.pinned(st.index, name)
    return id === 0 ? undefined : st.adopt(id)
  }

  /** Removes the pin `name`; whether there was one. */
  unpin(name) {
    const st = openState(this, 'unpin')
    sharing.pinName('Store.prototype.unpin', name)
    return native.unpin(st.index, name)
  }

  /** The pinned names, sorted. */
  pins() {
    return native.pinNames(openState(this, 'pins').index)
  }

  /**
   * The handle, in this thread, of the object that `id` (a `handle.id`,
   * possibly from another thread) names; undefined once it was collected.
   */
  resolve(id) {
    const st = openState(this, 'resolve')
    return st.wrap(sharing.objectIdOf('Store.prototype.resolve', st.key, id))
  }

  /**
   * Closes the store: from now on its methods and its handles' throw
   * ERR_WEAKSTORE_CLOSED.
   * After the current job, waits for the collect() calls in flight, delivers
   * the finalization callbacks already due, then lets go of this thread's
   * roots and registrations. If no other thread has the store attached, it
   * then stops the collector threads and frees every object. Resolves when
   * all that is done; idempotent.
   */
  close() {
    let st
    try {
      st = brandState(this, 'close')
    } catch (err) {
      return Promise.reject(err)
    }
    return st.close(() => {
      stores.unregister(st)
      sharing.forgetKey(st.key, this)
    })
  }

  /** `await using store = new Store()`: close() at the end of the block. */
  [Symbol.asyncDispose]() {
    return this.close()
  }

  /** Whether close() was called. */
  get closed() {
    return brandState(this, 'closed').closing !== null
  }

  /** `util.inspect` / `console.log`: the store's counts. */
  [inspect.custom](depth, options, inspect) {
    if (!isObject(this) || !(#state in this)) return this
    const st = this.#state
    if (st.closing !== null) return options.stylize('Store <closed>', 'special')
    const s = native.stats(st.index)
    const counts = { objects: s.objects, bytes: s.bytes, handles: s.handles, collections: s.collections, phase: s.phase }
    return `Store ${inspect(counts, options)}`
  }

  /**
   * Writes the store's object graph as a V8 heap snapshot (Chrome DevTools'
   * Memory panel loads it), built off the JavaScript thread while the
   * program and the collector run. Resolves with the file's path.
   * @param {string} [path] default: `Store-<date>-<time>-<pid>-<thread>-<n>.heapsnapshot`
   */
  async writeHeapSnapshot(path = undefined) {
    const st = openState(this, 'writeHeapSnapshot')
    if (path !== undefined && typeof path !== 'string') {
      throw typeError('Store.prototype.writeHeapSnapshot', 'a file path string (or nothing)', path)
    }
    // As the binding passes it on as UTF-8, a lone surrogate would become
    // U+FFFD: the file would be written under another name.
    if (path !== undefined && !path.isWellFormed()) {
      throw invalidValue('Store.prototype.writeHeapSnapshot: the path must be a well-formed Unicode string (this one has a lone surrogate)')
    }
    if (path !== undefined && path.includes('\0')) {
      throw invalidValue('Store.prototype.writeHeapSnapshot: the path must not contain null bytes')
    }
    st.registrations.flush() // queued registrations are cells of the graph
    st.flushReleases() // released scoped handles hold no root
    const file = path ?? defaultSnapshotName()
    const info = await native.writeHeapSnapshot(st.index, file, threadLabel)
    return info.path
  }

  /**
   * Why `handle`'s object is alive: the shortest path from a root to it
   * (not counting `handle` itself), computed off the JavaScript thread.
   * Resolves with `[{ root, thread?, pin?, id }, { field, id } | { ephemeron, table, id }, ...]`,
   * or `null` when nothing but weak references (and `handle`) reach it.
   */
  async whyAlive(handle) {
    const st = openState(this, 'whyAlive')
    const id = argumentId('Store.prototype.whyAlive', st, handle)
    st.registrations.flush()
    st.flushReleases()
    const path = await native.whyAlive(st.index, id, threadLabel)
    if (path === null) return null
    return pathSteps(st, path)
  }

  /** Totals of the store now. */
  stats() {
    const st = openState(this, 'stats')
    st.registrations.flush() // queued registrations count as cells
    st.flushReleases() // released scoped handles hold no root
    return native.stats(st.index)
  }
}

Object.defineProperty(Store.prototype, Symbol.toStringTag, {
  value: 'Store', writable: false, enumerable: false, configurable: true,
})

module.exports = { Store, stateOf }
