'use strict'
// Churn patterns for scopes (lib/scope.js): handles released together,
// without a Node-API reference. Merged into fuzz/lib/churn-patterns.js; see
// there for the contract of a pattern.
//
// A scope's native record grows by a place per handle until it closes, and
// its roots go when it closes: after each job no scope is open, so the
// store's scoped roots must be 0 and neither its objects nor the process's
// memory may grow.

const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const { Store, WeakRef } = require(ROOT)

function check(ok, what) {
  if (!ok) throw new Error(what)
}

/** A check for `end()` and after each job: no scope holds a root. */
const noScopedRoots = (store) => {
  const { scopedRoots } = store.stats()
  return scopedRoots === 0 ? undefined : `${scopedRoots} scoped roots left with no scope open`
}

const patterns = {
  // A long-lived list walked through scoped reads, a small tree built and
  // dropped in each scope, some handles released early, some left to the
  // close, a WeakRef to a scoped handle now and then (KeepDuringJob), and
  // a scope that throws.
  'scoped walks and builds': () => {
    const store = new Store()
    const LENGTH = 500
    let head = null
    for (let i = 0; i < LENGTH; i++) {
      const h = store.alloc({ i })
      h.set('next', head)
      if (head !== null) head.release()
      head = h
    }
    const handles = store.stats().handles
    let n = 0
    let refs = []
    const build = (scope, depth) => {
      const node = scope.alloc({ depth })
      if (depth > 0) {
        const left = build(scope, depth - 1)
        node.set('left', left)
        left.release()
        node.set('right', build(scope, depth - 1)) // left to the close
      }
      return node
    }
    const job = () => {
      let ops = 0
      for (let j = 0; j < 4; j++, n++) {
        const sum = store.scope((scope) => {
          let s = 0
          let h = scope.handle(head)
          for (let k = 0; k < 100; k++) {
            s += h.get('i')
            const next = h.get('next')
            if (k % 2 === 0) h.release()
            h = next
          }
          const tree = build(scope, 4)
          check(tree.get('left').get('depth') === 3, 'a scoped read came back wrong')
          if (n % 10 === 0) refs.push(new WeakRef(tree))
          ops += 200 + 31 * 3
          return s
        })
        check(sum === 100 * (LENGTH - 1) - (99 * 100) / 2, `a walk summed ${sum}`)
        if (n % 25 === 0) {
          try {
            store.scope((scope) => {
              scope.alloc({ n })
              throw new Error('thrown in a scope')
            })
          } catch (err) {
            check(err.message === 'thrown in a scope', 'a scope lost its error')
          }
        }
      }
      if (refs.length > 100) refs = []
      const left = noScopedRoots(store)
      if (left !== undefined) throw new Error(left)
      return ops
    }
    const end = () => noScopedRoots(store) ??
      (store.stats().handles <= handles + 1 ? undefined : `${store.stats().handles} handles (${handles} before)`)
    return { job, store, end }
  },
}

module.exports = { patterns }
