'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, Handle } = require('..')
const { scoped, turn, assertOnlyChildRootsIt } = require('./helpers')

test('fields hold every value kind and come back as documented', () => {
  const store = new Store({ manual: true })
  const other = store.alloc()
  const a = store.alloc({ name: 'a', bytes: Buffer.from('hi') })
  a.set('null', null).set('t', true).set('n', -1.5).set('nan', NaN).set('big', -(2n ** 70n))
  a.set('u8', new Uint8Array([1, 2, 3])).set('peer', other).set('empty', '')
  assert.equal(a.get('name'), 'a')
  assert.ok(Buffer.isBuffer(a.get('bytes')))
  assert.deepEqual([...a.get('bytes')], [104, 105])
  assert.equal(a.get('null'), null)
  assert.equal(a.get('t'), true)
  assert.equal(a.get('n'), -1.5)
  assert.ok(Number.isNaN(a.get('nan')))
  assert.equal(a.get('big'), -(2n ** 70n))
  assert.deepEqual([...a.get('u8')], [1, 2, 3])
  assert.equal(a.get('peer'), other)
  assert.equal(a.get('empty'), '')
  assert.equal(a.get('missing'), undefined)
  assert.deepEqual(a.keys(), ['name', 'bytes', 'null', 't', 'n', 'nan', 'big', 'u8', 'peer', 'empty'])
  assert.equal(a.has('t'), true)
  assert.equal(a.delete('t'), true)
  assert.equal(a.delete('t'), false)
  assert.equal(a.has('t'), false)
})

test('bytes are copied in and out', () => {
  const store = new Store({ manual: true })
  const buf = Buffer.from([1, 2, 3])
  const a = store.alloc({ buf })
  buf[0] = 9
  const out = a.get('buf')
  assert.equal(out[0], 1)
  out[1] = 9
  assert.equal(a.get('buf')[1], 2)
})

test('one canonical wrapper per live object', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const b = store.alloc()
  a.set('x', b).set('y', b)
  assert.equal(a.get('x'), b)
  assert.equal(a.get('y'), a.get('x'))
  b.release()
  const again = a.get('x')
  assert.notEqual(again, b, 'a released wrapper is never handed out again')
  assert.equal(a.get('y'), again)
  assert.equal(again.released, false)
})

test('wrong values throw TypeError naming what was expected', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const other = new Store({ manual: true }).alloc()
  for (const bad of [{}, [], () => {}, Symbol('s'), undefined, new Float64Array(2), new Map()]) {
    assert.throws(() => a.set('k', bad), (err) => err instanceof TypeError && /field value/.test(err.message), String(bad))
  }
  assert.throws(() => a.set('k', other), { name: 'TypeError', message: /another Store/ })
  assert.throws(() => a.set(1, 1), { name: 'TypeError', message: /string key/ })
  assert.throws(() => a.get(Symbol('k')), TypeError)
  assert.throws(() => store.alloc({ f: () => {} }), TypeError)
  assert.throws(() => store.alloc(42), TypeError)
  assert.throws(() => store.alloc(a), TypeError)
})

test('alloc() takes a plain object of fields and refuses objects whose contents are not their own properties', async () => {
  const weakstore = require('..')
  const store = new Store({ manual: true })
  const refused = [
    new Map([['a', 1]]), new Set(['a']), new Date(), /a/g, Promise.resolve(), new Error('e'),
    new ArrayBuffer(2), Buffer.from('ab'), new Uint8Array(2), new DataView(new ArrayBuffer(2)),
    new String('ab'), Object(1n), new globalThis.WeakMap(), new globalThis.WeakRef({}),
    [1, 2], new weakstore.WeakMap(), new weakstore.WeakSet(), new weakstore.FinalizationRegistry(() => {}),
    new weakstore.WeakRef(store.alloc()), store, new (class extends Map {})([['a', 1]]),
  ]
  const before = store.stats().objects
  for (const fields of refused) {
    assert.throws(() => store.alloc(fields), {
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /^Store\.prototype\.alloc: expected a plain object of fields/,
    }, Object.prototype.toString.call(fields))
  }
  assert.equal(store.stats().objects, before, 'nothing was allocated')
  const bare = Object.create(null)
  bare.n = 1
  assert.deepEqual(store.alloc(bare).keys(), ['n'])
  assert.deepEqual(store.alloc({ a: 1, b: 'b' }).keys(), ['a', 'b'])
  class Point {
    constructor() {
      this.x = 1
      this.y = 2
    }
  }
  assert.deepEqual(store.alloc(new Point()).keys(), ['x', 'y'], 'an instance: its own enumerable properties')
  await store.close()
})

test('released handles say so, and release is idempotent', () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ n: 1 })
  const b = store.alloc()
  a.release()
  a.release()
  assert.equal(a.released, true)
  for (const use of [() => a.get('n'), () => a.set('n', 2), () => a.has('n'), () => a.delete('n'), () => a.keys(), () => b.set('a', a)]) {
    assert.throws(use, (err) => err instanceof TypeError && /released/.test(err.message))
  }
  const c = store.alloc()
  assert.equal(typeof c[Symbol.dispose], 'function')
  c[Symbol.dispose]()
  assert.equal(c.released, true, 'Symbol.dispose releases')
})

test('Handle is not constructible and checks this', () => {
  assert.throws(() => new Handle(), { name: 'TypeError', message: /alloc/ })
  const store = new Store({ manual: true })
  const a = store.alloc()
  assert.throws(() => Handle.prototype.get.call({}, 'k'), TypeError)
  assert.throws(() => Handle.prototype.release.call(null), TypeError)
  assert.equal(Object.prototype.toString.call(a), '[object Handle]')
})

test('Store options are validated', () => {
  assert.throws(() => new Store({ threads: 0 }), RangeError)
  assert.throws(() => new Store({ threads: 1.5 }), RangeError)
  assert.throws(() => new Store({ threads: 'two' }), TypeError)
  assert.throws(() => new Store({ budget: -1 }), RangeError)
  assert.throws(() => new Store({ growth: -1 }), { name: 'RangeError', message: /options\.growth.*percentage/ })
  assert.throws(() => new Store({ growth: 1.5 }), RangeError)
  assert.throws(() => new Store({ growth: '100' }), TypeError)
  assert.throws(() => new Store({ manual: 1 }), TypeError)
  assert.throws(() => new Store({ background: 'no' }), TypeError)
  assert.equal(new Store({ background: false }).stats().objects, 0)
  assert.throws(() => new Store('x'), TypeError)
  assert.throws(() => Store(), TypeError)
  const s = new Store({ threads: 1, budget: 1 << 20, manual: true })
  assert.equal(s.stats().threads, 1)
  assert.throws(() => Store.prototype.stats.call({}), TypeError)
})

test('stats report objects, bytes and collections', async () => {
  const store = new Store({ manual: true })
  const before = store.stats()
  assert.equal(before.objects, 0)
  assert.equal(before.collections, 0)
  const a = store.alloc({ b: Buffer.alloc(100_000) })
  const mid = store.stats()
  assert.equal(mid.objects, 1)
  assert.ok(mid.bytes >= 100_000)
  a.release()
  const figures = await store.collect()
  assert.equal(figures.freed, 1)
  assert.ok(figures.freedBytes >= 100_000)
  const after = store.stats()
  assert.equal(after.objects, 0)
  assert.equal(after.collections, 1)
  assert.equal(after.bytes, 0)
})

test('strings with lone surrogates are refused as keys and values, never altered', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const lone = 'x\uD800y'
  assert.throws(() => a.set(lone, 1), { name: 'TypeError', message: /lone surrogate/ })
  assert.throws(() => a.set('k', lone), { name: 'TypeError', message: /lone surrogate/ })
  a.set('x\uFFFDy', 'replacement char is fine')
  assert.equal(a.get(lone), undefined, 'does not collide with the U+FFFD key')
  assert.equal(a.has(lone), false)
  assert.equal(a.delete(lone), false)
  assert.equal(a.get('x\uFFFDy'), 'replacement char is fine')
  const pair = '\uD83D\uDE00' // a well-formed surrogate pair round-trips
  a.set(pair, pair)
  assert.equal(a.get(pair), pair)
})

test('a new handle for an object whose handle died unreported takes over its root', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const parent = store.alloc()
  scoped(() => parent.set('child', store.alloc({ v: 1 }))) // the child's handle is dropped, not released
  await turn() // a later job: the dropped handle is no longer kept for this one
  globalThis.gc() // the handle dies now; V8 reports it in a later task
  const child = parent.get('child') // same job, before the report: a new handle
  await turn()
  await turn() // the stale report arrives and must leave the new handle's root alone
  await assertOnlyChildRootsIt(assert, store, parent, child)
})

test('the next automatic cycle is paced on the live size (growth)', async () => {
  const budget = 1 << 20
  const paced = new Store({ budget, growth: 300, manual: true })
  const fixed = new Store({ budget, growth: 0, manual: true })
  for (const store of [paced, fixed]) {
    assert.equal(store.stats().nextCycleAt, budget, 'before any cycle: the budget')
    const kept = Array.from({ length: 32 }, () => store.alloc({ b: Buffer.alloc(64 << 10) }))
    await store.collect()
    const { bytes, nextCycleAt } = store.stats()
    assert.ok(bytes >= 2 << 20, `2 MiB live (${bytes})`)
    if (store === paced) assert.equal(nextCycleAt, bytes * 3, 'growth 300%: three times the live bytes')
    else assert.equal(nextCycleAt, budget, 'growth 0: always the budget')
    for (const h of kept) h.release()
  }
})
