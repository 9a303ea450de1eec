'use strict'
// Fields by shape and by dictionary: objects with the same keys share a
// shape (stats().shapes stays put), objects with very many keys, or a key
// deleted from the middle, keep their own hashed keys; names the store
// interned travel to the native side as key ids. Reads, writes, tests and
// deletes must agree whichever path they take.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store } = require('..')

/** The object's fields as [key, value] pairs, in order. */
const entries = (h) => h.keys().map((k) => [k, h.get(k)])

test('objects with the same keys share their shapes', () => {
  const store = new Store({ manual: true })
  const first = store.alloc({ i: 0, next: null })
  const { shapes, shapeBytes } = store.stats()
  for (let i = 1; i < 1000; i++) store.alloc({ i, next: first }).release()
  assert.equal(store.stats().shapes, shapes, 'no new shape for the same layout')
  assert.equal(store.stats().shapeBytes, shapeBytes)
  assert.ok(shapes >= 3, '{}, {i}, {i, next}')
})

test('a key deleted from the middle, and re-added, follows object key order', () => {
  const store = new Store({ manual: true })
  const a = store.alloc({ x: 1, y: 2, z: 3 })
  assert.equal(a.delete('y'), true)
  assert.deepEqual(entries(a), [['x', 1], ['z', 3]])
  a.set('y', 4)
  assert.deepEqual(entries(a), [['x', 1], ['z', 3], ['y', 4]], 'a re-added key goes last, as in an object')
  // The last key deleted and re-added: still in place at the end.
  assert.equal(a.delete('y'), true)
  a.set('y', 5)
  assert.deepEqual(a.keys(), ['x', 'z', 'y'])
  assert.equal(a.get('y'), 5)
})

test('an object with thousands of keys keeps them all, in order, by every path', () => {
  const store = new Store({ manual: true })
  const peer = store.alloc({ tag: 'peer' })
  const big = store.alloc()
  const n = 5000
  for (let i = 0; i < n; i++) big.set(`k${i}`, i % 3 === 0 ? peer : i)
  // Another object makes the first 64 names key ids; the big one holds
  // them as its own keys, and reads by id must find them there too.
  const small = store.alloc()
  for (let i = 0; i < 64; i++) small.set(`k${i}`, -i)
  for (let i = 0; i < n; i += 7) {
    assert.equal(big.get(`k${i}`), i % 3 === 0 ? peer : i, `k${i}`)
    assert.equal(big.has(`k${i}`), true)
  }
  assert.equal(small.get('k5'), -5)
  for (let i = 0; i < n; i += 2) assert.equal(big.delete(`k${i}`), true)
  assert.equal(big.delete('k0'), false)
  assert.equal(big.has('k0'), false)
  assert.equal(big.get('k0'), undefined)
  const keys = big.keys()
  assert.equal(keys.length, n / 2)
  assert.deepEqual(keys.slice(0, 3), ['k1', 'k3', 'k5'])
  assert.equal(big.get('k4999'), 4999)
  big.set('k0', 'back')
  assert.equal(big.keys().at(-1), 'k0')
  assert.deepEqual(entries(small).slice(0, 2), [['k0', -0], ['k1', -1]])
})

test('key ids are per store: a name interned in one store means nothing in another', () => {
  const a = new Store({ manual: true })
  const b = new Store({ manual: true })
  const x = a.alloc({ left: 1 })
  const y = b.alloc({ right: 2 })
  assert.equal(y.get('left'), undefined)
  assert.equal(x.get('right'), undefined)
  y.set('left', 3)
  assert.deepEqual(entries(x), [['left', 1]])
  assert.deepEqual(entries(y), [['right', 2], ['left', 3]])
  assert.equal(x.has('right'), false)
  assert.equal(y.delete('left'), true)
  assert.equal(x.get('left'), 1)
})

test('every value kind reads back the same by key id as by name', () => {
  const store = new Store({ manual: true })
  const peer = store.alloc()
  const values = [null, true, -1.5, 'short', 'a string of more than fourteen bytes', 2n ** 80n, peer]
  const a = store.alloc()
  // The first writes go by name (and teach the names' ids), the second by id.
  for (let round = 0; round < 2; round++) {
    values.forEach((v, i) => a.set(`v${i}`, v))
    values.forEach((v, i) => assert.equal(a.get(`v${i}`), v, `round ${round}, v${i}`))
  }
  a.set('v0', Buffer.from('bytes'))
  assert.deepEqual([...a.get('v0')], [...Buffer.from('bytes')])
  assert.throws(() => a.set('v1', Symbol('no')), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => a.set('v1', {}), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => a.set('v1', '\ud800'), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.equal(a.get('v1'), true, 'a refused write by id changes nothing')
})

test('size, values(), entries() and iteration follow keys()', () => {
  const store = new Store({ manual: true })
  const peer = store.alloc()
  const h = store.alloc({ n: 1, s: 'text', peer })
  assert.equal(h.size, 3)
  assert.deepEqual(h.values(), [1, 'text', peer])
  assert.deepEqual(h.entries(), [['n', 1], ['s', 'text'], ['peer', peer]])
  assert.deepEqual([...h], h.entries())
  for (let i = 0; i < 70; i++) h.set(`k${i}`, i) // past the shape cap: a dictionary
  h.delete('s')
  assert.equal(h.size, 72)
  assert.equal(h.entries().length, 72)
  assert.deepEqual(h.entries()[1], ['peer', peer])
  h.release()
  assert.throws(() => h.size, { code: 'ERR_WEAKSTORE_RELEASED' })
  assert.throws(() => h.entries(), { code: 'ERR_WEAKSTORE_RELEASED' })
})

test('stats().lastCycle is null before the first cycle', async () => {
  const store = new Store({ manual: true })
  assert.equal(store.stats().lastCycle, null)
  const figures = await store.collect()
  assert.deepEqual(store.stats().lastCycle, figures)
  await store.close()
})
