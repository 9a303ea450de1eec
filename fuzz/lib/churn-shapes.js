'use strict'
// Churn patterns for the object model (crates/weakstore-core/src/heap):
// shape transitions, objects that leave the shape tree for dictionary mode,
// and names that never repeat. Merged into fuzz/lib/churn-patterns.js; see
// there for the contract of a pattern.
//
// The store makes at most 8,192 shapes and interns only the names shapes
// hold, so each of these must level off: after warm-up, neither the store's
// shapes nor its bytes nor the process's memory may grow.

const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const { Store } = require(ROOT)

const MAX_SHAPES = 8192
const KEYS = ['id', 'name', 'price', 'active', 'next', 'tags']

function check(ok, what) {
  if (!ok) throw new Error(what)
}

/** The `n`th of the 720 orders of KEYS. */
function order(n) {
  const rest = KEYS.slice()
  const out = []
  for (let base = rest.length; base > 0; base--) {
    out.push(rest.splice(n % base, 1)[0])
    n = Math.floor(n / base)
  }
  return out
}

/** A check for `end()`: the shape count stayed within `max`. */
const shapesWithin = (store, max) => () => {
  const { shapes } = store.stats()
  return shapes <= max ? undefined : `${shapes} shapes (at most ${max} expected)`
}

const patterns = {
  // Objects built with the same six names in every order (720 layouts, a
  // few thousand shapes), then changed the ways programs change objects:
  // the last key deleted (back to the parent shape), a middle one deleted
  // (dictionary mode), keys re-added; half of them are kept a while as a
  // linked list, the rest released at once.
  'shape transitions': () => {
    const store = new Store()
    let n = 0
    let kept = []
    const job = () => {
      let ops = 0
      for (let i = 0; i < 100; i++, n++) {
        const h = store.alloc()
        for (const k of order(n % 720)) h.set(k, k === 'next' ? null : n)
        const keys = h.keys()
        if (n % 3 === 0) h.delete(keys[keys.length - 1])
        else if (n % 3 === 1) h.delete(keys[2])
        h.set('extra', n)
        check(h.get('extra') === n, 'a field read back wrong')
        ops += 10
        if (n % 2 === 0) kept.push(h)
        else h.release()
      }
      if (kept.length > 2000) {
        for (const h of kept) h.release()
        kept = []
      }
      return ops
    }
    return { job, store, end: shapesWithin(store, MAX_SHAPES) }
  },

  // One long-lived catalog object in dictionary mode with a sliding window
  // of keys that never repeat (request ids): a key set, read and deleted
  // 500 sets later. Its keys are its own, never interned; deletes leave
  // holes that compaction must reclaim.
  'dictionary-mode catalog': () => {
    const store = new Store()
    const catalog = store.alloc()
    for (let i = 0; i < 100; i++) catalog.set(`fixed${i}`, i) // past the shape cap: a dictionary
    const { shapes } = store.stats()
    let n = 0
    const job = () => {
      for (let i = 0; i < 250; i++, n++) {
        catalog.set(`req-${n}`, n)
        check(catalog.get(`req-${n}`) === n, 'a catalog entry read back wrong')
        if (n >= 500) check(catalog.delete(`req-${n - 500}`), 'a catalog entry was missing')
        catalog.has(`req-${n - 250}`)
      }
      return 1000
    }
    const end = () => {
      const s = store.stats()
      if (s.shapes !== shapes) return `the catalog made shapes: ${shapes} -> ${s.shapes}`
      const fields = catalog.keys().length
      return fields <= 600 ? undefined : `${fields} fields in the catalog (500 + 100 expected)`
    }
    return { job, store, end }
  },

  // Fresh objects whose names never repeat: every one a new shape until
  // the cap, dictionaries after it. The key table stops growing with the
  // shapes.
  'names that never repeat': () => {
    const store = new Store()
    let n = 0
    const job = () => {
      for (let i = 0; i < 250; i++, n++) {
        const h = store.alloc()
        h.set(`u${n}`, n).set('v', n)
        check(h.get(`u${n}`) === n, 'a field read back wrong')
        h.release()
      }
      return 1000
    }
    const end = () => {
      const { shapes } = store.stats()
      // The cap is checked without a lock: a few shapes may pass it.
      return shapes <= MAX_SHAPES + 8 ? undefined : `${shapes} shapes, past the cap`
    }
    return { job, store, end }
  },
}

module.exports = { patterns }
