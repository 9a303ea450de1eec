'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const ws = require('..')
const { Store, WeakMap, WeakSet, WeakRef } = ws
const { scoped } = require('./helpers')

test('WeakMap: get, set, has, delete with every kind of value', () => {
  const store = new Store({ manual: true })
  const k = store.alloc()
  const v = store.alloc({ n: 1 })
  const m = new WeakMap()
  assert.equal(m.set(k, v), m)
  assert.equal(m.get(k), v, 'a handle value comes back canonical')
  assert.equal(m.has(k), true)
  const obj = { js: true }
  const fn = () => {}
  const buf = Buffer.from('x')
  for (const value of [null, true, 0, -1.5, 'str', 12345678901234567890n, obj, fn, buf, undefined, Symbol.iterator]) {
    m.set(k, value)
    assert.equal(m.get(k), value, String(value))
    assert.equal(m.has(k), true)
  }
  assert.equal(m.delete(k), true)
  assert.equal(m.delete(k), false)
  assert.equal(m.has(k), false)
  assert.equal(m.get(k), undefined)
})

test('WeakMap: keys are store objects, not wrappers', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const parent = store.alloc()
  scoped(() => {
    const key = store.alloc({ tag: 'key' })
    parent.set('key', key)
    m.set(key, 'meta')
  })
  await store.collect() // the key's wrapper dies; the object lives on
  const again = parent.get('key')
  assert.equal(again.get('tag'), 'key')
  assert.equal(m.get(again), 'meta', 'found through a new wrapper')
  assert.equal(m.has(again), true)
})

test('WeakMap: non-handle keys are refused by set and ignored by lookups, as in the built-in', () => {
  const store = new Store({ manual: true })
  const m = new WeakMap()
  for (const bad of [undefined, null, 1, 'x', {}, [], Symbol('s'), () => {}]) {
    assert.throws(() => m.set(bad, 1), TypeError)
    assert.throws(() => m.getOrInsert(bad, 1), TypeError)
    assert.throws(() => m.getOrInsertComputed(bad, () => 1), TypeError)
    assert.equal(m.get(bad), undefined)
    assert.equal(m.has(bad), false)
    assert.equal(m.delete(bad), false)
  }
  const k = store.alloc()
  m.set(k, 1)
  k.release()
  assert.throws(() => m.set(k, 2), { name: 'TypeError', message: /released/ })
  assert.equal(m.get(k), 1, 'a released handle still names its (live) object for lookups')
})

test('WeakMap: getOrInsert and getOrInsertComputed', () => {
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const k = store.alloc()
  assert.equal(m.getOrInsert(k, 'first'), 'first')
  assert.equal(m.getOrInsert(k, 'second'), 'first')
  const k2 = store.alloc()
  let calls = 0
  const compute = (key) => {
    calls++
    assert.equal(key, k2)
    return { computed: true }
  }
  const v = m.getOrInsertComputed(k2, compute)
  assert.deepEqual(v, { computed: true })
  assert.equal(m.getOrInsertComputed(k2, compute), v)
  assert.equal(calls, 1)
  assert.throws(() => m.getOrInsertComputed(store.alloc(), 'not callable'), TypeError)
  // The callback's own set of the same key is overwritten, as in the proposal.
  const k3 = store.alloc()
  assert.equal(m.getOrInsertComputed(k3, () => { m.set(k3, 'inner'); return 'outer' }), 'outer')
  assert.equal(m.get(k3), 'outer')
})

test('WeakSet: add, has, delete, by store object', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const b = store.alloc()
  const s = new WeakSet([a])
  assert.equal(s.has(a), true)
  assert.equal(s.has(b), false)
  assert.equal(s.add(b), s)
  assert.equal(s.delete(a), true)
  assert.equal(s.delete(a), false)
  for (const bad of [1, {}, null, Symbol('x')]) {
    assert.throws(() => s.add(bad), TypeError)
    assert.equal(s.has(bad), false)
  }
})

test('ephemerons: a value lives exactly as long as its key', async () => {
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const key = store.alloc()
  const valueRef = scoped(() => {
    const value = store.alloc({ v: 1 })
    m.set(key, value)
    const r = new WeakRef(value)
    value.release()
    return r
  })
  await store.collect()
  assert.equal(valueRef.deref().get('v'), 1, 'kept by the live key')
  assert.equal(store.stats().ephemeronEntries, 1)
  key.release()
  const figures = await store.collect()
  assert.equal(valueRef.deref(), undefined, 'gone with its key')
  assert.equal(figures.ephemeronsDropped, 1)
  assert.equal(store.stats().ephemeronEntries, 0)
})

test('ephemerons: a value that points back at its key does not keep it alive', async () => {
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const [keyRef, valueRef] = scoped(() => {
    const key = store.alloc()
    const value = store.alloc({ key })
    m.set(key, value)
    const refs = [new WeakRef(key), new WeakRef(value)]
    key.release()
    value.release()
    return refs
  })
  await store.collect()
  assert.equal(keyRef.deref(), undefined)
  assert.equal(valueRef.deref(), undefined)
})

test('ephemerons: a 10,000-long chain is kept by its head and collected in one cycle', async () => {
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const n = 10_000
  const { head, tailRef } = scoped(() => {
    let prev = store.alloc({ i: 0 })
    const first = prev
    for (let i = 1; i < n; i++) {
      const next = store.alloc({ i })
      m.set(prev, next) // prev -> next, only through the map
      if (prev !== first) prev.release()
      prev = next
    }
    const tailRef = new WeakRef(prev)
    prev.release()
    return { head: first, tailRef }
  })
  let figures = await store.collect()
  assert.equal(figures.liveObjects, n, 'the head keeps the whole chain')
  assert.equal(tailRef.deref().get('i'), n - 1)
  assert.equal(figures.markRounds, 0)
  head.release()
  figures = await store.collect()
  assert.equal(figures.freed, n, 'all of it, in one cycle')
  assert.equal(tailRef.deref(), undefined)
})

test('ephemerons: JavaScript values are dropped when their key is collected', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const m = new WeakMap()
  const jsRef = scoped(() => {
    const key = store.alloc()
    const value = { big: new Array(1000).fill(1) }
    m.set(key, value)
    key.release()
    return new globalThis.WeakRef(value)
  })
  await store.collect() // the store reports the key dead; the map drops its value
  await store.collect() // now V8 can collect the value
  assert.equal(jsRef.deref(), undefined)
})

test('a WeakMap that V8 collects releases the values it kept', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const key = store.alloc()
  const valueRef = scoped(() => {
    const m = new WeakMap()
    const value = store.alloc()
    m.set(key, value)
    const r = new WeakRef(value)
    value.release()
    return r
  })
  await store.collect() // V8 collects the map; its table is dropped
  await store.collect()
  assert.equal(valueRef.deref(), undefined)
  assert.equal(store.stats().ephemeronTables, 0)
})

test('entries set while background cycles run never lose their values', async () => {
  const store = new Store({ budget: 64 * 1024 })
  const m = new WeakMap()
  const keys = Array.from({ length: 50 }, () => store.alloc())
  const holder = store.alloc()
  let checked = 0
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < keys.length; i++) {
      const v = store.alloc({ round, i, pad: Buffer.alloc(256) })
      // Move a value from a field into an entry and drop the field.
      holder.set('tmp', v)
      v.release()
      const again = holder.get('tmp')
      m.set(keys[i], again)
      holder.delete('tmp')
      again.release()
    }
    for (let i = 0; i < keys.length; i++) {
      const v = m.get(keys[i])
      assert.equal(v.get('round'), round)
      assert.equal(v.get('i'), i)
      checked++
    }
    if (round % 20 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  assert.ok(store.stats().collections > 0, 'cycles ran meanwhile')
  assert.equal(checked, 200 * 50)
})

test('the iterable protocol: entries checked, iterator closed on error', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  let closed = 0
  const iterable = (items) => ({
    [Symbol.iterator]() {
      let i = 0
      return {
        next: () => (i < items.length ? { value: items[i++], done: false } : { value: undefined, done: true }),
        return: () => { closed++; return {} },
      }
    },
  })
  assert.throws(() => new WeakMap(iterable([[a, 1], 5])), TypeError)
  assert.equal(closed, 1, 'closed when an item is not an entry')
  assert.throws(() => new WeakMap(iterable([[a, 1], [{}, 2]])), TypeError)
  assert.equal(closed, 2, 'closed when set throws')
  assert.throws(() => new WeakSet(iterable([a, 'nope'])), TypeError)
  assert.equal(closed, 3)
  assert.throws(() => new WeakMap(42), TypeError, 'not iterable')
  assert.equal(new WeakMap(null).has(a), false)
  // A subclass's overridden set is the adder.
  const seen = []
  class Logged extends WeakMap {
    set(k, v) { seen.push(v); return super.set(k, v) }
  }
  const l = new Logged([[a, 'x']])
  assert.deepEqual(seen, ['x'])
  assert.equal(l.get(a), 'x')
})

const shape = (d) => d && { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable }

for (const [name, Builtin, Ours, methods] of [
  ['WeakMap', globalThis.WeakMap, WeakMap, ['get', 'set', 'has', 'delete']],
  ['WeakSet', globalThis.WeakSet, WeakSet, ['add', 'has', 'delete']],
]) {
  test(`${name}: the surface matches the built-in`, () => {
    assert.equal(Ours.name, Builtin.name)
    assert.equal(Ours.length, Builtin.length)
    assert.deepEqual(Object.keys(Ours.prototype), [])
    assert.deepEqual(Object.getOwnPropertyDescriptor(Ours.prototype, Symbol.toStringTag),
      Object.getOwnPropertyDescriptor(Builtin.prototype, Symbol.toStringTag))
    for (const m of methods) {
      const ours = Object.getOwnPropertyDescriptor(Ours.prototype, m)
      const theirs = Object.getOwnPropertyDescriptor(Builtin.prototype, m)
      assert.deepEqual(shape(ours), shape(theirs), m)
      assert.equal(ours.value.name, theirs.value.name)
      assert.equal(ours.value.length, theirs.value.length, m)
      assert.throws(() => new ours.value(), TypeError)
      for (const self of [undefined, null, {}, new Builtin()]) {
        assert.throws(() => ours.value.call(self, {}), TypeError, `${m} with a wrong this`)
      }
    }
    assert.throws(() => Ours(), TypeError)
    assert.equal(Object.prototype.toString.call(new Ours()), `[object ${name}]`)
  })
}

test('WeakMap: upsert methods have the proposal\'s lengths', () => {
  assert.equal(WeakMap.prototype.getOrInsert.length, 2)
  assert.equal(WeakMap.prototype.getOrInsertComputed.length, 2)
  assert.equal(Object.getOwnPropertyDescriptor(WeakMap.prototype, 'getOrInsert').enumerable, false)
})

test('WeakMap keeps strings with lone surrogates exactly', () => {
  const store = new Store({ manual: true })
  const k = store.alloc()
  const m = new WeakMap([[k, 'a\uDC00b']])
  assert.equal(m.get(k), 'a\uDC00b')
})
