import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import weakstore, { Store, Handle, WeakRef, FinalizationRegistry } from 'weakstore'

const require = createRequire(import.meta.url)

test('import and require give the same classes', () => {
  const cjs = require('weakstore')
  assert.equal(Store, cjs.Store)
  assert.equal(Handle, cjs.Handle)
  assert.equal(WeakRef, cjs.WeakRef)
  assert.equal(FinalizationRegistry, cjs.FinalizationRegistry)
  assert.equal(weakstore, cjs)
  const store = new Store({ manual: true })
  assert.equal(new WeakRef(store.alloc({ n: 1 })).deref().get('n'), 1)
})
