'use strict'
// Roots, reachability, WeakRef and KeepDuringJob. Every test drops its
// references, awaits store.collect(), then asserts.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, WeakRef } = require('..')
const { scoped, turn, assertOnlyChildRootsIt, testHooks } = require('./helpers')

test('a released handle stops being a root at once; reachable objects live', async () => {
  const store = new Store({ manual: true })
  const root = store.alloc({ name: 'root' })
  const child = store.alloc({ name: 'child' })
  root.set('child', child)
  const loose = store.alloc({ name: 'loose' })
  const wChild = new WeakRef(child)
  const wLoose = new WeakRef(loose)
  child.release()
  loose.release()
  await store.collect()
  assert.equal(wLoose.deref(), undefined)
  assert.equal(wChild.deref().get('name'), 'child', 'reachable through a field')
  assert.equal(root.get('child'), wChild.deref())
})

test('cycles without roots are collected', async () => {
  const store = new Store({ manual: true })
  const refs = scoped(() => {
    const out = []
    for (let i = 0; i < 100; i++) {
      const a = store.alloc({ i })
      const b = store.alloc({ a })
      a.set('b', b)
      out.push(new WeakRef(a), new WeakRef(b))
      a.release()
      b.release()
    }
    return out
  })
  const figures = await store.collect()
  assert.equal(figures.freed, 200)
  assert.ok(refs.every((r) => r.deref() === undefined))
  assert.equal(store.stats().objects, 0)
})

test('wrappers that V8 collects stop being roots (with --expose-gc)', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const keep = store.alloc({ name: 'keep' })
  const refs = scoped(() => {
    const out = []
    for (let i = 0; i < 1000; i++) {
      const h = store.alloc({ i, blob: Buffer.alloc(64) })
      out.push(new WeakRef(h))
      if (i % 2 === 0) keep.set(`k${i}`, h)
    }
    return out
  })
  await store.collect()
  const alive = refs.filter((r) => r.deref() !== undefined).length
  assert.equal(alive, 500, 'only the objects reachable from `keep` survive')
  assert.equal(store.stats().objects, 501)
})

test('deref returns the canonical wrapper, then undefined forever', async () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ n: 1 })
  const ref = new WeakRef(a)
  assert.equal(ref.deref(), a)
  assert.equal(ref.deref(), a)
  a.release()
  await store.collect()
  assert.equal(ref.deref(), undefined)
  // A new object may reuse the slot; the old ref must not see it.
  const b = store.alloc({ n: 2 })
  assert.equal(ref.deref(), undefined)
  assert.equal(b.get('n'), 2)
})

test('deref of a live object whose wrapper V8 collected makes a fresh canonical wrapper', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const parent = store.alloc()
  const ref = scoped(() => {
    const child = store.alloc({ tag: 'child' })
    parent.set('child', child)
    return new WeakRef(child)
  })
  await store.collect() // the wrapper dies, the object lives through `parent`
  const fresh = ref.deref()
  assert.equal(fresh.get('tag'), 'child')
  assert.equal(parent.get('child'), fresh)
})

test('KeepDuringJob: a deref\'d target survives a background cycle in the same job', async () => {
  // A small budget so that allocation starts cycles on the collector thread.
  const store = new Store({ budget: 64 * 1024 })
  const ref = scoped(() => {
    const t = store.alloc({ tag: 'target' })
    const r = new WeakRef(t)
    t.release()
    return r
  })
  await store.collect() // ends the job that created it: the target is gone
  assert.equal(ref.deref(), undefined)

  const target = store.alloc({ tag: 'kept' })
  const ref2 = new WeakRef(target)
  await new Promise((resolve) => setImmediate(resolve)) // new job
  const got = ref2.deref()
  assert.equal(got, target)
  target.release() // dropped in the same job
  const before = store.stats().collections
  // Allocate past the budget and spin (same job) until a cycle completes.
  const junk = []
  while (store.stats().collections < before + 2) {
    const j = store.alloc({ b: Buffer.alloc(4096) })
    j.release()
    if (junk.length < 10) junk.push(j)
  }
  assert.equal(ref2.deref().get('tag'), 'kept', 'kept alive until the job ends')
  await store.collect()
  assert.equal(ref2.deref(), undefined, 'and collected after it')
})

test('new WeakRef keeps its target for the current job too', async () => {
  const store = new Store({ budget: 64 * 1024 })
  const a = store.alloc({ tag: 'a' })
  const ref = new WeakRef(a)
  a.release()
  const before = store.stats().collections
  while (store.stats().collections < before + 2) store.alloc({ b: Buffer.alloc(4096) }).release()
  assert.equal(ref.deref().get('tag'), 'a')
})

test('allocation volume triggers cycles with no collect() call; memory stays bounded', async () => {
  const budget = 1 << 20
  const store = new Store({ budget })
  let peak = 0
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 1000; i++) {
      const a = store.alloc({ i, blob: Buffer.alloc(64) })
      const b = store.alloc({ a })
      a.set('b', b) // a cycle
      a.release()
      b.release()
    }
    peak = Math.max(peak, store.stats().bytes)
    // Between rounds the program waits like one doing I/O (a timer, not a
    // bare turn), so the collector threads, which run below the program's
    // priority, get the CPU even when other processes load the machine.
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  const stats = store.stats()
  assert.ok(stats.collections > 5, `cycles ran by themselves (${stats.collections})`)
  assert.ok(peak < 8 * budget, `peak ${peak} bytes stays within a few budgets (${budget})`)
  assert.equal(stats.anomalies, 0)
})

test('WeakRef refuses non-handles and released handles', () => {
  const store = new Store({ manual: true })
  for (const bad of [undefined, null, 1, 'x', {}, Symbol('s')]) {
    assert.throws(() => new WeakRef(bad), TypeError)
  }
  const a = store.alloc()
  a.release()
  assert.throws(() => new WeakRef(a), { name: 'TypeError', message: /released/ })
})

test('death reports: handles released in their job, released later, and dropped later all end right', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  // Released in the job that made them: never registered with V8.
  for (let i = 0; i < 100; i++) store.alloc({ i }).release()
  // Registered at the end of this job; some released, some dropped later.
  let later = Array.from({ length: 200 }, (_, i) => store.alloc({ i }))
  await new Promise((resolve) => setImmediate(resolve))
  for (let i = 0; i < 100; i++) later[i].release() // unregisters
  const kept = later[199]
  later = null
  await store.collect()
  const stats = store.stats()
  assert.equal(stats.objects, 1, 'every released or dropped object went; the kept one stayed')
  assert.equal(kept.get('i'), 199)
  assert.equal(stats.anomalies, 0)
  assert.equal(stats.handles, 1)
})

test('a handle that died before its death was handled: the new handle keeps the root, the stale death is ignored', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const native = testHooks()
  const store = new Store({ manual: true })
  const parent = store.alloc()
  scoped(() => parent.set('child', store.alloc({ v: 1 }))) // the child's handle is dropped
  await turn() // no longer kept for its job
  native.holdHandleDeaths(true)
  let child
  try {
    globalThis.gc() // the child's handle dies
    await turn() // Node runs its finalizer, which queues the death; held, it stays queued
    child = parent.get('child') // a new handle replaces the dead entry and takes over its root
  } finally {
    native.holdHandleDeaths(false)
  }
  assert.equal(store.stats().handles, 2, 'the queued death was handled: stale, it removed nothing')
  await assertOnlyChildRootsIt(assert, store, parent, child)
})

test('a released handle that dies later drops no root (its finalizer finds its entry gone)', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  // release() deletes the handle's Node-API reference. Should Node still
  // run its finalizer when V8 collects the handle, the object may have a
  // new canonical handle by then, whose root must stay: a finalizer acts
  // only on its own entry (its ticket). The next test forces that case.
  const store = new Store({ manual: true })
  const parent = store.alloc()
  scoped(() => parent.set('child', store.alloc({ v: 1 })))
  scoped(() => {
    const old = parent.get('child')
    old.release()
    assert.equal(store.stats().handles, 1, 'released: untracked at once (only the parent is left)')
  })
  await turn() // the released handle is no longer kept for its job
  const child = parent.get('child') // a new canonical handle, with its own root
  assert.equal(store.stats().handles, 2)
  globalThis.gc() // the released handle dies; Node queues its finalizer
  await turn()
  await turn()
  const stats = await assertOnlyChildRootsIt(assert, store, parent, child)
  assert.equal(stats.handles, 0)
})
