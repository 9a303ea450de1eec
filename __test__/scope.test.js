'use strict'
// Scopes (lib/scope.js, src/scope_api.rs, src/scoped.rs): handles whose
// roots belong to a scope and go when it closes; reads through them give
// handles of the same scope; escape() gives the canonical handle.
const test = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { Store, Scope, WeakRef, FinalizationRegistry, WeakMap } = require('..')
const { turn, cycleWithoutDelivery } = require('./helpers')

const RELEASED = { name: 'TypeError', code: 'ERR_WEAKSTORE_RELEASED' }
const SCOPE_CLOSED = { code: 'ERR_WEAKSTORE_SCOPE_CLOSED' }

test('store.scope() gives an open Scope; Scope is not constructible', () => {
  const store = new Store({ manual: true })
  const scope = store.scope()
  assert.ok(scope instanceof Scope)
  assert.equal(Object.prototype.toString.call(scope), '[object Scope]')
  assert.equal(scope.closed, false)
  assert.throws(() => new Scope(), { name: 'TypeError', code: 'ERR_ILLEGAL_CONSTRUCTOR' })
  scope.close()
  assert.equal(scope.closed, true)
})

test('scoped handles read and write every value kind like handles', () => {
  const store = new Store({ manual: true })
  const scope = store.scope()
  const h = scope.alloc({ n: -1.5, s: 'text', big: -(2n ** 70n), buf: Buffer.from('hi'), nil: null, t: true, f: false })
  assert.deepEqual(['n', 's', 'big', 'nil', 't', 'f', 'missing'].map((k) => h.get(k)),
    [-1.5, 'text', -(2n ** 70n), null, true, false, undefined])
  assert.equal(typeof h.get('big'), 'bigint', 'a bigint comes back as a bigint, not boxed')
  assert.ok(Buffer.isBuffer(h.get('buf')))
  assert.deepEqual([...h.get('buf')], [104, 105])
  assert.equal(h.set('more', 7n), h, 'set returns the handle')
  assert.equal(h.get('more'), 7n)
  assert.deepEqual(h.keys(), ['n', 's', 'big', 'buf', 'nil', 't', 'f', 'more'])
  assert.deepEqual([h.has('t'), h.delete('t'), h.delete('t'), h.has('t')], [true, true, false, false])
  assert.equal(h.released, false)
  assert.match(h.id, /^\d+:\d+$/)
  scope.close()
})

test('closing a scope drops its roots; its handles and methods throw', async () => {
  const store = new Store({ manual: true })
  const kept = store.alloc()
  const scope = store.scope()
  const hs = []
  for (let i = 0; i < 5; i++) hs.push(scope.alloc({ i }))
  assert.equal(store.stats().scopedRoots, 5)
  assert.equal(store.stats().objects, 6)
  await store.collect()
  assert.equal(store.stats().objects, 6, 'an open scope roots its objects')
  scope.close()
  assert.equal(scope.closed, true)
  assert.equal(store.stats().scopedRoots, 0)
  await store.collect()
  assert.equal(store.stats().objects, 1, 'the 5 scoped objects were freed')
  const h = hs[0]
  for (const call of [() => h.get('i'), () => h.set('i', 1), () => h.has('i'), () => h.delete('i'), () => h.keys()]) {
    assert.throws(call, { ...RELEASED, message: /scope closed.*scope\.escape/ })
  }
  assert.equal(h.released, true)
  assert.equal(util.inspect(h), 'Handle <released>')
  h.release() // a no-op, not an error
  assert.throws(() => scope.alloc(), SCOPE_CLOSED)
  assert.throws(() => scope.handle(kept), SCOPE_CLOSED)
  assert.throws(() => scope.escape(kept), SCOPE_CLOSED)
  scope.close() // idempotent
  assert.equal(kept.released, false)
  // Symbol.dispose closes
  const disposed = store.scope()
  disposed.alloc()
  assert.equal(store.stats().scopedRoots, 1)
  disposed[Symbol.dispose]()
  assert.equal(disposed.closed, true)
  assert.equal(store.stats().scopedRoots, 0)
})

test('a read through a scoped handle gives a new handle of the scope; a canonical read, the canonical handle', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const b = store.alloc({ v: 1 })
  a.set('b', b)
  assert.equal(a.get('b'), b)
  const scope = store.scope()
  const sa = scope.handle(a)
  assert.notEqual(sa, a)
  assert.equal(sa.id, a.id)
  const r1 = sa.get('b')
  const r2 = sa.get('b')
  assert.notEqual(r1, b, 'not the canonical handle')
  assert.notEqual(r1, r2, 'each read is a new handle')
  assert.equal(r1.id, b.id)
  assert.equal(r2.get('v'), 1)
  assert.equal(store.stats().scopedRoots, 3)
  assert.equal(store.stats().handles, 2, 'no canonical handle was made')
  scope.close()
  assert.equal(r1.released, true)
  assert.throws(() => r2.get('v'), RELEASED)
  assert.equal(a.get('b'), b, 'the canonical handles are untouched')
  assert.equal(b.get('v'), 1)
})

test('releasing a scoped handle drops its own root only', async () => {
  const store = new Store({ manual: true })
  const c = store.alloc({ v: 1 })
  const scope = store.scope()
  const s = scope.handle(c)
  const s2 = scope.handle(c)
  assert.equal(store.stats().scopedRoots, 2)
  s.release()
  s.release() // idempotent
  assert.equal(s.released, true)
  assert.throws(() => s.get('v'), RELEASED)
  assert.equal(store.stats().scopedRoots, 1)
  assert.equal(s2.get('v'), 1, 'another scoped handle of the object is unaffected')
  assert.equal(c.released, false)
  assert.equal(c.get('v'), 1)
  // A helper's release() of its own read must not release the caller's handle.
  const parent = store.alloc()
  const child = store.alloc({ v: 2 })
  parent.set('child', child)
  const helper = (sc, p) => {
    const mine = sc.handle(p).get('child')
    const v = mine.get('v')
    mine.release()
    return v
  }
  assert.equal(helper(scope, parent), 2)
  assert.equal(child.released, false)
  assert.equal(child.get('v'), 2)
  assert.equal(parent.get('child'), child)
  scope.close()
  await store.collect()
  assert.equal(store.stats().objects, 3, 'the canonical handles still root their objects')
  assert.equal(c.get('v'), 1)
})

test('a walk of 10,000 objects in a scope leaves no root and no handle behind', async () => {
  const store = new Store({ manual: true })
  const N = 10000
  const head = store.alloc({ i: 0 })
  for (let i = 1, prev = head; i < N; i++) {
    const node = store.alloc({ i })
    prev.set('next', node)
    if (prev !== head) prev.release()
    prev = node
    if (i === N - 1) node.release()
  }
  await store.collect()
  assert.equal(store.stats().objects, N)
  const handles = store.stats().handles
  const { count, sum, roots } = store.scope((scope) => {
    let count = 0, sum = 0
    for (let h = scope.handle(head); h !== undefined; h = h.get('next')) {
      count++
      sum += h.get('i')
    }
    return { count, sum, roots: store.stats().scopedRoots }
  })
  assert.equal(count, N)
  assert.equal(sum, (N * (N - 1)) / 2)
  assert.equal(roots, N, 'one root per handle while the scope is open')
  assert.equal(store.stats().scopedRoots, 0)
  assert.equal(store.stats().handles, handles, 'the walk made no canonical handle')
  await store.collect()
  assert.equal(store.stats().objects, N, 'the head still holds the list')
  head.release()
  await store.collect()
  assert.equal(store.stats().objects, 0)
})

test('escape() gives the canonical handle, which outlives the scope', async () => {
  const store = new Store({ manual: true })
  const c = store.alloc({ v: 1 })
  const scope = store.scope()
  assert.equal(scope.escape(scope.handle(c)), c, 'the live canonical handle')
  assert.equal(scope.escape(c), c)
  const e = scope.escape(scope.alloc({ v: 2 }))
  assert.equal(e, scope.escape(e))
  assert.equal(store.stats().handles, 2)
  scope.close()
  await store.collect()
  assert.equal(store.stats().objects, 2, 'the escaped object lives on')
  assert.equal(e.released, false)
  assert.equal(e.get('v'), 2)
  e.release()
  await store.collect()
  assert.equal(store.stats().objects, 1)
})

test('store.scope(fn) closes the scope when fn returns, throws, or its promise settles', async () => {
  const store = new Store({ manual: true })
  let seen
  assert.equal(store.scope((scope) => { seen = scope; scope.alloc(); return 'value' }), 'value')
  assert.ok(seen instanceof Scope)
  assert.equal(seen.closed, true)
  const boom = new Error('boom')
  assert.throws(() => store.scope((scope) => { seen = scope; scope.alloc(); throw boom }), (err) => err === boom)
  assert.equal(seen.closed, true)
  assert.equal(store.stats().scopedRoots, 0)
  let release
  const pending = store.scope(async (scope) => {
    const h = (seen = scope).alloc({ v: 3 })
    await new Promise((r) => { release = r })
    return h.get('v')
  })
  assert.ok(pending instanceof Promise)
  await turn()
  assert.equal(seen.closed, false, 'open while the promise is pending')
  assert.equal(store.stats().scopedRoots, 1)
  release()
  assert.equal(await pending, 3)
  assert.equal(seen.closed, true)
  await assert.rejects(store.scope(async (scope) => { seen = scope; scope.alloc(); await turn(); throw boom }),
    (err) => err === boom)
  assert.equal(seen.closed, true)
  assert.equal(store.stats().scopedRoots, 0)
  for (const bad of [42, null, 'fn', {}]) {
    assert.throws(() => store.scope(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, String(bad))
  }
  await store.collect()
  assert.equal(store.stats().objects, 0)
})

test('KeepDuringJob: a WeakRef to a scoped handle keeps its object until the job ends', async () => {
  const store = new Store({ manual: true })
  const scope = store.scope()
  const ref = new WeakRef(scope.alloc({ v: 7 }))
  scope.close()
  assert.equal(store.stats().scopedRoots, 0)
  cycleWithoutDelivery(store) // a full cycle within this job
  assert.equal(store.stats().objects, 1, 'kept for the job')
  const h = ref.deref()
  assert.ok(h !== undefined)
  assert.equal(h.released, false)
  assert.equal(h.get('v'), 7)
  assert.equal(ref.deref(), h, 'deref gives the canonical handle')
  h.release()
  await turn() // the job ends
  await store.collect()
  assert.equal(store.stats().objects, 0)
  assert.equal(ref.deref(), undefined)
})

test('scoped handles as FinalizationRegistry targets, held values and tokens, and as WeakMap keys', async () => {
  const store = new Store({ manual: true })
  const calls = []
  const reg = new FinalizationRegistry((held) => calls.push(held))
  const scope = store.scope()
  reg.register(scope.alloc(), 'target')
  const keep = store.alloc()
  const heldScoped = scope.alloc({ v: 'held' })
  const heldId = heldScoped.id
  reg.register(keep, heldScoped)
  const tokenObj = store.alloc()
  reg.register(store.alloc(), 'unregistered', scope.handle(tokenObj))
  const key = store.alloc({ v: 'key' })
  const m = new WeakMap()
  m.set(scope.handle(key), 'value')
  assert.equal(m.get(key), 'value', 'found through the canonical handle')
  assert.equal(reg.unregister(tokenObj), true, 'the canonical handle names the scoped token')
  scope.close()
  await store.collect()
  assert.deepEqual(calls, ['target'])
  assert.equal(m.get(key), 'value')
  assert.equal(store.stats().objects, 4, 'keep, the held object, the token object and the key')
  keep.release()
  await store.collect()
  assert.equal(calls.length, 2)
  assert.equal(calls[1].id, heldId, 'the held value comes back as a handle of the same object')
  assert.equal(calls[1].get('v'), 'held')
})

test('wrong arguments to scope methods', async () => {
  const store = new Store({ manual: true })
  const other = new Store({ manual: true })
  const scope = store.scope()
  for (const bad of [42, {}, null, undefined, 'x']) {
    assert.throws(() => scope.handle(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
    assert.throws(() => scope.escape(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  const foreign = other.alloc()
  assert.throws(() => scope.handle(foreign), { code: 'ERR_INVALID_ARG_VALUE', message: /another Store/ })
  assert.throws(() => scope.escape(foreign), { code: 'ERR_INVALID_ARG_VALUE', message: /another Store/ })
  const gone = store.alloc()
  gone.release()
  assert.throws(() => scope.handle(gone), RELEASED)
  assert.throws(() => scope.escape(gone), RELEASED)
  const closedScope = store.scope()
  const stale = closedScope.alloc()
  closedScope.close()
  assert.throws(() => scope.handle(stale), RELEASED)
  assert.throws(() => new WeakRef(stale), RELEASED)
  assert.throws(() => Scope.prototype.close.call({}), { code: 'ERR_INVALID_THIS' })
  assert.throws(() => scope.alloc([1]), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.equal(store.stats().scopedRoots, 0, 'nothing was rooted by a refused call')
  scope.close()
  await other.close()
})
