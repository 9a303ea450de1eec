'use strict'
// Scopes at their edges (see scope.test.js for the API): the store closed
// under a scope, the native functions misused, a worker that ends with a
// scope open, whyAlive's view of scoped roots, getters that close the
// scope, and util.inspect through scoped reads.
const test = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const util = require('node:util')
const { Store } = require('..')
const native = require('../native.js')
const { stateOf } = require('../lib/store.js')
const { startWorker } = require('./helpers')

const RELEASED = { name: 'TypeError', code: 'ERR_WEAKSTORE_RELEASED' }
const SCOPE_CLOSED = { code: 'ERR_WEAKSTORE_SCOPE_CLOSED' }

test('a store closed with a scope open', async () => {
  const store = new Store({ manual: true })
  const scope = store.scope()
  const s = scope.alloc({ v: 1 })
  await store.close()
  assert.throws(() => s.get('v'), { name: 'TypeError', code: 'ERR_WEAKSTORE_CLOSED' })
  assert.throws(() => scope.alloc(), { code: 'ERR_WEAKSTORE_CLOSED' })
  assert.throws(() => store.scope(), { code: 'ERR_WEAKSTORE_CLOSED' })
  scope.close() // no throw
  assert.equal(scope.closed, true)
  assert.throws(() => s.get('v'), (err) => ['ERR_WEAKSTORE_CLOSED', 'ERR_WEAKSTORE_RELEASED'].includes(err.code))
  assert.throws(() => s.get('v'), RELEASED, 'a closed scope says so first')
  s.release() // no throw
  // Closed while the store is closing (before close() resolves).
  const store2 = new Store({ manual: true })
  const scope2 = store2.scope()
  scope2.alloc()
  const closing = store2.close()
  scope2.close()
  await closing
})

test('the native scope functions refuse misuse without crashing', () => {
  const names = ['openScope', 'closeScope', 'allocScoped', 'rootScoped', 'releaseScoped', 'getScoped', 'getScopedAt', 'keepForJob']
  for (const name of names) assert.equal(typeof native[name], 'function', name)
  const store = new Store({ manual: true })
  const index = stateOf(store).index
  const a = store.alloc({ n: 1 })
  const id = Number(a.id.split(':')[1])
  const n = native.openScope(index)
  const invalid = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
  assert.throws(() => native.allocScoped(index, n, 1), { ...invalid, message: /not the next place/ })
  assert.throws(() => native.allocScoped(index, n + 1000, 0), { ...invalid, message: /not open/ })
  assert.throws(() => native.rootScoped(index, n, 5, id), invalid)
  assert.throws(() => native.getScoped(index, n, 3, id, 'n'), invalid)
  assert.throws(() => native.getScopedAt(index, n + 1000, 0, id, 0), invalid)
  assert.equal(store.stats().objects, 1, 'a refused alloc allocated nothing')
  assert.equal(native.rootScoped(index, n, 0, 1.5), false, 'no such object id')
  assert.equal(native.keepForJob(index, -1), false)
  const placed = native.allocScoped(index, n, 0)
  assert.equal(typeof placed, 'number')
  assert.equal(store.stats().scopedRoots, 1)
  const pairs = (...xs) => Uint32Array.from(xs)
  native.releaseScoped(index, pairs(n, 99), 2) // an unknown place: a no-op
  native.releaseScoped(index, pairs(n + 1000, 0), 2) // an unknown scope: a no-op
  native.releaseScoped(index, pairs(n, 0), 1) // an odd count: the half pair is not read
  native.releaseScoped(index, pairs(n, 0), 1e6) // a count past the array: only the array is read
  assert.equal(store.stats().scopedRoots, 0, 'the last call dropped the root at place 0')
  native.closeScope(index, n + 1000)
  native.releaseScoped(index, pairs(n, 0, n, 0), 4) // twice: a no-op
  assert.equal(store.stats().scopedRoots, 0)
  // Not a Uint32Array: napi-rs's own argument check throws (an Error), no crash.
  assert.throws(() => native.releaseScoped(index, [n, 0], 2), Error)
  native.closeScope(index, n)
  native.closeScope(index, n)
  assert.equal(a.get('n'), 1)
})

test('a shared store: scoped reads in a worker, and a worker that ends with a scope open', async () => {
  const store = new Store({ manual: true })
  const head = store.alloc({ i: 0, next: store.alloc({ i: 1, next: store.alloc({ i: 2 }) }) })
  await store.collect()
  const before = store.stats().objects
  assert.equal(before, 3)
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData.shared)
    const head = store.resolve(workerData.id)
    const seen = store.scope((scope) => {
      const out = []
      for (let h = scope.handle(head); h !== undefined; h = h.get('next')) out.push(h.get('i'))
      return out
    })
    const afterWalk = store.stats().scopedRoots
    head.release()
    const open = store.scope()
    for (let i = 0; i < 5; i++) open.alloc({ w: i })
    send({ seen, afterWalk, open: store.stats().scopedRoots })
    await next()
    parentPort.close() // ends with the scope still open
  `, { shared: store.share(), id: head.id })
  const exited = once(worker, 'exit')
  try {
    assert.deepEqual(await next(), { seen: [0, 1, 2], afterWalk: 0, open: 5 })
    assert.equal(store.stats().scopedRoots, 0, 'scoped roots are per thread')
    await store.collect()
    assert.equal(store.stats().objects, before + 5, "the worker's open scope roots its objects")
    send('end')
    await exited
  } finally {
    await worker.terminate() // a no-op once it has ended; a failure must not leave it running
  }
  await store.collect()
  assert.equal(store.stats().attached, 1)
  assert.equal(store.stats().objects, before, "the ended worker's scope roots were dropped")
  assert.equal(head.get('next').get('i'), 1)
  await store.close()
})

test('whyAlive names a scoped root, which goes with its scope', async () => {
  const store = new Store({ manual: true })
  const child = store.alloc()
  const scope = store.scope()
  const parent = scope.alloc()
  parent.set('child', child)
  const path = await store.whyAlive(child)
  assert.deepEqual(path.map((s) => s.root ?? s.field), ['handle', 'child'])
  assert.equal(path[0].thread, 'main')
  assert.equal(path[0].id, Number(parent.id.split(':')[1]))
  scope.close()
  await store.collect()
  assert.equal(store.stats().objects, 1, 'the parent was freed')
  assert.equal(await store.whyAlive(child), null)
})

test('whyAlive counts a canonical and a scoped root of one object as two handles', async () => {
  const store = new Store({ manual: true })
  const c = store.alloc({ n: 1 })
  const scope = store.scope()
  scope.handle(c)
  // The handle asked about is not a reason; the scoped one is, as a handle.
  const path = await store.whyAlive(c)
  assert.deepEqual(path.map((s) => s.root), ['handle'])
  scope.close()
  assert.equal(await store.whyAlive(c), null, 'only the asked handle is left')
})

test('a fields getter that closes the scope: the scope-closed error, and nothing rooted elsewhere', async () => {
  const store = new Store({ manual: true })
  const scope = store.scope()
  // Reading `fields` runs getters: the scope is checked again after them.
  // A getter that closes it and opens another (which reuses its number)
  // must not get the object rooted in the new one.
  assert.throws(() => scope.alloc({ get x() { scope.close(); return 1 } }), SCOPE_CLOSED)
  const first = store.scope()
  let second
  assert.throws(() => first.alloc({ get x() { first.close(); second = store.scope(); return 1 } }), SCOPE_CLOSED)
  assert.equal(store.stats().scopedRoots, 0, 'nothing was rooted in the new scope')
  assert.doesNotThrow(() => second.alloc())
  second.close()
  await store.collect()
  assert.equal(store.stats().objects, 0)
})

test('util.inspect shows a cycle as [Circular] and leaves no handle or root behind', () => {
  const store = new Store({ manual: true })
  const c = store.alloc({ n: 1 })
  c.set('self', c)
  assert.equal(util.inspect(c), '<ref *1> Handle { n: 1, self: [Circular *1] }')
  const scope = store.scope()
  // Each read through a scoped handle is a new handle: cycles are found by
  // object, and the printing's own reads leave no root in the scope.
  assert.equal(util.inspect(scope.handle(c)), '<ref *1> Handle { n: 1, self: [Circular *1] }')
  assert.equal(store.stats().scopedRoots, 1, 'only the scoped handle printed')
  scope.close()
  const handles = store.stats().handles
  const d = store.alloc({ n: 2 })
  c.set('d', d)
  d.release()
  assert.match(util.inspect(c), /d: Handle \{ n: 2 \}/)
  assert.equal(store.stats().handles, handles, 'printing made no canonical handle')
  assert.equal(store.stats().scopedRoots, 0)
})

test('released scoped handles are dropped in batches, never into a later scope that reuses the number', async () => {
  const store = new Store({ manual: true })
  // A release queued in scope A, then A closed and B opened (B may get
  // A's number): the queued release must not empty B's place 0.
  const a = store.scope()
  const early = a.alloc({ n: 0 })
  a.alloc({ n: 1 })
  early.release()
  a.close()
  const b = store.scope()
  const kept = b.alloc({ n: 2 })
  for (let i = 0; i < 1000; i++) b.alloc({ i }).release() // past a batch: flushed on the way
  await store.collect()
  assert.equal(kept.get('n'), 2)
  assert.equal(store.stats().objects, 1, 'only the object b still holds')
  assert.equal(store.stats().scopedRoots, 1)
  b.close()
  await store.collect()
  assert.equal(store.stats().objects, 0)
})
