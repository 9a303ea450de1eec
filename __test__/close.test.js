'use strict'
// Store.prototype.close and Symbol.asyncDispose: deterministic teardown.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { Store, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = require('..')
const { turn } = require('./helpers')

const CLOSED = { name: 'TypeError', code: 'ERR_WEAKSTORE_CLOSED' }

/** This process's threads (Linux); null elsewhere. */
const threads = () => (fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task').length : null)

/**
 * The thread count once it is back to `expected` or below, or what it is
 * after 200 ms. A joined thread can stay listed in /proc for a moment after the
 * join returns (the kernel releases its task entry afterwards), longer on a
 * loaded machine. (That close() joins before it returns is proven without
 * timing by the core's `close_waits_for_the_collector_...` test.)
 */
async function threadsSettled(expected) {
  for (let i = 0; i < 200 && threads() > expected; i++) await new Promise((resolve) => setTimeout(resolve, 1))
  return threads()
}

test('close() stops the collector thread and frees every object before it resolves', async () => {
  // close() joins the collector on the libuv thread pool, whose threads
  // start with its first use and stay: start them before counting.
  await new Store({ threads: 1 }).close()
  const before = threads()
  const store = new Store({ threads: 2 })
  const a = store.alloc({ name: 'a' })
  a.set('self', a)
  await store.collect()
  if (before !== null) assert.ok(threads() > before, 'the store runs a collector thread')
  const closing = store.close()
  assert.equal(store.closed, true)
  assert.equal(store.close(), closing, 'close() is idempotent')
  await closing
  if (before !== null) assert.ok(await threadsSettled(before) <= before, 'a collector thread outlived close()')
  assert.throws(() => store.alloc(), CLOSED)
  assert.throws(() => store.stats(), CLOSED)
  await assert.rejects(store.collect(), CLOSED)
  assert.throws(() => a.get('name'), CLOSED)
  assert.throws(() => a.set('x', 1), CLOSED)
  a.release() // releasing a handle of a closed store is a no-op, not an error
  assert.equal(a.released, true)
})

test('close() delivers the callbacks already due, and waits for collect() calls in flight', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const registry = new FinalizationRegistry((held) => seen.push(held))
  let a = store.alloc()
  registry.register(a, 'due')
  const kept = store.alloc()
  registry.register(kept, 'kept')
  await turn()
  a.release()
  a = null
  const inFlight = store.collect()
  const closing = store.close()
  const figures = await inFlight
  assert.equal(figures.freed, 1)
  await closing
  assert.deepEqual(seen, ['due'], 'the due callback ran; the live target\'s registration went with the store')
  await turn()
  assert.deepEqual(seen, ['due'])
})

test('after close(), weak references read empty and nothing throws where the built-ins would not', async () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const ref = new WeakRef(a)
  const map = new WeakMap([[a, { v: 1 }]])
  const set = new WeakSet([a])
  const registry = new FinalizationRegistry(() => assert.fail('no callback for a closed store\'s live target'))
  const token = {}
  registry.register(a, 'x', token)
  await turn()
  const seen = new WeakRef(a)
  assert.equal(seen.deref(), a) // takes the handle's fast path (its SelfRef)
  await store.close()
  assert.equal(ref.deref(), undefined)
  assert.equal(seen.deref(), undefined, 'the fast path also reads empty while the handle is reachable')
  assert.equal(map.get(a), undefined)
  assert.equal(map.has(a), false)
  assert.equal(map.delete(a), false)
  assert.equal(set.has(a), false)
  assert.equal(registry.unregister(token), false)
  assert.throws(() => new WeakRef(a), CLOSED)
  assert.throws(() => map.set(a, 1), CLOSED)
  assert.throws(() => set.add(a), CLOSED)
  assert.throws(() => registry.register(a, 'y'), CLOSED)
  await turn()
})

test('a closed store\'s handles never reach a later store that reuses its slot', async () => {
  const first = new Store({ manual: true })
  const old = first.alloc({ v: 'old' })
  await first.close()
  const second = new Store({ manual: true })
  const fresh = second.alloc({ v: 'new' })
  assert.throws(() => old.get('v'), CLOSED)
  assert.equal(fresh.get('v'), 'new')
  assert.equal(second.stats().objects, 1)
  await second.close()
})

test('Symbol.asyncDispose closes the store', async () => {
  const store = new Store({ manual: true })
  assert.equal(typeof store[Symbol.asyncDispose], 'function')
  store.alloc()
  await store[Symbol.asyncDispose]()
  assert.equal(store.closed, true)
  assert.throws(() => store.alloc(), CLOSED)
  await assert.rejects(Store.prototype.close.call({}), { code: 'ERR_INVALID_THIS' })
})

test('many stores opened and closed leave no thread behind', async () => {
  const before = threads()
  for (let i = 0; i < 200; i++) {
    const store = new Store({ threads: 1 })
    store.alloc({ i }).set('n', i)
    await store.close()
  }
  // At most as many as before: a thread of an earlier test's store that
  // was still listed when `before` was counted may be gone by now.
  if (before !== null) assert.ok(await threadsSettled(before) <= before, `${threads()} threads, ${before} before`)
})

test('close() lets go of the held values of the registrations it dropped', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const a = store.alloc()
  const registry = new FinalizationRegistry(() => assert.fail('no callback for a closed store\'s live target'))
  const heldRef = (() => {
    const held = { payload: 'a held value' }
    registry.register(a, held)
    return new globalThis.WeakRef(held)
  })()
  await turn()
  await store.close()
  // (deref() keeps its target until the job ends: collect first, each time.)
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    if (heldRef.deref() === undefined) break
    await turn()
  }
  assert.equal(heldRef.deref(), undefined, 'the held value was collected while the store\'s handle lives on')
  assert.throws(() => a.get('x'), CLOSED)
  assert.equal(typeof registry.register, 'function')
})

test('from the close() call on, the store, its handles and writes through weak collections throw ERR_WEAKSTORE_CLOSED, naming the method', async () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ v: 1 })
  const b = store.alloc()
  const ref = new WeakRef(a)
  const map = new WeakMap([[a, 'kept off-heap'], [b, { on: 'the V8 heap' }]])
  const set = new WeakSet([a])
  const registry = new FinalizationRegistry(() => {})
  await turn()
  const closing = store.close()
  const named = (where) => ({ ...CLOSED, message: new RegExp(`^${where.replace(/[.()]/g, '\\$&')}: `) })
  const checks = () => {
    // Handles: a write is refused, not accepted and then lost with the store.
    assert.throws(() => a.set('v', 2), named('Handle.prototype.set'))
    assert.throws(() => a.set('peer', b), named('Handle.prototype.set'))
    assert.throws(() => a.get('v'), named('Handle.prototype.get'))
    assert.throws(() => a.has('v'), named('Handle.prototype.has'))
    assert.throws(() => a.delete('v'), named('Handle.prototype.delete'))
    assert.throws(() => a.keys(), named('Handle.prototype.keys'))
    assert.match(a.id, /^\d+:\d+$/, 'an id is still a name')
    // The Store.
    assert.throws(() => store.alloc(), named('Store.prototype.alloc'))
    assert.throws(() => store.stats(), named('Store.prototype.stats'))
    assert.throws(() => store.pin('p', a), named('Store.prototype.pin'))
    assert.throws(() => store.pinned('p'), named('Store.prototype.pinned'))
    assert.throws(() => store.resolve(a.id), named('Store.prototype.resolve'))
    assert.throws(() => store.share(), named('Store.prototype.share'))
    // Weak collections and registries: writes throw, lookups miss.
    assert.throws(() => new WeakRef(a), named('WeakRef (target)'))
    assert.equal(ref.deref(), undefined)
    assert.throws(() => map.set(a, 2), named('WeakMap.prototype.set (key)'))
    assert.throws(() => map.getOrInsert(a, 2), named('WeakMap.prototype.getOrInsert (key)'))
    assert.throws(() => map.getOrInsertComputed(a, () => 2), named('WeakMap.prototype.getOrInsertComputed (key)'))
    assert.throws(() => set.add(b), named('WeakSet.prototype.add (key)'))
    assert.equal(map.get(a), undefined)
    assert.equal(map.get(b), undefined)
    assert.equal(map.has(a), false)
    assert.equal(set.has(a), false)
    assert.throws(() => registry.register(a, 'x'), named('FinalizationRegistry.prototype.register (target)'))
  }
  checks() // while the close is pending
  await closing
  checks() // and once it is done
  a.release() // a no-op, not an error
  assert.equal(a.released, true)
})

test('an alloc() whose fields close the store throws and allocates nothing', async () => {
  const native = require('../native.js')
  const { stateOf } = require('../lib/store.js')
  const store = new Store({ manual: true })
  const index = stateOf(store).index
  store.alloc({ before: true })
  const counts = () => {
    const s = native.stats(index) // the native store lives until the job ends
    return { objects: s.objects, handles: s.handles }
  }
  const before = counts()
  assert.throws(() => store.alloc({ a: 1, get b() { throw new Error('a getter that throws') }, c: 3 }), /a getter that throws/)
  assert.deepEqual(counts(), before, 'a getter that throws leaves nothing allocated')
  let read = 0
  const fields = {
    a: 1,
    get b() {
      store.close()
      return 2
    },
    get c() {
      read++
      return 3
    },
  }
  assert.throws(() => store.alloc(fields), { ...CLOSED, message: /^Store\.prototype\.alloc: / })
  assert.equal(read, 1, 'every field was read (once)')
  assert.deepEqual(counts(), before, 'nothing was allocated')
  await store.close()
})
