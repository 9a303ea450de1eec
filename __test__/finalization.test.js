'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, FinalizationRegistry, WeakRef } = require('..')
const { scoped, turn, cycleWithoutDelivery } = require('./helpers')

test('callback runs once per collected target, with the held value and this undefined', async () => {
  const store = new Store({ manual: true })
  const calls = []
  const reg = new FinalizationRegistry(function (held) {
    calls.push({ held, self: this })
  })
  const a = store.alloc()
  const b = store.alloc()
  const held = { label: 'object held value' }
  reg.register(a, 'a')
  reg.register(b, held)
  reg.register(b, 'b twice')
  a.release()
  b.release()
  await store.collect()
  assert.equal(calls.length, 3)
  assert.ok(calls.every((c) => c.self === undefined))
  assert.deepEqual(calls.map((c) => c.held).sort((x, y) => String(x).localeCompare(String(y))), ['a', 'b twice', held].sort((x, y) => String(x).localeCompare(String(y))))
  assert.ok(calls.some((c) => c.held === held), 'the same held object, not a copy')
  await store.collect()
  assert.equal(calls.length, 3, 'never twice')
})

test('callbacks never run synchronously in register, unregister, deref or collect', async () => {
  const store = new Store({ manual: true })
  let calls = 0
  const reg = new FinalizationRegistry(() => { calls++ })
  const a = store.alloc()
  const ref = new WeakRef(a)
  reg.register(a, 1)
  a.release()
  const p = store.collect()
  assert.equal(calls, 0, 'not inside collect()')
  await p
  assert.equal(calls, 1)
  const b = store.alloc()
  const token = {}
  reg.register(b, 2, token)
  assert.equal(calls, 1)
  ref.deref()
  assert.equal(reg.unregister(token), true)
  assert.equal(calls, 1)
})

test('a handle held value keeps its object alive and is delivered usable', async () => {
  const store = new Store({ manual: true })
  let delivered
  const reg = new FinalizationRegistry((h) => { delivered = h })
  const target = store.alloc()
  const resource = store.alloc({ path: '/tmp/x' })
  const resourceRef = new WeakRef(resource)
  reg.register(target, resource)
  resource.release() // only the registration holds it now
  await store.collect()
  assert.equal(resourceRef.deref().get('path'), '/tmp/x', 'held values are strong')
  target.release()
  await store.collect()
  assert.equal(delivered.get('path'), '/tmp/x')
  assert.equal(delivered.released, false)
  delivered.release()
  delivered = undefined
  await store.collect()
  assert.equal(resourceRef.deref(), undefined, 'and freed after delivery')
})

test('unregister removes every registration with the token and says whether any was removed', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const a = store.alloc()
  const b = store.alloc()
  const token = {}
  const sym = Symbol('token')
  reg.register(a, 'a1', token)
  reg.register(b, 'b1', token)
  reg.register(b, 'b2', sym)
  reg.register(a, 'a2', a) // the target as its own token (the common pattern)
  assert.equal(reg.unregister(token), true)
  assert.equal(reg.unregister(token), false)
  assert.equal(reg.unregister({}), false)
  assert.equal(reg.unregister(a), true)
  a.release()
  b.release()
  await store.collect()
  assert.deepEqual(seen, ['b2'])
  assert.equal(reg.unregister(sym), false, 'delivered cells are gone')
})

test('a released handle still works as an unregister token', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const h = store.alloc()
  reg.register(h, 'held', h)
  h.release()
  assert.equal(reg.unregister(h), true)
  await store.collect()
  assert.deepEqual(seen, [])
})

test('unregister cancels a callback whose target was collected but not yet delivered', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const token = {}
  scoped(() => {
    const a = store.alloc()
    reg.register(a, 'cancelled', token)
    a.release()
  })
  const p = store.collect()
  // collect() yields a turn first; the cycle runs later. Unregister now.
  assert.equal(reg.unregister(token), true)
  await p
  assert.deepEqual(seen, [])
})

test('the unregister token is held weakly; registrations survive its death', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const target = store.alloc()
  const tokenRef = scoped(() => {
    const token = { big: new Array(1000).fill(0) }
    reg.register(target, 'still registered', token)
    return new globalThis.WeakRef(token)
  })
  await store.collect()
  assert.equal(tokenRef.deref(), undefined, 'the registry did not keep the token alive')
  target.release()
  await store.collect()
  assert.deepEqual(seen, ['still registered'])
})

test('register and unregister validate their arguments', () => {
  const store = new Store({ manual: true })
  const reg = new FinalizationRegistry(() => {})
  const a = store.alloc()
  assert.throws(() => new FinalizationRegistry(), TypeError)
  assert.throws(() => new FinalizationRegistry({}), TypeError)
  for (const bad of [undefined, null, 1, 'x', {}, Symbol('s')]) {
    assert.throws(() => reg.register(bad, 1), { name: 'TypeError', message: /Handle/ })
  }
  assert.throws(() => reg.register(a, a), { name: 'TypeError', message: /same/ })
  for (const bad of [1, 'x', null, true, Symbol.for('registered')]) {
    assert.throws(() => reg.register(a, 1, bad), TypeError, String(bad))
    assert.throws(() => reg.unregister(bad), TypeError, String(bad))
  }
  assert.throws(() => reg.unregister(), TypeError)
  assert.equal(reg.register(a, 1, undefined), undefined)
  const released = store.alloc()
  released.release()
  assert.throws(() => reg.register(released, 1), { name: 'TypeError', message: /released/ })
  assert.throws(() => reg.register(a, released), { name: 'TypeError', message: /released/ })
})

test('a throwing callback is reported as uncaughtException and the others still run', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => {
    seen.push(held)
    if (held === 'boom') throw new Error('callback failed')
  })
  for (const held of ['one', 'boom', 'two']) {
    const h = store.alloc()
    reg.register(h, held)
    h.release()
  }
  const errors = []
  const listeners = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  process.on('uncaughtException', (err) => errors.push(err))
  try {
    await store.collect()
    await turn()
  } finally {
    process.removeAllListeners('uncaughtException')
    for (const l of listeners) process.on('uncaughtException', l)
  }
  assert.deepEqual(seen.sort(), ['boom', 'one', 'two'])
  assert.equal(errors.length, 1)
  assert.equal(errors[0].message, 'callback failed')
})

test('callbacks may re-enter the store and the registry', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => {
    seen.push(held)
    if (held < 3) {
      const next = store.alloc({ n: held + 1 })
      reg.register(next, held + 1)
      next.release()
      reg.unregister({})
    }
  })
  const first = store.alloc()
  reg.register(first, 0)
  first.release()
  await store.collect()
  await store.collect()
  await store.collect()
  await store.collect()
  assert.deepEqual(seen, [0, 1, 2, 3])
})

test('a registry that becomes garbage drops its callbacks without crashing', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  let calls = 0
  const heldRef = scoped(() => {
    const reg = new FinalizationRegistry(() => { calls++ })
    const held = store.alloc({ held: true })
    for (let i = 0; i < 100; i++) {
      const h = store.alloc()
      reg.register(h, i % 2 ? i : held)
      h.release()
    }
    const ref = new WeakRef(held)
    held.release()
    return ref
  })
  await store.collect()
  await store.collect()
  assert.equal(calls, 0)
  assert.equal(heldRef.deref(), undefined, 'held handles of a dead registry are freed')
  assert.equal(store.stats().finalizationCells, 0)
})

test('one registry serves several stores', async () => {
  const s1 = new Store({ manual: true })
  const s2 = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const a = s1.alloc()
  const b = s2.alloc()
  const token = {}
  reg.register(a, 's1', token)
  reg.register(b, 's2', token)
  a.release()
  await s1.collect()
  assert.deepEqual(seen, ['s1'])
  assert.equal(reg.unregister(token), true)
  b.release()
  await s2.collect()
  assert.deepEqual(seen, ['s1'])
})

test('a callback that cancels a later callback of its batch and registers anew gets neither mixed up', async () => {
  const store = new Store({ manual: true })
  const seen = []
  let fresh
  const tokenB = {}
  const reg = new FinalizationRegistry((held) => {
    seen.push(held)
    if (held === 'A') {
      reg.unregister(tokenB) // B's callback is pending in this batch
      fresh = store.alloc()
      reg.register(fresh, 'NEW')
    }
  })
  scoped(() => {
    const a = store.alloc()
    const b = store.alloc()
    reg.register(a, 'A')
    reg.register(b, 'B', tokenB)
    a.release()
    b.release()
  })
  await store.collect()
  assert.deepEqual(seen, ['A'], 'B was cancelled and NEW (alive) was not delivered in its place')
  fresh.release()
  await store.collect()
  assert.deepEqual(seen, ['A', 'NEW'])
})

test('stats().pendingFinalizations counts the callbacks still due, not cells unregistered after they fired', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const token = {}
  const fire = (held, unregisterToken) => {
    const a = store.alloc()
    reg.register(a, held, unregisterToken)
    a.release()
    cycleWithoutDelivery(store) // fired, queued for this thread
  }
  fire('cancelled', token)
  assert.equal(store.stats().pendingFinalizations, 1)
  assert.equal(reg.unregister(token), true)
  assert.equal(store.stats().pendingFinalizations, 0, 'the unregistered cell is no longer due')
  // A new registration gets the freed cell's id, and fires too: one due callback.
  fire('due', undefined)
  assert.equal(store.stats().pendingFinalizations, 1)
  await store.collect()
  assert.deepEqual(seen, ['due'])
  assert.equal(store.stats().pendingFinalizations, 0)
  assert.equal(store.stats().finalizationCells, 0)
})
