'use strict'
// diagnostics_channel events and util.inspect output (README, "Diagnostics").
const test = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const util = require('node:util')
const { Store, WeakMap, WeakSet, FinalizationRegistry } = require('..')
const { turn } = require('./helpers')

test('cycle:start and cycle:end arrive in order for every cycle, with figures and trigger', async () => {
  const events = []
  const onStart = (m) => events.push(['start', m.cycle, m.trigger, m.store])
  const onEnd = (m) => events.push(['end', m.cycle, m.trigger, m.store, m.freed])
  dc.subscribe('weakstore:cycle:start', onStart)
  dc.subscribe('weakstore:cycle:end', onEnd)
  try {
    const store = new Store({ manual: true })
    store.alloc().release()
    const first = await store.collect()
    const second = await store.collect()
    const mine = events.filter((e) => e[3] === store)
    assert.deepEqual(mine.map((e) => e.slice(0, 3)), [
      ['start', first.cycle, 'collect'], ['end', first.cycle, 'collect'],
      ['start', second.cycle, 'collect'], ['end', second.cycle, 'collect'],
    ])
    assert.equal(mine[1][4], 1, 'the end event carries the cycle\'s figures')
    assert.ok(first.startedAt > Date.now() - 60_000 && first.startedAt <= Date.now())
    await store.close()
  } finally {
    dc.unsubscribe('weakstore:cycle:start', onStart)
    dc.unsubscribe('weakstore:cycle:end', onEnd)
  }
})

test('cycles the allocation budget starts say so, and none is skipped', async () => {
  const ends = []
  const onEnd = (m) => ends.push(m)
  dc.subscribe('weakstore:cycle:end', onEnd)
  try {
    const store = new Store({ budget: 1024, growth: 0 })
    for (let i = 0; i < 2000; i++) store.alloc({ pad: 'x'.repeat(64) }).release()
    const last = await store.collect()
    const mine = ends.filter((m) => m.store === store)
    assert.ok(mine.some((m) => m.trigger === 'allocation'), 'an allocation-triggered cycle')
    assert.equal(mine[mine.length - 1].cycle, last.cycle)
    assert.deepEqual(mine.map((m) => m.cycle), Array.from({ length: mine.length }, (_, i) => mine[0].cycle + i))
    await store.close()
  } finally {
    dc.unsubscribe('weakstore:cycle:end', onEnd)
  }
})

test('callback:error: a throwing cleanup callback is published, and still reaches uncaughtException', async () => {
  const published = []
  const onError = (m) => published.push(m)
  dc.subscribe('weakstore:callback:error', onError)
  const uncaught = []
  const listeners = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  process.on('uncaughtException', (e) => uncaught.push(e))
  try {
    const store = new Store({ manual: true })
    const boom = new Error('boom')
    const registry = new FinalizationRegistry(() => { throw boom })
    const a = store.alloc()
    registry.register(a, 'held')
    await turn()
    a.release()
    await store.collect()
    await turn()
    assert.equal(published.length, 1)
    assert.equal(published[0].error, boom)
    assert.equal(published[0].heldValue, 'held')
    assert.equal(published[0].registry, registry)
    assert.deepEqual(uncaught, [boom])
    await store.close()
  } finally {
    dc.unsubscribe('weakstore:callback:error', onError)
    process.removeAllListeners('uncaughtException')
    for (const l of listeners) process.on('uncaughtException', l)
  }
})

test('util.inspect shows a handle\'s fields, nested handles, cycles and depth like an object', () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ name: 'a', n: 1 })
  const b = store.alloc({ name: 'b' })
  a.set('peer', b)
  b.set('peer', a)
  assert.equal(util.inspect(a, { breakLength: Infinity }), "<ref *1> Handle { name: 'a', n: 1, peer: Handle { name: 'b', peer: [Circular *1] } }")
  const d = [1, 2, 3, 4].map((lvl) => store.alloc({ lvl }))
  for (let i = 0; i < 3; i++) d[i].set('next', d[i + 1])
  assert.equal(util.inspect(d[0], { breakLength: Infinity }),
    'Handle { lvl: 1, next: Handle { lvl: 2, next: Handle { lvl: 3, next: [Handle] } } }')
  assert.equal(util.inspect(d[0], { depth: 0 }), 'Handle { lvl: 1, next: [Handle] }')
  assert.equal(util.inspect(store.alloc()), 'Handle {}')
  const r = store.alloc({ x: 1 })
  r.release()
  assert.equal(util.inspect(r), 'Handle <released>')
  assert.match(util.inspect(store), /^Store \{ objects: 8, bytes: \d+, handles: 7, collections: 0, phase: 'idle' \}$/)
  assert.equal(util.inspect(new WeakMap()), 'WeakMap { <items unknown> }')
  assert.equal(util.inspect(new WeakSet()), 'WeakSet { <items unknown> }')
  assert.equal(util.inspect(new WeakMap()), util.inspect(new globalThis.WeakMap()))
})

test('util.inspect of a handle whose keys name Object.prototype members', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  a.set('__proto__', Buffer.from('x')).set('constructor', 1).set('toString', 'no')
  assert.equal(util.inspect(a, { breakLength: Infinity }), "Handle { ['__proto__']: <Buffer 78>, constructor: 1, toString: 'no' }")
})

test('util.inspect of a closed store and its handles', async () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ x: 1 })
  await store.close()
  assert.equal(util.inspect(store), 'Store <closed>')
  assert.equal(util.inspect(a), 'Handle <closed>')
})
