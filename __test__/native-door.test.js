'use strict'
// The numbers-only field functions of the native module (src/fields_api.rs)
// called directly, as the JavaScript layer calls them with cached key ids.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store } = require('..')
const native = require('../native.js')

const entries = (h) => h.keys().map((k) => [k, h.get(k)])

test('the native field functions refuse numbers that are no key id', () => {
  // An internal door, but one JavaScript can reach: no input crashes it.
  // This file's only store is the thread's first: index 0, and 'n' its
  // first key id, 0 (the first read below checks both).
  const store = new Store({ manual: true })
  const a = store.alloc({ n: 1 })
  const index = 0
  const id = Number(a.id.split(':')[1])
  assert.equal(native.getAt(index, id, 0), 1)
  for (const bad of [-1, 1.5, NaN, 2 ** 32, Infinity]) {
    assert.throws(() => native.getAt(index, id, bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, `${bad}`)
    assert.throws(() => native.setNumberAt(index, id, bad, 1), { code: 'ERR_INVALID_ARG_VALUE' }, `${bad}`)
  }
  assert.throws(() => native.setNumberAt(index, id, 2 ** 31, 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.equal(native.getAt(index, id, 2 ** 31), undefined, 'a read by an id never given out finds no field')
  assert.equal(native.hasAt(index, id, 77), false)
  assert.equal(native.delAt(index, id, 77), false)
  assert.deepEqual(entries(a), [['n', 1]])
})
